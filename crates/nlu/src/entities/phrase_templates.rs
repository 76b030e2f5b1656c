//! Annotated training phrases as templates. Dialogflow reads an annotated part as a stand-in for
//! its entity: "I want a [large](@size) pizza" also matches "I want a small pizza", and a
//! follow-up trained on the one answer "[large](@size)" matches "regular" (a synonym of medium).
//! A template matches a whole text when its words match in order (case-insensitive, punctuation
//! ignored) and each annotated part is covered by a match of its entity; `@sys.any` covers any
//! one or more words.

use std::collections::HashMap;

use super::phrase::{self, Piece};
use super::EntityMatch;
use crate::agent::TrainingPhrase;

#[derive(Debug, Clone, PartialEq)]
enum Part {
    Word(String),
    /// An annotated part: entity type with `@`, parameter name.
    Slot {
        entity: String,
        param: String,
    },
}

#[derive(Debug, Clone, PartialEq)]
struct Template {
    intent: usize,
    parts: Vec<Part>,
}

/// The templates of an agent's annotated training phrases; immutable once built.
#[derive(Debug, Clone, Default)]
pub struct PhraseTemplates {
    templates: Vec<Template>,
    /// Entity types the templates need matches of (`@sys.any` excluded).
    types: Vec<String>,
}

/// A template matching a whole text.
#[derive(Debug, Clone, PartialEq)]
pub struct TemplateMatch {
    pub intent: usize,
    /// The template has an `@sys.any` part (so it matches loosely).
    pub open: bool,
    /// (start, end, parameter) byte spans of the annotated parts.
    pub slots: Vec<(usize, usize, String)>,
}

const ANY: &str = "@sys.any";
/// Backtracking steps allowed per template and text.
const MAX_STEPS: usize = 4096;

impl PhraseTemplates {
    /// Adds a training phrase of intent `intent`; phrases without annotations, and those made of
    /// `@sys.any` parts alone (they would match every text), are not templates.
    pub fn add(&mut self, intent: usize, ph: &TrainingPhrase) {
        let mut parts = Vec::new();
        for p in &ph.parts {
            match (&p.entity, &p.alias) {
                (Some(entity), Some(param)) if !p.text.trim().is_empty() => {
                    parts.push(Part::Slot {
                        entity: entity.clone(),
                        param: param.clone(),
                    });
                }
                _ => parts.extend(
                    phrase::pieces(&p.text)
                        .into_iter()
                        .filter(Piece::is_word)
                        .map(|w| Part::Word(w.norm)),
                ),
            }
        }
        let has_slot = parts.iter().any(|p| matches!(p, Part::Slot { .. }));
        let only_any = parts
            .iter()
            .all(|p| matches!(p, Part::Slot { entity, .. } if entity == ANY));
        if !has_slot || only_any {
            return;
        }
        let t = Template { intent, parts };
        if self.templates.contains(&t) {
            return;
        }
        for p in &t.parts {
            if let Part::Slot { entity, .. } = p {
                if entity != ANY && !self.types.contains(entity) {
                    self.types.push(entity.clone());
                }
            }
        }
        self.templates.push(t);
    }

    pub fn is_empty(&self) -> bool {
        self.templates.is_empty()
    }

    /// Entity types whose matches [`Self::matches`] needs.
    pub fn types(&self) -> Vec<&str> {
        self.types.iter().map(String::as_str).collect()
    }

    /// Templates matching the whole `text`, given the entity matches of [`Self::types`] in it.
    pub fn matches(&self, text: &str, entities: &[EntityMatch]) -> Vec<TemplateMatch> {
        let words: Vec<Piece> = phrase::pieces(text)
            .into_iter()
            .filter(Piece::is_word)
            .collect();
        if words.is_empty() {
            return Vec::new();
        }
        // Entity matches as word ranges (only those on word boundaries).
        let mut ranges: HashMap<&str, Vec<(usize, usize)>> = HashMap::new();
        for m in entities {
            let a = words.iter().position(|w| w.start == m.start);
            let b = words.iter().position(|w| w.end == m.end);
            if let (Some(a), Some(b)) = (a, b) {
                if a <= b {
                    ranges
                        .entry(m.entity.as_str())
                        .or_default()
                        .push((a, b + 1));
                }
            }
        }
        let mut out = Vec::new();
        for t in &self.templates {
            let mut m = Matcher {
                words: &words,
                ranges: &ranges,
                steps: 0,
                slots: Vec::new(),
            };
            if m.go(&t.parts, 0) {
                out.push(TemplateMatch {
                    intent: t.intent,
                    open: t
                        .parts
                        .iter()
                        .any(|p| matches!(p, Part::Slot { entity, .. } if entity == ANY)),
                    slots: m
                        .slots
                        .into_iter()
                        .map(|(a, b, p)| (words[a].start, words[b - 1].end, p))
                        .collect(),
                });
            }
        }
        out
    }
}

struct Matcher<'a> {
    words: &'a [Piece],
    ranges: &'a HashMap<&'a str, Vec<(usize, usize)>>,
    steps: usize,
    /// Word ranges of the slots matched so far.
    slots: Vec<(usize, usize, String)>,
}

impl Matcher<'_> {
    /// Whether `parts` match `words[at..]` exactly.
    fn go(&mut self, parts: &[Part], at: usize) -> bool {
        self.steps += 1;
        if self.steps > MAX_STEPS {
            return false;
        }
        let Some((first, rest)) = parts.split_first() else {
            return at == self.words.len();
        };
        match first {
            Part::Word(w) => {
                self.words.get(at).is_some_and(|x| x.norm == *w) && self.go(rest, at + 1)
            }
            Part::Slot { entity, param } => {
                let ends: Vec<usize> = if entity == ANY {
                    (at + 1..=self.words.len()).collect()
                } else {
                    self.ranges
                        .get(entity.as_str())
                        .map(|rs| {
                            rs.iter()
                                .filter(|(a, _)| *a == at)
                                .map(|(_, b)| *b)
                                .collect()
                        })
                        .unwrap_or_default()
                };
                for end in ends {
                    self.slots.push((at, end, param.clone()));
                    if self.go(rest, end) {
                        return true;
                    }
                    self.slots.pop();
                }
                false
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agent::PhrasePart;

    fn phrase(parts: &[(&str, Option<&str>)]) -> TrainingPhrase {
        TrainingPhrase {
            parts: parts
                .iter()
                .map(|(t, e)| PhrasePart {
                    text: t.to_string(),
                    entity: e.map(str::to_string),
                    alias: e.map(|e| e.trim_start_matches('@').replace("sys.", "")),
                })
                .collect(),
        }
    }

    fn ent(text: &str, sub: &str, entity: &str) -> EntityMatch {
        let start = text.find(sub).unwrap();
        EntityMatch {
            start,
            end: start + sub.len(),
            entity: entity.into(),
            value: serde_json::Value::Null,
            original: sub.into(),
        }
    }

    #[test]
    fn words_in_order_and_entity_slots() {
        let mut t = PhraseTemplates::default();
        t.add(
            0,
            &phrase(&[
                ("I want a ", None),
                ("large", Some("@size")),
                (" pizza", None),
            ]),
        );
        t.add(1, &phrase(&[("no annotation", None)]));
        t.add(2, &phrase(&[("anything", Some("@sys.any"))]));
        assert_eq!(t.types(), ["@size"]);
        let text = "i want a Small pizza!";
        let m = t.matches(text, &[ent(text, "Small", "@size")]);
        assert_eq!(m.len(), 1);
        assert_eq!(m[0].slots, [(9, 14, "size".to_string())]);
        assert!(t.matches("I want a pizza", &[]).is_empty());
        assert!(t.matches(text, &[ent(text, "Small", "@other")]).is_empty());
    }

    #[test]
    fn sys_any_takes_the_words_between() {
        let mut t = PhraseTemplates::default();
        t.add(
            3,
            &phrase(&[
                ("remind me to ", None),
                ("buy milk", Some("@sys.any")),
                (" today", None),
            ]),
        );
        let text = "remind me to water the plants today";
        let m = t.matches(text, &[]);
        assert_eq!(m.len(), 1);
        assert!(m[0].open);
        let (s, e, _) = &m[0].slots[0];
        assert_eq!(&text[*s..*e], "water the plants");
        assert!(t.matches("remind me to today", &[]).is_empty());
    }
}
