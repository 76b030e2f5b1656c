//! Context bookkeeping: activation, lifespans, and the wire form with full paths.

use super::types::{ActiveContext, SessionState};
use crate::webhook::WireContext;
use serde_json::{json, Map, Value};
use std::collections::HashSet;

/// Upper bound on contexts per session (DF allows far fewer in practice).
const MAX_CONTEXTS: usize = 64;

/// `projects/p/agent/sessions/s/contexts/Name` or `Name` → `name`.
pub fn short_name(name: &str) -> String {
    name.rsplit("/contexts/")
        .next()
        .unwrap_or(name)
        .trim()
        .to_lowercase()
}

pub fn active_names(state: &SessionState) -> HashSet<String> {
    state
        .contexts
        .iter()
        .filter(|c| c.lifespan > 0)
        .map(|c| c.name.clone())
        .collect()
}

/// Sets (or replaces, or with lifespan 0 removes) a context.
pub fn set(state: &mut SessionState, name: &str, lifespan: u32, parameters: Map<String, Value>) {
    let name = short_name(name);
    if name.is_empty() {
        return;
    }
    state.contexts.retain(|c| c.name != name);
    if lifespan > 0 && state.contexts.len() < MAX_CONTEXTS {
        state.contexts.push(ActiveContext {
            name,
            lifespan,
            parameters,
        });
    }
}

/// Activates a context the way an intent's or a webhook's output context does in Dialogflow: the
/// lifespan is renewed and `parameters` merge into those the context already holds (a follow-up
/// that sets `size` keeps the parent's `item`). Lifespan 0 removes the context. With `keep_filled`,
/// an empty new value ("" or []: a parameter the intent did not fill) leaves a filled one alone.
pub fn merge(
    state: &mut SessionState,
    name: &str,
    lifespan: u32,
    parameters: Map<String, Value>,
    keep_filled: bool,
) {
    let name = short_name(name);
    let Some(pos) = state.contexts.iter().position(|c| c.name == name) else {
        return set(state, &name, lifespan, parameters);
    };
    if lifespan == 0 {
        state.contexts.remove(pos);
        return;
    }
    let c = &mut state.contexts[pos];
    c.lifespan = lifespan;
    for (k, v) in parameters {
        let filled = c.parameters.get(&k).is_some_and(|old| !is_empty(old));
        if !(keep_filled && filled && is_empty(&v)) {
            c.parameters.insert(k, v);
        }
    }
}

fn is_empty(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::String(s) => s.is_empty(),
        Value::Array(a) => a.is_empty(),
        _ => false,
    }
}

/// Forgets `keys` in the named contexts, dropping a context left with no parameters (slot
/// filling was cancelled: what it collected goes).
pub fn forget(state: &mut SessionState, names: &[String], keys: &[String]) {
    for c in state
        .contexts
        .iter_mut()
        .filter(|c| names.contains(&c.name))
    {
        for k in keys {
            c.parameters.remove(k);
        }
    }
    state
        .contexts
        .retain(|c| !(names.contains(&c.name) && c.parameters.is_empty()));
}

/// The active context names once [`forget`] has run with `names` and `keys`, without running it.
pub fn active_after_forget(
    state: &SessionState,
    names: &[String],
    keys: &[String],
) -> HashSet<String> {
    state
        .contexts
        .iter()
        .filter(|c| c.lifespan > 0)
        .filter(|c| !(names.contains(&c.name) && c.parameters.keys().all(|k| keys.contains(k))))
        .map(|c| c.name.clone())
        .collect()
}

/// One conversational turn passes: every context loses one unit of lifespan.
pub fn age(state: &mut SessionState) {
    for c in &mut state.contexts {
        c.lifespan = c.lifespan.saturating_sub(1);
    }
    state.contexts.retain(|c| c.lifespan > 0);
}

/// Applies webhook `outputContexts` (missing lifespan = 5, DF's default); parameters merge.
pub fn apply_wire(state: &mut SessionState, wire: &[WireContext]) {
    for w in wire {
        let lifespan = w.lifespan_count.unwrap_or(5).clamp(0, 10_000) as u32;
        merge(
            state,
            &w.name,
            lifespan,
            w.parameters.clone().unwrap_or_default(),
            false,
        );
    }
}

/// The session's contexts as DF `outputContexts` JSON.
pub fn to_wire(state: &SessionState, session: &str) -> Vec<Value> {
    state
        .contexts
        .iter()
        .map(|c| {
            let mut o = Map::new();
            o.insert(
                "name".into(),
                json!(format!("{session}/contexts/{}", c.name)),
            );
            o.insert("lifespanCount".into(), json!(c.lifespan));
            if !c.parameters.is_empty() {
                o.insert("parameters".into(), Value::Object(c.parameters.clone()));
            }
            Value::Object(o)
        })
        .collect()
}

/// (name, parameters) of every context, for template rendering.
pub fn view(state: &SessionState) -> Vec<(&str, &Map<String, Value>)> {
    state
        .contexts
        .iter()
        .map(|c| (c.name.as_str(), &c.parameters))
        .collect()
}
