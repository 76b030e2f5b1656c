//! "Call" from the console: the customer and the agent's phone are called into one conference
//! named after the conversation.
//!
//! * Twilio: `POST {api_base}/2010-04-01/Accounts/{AccountSid}/Calls.json`, form-encoded, HTTP
//!   basic auth (AccountSid, AuthToken); `Twiml` = `<Say>` + `<Dial><Conference>`; with a public
//!   URL, status callbacks (`initiated ringing answered completed`) come back to
//!   `/console/twilio/status/{conversation}`, signed with `X-Twilio-Signature`.
//! * Vonage: `POST {api_base}/v1/calls` with an application JWT and an NCCO `talk` +
//!   `conversation`; events come back to `/console/vonage/event/{conversation}`.
//!
//! The customer is called first and waits (no start on enter); the agent's leg starts the
//! conference and ends it on leaving. Calls are never retried (a retry could ring twice).
//!
//! Configured by `[console]` in `switchboard.toml`:
//!
//! ```toml
//! [console]
//! provider = "twilio"                      # or "vonage"
//! from = "+15005550006"                    # caller id: a number of the account
//! public_url = "https://sb.example.com"    # where status callbacks reach this server
//! agent_phone = "+15005550001"             # for agents without their own (`users add --phone`)
//! default_country_code = "44"              # for numbers customers type without one
//! greeting = "Hello from the Demonstration Restaurant. Connecting you to our team."
//! [console.twilio]
//! account_sid = "AC…"
//! auth_token = "…"                         # or TWILIO_AUTH_TOKEN
//! api_base = "https://api.twilio.com"
//! [console.vonage]
//! application_id = "…"
//! private_key = "/etc/switchboard/vonage.key"
//! api_base = "https://api.nexmo.com"
//! ```

use super::model::PlacedCall;
use chrono::{DateTime, Utc};
use sb_transport::twiml::xml_escape;
use sb_transport::{TwilioCredentials, VonageJwtSigner};
use serde::Deserialize;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::time::Duration;

const DEFAULT_GREETING: &str = "Hello, this is a call about your chat with us. Please hold while \
we connect you to our team.";
const AGENT_GREETING: &str = "Connecting you to the customer from the console.";

#[derive(Debug, thiserror::Error)]
pub enum DialError {
    #[error("invalid [console] settings: {0}")]
    Config(String),
    #[error("`{0}` is not a phone number that can be called")]
    Number(String),
    #[error("the provider refused the {leg} call: HTTP {status}")]
    Rejected { leg: &'static str, status: u16 },
    #[error("the provider could not be reached for the {leg} call: {error}")]
    Unreachable { leg: &'static str, error: String },
    #[error("the provider's answer for the {leg} call has no call id")]
    Answer { leg: &'static str },
    #[error("signing the Vonage request: {0}")]
    Signing(String),
}

#[derive(Default, Deserialize)]
#[serde(default)]
struct File {
    console: Option<Settings>,
}

#[derive(Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    pub provider: Option<String>,
    pub from: Option<String>,
    pub public_url: Option<String>,
    pub agent_phone: Option<String>,
    pub default_country_code: Option<String>,
    pub greeting: Option<String>,
    pub twilio: TwilioSection,
    pub vonage: VonageSection,
}

#[derive(Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TwilioSection {
    pub account_sid: Option<String>,
    pub auth_token: Option<String>,
    pub api_base: Option<String>,
}

#[derive(Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct VonageSection {
    pub application_id: Option<String>,
    pub private_key: Option<PathBuf>,
    pub api_base: Option<String>,
}

enum Provider {
    Twilio {
        base: String,
        creds: TwilioCredentials,
    },
    Vonage {
        base: String,
        signer: Box<VonageJwtSigner>,
    },
}

pub struct Dialer {
    provider: Provider,
    from: String,
    public_url: Option<String>,
    agent_phone: Option<String>,
    country: Option<String>,
    greeting: String,
    client: reqwest::Client,
}

impl std::fmt::Debug for Dialer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Dialer")
            .field("provider", &self.provider_name())
            .field("from", &self.from)
            .field("public_url", &self.public_url)
            .finish()
    }
}

fn http_url(what: &str, u: &str) -> Result<String, DialError> {
    match reqwest::Url::parse(u) {
        Ok(p) if matches!(p.scheme(), "http" | "https") => Ok(u.trim_end_matches('/').to_string()),
        _ => Err(DialError::Config(format!("{what} must be an http(s) URL"))),
    }
}

/// The conference (Twilio) or conversation (Vonage) both legs join.
pub fn conference_name(conversation: &str) -> String {
    format!("switchboard-{conversation}")
}

/// E.164 (`+` and 8 to 15 digits) from what a customer typed: spaces, dots, dashes and brackets
/// dropped; `00` read as `+`; without a country code, `default_cc` replaces one leading 0.
pub fn normalize_number(raw: &str, default_cc: Option<&str>) -> Result<String, DialError> {
    let bad = || DialError::Number(raw.chars().take(40).collect());
    let t = raw.trim();
    if t.len() > 40 {
        return Err(bad());
    }
    let plus = t.starts_with('+');
    let mut digits = String::new();
    for c in t.chars().skip(usize::from(plus)) {
        match c {
            '0'..='9' => digits.push(c),
            ' ' | '-' | '.' | '(' | ')' => {}
            _ => return Err(bad()),
        }
    }
    let full = if plus {
        digits
    } else if let Some(rest) = digits.strip_prefix("00") {
        rest.to_string()
    } else {
        let cc = default_cc.ok_or_else(bad)?;
        format!("{cc}{}", digits.strip_prefix('0').unwrap_or(&digits))
    };
    if !(8..=15).contains(&full.len()) || full.starts_with('0') {
        return Err(bad());
    }
    Ok(format!("+{full}"))
}

impl Dialer {
    /// Reads `[console]` from the TOML file; `None` when the file has no such section.
    pub fn from_file(
        path: &Path,
        twilio_token_env: Option<String>,
    ) -> Result<Option<Dialer>, DialError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| DialError::Config(format!("cannot read {}: {e}", path.display())))?;
        let f: File = toml::from_str(&text).map_err(|e| DialError::Config(e.to_string()))?;
        match f.console {
            None => Ok(None),
            Some(s) => Dialer::new(s, twilio_token_env).map(Some),
        }
    }

    pub fn new(s: Settings, twilio_token_env: Option<String>) -> Result<Dialer, DialError> {
        let from = s
            .from
            .clone()
            .ok_or_else(|| DialError::Config("`from` (the caller id) is required".into()))?;
        let country = s.default_country_code.clone();
        if let Some(cc) = &country {
            if cc.is_empty() || cc.len() > 3 || !cc.chars().all(|c| c.is_ascii_digit()) {
                return Err(DialError::Config(
                    "default_country_code is 1 to 3 digits".into(),
                ));
            }
        }
        let from = normalize_number(&from, country.as_deref())?;
        let public_url = s
            .public_url
            .as_deref()
            .map(|u| http_url("public_url", u))
            .transpose()?;
        let agent_phone = s
            .agent_phone
            .as_deref()
            .map(|n| normalize_number(n, country.as_deref()))
            .transpose()?;
        let provider = match s.provider.as_deref().unwrap_or("twilio") {
            "twilio" => {
                let t = s.twilio;
                let account_sid = t.account_sid.ok_or_else(|| {
                    DialError::Config("console.twilio.account_sid is required".into())
                })?;
                let auth_token = twilio_token_env
                    .filter(|t| !t.is_empty())
                    .or(t.auth_token)
                    .ok_or_else(|| {
                        DialError::Config(
                            "console.twilio.auth_token (or TWILIO_AUTH_TOKEN) is required".into(),
                        )
                    })?;
                Provider::Twilio {
                    base: http_url(
                        "console.twilio.api_base",
                        t.api_base.as_deref().unwrap_or("https://api.twilio.com"),
                    )?,
                    creds: TwilioCredentials {
                        account_sid,
                        auth_token,
                    },
                }
            }
            "vonage" => {
                let v = s.vonage;
                let id = v.application_id.ok_or_else(|| {
                    DialError::Config("console.vonage.application_id is required".into())
                })?;
                let key_path = v.private_key.ok_or_else(|| {
                    DialError::Config("console.vonage.private_key is required".into())
                })?;
                let pem = std::fs::read_to_string(&key_path).map_err(|e| {
                    DialError::Config(format!("cannot read {}: {e}", key_path.display()))
                })?;
                let signer = VonageJwtSigner::new(&id, &pem)
                    .map_err(|e| DialError::Config(format!("the Vonage private key: {e}")))?;
                Provider::Vonage {
                    base: http_url(
                        "console.vonage.api_base",
                        v.api_base.as_deref().unwrap_or("https://api.nexmo.com"),
                    )?,
                    signer: Box::new(signer),
                }
            }
            other => {
                return Err(DialError::Config(format!(
                    "provider `{other}` (use twilio or vonage)"
                )))
            }
        };
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .map_err(|e| DialError::Config(e.to_string()))?;
        Ok(Dialer {
            provider,
            from,
            public_url,
            agent_phone,
            country,
            greeting: s.greeting.unwrap_or_else(|| DEFAULT_GREETING.into()),
            client,
        })
    }

    pub fn provider_name(&self) -> &'static str {
        match self.provider {
            Provider::Twilio { .. } => "twilio",
            Provider::Vonage { .. } => "vonage",
        }
    }

    pub fn agent_phone(&self) -> Option<&str> {
        self.agent_phone.as_deref()
    }

    /// The Twilio auth token and the URL Twilio signs for a status callback `path`.
    pub fn twilio_callback(&self, path: &str) -> Option<(&str, String)> {
        match (&self.provider, &self.public_url) {
            (Provider::Twilio { creds, .. }, Some(base)) => {
                Some((creds.auth_token.as_str(), format!("{base}{path}")))
            }
            _ => None,
        }
    }

    /// Calls the customer, then the agent, into the conversation's conference.
    pub async fn place(
        &self,
        conversation: &str,
        customer: &str,
        agent: &str,
        now: DateTime<Utc>,
    ) -> Result<Vec<PlacedCall>, DialError> {
        let customer = normalize_number(customer, self.country.as_deref())?;
        let agent = normalize_number(agent, self.country.as_deref())?;
        let conf = conference_name(conversation);
        let mut out = Vec::new();
        for (leg, to, greeting, starts) in [
            ("customer", &customer, self.greeting.as_str(), false),
            ("agent", &agent, AGENT_GREETING, true),
        ] {
            let id = match &self.provider {
                Provider::Twilio { base, creds } => {
                    self.twilio(
                        base,
                        creds,
                        leg,
                        to,
                        &twiml(greeting, &conf, starts),
                        conversation,
                    )
                    .await?
                }
                Provider::Vonage { base, signer } => {
                    let ncco = ncco(greeting, &conf, starts);
                    self.vonage(base, signer, leg, to, ncco, conversation, now)
                        .await?
                }
            };
            out.push(PlacedCall {
                leg: leg.into(),
                provider: self.provider_name().into(),
                id,
                to: to.clone(),
                status: "queued".into(),
                at: now,
            });
        }
        Ok(out)
    }

    async fn twilio(
        &self,
        base: &str,
        creds: &TwilioCredentials,
        leg: &'static str,
        to: &str,
        twiml: &str,
        conversation: &str,
    ) -> Result<String, DialError> {
        let url = format!(
            "{base}/2010-04-01/Accounts/{}/Calls.json",
            urlencode(&creds.account_sid)
        );
        let mut form: Vec<(&str, String)> = vec![
            ("To", to.into()),
            ("From", self.from.clone()),
            ("Twiml", twiml.into()),
        ];
        if let Some(public) = &self.public_url {
            form.push((
                "StatusCallback",
                format!("{public}/console/twilio/status/{conversation}"),
            ));
            form.push(("StatusCallbackMethod", "POST".into()));
            for ev in ["initiated", "ringing", "answered", "completed"] {
                form.push(("StatusCallbackEvent", ev.into()));
            }
        }
        let res = self
            .client
            .post(&url)
            .basic_auth(&creds.account_sid, Some(&creds.auth_token))
            .form(&form)
            .send()
            .await
            .map_err(|e| DialError::Unreachable {
                leg,
                error: e.without_url().to_string(),
            })?;
        answer_id(leg, res, "sid").await
    }

    #[allow(clippy::too_many_arguments)]
    async fn vonage(
        &self,
        base: &str,
        signer: &VonageJwtSigner,
        leg: &'static str,
        to: &str,
        ncco: Value,
        conversation: &str,
        now: DateTime<Utc>,
    ) -> Result<String, DialError> {
        let jwt = signer
            .token(now.timestamp().max(0) as u64, 300)
            .map_err(|e| DialError::Signing(e.to_string()))?;
        let mut body = json!({
            "to": [{"type": "phone", "number": to.trim_start_matches('+')}],
            "from": {"type": "phone", "number": self.from.trim_start_matches('+')},
            "ncco": ncco,
        });
        if let Some(public) = &self.public_url {
            body["event_url"] = json!([format!("{public}/console/vonage/event/{conversation}")]);
            body["event_method"] = json!("POST");
        }
        let res = self
            .client
            .post(format!("{base}/v1/calls"))
            .bearer_auth(jwt)
            .json(&body)
            .send()
            .await
            .map_err(|e| DialError::Unreachable {
                leg,
                error: e.without_url().to_string(),
            })?;
        answer_id(leg, res, "uuid").await
    }
}

async fn answer_id(
    leg: &'static str,
    res: reqwest::Response,
    field: &str,
) -> Result<String, DialError> {
    let status = res.status();
    if !status.is_success() {
        return Err(DialError::Rejected {
            leg,
            status: status.as_u16(),
        });
    }
    let v: Value = res.json().await.map_err(|_| DialError::Answer { leg })?;
    v.get(field)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty() && s.len() <= 100)
        .map(str::to_string)
        .ok_or(DialError::Answer { leg })
}

/// `<Say>` then `<Dial><Conference>`: the customer waits in silence for the agent, whose leg
/// starts the conference and ends it on hanging up.
pub fn twiml(greeting: &str, conference: &str, starts: bool) -> String {
    format!(
        "<Response><Say>{}</Say><Dial><Conference startConferenceOnEnter=\"{starts}\" \
endConferenceOnExit=\"{starts}\" beep=\"false\" waitUrl=\"\">{}</Conference></Dial></Response>",
        xml_escape(greeting),
        xml_escape(conference)
    )
}

pub fn ncco(greeting: &str, conference: &str, starts: bool) -> Value {
    json!([
        {"action": "talk", "text": greeting},
        {"action": "conversation", "name": conference, "startOnEnter": starts, "endOnExit": starts}
    ])
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers() {
        assert_eq!(
            normalize_number("+1 (415) 555-0123", None).ok().as_deref(),
            Some("+14155550123")
        );
        assert_eq!(
            normalize_number("0044 20 7946 0018", None).ok().as_deref(),
            Some("+442079460018")
        );
        assert_eq!(
            normalize_number("07700 900123", Some("44")).ok().as_deref(),
            Some("+447700900123")
        );
        assert!(normalize_number("07700 900123", None).is_err());
        assert!(normalize_number("+1 415 <b>", None).is_err());
        assert!(normalize_number("+12", None).is_err());
        assert!(normalize_number(&"1".repeat(50), Some("1")).is_err());
    }

    #[test]
    fn twiml_escapes_and_orders_the_legs() {
        assert_eq!(
            twiml("Hi <there> & co", "switchboard-c1", false),
            "<Response><Say>Hi &lt;there&gt; &amp; co</Say><Dial><Conference startConferenceOnEnter=\"false\" \
endConferenceOnExit=\"false\" beep=\"false\" waitUrl=\"\">switchboard-c1</Conference></Dial></Response>"
        );
        assert!(twiml("x", "c", true)
            .contains("startConferenceOnEnter=\"true\" endConferenceOnExit=\"true\""));
    }

    #[test]
    fn settings_are_checked() {
        let s = |t: &str| -> Result<Dialer, DialError> {
            let f: File = toml::from_str(t).map_err(|e| DialError::Config(e.to_string()))?;
            Dialer::new(f.console.unwrap_or_default(), None)
        };
        assert!(s("[console]\nfrom = \"+15005550006\"\n[console.twilio]\naccount_sid = \"AC1\"\nauth_token = \"t\"\n").is_ok());
        let e = |t: &str| s(t).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(
            e("[console]\n[console.twilio]\naccount_sid = \"AC1\"\nauth_token = \"t\"\n")
                .contains("from")
        );
        assert!(
            e("[console]\nfrom = \"+15005550006\"\n[console.twilio]\naccount_sid = \"AC1\"\n")
                .contains("auth_token")
        );
        assert!(e("[console]\nfrom = \"+15005550006\"\nprovider = \"sip\"\n").contains("sip"));
        assert!(e("[console]\nfrom = \"+15005550006\"\npublic_url = \"ftp://x\"\n[console.twilio]\naccount_sid = \"A\"\nauth_token = \"t\"\n").contains("public_url"));
        // The token never shows in Debug output.
        let d = s("[console]\nfrom = \"+15005550006\"\n[console.twilio]\naccount_sid = \"AC1\"\nauth_token = \"sekrit\"\n");
        assert!(!format!("{d:?}").contains("sekrit"));
    }
}
