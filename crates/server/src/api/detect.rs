//! `detectIntent`: the DF v2 REST request body → a validated [`TurnInput`].

use super::error::ApiError;
use crate::config::{MAX_QUERY_CHARS, MAX_SESSION_ID_CHARS};
use crate::turn::TurnInput;
use sb_nlu::dialog::{ActiveContext, QueryInput, QueryParams};
use serde::Deserialize;
use serde_json::{Map, Value};

// Proto3 JSON accepts both lowerCamelCase and the original snake_case names; unknown fields are ignored.

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct DetectIntentBody {
    #[serde(default, alias = "query_input")]
    query_input: Option<QueryInputJson>,
    #[serde(default, alias = "query_params")]
    query_params: Option<QueryParamsJson>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct QueryInputJson {
    #[serde(default)]
    text: Option<TextInputJson>,
    #[serde(default)]
    event: Option<EventInputJson>,
    #[serde(default, alias = "audio_config")]
    audio_config: Option<Value>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct TextInputJson {
    #[serde(default)]
    text: Option<String>,
    #[serde(default, alias = "language_code")]
    language_code: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct EventInputJson {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    parameters: Option<Map<String, Value>>,
    #[serde(default, alias = "language_code")]
    language_code: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct QueryParamsJson {
    #[serde(default, alias = "time_zone")]
    time_zone: Option<String>,
    #[serde(default)]
    contexts: Option<Vec<ContextJson>>,
    #[serde(default, alias = "reset_contexts")]
    reset_contexts: Option<bool>,
    #[serde(default)]
    payload: Option<Map<String, Value>>,
    #[serde(default, alias = "sentiment_analysis_request_config")]
    sentiment_analysis_request_config: Option<SentimentConfigJson>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ContextJson {
    #[serde(default)]
    name: Option<String>,
    #[serde(default, alias = "lifespan_count")]
    lifespan_count: Option<i64>,
    #[serde(default)]
    parameters: Option<Map<String, Value>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct SentimentConfigJson {
    #[serde(default, alias = "analyze_query_text_sentiment")]
    analyze_query_text_sentiment: Option<bool>,
}

/// Characters of an id besides ASCII letters and digits. Dialogflow's ids are URL path
/// segments of a resource name: no `/`, no `:` (it starts the method, `:detectIntent`), no
/// `%`, spaces or other characters that need escaping, and not `.` or `..`.
const ID_PUNCTUATION: &str = "-_.~@+=,";

/// Checks one path segment (project, environment, user, session id). Longer ids than
/// Dialogflow's documented 36 characters are accepted: real clients send them.
pub fn check_segment(what: &str, value: &str, max: usize) -> Result<(), ApiError> {
    if value.is_empty() {
        return Err(ApiError::invalid(format!(
            "The {what} id must not be empty."
        )));
    }
    if value.chars().count() > max {
        return Err(ApiError::invalid(format!(
            "The {what} id exceeds the maximum length of {max} characters."
        )));
    }
    if !value
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || ID_PUNCTUATION.contains(c))
        || value.chars().all(|c| c == '.')
    {
        return Err(ApiError::invalid(format!(
            "The {what} id contains invalid characters."
        )));
    }
    Ok(())
}

/// Splits `ID:detectIntent` (the tail of the URL) into the session id, validating it.
pub fn parse_session_tail(rest: &str) -> Result<String, ApiError> {
    let Some((id, method)) = rest.rsplit_once(':') else {
        return Err(ApiError::not_found(format!("Method not found: {rest}")));
    };
    if method != "detectIntent" {
        return Err(ApiError::not_found(format!("Method not found: {method}")));
    }
    check_segment("session", id, MAX_SESSION_ID_CHARS)?;
    Ok(id.to_string())
}

/// The short, lower-cased name of a context given as a name or a full path `…/contexts/NAME`.
fn context_name(name: &str) -> Result<String, ApiError> {
    let short = name.rsplit_once("/contexts/").map_or(name, |(_, n)| n);
    if short.is_empty() || short.len() > 250 || short.chars().any(|c| c.is_control() || c == '/') {
        return Err(ApiError::invalid(format!(
            "Invalid context name: '{name}'."
        )));
    }
    Ok(short.to_lowercase())
}

/// Parses and validates a detectIntent body.
pub fn parse_body(
    bytes: &[u8],
    session: String,
    default_language: &str,
) -> Result<TurnInput, ApiError> {
    let body: DetectIntentBody = serde_json::from_slice(bytes)
        .map_err(|e| ApiError::invalid(format!("Invalid JSON payload received. {e}")))?;
    let qi = body
        .query_input
        .ok_or_else(|| ApiError::invalid("Field 'queryInput' is required."))?;
    let lang = |l: Option<String>| -> Result<String, ApiError> {
        match l {
            None => Ok(default_language.to_string()),
            Some(l) if l.trim().is_empty() => Ok(default_language.to_string()),
            Some(l)
                if l.len() <= 35
                    && l.chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') =>
            {
                Ok(l)
            }
            Some(l) => Err(ApiError::invalid(format!("Invalid language code: '{l}'."))),
        }
    };
    let input = match (qi.text, qi.event, qi.audio_config) {
        (Some(_), Some(_), _) => {
            return Err(ApiError::invalid(
                "Only one of 'queryInput.text' and 'queryInput.event' may be set.",
            ))
        }
        (Some(t), None, _) => {
            let text = t.text.unwrap_or_default();
            if text.trim().is_empty() {
                return Err(ApiError::invalid("Input text not set."));
            }
            let n = text.chars().count();
            if n > MAX_QUERY_CHARS {
                return Err(ApiError::invalid(format!(
                    "Input text exceeds the maximum length of {MAX_QUERY_CHARS} characters (got {n})."
                )));
            }
            QueryInput::Text {
                text,
                language_code: lang(t.language_code)?,
            }
        }
        (None, Some(e), _) => {
            let name = e.name.unwrap_or_default();
            if name.trim().is_empty() {
                return Err(ApiError::invalid("Event name not set."));
            }
            if name.len() > 150 || name.chars().any(|c| c.is_control()) {
                return Err(ApiError::invalid(format!("Invalid event name: '{name}'.")));
            }
            QueryInput::Event {
                name,
                parameters: e.parameters.unwrap_or_default(),
                language_code: lang(e.language_code)?,
            }
        }
        (None, None, Some(_)) => {
            return Err(ApiError::invalid(
                "Audio input is not supported by this endpoint; send 'queryInput.text'.",
            ))
        }
        (None, None, None) => {
            return Err(ApiError::invalid(
                "Field 'queryInput' must contain 'text' or 'event'.",
            ));
        }
    };
    let qp = body.query_params.unwrap_or_default();
    if let Some(tz) = &qp.time_zone {
        if tz.parse::<chrono_tz::Tz>().is_err() {
            return Err(ApiError::invalid(format!("Invalid time zone: '{tz}'.")));
        }
    }
    let mut contexts = Vec::new();
    for c in qp.contexts.unwrap_or_default() {
        let name = context_name(c.name.as_deref().unwrap_or_default())?;
        let lifespan = c.lifespan_count.unwrap_or(0);
        let lifespan = u32::try_from(lifespan).map_err(|_| {
            ApiError::invalid(format!(
                "Invalid lifespanCount {lifespan} for context '{name}'."
            ))
        })?;
        contexts.push(ActiveContext {
            name,
            lifespan,
            parameters: c.parameters.unwrap_or_default(),
        });
    }
    let params = QueryParams {
        time_zone: qp.time_zone.filter(|t| !t.is_empty()),
        contexts,
        reset_contexts: qp.reset_contexts.unwrap_or(false),
        payload: qp.payload.map(Value::Object),
        session_params: Map::new(),
    };
    let analyze = qp
        .sentiment_analysis_request_config
        .and_then(|c| c.analyze_query_text_sentiment)
        .unwrap_or(false);
    Ok(TurnInput {
        session,
        input,
        params,
        analyze_sentiment: analyze,
        source: "switchboard".into(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(body: &str) -> Result<TurnInput, ApiError> {
        parse_body(body.as_bytes(), "projects/p/agent/sessions/s".into(), "en")
    }

    #[test]
    fn text_and_params() {
        let t = parse(
            r#"{"queryInput":{"text":{"text":"hi","languageCode":"en-US"}},"queryParams":{"timeZone":"Europe/Paris",
            "contexts":[{"name":"projects/p/agent/sessions/s/contexts/Order-Followup","lifespanCount":3,"parameters":{"a":1}}],
            "resetContexts":true,"payload":{"x":"y"},"sentimentAnalysisRequestConfig":{"analyzeQueryTextSentiment":true},"unknown":1}}"#,
        );
        let Ok(t) = t else { panic!("{t:?}") };
        assert_eq!(
            t.input,
            QueryInput::Text {
                text: "hi".into(),
                language_code: "en-US".into()
            }
        );
        assert_eq!(t.params.time_zone.as_deref(), Some("Europe/Paris"));
        assert_eq!(t.params.contexts.len(), 1);
        assert_eq!(t.params.contexts[0].name, "order-followup");
        assert_eq!(t.params.contexts[0].lifespan, 3);
        assert!(t.params.reset_contexts);
        assert_eq!(t.params.payload, Some(serde_json::json!({"x":"y"})));
        assert!(t.analyze_sentiment);
    }

    #[test]
    fn snake_case_and_default_language() {
        let t = parse(r#"{"query_input":{"event":{"name":"WELCOME"}}}"#);
        let Ok(t) = t else { panic!("{t:?}") };
        assert_eq!(
            t.input,
            QueryInput::Event {
                name: "WELCOME".into(),
                parameters: Map::new(),
                language_code: "en".into()
            }
        );
    }

    #[test]
    fn errors() {
        let msg = |b: &str| parse(b).err().map(|e| e.message).unwrap_or_default();
        assert!(msg("{").starts_with("Invalid JSON payload received."));
        assert_eq!(msg("{}"), "Field 'queryInput' is required.");
        assert_eq!(
            msg(r#"{"queryInput":{"text":{"text":"  "}}}"#),
            "Input text not set."
        );
        assert!(msg(&format!(
            r#"{{"queryInput":{{"text":{{"text":"{}"}}}}}}"#,
            "a".repeat(257)
        ))
        .contains("256"));
        assert!(parse(&format!(
            r#"{{"queryInput":{{"text":{{"text":"{}"}}}}}}"#,
            "é".repeat(256)
        ))
        .is_ok());
        assert_eq!(
            msg(r#"{"queryInput":{"text":{"text":"hi"}},"queryParams":{"timeZone":"Mars/Base"}}"#),
            "Invalid time zone: 'Mars/Base'."
        );
        assert!(msg(r#"{"queryInput":{"text":{"text":"hi"}},"queryParams":{"contexts":[{"name":"c","lifespanCount":-1}]}}"#)
            .contains("lifespanCount"));
        assert!(
            msg(r#"{"queryInput":{"text":{"text":"hi"},"event":{"name":"E"}}}"#)
                .contains("Only one")
        );
    }

    #[test]
    fn session_tail() {
        assert_eq!(
            parse_session_tail("abc:detectIntent").ok().as_deref(),
            Some("abc")
        );
        assert_eq!(
            parse_session_tail("a:b:detectIntent")
                .err()
                .map(|e| e.status),
            Some("INVALID_ARGUMENT")
        );
        for bad in ["..", ".", "a b", "a%2Fb", "é", "a\\b", "a?b"] {
            assert!(
                parse_session_tail(&format!("{bad}:detectIntent")).is_err(),
                "{bad}"
            );
        }
        for ok in [
            "a.b",
            "...x",
            "user@example.com",
            "+15551234",
            "-",
            "a~b_c=d,e",
        ] {
            assert!(
                parse_session_tail(&format!("{ok}:detectIntent")).is_ok(),
                "{ok}"
            );
        }
        assert_eq!(
            parse_session_tail("abc").err().map(|e| e.status),
            Some("NOT_FOUND")
        );
        assert_eq!(
            parse_session_tail("abc:streamingDetectIntent")
                .err()
                .map(|e| e.status),
            Some("NOT_FOUND")
        );
        assert_eq!(
            parse_session_tail(":detectIntent").err().map(|e| e.status),
            Some("INVALID_ARGUMENT")
        );
        assert_eq!(
            parse_session_tail("a\u{1}b:detectIntent")
                .err()
                .map(|e| e.status),
            Some("INVALID_ARGUMENT")
        );
        assert!(parse_session_tail(&format!("{}:detectIntent", "x".repeat(512))).is_ok());
        assert!(parse_session_tail(&format!("{}:detectIntent", "x".repeat(513))).is_err());
        assert!(parse_session_tail("a/b:detectIntent").is_err());
    }
}
