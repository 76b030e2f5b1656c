//! The agent as the engine sees it: a normalised form of a Dialogflow ES export.
//! Built by [`crate::import`]; immutable once built.

use serde_json::Value;
use std::collections::BTreeMap;

#[derive(Debug, Clone)]
pub struct Agent {
    /// Display name (from the folder/zip name or `agent.json` `displayName`).
    pub name: String,
    /// Google project id if the export names one (`googleAssistant.project`).
    pub project: Option<String>,
    /// Default language, e.g. `en`.
    pub language: String,
    /// IANA time zone, e.g. `America/Los_Angeles`.
    pub time_zone: String,
    /// DF `mlMinConfidence`: below this the fallback intent answers.
    pub ml_min_confidence: f32,
    pub analyze_query_text_sentiment: bool,
    /// Switchboard's own option (agent.json `switchboard.confirmBelowConfidence`; off by
    /// default): a required parameter filled from speech recognised with less confidence than
    /// this is confirmed ("Was that Anna?") before the intent is fulfilled.
    pub confirm_below: Option<f32>,
    pub webhook: Option<WebhookConfig>,
    pub intents: Vec<Intent>,
    pub entities: Vec<EntityType>,
}

#[derive(Debug, Clone, Default)]
pub struct WebhookConfig {
    pub url: String,
    pub username: Option<String>,
    pub password: Option<String>,
    pub headers: BTreeMap<String, String>,
    /// Which Dialogflow API's webhook format the agent uses (`onePlatformApiVersion`).
    pub format: crate::webhook::WebhookFormat,
}

#[derive(Debug, Clone)]
pub struct Intent {
    pub id: String,
    pub name: String,
    /// Input contexts (lower-cased), all must be active for the intent to match.
    pub input_contexts: Vec<String>,
    pub events: Vec<String>,
    pub priority: i64,
    pub is_fallback: bool,
    pub webhook_used: bool,
    pub webhook_for_slot_filling: bool,
    pub end_interaction: bool,
    pub parent_id: Option<String>,
    pub root_parent_id: Option<String>,
    pub action: Option<String>,
    pub reset_contexts: bool,
    pub output_contexts: Vec<OutputContext>,
    pub parameters: Vec<Parameter>,
    /// Response messages for the agent's language (all platforms kept; `platform` says which).
    pub messages: Vec<Message>,
    /// `defaultResponsePlatforms`: platforms (lower-cased) that hear the default messages before
    /// their own.
    pub default_response_platforms: Vec<String>,
    pub training_phrases: Vec<TrainingPhrase>,
}

#[derive(Debug, Clone)]
pub struct OutputContext {
    /// Lower-cased context name.
    pub name: String,
    pub lifespan: u32,
    pub parameters: BTreeMap<String, Value>,
}

#[derive(Debug, Clone)]
pub struct Parameter {
    pub name: String,
    /// `@sys.date`, `@AppointmentType`, … (empty when the parameter has no entity).
    pub data_type: String,
    /// `$name`, `#ctx.param`, or a literal.
    pub value: String,
    pub required: bool,
    pub is_list: bool,
    pub prompts: Vec<String>,
    pub default_value: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Message {
    /// type 0: one of the variants is said.
    Text {
        variants: Vec<String>,
        platform: Option<String>,
    },
    /// type 4: custom payload.
    Payload {
        payload: Value,
        platform: Option<String>,
    },
    /// type 13: telephony play audio.
    PlayAudio {
        audio_uri: String,
        platform: Option<String>,
    },
    /// type 14: telephony synthesize speech.
    SynthesizeSpeech {
        text: Option<String>,
        ssml: Option<String>,
        platform: Option<String>,
    },
    /// type 15: telephony transfer call.
    TransferCall {
        phone_number: String,
        platform: Option<String>,
    },
    /// Any other message type, kept as exported JSON.
    Other {
        kind: i64,
        raw: Value,
        platform: Option<String>,
    },
}

impl Message {
    /// The platform the message is for (`None`: the default platform).
    pub fn platform(&self) -> &Option<String> {
        match self {
            Message::Text { platform, .. }
            | Message::Payload { platform, .. }
            | Message::PlayAudio { platform, .. }
            | Message::SynthesizeSpeech { platform, .. }
            | Message::TransferCall { platform, .. }
            | Message::Other { platform, .. } => platform,
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct TrainingPhrase {
    pub parts: Vec<PhrasePart>,
}

impl TrainingPhrase {
    pub fn text(&self) -> String {
        self.parts.iter().map(|p| p.text.as_str()).collect()
    }
}

#[derive(Debug, Clone, Default)]
pub struct PhrasePart {
    pub text: String,
    /// Entity type, e.g. `@sys.date` or `@AppointmentType`; `@sys.ignore` parts are not slots.
    pub entity: Option<String>,
    /// Parameter name the part fills.
    pub alias: Option<String>,
}

#[derive(Debug, Clone)]
pub struct EntityType {
    /// Name without `@`.
    pub name: String,
    pub kind: EntityKind,
    pub automated_expansion: bool,
    pub allow_fuzzy_extraction: bool,
    pub entries: Vec<EntityEntry>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntityKind {
    /// Reference value + synonyms (DF "map").
    Map,
    /// `isEnum`: every synonym is its own value; synonyms may reference other entities (`@sys.number:n`).
    List,
    /// `isRegexp`: each entry value is a regular expression.
    Regexp,
}

#[derive(Debug, Clone)]
pub struct EntityEntry {
    pub value: String,
    pub synonyms: Vec<String>,
}

impl Agent {
    pub fn intent_by_id(&self, id: &str) -> Option<&Intent> {
        self.intents.iter().find(|i| i.id == id)
    }
    pub fn intent_by_name(&self, name: &str) -> Option<&Intent> {
        self.intents.iter().find(|i| i.name == name)
    }
    pub fn entity(&self, name: &str) -> Option<&EntityType> {
        let n = name.trim_start_matches('@');
        self.entities.iter().find(|e| e.name == n)
    }
}
