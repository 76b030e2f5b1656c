//! Text normalisation for TTS (in progress).
