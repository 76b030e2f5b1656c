//! Error type shared by the speech crate.

#[derive(Debug, thiserror::Error)]
pub enum SpeechError {
    #[error("bad audio: {0}")]
    BadAudio(String),
    #[error("model: {0}")]
    Model(String),
    #[error("io: {0}")]
    Io(#[from] std::io::Error),
    #[error("{0}")]
    Other(String),
}
