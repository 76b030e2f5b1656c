//! The trained agent: the NLU cascade (exact phrase lookup, then the learned classifier) and
//! parameter extraction (slot tagger + entity extractors). Immutable; shared by `Arc`.

use crate::agent::{Agent, Intent};
use crate::classifier::IntentClassifier;
use crate::entities::annotations::Annotations;
use crate::entities::{EntityMatch, EntityMatcher, PhraseTemplates, TemplateMatch};
use crate::sysent::{SysContext, SysExtractor};
use crate::tagger::{self, SlotSpan, SlotTagger};
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
    templates: PhraseTemplates,
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
        let mut templates = PhraseTemplates::default();
        let annotations = Annotations::of(&agent);
        let ctx = SysContext::reference(tz);
        for (i, intent) in agent.intents.iter().enumerate() {
            if intent.training_phrases.is_empty() || intent.priority < 0 {
                continue;
            }
            let class = class_intents.len();
            class_intents.push(i);
            for ph in &intent.training_phrases {
                let text = ph.text();
                templates.add(i, ph);
                examples.push((text.clone(), class));
                let key = norm_key(&text);
                if !key.is_empty() {
                    let v = exact.entry(key).or_default();
                    if !v.contains(&i) {
                        v.push(i);
                    }
                }
            }
            let types = param_types(intent);
            let hints = |text: &str| find_entities(&sys, &dev, text, &types, &ctx);
            if let Some(t) = tagger::train_for_intent(&agent, intent, &annotations, &hints)? {
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
            templates,
            sys,
            dev,
        })
    }

    pub fn intent(&self, idx: usize) -> &Intent {
        &self.agent.intents[idx]
    }

    /// Intents whose input contexts are all active, ranked by confidence (best first).
    pub fn rank(&self, text: &str, active: &HashSet<String>, ctx: &SysContext) -> Vec<Scored> {
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
        for m in self.template_matches(text, ctx) {
            if eligible(m.intent) && !out.iter().any(|s| s.intent == m.intent) {
                // An `@sys.any` part matches loosely: below a plain template or exact phrase.
                let confidence = if m.open { 0.9 } else { 1.0 };
                out.push(Scored {
                    intent: m.intent,
                    confidence,
                });
            }
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
                .resolve_answer(text, entity.trim_start_matches('@'), ctx)
        }
    }

    /// Annotated training phrases that match `text` as templates (see [`PhraseTemplates`]).
    fn template_matches(&self, text: &str, ctx: &SysContext) -> Vec<TemplateMatch> {
        if self.templates.is_empty() {
            return Vec::new();
        }
        let found = self.entities(text, &self.templates.types(), ctx);
        self.templates.matches(text, &found)
    }

    /// Whether a developer entity takes values it does not list (`automatedExpansion`).
    fn expands(&self, data_type: &str) -> bool {
        !data_type.starts_with("@sys.")
            && self.agent.entity(data_type).is_some_and(|e| {
                e.automated_expansion && e.kind != crate::agent::EntityKind::Regexp
            })
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
        // A training phrase matching as a template places the values exactly; else the tagger.
        let template = self
            .template_matches(text, ctx)
            .into_iter()
            .find(|m| m.intent == intent_idx);
        let spans: Vec<SlotSpan> = match template {
            Some(m) => m
                .slots
                .into_iter()
                .map(|(start, end, slot)| SlotSpan { start, end, slot })
                .collect(),
            None => self
                .taggers
                .get(&intent_idx)
                .map(|t| t.tag(text, &hints))
                .unwrap_or_default(),
        };
        for span in &spans {
            let Some(p) = intent.parameters.iter().find(|p| p.name == span.slot) else {
                continue;
            };
            let Some(span_text) = text.get(span.start..span.end) else {
                continue;
            };
            let as_said = || Some((Value::String(span_text.to_string()), span_text.to_string()));
            let expands = self.expands(&p.data_type);
            let hint = hints.iter().enumerate().position(|(k, h)| {
                !used[k] && h.entity == p.data_type && h.start < span.end && span.start < h.end
            });
            let found = if p.data_type == "@sys.any" {
                as_said()
            } else if let Some(k) = hint {
                used[k] = true;
                // Automated expansion: a tagged value that reaches beyond the listed one inside
                // it is a new value, as said.
                let beyond = span.start < hints[k].start || span.end > hints[k].end;
                if expands && beyond {
                    as_said()
                } else {
                    Some((hints[k].value.clone(), hints[k].original.clone()))
                }
            } else {
                self.resolve_answer(span_text, &p.data_type, ctx)
                    .map(|m| (m.value, m.original))
                    .or_else(|| if expands { as_said() } else { None })
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
            // With automated expansion the tagger, which sees the entity's matches, decides where
            // its values are; a listed word it left untagged is not the parameter.
            let tagged = self
                .taggers
                .get(&intent_idx)
                .is_some_and(|t| t.slots().contains(&p.name));
            if tagged && self.expands(&p.data_type) {
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
        out.extend(dev.extract(text, Some(&dev_types), ctx));
    }
    out.sort_by_key(|m| (m.start, std::cmp::Reverse(m.end)));
    out
}
