//! The customer's TwiML app on 127.0.0.1:0: records every request (GET or POST) and answers
//! the action URL with TwiML chosen by `VirtualAgentStatus`, as a contact centre's app would:
//! a handoff is dialled, a pause goes to a payment `<Gather>` (whose answer, `/paid`, redirects
//! to Switchboard's TwiML resuming the paused session), anything else hangs up. Status callbacks get an empty 200.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, Uri};
use tokio::sync::mpsc;

/// The TwiML the app answers a handoff with.
pub const DIAL: &str = "<Response><Dial>+15550100</Dial></Response>";
/// The TwiML the app answers a pause with (its IVR step).
pub const GATHER: &str =
    "<Response><Gather input=\"dtmf\" numDigits=\"4\" action=\"/paid\"/></Response>";
pub const HANGUP: &str = "<Response><Hangup/></Response>";

#[derive(Debug, Clone)]
pub struct Seen {
    pub method: Method,
    pub path: String,
    /// Query (GET) or form body (POST) fields, in order.
    pub fields: Vec<(String, String)>,
    pub signature: Option<String>,
    /// The full URL as requested (for signature checks).
    pub url: String,
}

impl Seen {
    pub fn field(&self, k: &str) -> &str {
        self.fields
            .iter()
            .find(|(n, _)| n == k)
            .map_or("", |(_, v)| v.as_str())
    }

    pub fn keys(&self) -> Vec<&str> {
        self.fields.iter().map(|(k, _)| k.as_str()).collect()
    }
}

fn decode(s: &str) -> Vec<(String, String)> {
    super::app::decode_form(s)
}

struct Shared {
    tx: mpsc::UnboundedSender<Seen>,
    base: String,
    /// Switchboard's base URL, for the TwiML that resumes a paused session.
    switchboard: std::sync::Mutex<String>,
    /// `EndUserId` of the last paused session (as an app keeps it, e.g. in Twilio Sync).
    paused_end_user: std::sync::Mutex<String>,
}

/// The TwiML the app answers its `<Gather>`'s action with: back to the bot, resuming the
/// paused session with the event `PAID`.
pub fn resume_twiml(switchboard: &str, end_user_id: &str) -> String {
    format!(
        "<Response><Redirect method=\"POST\">{switchboard}/twilio/twiml/default?\
         config.resumeEndUserId={end_user_id}&amp;config.resumeEventName=PAID</Redirect></Response>"
    )
}

async fn handle(
    State(s): State<std::sync::Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> ([(&'static str, &'static str); 1], String) {
    let fields = if method == Method::GET {
        decode(uri.query().unwrap_or(""))
    } else {
        decode(std::str::from_utf8(&body).unwrap_or(""))
    };
    let seen = Seen {
        method,
        path: uri.path().to_string(),
        url: format!(
            "{}{}",
            s.base,
            uri.path_and_query().map_or("", |p| p.as_str())
        ),
        signature: headers
            .get("x-twilio-signature")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string),
        fields,
    };
    if seen.field("VirtualAgentStatus") == "paused" {
        let data: serde_json::Value =
            serde_json::from_str(seen.field("VirtualAgentProviderData")).unwrap_or_default();
        *s.paused_end_user.lock().unwrap() = data["EndUserId"].as_str().unwrap_or("").into();
    }
    let twiml = match (seen.path.as_str(), seen.field("VirtualAgentStatus")) {
        ("/status", _) => String::new(),
        ("/paid", _) => resume_twiml(
            &s.switchboard.lock().unwrap(),
            &s.paused_end_user.lock().unwrap(),
        ),
        (_, "live-agent-handoff") => DIAL.into(),
        (_, "paused") => GATHER.into(),
        _ => HANGUP.into(),
    };
    let _ = s.tx.send(seen);
    ([("content-type", "text/xml")], twiml)
}

pub struct Customer {
    pub base: String,
    pub rx: mpsc::UnboundedReceiver<Seen>,
    shared: std::sync::Arc<Shared>,
}

impl Customer {
    pub async fn start() -> Customer {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let (tx, rx) = mpsc::unbounded_channel();
        let shared = std::sync::Arc::new(Shared {
            tx,
            base: base.clone(),
            switchboard: Default::default(),
            paused_end_user: Default::default(),
        });
        let app = axum::Router::new()
            .fallback(handle)
            .with_state(shared.clone());
        tokio::spawn(async move { axum::serve(listener, app).await });
        Customer { base, rx, shared }
    }

    /// Where the app sends the call back to resume a paused session.
    pub fn set_switchboard(&self, base: &str) {
        *self.shared.switchboard.lock().unwrap() = base.to_string();
    }

    /// The next request (fails after 20 s).
    pub async fn next(&mut self) -> Seen {
        tokio::time::timeout(std::time::Duration::from_secs(20), self.rx.recv())
            .await
            .expect("no request to the customer's app within 20 s")
            .expect("customer app gone")
    }

    /// Every request received so far.
    pub fn drain(&mut self) -> Vec<Seen> {
        let mut out = Vec::new();
        while let Ok(s) = self.rx.try_recv() {
            out.push(s);
        }
        out
    }
}
