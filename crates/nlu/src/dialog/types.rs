//! Public types of a dialog turn: requests, results and the per-session state.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// An active context of a session. `name` is the short, lower-cased id (no path).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ActiveContext {
    pub name: String,
    pub lifespan: u32,
    #[serde(default)]
    pub parameters: Map<String, Value>,
}

/// Slot filling in progress: the intent waits for its required parameters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SlotFilling {
    pub intent_id: String,
    pub parameters: Map<String, Value>,
    pub originals: Map<String, Value>,
    /// The parameter whose prompt was said last.
    pub asking: String,
    /// How many times in a row the same parameter was asked.
    pub attempts: u32,
    /// Required parameters filled from speech the recogniser was unsure of (see
    /// `Agent::confirm_below`); asked about before fulfilling.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unsure: Vec<String>,
}

/// A yes/no question about unsure values, asked instead of fulfilling (`Agent::confirm_below`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PendingConfirm {
    pub intent_id: String,
    pub parameters: Map<String, Value>,
    pub originals: Map<String, Value>,
    /// The parameters asked about.
    pub unsure: Vec<String>,
    /// Confirmations asked in a row for this intent.
    pub attempts: u32,
}

/// Everything the engine remembers between turns of one session. Serialisable for persistence.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SessionState {
    #[serde(default)]
    pub contexts: Vec<ActiveContext>,
    #[serde(default)]
    pub slot_filling: Option<SlotFilling>,
    /// `$session.params.x` values (Twilio `<Parameter>`s, queryParams payload, webhook session params).
    #[serde(default)]
    pub session_params: Map<String, Value>,
    /// Turns taken so far (also seeds the choice among response variants).
    #[serde(default)]
    pub turns: u64,
    /// Waiting for a yes/no on values heard with low confidence.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub confirming: Option<PendingConfirm>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum QueryInput {
    Text {
        text: String,
        language_code: String,
    },
    Event {
        name: String,
        parameters: Map<String, Value>,
        language_code: String,
    },
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct QueryParams {
    /// IANA time zone for this query; defaults to the agent's.
    pub time_zone: Option<String>,
    /// Contexts to activate before matching (short names or full paths).
    pub contexts: Vec<ActiveContext>,
    pub reset_contexts: bool,
    /// `queryParams.payload`, passed to the webhook as `originalDetectIntentRequest.payload`.
    pub payload: Option<Value>,
    /// Session parameters to merge into `$session.params`.
    pub session_params: Map<String, Value>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct TurnRequest {
    /// Full DF session path: `projects/P/agent/sessions/S` (or the environments/users form).
    pub session: String,
    pub input: QueryInput,
    pub params: QueryParams,
    pub now: DateTime<Utc>,
    /// Sentiment of the query text, when the caller analysed it: (score, magnitude).
    pub sentiment: Option<(f32, f32)>,
    /// ASR confidence when the text came from speech.
    pub speech_confidence: Option<f32>,
    /// `source` of `originalDetectIntentRequest` (e.g. "switchboard", "twilio").
    pub source: String,
}

/// What the bot does with the call after this turn (for the phone transports).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct TurnControl {
    pub end_interaction: bool,
    /// A `live_agent_handoff` payload or a telephony transfer: the parameters to hand off with.
    pub live_agent_handoff: Option<Value>,
    /// Telephony transfer target (message type 15).
    pub transfer_to: Option<String>,
    /// `{"TWILIO_ACTION":"PAUSE", …}`: the other keys.
    pub pause: Option<Map<String, Value>>,
}

/// Result of a turn: DF's `queryResult` JSON, `webhookStatus`, and call control.
#[derive(Debug, Clone, PartialEq)]
pub struct TurnResult {
    pub response_id: String,
    /// DF `QueryResult` JSON (camelCase, full context paths).
    pub query_result: Value,
    /// DF `webhookStatus` (`{"code","message"}`) when a webhook was called.
    pub webhook_status: Option<Value>,
    pub control: TurnControl,
    /// Text to say (fulfillmentText).
    pub reply_text: String,
    pub intent_name: Option<String>,
    pub intent_id: Option<String>,
    pub confidence: f32,
    pub parameters: Map<String, Value>,
    pub all_required_params_present: bool,
}

impl TurnResult {
    /// The DF `DetectIntentResponse` body.
    pub fn to_detect_intent_response(&self) -> Value {
        let mut m = Map::new();
        m.insert("responseId".into(), Value::String(self.response_id.clone()));
        m.insert("queryResult".into(), self.query_result.clone());
        if let Some(ws) = &self.webhook_status {
            m.insert("webhookStatus".into(), ws.clone());
        }
        Value::Object(m)
    }
}
