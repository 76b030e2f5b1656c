//! What a call's stream parameters mean (Twilio `<Parameter>`s in `customParameters`, Vonage
//! NCCO websocket headers): the mirror of `<Connect><VirtualAgent>`'s attributes, `<Config>`s
//! and `<Parameter>`s. `docs/virtual-agent.md` has the table of every name.
//!
//! * attributes: `connector`, `statusCallback`, `statusCallbackMethod`, `action`, `method`,
//!   and `actionHop` (set by our TwiML: Twilio will request `/twilio/action` when the stream ends);
//! * `<Config>`: `config.NAME`, or a bare `NAME` of [`CONFIG_NAMES`]; an unknown `config.NAME`
//!   is refused (the call fails with the reason) and never becomes a session parameter;
//! * everything else is a session parameter (`$session.params.NAME`), caller identity included
//!   (Twilio `From`/`To`, Vonage `from`/`to`/`uuid`).

use std::collections::BTreeMap;

use serde_json::{Map, Value};

/// `<Config>` names of `<VirtualAgent>`, all understood (honoured or refused with a reason).
pub const CONFIG_NAMES: [&str; 9] = [
    "language",
    "sentimentAnalysis",
    "voiceName",
    "welcomeIntent",
    "voiceModel",
    "speechModel",
    "speechModelVariant",
    "resumeEndUserId",
    "resumeEventName",
];

/// Prefix that marks a `<Config>` among the stream parameters.
pub const CONFIG_PREFIX: &str = "config.";

/// Stream parameters that configure the call's routing (never session parameters).
pub const ATTRIBUTES: [&str; 6] = [
    "connector",
    "statusCallback",
    "statusCallbackMethod",
    "action",
    "method",
    ACTION_HOP,
];

/// Set by our TwiML (`<Connect action="…/twilio/action">`): the end of the call is answered
/// in that request, not by a REST call update.
pub const ACTION_HOP: &str = "actionHop";

/// How a callback URL is requested.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum HttpMethod {
    Get,
    #[default]
    Post,
}

impl HttpMethod {
    /// `GET` or `POST` (any case); `None` otherwise.
    pub fn parse(s: &str) -> Option<HttpMethod> {
        match s.trim().to_ascii_uppercase().as_str() {
            "GET" => Some(HttpMethod::Get),
            "POST" => Some(HttpMethod::Post),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            HttpMethod::Get => "GET",
            HttpMethod::Post => "POST",
        }
    }
}

/// Per-call overrides of the connector's callback URLs and methods.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Overrides {
    pub status_callback: Option<String>,
    pub status_callback_method: Option<HttpMethod>,
    pub action: Option<String>,
    pub action_method: Option<HttpMethod>,
}

/// A call's stream parameters, read.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct CallParams {
    /// Connector name (empty: the default connector).
    pub connector: String,
    pub overrides: Overrides,
    /// Twilio will request `/twilio/action` when the stream ends.
    pub action_hop: bool,
    /// `<Config>` values by name (names of [`CONFIG_NAMES`] only; empty values dropped).
    pub config: BTreeMap<String, String>,
    /// `$session.params`.
    pub session: Map<String, Value>,
    /// Why parameters were refused (unknown `<Config>`, bad URL or method).
    pub refused: Vec<String>,
}

fn is_http_url(u: &str) -> bool {
    reqwest::Url::parse(u).is_ok_and(|p| matches!(p.scheme(), "http" | "https"))
}

/// Reads the stream parameters of one call.
pub fn read(params: &BTreeMap<String, String>) -> CallParams {
    let mut out = CallParams::default();
    for (k, v) in params {
        let value = v.trim();
        if let Some(name) = k.strip_prefix(CONFIG_PREFIX) {
            config(&mut out, name, value);
            continue;
        }
        if CONFIG_NAMES.contains(&k.as_str()) {
            config(&mut out, k, value);
            continue;
        }
        match k.as_str() {
            "connector" => out.connector = value.to_string(),
            "statusCallback" | "action" if value.is_empty() => {}
            "statusCallback" | "action" if !is_http_url(value) => out
                .refused
                .push(format!("{k} `{value}` is not an absolute http(s) URL")),
            "statusCallback" => out.overrides.status_callback = Some(value.to_string()),
            "action" => out.overrides.action = Some(value.to_string()),
            "statusCallbackMethod" | "method" if value.is_empty() => {}
            "statusCallbackMethod" | "method" => match HttpMethod::parse(value) {
                Some(m) if k == "method" => out.overrides.action_method = Some(m),
                Some(m) => out.overrides.status_callback_method = Some(m),
                None => out
                    .refused
                    .push(format!("{k} `{value}` is not GET or POST")),
            },
            ACTION_HOP => out.action_hop = value == "1" || value.eq_ignore_ascii_case("true"),
            _ => {
                out.session.insert(k.clone(), Value::String(v.clone()));
            }
        }
    }
    out
}

/// Whether `name` configures the call (an attribute or a `<Config>`) rather than the session.
pub fn is_call_setting(name: &str) -> bool {
    (ATTRIBUTES.contains(&name) && name != ACTION_HOP)
        || name.starts_with(CONFIG_PREFIX)
        || CONFIG_NAMES.contains(&name)
}

/// The stream parameters our TwiML gives a call, from the TwiML request: its query (the
/// customer's `<VirtualAgent>` settings: `connector`/`connectorName`, `statusCallback`,
/// `statusCallbackMethod`, `action`, `method`, `config.NAME` or a bare `<Config>` name, and
/// session parameters) and Twilio's own fields (query or form) of which the caller's `From` and
/// `To` are kept. `connector` goes first, then `actionHop`, the attributes, `<Config>`s, the
/// caller and the session parameters.
pub fn twiml_parameters(
    connector: &str,
    query: &[(String, String)],
    twilio: &[(String, String)],
) -> Vec<(String, String)> {
    let mut attrs = Vec::new();
    let mut config = Vec::new();
    let mut session = Vec::new();
    for (k, v) in query {
        let k = k.as_str();
        if matches!(k, "connector" | "connectorName" | ACTION_HOP)
            || super::action::TWILIO_STANDARD_PARAMS.contains(&k)
        {
            continue;
        }
        let lower_prefix = k
            .get(..CONFIG_PREFIX.len())
            .filter(|p| p.eq_ignore_ascii_case(CONFIG_PREFIX));
        if lower_prefix.is_some() {
            config.push((
                format!("{CONFIG_PREFIX}{}", &k[CONFIG_PREFIX.len()..]),
                v.clone(),
            ));
        } else if CONFIG_NAMES.contains(&k) {
            config.push((format!("{CONFIG_PREFIX}{k}"), v.clone()));
        } else if ATTRIBUTES.contains(&k) {
            attrs.push((k.to_string(), v.clone()));
        } else {
            session.push((k.to_string(), v.clone()));
        }
    }
    let mut out = vec![
        ("connector".to_string(), connector.to_string()),
        (ACTION_HOP.to_string(), "1".to_string()),
    ];
    out.extend(attrs);
    out.extend(config);
    for name in ["From", "To"] {
        if let Some((_, v)) = twilio.iter().find(|(k, v)| k == name && !v.is_empty()) {
            out.push((name.to_string(), v.clone()));
        }
    }
    out.extend(session);
    out
}

fn config(out: &mut CallParams, name: &str, value: &str) {
    if !CONFIG_NAMES.contains(&name) {
        out.refused.push(format!(
            "unknown <Config> name `{name}` (known: {})",
            CONFIG_NAMES.join(", ")
        ));
    } else if !value.is_empty() {
        out.config.insert(name.to_string(), value.to_string());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(kv: &[(&str, &str)]) -> BTreeMap<String, String> {
        kv.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn names_sort_into_attributes_config_and_session() {
        let p = read(&map(&[
            ("connector", "sales"),
            ("statusCallback", "https://app/status"),
            ("statusCallbackMethod", "get"),
            ("action", "https://app/after"),
            ("method", "GET"),
            ("actionHop", "1"),
            ("config.language", "es"),
            ("welcomeIntent", "HELLO"),
            ("From", "+15550001"),
            ("member_id", "m-7"),
        ]));
        assert!(p.refused.is_empty(), "{:?}", p.refused);
        assert_eq!(p.connector, "sales");
        assert!(p.action_hop);
        assert_eq!(
            p.overrides,
            Overrides {
                status_callback: Some("https://app/status".into()),
                status_callback_method: Some(HttpMethod::Get),
                action: Some("https://app/after".into()),
                action_method: Some(HttpMethod::Get),
            }
        );
        assert_eq!(
            p.config,
            map(&[("language", "es"), ("welcomeIntent", "HELLO")])
        );
        assert_eq!(
            Value::Object(p.session),
            serde_json::json!({"From": "+15550001", "member_id": "m-7"})
        );
    }

    #[test]
    fn unknown_config_and_bad_values_are_refused_not_leaked() {
        let p = read(&map(&[
            ("config.voiceSpeed", "2"),
            ("statusCallback", "ftp://x"),
            ("method", "PUT"),
        ]));
        assert!(p.session.is_empty());
        assert!(p.config.is_empty());
        assert_eq!(p.refused.len(), 3, "{:?}", p.refused);
        assert!(
            p.refused[0].starts_with("unknown <Config> name `voiceSpeed` (known: language,"),
            "{:?}",
            p.refused
        );
        assert!(p.refused[1].starts_with("method `PUT`"));
        assert!(p.refused[2].contains("statusCallback `ftp://x`"));
    }
}
