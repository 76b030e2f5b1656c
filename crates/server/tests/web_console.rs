//! The web chat and the agents' console over HTTP (what the widget and the console page do):
//! turns through the engine, live events, the handoff queue, take-over, replies, resolve,
//! history, export, "call" through a Twilio test double, and sign-in security.

mod common;
mod web_support;

use common::{example_agent, TestServer};
use serde_json::{json, Value};
use web_support::*;

async fn server() -> Option<TestServer> {
    let agent = example_agent("restaurant")?;
    let s = TestServer::simple(common::engine(&agent, None)).await;
    add_user(&s.state, "ada", Some("+15005550001")).await;
    Some(s)
}

#[tokio::test]
async fn chat_turns_go_through_the_engine_and_show_live_in_the_console() {
    let Some(s) = server().await else { return };
    let agent = Console::sign_in(&s.base, "ada").await;
    let mut ev = agent.events().await;
    let (chat, start) = Chat::start(&s.base).await;
    assert!(bot_texts(&start).iter().any(|t| !t.is_empty()), "{start}");
    let r = chat
        .say("I'd like a table for Nicole tomorrow at 7pm")
        .await;
    let reply = bot_texts(&r).join(" ");
    assert!(reply.contains("Table booked for Nicole"), "{r}");
    // The console saw the customer's words, then what the bot understood of them.
    let entry = ev
        .until(|d| d["type"] == "entry" && d["entry"]["who"] == "customer")
        .await;
    assert_eq!(entry.data["conv"], json!(chat.id));
    assert_eq!(
        entry.data["entry"]["text"],
        "I'd like a table for Nicole tomorrow at 7pm"
    );
    let nlu = ev.until(|d| d["type"] == "nlu").await.data["nlu"].clone();
    assert_eq!(nlu["intent"], "Table Booker");
    assert_eq!(nlu["parameters"]["person"]["name"], "Nicole");
    assert!(nlu["sentiment"]["score"].is_number(), "{nlu}");
    let bot = ev
        .until(|d| d["type"] == "entry" && d["entry"]["who"] == "bot")
        .await;
    assert_eq!(bot.data["entry"]["text"].as_str(), Some(reply.as_str()));
    // The live list has it; the whole transcript is readable.
    let (code, st) = agent.get("state").await;
    assert_eq!(code, 200);
    assert!(st["live"]
        .as_array()
        .is_some_and(|l| l.iter().any(|m| m["id"] == json!(chat.id))));
    let (_, conv) = agent.get(&format!("conversations/{}", chat.id)).await;
    let who: Vec<&str> = conv["entries"]
        .as_array()
        .map(|a| a.iter().filter_map(|e| e["who"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(who, ["bot", "customer", "bot"]);
    // A reload resumes the same chat.
    let (code, h) = chat.call("history", json!({})).await;
    assert_eq!(code, 200);
    assert_eq!(h["entries"].as_array().map(Vec::len), Some(3));
    // A wrong key is not this chat.
    let (code, _) = chat
        .client
        .post(format!("{}/chat/api/say", s.base))
        .json(&json!({"id": chat.id, "key": "0".repeat(64), "text": "hi"}))
        .send()
        .await
        .map(|r| (r.status().as_u16(), ()))
        .expect("say");
    assert_eq!(code, 410);
    s.stop().await;
}

#[tokio::test]
async fn handoff_queue_take_over_reply_hand_back_resolve_history_export() {
    let Some(s) = server().await else { return };
    let agent = Console::sign_in(&s.base, "ada").await;
    // Two customers ask for a person; the queue is oldest first with the reason.
    let (first, _) = Chat::start(&s.base).await;
    let r = first.say("I want to speak to an agent").await;
    assert_eq!(r["status"], "queued", "{r}");
    let (second, _) = Chat::start(&s.base).await;
    let (code, r) = second.call("person", json!({})).await;
    assert_eq!((code, r["status"].as_str()), (200, Some("queued")));
    let (_, st) = agent.get("state").await;
    let queue: Vec<(&str, &str)> = st["queue"]
        .as_array()
        .map(|q| {
            q.iter()
                .map(|m| {
                    (
                        m["id"].as_str().unwrap_or_default(),
                        m["status"]["reason"].as_str().unwrap_or_default(),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    assert_eq!(
        queue,
        [
            (first.id.as_str(), "caller asked for a person"),
            (second.id.as_str(), "customer asked for a person")
        ]
    );

    // Changes need the CSRF token and a matching origin.
    let url = format!("{}/console/api/conversations/{}/take", s.base, first.id);
    for (csrf, origin) in [
        ("", s.base.as_str()),
        (agent.csrf.as_str(), "http://evil.test"),
    ] {
        let code = agent
            .client
            .post(&url)
            .header("cookie", &agent.cookie)
            .header("x-csrf-token", csrf)
            .header("origin", origin)
            .send()
            .await
            .map(|r| r.status().as_u16())
            .expect("post");
        assert_eq!(code, 403);
    }
    let mut customer = first.events().await;
    let (code, _) = agent
        .post(&format!("conversations/{}/take", first.id), json!({}))
        .await;
    assert_eq!(code, 200);
    let joined = customer.until(|d| d["type"] == "entry").await;
    assert_eq!(joined.data["entry"]["text"], "ada joined the chat.");
    // The bot is silent while a person has the chat.
    let r = first.say("Hello? Is anyone there?").await;
    assert_eq!(r, json!({"entries": [], "status": "agent"}));
    let (code, _) = agent
        .post(
            &format!("conversations/{}/reply", first.id),
            json!({"text": "Hi, I'm Ada. How can I help?"}),
        )
        .await;
    assert_eq!(code, 200);
    let said = customer.until(|d| d["type"] == "entry").await;
    assert_eq!(said.data["entry"]["who"], "agent");
    assert_eq!(said.data["entry"]["agent"], "ada");
    assert_eq!(said.data["entry"]["text"], "Hi, I'm Ada. How can I help?");
    // Someone else cannot reply; empty and oversized replies are refused.
    add_user(&s.state, "bob", None).await;
    let bob = Console::sign_in(&s.base, "bob").await;
    let (code, _) = bob
        .post(
            &format!("conversations/{}/reply", first.id),
            json!({"text": "hi"}),
        )
        .await;
    assert_eq!(code, 409);
    let (code, _) = bob
        .post(&format!("conversations/{}/take", first.id), json!({}))
        .await;
    assert_eq!(code, 409);
    for text in ["   ".to_string(), "x".repeat(2_001)] {
        let (code, _) = agent
            .post(
                &format!("conversations/{}/reply", first.id),
                json!({"text": text}),
            )
            .await;
        assert_eq!(code, 400);
    }
    // Handed back, the bot answers again.
    let (code, _) = agent
        .post(&format!("conversations/{}/handback", first.id), json!({}))
        .await;
    assert_eq!(code, 200);
    let r = first.say("book a table for Nicole tomorrow at 8pm").await;
    assert!(bot_texts(&r).join(" ").contains("Table booked"), "{r}");
    // Resolved: gone from the live set, closed for the customer, found in history.
    let (code, _) = agent
        .post(&format!("conversations/{}/resolve", first.id), json!({}))
        .await;
    assert_eq!(code, 200);
    customer
        .until(|d| d["type"] == "status" && d["status"] == "resolved")
        .await;
    let (code, _) = first.call("say", json!({"text": "thanks"})).await;
    assert_eq!(code, 410);
    let (_, st) = agent.get("state").await;
    assert!(!st.to_string().contains(&first.id));
    let today = chrono::Utc::now().format("%Y-%m-%d").to_string();
    for q in [
        format!("intent=Live%20Agent%20Handoff&from={today}&to={today}"),
        "text=anyone%20there".to_string(),
    ] {
        let (code, h) = agent.get(&format!("history?{q}")).await;
        assert_eq!(code, 200);
        let ids: Vec<&str> = h["conversations"]
            .as_array()
            .map(|a| a.iter().filter_map(|m| m["id"].as_str()).collect())
            .unwrap_or_default();
        assert_eq!(ids, [first.id.as_str()], "{q}");
    }
    let (_, h) = agent.get("history?intent=Goodbye").await;
    assert_eq!(h["conversations"], json!([]));
    let (code, _) = agent.get("history?from=yesterday").await;
    assert_eq!(code, 400);
    let r = agent
        .client
        .get(format!(
            "{}/console/api/conversations/{}/export",
            s.base, first.id
        ))
        .header("cookie", &agent.cookie)
        .send()
        .await
        .expect("export");
    assert!(r
        .headers()
        .get("content-disposition")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains(&format!("conversation-{}.json", first.id))));
    let exported: Value = r.json().await.expect("json");
    assert_eq!(exported["status"]["state"], "resolved");
    assert_eq!(exported["status"]["by"], "ada");
    let texts: Vec<&str> = exported["entries"]
        .as_array()
        .map(|a| a.iter().filter_map(|e| e["text"].as_str()).collect())
        .unwrap_or_default();
    assert!(texts.contains(&"Hi, I'm Ada. How can I help?"));
    assert!(texts.contains(&"ada closed the conversation."));
    s.stop().await;
}

#[tokio::test]
async fn call_places_twilio_calls_into_one_conference_and_takes_status_callbacks() {
    let Some(s) = server().await else { return };
    let (api, twilio) = twilio_double().await;
    s.state
        .web
        .dialer
        .set(twilio_dialer(&api, &s.base))
        .expect("dialer set once");
    let agent = Console::sign_in(&s.base, "ada").await;
    let (chat, _) = Chat::start(&s.base).await;
    let r = chat.say("can I talk to a human").await;
    assert_eq!(r["status"], "queued");
    let r = chat.say("actually, can you call me instead").await;
    assert!(bot_texts(&r).join(" ").contains("Which number"), "{r}");
    let r = chat.say("+1 415 555 0123").await;
    assert!(
        bot_texts(&r).join(" ").contains("call you on +14155550123"),
        "{r}"
    );
    let (_, conv) = agent.get(&format!("conversations/{}", chat.id)).await;
    assert_eq!(conv["phone"], "+14155550123");
    assert_eq!(conv["status"]["reason"], "customer asked to be called back");

    let (code, placed) = agent
        .post(&format!("conversations/{}/call", chat.id), json!({}))
        .await;
    assert_eq!(code, 200, "{placed}");
    let reqs = twilio.requests.lock().expect("lock").clone();
    assert_eq!(reqs.len(), 2, "{reqs:?}");
    let basic = format!(
        "Basic {}",
        base64::Engine::encode(
            &base64::engine::general_purpose::STANDARD,
            format!("{TWILIO_ACCOUNT}:{TWILIO_TOKEN}")
        )
    );
    let conf = format!("switchboard-{}", chat.id);
    for (req, to, starts) in [
        (&reqs[0], "+14155550123", "false"),
        (&reqs[1], "+15005550001", "true"),
    ] {
        assert_eq!(
            req.path,
            format!("/2010-04-01/Accounts/{TWILIO_ACCOUNT}/Calls.json")
        );
        assert_eq!(req.authorization, basic);
        assert_eq!(req.get("To"), [to]);
        assert_eq!(req.get("From"), ["+15005550006"]);
        assert_eq!(
            req.get("StatusCallback"),
            [format!("{}/console/twilio/status/{}", s.base, chat.id).as_str()]
        );
        assert_eq!(req.get("StatusCallbackMethod"), ["POST"]);
        assert_eq!(
            req.get("StatusCallbackEvent"),
            ["initiated", "ringing", "answered", "completed"]
        );
        let twiml = req.get("Twiml");
        assert_eq!(twiml.len(), 1);
        assert!(twiml[0].starts_with("<Response><Say>"), "{}", twiml[0]);
        assert!(twiml[0].ends_with(&format!(
            "<Dial><Conference startConferenceOnEnter=\"{starts}\" endConferenceOnExit=\"{starts}\" beep=\"false\" waitUrl=\"\">{conf}</Conference></Dial></Response>"
        )), "{}", twiml[0]);
    }
    assert!(reqs[0].get("Twiml")[0].contains("Hello from the Demonstration Restaurant."));
    assert_eq!(
        placed["calls"][0]["id"],
        "CA00000000000000000000000000000001"
    );

    // Twilio's signed status callback updates the call; a forged one is refused.
    let path = format!("/console/twilio/status/{}", chat.id);
    let params = [
        ("CallSid", "CA00000000000000000000000000000001"),
        ("CallStatus", "in-progress"),
    ];
    let sig = sb_transport::twilio_signature(TWILIO_TOKEN, &format!("{}{path}", s.base), &params);
    for (sig, want) in [("AAAA", 403), (sig.as_str(), 204)] {
        let code = s
            .client
            .post(format!("{}{path}", s.base))
            .header("x-twilio-signature", sig)
            .form(&params)
            .send()
            .await
            .map(|r| r.status().as_u16())
            .expect("callback");
        assert_eq!(code, want);
    }
    let (_, conv) = agent.get(&format!("conversations/{}", chat.id)).await;
    assert_eq!(conv["calls"][0]["status"], "in-progress");
    assert_eq!(conv["status"]["state"], "agent");
    // Notes about calls are for agents only.
    let (_, h) = chat.call("history", json!({})).await;
    assert!(!h.to_string().contains("customer call: in-progress"));
    assert!(conv.to_string().contains("customer call: in-progress"));
    let (code, _) = agent
        .post(&format!("conversations/{}/resolve", chat.id), json!({}))
        .await;
    assert_eq!(code, 200);
    s.stop().await;
}

#[tokio::test]
async fn call_needs_a_configured_dialer_and_a_number() {
    let Some(s) = server().await else { return };
    let agent = Console::sign_in(&s.base, "ada").await;
    let (chat, _) = Chat::start(&s.base).await;
    let (code, v) = agent
        .post(&format!("conversations/{}/call", chat.id), json!({}))
        .await;
    assert_eq!(code, 409);
    assert!(v.to_string().contains("not configured"), "{v}");
    s.stop().await;
}

#[tokio::test]
async fn sign_in_is_safe() {
    let Some(s) = server().await else { return };
    // The console and its API need a session.
    let c = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let r = c
        .get(format!("{}/console", s.base))
        .send()
        .await
        .expect("get");
    assert_eq!(r.status().as_u16(), 303);
    assert_eq!(r.headers()["location"], "/console/login");
    let r = c
        .get(format!("{}/console/api/state", s.base))
        .send()
        .await
        .expect("get");
    assert_eq!(r.status().as_u16(), 401);
    let r = c
        .get(format!("{}/console/api/events", s.base))
        .send()
        .await
        .expect("get");
    assert_eq!(r.status().as_u16(), 401);
    // Wrong password, unknown user: same answer, no cookie.
    for (name, pw) in [
        ("ada", "wrong password!"),
        ("nobody", PASSWORD),
        ("<script>", PASSWORD),
    ] {
        let (loc, cookie) = sign_in_raw(&s.base, name, pw).await;
        assert_eq!((loc.as_str(), cookie), ("/console/login?error=1", None));
    }
    // A form without the double-submit cookie is refused.
    let r = c
        .post(format!("{}/console/login", s.base))
        .form(&[("name", "ada"), ("password", PASSWORD), ("csrf", "x")])
        .send()
        .await
        .expect("post");
    assert_eq!(r.headers()["location"], "/console/login?error=expired");
    // The session cookie is HttpOnly, SameSite=Strict, Secure.
    let r = c
        .get(format!("{}/console/login", s.base))
        .send()
        .await
        .expect("get");
    let (login_cookie, _) = set_cookie(r.headers(), "sb_login").expect("cookie");
    let html = r.text().await.expect("html");
    let csrf = between(&html, "name=\"csrf\" value=\"", "\"")
        .expect("csrf")
        .to_string();
    let r = c
        .post(format!("{}/console/login", s.base))
        .header("cookie", login_cookie)
        .form(&[
            ("name", "ada"),
            ("password", PASSWORD),
            ("csrf", csrf.as_str()),
        ])
        .send()
        .await
        .expect("post");
    let (cookie, full) = set_cookie(r.headers(), "sb_console").expect("session cookie");
    for attr in ["HttpOnly", "SameSite=Strict", "Secure", "Path=/console"] {
        assert!(full.contains(attr), "{full}");
    }
    // Pages carry a strict content security policy.
    let r = c
        .get(format!("{}/console", s.base))
        .header("cookie", &cookie)
        .send()
        .await
        .expect("get");
    let csp = r.headers()["content-security-policy"]
        .to_str()
        .unwrap_or_default()
        .to_string();
    assert!(
        csp.contains("script-src 'self'") && csp.contains("frame-ancestors 'none'"),
        "{csp}"
    );
    let page = r.text().await.expect("html");
    let token = between(&page, "name=\"csrf-token\" content=\"", "\"")
        .expect("csrf")
        .to_string();
    // Signing out ends the session.
    let r = c
        .post(format!("{}/console/logout", s.base))
        .header("cookie", &cookie)
        .form(&[("csrf", token.as_str())])
        .send()
        .await
        .expect("logout");
    assert_eq!(r.status().as_u16(), 303);
    let r = c
        .get(format!("{}/console/api/state", s.base))
        .header("cookie", &cookie)
        .send()
        .await
        .expect("get");
    assert_eq!(r.status().as_u16(), 401);
    // Five failures lock the name for a while, even with the right password afterwards.
    for _ in 0..5 {
        sign_in_raw(&s.base, "ada", "wrong password!").await;
    }
    let (loc, cookie) = sign_in_raw(&s.base, "ada", PASSWORD).await;
    assert_eq!(
        (loc.as_str(), cookie),
        ("/console/login?error=throttled", None)
    );
    s.stop().await;
}

#[tokio::test]
async fn chat_input_is_bounded_and_checked() {
    let Some(s) = server().await else { return };
    let (chat, _) = Chat::start(&s.base).await;
    for (body, want) in [
        (json!({"text": ""}), 400),
        (json!({"text": "x".repeat(257)}), 400),
        (json!({}), 400),
    ] {
        let (code, v) = chat.call("say", body).await;
        assert_eq!(code, want, "{v}");
    }
    // Markup is data: stored and returned verbatim as JSON text, for the widget to show as text.
    let hostile = "<img src=x onerror=alert(1)><script>alert(2)</script>";
    let r = chat.say(hostile).await;
    assert_eq!(r["status"], "bot");
    let (_, h) = chat.call("history", json!({})).await;
    assert!(h["entries"]
        .as_array()
        .is_some_and(|a| a.iter().any(|e| e["text"] == hostile)));
    let r = s
        .client
        .post(format!("{}/chat/api/start", s.base))
        .json(&json!({"agent": "someone-else"}))
        .send()
        .await
        .expect("start");
    assert_eq!(r.status().as_u16(), 404);
    // The widget's API answers cross-origin preflights (the widget is embedded on other sites).
    let r = s
        .client
        .request(reqwest::Method::OPTIONS, format!("{}/chat/api/say", s.base))
        .header("origin", "https://shop.example")
        .header("access-control-request-method", "POST")
        .send()
        .await
        .expect("preflight");
    assert_eq!(r.status().as_u16(), 204);
    assert_eq!(r.headers()["access-control-allow-origin"], "*");
    s.stop().await;
}

#[test]
fn front_end_never_parses_server_strings_as_markup() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/web/assets");
    for f in ["widget.js", "console.js"] {
        let js = std::fs::read_to_string(dir.join(f)).expect("asset");
        for sink in [
            "innerHTML",
            "outerHTML",
            "insertAdjacentHTML",
            "document.write",
            "eval(",
            "new Function",
        ] {
            assert!(!js.contains(sink), "{f} uses {sink}");
        }
    }
}

#[test]
fn widget_is_small() {
    use std::io::Write;
    let js = include_str!("../src/web/assets/widget.js");
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    gz.write_all(js.as_bytes()).expect("gzip");
    let n = gz.finish().expect("gzip").len();
    eprintln!("widget.js: {} bytes, {n} bytes gzipped", js.len());
    assert!(n <= 50 * 1024, "widget.js is {n} bytes gzipped");
}
