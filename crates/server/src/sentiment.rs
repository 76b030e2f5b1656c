//! Wiring of the text sentiment analyser (`sb_speech::sentiment`) used when a query asks for
//! `sentimentAnalysisRequestConfig.analyzeQueryTextSentiment` or the agent enables it.

use crate::state::SentimentFn;

/// The default analyser, if one is available in this build.
pub fn default_analyzer() -> Option<SentimentFn> {
    None
}
