//! One conversational turn of a Dialogflow-ES-compatible session, sans-IO.
//!
//! `Engine::begin` matches the query (event or text), runs slot filling, updates contexts and renders the
//! static response. If the matched intent uses the fulfillment webhook, it returns [`TurnStep::Webhook`]
//! with the request to send; the caller performs the HTTP call and passes the outcome to
//! `Engine::resume`, which merges the webhook reply (text, messages, contexts, payload) or keeps the
//! static response and reports the failure in `webhookStatus`. A `followupEventInput` starts a new
//! event turn inside `resume` (bounded hops).

mod confirm;
mod contexts;
mod decide;
mod render;
mod slots;
mod turn;
mod types;

pub use decide::Preview;
pub use turn::{PendingTurn, TurnStep};
pub use types::*;
