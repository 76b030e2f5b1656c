//! The caller's identity reaches the agent as Dialogflow's phone gateway gives it: Twilio's
//! `From`/`To`/`CallSid` and Vonage's `from`/`to`/`uuid` are session parameters
//! (`$session.params.From`…), and every webhook request has `originalDetectIntentRequest`
//! `{"source": "GOOGLE_TELEPHONY", "payload": {"telephony": {"caller_id": "+E164"}}}`.
//! Real server, platform-side callers keying DTMF, a local fake webhook; fake speech engines.

mod callbacks_fake;
mod phone_support;

use phone_support::agents::dtmf_agent_with;
use phone_support::twilio::{fetch_twiml, run_caller, run_stream};
use phone_support::PhoneServer;
use sb_transport::Platform;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twilio_and_vonage_callers_reach_the_agent_and_its_webhook() {
    let mut hook = callbacks_fake::start(vec![]).await;
    let agent = dtmf_agent_with(Some(&hook.url("/hook")));
    let s = PhoneServer::fake(&format!(
        "[connectors.default]\nagent = \"{}\"\n",
        agent.path().display()
    ))
    .await;

    // Twilio, through our TwiML: the caller's From/To come from Twilio's TwiML request.
    let sid = "CA00000000000000000000000000000300";
    let twiml = fetch_twiml(&s, "/twilio/twiml", sid).await;
    run_stream(&twiml, sid, &["6#"]).await;
    let req = hook.next().await.json();
    assert_eq!(
        req["originalDetectIntentRequest"],
        json!({"source": "GOOGLE_TELEPHONY", "payload": {"telephony": {"caller_id": "+15550001"}}})
    );
    assert_eq!(req["queryResult"]["intent"]["displayName"], "Twilio caller");
    let (_, call) = s.get_json(&format!("/v1/calls/{sid}")).await;
    assert_eq!(
        call["parameters"],
        json!({"From": "+15550001", "To": "+15550002", "CallSid": sid})
    );
    let turns = call["turns"].as_array().expect("turns");
    assert_eq!(
        turns[1]["botText"],
        format!("From +15550001 to +15550002 on {sid}"),
        "{call}"
    );

    // Vonage: the answer URL's from/to travel as NCCO headers (see phone_routes), E.164
    // without the `+`, which the gateway's caller_id has.
    let uuid = "aaaaaaaa-bbbb-cccc-dddd-000000000301";
    let headers = [
        ("connector", "default"),
        ("from", "447700900000"),
        ("to", "447700900001"),
    ]
    .map(|(k, v)| (k.to_string(), v.to_string()));
    run_caller(
        Platform::Vonage,
        &s.ws_url(Platform::Vonage),
        uuid,
        &headers,
        &["7#"],
        None,
    )
    .await;
    let req = hook.next().await.json();
    assert_eq!(
        req["originalDetectIntentRequest"],
        json!({"source": "GOOGLE_TELEPHONY", "payload": {"telephony": {"caller_id": "+447700900000"}}})
    );
    let (_, call) = s.get_json(&format!("/v1/calls/{uuid}")).await;
    assert_eq!(
        call["parameters"],
        json!({"from": "447700900000", "to": "447700900001", "uuid": uuid})
    );
    let turns = call["turns"].as_array().expect("turns");
    assert_eq!(
        turns[1]["botText"],
        format!("From 447700900000 to 447700900001 on {uuid}"),
        "{call}"
    );
    s.stop().await;
}
