//! Builds a Dialogflow ES export folder from annotated queries, the way a Dialogflow user would
//! enter the same data in the console: one intent per class with its training phrases (annotated
//! spans as `data` parts carrying `alias`, `meta` = `@<slot>`, `userDefined`), one developer entity
//! per slot name (`automatedExpansion: true`, one entry per distinct annotated value, the value its
//! own synonym), one parameter per slot an intent's phrases annotate (`isList` when a phrase
//! annotates the same slot twice), and a Default Fallback Intent.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde_json::{json, Value};

use super::dataset::Query;
use crate::NluError;

/// Settings of the built agent.
#[derive(Debug, Clone)]
pub struct ExportOptions {
    pub display_name: String,
    /// `agent.json` `mlMinConfidence` (Dialogflow's default is 0.3).
    pub ml_min_confidence: f64,
}

impl Default for ExportOptions {
    fn default() -> Self {
        ExportOptions {
            display_name: "eval-agent".into(),
            ml_min_confidence: 0.3,
        }
    }
}

/// Name of the fallback intent every built export has.
pub const FALLBACK_INTENT: &str = "Default Fallback Intent";

/// A stable UUID-shaped id for `key` (FNV-1a), so a rebuilt export is byte-identical.
fn stable_id(key: &str) -> String {
    let mut h: [u64; 2] = [0xcbf2_9ce4_8422_2325, 0x6c62_272e_07bb_0142];
    for (k, seed) in h.iter_mut().enumerate() {
        for b in key.bytes().chain(std::iter::once(k as u8)) {
            *seed ^= u64::from(b);
            *seed = seed.wrapping_mul(0x0100_0000_01b3);
        }
    }
    let hex = format!("{:016x}{:016x}", h[0], h[1]);
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

/// A file name Dialogflow would use for an intent or entity name (it keeps most characters but
/// never a path separator).
fn file_stem(name: &str) -> String {
    name.chars()
        .map(|c| {
            if matches!(c, '/' | '\\' | '\0') {
                '_'
            } else {
                c
            }
        })
        .collect()
}

/// Dialogflow entity names allow letters, digits, `_` and `-` only.
pub fn entity_name(slot: &str) -> String {
    let s: String = slot
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if s.is_empty() {
        "slot".into()
    } else {
        s
    }
}

/// The `data` parts of one phrase: plain text between the annotated spans.
fn phrase_parts(q: &Query) -> Vec<Value> {
    let mut parts = Vec::new();
    let mut at = 0;
    let mut spans: Vec<_> = q.spans.iter().collect();
    spans.sort_by_key(|s| s.start);
    for s in spans {
        let (Some(before), Some(value)) = (q.text.get(at..s.start), q.text.get(s.start..s.end))
        else {
            // Overlapping or misaligned span: keep the text, drop the annotation.
            continue;
        };
        if !before.is_empty() {
            parts.push(json!({"text": before, "userDefined": false}));
        }
        parts.push(json!({
            "text": value,
            "alias": s.slot,
            "meta": format!("@{}", entity_name(&s.slot)),
            "userDefined": true
        }));
        at = s.end;
    }
    if let Some(rest) = q.text.get(at..) {
        if !rest.is_empty() {
            parts.push(json!({"text": rest, "userDefined": false}));
        }
    }
    parts
}

fn write_json(dir: &Path, rel: &str, v: &Value) -> Result<(), NluError> {
    let path = dir.join(rel);
    let body = serde_json::to_string_pretty(v).map_err(|e| NluError::Other(e.to_string()))?;
    std::fs::write(&path, body).map_err(|source| NluError::Io {
        path: path.display().to_string(),
        source,
    })
}

fn intent_json(name: &str, params: &[Value], fallback: bool) -> Value {
    json!({
        "id": stable_id(&format!("intent:{name}")),
        "name": name,
        "auto": true,
        "contexts": [],
        "responses": [{
            "resetContexts": false,
            "action": if fallback { "input.unknown" } else { "" },
            "affectedContexts": [],
            "parameters": params,
            "messages": [{"type": 0, "lang": "en", "speech": []}],
            "defaultResponsePlatforms": {},
            "speech": []
        }],
        "priority": 500000,
        "webhookUsed": false,
        "webhookForSlotFilling": false,
        "fallbackIntent": fallback,
        "events": []
    })
}

/// Writes the export of `intents` (name, training queries) into `dir` (created if missing).
pub fn write_export(
    dir: &Path,
    intents: &[(String, Vec<Query>)],
    opts: &ExportOptions,
) -> Result<(), NluError> {
    for sub in ["intents", "entities"] {
        let p = dir.join(sub);
        std::fs::create_dir_all(&p).map_err(|source| NluError::Io {
            path: p.display().to_string(),
            source,
        })?;
    }
    write_json(
        dir,
        "agent.json",
        &json!({
            "displayName": opts.display_name,
            "language": "en",
            "defaultTimezone": "UTC",
            "mlMinConfidence": opts.ml_min_confidence,
            "customClassifierMode": "use.after",
            "supportedLanguages": [],
            "onePlatformApiVersion": "v2",
            "analyzeQueryTextSentiment": false,
            "webhook": {"available": false}
        }),
    )?;
    write_json(dir, "package.json", &json!({"version": "1.0.0"}))?;

    // slot → distinct annotated values, across every intent (entity types are agent-wide).
    let mut values: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (name, queries) in intents {
        if name == FALLBACK_INTENT {
            return Err(NluError::Other(format!(
                "intent name `{FALLBACK_INTENT}` is reserved"
            )));
        }
        // slot → is list
        let mut slots: BTreeMap<&str, bool> = BTreeMap::new();
        let mut usersays = Vec::new();
        for (k, q) in queries.iter().enumerate() {
            let mut seen = BTreeSet::new();
            for s in &q.spans {
                if let Some(v) = q.text.get(s.start..s.end) {
                    values
                        .entry(entity_name(&s.slot))
                        .or_default()
                        .insert(v.to_string());
                }
                let twice = !seen.insert(s.slot.as_str());
                *slots.entry(s.slot.as_str()).or_default() |= twice;
            }
            usersays.push(json!({
                "id": stable_id(&format!("phrase:{name}:{k}")),
                "data": phrase_parts(q),
                "isTemplate": false,
                "count": 0,
                "updated": 0
            }));
        }
        let params: Vec<Value> = slots
            .iter()
            .map(|(slot, is_list)| {
                json!({
                    "id": stable_id(&format!("param:{name}:{slot}")),
                    "required": false,
                    "dataType": format!("@{}", entity_name(slot)),
                    "name": slot,
                    "value": format!("${slot}"),
                    "prompts": [],
                    "promptMessages": [],
                    "noMatchPromptMessages": [],
                    "noInputPromptMessages": [],
                    "outputDialogContexts": [],
                    "isList": is_list
                })
            })
            .collect();
        let stem = file_stem(name);
        write_json(
            dir,
            &format!("intents/{stem}.json"),
            &intent_json(name, &params, false),
        )?;
        write_json(
            dir,
            &format!("intents/{stem}_usersays_en.json"),
            &Value::Array(usersays),
        )?;
    }
    write_json(
        dir,
        &format!("intents/{FALLBACK_INTENT}.json"),
        &intent_json(FALLBACK_INTENT, &[], true),
    )?;

    for (entity, vals) in &values {
        write_json(
            dir,
            &format!("entities/{entity}.json"),
            &json!({
                "id": stable_id(&format!("entity:{entity}")),
                "name": entity,
                "isOverridable": true,
                "isEnum": false,
                "isRegexp": false,
                "automatedExpansion": true,
                "allowFuzzyExtraction": false
            }),
        )?;
        let entries: Vec<Value> = vals
            .iter()
            .map(|v| json!({"value": v, "synonyms": [v]}))
            .collect();
        write_json(
            dir,
            &format!("entities/{entity}_entries_en.json"),
            &Value::Array(entries),
        )?;
    }
    Ok(())
}
