//! What the console shows and stores: conversations (chat or phone), their transcript entries with
//! the bot's understanding of each customer turn, and who owns the conversation now.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// Most entries kept per conversation; later ones are dropped with a note (bounds memory per chat).
pub const MAX_ENTRIES: usize = 1_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Channel {
    Chat,
    Phone,
}

impl Channel {
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Chat => "chat",
            Channel::Phone => "phone",
        }
    }
}

/// Who owns the conversation. The bot answers only in `Bot` and `Queued`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum Status {
    /// The bot is talking with the customer.
    Bot,
    /// The bot handed off; waiting for a person.
    Queued {
        since: DateTime<Utc>,
        reason: String,
    },
    /// A person took the conversation over; the bot is silent.
    Agent { agent: String, since: DateTime<Utc> },
    /// Closed by a person.
    Resolved { by: String, at: DateTime<Utc> },
    /// The customer left (phone call ended, chat idle past its lifetime) without a handoff.
    Ended { at: DateTime<Utc> },
}

impl Status {
    pub fn name(&self) -> &'static str {
        match self {
            Status::Bot => "bot",
            Status::Queued { .. } => "queued",
            Status::Agent { .. } => "agent",
            Status::Resolved { .. } => "resolved",
            Status::Ended { .. } => "ended",
        }
    }

    /// Resolved or ended: no longer live.
    pub fn is_closed(&self) -> bool {
        matches!(self, Status::Resolved { .. } | Status::Ended { .. })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Who {
    Customer,
    Bot,
    Agent,
    /// Shown to the customer and the agents.
    System,
    /// Shown to the agents only (call progress).
    Note,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Sentiment {
    pub score: f32,
    pub magnitude: f32,
}

/// What the bot understood of a customer turn.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Nlu {
    pub intent: Option<String>,
    pub confidence: f32,
    #[serde(default)]
    pub parameters: Map<String, Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sentiment: Option<Sentiment>,
}

/// One line of a transcript.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    /// Position in the conversation, from 0.
    pub seq: u32,
    pub at: DateTime<Utc>,
    pub who: Who,
    /// The agent's name for `Who::Agent`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent: Option<String>,
    pub text: String,
    /// Rich bot messages (chips, cards, images, links) in the widget's safe shape.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rich: Vec<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nlu: Option<Nlu>,
}

/// A phone call placed from the console (customer or agent leg).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlacedCall {
    /// `customer` or `agent`.
    pub leg: String,
    pub provider: String,
    /// The platform's call id (Twilio CallSid, Vonage uuid).
    pub id: String,
    pub to: String,
    pub status: String,
    pub at: DateTime<Utc>,
}

/// Everything about a conversation but its entries.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Meta {
    pub id: String,
    pub channel: Channel,
    pub started_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub status: Status,
    /// Why the bot handed off (kept after the conversation left the queue).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub handoff_reason: Option<String>,
    /// The customer's phone number (collected by the bot or the caller id).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    /// Intents matched so far, in order, without repeats (for history search).
    #[serde(default)]
    pub intents: Vec<String>,
    #[serde(default)]
    pub calls: Vec<PlacedCall>,
    /// The last customer or bot text (for lists).
    #[serde(default)]
    pub last_text: String,
    pub entry_count: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Conversation {
    #[serde(flatten)]
    pub meta: Meta,
    pub entries: Vec<Entry>,
}

/// A history search; every field narrows it.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct Search {
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    /// Exact intent display name (case-insensitive).
    pub intent: Option<String>,
    /// Substring of any entry's text (case-insensitive).
    pub text: Option<String>,
    pub limit: Option<usize>,
}

/// Most results of one history search.
pub const MAX_SEARCH: usize = 200;

/// A console user.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct User {
    pub name: String,
    /// PHC string of the argon2id hash.
    pub password_hash: String,
    pub admin: bool,
    /// The agent's own phone, called into the conference on "call".
    #[serde(default)]
    pub phone: Option<String>,
    pub created_at: DateTime<Utc>,
}

impl std::fmt::Debug for User {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("User")
            .field("name", &self.name)
            .field("admin", &self.admin)
            .field("phone", &self.phone.is_some())
            .finish()
    }
}
