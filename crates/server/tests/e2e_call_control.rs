//! Call control end to end (release, real models): the real server (Whisper ASR, Piper TTS, the
//! restaurant agent) and simulated Twilio/Vonage callers speaking with CMU Flite voices.
//! Barge-in clears the bot's audio, no-input re-prompts then a goodbye, DTMF entries, and a
//! paused booking resumed on a new server over the same data directory.
//!
//! The tests share the speech models and run one at a time (they are real-time and CPU-bound).

mod phone_support;

use phone_support::app::{decode_form, fake_app, field};
use phone_support::{PhoneServer, QUIET_VOICE};
use sb_speech::asr::Asr;
use sb_speech::models::ModelStore;
use sb_speech::tts::Tts;
use sb_testkit::{place_call, CallOptions, CallReport, HungUpBy, Platform, Script, Voices};
use serde_json::{json, Value};
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};
use std::time::Duration;
use switchboard::config::ServerConfig;
use switchboard::sim_cli::SpokenLikeAPerson;
use tokio::sync::mpsc;

const GREETING: &str =
    "Welcome to our Demonstration Restaurant. When and for whom would you like to book a table?";
const ASK_DATE: &str = "On which date would you like the table?";
const HINTS: &str =
    "speech_hints = [\"Tanya\", \"book a table\", \"January\", \"a.m.\", \"calendar\"]\n";

/// The server's engines and two caller voices (Vonage: `slt`, Twilio: `awb`), loaded once.
struct Models {
    asr: Arc<dyn Asr>,
    tts: Arc<dyn Tts>,
    vonage_caller: Arc<dyn Tts>,
    twilio_caller: Arc<dyn Tts>,
}

static MODELS: OnceLock<Models> = OnceLock::new();
/// One call-control test at a time: they pace audio in real time on a small machine.
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

async fn models() -> &'static Models {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(std::env::var("RUST_LOG").unwrap_or_else(|_| "switchboard=info".into()))
        .with_test_writer()
        .try_init();
    tokio::task::spawn_blocking(|| {
        MODELS.get_or_init(|| {
            let (asr, tts) = switchboard::phone::setup::load_models_with(
                2,
                "en",
                Some("Europe/London".into()),
                QUIET_VOICE,
            )
            .expect("speech models");
            let paths = ModelStore::from_env().paths().expect("model paths");
            let voice = |spec: &str| -> Arc<dyn Tts> {
                Arc::new(SpokenLikeAPerson::load(&paths, spec).expect("caller voice"))
            };
            Models {
                asr,
                tts,
                vonage_caller: voice("flite:slt"),
                twilio_caller: voice("flite:awb"),
            }
        })
    })
    .await
    .expect("load models")
}

impl Models {
    /// The caller's voice for `platform`, with Whisper as its ear for the bot's replies.
    fn voices(&self, platform: Platform) -> Voices {
        let tts = match platform {
            Platform::Twilio => self.twilio_caller.clone(),
            Platform::Vonage => self.vonage_caller.clone(),
        };
        Voices::new(tts, Some(self.asr.clone()))
    }
}

fn phone_toml(extra: &str) -> String {
    format!("[phone]\nasr_workers = 1\nasr_threads = 2\n[connectors.default]\n{HINTS}{extra}")
}

async fn call(
    s: &PhoneServer,
    m: &Models,
    platform: Platform,
    script: &str,
    params: &[(&str, &str)],
) -> (CallReport, Value) {
    let mut opts = CallOptions::new(platform, s.ws_url(platform));
    opts.reply_timeout = Duration::from_secs(15);
    for (k, v) in params {
        opts.custom_parameters.insert(k.to_string(), v.to_string());
    }
    let script = Script::from_toml_str(script).expect("script");
    let report = place_call(opts, script, &m.voices(platform)).await;
    eprintln!("{report}");
    let (status, heard) = s.get_json(&format!("/v1/calls/{}", report.call_id)).await;
    assert_eq!(status, 200, "{heard}");
    eprintln!(
        "{}",
        serde_json::to_string_pretty(&heard).unwrap_or_default()
    );
    (report, heard)
}

fn turns(call: &Value) -> &[Value] {
    call["turns"].as_array().map_or(&[], |t| t.as_slice())
}

/// Whisper spells the caller's "Tanya" either way.
fn assert_tanya(turn: &Value) -> String {
    let name = turn["parameters"]["person"]["name"]
        .as_str()
        .unwrap_or_default();
    assert!(["Tanya", "Tanja"].contains(&name), "{turn}");
    name.to_string()
}

fn heard(t: &sb_testkit::TurnReport) -> String {
    t.bot_text.clone().unwrap_or_default().to_lowercase()
}

/// Twilio: the caller talks over the greeting 1.5 s in; the server clears the greeting's audio
/// and answers what the caller said.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn barge_in_clears_the_greeting_over_twilio() {
    let _one = SERIAL.lock().await;
    let m = models().await;
    let s = PhoneServer::start(&phone_toml(""), m.asr.clone(), m.tts.clone()).await;
    let script = "[call]\ngreeting = true\n[[turn]]\nsay = \"I'd like to book a table for Tanya\"\nbarge_in_after_ms = 1500\n";
    let (report, call) = call(&s, m, Platform::Twilio, script, &[]).await;

    assert!(report.problems.is_empty(), "{report}");
    let greeting = report.greeting.as_ref().expect("greeting");
    assert!(greeting.latency_ms.is_some(), "{report}");
    assert!(
        greeting.interrupted,
        "the caller spoke over the greeting: {report}"
    );
    assert!(greeting.bot_cleared, "the server sent `clear`: {report}");
    // The whole greeting is about 6 s of speech; the caller heard only its start (1.5 s plus
    // the time the server needed to notice the barge-in).
    assert!(
        greeting.bot_audio_ms >= 1_000 && greeting.bot_audio_ms < 4_000,
        "{} ms of the greeting heard: {report}",
        greeting.bot_audio_ms
    );
    assert_eq!(report.turns.len(), 1, "{report}");
    let answer = &report.turns[0];
    assert!(answer.latency_ms.is_some(), "{report}");
    assert!(!answer.bot_cleared, "{report}");
    // Whisper hears the bot's 8 kHz "date" as "state" at times.
    assert!(
        heard(answer).contains("would you like the table"),
        "{report}"
    );

    assert_eq!(call["transport"], "twilio");
    let t = turns(&call);
    assert_eq!(t.len(), 2, "{call}");
    assert_eq!(t[0]["intent"], "Default Welcome Intent");
    assert_eq!(t[0]["botText"], GREETING);
    assert_eq!(t[0]["interrupted"], true, "{call}");
    assert_eq!(t[1]["inputKind"], "speech");
    assert_eq!(t[1]["intent"], "Table Booker", "{}", t[1]);
    assert_tanya(&t[1]);
    assert_eq!(t[1]["botText"], ASK_DATE);
    assert_eq!(t[1]["interrupted"], false);
    s.stop().await;
}

/// Vonage: a silent caller is re-prompted after `no_input_timeout_ms` (the no-input prompt, then
/// the agent's last prompt again); after `max_no_input` re-prompts the bot says goodbye and
/// hangs up. Re-prompts are not engine turns: the call's turns hold the welcome only.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silent_caller_is_reprompted_then_let_go_over_vonage() {
    let _one = SERIAL.lock().await;
    let m = models().await;
    let toml = phone_toml(
        "no_input_timeout_ms = 1500\nmax_no_input = 1\nno_input_prompt = \"Are you still there?\"\n\
         goodbye_prompt = \"Sorry, I could not hear you. Goodbye!\"\n",
    );
    let s = PhoneServer::start(&toml, m.asr.clone(), m.tts.clone()).await;
    let script = r#"
[call]
greeting = true
[[turn]]
silence_ms = 500
wait_for_bot = true
expect_bot_contains = "are you still there"
[[turn]]
silence_ms = 500
wait_for_bot = true
expect_bot_contains = "goodbye"
expect_hangup = true
"#;
    let (report, call) = call(&s, m, Platform::Vonage, script, &[]).await;

    assert!(report.ok, "{report}");
    assert_eq!(report.hung_up_by, HungUpBy::Bot, "{report}");
    assert_eq!(report.turns.len(), 2, "{report}");
    let reprompt = &report.turns[0];
    // The re-prompt repeats the last prompt after the no-input prompt.
    assert!(
        reprompt.latency_ms.is_some() && reprompt.bot_audio_ms > 3_000,
        "{report}"
    );
    assert!(heard(reprompt).contains("book a table"), "{report}");
    // Each silence started 700 ms after the bot's previous audio (the caller's "quiet"), so the
    // server waited out the rest of its 1.5 s no-input timeout before speaking.
    for t in &report.turns {
        let latency = t.latency_ms.expect("reply");
        assert!((500..5_000).contains(&latency), "{report}");
    }
    let goodbye = &report.turns[1];
    assert!(goodbye.bot_audio_ms > 1_000, "{report}");

    assert_eq!(call["transport"], "vonage");
    assert_eq!(call["status"], "completed", "{call}");
    let t = turns(&call);
    assert_eq!(t.len(), 1, "only the welcome is an engine turn: {call}");
    assert_eq!(t[0]["intent"], "Default Welcome Intent");
    let metrics = s.metrics().await;
    let needle = "switchboard_calls_total{transport=\"vonage\",outcome=\"completed\"} 1\n";
    assert!(metrics.contains(needle), "missing {needle} in\n{metrics}");
    s.stop().await;
}

/// Twilio: keys pressed by the simulated caller (`#` ends the entry) reach the agent as a DTMF
/// input, and the bot answers it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dtmf_from_a_simulated_caller_over_twilio() {
    let _one = SERIAL.lock().await;
    let m = models().await;
    let s = PhoneServer::start(&phone_toml(""), m.asr.clone(), m.tts.clone()).await;
    let script = "[call]\ngreeting = true\n[[turn]]\ndtmf = \"1234#\"\n";
    let (report, call) = call(&s, m, Platform::Twilio, script, &[]).await;

    assert!(report.problems.is_empty(), "{report}");
    assert_eq!(report.turns.len(), 1, "{report}");
    let answer = &report.turns[0];
    assert!(answer.latency_ms.is_some(), "{report}");
    assert!(answer.bot_audio_ms > 1_000, "{report}");
    assert!(heard(answer).contains("sorry"), "{report}");

    let t = turns(&call);
    assert_eq!(t.len(), 2, "{call}");
    assert_eq!(t[1]["inputKind"], "dtmf", "{}", t[1]);
    assert_eq!(t[1]["callerText"], "1234", "{}", t[1]);
    // Digits mean nothing to the restaurant agent: its fallback answers.
    assert_eq!(t[1]["intent"], "Default Fallback Intent", "{}", t[1]);
    assert!(
        t[1]["botText"]
            .as_str()
            .is_some_and(|b| b.starts_with("Sorry")),
        "{}",
        t[1]
    );
    s.stop().await;
}

// ---- pause and resume -------------------------------------------------------------------------

/// The callbacks of call `sid` up to its `action` callback: (status forms, action form).
async fn callbacks_of(
    seen: &mut mpsc::Receiver<(String, String)>,
    sid: &str,
) -> (Vec<Vec<(String, String)>>, Vec<(String, String)>) {
    let mut status = Vec::new();
    loop {
        let (path, body) = tokio::time::timeout(Duration::from_secs(15), seen.recv())
            .await
            .expect("callbacks within 15 s")
            .expect("fake app");
        let form = decode_form(&body);
        if field(&form, "CallSid") != sid {
            continue;
        }
        match path.as_str() {
            "status" => status.push(form),
            "action" => return (status, form),
            other => panic!("unexpected request to /{other}"),
        }
    }
}

fn provider_data(form: &[(String, String)]) -> Value {
    serde_json::from_str(field(form, "VirtualAgentProviderData")).expect("provider data")
}

struct TempDir(PathBuf);

impl TempDir {
    fn new() -> Self {
        TempDir(std::env::temp_dir().join(format!("sb-e2e-pause-{}", uuid::Uuid::new_v4())))
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

async fn paused_ids(dir: &TempDir) -> Vec<String> {
    use sqlx::{ConnectOptions, Connection};
    let mut conn = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(dir.0.join("switchboard.db"))
        .connect()
        .await
        .expect("open db");
    let ids = sqlx::query_scalar("SELECT end_user_id FROM paused_sessions ORDER BY end_user_id")
        .fetch_all(&mut conn)
        .await
        .expect("paused ids");
    let _ = conn.close().await;
    ids
}

/// Call 1 (Vonage) starts a booking for Tanya, then has to check the calendar: the agent's
/// `TWILIO_ACTION: PAUSE` payload ends the session as paused. Checks what the server and the
/// app saw, stops the server, and returns (call 1's id, the app's callback receiver). The
/// server on `dir` is stopped on return; the paused session is in `dir`'s database.
async fn pause_a_booking(
    m: &Models,
    dir: &TempDir,
    toml: &str,
    seen: &mut mpsc::Receiver<(String, String)>,
) -> String {
    let config = ServerConfig {
        data_dir: Some(dir.0.clone()),
        ..ServerConfig::default()
    };
    let s = PhoneServer::start_with(toml, m.asr.clone(), m.tts.clone(), config).await;
    let script = r#"
[call]
greeting = true
[[turn]]
say = "I'd like to book a table for Tanya"
[[turn]]
say = "I need to check my calendar"
expect_hangup = true
"#;
    let (report, call) = call(&s, m, Platform::Vonage, script, &[]).await;
    assert!(report.ok, "{report}");
    assert_eq!(report.hung_up_by, HungUpBy::Bot, "{report}");
    let id = report.call_id.clone();
    assert_eq!(call["status"], "paused", "{call}");
    let t = turns(&call);
    assert_eq!(t.len(), 3, "{call}");
    assert_eq!(t[1]["intent"], "Table Booker", "{}", t[1]);
    assert_tanya(&t[1]);
    assert_eq!(t[1]["botText"], ASK_DATE);
    assert_eq!(t[2]["intent"], "Check Calendar", "{}", t[2]);
    assert_eq!(
        t[2]["botText"],
        "No problem. Call us back when you know, and we'll pick up where we left off."
    );

    let (status, action) = callbacks_of(seen, &id).await;
    assert_eq!(status.len(), 3, "{status:?}");
    assert_eq!(field(&action, "VirtualAgentStatus"), "paused", "{action:?}");
    let data = provider_data(&action);
    assert_eq!(data["EndUserId"], id.as_str(), "{data}");
    assert_eq!(
        data["PauseParameters"],
        json!({"reason": "caller is checking their calendar"})
    );
    s.stop().await;
    assert_eq!(
        paused_ids(dir).await,
        [format!("{id}/{id}")],
        "stored under the call id and the end-user id"
    );
    id
}

/// Call 2 on a NEW server over the same data directory: call 1 coming back to the bot (a new
/// stream on the same call id, as Twilio and Vonage resume), resuming its paused session:
/// the script after the resumed greeting. Returns the report, the call and the status callbacks.
async fn resume_the_booking(
    m: &Models,
    dir: &TempDir,
    toml: &str,
    seen: &mut mpsc::Receiver<(String, String)>,
    paused_id: &str,
    turns_after: &str,
) -> (CallReport, Value, Vec<Vec<(String, String)>>) {
    let config = ServerConfig {
        data_dir: Some(dir.0.clone()),
        ..ServerConfig::default()
    };
    let s = PhoneServer::start_with(toml, m.asr.clone(), m.tts.clone(), config).await;
    // Call 1's record is in the data directory too.
    let (st, old) = s.get_json(&format!("/v1/calls/{paused_id}")).await;
    assert_eq!((st, &old["status"]), (200, &json!("paused")), "{old}");
    let script = format!("[call]\ngreeting = true\n{turns_after}");
    let params = [
        ("resumeEndUserId", paused_id),
        ("resumeEventName", "RESUME_BOOKING"),
    ];
    // Twilio resumes on the CallSid that paused (a new stream of the same call); the record
    // then holds both streams' turns: this call's come after call 1's.
    let earlier = turns(&old).len();
    let mut opts = CallOptions::new(Platform::Vonage, s.ws_url(Platform::Vonage));
    opts.reply_timeout = Duration::from_secs(15);
    opts.call_id = Some(paused_id.to_string());
    for (k, v) in params {
        opts.custom_parameters.insert(k.to_string(), v.to_string());
    }
    let report = place_call(
        opts,
        Script::from_toml_str(&script).expect("script"),
        &m.voices(Platform::Vonage),
    )
    .await;
    eprintln!("{report}");
    let (st, mut call) = s.get_json(&format!("/v1/calls/{paused_id}")).await;
    assert_eq!(st, 200, "{call}");
    let resumed: Vec<Value> = turns(&call).iter().skip(earlier).cloned().collect();
    call["turns"] = Value::Array(resumed);
    let (status, _action) = callbacks_of(seen, &report.call_id).await;
    s.stop().await;

    assert!(report.problems.is_empty(), "{report}");
    let greeting = report.greeting.as_ref().expect("greeting");
    assert!(heard(greeting).contains("welcome back"), "{report}");
    assert_eq!(call["transport"], "vonage");
    let t = turns(&call);
    assert_eq!(t[0]["inputKind"], "event", "{call}");
    assert_eq!(t[0]["callerText"], "RESUME_BOOKING");
    assert_eq!(t[0]["intent"], "Resume Booking");
    // The booking picks up at the question the pause interrupted.
    assert_eq!(
        t[0]["botText"],
        "Welcome back! On which date would you like the table?"
    );
    assert_tanya(&t[0]);
    // The resumed call speaks for call 1's end user, and the paused session is used up.
    for form in &status {
        assert_eq!(provider_data(form)["EndUserId"], paused_id, "{form:?}");
    }
    assert!(paused_ids(dir).await.is_empty());
    (report, call, status)
}

fn pause_toml(app: &str) -> String {
    phone_toml(&format!(
        "status_callback = \"{app}/status\"\naction = \"{app}/action\"\n"
    ))
}

/// Pause on one server, resume on another over the same data directory: the resumed call starts
/// with the `RESUME_BOOKING` event for call 1's end user, asks for the date the pause interrupted,
/// and books the table for the person named in call 1 once the caller gives the date and time.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_paused_booking_resumes_on_a_restarted_server() {
    let _one = SERIAL.lock().await;
    let m = models().await;
    let (app, mut seen) = fake_app().await;
    let toml = pause_toml(&app);
    let dir = TempDir::new();
    let id = pause_a_booking(m, &dir, &toml, &mut seen).await;
    let more = "[[turn]]\nsay = \"tomorrow\"\n[[turn]]\nsay = \"ten a.m.\"\nexpect_hangup = true\n";
    let (report, call, _) = resume_the_booking(m, &dir, &toml, &mut seen, &id, more).await;
    assert_eq!(report.hung_up_by, HungUpBy::Bot, "{report}");
    let t = turns(&call);
    assert_eq!(t.len(), 3, "{call}");
    assert_eq!(
        t[1]["botText"],
        "And at what time would you like the table?"
    );
    let last = t[2].clone();
    assert_eq!(last["intent"], "Resume Booking", "{last}");
    let name = assert_tanya(&last);
    let bot = last["botText"].as_str().unwrap_or_default();
    assert!(
        bot.starts_with(&format!("Table booked for {name} at ")),
        "{bot}"
    );
    assert!(bot.contains("T10:00:00"), "{bot}");
    assert_eq!(call["status"], "completed");
}
