//! What the recogniser is told before a caller's words (`phone.asr_prompt`).
//!
//! Whisper reads its prompt as the transcript so far. The bot's last question makes the answer
//! it asked for likelier ("On which date would you like the table?" before "the ninth of
//! January"), and the agent's own words (its entity values, names and training phrases) make its
//! vocabulary likelier. A connector's speech hints take the place of the agent's words. Every
//! prompt token costs decoder time, so the agent's words are kept short ([`AGENT_WORDS_BYTES`]).

use sb_nlu::agent::Agent;
use serde::Deserialize;

/// Budget of the agent's words in a prompt (bytes; about 50 tokens).
pub const AGENT_WORDS_BYTES: usize = 200;

/// Which parts go into the prompt of each recognition.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
pub enum AsrPrompt {
    /// Speech hints only (when the connector has them).
    #[default]
    #[serde(rename = "none")]
    None,
    /// The bot's last question (after any speech hints).
    #[serde(rename = "question")]
    Question,
    /// The agent's words (unless the connector has speech hints).
    #[serde(rename = "agent")]
    Agent,
    /// The agent's words, then the bot's last question.
    #[serde(rename = "agent+question")]
    AgentAndQuestion,
}

impl AsrPrompt {
    fn agent(self) -> bool {
        matches!(self, AsrPrompt::Agent | AsrPrompt::AgentAndQuestion)
    }

    fn question(self) -> bool {
        matches!(self, AsrPrompt::Question | AsrPrompt::AgentAndQuestion)
    }

    /// The prompt of one recognition: `hints` (or, without them and when chosen, the agent's
    /// words from `agent_words`), then the bot's `last_reply` when chosen. `None` when empty.
    pub fn compose(
        self,
        hints: Option<String>,
        agent_words: impl FnOnce() -> String,
        last_reply: &str,
    ) -> Option<String> {
        let words = match hints {
            Some(h) => h,
            None if self.agent() => agent_words(),
            None => String::new(),
        };
        let question = if self.question() {
            last_reply.trim()
        } else {
            ""
        };
        let prompt = match (words.trim(), question) {
            ("", q) => q.to_string(),
            (w, "") => w.to_string(),
            (w, q) => format!("{w}. {q}"),
        };
        (!prompt.is_empty()).then_some(prompt)
    }
}

/// The agent's vocabulary as a prompt: custom entity values and synonyms and the values its
/// training phrases annotate (names, dates as the agent writes them) first, then the phrases.
pub fn agent_words(agent: &Agent, max_bytes: usize) -> String {
    let mut values: Vec<&str> = Vec::new();
    for e in &agent.entities {
        for entry in &e.entries {
            values.push(&entry.value);
            values.extend(entry.synonyms.iter().map(String::as_str));
        }
    }
    let mut phrases: Vec<String> = Vec::new();
    for i in agent.intents.iter().filter(|i| !i.is_fallback) {
        for p in &i.training_phrases {
            values.extend(
                p.parts
                    .iter()
                    .filter(|part| part.entity.is_some() && part.alias.is_some())
                    .map(|part| part.text.as_str()),
            );
        }
    }
    // Phrases with annotated values first: they show the sentences callers say with values.
    let mut ranked: Vec<(usize, String)> = agent
        .intents
        .iter()
        .filter(|i| !i.is_fallback)
        .flat_map(|i| i.training_phrases.iter())
        .map(|p| {
            (
                p.parts.iter().filter(|x| x.alias.is_some()).count(),
                p.text(),
            )
        })
        .collect();
    ranked.sort_by_key(|r| std::cmp::Reverse(r.0));
    phrases.extend(ranked.into_iter().map(|(_, t)| t));
    let phrases: Vec<&str> = phrases.iter().map(String::as_str).collect();
    sb_speech::asr::vocabulary_prompt(&phrases, &values, max_bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_are_joined_in_order_and_hints_replace_the_agent() {
        let words = || "Anna, Tanya".to_string();
        let q = "On which date would you like the table?";
        assert_eq!(AsrPrompt::None.compose(None, words, q), None);
        assert_eq!(
            AsrPrompt::Question.compose(None, words, q).as_deref(),
            Some(q)
        );
        assert_eq!(
            AsrPrompt::AgentAndQuestion
                .compose(None, words, q)
                .as_deref(),
            Some("Anna, Tanya. On which date would you like the table?")
        );
        assert_eq!(
            AsrPrompt::Agent
                .compose(Some("refund".into()), words, q)
                .as_deref(),
            Some("refund")
        );
        assert_eq!(
            AsrPrompt::None
                .compose(Some("refund".into()), words, q)
                .as_deref(),
            Some("refund")
        );
        assert_eq!(AsrPrompt::Question.compose(None, words, "  "), None);
    }

    #[test]
    fn the_agents_words_fit_the_budget_and_name_its_values() {
        let agent = sb_nlu::import::load(std::path::Path::new(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../examples/restaurant"
        )))
        .unwrap();
        let w = agent_words(&agent, AGENT_WORDS_BYTES);
        assert!(w.len() <= AGENT_WORDS_BYTES && !w.is_empty(), "{w}");
        assert!(w.contains("Tanya"), "{w}");
    }
}
