//! Console sign-in: argon2id password hashes, random session tokens kept hashed in memory (idle
//! and absolute expiry), a CSRF token per session, and bounded, throttled password checks.

use chrono::{DateTime, Duration, Utc};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::Mutex;

/// Session cookie of signed-in agents.
pub const SESSION_COOKIE: &str = "sb_console";
/// Double-submit cookie of the sign-in form.
pub const LOGIN_COOKIE: &str = "sb_login";
pub const MIN_PASSWORD_CHARS: usize = 10;
pub const MAX_PASSWORD_CHARS: usize = 1_024;
pub const MAX_NAME_CHARS: usize = 64;
/// Failed sign-ins per name before it is refused for [`THROTTLE_WINDOW_MIN`] minutes.
const MAX_FAILURES: u32 = 5;
const THROTTLE_WINDOW_MIN: i64 = 15;
const MAX_SESSIONS: usize = 10_000;

pub fn sha256(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}

/// 32 random bytes, hex.
pub fn random_token() -> String {
    let bytes: [u8; 32] = rand::random();
    hex(&bytes)
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CredentialError {
    #[error(
        "user names are 1 to {MAX_NAME_CHARS} characters: letters, digits, '.', '_', '-', '@'"
    )]
    Name,
    #[error("passwords are {MIN_PASSWORD_CHARS} to {MAX_PASSWORD_CHARS} characters")]
    PasswordLength,
    #[error("cannot hash the password: {0}")]
    Hash(String),
}

pub fn check_name(name: &str) -> Result<(), CredentialError> {
    let ok = !name.is_empty()
        && name.chars().count() <= MAX_NAME_CHARS
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '@'));
    if ok {
        Ok(())
    } else {
        Err(CredentialError::Name)
    }
}

/// Argon2id (the crate's defaults: 19 MiB, 2 passes) with a random salt, as a PHC string.
pub fn hash_password(password: &str) -> Result<String, CredentialError> {
    use argon2::password_hash::{PasswordHasher, SaltString};
    let n = password.chars().count();
    if !(MIN_PASSWORD_CHARS..=MAX_PASSWORD_CHARS).contains(&n) {
        return Err(CredentialError::PasswordLength);
    }
    let salt: [u8; 16] = rand::random();
    let salt = SaltString::encode_b64(&salt).map_err(|e| CredentialError::Hash(e.to_string()))?;
    argon2::Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| CredentialError::Hash(e.to_string()))
}

/// Whether `password` matches the PHC `hash` (false for a malformed hash).
pub fn verify_password(hash: &str, password: &str) -> bool {
    use argon2::password_hash::{PasswordHash, PasswordVerifier};
    if password.chars().count() > MAX_PASSWORD_CHARS {
        return false;
    }
    match PasswordHash::new(hash) {
        Ok(h) => argon2::Argon2::default()
            .verify_password(password.as_bytes(), &h)
            .is_ok(),
        Err(_) => false,
    }
}

/// A signed-in agent.
#[derive(Debug, Clone)]
pub struct AgentSession {
    pub user: String,
    pub admin: bool,
    pub phone: Option<String>,
    /// Sent back in `X-CSRF-Token` (or the form's `csrf` field) with every change.
    pub csrf: String,
    pub created: DateTime<Utc>,
    pub last_seen: DateTime<Utc>,
}

pub struct Auth {
    sessions: Mutex<HashMap<[u8; 32], AgentSession>>,
    failures: Mutex<HashMap<String, (u32, DateTime<Utc>)>>,
    pub idle: Duration,
    pub max_age: Duration,
    /// Bounds the CPU and memory of concurrent argon2 checks.
    pub hashing: tokio::sync::Semaphore,
}

impl Auth {
    pub fn new(idle: Duration, max_age: Duration) -> Self {
        Auth {
            sessions: Mutex::new(HashMap::new()),
            failures: Mutex::new(HashMap::new()),
            idle,
            max_age,
            hashing: tokio::sync::Semaphore::new(2),
        }
    }

    fn sessions(&self) -> std::sync::MutexGuard<'_, HashMap<[u8; 32], AgentSession>> {
        self.sessions.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Starts a session; returns the cookie token.
    pub fn start(
        &self,
        user: &str,
        admin: bool,
        phone: Option<String>,
        now: DateTime<Utc>,
    ) -> String {
        let token = random_token();
        let mut s = self.sessions();
        if s.len() >= MAX_SESSIONS {
            s.retain(|_, v| !expired(v, now, self.idle, self.max_age));
            if s.len() >= MAX_SESSIONS {
                // Drop the oldest rather than refuse a legitimate sign-in.
                if let Some(k) = s.iter().min_by_key(|(_, v)| v.last_seen).map(|(k, _)| *k) {
                    s.remove(&k);
                }
            }
        }
        s.insert(
            sha256(token.as_bytes()),
            AgentSession {
                user: user.into(),
                admin,
                phone,
                csrf: random_token(),
                created: now,
                last_seen: now,
            },
        );
        token
    }

    /// The session of `token`, refreshed; `None` if unknown or expired.
    pub fn session(&self, token: &str, now: DateTime<Utc>) -> Option<AgentSession> {
        let key = sha256(token.as_bytes());
        let mut s = self.sessions();
        let live = s
            .get(&key)
            .map(|v| !expired(v, now, self.idle, self.max_age))?;
        if !live {
            s.remove(&key);
            return None;
        }
        let v = s.get_mut(&key)?;
        v.last_seen = now;
        Some(v.clone())
    }

    /// Whether `token` is a live session (without refreshing it).
    pub fn valid(&self, token: &str, now: DateTime<Utc>) -> bool {
        self.sessions()
            .get(&sha256(token.as_bytes()))
            .is_some_and(|v| !expired(v, now, self.idle, self.max_age))
    }

    pub fn end(&self, token: &str) {
        self.sessions().remove(&sha256(token.as_bytes()));
    }

    pub fn sweep(&self, now: DateTime<Utc>) -> usize {
        let mut s = self.sessions();
        let before = s.len();
        s.retain(|_, v| !expired(v, now, self.idle, self.max_age));
        before - s.len()
    }

    fn failures(&self) -> std::sync::MutexGuard<'_, HashMap<String, (u32, DateTime<Utc>)>> {
        self.failures.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Whether `name` had too many recent failed sign-ins.
    pub fn throttled(&self, name: &str, now: DateTime<Utc>) -> bool {
        let window = Duration::minutes(THROTTLE_WINDOW_MIN);
        self.failures()
            .get(name)
            .is_some_and(|(n, first)| *n >= MAX_FAILURES && now - *first < window)
    }

    pub fn failed(&self, name: &str, now: DateTime<Utc>) {
        let window = Duration::minutes(THROTTLE_WINDOW_MIN);
        let mut f = self.failures();
        if f.len() > MAX_SESSIONS {
            f.retain(|_, (_, first)| now - *first < window);
        }
        let e = f
            .entry(name.chars().take(MAX_NAME_CHARS).collect())
            .or_insert((0, now));
        if now - e.1 >= window {
            *e = (0, now);
        }
        e.0 += 1;
    }

    pub fn succeeded(&self, name: &str) {
        self.failures().remove(name);
    }
}

fn expired(s: &AgentSession, now: DateTime<Utc>, idle: Duration, max_age: Duration) -> bool {
    now - s.last_seen >= idle || now - s.created >= max_age
}

/// The value of cookie `name` in a request's `Cookie` headers.
pub fn cookie<'a>(headers: &'a axum::http::HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// A `Set-Cookie` value: HttpOnly, SameSite=Strict, Path=/console, Secure unless `insecure`.
pub fn set_cookie(name: &str, value: &str, max_age_secs: i64, insecure: bool) -> String {
    format!(
        "{name}={value}; Path=/console; Max-Age={max_age_secs}; HttpOnly; SameSite=Strict{}",
        if insecure { "" } else { "; Secure" }
    )
}

/// Constant-time equality of two tokens.
pub fn same(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_verify_and_reject() {
        let h = hash_password("correct horse battery").unwrap_or_default();
        assert!(h.starts_with("$argon2id$"), "{h}");
        assert!(verify_password(&h, "correct horse battery"));
        assert!(!verify_password(&h, "correct horse battery!"));
        assert!(!verify_password("not a hash", "x"));
        assert_eq!(hash_password("short"), Err(CredentialError::PasswordLength));
        // Same password, different salt.
        assert_ne!(
            h,
            hash_password("correct horse battery").unwrap_or_default()
        );
    }

    #[test]
    fn names() {
        assert!(check_name("ada.lovelace@example").is_ok());
        for bad in ["", "a b", "<script>", &"x".repeat(65)] {
            assert_eq!(check_name(bad), Err(CredentialError::Name), "{bad}");
        }
    }

    #[test]
    fn sessions_expire_when_idle_and_at_max_age() {
        let a = Auth::new(Duration::minutes(30), Duration::hours(8));
        let t0 = Utc::now();
        let tok = a.start("ada", true, None, t0);
        assert!(a.session(&tok, t0 + Duration::minutes(29)).is_some());
        assert!(
            a.session(&tok, t0 + Duration::minutes(58)).is_some(),
            "refreshed"
        );
        assert!(
            a.session(&tok, t0 + Duration::minutes(90)).is_none(),
            "idle"
        );
        let tok = a.start("ada", true, None, t0);
        let mut t = t0;
        while t < t0 + Duration::hours(8) - Duration::minutes(20) {
            t += Duration::minutes(20);
            assert!(a.session(&tok, t).is_some());
        }
        assert!(
            a.session(&tok, t0 + Duration::hours(8)).is_none(),
            "max age"
        );
        assert!(a.session("bogus", t0).is_none());
        let tok = a.start("bob", false, None, t0);
        a.end(&tok);
        assert!(a.session(&tok, t0).is_none(), "signed out");
    }

    #[test]
    fn failed_sign_ins_throttle_a_name_for_a_while() {
        let a = Auth::new(Duration::minutes(30), Duration::hours(8));
        let t0 = Utc::now();
        for _ in 0..MAX_FAILURES {
            assert!(!a.throttled("ada", t0));
            a.failed("ada", t0);
        }
        assert!(a.throttled("ada", t0));
        assert!(!a.throttled("bob", t0));
        assert!(!a.throttled("ada", t0 + Duration::minutes(THROTTLE_WINDOW_MIN)));
    }

    #[test]
    fn cookies() {
        let mut h = axum::http::HeaderMap::new();
        h.append(
            "cookie",
            "a=1; sb_console=tok; b=2"
                .parse()
                .unwrap_or_else(|_| unreachable!()),
        );
        assert_eq!(cookie(&h, SESSION_COOKIE), Some("tok"));
        assert_eq!(cookie(&h, "c"), None);
        let c = set_cookie(SESSION_COOKIE, "t", 60, false);
        assert!(c.contains("HttpOnly") && c.contains("SameSite=Strict") && c.contains("Secure"));
        assert!(same("abc", "abc") && !same("abc", "abd") && !same("abc", "ab"));
    }
}
