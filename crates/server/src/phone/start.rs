//! From the platform's start message to a configured call: the connector, per-call settings
//! (`super::params`: callback overrides and `<Config>`s such as `language`, `welcomeIntent`,
//! `sentimentAnalysis`, `resumeEndUserId`, `resumeEventName`), session parameters and a resumed
//! paused session.

use super::callbacks::{CallInfo, Transport};
use super::params;
use super::setup::{ConnectorRt, Phone};
use sb_call::{CallConfig, Resume};
use sb_transport::{Platform, StartInfo, VONAGE_CALL_ID_HEADER};
use serde_json::{json, Map, Value};

/// The key of a paused session: Twilio resumes a session only on the CallSid that paused it
/// (Vonage: the call's `uuid`), so the call id is part of it.
pub fn paused_key(call_id: &str, end_user_id: &str) -> String {
    format!("{call_id}/{end_user_id}")
}

/// `originalDetectIntentRequest.source` of phone calls, as Dialogflow's phone gateway sets it.
pub const TELEPHONY_SOURCE: &str = "GOOGLE_TELEPHONY";
use std::sync::Arc;

pub struct CallSetup {
    pub connector: Arc<ConnectorRt>,
    /// The agent in the call's language (`<Config name="language">`).
    pub engine: Arc<sb_nlu::engine::Engine>,
    pub cfg: CallConfig,
    pub info: CallInfo,
    pub stream_id: String,
    pub session_params: Map<String, Value>,
    /// Twilio will request `/twilio/action` when the stream ends (our TwiML started the call).
    pub action_hop: bool,
    /// Why the call's settings are refused: the call ends at once as failed, with this error.
    pub refused: Option<String>,
    /// The voice and recogniser the call chose.
    pub speech: super::choices::CallSpeech,
}

pub fn transport_name(p: Platform) -> &'static str {
    match p {
        Platform::Twilio => "twilio",
        Platform::Vonage => "vonage",
    }
}

fn parse_bool(v: &str) -> Option<bool> {
    match v.trim().to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "on" => Some(true),
        "false" | "0" | "no" | "off" => Some(false),
        _ => None,
    }
}

/// Why a call is refused at its start message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SetupError {
    #[error("unknown connector `{0}`")]
    UnknownConnector(String),
}

/// Builds the call from the start message. The error explains why the call cannot run.
pub async fn setup(
    phone: &Phone,
    platform: Platform,
    start: &StartInfo,
) -> Result<CallSetup, SetupError> {
    let read = params::read(&start.custom_parameters);
    let connector = phone
        .connector(&read.connector)
        .ok_or_else(|| SetupError::UnknownConnector(read.connector.clone()))?;
    let call_id = if start.call_id.is_empty() {
        uuid::Uuid::new_v4().to_string()
    } else {
        start.call_id.clone()
    };
    let mut refused = read.refused.clone();
    let languages: Vec<String> = connector.languages.iter().map(|(l, _)| l.clone()).collect();
    for (name, value) in &read.config {
        if name == "voiceName" || name == "speechModel" {
            continue; // below, against the installed voices and models
        }
        if let Err(why) = super::honour::check(name, value, &languages) {
            refused.push(why);
        }
    }
    let get = |k: &str| read.config.get(k).map(String::as_str);
    let speech = choose_speech(
        phone,
        get("voiceName"),
        get("speechModel"),
        connector.cfg.voice.as_deref(),
        &mut refused,
    )
    .await;
    let mut cfg = connector.cfg.call_config();
    let mut engine = connector.engine.clone();
    if let Some(l) = get("language") {
        cfg.language = l.to_string();
        if let Some((tag, e)) = super::honour::pick_language(l, &connector.languages) {
            engine = e.clone();
            if !super::honour::speech_speaks(tag) {
                tracing::warn!(
                    call = %call_id,
                    language = %l,
                    "the agent answers in this language; speech stays English (no speech \
                     model for it is configured)"
                );
            }
        }
    }
    if let Some(w) = get("welcomeIntent") {
        cfg.welcome_event = w.to_string();
    }
    if let Some(s) = get("sentimentAnalysis") {
        match parse_bool(s) {
            Some(b) => cfg.sentiment = b,
            None => refused.push(format!("sentimentAnalysis `{s}` is not true or false")),
        }
    }
    let mut session_params = read.session.clone();
    let caller = match platform {
        Platform::Twilio => {
            session_params.insert("CallSid".into(), Value::String(call_id.clone()));
            session_params.get("From")
        }
        Platform::Vonage => {
            session_params.insert(VONAGE_CALL_ID_HEADER.into(), Value::String(call_id.clone()));
            session_params.get("from")
        }
    };
    // As Dialogflow's phone gateway: the caller in E.164 (Vonage gives it without the `+`).
    let caller_id = caller.and_then(Value::as_str).map(|n| {
        if !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()) {
            format!("+{n}")
        } else {
            n.to_string()
        }
    });
    cfg.source = TELEPHONY_SOURCE.to_string();
    cfg.payload = Some(match caller_id {
        Some(id) => json!({"telephony": {"caller_id": id}}),
        None => json!({"telephony": {}}),
    });
    cfg.session_params = session_params.clone();
    let mut end_user_id = call_id.clone();
    match (get("resumeEndUserId"), get("resumeEventName")) {
        (Some(id), event) if refused.is_empty() => {
            // Taken only from a call whose settings are all accepted: a refused call must not
            // use up the paused session its corrected retry needs.
            let now = phone.clock.now().timestamp_millis();
            match phone.paused.take(&paused_key(&call_id, id), now).await {
                Ok(Some((state, _transcript))) => {
                    end_user_id = id.to_string();
                    cfg.resume = Some(Resume {
                        state,
                        event: event.map(str::to_string),
                    });
                }
                Ok(None) => refused.push(format!(
                    "no paused session of end user `{id}` on call `{call_id}` (a session resumes \
                     only on the call that paused it, within {} s of the pause)",
                    phone.file.phone.paused_ttl_s
                )),
                Err(e) => {
                    tracing::error!(call = %call_id, error = %e, "paused sessions");
                    refused.push(format!(
                        "the paused session of end user `{id}` cannot be read: {e}"
                    ));
                }
            }
        }
        (None, Some(_)) => {
            refused.push("resumeEventName needs resumeEndUserId".to_string());
        }
        _ => {}
    }
    let project = connector
        .engine
        .agent
        .project
        .clone()
        .unwrap_or_else(|| "switchboard".into());
    let conversation_id = format!("projects/{project}/agent/sessions/{call_id}");
    cfg.session = Some(conversation_id.clone());
    let info = CallInfo {
        call_id,
        account_sid: start.account_id.clone(),
        transport: match platform {
            Platform::Twilio => Transport::Twilio,
            Platform::Vonage => Transport::Vonage,
        },
        connector: connector.name.clone(),
        end_user_id,
        conversation_id,
        language: cfg.language.clone(),
        overrides: read.overrides.clone(),
    };
    Ok(CallSetup {
        connector,
        engine,
        cfg,
        info,
        stream_id: start.stream_id.clone(),
        session_params,
        action_hop: read.action_hop && platform == Platform::Twilio,
        refused: (!refused.is_empty()).then(|| refused.join("; ")),
        speech,
    })
}

/// The voice and recogniser named by the call's `voiceName` and `speechModel`; a name that is
/// not installed is refused. Off the runtime: an espeak-ng voice is loaded on its first call.
async fn choose_speech(
    phone: &Phone,
    voice: Option<&str>,
    model: Option<&str>,
    connector_voice: Option<&str>,
    refused: &mut Vec<String>,
) -> super::choices::CallSpeech {
    let mut chosen = super::choices::CallSpeech::default();
    if let Some(m) = model {
        match phone.choices.model(m) {
            Ok(asr) => chosen.asr = asr,
            Err(why) => refused.push(why),
        }
    }
    if let Some(v) = voice {
        let (choices, v, c) = (
            phone.choices.clone(),
            v.to_string(),
            connector_voice.map(str::to_string),
        );
        let found = tokio::task::spawn_blocking(move || choices.voice(&v, c.as_deref())).await;
        match found {
            Ok(Ok(tts)) => chosen.voice = tts,
            Ok(Err(why)) => refused.push(why),
            Err(_) => refused.push("the voice could not be loaded".into()),
        }
    }
    chosen
}
