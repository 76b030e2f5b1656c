//! Connector callbacks: what the customer's app receives, as with Twilio `<Connect><VirtualAgent>`
//! (`statusCallback` on each intent, `action` URL at session end) plus the Vonage reference
//! connector's per-turn analytics JSON.
//!
//! [`Callbacks::intent`], [`Callbacks::analytics`] and [`Callbacks::ended`] never block: they build
//! the body and `try_send` it to one background worker over a bounded queue; when the queue is
//! full the callback is dropped and counted ([`CallbackStats::dropped`]). The worker sends one
//! request at a time (so a call's callbacks arrive in order), retrying per [`RetryPolicy`].
//!
//! Signing: with [`CallbackConfig::auth_token`] set, every request carries `X-Twilio-Signature`
//! computed as Twilio does: over the URL and the sorted form parameters; for the JSON analytics
//! body, over the URL with a `bodySHA256=<hex SHA-256 of the body>` query parameter appended
//! (Twilio's scheme for JSON webhooks), with no form parameters.

mod payload;
pub mod send;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use sb_call::{EndStatus, TurnRecord};
use sb_nlu::dialog::TurnResult;
use serde_json::Value;
use sha2::{Digest, Sha256};
use tokio::sync::{mpsc, oneshot};

pub use payload::{
    analytics_json, ended_form, intent_form, status_name, virtual_agent_fields, FAILED_ERROR_CODE,
    NO_SENTIMENT,
};

pub use super::params::{HttpMethod, Overrides};
pub use send::{RetryPolicy, SendError};

/// Which platform carries the call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    Twilio,
    Vonage,
}

/// Identity of a call, as the callbacks report it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallInfo {
    /// Twilio `CallSid` or Vonage call `uuid`.
    pub call_id: String,
    /// Twilio `AccountSid` (empty for Vonage unless the driver knows one).
    pub account_sid: String,
    pub transport: Transport,
    /// The connector (agent) name.
    pub connector: String,
    pub end_user_id: String,
    pub conversation_id: String,
    /// Language of the session (used when the query result has no `languageCode`).
    pub language: String,
    /// This call's `statusCallback` / `action` (and methods), over the connector's.
    pub overrides: Overrides,
}

impl CallInfo {
    /// Where this call's `statusCallback` goes, and how.
    fn status_target(&self, cfg: &CallbackConfig) -> Option<(String, HttpMethod)> {
        let o = &self.overrides;
        let url = o
            .status_callback
            .as_ref()
            .or(cfg.status_callback.as_ref())?;
        let method = o
            .status_callback_method
            .unwrap_or(cfg.status_callback_method);
        Some((url.clone(), method))
    }

    /// Where this call's `action` request goes, and how.
    pub fn action_target(&self, cfg: &CallbackConfig) -> Option<(String, HttpMethod)> {
        let o = &self.overrides;
        let url = o.action.as_ref().or(cfg.action.as_ref())?;
        let method = o.action_method.unwrap_or(cfg.action_method);
        Some((url.clone(), method))
    }
}

/// Where callbacks go and how they are sent. `Debug` never shows the auth token.
#[derive(Clone)]
pub struct CallbackConfig {
    /// `statusCallback` URL (form request on each intent match).
    pub status_callback: Option<String>,
    /// `statusCallbackMethod` (Twilio's default: POST).
    pub status_callback_method: HttpMethod,
    /// `action` URL (form request at session end).
    pub action: Option<String>,
    /// `<Connect method>` of the action URL (Twilio's default: POST).
    pub action_method: HttpMethod,
    /// Analytics URL (JSON POST per turn, Vonage reference connector shape).
    pub analytics: Option<String>,
    /// Twilio auth token: sign requests with `X-Twilio-Signature` when set.
    pub auth_token: Option<String>,
    /// `VirtualAgentProvider`.
    pub provider: String,
    /// Per-request timeout.
    pub timeout: Duration,
    /// Tries per callback (≥ 1).
    pub max_attempts: u32,
    /// Pause before the first retry (doubled for each further one, capped at `max_backoff`).
    pub backoff: Duration,
    pub max_backoff: Duration,
    /// Callbacks waiting for the worker; more are dropped.
    pub queue: usize,
}

impl Default for CallbackConfig {
    fn default() -> Self {
        let retry = RetryPolicy::default();
        Self {
            status_callback: None,
            status_callback_method: HttpMethod::Post,
            action: None,
            action_method: HttpMethod::Post,
            analytics: None,
            auth_token: None,
            provider: "DialogflowES".into(),
            timeout: Duration::from_secs(10),
            max_attempts: retry.max_attempts,
            backoff: retry.backoff,
            max_backoff: retry.max_backoff,
            queue: 256,
        }
    }
}

impl std::fmt::Debug for CallbackConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CallbackConfig")
            .field("status_callback", &self.status_callback.is_some())
            .field("action", &self.action.is_some())
            .field("analytics", &self.analytics.is_some())
            .field(
                "auth_token",
                &self.auth_token.as_ref().map(|_| "<redacted>"),
            )
            .field("provider", &self.provider)
            .field("timeout", &self.timeout)
            .field("max_attempts", &self.max_attempts)
            .field("queue", &self.queue)
            .finish()
    }
}

/// Counters since start.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CallbackStats {
    /// Delivered (2xx).
    pub sent: u64,
    /// Given up on (non-retryable status, or retries exhausted).
    pub failed: u64,
    /// Not queued: the queue was full (or no worker runs).
    pub dropped: u64,
}

#[derive(Default)]
struct Counters {
    sent: AtomicU64,
    failed: AtomicU64,
    dropped: AtomicU64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Intent,
    Ended,
    Analytics,
}

enum Body {
    Form(Vec<(String, String)>),
    Json(Value),
}

struct Job {
    kind: Kind,
    call_id: String,
    url: String,
    method: HttpMethod,
    body: Body,
}

enum Msg {
    Job(Job),
    Flush(oneshot::Sender<()>),
}

/// Handle to the callback worker. Dropping it lets the worker finish the queue and stop.
pub struct Callbacks {
    cfg: Arc<CallbackConfig>,
    tx: Option<mpsc::Sender<Msg>>,
    counters: Arc<Counters>,
}

impl Callbacks {
    /// Starts the worker on the current tokio runtime. Outside a runtime no worker starts (an
    /// error is logged) and every callback counts as dropped.
    pub fn new(cfg: CallbackConfig) -> Self {
        let cfg = Arc::new(cfg);
        let counters = Arc::new(Counters::default());
        let (tx, rx) = mpsc::channel(cfg.queue.max(1));
        let tx = match tokio::runtime::Handle::try_current() {
            Ok(handle) => {
                handle.spawn(worker(cfg.clone(), counters.clone(), rx));
                Some(tx)
            }
            Err(_) => {
                tracing::error!("callbacks: no tokio runtime; callbacks are disabled");
                None
            }
        };
        Self { cfg, tx, counters }
    }

    /// `statusCallback` `intent` event for one engine answer. Never blocks.
    pub fn intent(
        &self,
        call: &CallInfo,
        result: &TurnResult,
        sentiment: Option<(f32, f32)>,
        now: DateTime<Utc>,
    ) {
        let Some((url, method)) = call.status_target(&self.cfg) else {
            return;
        };
        let form = intent_form(call, &self.cfg.provider, result, sentiment, now);
        self.enqueue(Kind::Intent, call, &url, method, Body::Form(form));
    }

    /// Per-turn analytics JSON. Never blocks.
    pub fn analytics(&self, call: &CallInfo, record: &TurnRecord) {
        let Some(url) = &self.cfg.analytics else {
            return;
        };
        let body = analytics_json(call, record);
        self.enqueue(
            Kind::Analytics,
            call,
            url,
            HttpMethod::Post,
            Body::Json(body),
        );
    }

    /// `action` URL request at session end. Never blocks.
    pub fn ended(&self, call: &CallInfo, status: &EndStatus) {
        let Some((url, method)) = call.action_target(&self.cfg) else {
            return;
        };
        let form = ended_form(call, &self.cfg.provider, status);
        self.enqueue(Kind::Ended, call, &url, method, Body::Form(form));
    }

    /// The settings these callbacks were made with.
    pub fn config(&self) -> &CallbackConfig {
        &self.cfg
    }

    fn enqueue(&self, kind: Kind, call: &CallInfo, url: &str, method: HttpMethod, body: Body) {
        let job = Job {
            kind,
            call_id: call.call_id.clone(),
            url: url.to_owned(),
            method,
            body,
        };
        let queued = self
            .tx
            .as_ref()
            .is_some_and(|tx| tx.try_send(Msg::Job(job)).is_ok());
        if !queued {
            let n = self.counters.dropped.fetch_add(1, Ordering::Relaxed) + 1;
            // Rate-limited: an overflow storm must not turn into a logging storm.
            if n == 1 || n.is_multiple_of(100) {
                tracing::warn!(call = %call.call_id, ?kind, dropped = n, "callback queue full; dropped");
            }
        }
    }

    /// Waits until every callback queued before this call has been sent or given up on.
    pub async fn flush(&self) {
        let Some(tx) = &self.tx else {
            return;
        };
        let (done, wait) = oneshot::channel();
        if tx.send(Msg::Flush(done)).await.is_ok() {
            let _ = wait.await;
        }
    }

    pub fn stats(&self) -> CallbackStats {
        CallbackStats {
            sent: self.counters.sent.load(Ordering::Relaxed),
            failed: self.counters.failed.load(Ordering::Relaxed),
            dropped: self.counters.dropped.load(Ordering::Relaxed),
        }
    }
}

async fn worker(cfg: Arc<CallbackConfig>, counters: Arc<Counters>, mut rx: mpsc::Receiver<Msg>) {
    let client = send::client(cfg.timeout);
    let policy = RetryPolicy {
        max_attempts: cfg.max_attempts.max(1),
        backoff: cfg.backoff,
        max_backoff: cfg.max_backoff,
    };
    while let Some(msg) = rx.recv().await {
        let job = match msg {
            Msg::Flush(done) => {
                let _ = done.send(());
                continue;
            }
            Msg::Job(job) => job,
        };
        let token = cfg.auth_token.as_deref();
        let result = send::send_with_retry(&policy, || Ok(build(&client, token, &job))).await;
        match result {
            Ok(_) => {
                counters.sent.fetch_add(1, Ordering::Relaxed);
            }
            Err(e) => {
                counters.failed.fetch_add(1, Ordering::Relaxed);
                tracing::warn!(call = %job.call_id, kind = ?job.kind, error = %e, "callback failed");
            }
        }
    }
}

/// Lower-case hex of SHA-256(`body`).
fn sha256_hex(body: &[u8]) -> String {
    Sha256::digest(body)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The signed request for `job` (signed again per try: the signature does not depend on time).
fn build(client: &reqwest::Client, token: Option<&str>, job: &Job) -> reqwest::RequestBuilder {
    match &job.body {
        Body::Form(form) => form_request(client, token, &job.url, job.method, form),
        Body::Json(value) => {
            let bytes = value.to_string().into_bytes();
            let url = match token {
                Some(_) => {
                    let sep = if job.url.contains('?') { '&' } else { '?' };
                    format!("{}{sep}bodySHA256={}", job.url, sha256_hex(&bytes))
                }
                None => job.url.clone(),
            };
            let mut req = client
                .post(&url)
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(bytes);
            if let Some(token) = token {
                let sig = sb_transport::twilio_signature(token, &url, &[]);
                req = req.header("X-Twilio-Signature", sig);
            }
            req
        }
    }
}

/// A form request as Twilio makes it: POST with a form body, or GET with the fields appended
/// to the query; signed (`X-Twilio-Signature`) when `token` is set: over the URL and the sorted
/// fields for POST, over the whole URL for GET.
pub fn form_request(
    client: &reqwest::Client,
    token: Option<&str>,
    url: &str,
    method: HttpMethod,
    form: &[(String, String)],
) -> reqwest::RequestBuilder {
    let pairs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    match method {
        HttpMethod::Post => {
            let mut req = client.post(url).form(form);
            if let Some(token) = token {
                let sig = sb_transport::twilio_signature(token, url, &pairs);
                req = req.header("X-Twilio-Signature", sig);
            }
            req
        }
        HttpMethod::Get => {
            let full = with_query(url, &pairs);
            let mut req = client.get(&full);
            if let Some(token) = token {
                let sig = sb_transport::twilio_signature(token, &full, &[]);
                req = req.header("X-Twilio-Signature", sig);
            }
            req
        }
    }
}

/// `url` with `pairs` form-encoded onto its query (after any query it has).
pub fn with_query(url: &str, pairs: &[(&str, &str)]) -> String {
    if pairs.is_empty() {
        return url.to_string();
    }
    let encoded: String = reqwest::Url::parse_with_params("http://x/", pairs)
        .ok()
        .and_then(|u| u.query().map(str::to_string))
        .unwrap_or_default();
    let sep = if url.contains('?') { '&' } else { '?' };
    format!("{url}{sep}{encoded}")
}
