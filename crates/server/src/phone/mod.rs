//! Phone calls (Twilio Media Streams / Vonage Voice WebSocket): connector callbacks, live-agent
//! handoff and paused sessions.

pub mod action;
pub mod callbacks;
pub mod choices;
pub mod handoff;
pub mod honour;
pub mod params;
pub mod paused;

// The media path (connectors, speech workers, the driver loop, routes, transcripts, metrics).
pub mod accept;
pub mod admission;
pub mod asr_prompt;
pub mod calls;
pub mod clips;
pub mod connectors;
pub mod driver;
pub mod events;
pub mod guard;
pub mod metrics;
pub mod playout;
pub mod routes;
pub mod setup;
pub mod speech;
pub mod start;

pub use setup::Phone;
