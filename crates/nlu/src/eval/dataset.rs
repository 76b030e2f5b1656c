//! Reader of the Snips-2017 benchmark files: `<dir>/<Intent>/{train,validate}_<Intent>.json`,
//! each `{"<Intent>": [{"data": [{"text": ..}, {"text": .., "entity": "slot"}, ..]}, ..]}`.

use std::path::Path;

use serde_json::Value;

use crate::tagger::SlotSpan;
use crate::NluError;

/// One query: its text and slot spans (byte offsets, surrounding whitespace trimmed).
#[derive(Debug, Clone, PartialEq)]
pub struct Query {
    pub text: String,
    pub spans: Vec<SlotSpan>,
}

/// Intents (sorted by name) with their train and validation queries.
#[derive(Debug, Clone)]
pub struct Dataset {
    pub intents: Vec<(String, Vec<Query>, Vec<Query>)>,
}

fn read_text(path: &Path) -> Result<String, NluError> {
    let bytes = std::fs::read(path).map_err(|source| NluError::Io {
        path: path.display().to_string(),
        source,
    })?;
    Ok(match String::from_utf8(bytes) {
        Ok(s) => s,
        // Latin-1: every byte is the code point of the same value.
        Err(e) => e.into_bytes().iter().map(|&b| b as char).collect(),
    })
}

/// Parses one benchmark file.
pub fn parse_file(json: &str, intent: &str, file: &str) -> Result<Vec<Query>, NluError> {
    let v: Value = serde_json::from_str(json).map_err(|e| NluError::import(file, e.to_string()))?;
    let list = v
        .get(intent)
        .and_then(Value::as_array)
        .ok_or_else(|| NluError::field(file, intent, "missing or not an array"))?;
    let mut out = Vec::with_capacity(list.len());
    for (i, q) in list.iter().enumerate() {
        let chunks = q.get("data").and_then(Value::as_array).ok_or_else(|| {
            NluError::field(
                file,
                format!("{intent}[{i}].data"),
                "missing or not an array",
            )
        })?;
        let mut text = String::new();
        let mut spans = Vec::new();
        for c in chunks {
            let t = c.get("text").and_then(Value::as_str).ok_or_else(|| {
                NluError::field(
                    file,
                    format!("{intent}[{i}].data.text"),
                    "missing or not a string",
                )
            })?;
            let start = text.len();
            text.push_str(t);
            if let Some(slot) = c.get("entity").and_then(Value::as_str) {
                let lead = t.len() - t.trim_start().len();
                let trimmed = t.trim();
                if !trimmed.is_empty() {
                    let s = start + lead;
                    spans.push(SlotSpan {
                        start: s,
                        end: s + trimmed.len(),
                        slot: slot.to_string(),
                    });
                }
            }
        }
        out.push(Query { text, spans });
    }
    Ok(out)
}

/// Loads every intent folder of `dir` that has both files.
pub fn load(dir: &Path) -> Result<Dataset, NluError> {
    let rd = std::fs::read_dir(dir).map_err(|source| NluError::Io {
        path: dir.display().to_string(),
        source,
    })?;
    let mut names: Vec<String> = rd
        .filter_map(Result::ok)
        .filter(|e| e.path().is_dir())
        .filter_map(|e| e.file_name().to_str().map(str::to_string))
        .collect();
    names.sort();
    let mut intents = Vec::new();
    for name in names {
        let train_path = dir.join(&name).join(format!("train_{name}.json"));
        let val_path = dir.join(&name).join(format!("validate_{name}.json"));
        if !train_path.is_file() || !val_path.is_file() {
            continue;
        }
        let train = parse_file(
            &read_text(&train_path)?,
            &name,
            &train_path.display().to_string(),
        )?;
        let val = parse_file(
            &read_text(&val_path)?,
            &name,
            &val_path.display().to_string(),
        )?;
        intents.push((name, train, val));
    }
    if intents.is_empty() {
        return Err(NluError::import(
            dir.display().to_string(),
            "no <Intent>/train_<Intent>.json files found",
        ));
    }
    Ok(Dataset { intents })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_chunks_into_text_and_trimmed_spans() {
        let json = r#"{"RateBook": [{"data": [{"text": "rate "}, {"text": "Dune ", "entity": "object_name"},
            {"text": "five", "entity": "rating_value"}, {"text": " stars"}]}]}"#;
        let q = parse_file(json, "RateBook", "x.json").unwrap();
        assert_eq!(q[0].text, "rate Dune five stars");
        assert_eq!(
            q[0].spans,
            [
                SlotSpan {
                    start: 5,
                    end: 9,
                    slot: "object_name".into()
                },
                SlotSpan {
                    start: 10,
                    end: 14,
                    slot: "rating_value".into()
                },
            ]
        );
        assert!(parse_file(r#"{"RateBook": [{"dat": []}]}"#, "RateBook", "x.json").is_err());
        assert!(parse_file("not json", "RateBook", "x.json").is_err());
    }
}
