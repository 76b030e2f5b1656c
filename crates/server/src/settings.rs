//! The `[server]` and `[auth]` sections of `switchboard.toml`: HTTP limits, CORS and API keys.
//! (`[phone]` and `[connectors.*]` are in [`crate::phone::connectors`]; docs/CONFIG.md lists
//! every key.) Secrets never appear in `Debug` output or logs.

use serde::Deserialize;
use std::net::SocketAddr;
use std::time::Duration;

/// `[server]`: the HTTP listener's limits.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServerSection {
    /// Time a client has to send a complete request head, counted from when the server starts
    /// waiting for it: when the connection opens, and after each response on a kept-alive
    /// connection. So it closes slow (slowloris) and idle connections alike.
    pub header_read_timeout_ms: u64,
    /// Most open HTTP connections (WebSockets included); beyond, new ones are closed at once and
    /// counted (`switchboard_http_connections_refused_total`). Also kept below the process's
    /// open-file limit.
    pub max_connections: usize,
    /// Web origins (`https://app.example.com`) allowed to call the API from a browser (CORS).
    /// Empty: no CORS headers, so browsers keep pages of other origins from reading replies.
    pub cors_origins: Vec<String>,
}

impl Default for ServerSection {
    fn default() -> Self {
        ServerSection {
            header_read_timeout_ms: 10_000,
            max_connections: 4_096,
            cors_origins: Vec::new(),
        }
    }
}

/// `[auth]`: API keys for the API routes (see [`crate::guard`]).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AuthSection {
    pub keys: Vec<ApiKeyEntry>,
    /// Serve without keys on a non-loopback address (anyone who reaches the port can read
    /// transcripts). Without keys and without this, such a server refuses to start.
    pub insecure_open: bool,
    /// Requests per second each key may make (sustained; 0 = unlimited), unless the key says.
    pub rate_per_sec: f64,
    /// Requests a key may make at once above its rate, unless the key says.
    pub burst: u32,
}

impl Default for AuthSection {
    fn default() -> Self {
        AuthSection {
            keys: Vec::new(),
            insecure_open: false,
            rate_per_sec: 100.0,
            burst: 200,
        }
    }
}

/// One `[[auth.keys]]` entry: the key itself or the environment variable that holds it.
#[derive(Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApiKeyEntry {
    /// Shown in logs and metrics instead of the key.
    pub name: String,
    #[serde(default)]
    pub key: Option<String>,
    #[serde(default)]
    pub key_env: Option<String>,
    #[serde(default)]
    pub rate_per_sec: Option<f64>,
    #[serde(default)]
    pub burst: Option<u32>,
}

impl std::fmt::Debug for ApiKeyEntry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiKeyEntry")
            .field("name", &self.name)
            .field("key", &self.key.as_ref().map(|_| "<redacted>"))
            .field("key_env", &self.key_env)
            .field("rate_per_sec", &self.rate_per_sec)
            .field("burst", &self.burst)
            .finish()
    }
}

/// Shortest accepted API key (characters): a guessable key is no key.
pub const MIN_KEY_CHARS: usize = 16;

/// A setting of `[server]` or `[auth]` that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SettingsError {
    #[error("server.header_read_timeout_ms must be between 100 and 600000")]
    HeaderTimeout,
    #[error("server.max_connections must be at least 16")]
    MaxConnections,
    #[error("server.cors_origins: `{0}` is not an origin like https://app.example.com (scheme, host and optional port; no path)")]
    CorsOrigin(String),
    #[error("auth.keys: a key needs a name of 1-64 characters of A-Z a-z 0-9 - _ .: `{0}`")]
    KeyName(String),
    #[error("auth.keys: two keys are named `{0}`")]
    DuplicateName(String),
    #[error("auth.keys `{0}`: give exactly one of `key` and `key_env`")]
    KeySource(String),
    #[error("auth.keys `{name}`: environment variable {var} is not set")]
    KeyEnvMissing { name: String, var: String },
    #[error(
        "auth.keys `{0}`: the key must be at least {MIN_KEY_CHARS} characters of visible ASCII"
    )]
    KeyShape(String),
    #[error("auth.keys `{0}`: the same key is given twice")]
    DuplicateKey(String),
    #[error("{0}: rate_per_sec must be a finite number >= 0 and burst at least 1")]
    Rate(String),
    #[error(
        "refusing to serve on {0} without API keys: add [[auth.keys]] to switchboard.toml (or set \
         SWITCHBOARD_API_KEY), listen on a loopback address, or set auth.insecure_open = true"
    )]
    OpenOnNetwork(SocketAddr),
}

impl ServerSection {
    pub fn validate(&self) -> Result<(), SettingsError> {
        if !(100..=600_000).contains(&self.header_read_timeout_ms) {
            return Err(SettingsError::HeaderTimeout);
        }
        if self.max_connections < 16 {
            return Err(SettingsError::MaxConnections);
        }
        for o in &self.cors_origins {
            if !is_origin(o) {
                return Err(SettingsError::CorsOrigin(o.clone()));
            }
        }
        Ok(())
    }

    pub fn header_read_timeout(&self) -> Duration {
        Duration::from_millis(self.header_read_timeout_ms)
    }
}

/// `scheme://host[:port]` exactly as a browser sends it in `Origin`.
fn is_origin(o: &str) -> bool {
    let Ok(u) = reqwest::Url::parse(o) else {
        return false;
    };
    matches!(u.scheme(), "http" | "https")
        && u.host_str().is_some()
        && u.path() == "/"
        && u.query().is_none()
        && u.fragment().is_none()
        && u.username().is_empty()
        && !o.ends_with('/')
}

fn rate_ok(rate: f64, burst: u32) -> bool {
    rate.is_finite() && rate >= 0.0 && burst >= 1
}

impl AuthSection {
    /// Checks the section and resolves `key_env` (`env` reads a variable) into the keys served.
    pub fn resolve(
        &self,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Vec<crate::guard::ApiKey>, SettingsError> {
        if !rate_ok(self.rate_per_sec, self.burst) {
            return Err(SettingsError::Rate("auth".into()));
        }
        let mut out: Vec<crate::guard::ApiKey> = Vec::new();
        for k in &self.keys {
            let name_ok = !k.name.is_empty()
                && k.name.len() <= 64
                && k.name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c));
            if !name_ok {
                return Err(SettingsError::KeyName(k.name.clone()));
            }
            if out.iter().any(|o| o.name == k.name) {
                return Err(SettingsError::DuplicateName(k.name.clone()));
            }
            let secret = match (&k.key, &k.key_env) {
                (Some(s), None) => s.clone(),
                (None, Some(var)) => env(var).ok_or_else(|| SettingsError::KeyEnvMissing {
                    name: k.name.clone(),
                    var: var.clone(),
                })?,
                _ => return Err(SettingsError::KeySource(k.name.clone())),
            };
            let rate = k.rate_per_sec.unwrap_or(self.rate_per_sec);
            let burst = k.burst.unwrap_or(self.burst);
            if !rate_ok(rate, burst) {
                return Err(SettingsError::Rate(format!("auth.keys `{}`", k.name)));
            }
            out.push(crate::guard::ApiKey::new(&k.name, &secret, rate, burst)?);
        }
        // One key from the environment, for containers: `SWITCHBOARD_API_KEY`.
        if let Some(secret) = env("SWITCHBOARD_API_KEY").filter(|s| !s.is_empty()) {
            out.push(crate::guard::ApiKey::new(
                "env",
                &secret,
                self.rate_per_sec,
                self.burst,
            )?);
        }
        for (i, a) in out.iter().enumerate() {
            if out[..i].iter().any(|b| b.same_secret(a)) {
                return Err(SettingsError::DuplicateKey(a.name.clone()));
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn no_env(_: &str) -> Option<String> {
        None
    }

    #[test]
    fn defaults_are_valid() {
        assert!(ServerSection::default().validate().is_ok());
        assert_eq!(AuthSection::default().resolve(&no_env).unwrap().len(), 0);
    }

    #[test]
    fn origins() {
        for ok in ["https://app.example.com", "http://localhost:3000"] {
            assert!(is_origin(ok), "{ok}");
        }
        for bad in [
            "app.example.com",
            "https://app.example.com/",
            "https://app.example.com/x",
            "ftp://h",
            "*",
            "https://u@h",
        ] {
            assert!(!is_origin(bad), "{bad}");
        }
    }

    #[test]
    fn keys_are_checked_and_resolved() {
        let entry = |name: &str, key: Option<&str>, var: Option<&str>| ApiKeyEntry {
            name: name.into(),
            key: key.map(str::to_string),
            key_env: var.map(str::to_string),
            rate_per_sec: None,
            burst: None,
        };
        let auth = |keys| AuthSection {
            keys,
            ..AuthSection::default()
        };
        let long = "k".repeat(MIN_KEY_CHARS);
        let err = |a: AuthSection| a.resolve(&no_env).unwrap_err();
        assert_eq!(
            err(auth(vec![entry("a", Some("short"), None)])),
            SettingsError::KeyShape("a".into())
        );
        assert_eq!(
            err(auth(vec![entry("a", None, None)])),
            SettingsError::KeySource("a".into())
        );
        assert!(matches!(
            err(auth(vec![entry("a", None, Some("NOPE"))])),
            SettingsError::KeyEnvMissing { .. }
        ));
        assert_eq!(
            err(auth(vec![
                entry("a", Some(&long), None),
                entry("b", Some(&long), None)
            ])),
            SettingsError::DuplicateKey("b".into())
        );
        assert_eq!(
            err(auth(vec![entry("a b", Some(&long), None)])),
            SettingsError::KeyName("a b".into())
        );
        let env = |v: &str| (v == "OPS_KEY").then(|| "e".repeat(20));
        let keys = auth(vec![entry("ops", None, Some("OPS_KEY"))])
            .resolve(&env)
            .unwrap();
        assert_eq!(keys.len(), 1);
        assert!(keys[0].matches(&"e".repeat(20)));
        // Debug never shows a key.
        let shown = format!("{:?} {:?}", entry("a", Some(&long), None), keys[0]);
        assert!(!shown.contains(&long) && !shown.contains("eeee"), "{shown}");
    }
}
