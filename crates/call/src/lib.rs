#![doc = include_str!("../README.md")]
//!
//! ## Turn ids
//!
//! Every bot turn (welcome, caller turn, early guess, re-prompt, goodbye) gets the next id from
//! 0. Outputs and provider inputs carry it; results for a turn that is no longer current are
//! dropped. The last audio of turn N is followed by the mark `turn-N-end`.

mod config;
mod dtmf;
mod early;
mod listen;
mod media;
mod record;
pub mod reply;
pub mod session;
mod turn;
mod types;

pub use config::{CallConfig, CallError, Resume};
pub use dtmf::MAX_DIGITS;
pub use early::{sounds_complete, DEFAULT_DANGLING_WORDS};
pub use media::{MediaClock, LOST_MS};
/// The speech contracts the session speaks in.
pub use sb_contracts::asr::{AsrFailure, AsrPriority, Transcript};
pub use session::CallSession;
pub use turn::end_mark;
pub use types::*;
