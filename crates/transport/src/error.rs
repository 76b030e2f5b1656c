//! The one error type of sb-transport.

/// Everything that can go wrong turning wire messages into typed events (and back).
///
/// Every error is per message: a codec stays usable after returning one, so a driver may log
/// the error and carry on, or close the connection, as its policy says.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransportError {
    /// The text was not JSON, or a field had the wrong type or was missing.
    #[error("malformed message: {0}")]
    Malformed(String),
    /// A base64 payload did not decode.
    #[error("bad base64 in {0}")]
    BadBase64(&'static str),
    /// A binary frame (or decoded payload) had a length the stream does not allow.
    #[error("frame of {got} bytes, expected {expected}")]
    FrameSize { expected: usize, got: usize },
    /// An event name this side of the protocol does not know.
    #[error("unknown event {0:?}")]
    UnknownEvent(String),
    /// A message that needs the stream to have started arrived first.
    #[error("{0} before the stream started")]
    MissingStart(&'static str),
    /// A message arrived after the stream stopped.
    #[error("{0} after the stream stopped")]
    AfterStop(&'static str),
    /// A message larger than the codec accepts.
    #[error("message of {len} bytes exceeds the limit of {max}")]
    TooLarge { len: usize, max: usize },
    /// A message whose sequence number did not increase.
    #[error("sequence number {got} after {last}")]
    Sequence { last: u64, got: u64 },
    /// A message for a different stream than the one started on this connection.
    #[error("message for stream {got:?}, this connection carries {expected:?}")]
    StreamMismatch { expected: String, got: String },
    /// A media format, message kind or argument this codec does not support.
    #[error("unsupported: {0}")]
    Unsupported(String),
    /// An audio conversion failed.
    #[error("audio: {0}")]
    Audio(#[from] sb_audio::AudioError),
    /// Signing a token failed (bad key, …). The message never contains key material.
    #[error("signing: {0}")]
    Signing(String),
}

/// Result alias used throughout the crate.
pub type Result<T> = std::result::Result<T, TransportError>;
