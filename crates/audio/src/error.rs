//! Error type for sb-audio.

/// Everything that can go wrong when handling untrusted audio.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AudioError {
    /// The input contained no samples where some were required.
    #[error("empty audio input")]
    Empty,
    /// A byte buffer of 16-bit samples had an odd length.
    #[error("odd byte length {0} for 16-bit samples")]
    OddLength(usize),
    /// The input exceeds the size limit.
    #[error("input of {len} samples exceeds the limit of {max}")]
    TooLarge { len: usize, max: usize },
    /// A sample rate that is not supported.
    #[error("unsupported sample rate {0} Hz")]
    UnsupportedRate(u32),
    /// A frame whose length does not match what the consumer expects.
    #[error("frame has {got} samples, expected {expected}")]
    FrameSize { expected: usize, got: usize },
    /// An output buffer that is too small.
    #[error("output buffer has {got} samples, needs {needed}")]
    OutputTooSmall { needed: usize, got: usize },
    /// Malformed or unsupported WAV data.
    #[error("wav: {0}")]
    Wav(String),
    /// The resampler reported an error.
    #[error("resampler: {0}")]
    Resample(String),
}
