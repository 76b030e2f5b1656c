//! Fulfillment webhook client: POSTs the dialog's `WebhookRequest`, bounded in time and response size.
//!
//! Failures never escape as errors: they become `WebhookOutcome::Failed` with a google.rpc code
//! (4 DEADLINE_EXCEEDED, 14 UNAVAILABLE, 13 INTERNAL) so the dialog uses the static response and reports
//! `webhookStatus`. Credentials (basic auth, custom headers) are sent but never logged.

use reqwest::header::{HeaderName, HeaderValue, CONTENT_TYPE};
use sb_nlu::agent::WebhookConfig;
use sb_nlu::dialog::PendingTurn;
use sb_nlu::webhook::WebhookOutcome;
use sb_nlu::webhook::WebhookRequest;
use std::time::Duration;

/// DF's limit on the webhook response body.
pub const MAX_RESPONSE_BYTES: usize = 64 * 1024;

#[derive(Clone)]
pub struct WebhookClient {
    http: reqwest::Client,
    timeout: Duration,
    max_body: usize,
}

fn failed(code: i32, message: impl Into<String>) -> WebhookOutcome {
    WebhookOutcome::Failed {
        code,
        message: message.into(),
    }
}

fn deadline() -> WebhookOutcome {
    failed(4, "Webhook call failed. Error: DEADLINE_EXCEEDED.")
}

impl WebhookClient {
    pub fn new(timeout: Duration) -> Result<Self, reqwest::Error> {
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(timeout)
            .pool_idle_timeout(Duration::from_secs(60))
            .user_agent(concat!("switchboard/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(WebhookClient {
            http,
            timeout,
            max_body: MAX_RESPONSE_BYTES,
        })
    }

    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// Calls the webhook of a pending turn and classifies the result.
    pub async fn call(&self, pending: &PendingTurn) -> WebhookOutcome {
        self.call_with(&pending.request, &pending.webhook).await
    }

    /// Calls `cfg`'s webhook with `request` (the phone path gets them from the call session).
    pub async fn call_with(&self, request: &WebhookRequest, cfg: &WebhookConfig) -> WebhookOutcome {
        match tokio::time::timeout(self.timeout, self.call_inner(request, cfg)).await {
            Ok(outcome) => outcome,
            Err(_) => {
                tracing::warn!(session = %request.session, "webhook timed out after {:?}", self.timeout);
                deadline()
            }
        }
    }

    async fn call_inner(&self, request: &WebhookRequest, cfg: &WebhookConfig) -> WebhookOutcome {
        let url = match reqwest::Url::parse(&cfg.url) {
            Ok(u) if matches!(u.scheme(), "http" | "https") => u,
            _ => return failed(
                14,
                "Webhook call failed. Error: UNAVAILABLE, State: URL_ERROR, Reason: invalid URL.",
            ),
        };
        let body = match serde_json::to_vec(request) {
            Ok(b) => b,
            Err(_) => {
                return failed(
                    13,
                    "Webhook call failed. Error: INTERNAL, cannot encode request.",
                )
            }
        };
        let mut req = self
            .http
            .post(url)
            .timeout(self.timeout)
            .header(CONTENT_TYPE, "application/json");
        if let Some(user) = &cfg.username {
            req = req.basic_auth(user, cfg.password.as_ref());
        }
        for (k, v) in &cfg.headers {
            let (Ok(name), Ok(mut value)) = (
                HeaderName::from_bytes(k.as_bytes()),
                HeaderValue::from_str(v),
            ) else {
                return failed(
                    14,
                    format!("Webhook call failed. Error: UNAVAILABLE, invalid header `{k}`."),
                );
            };
            value.set_sensitive(true);
            req = req.header(name, value);
        }
        let mut resp = match req.body(body).send().await {
            Ok(r) => r,
            Err(e) => return transport_error(e),
        };
        let status = resp.status().as_u16();
        if let Some(len) = resp.content_length() {
            if len > self.max_body as u64 {
                return too_large(self.max_body);
            }
        }
        let mut buf = Vec::new();
        loop {
            match resp.chunk().await {
                Ok(Some(chunk)) => {
                    if buf.len() + chunk.len() > self.max_body {
                        return too_large(self.max_body);
                    }
                    buf.extend_from_slice(&chunk);
                }
                Ok(None) => break,
                Err(e) => return transport_error(e),
            }
        }
        WebhookOutcome::from_body(status, &buf)
    }
}

fn too_large(limit: usize) -> WebhookOutcome {
    failed(13, format!("Webhook call failed. Error: INTERNAL, webhook response too large (limit {limit} bytes)."))
}

fn transport_error(e: reqwest::Error) -> WebhookOutcome {
    if e.is_timeout() {
        return deadline();
    }
    // `without_url` keeps any credentials embedded in the URL out of messages and logs.
    let e = e.without_url();
    tracing::warn!(error = %e, "webhook call failed");
    let reason = if e.is_connect() {
        "connection failed"
    } else {
        "request failed"
    };
    failed(
        14,
        format!(
            "Webhook call failed. Error: UNAVAILABLE, State: URL_UNREACHABLE, Reason: {reason}."
        ),
    )
}
