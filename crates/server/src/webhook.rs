//! Fulfillment webhook client: POSTs the dialog's `WebhookRequest`, bounded in time and response size.
//!
//! Failures never escape as errors: they become `WebhookOutcome::Failed` with a google.rpc code
//! (4 DEADLINE_EXCEEDED, 14 UNAVAILABLE, 13 INTERNAL) so the dialog uses the static response and reports
//! `webhookStatus`. Credentials (basic auth, custom headers) are sent but never logged. Agents on the
//! V1 API get the V1 request body, their V1 replies are read, and failures are worded as V1 did.

use reqwest::header::{HeaderName, HeaderValue, CONTENT_TYPE};
use sb_nlu::agent::WebhookConfig;
use sb_nlu::dialog::PendingTurn;
use sb_nlu::webhook::{v1, WebhookFailure, WebhookFormat, WebhookOutcome, WebhookRequest};
use std::time::Duration;

/// DF's limit on the webhook response body.
pub const MAX_RESPONSE_BYTES: usize = 64 * 1024;

#[derive(Clone)]
pub struct WebhookClient {
    http: reqwest::Client,
    timeout: Duration,
    max_body: usize,
    /// The server's clock: the V1 request's `timestamp`.
    clock: std::sync::Arc<dyn crate::clock::Clock>,
}

impl WebhookClient {
    pub fn new(
        timeout: Duration,
        clock: std::sync::Arc<dyn crate::clock::Clock>,
    ) -> Result<Self, reqwest::Error> {
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
            clock,
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
                WebhookFailure::Timeout.outcome(cfg.format)
            }
        }
    }

    async fn call_inner(&self, request: &WebhookRequest, cfg: &WebhookConfig) -> WebhookOutcome {
        match self.exchange(request, cfg).await {
            Ok((status, body)) => WebhookOutcome::from_body_as(cfg.format, status, &body),
            Err(f) => f.outcome(cfg.format),
        }
    }

    /// POSTs the request in the agent's format; the reply's status and (bounded) body.
    async fn exchange(
        &self,
        request: &WebhookRequest,
        cfg: &WebhookConfig,
    ) -> Result<(u16, Vec<u8>), WebhookFailure> {
        let url = match reqwest::Url::parse(&cfg.url) {
            Ok(u) if matches!(u.scheme(), "http" | "https") => u,
            _ => return Err(WebhookFailure::InvalidUrl),
        };
        let body = match cfg.format {
            WebhookFormat::V2 => serde_json::to_vec(request),
            WebhookFormat::V1 => serde_json::to_vec(&v1::request(request, self.clock.now())),
        }
        .map_err(|_| WebhookFailure::Internal("cannot encode request"))?;
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
                return Err(WebhookFailure::InvalidHeader(k.clone()));
            };
            value.set_sensitive(true);
            req = req.header(name, value);
        }
        let mut resp = req.body(body).send().await.map_err(transport_error)?;
        let status = resp.status().as_u16();
        if let Some(len) = resp.content_length() {
            if len > self.max_body as u64 {
                return Err(WebhookFailure::TooLarge(self.max_body));
            }
        }
        let mut buf = Vec::new();
        while let Some(chunk) = resp.chunk().await.map_err(transport_error)? {
            if buf.len() + chunk.len() > self.max_body {
                return Err(WebhookFailure::TooLarge(self.max_body));
            }
            buf.extend_from_slice(&chunk);
        }
        Ok((status, buf))
    }
}

fn transport_error(e: reqwest::Error) -> WebhookFailure {
    if e.is_timeout() {
        return WebhookFailure::Timeout;
    }
    // `without_url` keeps any credentials embedded in the URL out of messages and logs.
    let e = e.without_url();
    tracing::warn!(error = %e, "webhook call failed");
    WebhookFailure::Unreachable {
        connect: e.is_connect(),
    }
}
