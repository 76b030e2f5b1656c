//! `switchboard.toml`: named connectors (Twilio's `connectorName`) and phone-wide limits.
//!
//! ```toml
//! [phone]
//! max_calls = 32
//!
//! [connectors.default]
//! agent = "examples/restaurant"     # optional: the server's agent when absent
//! language = "en"
//! welcome_event = "WELCOME"
//! sentiment = true
//! status_callback = "https://app.example.com/status"
//! action = "https://app.example.com/action"
//! [connectors.default.twilio]
//! account_sid = "AC…"
//! auth_token = "…"                  # or TWILIO_AUTH_TOKEN
//!
//! [store]                            # optional: default SQLite in --data-dir
//! url = "postgres://sb:…@db:5432/switchboard"   # or --store-url / SWITCHBOARD_STORE_URL
//! ```
//!
//! Everything has a default, so `serve --agent PATH` alone runs with one `default` connector.
//! Secrets never appear in `Debug` output or logs.

use super::params::HttpMethod;
use sb_call::CallConfig;
use sb_speech::vad::EndpointConfig;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The connector used when a call names none.
pub const DEFAULT_CONNECTOR: &str = "default";

/// The whole file (docs/CONFIG.md lists every key).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PhoneFile {
    /// HTTP limits and CORS (applied by `serve`, not by the phone path).
    pub server: crate::settings::ServerSection,
    /// API keys (applied by `serve`).
    pub auth: crate::settings::AuthSection,
    pub phone: PhoneLimits,
    pub connectors: BTreeMap<String, Connector>,
    /// `[console]`: read by the console's dialer (`web::dial`), not by the phone path.
    pub console: Option<toml::Table>,
    /// `[store]`: where the store lives (applied by `serve`).
    pub store: crate::config::StoreSection,
}

/// Limits shared by every call.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PhoneLimits {
    /// Most calls at once; further WebSocket connections are refused (503).
    pub max_calls: usize,
    /// Largest WebSocket message accepted (bytes).
    pub max_message_bytes: usize,
    /// Most messages per second a call may send (averaged over 1 s windows).
    pub max_messages_per_sec: u32,
    /// Undecodable messages tolerated before the call is ended as failed.
    pub max_bad_messages: u32,
    /// Time allowed between the WebSocket upgrade and the start message.
    pub start_timeout_ms: u64,
    /// Media sockets that may wait for their start message at once (they take no call slot
    /// until they start); beyond, new sockets are refused (503).
    pub max_pending_streams: usize,
    /// Bot audio sent ahead of real time (the platform buffers it).
    pub playout_lead_ms: u64,
    /// ASR worker threads (0: one per core).
    pub asr_workers: usize,
    /// whisper.cpp threads per recognition.
    pub asr_threads: usize,
    /// What each recognition's prompt holds: `none`, `question` (the bot's last question),
    /// `agent` (the agent's words) or `agent+question`. A connector's speech hints come first.
    pub asr_prompt: super::asr_prompt::AsrPrompt,
    /// TTS worker threads (each uses one of the voice's two ONNX sessions; more workers wait).
    pub tts_workers: usize,
    /// Memory for recently synthesised short clauses, so a dynamic reply's repeated opening
    /// ("Table booked, …") is not synthesised again (MiB; 0 = off).
    pub tts_cache_mb: usize,
    /// Queued speech jobs allowed per call (beyond: dropped and counted).
    pub jobs_per_call: usize,
    /// Public base URL (`https://host`) used for TwiML/NCCO and signature checks; default: from
    /// `X-Forwarded-Proto` / `Host`.
    pub public_url: Option<String>,
    /// How long a paused session (`TWILIO_ACTION: PAUSE`) can be resumed, in seconds (Twilio
    /// keeps them 30 minutes); expired ones are swept.
    pub paused_ttl_s: u64,
    /// Voices a call may choose by name (`<Config name="voiceName">`) besides the default one
    /// and every espeak-ng voice (`espeak:VOICE`): name → `espeak:VOICE` or
    /// `piper:/path/voice.onnx` (its `voice.onnx.json` beside it). Loaded at start.
    pub voices: BTreeMap<String, String>,
    /// Recognisers a call may choose by name (`<Config name="speechModel">`) besides the
    /// default one: name → a Whisper CTranslate2 model directory. Loaded at start.
    pub speech_models: BTreeMap<String, PathBuf>,
}

impl Default for PhoneLimits {
    fn default() -> Self {
        PhoneLimits {
            max_calls: 64,
            max_message_bytes: 64 * 1024,
            max_messages_per_sec: 400,
            max_bad_messages: 20,
            start_timeout_ms: 5_000,
            max_pending_streams: 16,
            playout_lead_ms: 1_000,
            asr_workers: 0,
            asr_threads: 1,
            asr_prompt: Default::default(),
            tts_workers: 2,
            tts_cache_mb: super::setup::TTS_CACHE_MB,
            jobs_per_call: 8,
            public_url: None,
            paused_ttl_s: 30 * 60,
            voices: BTreeMap::new(),
            speech_models: BTreeMap::new(),
        }
    }
}

/// One named connector.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Connector {
    /// Agent export for this connector; `None`: the server's `--agent`.
    pub agent: Option<PathBuf>,
    pub language: String,
    /// TTS voice name (informational: one embedded voice).
    pub voice: Option<String>,
    pub welcome_event: String,
    pub sentiment: bool,
    pub time_zone: Option<String>,
    pub endpoint: EndpointConfig,
    pub barge_in: bool,
    pub barge_in_min_speech_ms: u32,
    pub no_input_timeout_ms: u32,
    pub max_no_input: u32,
    pub no_input_prompt: String,
    pub goodbye_prompt: String,
    /// Longest call (ms).
    pub max_call_ms: u64,
    /// Words and phrases the caller is likely to say (names, products): they bias recognition,
    /// like Dialogflow's speech contexts.
    pub speech_hints: Vec<String>,
    /// Words after which a caller who pauses is taken to go on (early turns); `None`: the
    /// English default list.
    pub dangling_words: Option<Vec<String>>,
    pub status_callback: Option<String>,
    /// `GET` or `POST` (default).
    pub status_callback_method: Option<String>,
    /// The `<Connect action>` URL: requested when the bot's part of the call ends; on Twilio
    /// the TwiML it answers runs next (see `/twilio/action`).
    pub action: Option<String>,
    /// `GET` or `POST` (default): the `<Connect method>`.
    pub action_method: Option<String>,
    /// Twilio's Dialogflow sample's `END_OF_INTERACTION_URL`: at every end of interaction
    /// (end of conversation, handoff, transfer) the call is redirected there with
    /// `dialogflowJSON` (the final query result) in the query. `action` wins when both are set.
    pub end_of_interaction_url: Option<String>,
    pub analytics: Option<String>,
    pub twilio: TwilioSettings,
    pub vonage: VonageSettings,
}

impl Default for Connector {
    fn default() -> Self {
        let c = CallConfig::default();
        Connector {
            agent: None,
            language: c.language,
            voice: None,
            welcome_event: c.welcome_event,
            sentiment: false,
            time_zone: None,
            endpoint: c.endpoint,
            barge_in: c.barge_in,
            barge_in_min_speech_ms: c.barge_in_min_speech_ms,
            no_input_timeout_ms: c.no_input_timeout_ms,
            max_no_input: c.max_no_input,
            no_input_prompt: c.no_input_prompt,
            goodbye_prompt: c.goodbye_prompt,
            max_call_ms: c.max_call_ms,
            speech_hints: Vec::new(),
            dangling_words: None,
            status_callback: None,
            status_callback_method: None,
            action: None,
            action_method: None,
            end_of_interaction_url: None,
            analytics: None,
            twilio: TwilioSettings::default(),
            vonage: VonageSettings::default(),
        }
    }
}

#[derive(Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TwilioSettings {
    pub account_sid: Option<String>,
    /// Verifies `X-Twilio-Signature` when set (`TWILIO_AUTH_TOKEN` overrides).
    pub auth_token: Option<String>,
    /// REST base URL (tests point it at a fake).
    pub api_base: Option<String>,
}

impl std::fmt::Debug for TwilioSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TwilioSettings")
            .field("account_sid", &self.account_sid)
            .field(
                "auth_token",
                &self.auth_token.as_ref().map(|_| "<redacted>"),
            )
            .field("api_base", &self.api_base)
            .finish()
    }
}

#[derive(Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct VonageSettings {
    pub application_id: Option<String>,
    /// Verifies the signed webhooks (JWT) on the answer and event URLs when set
    /// (`VONAGE_SIGNATURE_SECRET` overrides).
    pub signature_secret: Option<String>,
    /// Path of the application's private key (PEM); the key itself is never logged.
    pub private_key: Option<PathBuf>,
    pub api_base: Option<String>,
    /// Live-agent handoff: number to connect when the agent gives none.
    pub transfer_number: Option<String>,
    /// Caller id for that `connect` (a number of the Vonage account).
    pub transfer_from: Option<String>,
    /// Said before connecting.
    pub transfer_text: Option<String>,
}

impl std::fmt::Debug for VonageSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VonageSettings")
            .field("application_id", &self.application_id)
            .field(
                "signature_secret",
                &self.signature_secret.as_ref().map(|_| "<redacted>"),
            )
            .field("private_key", &self.private_key)
            .field("api_base", &self.api_base)
            .field("transfer_number", &self.transfer_number)
            .field("transfer_from", &self.transfer_from)
            .field("transfer_text", &self.transfer_text)
            .finish()
    }
}

impl Connector {
    /// The session configuration of a call on this connector (before per-call overrides).
    pub fn call_config(&self) -> CallConfig {
        CallConfig {
            welcome_event: self.welcome_event.clone(),
            endpoint: self.endpoint.clone(),
            barge_in: self.barge_in,
            barge_in_min_speech_ms: self.barge_in_min_speech_ms,
            no_input_timeout_ms: self.no_input_timeout_ms,
            max_no_input: self.max_no_input,
            no_input_prompt: self.no_input_prompt.clone(),
            goodbye_prompt: self.goodbye_prompt.clone(),
            sentiment: self.sentiment,
            language: self.language.clone(),
            time_zone: self.time_zone.clone(),
            max_call_ms: self.max_call_ms,
            dangling_words: match &self.dangling_words {
                Some(w) => w.iter().map(|w| w.trim().to_lowercase()).collect(),
                None => CallConfig::default().dangling_words,
            },
            ..CallConfig::default()
        }
    }

    /// `status_callback_method`, `action_method` (validated at load; POST by default).
    pub fn methods(&self) -> (HttpMethod, HttpMethod) {
        let m = |s: &Option<String>| s.as_deref().and_then(HttpMethod::parse).unwrap_or_default();
        (m(&self.status_callback_method), m(&self.action_method))
    }

    /// The ASR prompt made of the speech hints (`None` without hints).
    pub fn asr_prompt(&self) -> Option<String> {
        let hints: Vec<&str> = self
            .speech_hints
            .iter()
            .map(|h| h.trim())
            .filter(|h| !h.is_empty())
            .collect();
        (!hints.is_empty()).then(|| hints.join(", "))
    }

    fn validate(&self, name: &str) -> Result<(), PhoneFileError> {
        let err = |source: PhoneFileError| {
            Err(PhoneFileError::Connector {
                name: name.to_string(),
                source: Box::new(source),
            })
        };
        if self.speech_hints.iter().map(String::len).sum::<usize>() > 1_000 {
            return err(PhoneFileError::Range {
                setting: "speech_hints",
                rule: "are longer than 1000 bytes in total",
            });
        }
        if let Err(e) = self.call_config().validate() {
            return err(PhoneFileError::Call(e));
        }
        for (setting, url) in [
            ("status_callback", &self.status_callback),
            ("action", &self.action),
            ("end_of_interaction_url", &self.end_of_interaction_url),
            ("analytics", &self.analytics),
            ("twilio.api_base", &self.twilio.api_base),
            ("vonage.api_base", &self.vonage.api_base),
        ] {
            if let Some(u) = url {
                if !is_http_url(u) {
                    return err(PhoneFileError::NotHttp {
                        setting,
                        url: u.clone(),
                    });
                }
            }
        }
        for (setting, m) in [
            ("status_callback_method", &self.status_callback_method),
            ("action_method", &self.action_method),
        ] {
            if m.as_deref().is_some_and(|m| HttpMethod::parse(m).is_none()) {
                return err(PhoneFileError::Range {
                    setting,
                    rule: "must be GET or POST",
                });
            }
        }
        if let Some(tz) = &self.time_zone {
            if tz.parse::<chrono_tz::Tz>().is_err() {
                return err(PhoneFileError::TimeZone(tz.clone()));
            }
        }
        if let Some(a) = &self.agent {
            if !a.exists() {
                return err(PhoneFileError::Missing {
                    setting: "agent",
                    path: a.clone(),
                });
            }
        }
        if let Some(k) = &self.vonage.private_key {
            if !k.is_file() {
                return err(PhoneFileError::Missing {
                    setting: "vonage.private_key",
                    path: k.clone(),
                });
            }
        }
        Ok(())
    }
}

fn is_http_url(u: &str) -> bool {
    reqwest::Url::parse(u).is_ok_and(|p| matches!(p.scheme(), "http" | "https"))
}

/// Why a phone settings file cannot be used; the message names the file, connector and setting.
#[derive(Debug, thiserror::Error)]
pub enum PhoneFileError {
    #[error("cannot read {}: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}: {source}", path.display())]
    InFile {
        path: PathBuf,
        source: Box<PhoneFileError>,
    },
    #[error("{0}")]
    Toml(#[from] toml::de::Error),
    #[error("{setting} {rule}")]
    Range {
        setting: &'static str,
        rule: &'static str,
    },
    #[error("{setting} `{url}` is not an http(s) URL")]
    NotHttp { setting: &'static str, url: String },
    #[error("time_zone `{0}` is not an IANA time zone")]
    TimeZone(String),
    #[error("{setting} {} does not exist", path.display())]
    Missing {
        setting: &'static str,
        path: PathBuf,
    },
    #[error("connector name `{0}` must be 1-64 characters of A-Z a-z 0-9 - _ .")]
    ConnectorName(String),
    #[error("connector `{name}`: {source}")]
    Connector {
        name: String,
        source: Box<PhoneFileError>,
    },
    #[error("{0}")]
    Call(#[from] sb_call::CallError),
    #[error("{0}")]
    Settings(#[from] crate::settings::SettingsError),
}

impl PhoneFile {
    /// Reads and validates `path`; `TWILIO_AUTH_TOKEN` overrides every Twilio auth token.
    pub fn load(path: &Path) -> Result<PhoneFile, PhoneFileError> {
        let text = std::fs::read_to_string(path).map_err(|source| PhoneFileError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        let in_file = |e: PhoneFileError| PhoneFileError::InFile {
            path: path.to_path_buf(),
            source: Box::new(e),
        };
        let mut f = Self::parse(&text).map_err(in_file)?;
        f.apply_env(std::env::var("TWILIO_AUTH_TOKEN").ok());
        f.apply_vonage_env(std::env::var("VONAGE_SIGNATURE_SECRET").ok());
        f.validate().map_err(in_file)?;
        Ok(f)
    }

    /// Parses TOML text (no environment, no validation).
    pub fn parse(text: &str) -> Result<PhoneFile, PhoneFileError> {
        let mut f: PhoneFile = toml::from_str(text)?;
        if f.connectors.is_empty() {
            f.connectors
                .insert(DEFAULT_CONNECTOR.into(), Connector::default());
        }
        Ok(f)
    }

    /// Defaults only: one `default` connector (`serve --agent PATH`).
    pub fn with_default_connector() -> PhoneFile {
        let mut f = PhoneFile::default();
        f.connectors
            .insert(DEFAULT_CONNECTOR.into(), Connector::default());
        f.apply_env(std::env::var("TWILIO_AUTH_TOKEN").ok());
        f.apply_vonage_env(std::env::var("VONAGE_SIGNATURE_SECRET").ok());
        f
    }

    /// `VONAGE_SIGNATURE_SECRET` overrides every connector's Vonage signature secret.
    pub fn apply_vonage_env(&mut self, secret: Option<String>) {
        if let Some(s) = secret.filter(|s| !s.is_empty()) {
            for c in self.connectors.values_mut() {
                c.vonage.signature_secret = Some(s.clone());
            }
        }
    }

    pub fn apply_env(&mut self, twilio_token: Option<String>) {
        if let Some(t) = twilio_token.filter(|t| !t.is_empty()) {
            for c in self.connectors.values_mut() {
                c.twilio.auth_token = Some(t.clone());
            }
        }
    }

    pub fn validate(&self) -> Result<(), PhoneFileError> {
        let range = |setting, rule| Err(PhoneFileError::Range { setting, rule });
        self.server.validate()?;
        let l = &self.phone;
        if l.max_calls == 0 {
            return range("phone.max_calls", "must be at least 1");
        }
        if l.max_pending_streams == 0 {
            return range("phone.max_pending_streams", "must be at least 1");
        }
        if !(100..=60_000).contains(&l.start_timeout_ms) {
            return range("phone.start_timeout_ms", "must be between 100 and 60000");
        }
        if l.max_message_bytes < 1024 {
            return range("phone.max_message_bytes", "must be at least 1024");
        }
        if l.max_messages_per_sec < 60 {
            return range("phone.max_messages_per_sec", "must be at least 60");
        }
        if l.playout_lead_ms < 100 || l.playout_lead_ms > 10_000 {
            return range("phone.playout_lead_ms", "must be between 100 and 10000");
        }
        if l.asr_threads == 0 || l.tts_workers == 0 || l.jobs_per_call == 0 {
            return range(
                "phone.asr_threads, tts_workers and jobs_per_call",
                "must be at least 1",
            );
        }
        if !(1..=7 * 24 * 3600).contains(&l.paused_ttl_s) {
            return range(
                "phone.paused_ttl_s",
                "must be between 1 and 604800 (7 days)",
            );
        }
        if l.tts_cache_mb > 4096 {
            return range("phone.tts_cache_mb", "must be at most 4096");
        }
        if l.voices
            .values()
            .any(|v| !super::choices::check_voice_spec(v))
        {
            return range(
                "phone.voices",
                "each must be espeak:VOICE or piper:/path/voice.onnx",
            );
        }
        let taken = |n: &String| n.eq_ignore_ascii_case("default");
        if l.voices.keys().any(taken) || l.speech_models.keys().any(taken) {
            return range(
                "phone.voices and phone.speech_models",
                "cannot name one `default`",
            );
        }
        if let Some(u) = &l.public_url {
            if !is_http_url(u) {
                return Err(PhoneFileError::NotHttp {
                    setting: "phone.public_url",
                    url: u.clone(),
                });
            }
        }
        for (name, c) in &self.connectors {
            if name.is_empty()
                || name.len() > 64
                || !name
                    .chars()
                    .all(|ch| ch.is_ascii_alphanumeric() || "-_.".contains(ch))
            {
                return Err(PhoneFileError::ConnectorName(name.clone()));
            }
            c.validate(name)?;
        }
        Ok(())
    }

    /// The connector called `name`, or the default one when `name` is empty.
    pub fn connector(&self, name: &str) -> Option<(&str, &Connector)> {
        let name = if name.is_empty() {
            DEFAULT_CONNECTOR
        } else {
            name
        };
        self.connectors
            .get_key_value(name)
            .map(|(k, v)| (k.as_str(), v))
            .or_else(|| {
                // A single connector serves every call that names none.
                (name == DEFAULT_CONNECTOR && self.connectors.len() == 1)
                    .then(|| self.connectors.iter().next())
                    .flatten()
                    .map(|(k, v)| (k.as_str(), v))
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_overrides() {
        let f = PhoneFile::parse("").unwrap();
        assert!(f.validate().is_ok());
        assert_eq!(f.connector("").unwrap().0, "default");
        let f = PhoneFile::parse(
            "[connectors.sales]\nlanguage = \"en-US\"\nsentiment = true\n[connectors.sales.endpoint]\nend_silence_ms = 500\n[connectors.sales.twilio]\nauth_token = \"tw-token-value\"\n[connectors.sales.vonage]\nsignature_secret = \"vg-secret-value\"\n",
        )
        .unwrap();
        assert!(f.validate().is_ok());
        let (name, c) = f.connector("").unwrap();
        assert_eq!(name, "sales");
        assert_eq!(c.endpoint.end_silence_ms, 500);
        let shown = format!("{c:?}");
        assert!(
            !shown.contains("tw-token-value") && !shown.contains("vg-secret-value"),
            "{shown}"
        );
        assert!(shown.contains("<redacted>"), "{shown}");
        assert!(f.connector("nope").is_none());
    }

    #[test]
    fn clear_errors() {
        let e = PhoneFile::parse("[connectors.a]\nlangage = \"en\"\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("unknown field `langage`"), "{e}");
        let f = PhoneFile::parse("[connectors.a]\nstatus_callback = \"ftp://x\"\n").unwrap();
        assert_eq!(
            f.validate().unwrap_err().to_string(),
            "connector `a`: status_callback `ftp://x` is not an http(s) URL"
        );
        let f = PhoneFile::parse("[connectors.a]\ntime_zone = \"Mars/Base\"\n").unwrap();
        assert!(f.validate().unwrap_err().to_string().contains("time_zone"));
        let f = PhoneFile::parse("[phone]\nmax_calls = 0\n").unwrap();
        assert_eq!(
            f.validate().unwrap_err().to_string(),
            "phone.max_calls must be at least 1"
        );
    }
}
