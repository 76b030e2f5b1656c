//! Response rendering: variants, templates, DF `fulfillmentMessages` JSON, and the call control
//! (handoff, transfer, pause) carried by payloads.

use super::types::TurnControl;
use crate::agent::Message;
use crate::template::{render, TemplateEnv};
use serde_json::{json, Map, Value};

pub struct Rendered {
    pub text: String,
    pub messages: Vec<Value>,
}

fn platform_enum(p: &Option<String>) -> Option<&'static str> {
    Some(match p.as_deref()?.to_ascii_lowercase().as_str() {
        "telephony" => "TELEPHONY",
        "google" => "ACTIONS_ON_GOOGLE",
        "facebook" => "FACEBOOK",
        "slack" => "SLACK",
        "telegram" => "TELEGRAM",
        "kik" => "KIK",
        "skype" => "SKYPE",
        "line" => "LINE",
        "viber" => "VIBER",
        _ => "PLATFORM_UNSPECIFIED",
    })
}

fn with_platform(mut v: Value, p: &Option<String>) -> Value {
    if let (Some(name), Value::Object(o)) = (platform_enum(p), &mut v) {
        o.insert("platform".into(), json!(name));
    }
    v
}

/// Picks one variant per text message (`seed` varies it turn by turn, deterministically).
pub fn render_messages(messages: &[Message], env: &TemplateEnv, seed: u64) -> Rendered {
    let mut out = Vec::new();
    let mut default_texts = Vec::new();
    let mut telephony_texts = Vec::new();
    for (k, m) in messages.iter().enumerate() {
        match m {
            Message::Text { variants, platform } => {
                if variants.is_empty() {
                    continue;
                }
                let pick = (seed.wrapping_add(k as u64) % variants.len() as u64) as usize;
                let t = render(&variants[pick], env);
                if platform.is_none() {
                    default_texts.push(t.clone());
                } else if platform.as_deref() == Some("telephony") {
                    telephony_texts.push(t.clone());
                }
                out.push(with_platform(json!({"text": {"text": [t]}}), platform));
            }
            Message::Payload { payload, platform } => {
                out.push(with_platform(json!({"payload": payload}), platform))
            }
            Message::PlayAudio {
                audio_uri,
                platform,
            } => out.push(with_platform(
                json!({"telephonyPlayAudio": {"audioUri": audio_uri}}),
                platform,
            )),
            Message::SynthesizeSpeech {
                text,
                ssml,
                platform,
            } => {
                let body = match (ssml, text) {
                    (Some(s), _) => json!({"ssml": render(s, env)}),
                    (None, Some(t)) => json!({"text": render(t, env)}),
                    (None, None) => json!({}),
                };
                out.push(with_platform(
                    json!({"telephonySynthesizeSpeech": body}),
                    platform,
                ))
            }
            Message::TransferCall {
                phone_number,
                platform,
            } => out.push(with_platform(
                json!({"telephonyTransferCall": {"phoneNumber": phone_number}}),
                platform,
            )),
            // Exports keep rich responses in the V1 shape; clients parse V2 protos.
            Message::Other { raw, .. } => out.extend(crate::webhook::v1::message_to_v2(raw)),
        }
    }
    let texts = if default_texts.is_empty() {
        telephony_texts
    } else {
        default_texts
    };
    Rendered {
        text: texts.join(" "),
        messages: out,
    }
}

/// Text of DF-JSON fulfillment messages (used when a webhook sends only messages).
pub fn text_of_messages(messages: &[Value]) -> String {
    let mut texts = Vec::new();
    for m in messages {
        let platform = m.get("platform").and_then(Value::as_str);
        if platform.is_some_and(|p| p != "PLATFORM_UNSPECIFIED" && p != "TELEPHONY") {
            continue;
        }
        if let Some(arr) = m.pointer("/text/text").and_then(Value::as_array) {
            texts.extend(arr.iter().filter_map(Value::as_str).map(str::to_string));
        } else if let Some(t) = m
            .pointer("/telephonySynthesizeSpeech/text")
            .and_then(Value::as_str)
        {
            texts.push(t.to_string());
        }
    }
    texts.join(" ")
}

/// Reads call control out of DF-JSON messages and a webhook payload.
pub fn control_of(
    messages: &[Value],
    payload: Option<&Map<String, Value>>,
    end: bool,
) -> TurnControl {
    let mut c = TurnControl {
        end_interaction: end,
        ..Default::default()
    };
    let mut look = |p: &Map<String, Value>| {
        if let Some(h) = p.get("live_agent_handoff") {
            if h != &Value::Bool(false) {
                c.live_agent_handoff = Some(Value::Object(p.clone()));
            }
        }
        if p.get("TWILIO_ACTION")
            .and_then(Value::as_str)
            .is_some_and(|a| a.eq_ignore_ascii_case("PAUSE"))
        {
            let mut rest = p.clone();
            rest.remove("TWILIO_ACTION");
            c.pause = Some(rest);
        }
    };
    for m in messages {
        if let Some(p) = m.get("payload").and_then(Value::as_object) {
            look(p);
        }
    }
    if let Some(p) = payload {
        look(p);
    }
    for m in messages {
        if let Some(n) = m
            .pointer("/telephonyTransferCall/phoneNumber")
            .and_then(Value::as_str)
        {
            if !n.is_empty() {
                c.transfer_to = Some(n.to_string());
                if c.live_agent_handoff.is_none() {
                    c.live_agent_handoff = Some(json!({"phoneNumber": n}));
                }
            }
        }
    }
    c
}
