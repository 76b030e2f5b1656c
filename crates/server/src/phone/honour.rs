//! Which `<Config>` values a call can have on this server: each is honoured, or refused with a
//! reason (the session then fails at once with it, see `super::params`), never silently taken.
//!
//! * `language`: a language of the connector's agent (primary subtags compared: `en-US` suits
//!   an `en` agent);
//! * `voiceName`: `default` or the connector's `voice`;
//! * `speechModel`: `default` or the configured recogniser's name ([`SPEECH_MODEL`]);
//! * `speechModelVariant`: Dialogflow's variants but `USE_ENHANCED` (there is no enhanced model);
//! * `voiceModel`: refused (no custom voice models).

use super::connectors::Connector;

/// The recogniser every call uses.
pub const SPEECH_MODEL: &str = "whisper-tiny.en";

fn primary(tag: &str) -> String {
    tag.split(['-', '_'])
        .next()
        .unwrap_or("")
        .to_ascii_lowercase()
}

/// `Err(reason)` when `name` = `value` cannot be honoured for a call on `connector`, whose agent
/// speaks `agent_languages`.
pub fn check(
    name: &str,
    value: &str,
    connector: &Connector,
    agent_languages: &[String],
) -> Result<(), String> {
    match name {
        "language" => {
            if agent_languages.iter().any(|l| primary(l) == primary(value)) {
                Ok(())
            } else {
                Err(format!(
                    "language `{value}` is not a language of the agent (languages: {})",
                    agent_languages.join(", ")
                ))
            }
        }
        "voiceName" => {
            let mut voices = vec!["default".to_string()];
            voices.extend(connector.voice.clone());
            if voices.iter().any(|v| v.eq_ignore_ascii_case(value)) {
                Ok(())
            } else {
                Err(format!(
                    "voiceName `{value}` is not installed (voices: {})",
                    voices.join(", ")
                ))
            }
        }
        "speechModel" => {
            if value.eq_ignore_ascii_case("default") || value.eq_ignore_ascii_case(SPEECH_MODEL) {
                Ok(())
            } else {
                Err(format!(
                    "speechModel `{value}` is not configured (models: default = {SPEECH_MODEL})"
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
        let c = Connector {
            voice: Some("en_US-lessac-medium".into()),
            ..Connector::default()
        };
        let en = ["en".to_string()];
        assert!(check("language", "en-US", &c, &en).is_ok());
        assert_eq!(
            check("language", "es-es", &c, &en).unwrap_err(),
            "language `es-es` is not a language of the agent (languages: en)"
        );
        assert!(check("voiceName", "en_US-lessac-medium", &c, &en).is_ok());
        assert!(check("voiceName", "default", &c, &en).is_ok());
        assert_eq!(
            check("voiceName", "en-US-Wavenet-C", &c, &en).unwrap_err(),
            "voiceName `en-US-Wavenet-C` is not installed (voices: default, en_US-lessac-medium)"
        );
        assert!(check("speechModel", "default", &c, &en).is_ok());
        assert!(check("speechModel", "phone_call", &c, &en).is_err());
        assert!(check("speechModelVariant", "USE_BEST_AVAILABLE", &c, &en).is_ok());
        assert!(check("speechModelVariant", "USE_ENHANCED", &c, &en).is_err());
        assert!(check("voiceModel", "my-voice", &c, &en).is_err());
    }
}
