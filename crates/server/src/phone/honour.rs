//! Which `<Config>` values a call can have on this server: each is honoured, or refused with a
//! reason (the session then fails at once with it, see `super::params`), never silently taken.
//!
//! * `language`: a language of the connector's agent export (its default one or one of its
//!   `supportedLanguages`; primary subtags compared: `en-US` suits an `en` agent), which then
//!   understands and answers the call; speech stays English (see [`speech_speaks`]);
//! * `voiceName` and `speechModel`: see [`super::choices`];
//! * `speechModelVariant`: Dialogflow's variants but `USE_ENHANCED` (there is no enhanced model);
//! * `voiceModel`: refused (no custom voice models).

/// The agent language a call's `language` selects among `languages` (tag, engine): the same
/// tag (any case), else the same primary subtag (`en-US` → `en`, `es` → `es-419`).
pub fn pick_language<'a, T>(value: &str, languages: &'a [(String, T)]) -> Option<&'a (String, T)> {
    languages
        .iter()
        .find(|(l, _)| l.eq_ignore_ascii_case(value))
        .or_else(|| languages.iter().find(|(l, _)| primary(l) == primary(value)))
}

/// Whether speech for `language` has its own models: the recogniser (`whisper-tiny.en`) and
/// the voices are English only.
pub fn speech_speaks(language: &str) -> bool {
    primary(language) == "en"
}

fn primary(tag: &str) -> String {
    tag.split(['-', '_'])
        .next()
        .unwrap_or("")
        .to_ascii_lowercase()
}

/// `Err(reason)` when `name` = `value` cannot be honoured for a call whose agent speaks
/// `agent_languages` (`voiceName` and `speechModel` are checked against `super::choices`).
pub fn check(name: &str, value: &str, agent_languages: &[String]) -> Result<(), String> {
    match name {
        "language" => {
            let tags: Vec<(String, ())> = agent_languages.iter().map(|l| (l.clone(), ())).collect();
            if pick_language(value, &tags).is_some() {
                Ok(())
            } else {
                Err(format!(
                    "language `{value}` is not a language of the agent (languages: {})",
                    agent_languages.join(", ")
                ))
            }
        }
        "speechModelVariant" => match value.to_ascii_uppercase().as_str() {
            "SPEECH_MODEL_VARIANT_UNSPECIFIED" | "USE_BEST_AVAILABLE" | "USE_STANDARD" => Ok(()),
            _ => Err(format!(
                "speechModelVariant `{value}` is not available (only the standard model is)"
            )),
        },
        "voiceModel" => Err(format!(
            "voiceModel `{value}` is not available (no custom voice models)"
        )),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn honoured_or_refused() {
        let en = ["en".to_string()];
        assert!(check("language", "en-US", &en).is_ok());
        assert_eq!(
            check("language", "es-es", &en).unwrap_err(),
            "language `es-es` is not a language of the agent (languages: en)"
        );
        let both = ["en".to_string(), "es".to_string()];
        assert!(check("language", "es-ES", &both).is_ok());
        let tags = [
            ("en".to_string(), 1),
            ("es-419".to_string(), 2),
            ("es".to_string(), 3),
        ];
        assert_eq!(pick_language("ES", &tags).map(|t| t.1), Some(3));
        assert_eq!(pick_language("es-MX", &tags).map(|t| t.1), Some(2));
        assert_eq!(pick_language("en-GB", &tags).map(|t| t.1), Some(1));
        assert!(pick_language("fr", &tags).is_none());
        assert!(speech_speaks("en-US") && !speech_speaks("es"));
        assert!(check("speechModelVariant", "USE_BEST_AVAILABLE", &en).is_ok());
        assert!(check("speechModelVariant", "USE_ENHANCED", &en).is_err());
        assert!(check("voiceModel", "my-voice", &en).is_err());
    }
}
