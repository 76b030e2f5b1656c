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

use super::{SlotSpan, SlotTagger, TaggedExample};
use crate::agent::{Agent, Intent};
use crate::entities::annotations::{counts, value_key, Annotations};
use crate::entities::EntityMatch;
use crate::NluError;

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
