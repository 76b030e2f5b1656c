//! Sentiment with Google Natural Language conventions.

/// Sentiment of a text.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct SentimentScore {
    /// Overall polarity in [-1, 1] (VADER compound score of the whole text).
    pub score: f32,
    /// Overall emotional strength ≥ 0: the sum over sentences of |compound|.
    pub magnitude: f32,
}

/// A sentiment analyser, shared by all sessions.
pub trait Sentiment: Send + Sync {
    fn analyze(&self, text: &str) -> SentimentScore;
}
