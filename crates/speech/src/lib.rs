//! sb-speech
/// The error module of the contracts, under its old path.
pub use sb_contracts::error;
pub use sb_contracts::SpeechError;
pub mod asr;
pub mod bench;
pub mod espeak;
pub mod eval;
pub mod models;
pub use sb_contracts::normalize;
pub mod sentiment;
pub use sb_contracts::ssml;
pub mod tts;
pub mod vad;
