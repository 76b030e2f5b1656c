//! Which intent a query goes to (event, slot filling, NLU ranking, fallback), decided without
//! touching the session: [`Engine::begin`] applies what the decision says to the state, and
//! [`Engine::preview`] only reads it. One decision, so a preview never disagrees with the turn.

use super::confirm::Carry;
use super::contexts;
use super::slots;
use super::types::*;
use crate::agent::Intent;
use crate::engine::{Engine, Extracted};
use crate::sysent::SysContext;
use serde_json::{Map, Value};
use std::borrow::Cow;

/// Utterances that abandon slot filling (Dialogflow's cancel phrases, whole utterances).
const CANCEL: &[&str] = &[
    "cancel",
    "cancel that",
    "cancel it",
    "stop",
    "stop it",
    "stop that",
    "never mind",
    "nevermind",
    "never mind that",
    "forget it",
    "forget about it",
    "forget that",
    "exit",
    "quit",
    "abort",
];

pub(super) enum Decision {
    None,
    Intent {
        idx: usize,
        confidence: f32,
        ex: Extracted,
        /// Slot filling goes on with the intent it was filling.
        continuing: bool,
        /// What a confirmation answer passes on.
        carry: Carry,
    },
    /// A confirmation question got no yes, no or new value: ask it again.
    Repeat,
}

/// What the query does to slot filling in progress.
pub(super) enum SlotExit {
    /// Nothing (no slot filling, or it goes on).
    Stay,
    /// Slot filling ends (an event, another intent, or its intent is gone).
    Leave,
    /// A cancel phrase: slot filling ends and what the intent (index) collected is forgotten.
    Cancel(usize),
    /// A confirmation answer ("no", or a new value) goes on as this slot filling.
    Refill(SlotFilling),
    /// The confirmation question stands.
    Repeat,
}

/// What a query would do, read without taking the turn ([`Engine::preview`]).
#[derive(Debug, Clone, PartialEq)]
pub struct Preview {
    /// Display name of the intent the query goes to; `None` when nothing matched and the agent
    /// has no fallback for the active contexts.
    pub intent: Option<String>,
    pub confidence: f32,
    pub is_fallback: bool,
    /// Every required parameter would have a value: slot filling would not prompt.
    pub all_required_params_present: bool,
    /// The parameters as the turn would report them (unfilled ones empty).
    pub parameters: Map<String, Value>,
    /// Slot filling was asking for a parameter, and the query gives it a value.
    pub answers_prompt: bool,
}

impl Preview {
    /// Whether the query reads as a whole turn: a non-fallback intent that needs nothing more,
    /// or an answer to the parameter being asked for.
    pub fn is_whole_turn(&self) -> bool {
        self.intent.is_some()
            && !self.is_fallback
            && (self.all_required_params_present || self.answers_prompt)
    }
}

/// Applies what a request sets before matching (context reset, contexts, session params).
pub(super) fn apply_query_params(state: &mut SessionState, params: &QueryParams) {
    if params.reset_contexts {
        state.contexts.clear();
        state.slot_filling = None;
        state.confirming = None;
    }
    for c in &params.contexts {
        contexts::set(state, &c.name, c.lifespan, c.parameters.clone());
    }
    for (k, v) in &params.session_params {
        state.session_params.insert(k.clone(), v.clone());
    }
}

fn touches_state(params: &QueryParams) -> bool {
    params.reset_contexts || !params.contexts.is_empty() || !params.session_params.is_empty()
}

/// Applies a decision's [`SlotExit`] to the state.
pub(super) fn apply_exit(engine: &Engine, state: &mut SessionState, exit: SlotExit) {
    // Any query but one that leaves the question standing answers a pending confirmation.
    if !matches!(exit, SlotExit::Repeat) {
        state.confirming = None;
    }
    match exit {
        SlotExit::Stay | SlotExit::Repeat => {}
        SlotExit::Refill(sf) => state.slot_filling = Some(sf),
        SlotExit::Leave => state.slot_filling = None,
        SlotExit::Cancel(idx) => {
            let (names, keys) = cancelled(engine.intent(idx));
            contexts::forget(state, &names, &keys);
            state.slot_filling = None;
        }
    }
}

/// The output contexts and parameter keys a cancelled intent takes with it.
fn cancelled(intent: &Intent) -> (Vec<String>, Vec<String>) {
    let names = intent
        .output_contexts
        .iter()
        .map(|c| c.name.clone())
        .collect();
    let keys = intent
        .parameters
        .iter()
        .flat_map(|p| [p.name.clone(), format!("{}.original", p.name)])
        .collect();
    (names, keys)
}

impl Engine {
    /// The entity-resolution context of a request: its time, in its zone or the agent's.
    pub(super) fn sys_context(&self, req: &TurnRequest) -> SysContext {
        let tz = req
            .params
            .time_zone
            .as_deref()
            .and_then(|t| t.parse().ok())
            .unwrap_or(self.tz);
        SysContext { now: req.now, tz }
    }

    /// What `req` would do in a session in `state`, without running the turn: no state change,
    /// no rendering, no webhook. The call core asks it whether an early guess at what the caller
    /// said is a whole turn.
    pub fn preview(&self, state: &SessionState, req: &TurnRequest) -> Preview {
        let asking = state.slot_filling.as_ref().map(|sf| sf.asking.clone());
        let mut state = Cow::Borrowed(state);
        if touches_state(&req.params) {
            apply_query_params(state.to_mut(), &req.params);
        }
        let ctx = self.sys_context(req);
        let (text, event) = match &req.input {
            QueryInput::Text { text, .. } => (text.trim(), None),
            QueryInput::Event {
                name, parameters, ..
            } => (name.as_str(), Some((name.as_str(), parameters))),
        };
        let (decision, exit) = self.decide(&state, event, text, &ctx);
        let Decision::Intent {
            idx,
            confidence,
            ex,
            ..
        } = decision
        else {
            return Preview {
                intent: None,
                confidence: 0.0,
                is_fallback: false,
                all_required_params_present: true,
                parameters: Map::new(),
                answers_prompt: false,
            };
        };
        if matches!(exit, SlotExit::Cancel(_)) {
            // Defaults read the contexts as the cancel leaves them.
            apply_exit(self, state.to_mut(), exit);
        }
        let intent = self.intent(idx);
        let mut values = ex.values;
        slots::apply_defaults(intent, &state, event, &mut values);
        let all_present = intent.is_fallback || slots::first_missing(intent, &values).is_none();
        let parameters = slots::report(intent, &values);
        let answers_prompt = asking.is_some_and(|p| !slots::is_empty(parameters.get(&p)));
        Preview {
            intent: Some(intent.name.clone()),
            confidence,
            is_fallback: intent.is_fallback,
            all_required_params_present: all_present,
            parameters,
            answers_prompt,
        }
    }

    /// The intent for an event or a text query in `state` (as the request's params left it).
    pub(super) fn decide(
        &self,
        state: &SessionState,
        event: Option<(&str, &Map<String, Value>)>,
        text: &str,
        ctx: &SysContext,
    ) -> (Decision, SlotExit) {
        let Some((name, _)) = event else {
            return self.decide_text(state, text, ctx);
        };
        let active = contexts::active_names(state);
        // An event no intent takes (unknown, or its intent's input contexts are not active)
        // gets the fallback intent, as Dialogflow answers it.
        let decision = match self
            .intent_for_event(name, &active)
            .or_else(|| self.fallback_intent(&active))
        {
            Some(idx) => Decision::Intent {
                idx,
                confidence: 1.0,
                ex: Extracted::default(),
                continuing: false,
                carry: Carry::default(),
            },
            None => Decision::None,
        };
        (decision, SlotExit::Leave)
    }

    fn decide_text(
        &self,
        state: &SessionState,
        text: &str,
        ctx: &SysContext,
    ) -> (Decision, SlotExit) {
        if let Some(answered) = self.answer_confirmation(state, text, ctx) {
            return answered;
        }
        let mut active = contexts::active_names(state);
        let mut exit = SlotExit::Stay;
        if let Some(sf) = &state.slot_filling {
            exit = SlotExit::Leave;
            let sf_idx = self.agent.intents.iter().position(|i| i.id == sf.intent_id);
            let lower = text.to_lowercase();
            let cancel = CANCEL
                .iter()
                .any(|c| lower.trim_matches(|ch: char| !ch.is_alphanumeric()) == *c);
            match (sf_idx, cancel) {
                (Some(idx), true) => {
                    let (names, keys) = cancelled(self.intent(idx));
                    active = contexts::active_after_forget(state, &names, &keys);
                    exit = SlotExit::Cancel(idx);
                }
                (Some(idx), false) => {
                    if let Some(d) = self.continue_slot_filling(sf, idx, text, &active, ctx) {
                        return (d, SlotExit::Stay);
                    }
                }
                (None, _) => {}
            }
        }
        let ranked = self.rank(text, &active, ctx);
        let decision = match ranked.first() {
            Some(s)
                if s.confidence >= self.agent.ml_min_confidence
                    && !self.intent(s.intent).is_fallback =>
            {
                Decision::Intent {
                    idx: s.intent,
                    confidence: s.confidence,
                    ex: self.extract(s.intent, text, ctx),
                    continuing: false,
                    carry: Carry::default(),
                }
            }
            _ => match self.fallback_intent(&active) {
                Some(idx) => Decision::Intent {
                    idx,
                    confidence: 1.0,
                    ex: Extracted::default(),
                    continuing: false,
                    carry: Carry::default(),
                },
                None => Decision::None,
            },
        };
        (decision, exit)
    }

    /// Slot filling of intent `idx` goes on with what `text` gives, unless the text fills
    /// nothing and reads clearly (≥ 0.8) as another, non-fallback intent: `None` then.
    fn continue_slot_filling(
        &self,
        sf: &SlotFilling,
        idx: usize,
        text: &str,
        active: &std::collections::HashSet<String>,
        ctx: &SysContext,
    ) -> Option<Decision> {
        let mut ex = self.extract(idx, text, ctx);
        let intent = self.intent(idx);
        if !ex.values.contains_key(&sf.asking) {
            if let Some(p) = intent.parameters.iter().find(|p| p.name == sf.asking) {
                if let Some(m) = self.resolve_answer(text, &p.data_type, ctx) {
                    let v = if p.is_list {
                        Value::Array(vec![m.value])
                    } else {
                        m.value
                    };
                    ex.values.insert(p.name.clone(), v);
                    ex.originals
                        .insert(p.name.clone(), Value::String(m.original));
                }
            }
        }
        let escape = ex.values.is_empty()
            && self.rank(text, active, ctx).first().is_some_and(|s| {
                s.intent != idx && s.confidence >= 0.8 && !self.intent(s.intent).is_fallback
            });
        if escape {
            return None;
        }
        let mut values = sf.parameters.clone();
        let mut originals = sf.originals.clone();
        for (k, v) in ex.values {
            if k == sf.asking || slots::is_empty(values.get(&k)) {
                values.insert(k.clone(), v);
                if let Some(o) = ex.originals.get(&k) {
                    originals.insert(k, o.clone());
                }
            }
        }
        Some(Decision::Intent {
            idx,
            confidence: 1.0,
            ex: Extracted { values, originals },
            continuing: true,
            carry: Carry::default(),
        })
    }
}
