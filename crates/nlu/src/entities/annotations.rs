//! How often each developer-entity value is annotated in an agent's training phrases, and so
//! whether a value would be known without a given phrase (see [`crate::tagger`]'s intent module:
//! entries are often just the annotated values, and a learner must not see them as listed in the
//! very phrase they come from).

use std::collections::HashMap;

use super::phrase;
use crate::agent::{Agent, TrainingPhrase};

/// How often each (entity name without `@`, normalised value) is annotated in the agent's
/// training phrases.
#[derive(Debug, Clone, Default)]
pub(crate) struct Annotations {
    total: HashMap<(String, String), u32>,
}

pub(crate) fn value_key(text: &str) -> String {
    phrase::key_of(&phrase::pieces(text))
}

/// (entity, value key) of each annotated part of a phrase.
fn annotated(ph: &TrainingPhrase) -> impl Iterator<Item = (String, String)> + '_ {
    ph.parts.iter().filter_map(|p| {
        let entity = p.entity.as_deref()?.trim_start_matches('@');
        p.alias.as_ref()?;
        Some((entity.to_string(), value_key(&p.text)))
    })
}

impl Annotations {
    pub fn of(agent: &Agent) -> Self {
        let mut total: HashMap<(String, String), u32> = HashMap::new();
        for ph in agent.intents.iter().flat_map(|i| &i.training_phrases) {
            for k in annotated(ph) {
                *total.entry(k).or_default() += 1;
            }
        }
        Annotations { total }
    }

    /// Whether value `key` of `entity` is known without the annotations counted in `own`.
    pub fn known_without(
        &self,
        entity: &str,
        key: &str,
        own: &HashMap<(String, String), u32>,
    ) -> bool {
        let k = (entity.to_string(), key.to_string());
        match self.total.get(&k) {
            None | Some(0) => true,
            Some(&t) => t > own.get(&k).copied().unwrap_or(0),
        }
    }
}

pub(crate) fn counts<'a>(
    phrases: impl Iterator<Item = &'a TrainingPhrase>,
) -> HashMap<(String, String), u32> {
    let mut c: HashMap<(String, String), u32> = HashMap::new();
    for ph in phrases {
        for k in annotated(ph) {
            *c.entry(k).or_default() += 1;
        }
    }
    c
}
