//! Our TwiML mirrors `<Connect><VirtualAgent>`: the test plays Twilio (fetches our TwiML, runs
//! its stream with a platform-side caller, then requests the `<Connect action>` URL) against
//! the real server, with the customer's TwiML app as a local server; the TwiML that app answers
//! (`<Dial>`, `<Gather>`) is what Twilio gets back. Fake speech engines; the caller keys DTMF.

mod phone_support;

use phone_support::agents::dtmf_agent;
use phone_support::customer::{Customer, DIAL, GATHER, HANGUP};
use phone_support::twilio::{fetch_twiml, request_action, run_stream, standard_fields, Twiml};
use phone_support::PhoneServer;
use serde_json::{json, Value};

fn provider_data(seen: &phone_support::customer::Seen) -> Value {
    serde_json::from_str(seen.field("VirtualAgentProviderData")).expect("provider data JSON")
}

/// Waits until the server's queued callbacks are sent.
async fn flush(s: &PhoneServer) {
    for c in s.phone.connectors.values() {
        c.callbacks.flush().await;
    }
}

async fn server(agent: &std::path::Path, extra: &str) -> PhoneServer {
    PhoneServer::fake(&format!(
        "[connectors.default]\nagent = \"{}\"\n{extra}",
        agent.display()
    ))
    .await
}

const VA_FIELDS: [&str; 3] = [
    "VirtualAgentProvider",
    "VirtualAgentStatus",
    "VirtualAgentProviderData",
];

/// Per-call `action` (GET) and `statusCallback` (GET) from the TwiML URL; a handoff: the
/// customer's app gets exactly Twilio's standard fields and the `VirtualAgent*` ones, and its
/// `<Dial>` is what Twilio runs next.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn handoff_runs_the_customers_dial() {
    let agent = dtmf_agent();
    let mut app = Customer::start().await;
    let s = server(agent.path(), "").await;
    let path = format!(
        "/twilio/twiml?connectorName=default&action={0}/after&method=GET&statusCallback={0}/status&statusCallbackMethod=GET&member_id=m-7",
        app.base
    );
    let sid = "CA00000000000000000000000000000001";
    let twiml = fetch_twiml(&s, &path, sid).await;
    assert_eq!(
        twiml.action,
        format!("http://{}/twilio/action?connector=default", s.host)
    );
    assert_eq!(twiml.stream_url, format!("ws://{}/twilio/media", s.host));
    assert_eq!(
        twiml.params,
        [
            ("connector", "default"),
            ("actionHop", "1"),
            ("action", &format!("{}/after", app.base)),
            ("method", "GET"),
            ("statusCallback", &format!("{}/status", app.base)),
            ("statusCallbackMethod", "GET"),
            ("From", "+15550001"),
            ("To", "+15550002"),
            ("member_id", "m-7"),
        ]
        .map(|(k, v)| (k.to_string(), v.to_string()))
    );

    run_stream(&twiml, sid, &["1#"]).await;
    let before = [app.next().await, app.next().await];
    // Nothing reaches the action URL before Twilio asks for it.
    flush(&s).await;
    assert!(app.drain().is_empty());
    for r in &before {
        assert_eq!(r.path, "/status");
        assert_eq!(r.method, "GET");
        assert_eq!(r.field("StatusCallbackEvent"), "intent");
        assert_eq!(r.field("CallSid"), sid);
    }

    let (status, body) = request_action(&s, &twiml, sid).await;
    assert_eq!((status, body.as_str()), (200, DIAL));
    let seen = app.next().await;
    assert_eq!(seen.method, "GET");
    assert_eq!(seen.path, "/after");
    let mut expected: Vec<String> = standard_fields(sid, "in-progress")
        .into_iter()
        .map(|(k, _)| k)
        .collect();
    expected.extend(VA_FIELDS.map(String::from));
    assert_eq!(seen.keys(), expected);
    assert_eq!(seen.field("CallStatus"), "in-progress");
    assert_eq!(seen.field("VirtualAgentStatus"), "live-agent-handoff");
    assert_eq!(seen.field("VirtualAgentProvider"), "DialogflowES");
    let data = provider_data(&seen);
    assert_eq!(data["EndUserId"], sid);
    assert_eq!(
        data["AgentHandoffParameters"],
        json!({"live_agent_handoff": true, "queue": "billing"})
    );
    let (_, call) = s.get_json(&format!("/v1/calls/{sid}")).await;
    assert_eq!(call["status"], "live-agent-handoff", "{call}");
    assert_eq!(
        call["parameters"],
        json!({"From": "+15550001", "To": "+15550002", "member_id": "m-7", "CallSid": sid})
    );
    // The ending is used once: a second request finds no session, and the call's own action
    // URL is not known without it (the connector has none): Twilio is told to hang up.
    let (status, body) = request_action(&s, &twiml, sid).await;
    assert_eq!((status, body.as_str()), (200, HANGUP));
    flush(&s).await;
    assert!(app.drain().is_empty());
    s.stop().await;
}

/// The connector's `action` with POST (Twilio's default); a pause: `PauseParameters` has the
/// payload with `$session.params.member_id` filled in, and the app's IVR `<Gather>` comes back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pause_runs_the_customers_gather() {
    let agent = dtmf_agent();
    let mut app = Customer::start().await;
    let s = server(agent.path(), &format!("action = \"{}/after\"\n", app.base)).await;
    let sid = "CA00000000000000000000000000000002";
    let twiml = fetch_twiml(&s, "/twilio/twiml/default?member_id=abc123", sid).await;
    run_stream(&twiml, sid, &["3#"]).await;
    flush(&s).await;
    assert!(
        app.drain().is_empty(),
        "no callback before Twilio's request"
    );
    let (status, body) = request_action(&s, &twiml, sid).await;
    assert_eq!((status, body.as_str()), (200, GATHER));
    let seen = app.next().await;
    assert_eq!(seen.method, "POST");
    assert_eq!(seen.field("VirtualAgentStatus"), "paused");
    assert_eq!(
        provider_data(&seen)["PauseParameters"],
        json!({"memberId": "abc123", "paymentAmount": "$122.34"})
    );
    s.stop().await;
}

/// An unknown `<Config>` fails the session at once with the reason, and never becomes a session
/// parameter; known ones given bare in the TwiML URL become `config.` parameters.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_config_fails_the_call_clearly() {
    let agent = dtmf_agent();
    let mut app = Customer::start().await;
    let s = server(agent.path(), &format!("action = \"{}/after\"\n", app.base)).await;
    let sid = "CA00000000000000000000000000000003";
    let twiml = fetch_twiml(
        &s,
        "/twilio/twiml?welcomeIntent=WELCOME&config.voiceSpeed=2&Config.sentimentAnalysis=true",
        sid,
    )
    .await;
    assert_eq!(twiml.param("config.welcomeIntent"), Some("WELCOME"));
    assert_eq!(twiml.param("config.voiceSpeed"), Some("2"));
    assert_eq!(twiml.param("config.sentimentAnalysis"), Some("true"));
    run_stream(&twiml, sid, &[]).await;
    let (status, body) = request_action(&s, &twiml, sid).await;
    assert_eq!(status, 200, "{body}");
    let seen = app.next().await;
    assert_eq!(seen.field("VirtualAgentStatus"), "failed");
    assert_eq!(seen.field("VirtualAgentErrorCode"), "32601");
    let error = seen.field("VirtualAgentError");
    assert!(
        error.starts_with("unknown <Config> name `voiceSpeed` (known: language, "),
        "{error}"
    );
    let (_, call) = s.get_json(&format!("/v1/calls/{sid}")).await;
    assert_eq!(call["status"], "failed", "{call}");
    assert_eq!(call["error"], error, "{call}");
    assert_eq!(
        call["parameters"],
        json!({"From": "+15550001", "To": "+15550002", "CallSid": sid})
    );
    s.stop().await;
}

/// `<Config>`s this server cannot honour are refused, each with its reason; those it can are
/// taken: `language` among the export's languages (the agent answers in it), the default
/// voice and speech model.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn config_is_honoured_or_refused() {
    let agent = dtmf_agent();
    let mut app = Customer::start().await;
    let s = server(agent.path(), &format!("action = \"{}/after\"\n", app.base)).await;
    let sid = "CA00000000000000000000000000000005";
    let twiml = fetch_twiml(
        &s,
        "/twilio/twiml?config.language=fr-FR&config.voiceName=en-US-Wavenet-C&config.speechModel=phone_call&config.voiceModel=mine&config.speechModelVariant=USE_ENHANCED",
        sid,
    )
    .await;
    run_stream(&twiml, sid, &[]).await;
    let (status, _) = request_action(&s, &twiml, sid).await;
    assert_eq!(status, 200);
    let seen = app.next().await;
    assert_eq!(seen.field("VirtualAgentStatus"), "failed");
    assert_eq!(
        seen.field("VirtualAgentError"),
        "language `fr-FR` is not a language of the agent (languages: en, es); \
         speechModelVariant `USE_ENHANCED` is not available (only the standard model is); \
         voiceModel `mine` is not available (no custom voice models); \
         speechModel `phone_call` is not configured (models: default = whisper-tiny.en); \
         voiceName `en-US-Wavenet-C` is not installed (voices: default)"
    );

    let sid = "CA00000000000000000000000000000006";
    let twiml = fetch_twiml(
        &s,
        "/twilio/twiml?config.language=en-US&config.voiceName=default&config.speechModel=default&config.speechModelVariant=USE_BEST_AVAILABLE",
        sid,
    )
    .await;
    run_stream(&twiml, sid, &["2#"]).await;
    let (status, _) = request_action(&s, &twiml, sid).await;
    assert_eq!(status, 200);
    let seen = app.next().await;
    assert_eq!(seen.field("VirtualAgentStatus"), "completed", "{seen:?}");
    let (_, call) = s.get_json(&format!("/v1/calls/{sid}")).await;
    assert_eq!(said(&call), ["Welcome", "Goodbye"], "{call}");

    // Another language of the export: the agent understands and answers in it.
    let sid = "CA00000000000000000000000000000007";
    let twiml = fetch_twiml(&s, "/twilio/twiml?config.language=es-ES", sid).await;
    run_stream(&twiml, sid, &["2#"]).await;
    request_action(&s, &twiml, sid).await;
    assert_eq!(app.next().await.field("VirtualAgentStatus"), "completed");
    let (_, call) = s.get_json(&format!("/v1/calls/{sid}")).await;
    assert_eq!(said(&call), ["Bienvenido", "Adiós"], "{call}");
    assert_eq!(call["turns"][1]["intent"], "Goodbye", "{call}");
    s.stop().await;
}

/// What the bot said in each turn of a call record.
fn said(call: &Value) -> Vec<String> {
    call["turns"]
        .as_array()
        .map(|t| {
            t.iter()
                .map(|t| t["botText"].as_str().unwrap_or("").to_string())
                .collect()
        })
        .unwrap_or_default()
}

/// The action hop checks Twilio's signature when the connector has an auth token, and answers
/// only with URLs of the connector or the call, never one named by the request.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn action_requests_are_signed_and_name_no_url() {
    let agent = dtmf_agent();
    let mut app = Customer::start().await;
    let s = server(
        agent.path(),
        &format!(
            "action = \"{}/after\"\n[connectors.default.twilio]\nauth_token = \"tok\"\n",
            app.base
        ),
    )
    .await;
    let sid = "CA00000000000000000000000000000004";
    let url = format!(
        "{}/twilio/action?connector=default&action=http://127.0.0.1:9/x",
        s.base
    );
    let form = standard_fields(sid, "in-progress");
    let r = s.http.post(&url).form(&form).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 403);
    let public = format!(
        "https://{}/twilio/action?connector=default&action=http://127.0.0.1:9/x",
        s.host
    );
    let refs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let sig = sb_transport::twilio_signature("tok", &public, &refs);
    let r = s
        .http
        .post(&url)
        .header("x-twilio-signature", sig)
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert_eq!(r.text().await.unwrap(), HANGUP);
    // The connector's action URL got the request (a failed session: none ran), signed.
    let seen = app.next().await;
    assert_eq!(seen.path, "/after");
    assert_eq!(seen.field("VirtualAgentStatus"), "failed");
    let refs: Vec<(&str, &str)> = seen
        .fields
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let expected = sb_transport::twilio_signature("tok", &seen.url, &refs);
    assert_eq!(seen.signature.as_deref(), Some(expected.as_str()));
    s.stop().await;
}

#[test]
fn twiml_reads_back() {
    let t = Twiml::parse(
        "<Response><Connect action=\"http://h/a?x=1&amp;y=2\" method=\"POST\"><Stream url=\"ws://h/m\"><Parameter name=\"a\" value=\"&quot;b&quot;\"/></Stream></Connect></Response>",
    );
    assert_eq!(t.action, "http://h/a?x=1&y=2");
    assert_eq!(t.params, [("a".to_string(), "\"b\"".to_string())]);
}
