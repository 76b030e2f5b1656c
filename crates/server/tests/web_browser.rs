//! The web chat and the console in a real browser (Debian's headless chromium over WebDriver),
//! end to end as the reference's use case goes: a customer chats in the widget embedded on
//! another site, books a table, asks for a person and leaves a number; an agent signs in to the
//! console, sees the whole chat with what the bot understood, takes it over and replies, clicks
//! "call" (a Twilio REST test double receives exactly the expected calls and TwiML) and
//! resolves it. Screenshots of both go to docs/.

mod common;
mod web_support;

use common::{example_agent, TestServer};
use std::path::PathBuf;
use web_support::webdriver::{browser_available, Driver};
use web_support::*;

const ENTER: &str = "\u{E007}";

fn docs(name: &str) -> PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../docs/web")
        .join(name)
}

/// A page on another origin that embeds the widget the way a customer's site would.
async fn host_site(server: &str) -> String {
    let html = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>Demonstration Restaurant</title></head>\
         <body style=\"font-family:sans-serif;margin:0;padding:16px;background:#fdf6ec\">\
         <h1>Demonstration Restaurant</h1><p>Fresh food, every day. Book a table in the chat.</p>\
         <script src=\"{server}/widget.js\" data-agent=\"demo-restaurant\" data-title=\"Demonstration Restaurant\"></script>\
         </body></html>"
    );
    let app = axum::Router::new().route(
        "/",
        axum::routing::get(move || {
            let h = html.clone();
            async move { axum::response::Html(h) }
        }),
    );
    let l = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let base = format!("http://localhost:{}", l.local_addr().expect("addr").port());
    tokio::spawn(async move {
        let _ = axum::serve(l, app).await;
    });
    base
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn customer_chats_agent_takes_over_calls_and_resolves_in_a_real_browser() {
    if !browser_available() {
        return;
    }
    let Some(agent_dir) = example_agent("restaurant") else {
        return;
    };
    let s = TestServer::simple(common::engine(&agent_dir, None)).await;
    add_user(&s.state, "ada", Some("+15005550001")).await;
    let (api, twilio) = twilio_double().await;
    s.state
        .web
        .dialer
        .set(twilio_dialer(&api, &s.base))
        .expect("dialer");
    let site = host_site(&s.base).await;
    let driver = Driver::start().await;

    // ---- the customer, on a phone-sized screen --------------------------------------------
    let customer = driver.session(360, 740).await;
    customer.goto(&site).await;
    let launcher = customer.find_in_widget(".launcher").await;
    customer.click(&launcher).await;
    customer
        .wait_text(true, ".msg.bot", "Welcome to our Demonstration Restaurant")
        .await;
    let input = customer.find_in_widget("#sb-input").await;
    customer
        .type_into(
            &input,
            &format!("I'd like a table for Nicole tomorrow at 7pm{ENTER}"),
        )
        .await;
    customer
        .wait_text(true, ".msg.bot", "Table booked for Nicole")
        .await;
    // Markup typed by a customer stays text, in the widget and (below) in the console.
    let hostile = "<img src=x onerror=\"window.__pwned=1\"><b>bold</b>";
    customer
        .type_into(&input, &format!("{hostile}{ENTER}"))
        .await;
    customer.wait_text(true, ".msg.customer", hostile).await;
    customer
        .type_into(&input, &format!("can I talk to a human{ENTER}"))
        .await;
    customer
        .wait_text(true, ".msg.system", "You're in the queue for a person")
        .await;
    customer
        .type_into(&input, &format!("actually, can you call me instead{ENTER}"))
        .await;
    customer.wait_text(true, ".msg.bot", "Which number").await;
    customer
        .type_into(&input, &format!("+1 415 555 0123{ENTER}"))
        .await;
    customer
        .wait_text(true, ".msg.bot", "call you on +14155550123")
        .await;
    let injected = customer
        .script(
            "const r = document.querySelector('[data-switchboard-chat]').shadowRoot;\
             return [r.querySelectorAll('.msg.customer *').length, window.__pwned === undefined];",
            serde_json::json!([]),
        )
        .await;
    assert_eq!(injected, serde_json::json!([0, true]));
    customer.screenshot(&docs("widget-360.png")).await;
    let chat_id = s
        .state
        .web
        .hub
        .overview()
        .await
        .0
        .first()
        .map(|m| m.id.clone())
        .expect("the chat is queued");

    // ---- the agent, on a desktop screen ---------------------------------------------------
    // Chromium keeps `Secure` cookies over plain HTTP for localhost only.
    let console_base = s.base.replace("127.0.0.1", "localhost");
    let agent = driver.session(1280, 860).await;
    agent.goto(&format!("{console_base}/console")).await;
    assert!(agent.current_url().await.ends_with("/console/login"));
    let name = agent.find("#name").await;
    agent.type_into(&name, "ada").await;
    let pw = agent.find("#password").await;
    agent.type_into(&pw, &format!("{PASSWORD}{ENTER}")).await;
    agent.wait_text(false, "#conn", "Live").await;
    let item = agent
        .find(&format!("#queue-list li[data-id=\"{chat_id}\"] button"))
        .await;
    agent
        .wait_text(false, "#queue-list", "customer asked to be called back")
        .await;
    agent.click(&item).await;
    // The whole chat, with what the bot understood of each turn.
    agent
        .wait_text(false, "#transcript", "Table booked for Nicole")
        .await;
    agent
        .wait_text(false, "#transcript .intent", "intent: Table Booker")
        .await;
    agent
        .wait_text(false, "#transcript .param", "person:")
        .await;
    agent.wait_text(false, "#transcript .tx", hostile).await;
    agent
        .wait_text(false, "#conv-reason", "customer asked to be called back")
        .await;
    agent
        .wait_text(false, "#conv-meta", "phone +14155550123")
        .await;
    agent.screenshot(&docs("console-queue.png")).await;
    let injected = agent
        .script(
            "return [document.querySelectorAll('#transcript .tx *').length, window.__pwned === undefined];",
            serde_json::json!([]),
        )
        .await;
    assert_eq!(injected, serde_json::json!([0, true]));

    // Take over and reply: the customer sees a person, live.
    let take = agent.find("#btn-take").await;
    agent.click(&take).await;
    customer
        .wait_text(true, ".msg.system", "ada joined the chat.")
        .await;
    let reply = agent.find("#reply-text").await;
    agent
        .type_into(
            &reply,
            &format!("Hi, I'm Ada. I'll call you right now.{ENTER}"),
        )
        .await;
    customer
        .wait_text(true, ".msg.agent", "Hi, I'm Ada. I'll call you right now.")
        .await;
    // The live view follows the customer's words as they come.
    customer
        .type_into(&input, &format!("Great, thank you!{ENTER}"))
        .await;
    agent
        .wait_text(false, "#transcript li.customer", "Great, thank you!")
        .await;
    agent.screenshot(&docs("console.png")).await;

    // Call: customer first, then the agent's phone, into one conference.
    let call = agent.find("#btn-call").await;
    agent.click(&call).await;
    let mut count = twilio.count.subscribe();
    tokio::time::timeout(
        std::time::Duration::from_secs(15),
        count.wait_for(|n| *n >= 2),
    )
    .await
    .expect("two Twilio calls within 15 s")
    .expect("double alive");
    agent
        .wait_text(
            false,
            "#transcript",
            "is placing a phone call to +14155550123",
        )
        .await;
    let reqs = twilio.requests.lock().expect("lock").clone();
    assert_eq!(reqs.len(), 2);
    let conf = format!("switchboard-{chat_id}");
    assert_eq!(reqs[0].get("To"), ["+14155550123"]);
    assert_eq!(reqs[1].get("To"), ["+15005550001"]);
    for (r, starts) in [(&reqs[0], "false"), (&reqs[1], "true")] {
        assert_eq!(
            r.path,
            format!("/2010-04-01/Accounts/{TWILIO_ACCOUNT}/Calls.json")
        );
        assert_eq!(r.get("From"), ["+15005550006"]);
        assert!(r.get("Twiml")[0].ends_with(&format!(
            "<Dial><Conference startConferenceOnEnter=\"{starts}\" endConferenceOnExit=\"{starts}\" beep=\"false\" waitUrl=\"\">{conf}</Conference></Dial></Response>"
        )));
        assert_eq!(
            r.get("StatusCallback"),
            [format!("{}/console/twilio/status/{chat_id}", s.base).as_str()]
        );
    }

    // Resolve: the customer is told, the conversation leaves the live lists.
    let resolve = agent.find("#btn-resolve").await;
    agent.click(&resolve).await;
    customer
        .wait_text(true, ".msg.system", "ada closed the conversation.")
        .await;
    agent
        .wait_text(false, "#conv-meta", "status: resolved")
        .await;
    assert!(s.state.web.hub.get(&chat_id).is_none());

    // The console at phone width.
    agent.set_window(360, 740).await;
    agent.screenshot(&docs("console-360.png")).await;
    customer.close().await;
    agent.close().await;
    s.stop().await;
}

/// The standalone chat page works with the keyboard alone and resumes after a reload.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chat_page_works_with_the_keyboard_and_survives_a_reload() {
    if !browser_available() {
        return;
    }
    let Some(agent_dir) = example_agent("restaurant") else {
        return;
    };
    let s = TestServer::simple(common::engine(&agent_dir, None)).await;
    let driver = Driver::start().await;
    let b = driver.session(360, 640).await;
    // Time to first message, as a newcomer meets it: page load to the bot's greeting shown
    // (reported, not asserted: a figure for the notes).
    let t0 = std::time::Instant::now();
    b.goto(&format!("{}/chat", s.base)).await;
    b.wait_text(true, ".msg.bot", "Welcome to our Demonstration Restaurant")
        .await;
    eprintln!(
        "chat page: first message shown {} ms after navigation",
        t0.elapsed().as_millis()
    );
    // Tab order: "Talk to a person", the log, the input, Send.
    let focus_path = b
        .script(
            "const r = document.querySelector('[data-switchboard-chat]').shadowRoot;\
             const order = [];\
             const f = Array.from(r.querySelectorAll('button, input, [tabindex]')).filter(e => e.tabIndex >= 0);\
             f.forEach(e => order.push(e.id || e.className || e.tagName));\
             const input = r.querySelector('#sb-input');\
             const label = r.querySelector('label[for=sb-input]');\
             return [order, label ? label.textContent : null, r.querySelector('.log').getAttribute('role')];",
            serde_json::json!([]),
        )
        .await;
    assert_eq!(
        focus_path,
        serde_json::json!([
            ["person", "log", "sb-input", "BUTTON"],
            "Your message",
            "log"
        ])
    );
    let input = b.find_in_widget("#sb-input").await;
    b.type_into(
        &input,
        &format!("a table for Nicole tomorrow at 8pm{ENTER}"),
    )
    .await;
    b.wait_text(true, ".msg.bot", "Table booked for Nicole")
        .await;
    b.screenshot(&docs("chat-page-360.png")).await;
    b.goto(&format!("{}/chat", s.base)).await;
    b.wait_text(true, ".msg.customer", "a table for Nicole tomorrow at 8pm")
        .await;
    b.wait_text(true, ".msg.bot", "Table booked for Nicole")
        .await;
    let live = s.state.web.hub.overview().await.1.len();
    assert_eq!(
        live, 1,
        "the reload resumed the chat instead of starting another"
    );
    b.close().await;
    s.stop().await;
}
