//! Server configuration: defaults, validation, and the duration syntax of the CLI (`30m`, `5s`, `200ms`).

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
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            data_dir: None,
            session_ttl: Duration::from_secs(30 * 60),
            webhook_timeout: Duration::from_secs(5),
            max_sessions: 50_000,
            store_queue: 8_192,
            sweep_interval: Duration::from_secs(60),
            max_inflight: 1_024,
        }
    }
}

impl ServerConfig {
    pub fn validate(&self) -> Result<(), String> {
        if self.session_ttl.is_zero() {
            return Err("session TTL must be greater than zero".into());
        }
        if chrono::Duration::from_std(self.session_ttl).is_err()
            || self.session_ttl > Duration::from_secs(365 * 86_400)
        {
            return Err("session TTL must be at most 365 days".into());
        }
        if self.webhook_timeout.is_zero() || self.webhook_timeout > Duration::from_secs(300) {
            return Err("webhook timeout must be between 1ms and 300s".into());
        }
        if self.max_sessions == 0 {
            return Err("max sessions must be at least 1".into());
        }
        if self.store_queue == 0 {
            return Err("store queue must be at least 1".into());
        }
        if self.max_inflight == 0 {
            return Err("max in-flight requests must be at least 1".into());
        }
        if self.sweep_interval.is_zero() {
            return Err("sweep interval must be greater than zero".into());
        }
        Ok(())
    }
}

/// Parses `250ms`, `5s`, `30m`, `2h`, `1d`, or a bare number of seconds.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let n: u64 = num
        .parse()
        .map_err(|_| format!("invalid duration `{s}` (expected e.g. 500ms, 5s, 30m, 2h)"))?;
    let mul_ms: u64 = match unit.trim() {
        "ms" => 1,
        "" | "s" => 1_000,
        "m" | "min" => 60_000,
        "h" => 3_600_000,
        "d" => 86_400_000,
        other => {
            return Err(format!(
                "invalid duration unit `{other}` in `{s}` (use ms, s, m, h or d)"
            ))
        }
    };
    n.checked_mul(mul_ms)
        .map(Duration::from_millis)
        .ok_or_else(|| format!("duration `{s}` is too large"))
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
