//! The API's front door: API keys, a rate limit per key, and JSON-only bodies.
//!
//! - **Keys** guard every route that answers from the agent or shows what callers said:
//!   `detectIntent` (`/v2/…`), `/v1/query`, `/v1/calls…`, `/metrics` ([`needs_key`]). A key is sent
//!   as `Authorization: Bearer KEY` (what Google's clients send with an access token) or
//!   `x-goog-api-key: KEY` (their API-key header); never in the URL, where logs keep it. With no
//!   key configured the routes are open, which [`crate::run`] allows only on loopback.
//! - **Rate**: a token bucket per key (`rate_per_sec` sustained, `burst` at once) on the tokio
//!   clock, so tests drive it in virtual time; over it, 429 `RESOURCE_EXHAUSTED`.
//! - **Content type**: a JSON route's POST must say `application/json`: a web page can send
//!   `text/plain`, form or multipart bodies to any origin without asking (no CORS preflight),
//!   so refusing them (415) keeps pages from driving `detectIntent` cross-site.
//!
//! Twilio and Vonage webhooks carry their own signatures ([`crate::phone::guard`]); `/healthz`
//! is open.

use crate::api::error::ApiError;
use crate::settings::SettingsError;
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use tokio::time::Instant;

/// A configured API key: its name and the SHA-256 of the secret (the secret itself is not kept).
#[derive(Clone)]
pub struct ApiKey {
    pub name: String,
    digest: [u8; 32],
    rate_per_sec: f64,
    burst: u32,
}

impl std::fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiKey")
            .field("name", &self.name)
            .field("rate_per_sec", &self.rate_per_sec)
            .field("burst", &self.burst)
            .finish_non_exhaustive()
    }
}

impl PartialEq for ApiKey {
    fn eq(&self, o: &ApiKey) -> bool {
        self.name == o.name && self.digest == o.digest
    }
}

fn digest(s: &str) -> [u8; 32] {
    Sha256::digest(s.as_bytes()).into()
}

/// Compares in time independent of where the inputs differ.
fn same(a: &[u8; 32], b: &[u8; 32]) -> bool {
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

impl ApiKey {
    /// A key: at least [`crate::settings::MIN_KEY_CHARS`] visible ASCII characters.
    pub fn new(
        name: &str,
        secret: &str,
        rate_per_sec: f64,
        burst: u32,
    ) -> Result<ApiKey, SettingsError> {
        if secret.chars().count() < crate::settings::MIN_KEY_CHARS
            || !secret.chars().all(|c| c.is_ascii_graphic())
        {
            return Err(SettingsError::KeyShape(name.to_string()));
        }
        Ok(ApiKey {
            name: name.to_string(),
            digest: digest(secret),
            rate_per_sec,
            burst: burst.max(1),
        })
    }

    pub fn matches(&self, presented: &str) -> bool {
        same(&self.digest, &digest(presented))
    }

    pub fn same_secret(&self, o: &ApiKey) -> bool {
        same(&self.digest, &o.digest)
    }
}

/// Whether `path` needs a key when keys are configured.
pub fn needs_key(path: &str) -> bool {
    path.starts_with("/v2/") || path.starts_with("/v1/") || path == "/metrics"
}

/// Whether a request to `path` with `method` carries a JSON body that must be typed as such.
fn json_route(method: &Method, path: &str) -> bool {
    method == Method::POST && (path.starts_with("/v2/") || path == "/v1/query")
}

/// A token bucket: `tokens` refill at `rate` per second up to `burst`.
struct Bucket {
    tokens: f64,
    at: Instant,
}

/// Keys, their buckets and the refusal counters (rendered on `/metrics`).
pub struct Guard {
    keys: Vec<ApiKey>,
    buckets: Vec<Mutex<Bucket>>,
    pub unauthenticated: AtomicU64,
    pub rate_limited: AtomicU64,
    pub wrong_type: AtomicU64,
}

impl Guard {
    pub fn new(keys: Vec<ApiKey>) -> Guard {
        let now = Instant::now();
        let buckets = keys
            .iter()
            .map(|k| {
                Mutex::new(Bucket {
                    tokens: f64::from(k.burst),
                    at: now,
                })
            })
            .collect();
        Guard {
            keys,
            buckets,
            unauthenticated: AtomicU64::new(0),
            rate_limited: AtomicU64::new(0),
            wrong_type: AtomicU64::new(0),
        }
    }

    pub fn has_keys(&self) -> bool {
        !self.keys.is_empty()
    }

    /// The index of the key `headers` present, if any matches.
    fn key_of(&self, headers: &HeaderMap) -> Option<usize> {
        let presented = presented_key(headers)?;
        // Every key is compared, so the time taken does not tell which one matched.
        let mut found = None;
        for (i, k) in self.keys.iter().enumerate() {
            if k.matches(presented) && found.is_none() {
                found = Some(i);
            }
        }
        found
    }

    /// Takes one token from key `i`'s bucket; `Err(seconds)` until one is due.
    fn take(&self, i: usize) -> Result<(), f64> {
        let k = &self.keys[i];
        if k.rate_per_sec == 0.0 {
            return Ok(());
        }
        let now = Instant::now();
        let mut b = self.buckets[i].lock().unwrap_or_else(|p| p.into_inner());
        let elapsed = now.saturating_duration_since(b.at).as_secs_f64();
        b.tokens = (b.tokens + elapsed * k.rate_per_sec).min(f64::from(k.burst));
        b.at = now;
        if b.tokens >= 1.0 {
            b.tokens -= 1.0;
            Ok(())
        } else {
            Err((1.0 - b.tokens) / k.rate_per_sec)
        }
    }

    /// `/metrics` lines for the refusals.
    pub fn render(&self, out: &mut String) {
        use std::fmt::Write as _;
        let _ = writeln!(
            out,
            "# HELP switchboard_api_refused_total API requests refused before reaching the agent, by reason.\n\
             # TYPE switchboard_api_refused_total counter"
        );
        for (reason, n) in [
            ("unauthenticated", &self.unauthenticated),
            ("rate_limited", &self.rate_limited),
            ("unsupported_media_type", &self.wrong_type),
        ] {
            let _ = writeln!(
                out,
                "switchboard_api_refused_total{{reason=\"{reason}\"}} {}",
                n.load(Ordering::Relaxed)
            );
        }
    }
}

/// The key a request presents: `Authorization: Bearer KEY` or `x-goog-api-key: KEY`.
fn presented_key(headers: &HeaderMap) -> Option<&str> {
    if let Some(v) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    {
        let (scheme, rest) = v.trim().split_once(' ')?;
        return scheme
            .eq_ignore_ascii_case("bearer")
            .then(|| rest.trim())
            .filter(|k| !k.is_empty());
    }
    headers
        .get("x-goog-api-key")
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|k| !k.is_empty())
}

/// `application/json`, with or without parameters (`; charset=utf-8`).
fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|t| t.trim().eq_ignore_ascii_case("application/json"))
}

fn refuse(e: ApiError, extra: Option<(header::HeaderName, HeaderValue)>) -> Response {
    let mut r = e.into_response();
    if let Some((k, v)) = extra {
        r.headers_mut().insert(k, v);
    }
    r
}

/// The middleware: keys and rate on guarded routes, then the content type of JSON routes.
pub async fn check(State(g): State<Arc<Guard>>, req: Request, next: Next) -> Response {
    let path = req.uri().path();
    if g.has_keys() && needs_key(path) {
        let had_credentials = presented_key(req.headers()).is_some();
        let Some(i) = g.key_of(req.headers()) else {
            g.unauthenticated.fetch_add(1, Ordering::Relaxed);
            let message = if had_credentials {
                "Request had invalid authentication credentials."
            } else {
                "Request is missing required authentication credential: send an API key as \
                 `Authorization: Bearer KEY` or `x-goog-api-key: KEY`."
            };
            return refuse(
                ApiError {
                    http: StatusCode::UNAUTHORIZED,
                    status: "UNAUTHENTICATED",
                    message: message.into(),
                },
                Some((header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"))),
            );
        };
        if let Err(wait) = g.take(i) {
            g.rate_limited.fetch_add(1, Ordering::Relaxed);
            let secs = wait.ceil().max(1.0) as u64;
            return refuse(
                ApiError::exhausted(format!(
                    "Rate limit exceeded for API key `{}`; retry in {secs} s.",
                    g.keys[i].name
                )),
                HeaderValue::from_str(&secs.to_string())
                    .ok()
                    .map(|v| (header::RETRY_AFTER, v)),
            );
        }
    }
    if json_route(req.method(), path) && !is_json(req.headers()) {
        g.wrong_type.fetch_add(1, Ordering::Relaxed);
        let got = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(|v| format!("`{}`", v.chars().take(100).collect::<String>()))
            .unwrap_or_else(|| "none".into());
        return refuse(
            ApiError {
                http: StatusCode::UNSUPPORTED_MEDIA_TYPE,
                status: "INVALID_ARGUMENT",
                message: format!(
                    "Unsupported content type {got}: the request body must be JSON sent as application/json."
                ),
            },
            None,
        );
    }
    next.run(req).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    #[test]
    fn keys_are_read_from_bearer_or_goog_header() {
        let g = Guard::new(vec![
            ApiKey::new("a", "aaaaaaaaaaaaaaaa", 0.0, 1).unwrap(),
            ApiKey::new("b", "bbbbbbbbbbbbbbbb", 0.0, 1).unwrap(),
        ]);
        assert_eq!(
            g.key_of(&headers(&[("authorization", "Bearer bbbbbbbbbbbbbbbb")])),
            Some(1)
        );
        assert_eq!(
            g.key_of(&headers(&[("authorization", "bearer  aaaaaaaaaaaaaaaa ")])),
            Some(0)
        );
        assert_eq!(
            g.key_of(&headers(&[("x-goog-api-key", "aaaaaaaaaaaaaaaa")])),
            Some(0)
        );
        assert_eq!(
            g.key_of(&headers(&[("authorization", "Basic aaaaaaaaaaaaaaaa")])),
            None
        );
        assert_eq!(
            g.key_of(&headers(&[("authorization", "Bearer aaaaaaaaaaaaaaab")])),
            None
        );
        assert_eq!(g.key_of(&headers(&[])), None);
    }

    #[test]
    fn paths_and_types() {
        for p in [
            "/v2/projects/p/agent/sessions/s:detectIntent",
            "/v1/query",
            "/v1/calls",
            "/v1/calls/CA1",
            "/metrics",
        ] {
            assert!(needs_key(p), "{p}");
        }
        for p in [
            "/healthz",
            "/twilio/twiml",
            "/twilio/media",
            "/vonage/answer",
            "/vonage/event",
        ] {
            assert!(!needs_key(p), "{p}");
        }
        assert!(is_json(&headers(&[("content-type", "application/json")])));
        assert!(is_json(&headers(&[(
            "content-type",
            "Application/JSON; charset=utf-8"
        )])));
        assert!(!is_json(&headers(&[("content-type", "text/plain")])));
        assert!(!is_json(&headers(&[("content-type", "application/jsonx")])));
        assert!(!is_json(&headers(&[])));
    }

    #[tokio::test(start_paused = true)]
    async fn the_bucket_refills_at_the_rate() {
        let g = Guard::new(vec![ApiKey::new("a", "aaaaaaaaaaaaaaaa", 2.0, 3).unwrap()]);
        for _ in 0..3 {
            assert!(g.take(0).is_ok());
        }
        let wait = g.take(0).unwrap_err();
        assert!((wait - 0.5).abs() < 1e-6, "{wait}");
        tokio::time::advance(std::time::Duration::from_millis(500)).await;
        assert!(g.take(0).is_ok());
        assert!(g.take(0).is_err());
        // Idle time refills up to the burst, no more.
        tokio::time::advance(std::time::Duration::from_secs(60)).await;
        for _ in 0..3 {
            assert!(g.take(0).is_ok());
        }
        assert!(g.take(0).is_err());
    }
}
