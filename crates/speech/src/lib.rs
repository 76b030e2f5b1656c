//! sb-speech
pub mod error;
pub use error::SpeechError;
pub mod asr;
pub mod bench;
pub mod espeak;
pub mod eval;
pub mod models;
pub mod normalize;
pub mod sentiment;
pub mod ssml;
pub mod tts;
pub mod vad;
