//! Dialogflow response templates: `$param`, `$param.original`, `$param.field`, `#context.param`,
//! `$session.params.name`. Unknown references render as empty text, as Dialogflow does.

use serde_json::{Map, Value};

/// What a template can refer to.
pub struct TemplateEnv<'a> {
    pub params: &'a Map<String, Value>,
    pub originals: &'a Map<String, Value>,
    /// Active contexts: (short name, parameters).
    pub contexts: &'a [(&'a str, &'a Map<String, Value>)],
    pub session_params: &'a Map<String, Value>,
}

fn is_name_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_' || c == '-'
}

/// Reads a name starting at `i`; returns (name, end).
fn read_name(s: &str, i: usize) -> (&str, usize) {
    let end = s[i..]
        .char_indices()
        .find(|&(_, c)| !is_name_char(c))
        .map_or(s.len(), |(k, _)| i + k);
    // A trailing '-' is punctuation ("$color -bellied" keeps working, "$x-" ends the name before '-').
    let trimmed = s[i..end].trim_end_matches('-');
    (trimmed, i + trimmed.len())
}

/// Reads `.field` after a reference if it names something; returns (field, end).
fn read_field(s: &str, i: usize) -> Option<(&str, usize)> {
    let rest = s.get(i..)?;
    if !rest.starts_with('.') {
        return None;
    }
    let (f, end) = read_name(s, i + 1);
    (!f.is_empty() && f.chars().next().is_some_and(char::is_alphabetic)).then_some((f, end))
}

pub fn render(template: &str, env: &TemplateEnv) -> String {
    render_inner(template, env, None)
}

/// `template` with every reference, whatever it names, read as `word` (for synthesising the
/// fixed parts of a response ahead of time).
pub fn references_filled(template: &str, word: &str) -> String {
    let empty = Map::new();
    let env = TemplateEnv {
        params: &empty,
        originals: &empty,
        contexts: &[],
        session_params: &empty,
    };
    render_inner(template, &env, Some(word))
}

fn render_inner(template: &str, env: &TemplateEnv, fill: Option<&str>) -> String {
    let mut out = String::with_capacity(template.len() + 16);
    let mut i = 0;
    while i < template.len() {
        let Some(c) = template[i..].chars().next() else {
            break;
        };
        if c == '$' || c == '#' {
            let (name, after) = read_name(template, i + 1);
            if name.starts_with(|c: char| c.is_alphabetic() || c == '_') {
                if let Some((text, end)) = resolve(template, c, name, after, env) {
                    out.push_str(fill.unwrap_or(&text));
                    i = end;
                    continue;
                }
            }
        }
        out.push(c);
        i += c.len_utf8();
    }
    out
}

fn resolve(
    s: &str,
    sigil: char,
    name: &str,
    after: usize,
    env: &TemplateEnv,
) -> Option<(String, usize)> {
    if sigil == '#' {
        // #context.param
        let (param, end) = read_field(s, after)?;
        let ctx = env
            .contexts
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name));
        let text = ctx
            .and_then(|(_, p)| p.get(param))
            .map(value_text)
            .unwrap_or_default();
        // #context.param.original
        if let Some(("original", end2)) = read_field(s, end) {
            let key = format!("{param}.original");
            let t = ctx
                .and_then(|(_, p)| p.get(&key))
                .map(value_text)
                .unwrap_or(text);
            return Some((t, end2));
        }
        return Some((text, end));
    }
    if name == "session" {
        if let Some(("params", end)) = read_field(s, after) {
            if let Some((p, end2)) = read_field(s, end) {
                return Some((
                    env.session_params
                        .get(p)
                        .map(value_text)
                        .unwrap_or_default(),
                    end2,
                ));
            }
        }
    }
    let value = env.params.get(name);
    if let Some((field, end)) = read_field(s, after) {
        if field == "original" {
            let t = env
                .originals
                .get(name)
                .map(value_text)
                .or_else(|| value.map(value_text))
                .unwrap_or_default();
            return Some((t, end));
        }
        if let Some(v) = value.and_then(|v| v.get(field)) {
            return Some((value_text(v), end));
        }
    }
    Some((value.map(value_text).unwrap_or_default(), after))
}

/// How a parameter value reads in text.
pub fn value_text(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => match n.as_f64() {
            Some(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", f as i64),
            _ => n.to_string(),
        },
        Value::Array(a) => a.iter().map(value_text).collect::<Vec<_>>().join(", "),
        Value::Object(o) => {
            if let Some(n) = o.get("name") {
                value_text(n)
            } else if let (Some(a), Some(u)) = (o.get("amount"), o.get("unit")) {
                format!("{} {}", value_text(a), value_text(u))
            } else if o.len() == 1 {
                o.values().next().map(value_text).unwrap_or_default()
            } else if let (Some(s), Some(e)) = (
                o.get("startDateTime")
                    .or_else(|| o.get("startDate"))
                    .or_else(|| o.get("startTime")),
                o.get("endDateTime")
                    .or_else(|| o.get("endDate"))
                    .or_else(|| o.get("endTime")),
            ) {
                format!("{} to {}", value_text(s), value_text(e))
            } else {
                Value::Object(o.clone()).to_string()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn obj(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap()
    }

    #[test]
    fn every_reference_can_read_as_one_word() {
        assert_eq!(
            references_filled(
                "For $person.original at $time on #booking.date. Costs $5.",
                "that"
            ),
            "For that at that on that. Costs $5."
        );
    }

    #[test]
    fn renders_all_reference_forms() {
        let params = obj(
            json!({"person": {"name": "Tanya"}, "time": "2022-01-09T10:00:00+00:00", "n": 4.0, "geo-country": "France", "dur": {"amount": 10, "unit": "min"}}),
        );
        let originals = obj(json!({"time": "10:00 am"}));
        let ctxp = obj(json!({"date": "2022-01-10T12:00:00+00:00", "date.original": "tomorrow"}));
        let sp = obj(json!({"caller": "+15550001111"}));
        let contexts = [("makeappointment-followup", &ctxp)];
        let env = TemplateEnv {
            params: &params,
            originals: &originals,
            contexts: &contexts,
            session_params: &sp,
        };
        assert_eq!(
            render("Table booked for $person at $time.original.", &env),
            "Table booked for Tanya at 10:00 am."
        );
        assert_eq!(
            render("$person.name has $n guests; $geo-country", &env),
            "Tanya has 4 guests; France"
        );
        assert_eq!(
            render(
                "on #MakeAppointment-followup.date (#makeappointment-followup.date.original)",
                &env
            ),
            "on 2022-01-10T12:00:00+00:00 (tomorrow)"
        );
        assert_eq!(
            render("call $session.params.caller", &env),
            "call +15550001111"
        );
        assert_eq!(render("$missing! costs $5 #", &env), "! costs $5 #");
        assert_eq!(render("in $dur", &env), "in 10 min");
        assert_eq!(render("$time.", &env), "2022-01-09T10:00:00+00:00.");
    }
}
