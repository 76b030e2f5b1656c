//! Server configuration: defaults, validation, and the duration syntax of the CLI (`30m`, `5s`, `200ms`).

use crate::store::{Location, StoreUrl};
use serde::Deserialize;
use std::path::PathBuf;
use std::time::Duration;

/// Largest accepted request body (DF requests are small; this also bounds JSON parsing work).
pub const MAX_BODY_BYTES: usize = 64 * 1024;
/// DF's limit on query text length (characters).
pub const MAX_QUERY_CHARS: usize = 256;
/// Longest accepted session id (DF allows 36; real clients send longer ones).
pub const MAX_SESSION_ID_CHARS: usize = 512;

#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// Where `switchboard.db` lives; `None` keeps everything in memory (chat, bench).
    pub data_dir: Option<PathBuf>,
    /// The store's URL (`postgres://…` for several nodes); overrides `data_dir`.
    pub store_url: Option<StoreUrl>,
    /// Idle time after which a session is forgotten.
    pub session_ttl: Duration,
    pub webhook_timeout: Duration,
    /// Upper bound on sessions cached in memory (also bounds concurrently active sessions).
    pub max_sessions: usize,
    /// Capacity of the queue to the storage thread.
    pub store_queue: usize,
    /// How often expired sessions are deleted.
    pub sweep_interval: Duration,
    /// Most detectIntent requests processed at once; beyond that requests get 429 RESOURCE_EXHAUSTED.
    pub max_inflight: usize,
    /// HTTP limits and CORS origins (`[server]` of switchboard.toml).
    pub server: crate::settings::ServerSection,
    /// API keys (`[auth]`); none: the API is open, which is allowed on loopback only.
    pub api_keys: Vec<crate::guard::ApiKey>,
    /// Serve without keys on a non-loopback address (`auth.insecure_open`).
    pub insecure_open: bool,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            data_dir: None,
            store_url: None,
            session_ttl: Duration::from_secs(30 * 60),
            webhook_timeout: Duration::from_secs(5),
            max_sessions: 50_000,
            store_queue: 8_192,
            sweep_interval: Duration::from_secs(60),
            max_inflight: 1_024,
            server: crate::settings::ServerSection::default(),
            api_keys: Vec::new(),
            insecure_open: false,
        }
    }
}

/// A server setting out of range.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    #[error("{0}")]
    Settings(#[from] crate::settings::SettingsError),
    #[error("session TTL must be greater than zero")]
    SessionTtlZero,
    #[error("session TTL must be at most 365 days")]
    SessionTtlTooLong,
    #[error("webhook timeout must be between 1ms and 300s")]
    WebhookTimeout,
    #[error("max sessions must be at least 1")]
    MaxSessions,
    #[error("store queue must be at least 1")]
    StoreQueue,
    #[error("max in-flight requests must be at least 1")]
    MaxInflight,
    #[error("sweep interval must be greater than zero")]
    SweepInterval,
}

impl ServerConfig {
    /// Where the store lives: the URL, else `data_dir`, else memory.
    pub fn store_location(&self) -> Location {
        Location::from_config(self.data_dir.as_deref(), self.store_url.as_ref())
    }

    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.session_ttl.is_zero() {
            return Err(ConfigError::SessionTtlZero);
        }
        if chrono::Duration::from_std(self.session_ttl).is_err()
            || self.session_ttl > Duration::from_secs(365 * 86_400)
        {
            return Err(ConfigError::SessionTtlTooLong);
        }
        if self.webhook_timeout.is_zero() || self.webhook_timeout > Duration::from_secs(300) {
            return Err(ConfigError::WebhookTimeout);
        }
        if self.max_sessions == 0 {
            return Err(ConfigError::MaxSessions);
        }
        if self.store_queue == 0 {
            return Err(ConfigError::StoreQueue);
        }
        if self.max_inflight == 0 {
            return Err(ConfigError::MaxInflight);
        }
        if self.sweep_interval.is_zero() {
            return Err(ConfigError::SweepInterval);
        }
        self.server.validate()?;
        Ok(())
    }
}

/// `[store]` in `switchboard.toml`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StoreSection {
    /// `postgres://user:password@host:5432/db` to share the store between nodes (or
    /// `sqlite://PATH`); default: SQLite in the data directory.
    pub url: Option<StoreUrl>,
}

impl<'de> Deserialize<'de> for StoreUrl {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        // The error names the URL with its password hidden.
        StoreUrl::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// A duration that [`parse_duration`] cannot read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DurationError {
    #[error("invalid duration `{0}` (expected e.g. 500ms, 5s, 30m, 2h)")]
    Number(String),
    #[error("invalid duration unit `{unit}` in `{input}` (use ms, s, m, h or d)")]
    Unit { unit: String, input: String },
    #[error("duration `{0}` is too large")]
    TooLarge(String),
}

/// Parses `250ms`, `5s`, `30m`, `2h`, `1d`, or a bare number of seconds.
pub fn parse_duration(s: &str) -> Result<Duration, DurationError> {
    let s = s.trim();
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let n: u64 = num.parse().map_err(|_| DurationError::Number(s.into()))?;
    let mul_ms: u64 = match unit.trim() {
        "ms" => 1,
        "" | "s" => 1_000,
        "m" | "min" => 60_000,
        "h" => 3_600_000,
        "d" => 86_400_000,
        other => {
            return Err(DurationError::Unit {
                unit: other.into(),
                input: s.into(),
            })
        }
    };
    n.checked_mul(mul_ms)
        .map(Duration::from_millis)
        .ok_or_else(|| DurationError::TooLarge(s.into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("30m"), Ok(Duration::from_secs(1800)));
        assert_eq!(parse_duration("5s"), Ok(Duration::from_secs(5)));
        assert_eq!(parse_duration("200ms"), Ok(Duration::from_millis(200)));
        assert_eq!(parse_duration("2h"), Ok(Duration::from_secs(7200)));
        assert_eq!(parse_duration("7"), Ok(Duration::from_secs(7)));
        assert!(parse_duration("").is_err());
        assert!(parse_duration("5x").is_err());
        assert!(parse_duration("-5s").is_err());
        assert!(parse_duration("99999999999999999999d").is_err());
    }

    #[test]
    fn validation() {
        assert!(ServerConfig::default().validate().is_ok());
        let c = ServerConfig {
            session_ttl: Duration::ZERO,
            ..Default::default()
        };
        assert!(c.validate().is_err());
    }
}
