//! Dialogflow ES export import: a ZIP or a folder holding `agent.json`, `intents/` and `entities/`.
//! Both the split layout (`X_usersays_en.json`, `X_entries_en.json`) and the older embedded layout
//! (`userSays`, `entries`) are read. Errors name the file and the field.

mod files;
mod raw;

use crate::agent::*;
use crate::NluError;
use files::Files;
use raw::{RawAgent, RawEntity, RawEntry, RawIntent, RawPhrase};
use std::collections::BTreeMap;
use std::path::Path;

/// Largest agent file we accept (a whole export is bounded in `files`).
pub const MAX_FILE_BYTES: usize = 32 * 1024 * 1024;

/// Loads an agent from a folder or a `.zip` export.
pub fn load(path: &Path) -> Result<Agent, NluError> {
    let files = Files::open(path)?;
    let fallback_name = path
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or("agent")
        .to_string();
    from_files(&files, &fallback_name)
}

/// Loads an agent from a folder or a `.zip` export in `language` (one of [`languages`]): its
/// training phrases, entity entries, responses and prompts in that language. `None`: the
/// export's default language, as [`load`].
pub fn load_language(path: &Path, language: Option<&str>) -> Result<Agent, NluError> {
    let files = Files::open(path)?;
    let fallback_name = path
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or("agent")
        .to_string();
    from_files_in(&files, &fallback_name, language)
}

/// The languages of an export: its default one first, then its `supportedLanguages`.
pub fn languages(path: &Path) -> Result<Vec<String>, NluError> {
    let raw: RawAgent = Files::open(path)?.json("agent.json")?;
    let mut out = vec![raw.language.clone().unwrap_or_else(|| "en".into())];
    for l in raw.supported_languages {
        if !out.iter().any(|o| o.eq_ignore_ascii_case(&l)) {
            out.push(l);
        }
    }
    Ok(out)
}

/// Loads an agent from a ZIP export held in memory (an upload); `name` is the agent's name when
/// `agent.json` has none.
pub fn load_zip_bytes(bytes: &[u8], name: &str) -> Result<Agent, NluError> {
    from_files(&Files::from_zip_bytes(bytes, name)?, name)
}

/// Loads an agent from the files of an export keyed by path (`agent.json`, `intents/X.json`, …),
/// as [`load`] reads them from a folder.
pub fn load_files(files: BTreeMap<String, Vec<u8>>, name: &str) -> Result<Agent, NluError> {
    from_files(&Files::from_map(files, name)?, name)
}

fn from_files(files: &Files, fallback_name: &str) -> Result<Agent, NluError> {
    from_files_in(files, fallback_name, None)
}

fn from_files_in(
    files: &Files,
    fallback_name: &str,
    language: Option<&str>,
) -> Result<Agent, NluError> {
    let raw_agent: RawAgent = files.json("agent.json")?;
    let default = raw_agent.language.clone().unwrap_or_else(|| "en".into());
    let language = match language {
        None => default,
        Some(l) if l.eq_ignore_ascii_case(&default) => default,
        Some(l) => match raw_agent
            .supported_languages
            .iter()
            .find(|s| s.eq_ignore_ascii_case(l))
        {
            Some(s) => s.clone(),
            None => {
                return Err(NluError::field(
                    "agent.json",
                    "supportedLanguages",
                    format!("the agent has no language `{l}`"),
                ))
            }
        },
    };
    let time_zone = raw_agent
        .default_timezone
        .clone()
        .unwrap_or_else(|| "UTC".into());
    if time_zone.parse::<chrono_tz::Tz>().is_err() {
        return Err(NluError::field(
            "agent.json",
            "defaultTimezone",
            format!("unknown time zone `{time_zone}`"),
        ));
    }
    let webhook = raw_agent.webhook_config();
    let end_ids = raw_agent.end_intent_ids();

    let mut intents = Vec::new();
    for name in files.list("intents/") {
        if is_lang_file(&name, "_usersays_") {
            continue;
        }
        let raw: RawIntent = files.json(&name)?;
        let stem = name
            .trim_start_matches("intents/")
            .trim_end_matches(".json");
        let usersays_name = format!("intents/{stem}_usersays_{language}.json");
        let phrases: Vec<RawPhrase> = if files.exists(&usersays_name) {
            files.json(&usersays_name)?
        } else {
            raw.user_says.clone().unwrap_or_default()
        };
        intents.push(raw.into_intent(&name, &language, phrases, &end_ids)?);
    }
    if intents.is_empty() {
        return Err(NluError::import("intents/", "the export has no intents"));
    }

    let mut entities = Vec::new();
    for name in files.list("entities/") {
        if is_lang_file(&name, "_entries_") {
            continue;
        }
        let raw: RawEntity = files.json(&name)?;
        let stem = name
            .trim_start_matches("entities/")
            .trim_end_matches(".json");
        let entries_name = format!("entities/{stem}_entries_{language}.json");
        let entries: Vec<RawEntry> = if files.exists(&entries_name) {
            files.json(&entries_name)?
        } else {
            raw.entries.clone().unwrap_or_default()
        };
        entities.push(raw.into_entity(&name, entries)?);
    }

    let agent = Agent {
        name: raw_agent
            .display_name
            .clone()
            .unwrap_or_else(|| fallback_name.to_string()),
        project: raw_agent.project(),
        language,
        time_zone,
        ml_min_confidence: raw_agent.ml_min_confidence.unwrap_or(0.3).clamp(0.0, 1.0) as f32,
        analyze_query_text_sentiment: raw_agent.analyze_query_text_sentiment.unwrap_or(false),
        confirm_below: raw_agent
            .switchboard
            .as_ref()
            .and_then(|s| s.confirm_below_confidence)
            .filter(|c| c.is_finite())
            .map(|c| c.clamp(0.0, 1.0) as f32),
        webhook,
        intents,
        entities,
    };
    validate(&agent)?;
    Ok(agent)
}

fn is_lang_file(name: &str, marker: &str) -> bool {
    name.rsplit('/')
        .next()
        .is_some_and(|base| base.contains(marker))
}

/// Cross-file checks: parameters naming developer entities that don't exist, duplicate ids.
fn validate(agent: &Agent) -> Result<(), NluError> {
    let mut ids = BTreeMap::new();
    for intent in &agent.intents {
        if let Some(prev) = ids.insert(intent.id.clone(), intent.name.clone()) {
            return Err(NluError::field(
                format!("intents/{}.json", intent.name),
                "id",
                format!("duplicate intent id {} (also used by `{prev}`)", intent.id),
            ));
        }
        for p in &intent.parameters {
            let t = p.data_type.trim_start_matches('@');
            if p.data_type.starts_with('@') && !t.starts_with("sys.") && agent.entity(t).is_none() {
                return Err(NluError::field(
                    format!("intents/{}.json", intent.name),
                    format!("parameters[{}].dataType", p.name),
                    format!("entity `{}` is not defined in entities/", p.data_type),
                ));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests;
