//! The end of interaction of Twilio's Dialogflow guide (seed 001): at every end (end of
//! conversation, handoff, transfer) the call is redirected to `END_OF_INTERACTION_URL` with
//! `dialogflowJSON`, and the guide's own Twilio Function, run by a Node test double
//! (`tests/seed001/function.js`, which also checks the JSON and its encoding byte for byte
//! against what the sample writes), decides what the call does next. Fake speech engines; the
//! caller keys DTMF into a small agent whose handoff intent is the guide's `speak-to-an-agent`.

mod callbacks_fake;
mod phone_support;
#[path = "fulfillment/support.rs"]
mod support;

use phone_support::agents::dtmf_agent;
use phone_support::twilio::{fetch_twiml, request_action, run_caller, run_stream, standard_fields};
use phone_support::PhoneServer;
use sb_transport::Platform;
use serde_json::{json, Value};
use std::process::Stdio;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, BufReader};

const AGENT_NUMBER: &str = "+15550123";

/// `node tests/seed001/function.js` on a free port.
struct SeedFunction {
    base: String,
    _child: tokio::process::Child,
}

async fn seed_function() -> Option<SeedFunction> {
    let spawned = tokio::process::Command::new("node")
        .arg("function.js")
        .current_dir(support::test_path("seed001"))
        .env("PORT", "0")
        .env("AGENT_NUMBER", AGENT_NUMBER)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn();
    let mut child = match spawned {
        Ok(c) => c,
        Err(e) => return support::missing(&format!("cannot run node ({e})")),
    };
    let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
    let line = tokio::time::timeout(Duration::from_secs(30), lines.next_line())
        .await
        .expect("the seed Function did not start")
        .expect("stdout")
        .expect("a first line");
    let port: u16 = line
        .strip_prefix("listening ")
        .and_then(|p| p.trim().parse().ok())
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"));
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    Some(SeedFunction {
        base: format!("http://127.0.0.1:{port}"),
        _child: child,
    })
}

/// The URL of `<Response><Redirect>URL</Redirect></Response>`.
fn redirect_target(twiml: &str) -> String {
    let inner = twiml
        .strip_prefix("<Response><Redirect>")
        .and_then(|t| t.strip_suffix("</Redirect></Response>"))
        .unwrap_or_else(|| panic!("not a redirect: {twiml}"));
    inner.replace("&amp;", "&")
}

/// `dialogflowJSON` of a redirect URL, decoded.
fn dialogflow_json(url: &str) -> Value {
    let u = reqwest::Url::parse(url).unwrap();
    let (_, v) = u
        .query_pairs()
        .find(|(k, _)| k == "dialogflowJSON")
        .expect("dialogflowJSON");
    serde_json::from_str(&v).unwrap()
}

/// Twilio fetches a `<Redirect>` with POST and its standard fields; returns what the Function
/// answered.
async fn follow(s: &PhoneServer, url: &str, sid: &str) -> String {
    let r = s
        .http
        .post(url)
        .form(&standard_fields(sid, "in-progress"))
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    let body = r.text().await.unwrap();
    assert_eq!(status, 200, "the Function: {body}");
    body
}

fn twiml_of(verbs: &str) -> String {
    format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response>{verbs}</Response>")
}

/// Calls started by our TwiML: the answer to Twilio's `<Connect action>` request is the
/// redirect, for a handoff, an end of conversation and a transfer alike.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_end_redirects_to_the_guides_function() {
    let Some(f) = seed_function().await else {
        return;
    };
    let agent = dtmf_agent();
    let s = PhoneServer::fake(&format!(
        "[connectors.default]\nagent = \"{}\"\nend_of_interaction_url = \"{}/eoi\"\n",
        agent.path().display(),
        f.base
    ))
    .await;
    let cases = [
        (
            "1#",
            "speak-to-an-agent",
            twiml_of(&format!("<Dial>{AGENT_NUMBER}</Dial>")),
        ),
        ("2#", "Goodbye", twiml_of("<Hangup/>")),
        ("5#", "Transfer", twiml_of("<Hangup/>")),
    ];
    for (i, (keys, intent, expected)) in cases.iter().enumerate() {
        let sid = format!("CA0000000000000000000000000000010{i}");
        let twiml = fetch_twiml(&s, "/twilio/twiml", &sid).await;
        run_stream(&twiml, &sid, &[keys]).await;
        let (status, answer) = request_action(&s, &twiml, &sid).await;
        assert_eq!(status, 200, "{answer}");
        let url = redirect_target(&answer);
        assert!(
            url.starts_with(&format!("{}/eoi?dialogflowJSON=", f.base)),
            "{url}"
        );
        let df = dialogflow_json(&url);
        assert_eq!(df["intent"]["displayName"], *intent, "{df}");
        assert!(
            df["intent"]["name"]
                .as_str()
                .is_some_and(|n| n.ends_with(&format!("/intents/id-{intent}"))),
            "{df}"
        );
        assert_eq!(df["parameters"], json!({}));
        assert_eq!(follow(&s, &url, &sid).await, *expected, "{intent}");
    }
    s.stop().await;
}

/// A stream opened by the customer's own `<Connect><Stream>` (no action hop): the live call is
/// redirected through Twilio's REST API, now also at a plain end of conversation.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn end_of_conversation_redirects_a_live_call_through_rest() {
    let Some(f) = seed_function().await else {
        return;
    };
    let agent = dtmf_agent();
    let mut rest = callbacks_fake::start(vec![]).await;
    let s = PhoneServer::fake(&format!(
        "[connectors.default]\nagent = \"{}\"\nend_of_interaction_url = \"{}/eoi?from=sb\"\n\
         [connectors.default.twilio]\naccount_sid = \"ACtest\"\nauth_token = \"tok\"\napi_base = \"{}\"\n",
        agent.path().display(),
        f.base,
        rest.url("")
    ))
    .await;
    let sid = "CA00000000000000000000000000000200";
    let params = [("connector".to_string(), "default".to_string())];
    let url = s.ws_url(Platform::Twilio);
    run_caller(Platform::Twilio, &url, sid, &params, &["2#"], Some("tok")).await;
    let update = rest.next().await;
    assert_eq!(
        update.uri,
        format!("/2010-04-01/Accounts/ACtest/Calls/{sid}.json")
    );
    let twiml = update.field("Twiml").expect("Twiml");
    let url = redirect_target(&twiml);
    assert!(
        url.starts_with(&format!("{}/eoi?from=sb&dialogflowJSON=", f.base)),
        "{url}"
    );
    assert_eq!(follow(&s, &url, sid).await, twiml_of("<Hangup/>"));
    let (_, call) = s.get_json(&format!("/v1/calls/{sid}")).await;
    assert_eq!(call["status"], "completed", "{call}");
    assert_eq!(call["hangup"], "end-of-conversation", "{call}");
    s.stop().await;
}
