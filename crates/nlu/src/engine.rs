//! The trained agent: the NLU cascade (exact phrase lookup, then the learned classifier) and
//! parameter extraction (slot tagger + entity extractors). Immutable; shared by `Arc`.

use crate::agent::{Agent, Intent};
use crate::classifier::IntentClassifier;
use crate::entities::{EntityMatch, EntityMatcher};
use crate::sysent::{SysContext, SysExtractor};
use crate::tagger::{SlotSpan, SlotTagger, TaggedExample};
use crate::text::tokenize;
use crate::NluError;
use serde_json::{Map, Value};
use std::collections::{HashMap, HashSet};
use std::path::Path;

pub struct Engine {
    pub agent: Agent,
    pub(crate) tz: chrono_tz::Tz,
    classifier: Option<IntentClassifier>,
    /// classifier class → intent index
    class_intents: Vec<usize>,
    /// normalised training phrase → intent indexes
    exact: HashMap<String, Vec<usize>>,
    taggers: HashMap<usize, SlotTagger>,
    sys: SysExtractor,
    dev: EntityMatcher,
}

/// An intent candidate with its confidence.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Scored {
    pub intent: usize,
    pub confidence: f32,
}

/// Parameter values found in a query for one intent.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Extracted {
    pub values: Map<String, Value>,
    pub originals: Map<String, Value>,
}

/// Ranking bonus of an intent whose input contexts are all active (Dialogflow's context boost): a
/// follow-up scoring 0.4 beats a context-free intent scoring 0.6.
const CONTEXT_BOOST: f32 = 0.25;
/// Ranking bonus per priority step (DF export values: 250000 low, 500000 normal, 750000 high,
/// 1000000 highest): it decides between matches of about the same confidence.
const PRIORITY_STEP_BONUS: f32 = 0.03;

fn priority_bonus(priority: i64) -> f32 {
    ((priority - 500_000) as f32 / 250_000.0).clamp(-2.0, 2.0) * PRIORITY_STEP_BONUS
}

fn norm_key(text: &str) -> String {
    tokenize(text)
        .into_iter()
        .filter(|t| t.norm.chars().any(char::is_alphanumeric))
        .map(|t| t.norm)
        .collect::<Vec<_>>()
        .join(" ")
}

impl Engine {
    /// Loads a DF ES export (folder or ZIP) and trains the NLU.
    pub fn load(path: &Path) -> Result<Engine, NluError> {
        Engine::new(crate::import::load(path)?)
    }

    pub fn new(agent: Agent) -> Result<Engine, NluError> {
        let tz: chrono_tz::Tz = agent.time_zone.parse().map_err(|_| {
            NluError::field(
                "agent.json",
                "defaultTimezone",
                format!("unknown time zone `{}`", agent.time_zone),
            )
        })?;
        let sys = SysExtractor::new();
        let dev = EntityMatcher::new(&agent.entities)?;
        let mut examples = Vec::new();
        let mut class_intents = Vec::new();
        let mut exact: HashMap<String, Vec<usize>> = HashMap::new();
        let mut taggers = HashMap::new();
        for (i, intent) in agent.intents.iter().enumerate() {
            if intent.training_phrases.is_empty() || intent.priority < 0 {
                continue;
            }
            let class = class_intents.len();
            class_intents.push(i);
            for ph in &intent.training_phrases {
                let text = ph.text();
                examples.push((text.clone(), class));
                let key = norm_key(&text);
                if !key.is_empty() {
                    let v = exact.entry(key).or_default();
                    if !v.contains(&i) {
                        v.push(i);
                    }
                }
            }
            if let Some(t) = train_tagger(&agent, intent, &sys, &dev, tz)? {
                taggers.insert(i, t);
            }
        }
        let classifier = if class_intents.is_empty() {
            None
        } else {
            Some(IntentClassifier::train(&examples, class_intents.len())?)
        };
        Ok(Engine {
            agent,
            tz,
            classifier,
            class_intents,
            exact,
            taggers,
            sys,
            dev,
        })
    }

    pub fn intent(&self, idx: usize) -> &Intent {
        &self.agent.intents[idx]
    }

    /// Intents whose input contexts are all active, ranked by confidence (best first).
    pub fn rank(&self, text: &str, active: &HashSet<String>) -> Vec<Scored> {
        let eligible = |i: usize| {
            let intent = &self.agent.intents[i];
            intent.priority >= 0 && intent.input_contexts.iter().all(|c| active.contains(c))
        };
        let mut out: Vec<Scored> = Vec::new();
        if let Some(ids) = self.exact.get(&norm_key(text)) {
            out.extend(
                ids.iter()
                    .copied()
                    .filter(|&i| eligible(i))
                    .map(|intent| Scored {
                        intent,
                        confidence: 1.0,
                    }),
            );
        }
        if let Some(c) = &self.classifier {
            for (class, p) in c.predict(text).into_iter().enumerate() {
                if let Some(&i) = self.class_intents.get(class) {
                    if eligible(i) && !out.iter().any(|s| s.intent == i) {
                        out.push(Scored {
                            intent: i,
                            confidence: p,
                        });
                    }
                }
            }
        }
        // Intents that need an active context are more specific: Dialogflow prefers them, when
        // they match at all (at least the agent's threshold). Priority breaks near-ties.
        let threshold = self.agent.ml_min_confidence;
        let key = |s: &Scored| {
            let intent = &self.agent.intents[s.intent];
            let boost = if !intent.input_contexts.is_empty() && s.confidence >= threshold {
                CONTEXT_BOOST
            } else {
                0.0
            };
            s.confidence + boost + priority_bonus(intent.priority)
        };
        out.sort_by(|a, b| key(b).total_cmp(&key(a)));
        out
    }

    /// The intent that handles an event, preferring ones with (satisfied) input contexts.
    pub fn intent_for_event(&self, name: &str, active: &HashSet<String>) -> Option<usize> {
        self.agent
            .intents
            .iter()
            .enumerate()
            .filter(|(_, it)| it.events.iter().any(|e| e.eq_ignore_ascii_case(name)))
            .filter(|(_, it)| it.priority >= 0)
            .filter(|(_, it)| it.input_contexts.iter().all(|c| active.contains(c)))
            .max_by_key(|(_, it)| (it.input_contexts.len(), it.priority))
            .map(|(i, _)| i)
    }

    /// The fallback intent for the current contexts, preferring ones with input contexts.
    pub fn fallback_intent(&self, active: &HashSet<String>) -> Option<usize> {
        self.agent
            .intents
            .iter()
            .enumerate()
            .filter(|(_, it)| {
                it.is_fallback
                    && it.priority >= 0
                    && it.input_contexts.iter().all(|c| active.contains(c))
            })
            .max_by_key(|(_, it)| (it.input_contexts.len(), it.priority))
            .map(|(i, _)| i)
    }

    /// Entity matches of the given types (`@sys.*` and developer entities).
    pub fn entities(&self, text: &str, types: &[&str], ctx: &SysContext) -> Vec<EntityMatch> {
        find_entities(&self.sys, &self.dev, text, types, ctx)
    }

    /// The value of a whole answer to a prompt for an entity type.
    pub fn resolve_answer(
        &self,
        text: &str,
        entity: &str,
        ctx: &SysContext,
    ) -> Option<EntityMatch> {
        if entity.starts_with("@sys.") {
            self.sys.resolve_answer(text, entity, ctx)
        } else if entity.is_empty() {
            None
        } else {
            self.dev
                .resolve_answer(text, entity.trim_start_matches('@'))
        }
    }

    /// Parameter values of `intent` found in `text`.
    pub fn extract(&self, intent_idx: usize, text: &str, ctx: &SysContext) -> Extracted {
        let intent = &self.agent.intents[intent_idx];
        let types = param_types(intent);
        let hints = self.entities(text, &types, ctx);
        let mut used = vec![false; hints.len()];
        let mut out = Extracted::default();
        // List values found by the tagger and by the entity pass, put in the order they were said.
        let mut listed: Vec<(usize, &str, Value, String)> = Vec::new();
        let spans: Vec<SlotSpan> = self
            .taggers
            .get(&intent_idx)
            .map(|t| t.tag(text, &hints))
            .unwrap_or_default();
        for span in &spans {
            let Some(p) = intent.parameters.iter().find(|p| p.name == span.slot) else {
                continue;
            };
            let Some(span_text) = text.get(span.start..span.end) else {
                continue;
            };
            let found = if p.data_type == "@sys.any" {
                Some((Value::String(span_text.to_string()), span_text.to_string()))
            } else if let Some(k) = hints.iter().enumerate().position(|(k, h)| {
                !used[k] && h.entity == p.data_type && h.start < span.end && span.start < h.end
            }) {
                used[k] = true;
                Some((hints[k].value.clone(), hints[k].original.clone()))
            } else {
                self.resolve_answer(span_text, &p.data_type, ctx)
                    .map(|m| (m.value, m.original))
            };
            match found {
                Some((v, orig)) if p.is_list => listed.push((span.start, &p.name, v, orig)),
                Some((v, orig)) => put(&mut out, &p.name, false, v, orig),
                None => {}
            }
        }
        for p in &intent.parameters {
            if out.values.contains_key(&p.name) && !p.is_list {
                continue;
            }
            for k in 0..hints.len() {
                if !used[k] && hints[k].entity == p.data_type {
                    used[k] = true;
                    let (v, orig) = (hints[k].value.clone(), hints[k].original.clone());
                    if p.is_list {
                        listed.push((hints[k].start, &p.name, v, orig));
                    } else {
                        put(&mut out, &p.name, false, v, orig);
                        break;
                    }
                }
            }
        }
        listed.sort_by_key(|l| l.0);
        for (_, name, v, orig) in listed {
            put(&mut out, name, true, v, orig);
        }
        out
    }
}

fn put(out: &mut Extracted, name: &str, is_list: bool, v: Value, orig: String) {
    if is_list {
        push_list(&mut out.values, name, v);
        push_list(&mut out.originals, name, Value::String(orig));
    } else {
        out.values.insert(name.to_string(), v);
        out.originals.insert(name.to_string(), Value::String(orig));
    }
}

fn push_list(map: &mut Map<String, Value>, name: &str, v: Value) {
    match map.get_mut(name) {
        Some(Value::Array(a)) => a.push(v),
        _ => {
            map.insert(name.to_string(), Value::Array(vec![v]));
        }
    }
}

fn train_tagger(
    agent: &Agent,
    intent: &Intent,
    sys: &SysExtractor,
    dev: &EntityMatcher,
    tz: chrono_tz::Tz,
) -> Result<Option<SlotTagger>, NluError> {
    let annotated = intent
        .training_phrases
        .iter()
        .any(|p| p.parts.iter().any(|x| x.alias.is_some()));
    if !annotated {
        return Ok(None);
    }
    let ctx = SysContext {
        now: chrono::Utc::now(),
        tz,
    };
    let types = param_types(intent);
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
        let hints = find_entities(sys, dev, &text, &types, &ctx);
        examples.push(TaggedExample { text, spans, hints });
    }
    let mut gazetteers = Vec::new();
    for p in &intent.parameters {
        if let Some(e) = agent.entity(&p.data_type) {
            let values = e
                .entries
                .iter()
                .flat_map(|en| {
                    en.synonyms
                        .iter()
                        .chain(std::iter::once(&en.value))
                        .cloned()
                })
                .collect();
            gazetteers.push((p.name.clone(), values));
        }
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

/// The distinct entity types of an intent's parameters.
fn param_types(intent: &Intent) -> Vec<&str> {
    let mut types: Vec<&str> = intent
        .parameters
        .iter()
        .map(|p| p.data_type.as_str())
        .filter(|t| !t.is_empty())
        .collect();
    types.sort_unstable();
    types.dedup();
    types
}

/// Entity matches of the given types, in text order (longest first at equal starts).
fn find_entities(
    sys: &SysExtractor,
    dev: &EntityMatcher,
    text: &str,
    types: &[&str],
    ctx: &SysContext,
) -> Vec<EntityMatch> {
    let sys_types: Vec<&str> = types
        .iter()
        .copied()
        .filter(|t| t.starts_with("@sys.") && *t != "@sys.any")
        .collect();
    let dev_types: Vec<&str> = types
        .iter()
        .filter(|t| !t.starts_with("@sys."))
        .map(|t| t.trim_start_matches('@'))
        .collect();
    let mut out = if sys_types.is_empty() {
        Vec::new()
    } else {
        sys.extract(text, &sys_types, ctx)
    };
    if !dev_types.is_empty() {
        out.extend(dev.extract(text, Some(&dev_types)));
    }
    out.sort_by_key(|m| (m.start, std::cmp::Reverse(m.end)));
    out
}
