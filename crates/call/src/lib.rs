//! sb-call: the sans-IO call session — one state machine per call.
//!
//! The driver feeds [`Input`]s (audio frames, DTMF, provider results, playback marks, ticks) to
//! [`CallSession::handle_input`], drains [`Output`]s with [`CallSession::poll_output`] and sleeps
//! until [`CallSession::poll_timeout`]. The session never reads a clock, never does I/O and
//! never spawns; the flow is laid out in [`session`].
//!
//! Turn ids: every bot turn (welcome, caller turn, re-prompt, goodbye) gets the next id from 0.
//! Outputs and provider inputs carry it; results for a turn that is no longer current are
//! dropped. The last audio of turn N is followed by the mark `turn-N-end`.

mod config;
mod dtmf;
mod early;
mod listen;
pub mod reply;
pub mod session;
mod turn;
mod types;

pub use config::{CallConfig, CallError, Resume};
pub use dtmf::MAX_DIGITS;
pub use early::{sounds_complete, DEFAULT_DANGLING_WORDS};
/// The speech contracts the session speaks in.
pub use sb_contracts::asr::{AsrFailure, AsrPriority, Transcript};
pub use session::CallSession;
pub use turn::end_mark;
pub use types::*;
