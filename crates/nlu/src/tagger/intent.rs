//! The slot tagger of one intent of an agent, trained from its annotated training phrases.
//!
//! Entity entries are often the very values annotated in the training phrases (an export whose
//! entities were filled from its annotations, as automated-expansion agents usually are). Fed to
//! the tagger as always-matching lists, such values would mark every training slot, the tagger
//! would learn to trust the marks alone, and an unlisted value at query time (what automated
//! expansion is for) would go untagged. So an entity value counts as known, for a training phrase,
//! only if it would still be known without that phrase: it is annotated in another phrase, or
//! not annotated at all. For the entity lists (shared by every phrase of the intent) the test is
//! made per intent; the intent's own annotated values are then the tagger's counted training
//! lists, which leave each phrase's own values out (see [`super::gazetteer`]).

use std::collections::HashMap;

use super::{SlotSpan, SlotTagger, TaggedExample};
use crate::agent::{Agent, Intent, TrainingPhrase};
use crate::entities::phrase;
use crate::entities::EntityMatch;
use crate::NluError;

/// How often each (entity name without `@`, normalised value) is annotated in the agent's
/// training phrases.
#[derive(Debug, Clone, Default)]
pub(crate) struct Annotations {
    total: HashMap<(String, String), u32>,
}

fn value_key(text: &str) -> String {
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
    fn known_without(&self, entity: &str, key: &str, own: &HashMap<(String, String), u32>) -> bool {
        let k = (entity.to_string(), key.to_string());
        match self.total.get(&k) {
            None | Some(0) => true,
            Some(&t) => t > own.get(&k).copied().unwrap_or(0),
        }
    }
}

fn counts<'a>(phrases: impl Iterator<Item = &'a TrainingPhrase>) -> HashMap<(String, String), u32> {
    let mut c: HashMap<(String, String), u32> = HashMap::new();
    for ph in phrases {
        for k in annotated(ph) {
            *c.entry(k).or_default() += 1;
        }
    }
    c
}

/// The tagger of `intent`, or `None` when none of its phrases is annotated. `hints` gives the
/// entity matches of a text for the intent's parameter types.
pub(crate) fn train_for_intent(
    agent: &Agent,
    intent: &Intent,
    ann: &Annotations,
    hints: &dyn Fn(&str) -> Vec<EntityMatch>,
) -> Result<Option<SlotTagger>, NluError> {
    let is_annotated = intent
        .training_phrases
        .iter()
        .any(|p| p.parts.iter().any(|x| x.alias.is_some()));
    if !is_annotated {
        return Ok(None);
    }
    let mut examples = Vec::new();
    for ph in &intent.training_phrases {
        let mut text = String::new();
        let mut spans = Vec::new();
        for part in &ph.parts {
            let start = text.len();
            text.push_str(&part.text);
            if let Some(alias) = &part.alias {
                let (s, e) = trim_span(&text, start, text.len());
                if s < e {
                    spans.push(SlotSpan {
                        start: s,
                        end: e,
                        slot: alias.clone(),
                    });
                }
            }
        }
        let own = counts(std::iter::once(ph));
        let hints = hints(&text)
            .into_iter()
            .filter(|h| {
                h.entity.starts_with("@sys.")
                    || ann.known_without(
                        h.entity.trim_start_matches('@'),
                        &value_key(&h.original),
                        &own,
                    )
            })
            .collect();
        examples.push(TaggedExample { text, spans, hints });
    }
    let own = counts(intent.training_phrases.iter());
    let mut gazetteers = Vec::new();
    for p in &intent.parameters {
        let Some(e) = agent.entity(&p.data_type) else {
            continue;
        };
        let values = e
            .entries
            .iter()
            .flat_map(|en| en.synonyms.iter().chain(std::iter::once(&en.value)))
            .filter(|v| ann.known_without(&e.name, &value_key(v), &own))
            .cloned()
            .collect();
        gazetteers.push((p.name.clone(), values));
    }
    Ok(Some(SlotTagger::train(&examples, &gazetteers)?))
}

fn trim_span(text: &str, mut s: usize, mut e: usize) -> (usize, usize) {
    let bytes = text.as_bytes();
    while s < e && bytes[s].is_ascii_whitespace() {
        s += 1;
    }
    while e > s && bytes[e - 1].is_ascii_whitespace() {
        e -= 1;
    }
    (s, e)
}
