//! Live-agent handoff by voice (release, real models): the caller asks for a person; on Twilio
//! the call is redirected through the (fake) REST API and the app gets its callbacks; on Vonage
//! the `disconnected` event of the stream leg gets the transfer NCCO.

mod phone_support;

use phone_support::app::{decode_form, fake_app, field};
use phone_support::{PhoneServer, QUIET_VOICE};
use sb_speech::models::ModelStore;
use sb_speech::tts::{EspeakTts, Tts};
use sb_testkit::{place_call, CallOptions, HungUpBy, Platform, Script, Voices};
use serde_json::json;
use std::sync::Arc;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn caller_asks_for_a_person() {
    let (app, mut seen) = fake_app().await;
    let toml = format!(
        "[phone]\nasr_workers = 1\nasr_threads = 2\n[connectors.default]\nstatus_callback = \"{app}/status\"\naction = \"{app}/action\"\n\
         [connectors.default.twilio]\naccount_sid = \"ACtest\"\nauth_token = \"tok\"\napi_base = \"{app}\"\n\
         [connectors.default.vonage]\ntransfer_number = \"15550100\"\n"
    );
    let (asr, tts, caller) = tokio::task::spawn_blocking(|| {
        let (asr, tts) = switchboard::phone::setup::load_models_with(2, "en", None, QUIET_VOICE)
            .expect("models");
        let paths = ModelStore::from_env().paths().expect("model paths");
        let caller: Arc<dyn Tts> = Arc::new(EspeakTts::load_voice(&paths, "en-us").expect("voice"));
        (asr, tts, caller)
    })
    .await
    .unwrap();
    let s = PhoneServer::start(&toml, asr, tts).await;
    let voices = Voices::new(caller, None);
    let script = Script::from_toml_str(
        "[call]\ngreeting = true\n[[turn]]\nsay = \"I want to speak to an agent\"\nexpect_hangup = true\n",
    )
    .unwrap();

    // Twilio: REST redirect, status callbacks, action callback.
    let mut console = s.state.web.hub.subscribe();
    let mut opts = CallOptions::new(Platform::Twilio, s.ws_url(Platform::Twilio));
    opts.twilio_auth_token = Some("tok".into());
    let report = place_call(opts, script.clone(), &voices).await;
    eprintln!("{report}");
    assert_eq!(report.hung_up_by, HungUpBy::Bot, "{report}");
    let sid = report.call_id.clone();
    let mut intents = Vec::new();
    let (mut redirect, mut action) = (None, None);
    while redirect.is_none() || action.is_none() || intents.len() < 2 {
        let (path, body) = seen.recv().await.expect("fake app");
        match path.as_str() {
            "status" => intents.push(decode_form(&body)),
            "action" => action = Some(decode_form(&body)),
            p if p.starts_with("2010-04-01/Accounts/")
                && p.ends_with(&format!("/Calls/{sid}.json")) =>
            {
                redirect = Some(decode_form(&body))
            }
            other => panic!("unexpected request to /{other}"),
        }
    }
    let redirect = redirect.unwrap();
    assert!(
        field(&redirect, "Twiml").contains("<Redirect"),
        "{redirect:?}"
    );
    let action = action.unwrap();
    assert_eq!(field(&action, "VirtualAgentStatus"), "live-agent-handoff");
    assert_eq!(field(&action, "CallSid"), sid);
    let data: serde_json::Value =
        serde_json::from_str(field(&action, "VirtualAgentProviderData")).unwrap();
    assert_eq!(
        data["AgentHandoffParameters"],
        json!({"live_agent_handoff": true, "reason": "caller asked for a person"})
    );
    let names: Vec<String> = intents
        .iter()
        .map(|f| {
            let d: serde_json::Value =
                serde_json::from_str(field(f, "VirtualAgentProviderData")).unwrap();
            d["IntentDisplayName"].as_str().unwrap_or("").to_string()
        })
        .collect();
    assert_eq!(names, ["Default Welcome Intent", "Live Agent Handoff"]);
    let (_, call) = s.get_json(&format!("/v1/calls/{sid}")).await;
    assert_eq!(call["status"], "live-agent-handoff");
    // The agents' console has the call in its queue, with the reason and the transcript.
    loop {
        let ev: serde_json::Value =
            serde_json::from_str(&console.recv().await.expect("console event")).unwrap();
        if ev["type"] == "conv"
            && ev["conv"]["id"] == sid.as_str()
            && ev["conv"]["status"]["state"] == "queued"
        {
            assert_eq!(ev["conv"]["channel"], "phone");
            assert_eq!(ev["conv"]["status"]["reason"], "caller asked for a person");
            break;
        }
    }
    let conv = s
        .state
        .web
        .hub
        .find(&sid)
        .await
        .unwrap()
        .expect("the call in the console");
    let said: Vec<(String, Option<String>)> = conv
        .entries
        .iter()
        .filter(|e| e.who == switchboard::web::model::Who::Customer)
        .map(|e| {
            (
                e.text.to_lowercase(),
                e.nlu.as_ref().and_then(|n| n.intent.clone()),
            )
        })
        .collect();
    assert_eq!(said.len(), 1, "{said:?}");
    assert!(said[0].0.contains("agent"), "{said:?}");
    assert_eq!(said[0].1.as_deref(), Some("Live Agent Handoff"));

    // Vonage: no REST credentials, so the stream leg's `disconnected` event continues the call.
    let opts = CallOptions::new(Platform::Vonage, s.ws_url(Platform::Vonage));
    let report = place_call(opts, script, &voices).await;
    assert_eq!(report.hung_up_by, HungUpBy::Bot, "{report}");
    let r = s
        .http
        .post(format!("{}/vonage/event", s.base))
        .json(&json!({"status": "disconnected", "uuid": report.call_id}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let ncco: serde_json::Value = r.json().await.unwrap();
    assert_eq!(
        ncco,
        json!([{"action": "connect", "endpoint": [{"type": "phone", "number": "15550100"}]}])
    );
    let metrics = s.metrics().await;
    for needle in [
        "switchboard_turn_reply_latency_seconds_count 2\n",
        "switchboard_turn_asr_seconds_count 2\n",
        "switchboard_calls_total{transport=\"twilio\",outcome=\"live-agent-handoff\"} 1\n",
        "switchboard_calls_total{transport=\"vonage\",outcome=\"live-agent-handoff\"} 1\n",
    ] {
        assert!(metrics.contains(needle), "missing {needle} in\n{metrics}");
    }
    for line in metrics
        .lines()
        .filter(|l| l.ends_with("_sum") || l.contains("_sum ") || l.contains("_count "))
    {
        eprintln!("{line}");
    }
    s.stop().await;
}
