//! Dialogflow ES fulfillment webhook wire types. The HTTP call itself is the server's job;
//! the dialog builds a (V2) [`WebhookRequest`] and is resumed with a [`WebhookOutcome`]. Agents still
//! on the V1 API get the request converted to, and the reply read from, the V1 format ([`v1`]).

pub mod v1;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// Body POSTed to the webhook URL.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WebhookRequest {
    pub response_id: String,
    pub session: String,
    pub query_result: Value,
    pub original_detect_intent_request: Value,
}

/// Webhook reply. Unknown fields are ignored; every field is optional as in DF.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct WebhookResponse {
    #[serde(default)]
    pub fulfillment_text: Option<String>,
    #[serde(default)]
    pub fulfillment_messages: Option<Vec<Value>>,
    #[serde(default)]
    pub source: Option<String>,
    #[serde(default)]
    pub payload: Option<Map<String, Value>>,
    #[serde(default)]
    pub output_contexts: Option<Vec<WireContext>>,
    #[serde(default)]
    pub followup_event_input: Option<EventInput>,
}

/// A context as it appears on the wire (full name path, `lifespanCount`).
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct WireContext {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lifespan_count: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parameters: Option<Map<String, Value>>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct EventInput {
    pub name: String,
    #[serde(default)]
    pub language_code: Option<String>,
    #[serde(default)]
    pub parameters: Option<Map<String, Value>>,
}

/// The webhook format of an agent: Dialogflow's V2 API, or the legacy V1 (api.ai) one.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum WebhookFormat {
    #[default]
    V2,
    V1,
}

impl WebhookFormat {
    /// From `agent.json`'s `onePlatformApiVersion` (`v2`, `v2beta1`, `v1legacy`); V2 when absent.
    pub fn of_api_version(v: Option<&str>) -> WebhookFormat {
        match v {
            Some(v) if v.trim().to_ascii_lowercase().starts_with("v1") => WebhookFormat::V1,
            _ => WebhookFormat::V2,
        }
    }
}

/// What became of a webhook call.
#[derive(Debug, Clone)]
pub enum WebhookOutcome {
    Ok(WebhookResponse),
    /// The call failed: `code` is a google.rpc code (4 DEADLINE_EXCEEDED, 14 UNAVAILABLE, 13 INTERNAL…).
    Failed {
        code: i32,
        message: String,
    },
}

/// Why a webhook call failed, before it is worded the way the agent's API version words it.
#[derive(Debug, Clone, PartialEq)]
pub enum WebhookFailure {
    Timeout,
    /// The webhook answered with a non-2xx HTTP status.
    Status(u16),
    /// No connection (`connect`: the TCP/TLS connection itself failed).
    Unreachable {
        connect: bool,
    },
    InvalidUrl,
    InvalidHeader(String),
    EmptyBody,
    /// The body is not a webhook response (the parser's message).
    BadJson(String),
    TooLarge(usize),
    Internal(&'static str),
}

impl WebhookFailure {
    /// The google.rpc code `webhookStatus` reports.
    pub fn code(&self) -> i32 {
        match self {
            WebhookFailure::Timeout => 4,
            WebhookFailure::Status(_)
            | WebhookFailure::Unreachable { .. }
            | WebhookFailure::InvalidUrl
            | WebhookFailure::InvalidHeader(_) => 14,
            WebhookFailure::EmptyBody
            | WebhookFailure::BadJson(_)
            | WebhookFailure::TooLarge(_)
            | WebhookFailure::Internal(_) => 13,
        }
    }

    /// The message as Dialogflow words it: V2's `webhookStatus.message`, V1's `status.errorDetails`.
    pub fn message(&self, format: WebhookFormat) -> String {
        let p = "Webhook call failed. Error:";
        match format {
            WebhookFormat::V2 => match self {
                WebhookFailure::Timeout => format!("{p} DEADLINE_EXCEEDED."),
                WebhookFailure::Status(s) => {
                    format!("{p} UNAVAILABLE, State: URL_ERROR, Reason: HTTP status {s}.")
                }
                WebhookFailure::Unreachable { connect } => format!(
                    "{p} UNAVAILABLE, State: URL_UNREACHABLE, Reason: {}.",
                    if *connect {
                        "connection failed"
                    } else {
                        "request failed"
                    }
                ),
                WebhookFailure::InvalidUrl => {
                    format!("{p} UNAVAILABLE, State: URL_ERROR, Reason: invalid URL.")
                }
                WebhookFailure::InvalidHeader(k) => {
                    format!("{p} UNAVAILABLE, invalid header `{k}`.")
                }
                WebhookFailure::EmptyBody => {
                    format!("{p} Failed to parse webhook JSON response: empty body.")
                }
                WebhookFailure::BadJson(e) => {
                    format!("{p} Failed to parse webhook JSON response: {e}.")
                }
                WebhookFailure::TooLarge(n) => {
                    format!("{p} INTERNAL, webhook response too large (limit {n} bytes).")
                }
                WebhookFailure::Internal(what) => format!("{p} INTERNAL, {what}."),
            },
            WebhookFormat::V1 => match self {
                WebhookFailure::Timeout => format!("{p} Request timeout."),
                WebhookFailure::Status(s) => match reason_phrase(*s) {
                    Some(r) => format!("{p} {s} {r}"),
                    None => format!("{p} {s}"),
                },
                WebhookFailure::Unreachable { .. } | WebhookFailure::InvalidUrl => {
                    format!("{p} Webhook is unreachable.")
                }
                WebhookFailure::InvalidHeader(k) => format!("{p} Invalid header `{k}`."),
                WebhookFailure::EmptyBody => format!("{p} Webhook response was empty."),
                WebhookFailure::BadJson(_) => {
                    format!("{p} Make sure your JSON response conforms to our requirements.")
                }
                WebhookFailure::TooLarge(n) => {
                    format!("{p} Webhook response is larger than {n} bytes.")
                }
                WebhookFailure::Internal(what) => format!("{p} {what}."),
            },
        }
    }

    pub fn outcome(&self, format: WebhookFormat) -> WebhookOutcome {
        WebhookOutcome::Failed {
            code: self.code(),
            message: self.message(format),
        }
    }
}

fn reason_phrase(status: u16) -> Option<&'static str> {
    Some(match status {
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => return None,
    })
}

impl WebhookOutcome {
    /// Parses a V2 webhook HTTP reply body, mapping garbage to a failure outcome.
    pub fn from_body(status: u16, body: &[u8]) -> WebhookOutcome {
        Self::from_body_as(WebhookFormat::V2, status, body)
    }

    /// Parses a webhook HTTP reply body in `format`; a V1 reply is converted to the V2 shape.
    pub fn from_body_as(format: WebhookFormat, status: u16, body: &[u8]) -> WebhookOutcome {
        if !(200..300).contains(&status) {
            return WebhookFailure::Status(status).outcome(format);
        }
        if format == WebhookFormat::V1 && body.iter().all(u8::is_ascii_whitespace) {
            return WebhookFailure::EmptyBody.outcome(format);
        }
        let parsed = match format {
            WebhookFormat::V2 => serde_json::from_slice::<WebhookResponse>(body),
            WebhookFormat::V1 => {
                serde_json::from_slice::<v1::V1Response>(body).map(v1::V1Response::into_v2)
            }
        };
        match parsed {
            Ok(r) => WebhookOutcome::Ok(r.with_google_speech()),
            Err(e) => WebhookFailure::BadJson(e.to_string()).outcome(format),
        }
    }
}

impl WebhookResponse {
    /// A reply written for the Google Assistant only (actions-on-google's `conv.ask`) carries its
    /// words in `payload.google.richResponse`; without any other text they become the
    /// fulfillment text, so a phone or chat client still has something to say.
    fn with_google_speech(mut self) -> WebhookResponse {
        let has_text = self
            .fulfillment_text
            .as_deref()
            .is_some_and(|t| !t.is_empty())
            || self
                .fulfillment_messages
                .as_ref()
                .is_some_and(|m| !m.is_empty());
        if has_text {
            return self;
        }
        let items = self
            .payload
            .as_ref()
            .and_then(|p| p.get("google"))
            .and_then(|g| g.pointer("/richResponse/items"))
            .and_then(Value::as_array);
        let texts: Vec<String> = items
            .into_iter()
            .flatten()
            .filter_map(|i| i.get("simpleResponse"))
            .filter_map(|s| {
                s.get("textToSpeech")
                    .or_else(|| s.get("displayText"))
                    .and_then(Value::as_str)
            })
            .map(strip_ssml)
            .filter(|t| !t.is_empty())
            .collect();
        if !texts.is_empty() {
            self.fulfillment_text = Some(texts.join(" "));
        }
        self
    }
}

/// `<speak>Hi <break time="1s"/>there</speak>` → `Hi there` (plain text is returned trimmed).
fn strip_ssml(s: &str) -> String {
    if !s.trim_start().starts_with('<') {
        return s.trim().to_string();
    }
    let mut out = String::with_capacity(s.len());
    let mut in_tag = false;
    for c in s.chars() {
        match c {
            '<' => in_tag = true,
            '>' => in_tag = false,
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}
