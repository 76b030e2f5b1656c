//! Wiring of the text sentiment analyser (`sb_speech::sentiment`), used when a query asks for
//! `sentimentAnalysisRequestConfig.analyzeQueryTextSentiment` or the agent enables
//! `analyzeQueryTextSentiment`.

use crate::state::SentimentFn;
use std::sync::Arc;

/// The default analyser: VADER over its embedded lexicon.
pub fn default_analyzer() -> Option<SentimentFn> {
    Some(Arc::new(sb_speech::sentiment::VaderSentiment::new()))
}

/// `(score, magnitude)` of a query text.
pub fn analyze(analyzer: &SentimentFn, text: &str) -> (f32, f32) {
    let s = analyzer.analyze(text);
    (s.score, s.magnitude)
}
