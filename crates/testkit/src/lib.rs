//! sb-testkit: simulated callers and the voice benchmark.
//!
//! * [`place_call`] — one scripted call over Twilio Media Streams or the Vonage Voice
//!   WebSocket, paced in real time like a phone line, with a playback clock for the bot's audio
//!   (marks echoed only once the audio before them has played, `clear` honoured), per-turn
//!   reply latency, optional ASR of the bot's replies and a list of protocol problems.
//! * [`bench_voice`] — N concurrent simulated calls per level; latency percentiles, CPU per
//!   call, memory, the largest N within a p95 budget; JSON + SVG output.
//! * [`soak`] — the soak test's samples, leak verdict, plot and misbehaving callers.
//! * [`Script`] — the TOML call-script format.
//! * [`virtual_call`] — whole-path calls (caller codec ↔ server codec ↔ call session, scripted
//!   recogniser and synthesiser) on a virtual clock, for tests that run in milliseconds.

mod bench;
mod call;
mod line;
pub mod playback;
mod plot;
pub mod procstat;
mod report;
mod script;
pub mod soak;
pub mod virtual_call;
mod voices;

pub use bench::{bench_voice, percentile, BenchLevel, BenchOptions, BenchReport, Percentiles};
pub use call::{place_call, CallOptions};
pub use plot::latency_svg;
pub use report::{
    normalize_text, text_contains, text_sounds_contains, CallReport, HungUpBy, TurnReport,
};
pub use sb_transport::Platform;
pub use script::{Action, CallSection, Script, ScriptError, Turn};
pub use voices::{Pcm, Voices};

/// Errors of the testkit's own machinery (not of the server under test: those are report
/// entries).
#[derive(Debug, thiserror::Error)]
pub enum TestkitError {
    #[error("caller voice: {0}")]
    Voice(String),
    #[error(transparent)]
    Script(#[from] ScriptError),
    #[error("benchmark: {0}")]
    Bench(String),
    #[error("{path}: {source}")]
    Io {
        path: std::path::PathBuf,
        source: std::io::Error,
    },
}
