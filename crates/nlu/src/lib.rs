//! Dialogflow-ES-compatible agent: import, NLU (entities, intent classifier, slot tagger) and dialog.
//!
//! Flow: `import` reads an export into an [`agent::Agent`]; [`engine::Nlu`] is trained from it once
//! (immutable, shared by `Arc`); [`dialog`] runs one turn of a session against it, sans-IO: a turn that
//! needs the fulfillment webhook returns the request and is finished with the webhook's outcome.

pub mod agent;
pub mod classifier;
pub mod dialog;
pub mod engine;
pub mod entities;
pub mod error;
pub mod eval;
pub mod import;
pub mod sysent;
pub mod tagger;
pub mod template;
pub mod text;
pub mod webhook;

pub use error::NluError;
