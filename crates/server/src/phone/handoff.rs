//! Moving a live call away from Switchboard (live-agent handoff) through the platform's REST API.
//!
//! * Twilio: `POST {base}/2010-04-01/Accounts/{AccountSid}/Calls/{CallSid}.json`, HTTP basic
//!   auth (account SID, auth token), form body `Twiml=…` ([`Handoff::twilio_end_twiml`]). As
//!   Twilio's Dialogflow Media Streams sample does at the end of interaction, the redirect is
//!   `<Response><Redirect>{url}?dialogflowJSON={encodeURIComponent(JSON)}</Redirect></Response>`
//!   (`&` instead of `?` when the URL already has a query; Twilio fetches a `<Redirect>` with
//!   POST), the JSON being [`dialogflow_json`]; a `telephonyTransferCall` without such a URL
//!   dials its number; otherwise the call hangs up. The sample sends `Twiml`, not `Url`, so the
//!   DF result travels in the redirect URL. Calls started by our TwiML need none of this: the
//!   same TwiML is the answer to Twilio's `<Connect action>` request (`super::action`).
//! * Vonage: `PUT {base}/v1/calls/{uuid}` with `Authorization: Bearer <application JWT>` and
//!   `{"action":"transfer","destination":{"type":"ncco","ncco":[…]}}`: an optional `talk`
//!   followed by `connect` to the agent's `transfer_to` number; without one, the configured
//!   NCCO, else `connect` to the configured number.
//!
//! Retries as for callbacks (5xx, 408, 429 and timeouts; not other 4xx). Errors go back to the
//! caller, which logs them; the `action` callback fires regardless.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use sb_call::EndStatus;
use sb_transport::{ncco, twiml_dial, twiml_redirect, TwilioCredentials, VonageJwtSigner};
use serde_json::{json, Value};

use super::callbacks::send::{self, RetryPolicy, SendError};
use super::callbacks::{CallInfo, Transport};

/// Lifetime of the JWT minted for each Vonage request.
pub const VONAGE_JWT_TTL_SECS: u64 = 300;

/// REST endpoints and credentials. `Debug` never shows secrets.
#[derive(Clone)]
pub struct HandoffConfig {
    /// Default `https://api.twilio.com`.
    pub twilio_api_base: String,
    pub twilio: Option<TwilioCredentials>,
    /// Default `https://api.nexmo.com`.
    pub vonage_api_base: String,
    /// Vonage application id and its private key (PEM).
    pub vonage: Option<(String, String)>,
    /// Twilio: where a handed-off call is redirected when no `end_of_interaction_url` is set
    /// (the connector's `action`).
    pub action_url: Option<String>,
    /// Twilio: `END_OF_INTERACTION_URL` of Twilio's Dialogflow sample: every end of interaction
    /// (end of conversation, handoff, transfer) is redirected there.
    pub end_of_interaction_url: Option<String>,
    /// Vonage: the NCCO to transfer to (over the configured number; an agent's transfer number wins).
    pub transfer_ncco: Option<Value>,
    /// Vonage: number to connect when the agent gave no `transfer_to`.
    pub transfer_number: Option<String>,
    /// Vonage: caller id for the `connect` (a number of the Vonage account).
    pub transfer_from: Option<String>,
    /// Vonage: said before connecting, if set.
    pub transfer_text: Option<String>,
    pub timeout: Duration,
    pub retry: RetryPolicy,
}

impl Default for HandoffConfig {
    fn default() -> Self {
        Self {
            twilio_api_base: "https://api.twilio.com".into(),
            twilio: None,
            vonage_api_base: "https://api.nexmo.com".into(),
            vonage: None,
            action_url: None,
            end_of_interaction_url: None,
            transfer_ncco: None,
            transfer_number: None,
            transfer_from: None,
            transfer_text: None,
            timeout: Duration::from_secs(10),
            retry: RetryPolicy::default(),
        }
    }
}

impl std::fmt::Debug for HandoffConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HandoffConfig")
            .field("twilio_api_base", &self.twilio_api_base)
            .field("twilio", &self.twilio)
            .field("vonage_api_base", &self.vonage_api_base)
            .field(
                "vonage",
                &self.vonage.as_ref().map(|(id, _)| (id, "<redacted>")),
            )
            .field("action_url", &self.action_url.is_some())
            .field(
                "end_of_interaction_url",
                &self.end_of_interaction_url.is_some(),
            )
            .field("transfer_ncco", &self.transfer_ncco.is_some())
            .field("transfer_number", &self.transfer_number.is_some())
            .finish()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HandoffError {
    #[error("no {0} credentials configured")]
    NotConfigured(&'static str),
    #[error("no transfer destination (NCCO or phone number)")]
    NoDestination,
    #[error("invalid transfer NCCO: {0}")]
    BadNcco(String),
    #[error("signing: {0}")]
    Signing(String),
    #[error("call update rejected: HTTP {status}")]
    Rejected { status: u16 },
    #[error("call update failed: {0}")]
    Failed(SendError),
}

impl From<SendError> for HandoffError {
    fn from(e: SendError) -> Self {
        match e {
            SendError::Status { status, .. } if !send::retryable_status(status) => {
                HandoffError::Rejected { status }
            }
            other => HandoffError::Failed(other),
        }
    }
}

/// REST client for handoffs.
pub struct Handoff {
    cfg: HandoffConfig,
    client: reqwest::Client,
    vonage: Option<Result<VonageJwtSigner, String>>,
}

impl Handoff {
    /// Parses the Vonage key now (an invalid key surfaces as [`HandoffError::Signing`] on use).
    pub fn new(cfg: HandoffConfig) -> Self {
        let vonage = cfg.vonage.as_ref().map(|(id, pem)| {
            VonageJwtSigner::new(id, pem).map_err(|e| {
                tracing::error!(error = %e, "handoff: invalid Vonage application key");
                e.to_string()
            })
        });
        let client = send::client(cfg.timeout);
        Self {
            cfg,
            client,
            vonage,
        }
    }

    /// Moves the live call: Twilio call update with [`Handoff::twilio_end_twiml`], or Vonage
    /// NCCO transfer. `query_result` is the final DF query result.
    pub async fn handoff(
        &self,
        call: &CallInfo,
        status: &EndStatus,
        query_result: &Value,
    ) -> Result<(), HandoffError> {
        match call.transport {
            Transport::Twilio => self.twilio(call, status, query_result).await,
            Transport::Vonage => self.vonage(call, status).await,
        }
    }

    async fn twilio(
        &self,
        call: &CallInfo,
        status: &EndStatus,
        query_result: &Value,
    ) -> Result<(), HandoffError> {
        let creds = self
            .cfg
            .twilio
            .as_ref()
            .ok_or(HandoffError::NotConfigured("Twilio"))?;
        let account = if call.account_sid.is_empty() {
            &creds.account_sid
        } else {
            &call.account_sid
        };
        let url = format!(
            "{}/2010-04-01/Accounts/{}/Calls/{}.json",
            self.cfg.twilio_api_base.trim_end_matches('/'),
            encode_uri_component(account),
            encode_uri_component(&call.call_id)
        );
        let form = [("Twiml", self.twilio_end_twiml(status, query_result))];
        send::send_with_retry(&self.cfg.retry, || {
            Ok(self
                .client
                .post(&url)
                .basic_auth(&creds.account_sid, Some(&creds.auth_token))
                .form(&form))
        })
        .await?;
        Ok(())
    }

    async fn vonage(&self, call: &CallInfo, status: &EndStatus) -> Result<(), HandoffError> {
        let signer = match &self.vonage {
            None => return Err(HandoffError::NotConfigured("Vonage")),
            Some(Err(e)) => return Err(HandoffError::Signing(e.clone())),
            Some(Ok(s)) => s,
        };
        let body = sb_transport::ncco_transfer(self.vonage_ncco(status)?)
            .map_err(|e| HandoffError::BadNcco(e.to_string()))?;
        let url = format!(
            "{}/v1/calls/{}",
            self.cfg.vonage_api_base.trim_end_matches('/'),
            encode_uri_component(&call.call_id)
        );
        send::send_with_retry(&self.cfg.retry, || {
            let now = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_secs());
            let jwt = signer
                .token(now, VONAGE_JWT_TTL_SECS)
                .map_err(|e| SendError::Build(e.to_string()))?;
            Ok(self.client.put(&url).bearer_auth(jwt).json(&body))
        })
        .await
        .map_err(|e| match e {
            SendError::Build(m) => HandoffError::Signing(m),
            other => other.into(),
        })?;
        Ok(())
    }

    /// Whether a Twilio call that ended with `status` is moved by a call update (rather than
    /// just hung up): always after a handoff, and after any end of interaction when an
    /// `end_of_interaction_url` is set.
    pub fn moves_twilio_call(&self, status: &EndStatus) -> bool {
        match status {
            EndStatus::LiveAgentHandoff { .. } => true,
            EndStatus::Completed => self.cfg.end_of_interaction_url.is_some(),
            _ => false,
        }
    }

    /// The TwiML that continues a Twilio call after the bot: with an `end_of_interaction_url`,
    /// every end of interaction redirects there with `dialogflowJSON` (as Twilio's Dialogflow
    /// sample does); else a transfer dials its number, a handoff redirects to `action_url`, and
    /// anything else hangs up.
    pub fn twilio_end_twiml(&self, status: &EndStatus, query_result: &Value) -> String {
        let interaction_ended = matches!(
            status,
            EndStatus::Completed | EndStatus::LiveAgentHandoff { .. }
        );
        if let (Some(url), true) = (&self.cfg.end_of_interaction_url, interaction_ended) {
            return twilio_twiml(Some(url), query_result);
        }
        if let Some(number) = transfer_target(status) {
            return twiml_dial(number);
        }
        match status {
            EndStatus::LiveAgentHandoff { .. } => {
                twilio_twiml(self.cfg.action_url.as_deref(), query_result)
            }
            _ => sb_transport::twiml_hangup(),
        }
    }

    /// The NCCO a Vonage call is transferred to.
    pub fn vonage_ncco(&self, status: &EndStatus) -> Result<Value, HandoffError> {
        let agent_target = transfer_target(status);
        if let (Some(ncco), None) = (&self.cfg.transfer_ncco, agent_target) {
            return Ok(ncco.clone());
        }
        let number = agent_target
            .or(self.cfg.transfer_number.as_deref())
            .filter(|n| !n.trim().is_empty())
            .ok_or(HandoffError::NoDestination)?;
        let connect = ncco::ncco_connect_phone(number, self.cfg.transfer_from.as_deref());
        let mut actions = Vec::new();
        if let Some(text) = &self.cfg.transfer_text {
            actions.push(json!({"action": "talk", "text": text}));
        }
        if let Value::Array(items) = connect {
            actions.extend(items);
        }
        Ok(Value::Array(actions))
    }
}

/// The number a `telephonyTransferCall` asked for, if the call ends with one.
pub fn transfer_target(status: &EndStatus) -> Option<&str> {
    match status {
        EndStatus::LiveAgentHandoff {
            transfer_to: Some(n),
            ..
        } if !n.trim().is_empty() => Some(n.trim()),
        _ => None,
    }
}

/// `dialogflowJSON` as Twilio's Dialogflow sample sends it: of the final query result, the
/// intent's `name` and `displayName`, and the `parameters`, in the sample's key order (so the
/// text is the sample's byte for byte).
pub fn dialogflow_json(query_result: &Value) -> String {
    let s = |p: &str| {
        Value::from(
            query_result
                .pointer(p)
                .and_then(Value::as_str)
                .unwrap_or(""),
        )
    };
    let params = query_result
        .get("parameters")
        .filter(|p| p.is_object())
        .cloned()
        .unwrap_or_else(|| json!({}));
    format!(
        "{{\"intent\":{{\"name\":{},\"displayName\":{}}},\"parameters\":{}}}",
        s("/intent/name"),
        s("/intent/displayName"),
        params
    )
}

/// The `Twiml` of the Twilio call update: a redirect to `action_url` with the
/// [`dialogflow_json`] of `query_result`, else a hang-up.
pub fn twilio_twiml(action_url: Option<&str>, query_result: &Value) -> String {
    match action_url {
        Some(url) => {
            let sep = if url.contains('?') { '&' } else { '?' };
            let target = format!(
                "{url}{sep}dialogflowJSON={}",
                encode_uri_component(&dialogflow_json(query_result))
            );
            twiml_redirect(&target)
        }
        None => "<Response><Hangup/></Response>".into(),
    }
}

/// JavaScript's `encodeURIComponent`: UTF-8 percent-encoding of all but
/// `A-Z a-z 0-9 - _ . ! ~ * ' ( )`.
pub fn encode_uri_component(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for &b in s.as_bytes() {
        if b.is_ascii_alphanumeric() || b"-_.!~*'()".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uri_component() {
        assert_eq!(encode_uri_component("a b&c/é!"), "a%20b%26c%2F%C3%A9!");
    }

    #[test]
    fn twiml_forms() {
        let v = json!({"parameters": {"n": 1}, "intent": {"displayName": "A", "name": "p/i/1"}});
        assert_eq!(
            dialogflow_json(&v),
            r#"{"intent":{"name":"p/i/1","displayName":"A"},"parameters":{"n":1}}"#
        );
        assert_eq!(
            twilio_twiml(Some("https://x/y?k=1"), &v),
            "<Response><Redirect>https://x/y?k=1&amp;dialogflowJSON=%7B%22intent%22%3A%7B%22name%22%3A%22p%2Fi%2F1%22%2C%22displayName%22%3A%22A%22%7D%2C%22parameters%22%3A%7B%22n%22%3A1%7D%7D</Redirect></Response>"
        );
        assert_eq!(twilio_twiml(None, &v), "<Response><Hangup/></Response>");
    }
}
