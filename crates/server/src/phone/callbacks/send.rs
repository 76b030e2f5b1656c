//! Outgoing HTTP with bounded retries, shared by the callbacks worker and the handoff client.
//!
//! Policy: up to `max_attempts` tries; timeouts, connection errors, 5xx, 408 and 429 are
//! retried after an exponentially growing pause (`backoff`, doubled each time, capped at
//! `max_backoff`); any other non-2xx status fails at once. Error texts never contain the URL
//! (it may carry credentials) nor any header.

use std::time::Duration;

/// Retry policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Tries in all (at least 1).
    pub max_attempts: u32,
    /// Pause before the second try; doubled for each further try.
    pub backoff: Duration,
    /// Longest pause between tries.
    pub max_backoff: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 3,
            backoff: Duration::from_millis(250),
            max_backoff: Duration::from_secs(5),
        }
    }
}

impl RetryPolicy {
    /// Pause after failed try number `attempt` (1-based).
    pub fn delay(&self, attempt: u32) -> Duration {
        let factor = 1u32
            .checked_shl(attempt.saturating_sub(1))
            .unwrap_or(u32::MAX);
        self.backoff
            .checked_mul(factor)
            .unwrap_or(self.max_backoff)
            .min(self.max_backoff)
    }
}

/// Why a request finally failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    /// The receiver answered with a non-success status (after retries, if retryable).
    #[error("HTTP status {status} after {attempts} attempt(s)")]
    Status { status: u16, attempts: u32 },
    /// No answer (timeout, connection refused, …) after all tries.
    #[error("request failed after {attempts} attempt(s): {message}")]
    Transport { message: String, attempts: u32 },
    /// The request could not be built (bad URL, signing error, …); not retried.
    #[error("cannot build request: {0}")]
    Build(String),
}

/// Whether a response status is worth another try.
pub fn retryable_status(status: u16) -> bool {
    status >= 500 || status == 408 || status == 429
}

/// An HTTP client for callbacks: per-request `timeout`, no redirects followed (a POST must not
/// silently turn into a GET).
pub fn client(timeout: Duration) -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(timeout)
        .connect_timeout(timeout)
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("Switchboard/", env!("CARGO_PKG_VERSION")))
        .build()
        .unwrap_or_else(|_| reqwest::Client::new())
}

/// Sends the request `make` builds (called once per try), retrying per `policy`.
/// Returns the number of tries it took.
pub async fn send_with_retry<F>(policy: &RetryPolicy, mut make: F) -> Result<u32, SendError>
where
    F: FnMut() -> Result<reqwest::RequestBuilder, SendError>,
{
    let max = policy.max_attempts.max(1);
    let mut attempt = 0;
    loop {
        attempt += 1;
        let outcome = make()?.send().await;
        let retry = match outcome {
            Ok(resp) => {
                let status = resp.status().as_u16();
                if resp.status().is_success() {
                    return Ok(attempt);
                }
                if !retryable_status(status) || attempt >= max {
                    return Err(SendError::Status {
                        status,
                        attempts: attempt,
                    });
                }
                true
            }
            Err(e) => {
                if e.is_builder() {
                    return Err(SendError::Build(e.without_url().to_string()));
                }
                if attempt >= max {
                    return Err(SendError::Transport {
                        message: e.without_url().to_string(),
                        attempts: attempt,
                    });
                }
                true
            }
        };
        if retry {
            tokio::time::sleep(policy.delay(attempt)).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_caps() {
        let p = RetryPolicy {
            max_attempts: 10,
            backoff: Duration::from_millis(100),
            max_backoff: Duration::from_millis(350),
        };
        assert_eq!(p.delay(1), Duration::from_millis(100));
        assert_eq!(p.delay(2), Duration::from_millis(200));
        assert_eq!(p.delay(3), Duration::from_millis(350));
        assert_eq!(p.delay(40), Duration::from_millis(350));
        assert!(retryable_status(503) && retryable_status(429) && !retryable_status(400));
    }
}
