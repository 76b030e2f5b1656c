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

/// The export's platform name of a request's `source`: phone calls hear the telephony messages.
pub fn platform_of(source: &str) -> Option<&'static str> {
    match source.to_ascii_lowercase().as_str() {
        "twilio" | "vonage" | "telephony" | "google_telephony" => Some("telephony"),
        _ => None,
    }
}

fn platform_is(p: &Option<String>, name: &str) -> bool {
    p.as_deref().is_some_and(|p| p.eq_ignore_ascii_case(name))
}

/// Picks one variant per text message (`seed` varies it turn by turn, deterministically).
///
/// The text said is that of `platform`'s messages. As in Dialogflow, a platform with none of its
/// own hears the default ones, and a platform listed in `platform_defaults` (the export's
/// `defaultResponsePlatforms`) hears the default ones first, then its own. Without a platform,
/// the default messages are said (the telephony ones if there are no default texts).
pub fn render_messages(
    messages: &[Message],
    env: &TemplateEnv,
    seed: u64,
    platform: Option<&str>,
    platform_defaults: &[String],
) -> Rendered {
    let mut out = Vec::new();
    let mut default_texts = Vec::new();
    let mut telephony_texts = Vec::new();
    let mut platform_texts = Vec::new();
    let mut platform_has_messages = false;
    for (k, m) in messages.iter().enumerate() {
        let own = platform.is_some_and(|name| platform_is(m.platform(), name));
        platform_has_messages |= own;
        match m {
            Message::Text { variants, platform } => {
                if variants.is_empty() {
                    continue;
                }
                let pick = (seed.wrapping_add(k as u64) % variants.len() as u64) as usize;
                let t = render(&variants[pick], env);
                if platform.is_none() {
                    default_texts.push(t.clone());
                } else if platform_is(platform, "telephony") {
                    telephony_texts.push(t.clone());
                }
                if own {
                    platform_texts.push(t.clone());
                }
                out.push(with_platform(json!({"text": {"text": [t]}}), platform));
            }
            Message::Payload { payload, platform } => out.push(with_platform(
                json!({"payload": render_value(payload, env)}),
                platform,
            )),
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
                    (None, Some(t)) => {
                        let t = render(t, env);
                        if own {
                            platform_texts.push(t.clone());
                        }
                        json!({"text": t})
                    }
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
    let listed =
        platform.is_some_and(|p| platform_defaults.iter().any(|d| d.eq_ignore_ascii_case(p)));
    let texts = match platform {
        Some(_) if platform_has_messages && listed => {
            default_texts.extend(platform_texts);
            default_texts
        }
        Some(_) if platform_has_messages => platform_texts,
        _ if default_texts.is_empty() && platform.is_none() => telephony_texts,
        _ => default_texts,
    };
    Rendered {
        text: texts.join(" "),
        messages: out,
    }
}

/// A custom payload with the references in its strings rendered (`$param`, `#ctx.param`,
/// `$session.params.x`); keys, numbers and booleans stay as they are.
fn render_value(v: &Value, env: &TemplateEnv) -> Value {
    match v {
        Value::String(s) => Value::String(render(s, env)),
        Value::Array(a) => Value::Array(a.iter().map(|x| render_value(x, env)).collect()),
        Value::Object(o) => Value::Object(
            o.iter()
                .map(|(k, x)| (k.clone(), render_value(x, env)))
                .collect(),
        ),
        other => other.clone(),
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
