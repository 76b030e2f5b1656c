//! Parameter values: defaults (`#context.param`, literals), required-parameter checks, and the
//! parameter map as DF reports it (unfilled parameters as "" or []).

use super::types::SessionState;
use crate::agent::{Intent, Parameter};
use serde_json::{Map, Value};

pub fn is_empty(v: Option<&Value>) -> bool {
    match v {
        None | Some(Value::Null) => true,
        Some(Value::String(s)) => s.is_empty(),
        Some(Value::Array(a)) => a.is_empty(),
        Some(Value::Object(o)) => o.is_empty(),
        _ => false,
    }
}

/// Resolves `#ctx.param` / `$param` / literal references against contexts and event parameters.
fn reference(
    state: &SessionState,
    event: Option<(&str, &Map<String, Value>)>,
    r: &str,
) -> Option<Value> {
    let r = r.trim();
    if let Some(rest) = r.strip_prefix('#') {
        let (ctx, param) = rest.split_once('.')?;
        if let Some((ev, params)) = event {
            if ev.eq_ignore_ascii_case(ctx) {
                return params.get(param).cloned();
            }
        }
        let c = state
            .contexts
            .iter()
            .find(|c| c.name.eq_ignore_ascii_case(ctx))?;
        return c.parameters.get(param).cloned();
    }
    if r.starts_with('$') || r.is_empty() {
        return None;
    }
    Some(Value::String(r.to_string()))
}

/// Fills parameters that the query didn't give from their value/default references.
pub fn apply_defaults(
    intent: &Intent,
    state: &SessionState,
    event: Option<(&str, &Map<String, Value>)>,
    values: &mut Map<String, Value>,
) {
    for p in &intent.parameters {
        if !is_empty(values.get(&p.name)) {
            continue;
        }
        if let Some((_, params)) = event {
            // An event parameter fills the intent parameter of its name, or one whose value is `$it`.
            let named = p
                .value
                .trim()
                .strip_prefix('$')
                .filter(|n| !n.contains('.'));
            if let Some(v) = params
                .get(&p.name)
                .or_else(|| named.and_then(|n| params.get(n)))
            {
                values.insert(p.name.clone(), v.clone());
                continue;
            }
        }
        let from_value =
            reference(state, event, &p.value).filter(|_| p.value.trim_start().starts_with('#'));
        let v = from_value.or_else(|| {
            p.default_value
                .as_deref()
                .and_then(|d| reference(state, event, d))
        });
        if let Some(v) = v.filter(|v| !is_empty(Some(v))) {
            values.insert(p.name.clone(), v);
        }
    }
}

/// The first required parameter without a value.
pub fn first_missing<'a>(intent: &'a Intent, values: &Map<String, Value>) -> Option<&'a Parameter> {
    intent
        .parameters
        .iter()
        .find(|p| p.required && is_empty(values.get(&p.name)))
}

/// DF's `parameters` of a query result: every intent parameter, unfilled ones empty.
pub fn report(intent: &Intent, values: &Map<String, Value>) -> Map<String, Value> {
    let mut out = Map::new();
    for p in &intent.parameters {
        let v = values
            .get(&p.name)
            .cloned()
            .filter(|v| !v.is_null())
            .unwrap_or_else(|| {
                if p.is_list {
                    Value::Array(vec![])
                } else {
                    Value::String(String::new())
                }
            });
        out.insert(p.name.clone(), v);
    }
    out
}

/// Parameters stored in output contexts: values plus `name.original`.
pub fn context_params(
    intent: &Intent,
    values: &Map<String, Value>,
    originals: &Map<String, Value>,
) -> Map<String, Value> {
    let mut out = report(intent, values);
    for p in &intent.parameters {
        let orig = originals
            .get(&p.name)
            .cloned()
            .unwrap_or_else(|| Value::String(String::new()));
        out.insert(format!("{}.original", p.name), orig);
    }
    out
}
