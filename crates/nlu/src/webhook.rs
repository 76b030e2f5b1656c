//! Dialogflow ES fulfillment webhook (V2) wire types. The HTTP call itself is the server's job;
//! the dialog builds a [`WebhookRequest`] and is resumed with a [`WebhookOutcome`].

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

impl WebhookOutcome {
    /// Parses a webhook HTTP reply body, mapping garbage to a failure outcome.
    pub fn from_body(status: u16, body: &[u8]) -> WebhookOutcome {
        if !(200..300).contains(&status) {
            return WebhookOutcome::Failed {
                code: 14,
                message: format!("Webhook call failed. Error: UNAVAILABLE, State: URL_ERROR, Reason: HTTP status {status}."),
            };
        }
        match serde_json::from_slice::<WebhookResponse>(body) {
            Ok(r) => WebhookOutcome::Ok(r),
            Err(e) => WebhookOutcome::Failed {
                code: 13,
                message: format!(
                    "Webhook call failed. Error: Failed to parse webhook JSON response: {e}."
                ),
            },
        }
    }
}
