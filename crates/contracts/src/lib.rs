//! sb-contracts: the types the call core and the speech engines share, with no ML dependency,
//! so that `sb-call` builds and is tested without whisper.cpp or onnxruntime.
//!
//! * [`asr`] — a recogniser's [`asr::Transcript`] and why one failed.
//! * [`vad`] — the [`vad::Vad`] contract and the pure [`vad::Endpointer`].
//! * [`sentiment`] — the [`sentiment::Sentiment`] contract.
//! * [`ssml`] — the SSML replies are written in and the TTS reads (with [`normalize`], the
//!   spoken forms of numbers, dates and times it expands).
pub mod asr;
pub mod error;
pub mod normalize;
pub mod sentiment;
pub mod ssml;
pub mod vad;

pub use error::SpeechError;
