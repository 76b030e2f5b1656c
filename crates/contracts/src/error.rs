//! The error speech engines and their contracts report.

#[derive(Debug, thiserror::Error)]
pub enum SpeechError {
    #[error("bad audio: {0}")]
    BadAudio(String),
    #[error("model: {0}")]
    Model(String),
    #[error("io: {0}")]
    Io(#[from] std::io::Error),
    /// Stopped early through the caller's cancel flag.
    #[error("recognition cancelled")]
    Cancelled,
    #[error("{0}")]
    Other(String),
}
