//! sb-speech
pub mod error;
pub use error::SpeechError;
pub mod espeak;
pub mod models;
pub mod tts;
