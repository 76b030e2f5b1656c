//! The real phone driver (socket ⇄ codec ⇄ session ⇄ speech) on tokio's paused clock: an
//! in-memory media socket, scripted speech behind the `SpeechService` seam, and the testkit's
//! handset as the platform. Real sockets would let paused time jump while bytes are in flight,
//! and speech workers on OS threads would answer at whatever virtual time the runtime had
//! reached; here every delay is a tokio timer, so a call runs the same way every time.
#![allow(dead_code)]

use std::collections::{BTreeMap, HashSet};
use std::path::Path;
use std::sync::{Arc, Mutex, OnceLock};

use axum::extract::ws::Message;
use sb_call::{AsrFailure, Output, Transcript};
use sb_nlu::engine::Engine;
use sb_speech::asr::{AsrLoad, AsrPriority};
use sb_testkit::virtual_call::voice::{Phrasebook, ScriptedAsr, ScriptedTts};
use sb_testkit::virtual_call::{Got, Handset, Seen, Timeline};
use sb_transport::{caller_codec, Inbound, Platform, StartInfo, WsMessage};
use switchboard::config::ServerConfig;
use switchboard::phone::accept::{run_call, MediaSocket};
use switchboard::phone::choices::SpeechChoices;
use switchboard::phone::connectors::PhoneFile;
use switchboard::phone::speech::{SpeechService, Step, Work};
use switchboard::phone::Phone;
use switchboard::AppState;
use tokio::sync::{mpsc, Semaphore};
use tokio::task::JoinHandle;
use tokio::time::{sleep, sleep_until, Duration, Instant};

/// Longest real time [`Line::until_closed`] holds the paused clock.
const HOLD: std::time::Duration = std::time::Duration::from_secs(30);
/// Messages in flight each way (the platform's and our socket buffers).
const SOCKET_QUEUE: usize = 4_096;

/// Our end of an in-memory media socket.
pub struct MemSocket {
    rx: mpsc::Receiver<Message>,
    tx: mpsc::Sender<Message>,
}

impl MediaSocket for MemSocket {
    async fn recv(&mut self) -> Option<Result<Message, axum::Error>> {
        self.rx.recv().await.map(Ok)
    }

    async fn send(&mut self, msg: Message) -> Result<(), axum::Error> {
        self.tx
            .send(msg)
            .await
            .map_err(|_| axum::Error::new("the platform hung up"))
    }
}

/// Milliseconds since `t0` on the runtime's (paused) clock.
fn ms_since(t0: Instant) -> u64 {
    t0.elapsed().as_millis() as u64
}

/// What both sides saw, on one virtual timeline.
pub type Shared = Arc<Mutex<Timeline>>;

/// Recognition and synthesis answered by tokio timers: the scripted recogniser hears the
/// phrasebook's pitches, the synthesiser says a tone per sentence.
pub struct ScriptedSpeech {
    book: Arc<Mutex<Phrasebook>>,
    asr: ScriptedAsr,
    tts: ScriptedTts,
    t0: Instant,
    seen: Shared,
    cancelled: Arc<Mutex<HashSet<u64>>>,
}

impl ScriptedSpeech {
    fn log(&self, s: Seen) {
        if let Ok(mut t) = self.seen.lock() {
            t.push(ms_since(self.t0), s);
        }
    }
}

impl SpeechService for ScriptedSpeech {
    fn asr_load(&self) -> AsrLoad {
        AsrLoad::Idle
    }

    fn recognize(
        &self,
        _call: u64,
        turn: u64,
        priority: AsrPriority,
        pcm: Vec<i16>,
        _prompt: Option<String>,
        reply: mpsc::Sender<Work>,
    ) -> bool {
        let text = self.book.lock().map(|b| b.hear(&pcm)).unwrap_or_default();
        self.log(Seen::Recognised {
            turn,
            priority,
            text: text.clone(),
        });
        let (delay, cancelled) = (self.asr.delay_ms, self.cancelled.clone());
        tokio::spawn(async move {
            sleep(Duration::from_millis(delay)).await;
            let stopped = cancelled.lock().map(|c| c.contains(&turn)).unwrap_or(false);
            let result = if stopped {
                Err(AsrFailure::Cancelled)
            } else {
                Ok(Transcript {
                    text,
                    confidence: 0.9,
                    words: Vec::new(),
                })
            };
            let _ = reply.send(Work::Asr { turn, result }).await;
        });
        true
    }

    fn cancel_asr(&self, _call: u64, turn: u64) {
        self.log(Seen::Output(Output::CancelAsr { turn }));
        if let Ok(mut c) = self.cancelled.lock() {
            c.insert(turn);
        }
    }

    fn speak(&self, _call: u64, turn: u64, steps: Vec<Step>, reply: mpsc::Sender<Work>) -> bool {
        let text = steps
            .iter()
            .filter_map(|s| match s {
                Step::Say { text, .. } => Some(text.as_str()),
                _ => None,
            })
            .collect::<Vec<_>>()
            .join(" ");
        self.log(Seen::Output(Output::Synthesize {
            turn,
            text: text.clone(),
        }));
        let chunks = self.tts.chunks(&text);
        let (first, next) = (self.tts.first_chunk_ms, self.tts.next_chunk_ms);
        tokio::spawn(async move {
            sleep(Duration::from_millis(first)).await;
            let n = chunks.len();
            for (i, pcm16k) in chunks.into_iter().enumerate() {
                let last = i + 1 == n;
                if reply.send(Work::Tts { turn, pcm16k, last }).await.is_err() {
                    return;
                }
                sleep(Duration::from_millis(next)).await;
            }
        });
        true
    }

    fn forget(&self, _call: u64) {}
}

pub fn restaurant() -> Arc<Engine> {
    static E: OnceLock<Arc<Engine>> = OnceLock::new();
    E.get_or_init(|| {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/restaurant");
        switchboard::cli::load_engine(&dir, None).expect("the restaurant agent loads")
    })
    .clone()
}

/// A phone path over the restaurant agent with `connector` settings (TOML lines of the
/// `default` connector) and scripted speech; returns it with the shared timeline and phrasebook.
pub async fn phone(connector: &str, t0: Instant) -> (Arc<Phone>, Shared, Arc<Mutex<Phrasebook>>) {
    let state = AppState::new(
        restaurant(),
        ServerConfig::default(),
        Arc::new(switchboard::clock::SystemClock),
    )
    .await
    .expect("state");
    let file = PhoneFile::parse(&format!("[connectors.default]\n{connector}")).expect("toml");
    let seen: Shared = Arc::default();
    let book: Arc<Mutex<Phrasebook>> = Arc::default();
    let speech = Arc::new(ScriptedSpeech {
        book: book.clone(),
        asr: ScriptedAsr::default(),
        tts: ScriptedTts::default(),
        t0,
        seen: seen.clone(),
        cancelled: Arc::default(),
    });
    let phone = Phone::start_with(&state, file, SpeechChoices::none(), move |_, _| {
        Ok(speech as Arc<dyn SpeechService>)
    })
    .expect("phone");
    (phone, seen, book)
}

/// The platform's side of one call to the real driver.
pub struct Line {
    pub platform: Platform,
    handset: Handset,
    book: Arc<Mutex<Phrasebook>>,
    tx: mpsc::Sender<Message>,
    rx: mpsc::Receiver<Message>,
    t0: Instant,
    pub seen: Shared,
    closed: bool,
    call: Option<JoinHandle<()>>,
}

impl Line {
    /// Connects to `phone` and starts the stream at `t0` (now).
    pub async fn start(
        platform: Platform,
        phone: Arc<Phone>,
        seen: Shared,
        book: Arc<Mutex<Phrasebook>>,
        t0: Instant,
    ) -> Line {
        let (tx, server_rx) = mpsc::channel(SOCKET_QUEUE);
        let (server_tx, rx) = mpsc::channel(SOCKET_QUEUE);
        let socket = MemSocket {
            rx: server_rx,
            tx: server_tx,
        };
        let permit = Arc::new(Semaphore::new(1))
            .acquire_owned()
            .await
            .expect("permit");
        let call = tokio::spawn(run_call(socket, platform, phone, permit));
        let codec = caller_codec(platform).expect("caller codec");
        let mut line = Line {
            platform,
            handset: Handset::new(codec, platform, ms_since(t0)),
            book,
            tx,
            rx,
            t0,
            seen,
            closed: false,
            call: Some(call),
        };
        let (rate, encoding) = match platform {
            Platform::Twilio => (8_000, "audio/x-mulaw"),
            Platform::Vonage => (16_000, "audio/l16"),
        };
        line.send(Inbound::Connected).await;
        line.send(Inbound::Start(StartInfo {
            call_id: "CAdriver".into(),
            stream_id: "MZdriver".into(),
            account_id: "ACdriver".into(),
            custom_parameters: BTreeMap::new(),
            sample_rate: rate,
            encoding: encoding.into(),
        }))
        .await;
        line.until_admitted().await;
        line
    }

    /// Lets the call start without moving the clock. Admission and the greeting's session
    /// load wait on the store's own thread, which tokio's paused clock does not see: sleeping
    /// here would let time jump ahead while the server is busy in real time. So the caller
    /// yields (the runtime is never idle, time stands still) until the greeting is asked for.
    async fn until_admitted(&mut self) {
        let limit = std::time::Instant::now() + std::time::Duration::from_secs(30);
        loop {
            let asked = self
                .seen
                .lock()
                .map(|t| !t.synthesized().is_empty())
                .unwrap_or(false);
            let ended = self.call.as_ref().is_none_or(|c| c.is_finished());
            if asked || ended {
                return;
            }
            assert!(
                std::time::Instant::now() < limit,
                "the call did not ask for its greeting within 30 s of real time"
            );
            while let Ok(m) = self.rx.try_recv() {
                self.on_server(Some(m)).await;
            }
            tokio::task::yield_now().await;
        }
    }

    pub fn now(&self) -> u64 {
        ms_since(self.t0)
    }

    pub fn uplink_delay_ms(&self) -> u64 {
        self.handset.uplink_delay_ms()
    }

    pub fn say(&mut self, text: &str, ms: u64) -> &mut Self {
        let pcm = self.book.lock().expect("book").speech(text, ms);
        self.handset.queue_speech(pcm, Some(text.to_string()));
        self
    }

    pub fn pause(&mut self, ms: u64) -> &mut Self {
        self.handset.queue_speech(vec![0; ms as usize * 16], None);
        self
    }

    pub fn press(&mut self, keys: &str, gap_ms: u64) -> &mut Self {
        self.handset.queue_keys(self.now(), keys, gap_ms);
        self
    }

    /// A copy of the timeline so far.
    pub fn timeline(&self) -> Timeline {
        self.seen.lock().map(|t| t.clone()).unwrap_or_default()
    }

    fn log(&self, s: Seen) {
        if let Ok(mut t) = self.seen.lock() {
            t.push(ms_since(self.t0), s);
        }
    }

    fn problem(&self, p: String) {
        if let Ok(mut t) = self.seen.lock() {
            t.problems.push(p);
        }
    }

    async fn send(&mut self, ev: Inbound) {
        let msgs = match self.handset.codec.encode(&ev) {
            Ok(m) => m,
            Err(e) => return self.problem(format!("caller cannot encode {ev:?}: {e}")),
        };
        for m in msgs {
            let msg = match m {
                WsMessage::Text(t) => Message::Text(t.into()),
                WsMessage::Binary(b) => Message::Binary(b.into()),
            };
            if self.tx.send(msg).await.is_err() {
                self.closed = true;
            }
        }
    }

    /// Runs the line (frames out, server messages in, marks echoed) until `done` holds of the
    /// timeline; returns that time.
    ///
    /// # Panics
    /// When it does not hold within `limit_ms`, with the timeline.
    pub async fn run_until(&mut self, limit_ms: u64, done: impl Fn(&Timeline) -> bool) -> u64 {
        let end = self.now() + limit_ms;
        loop {
            let now = self.now();
            self.handle_due(now).await;
            if self.seen.lock().map(|t| done(&t)).unwrap_or(false) {
                return now;
            }
            assert!(
                now < end && !self.closed,
                "not reached by {end} ms (now {now} ms, closed: {}):\n{}",
                self.closed,
                self.timeline().dump()
            );
            let wake = [
                Some(self.handset.next_frame),
                self.handset.next_mark_at(),
                self.handset.next_key_at(),
                Some(end),
            ]
            .into_iter()
            .flatten()
            .min()
            .unwrap_or(end);
            tokio::select! {
                m = self.rx.recv() => self.on_server(m).await,
                _ = sleep_until(self.t0 + Duration::from_millis(wake)) => {}
            }
        }
    }

    pub async fn run_for(&mut self, ms: u64) {
        let end = self.now() + ms;
        let t0 = self.t0;
        let _ = self.run_until(ms + 1, move |_| ms_since(t0) >= end).await;
    }

    /// Runs until the caller echoed the end mark of bot turn `turn`.
    pub async fn until_played(&mut self, turn: u64, limit_ms: u64) -> u64 {
        let name = sb_call::end_mark(turn);
        self.run_until(limit_ms, move |t| !t.echoed(&name).is_empty())
            .await
    }

    /// Once the call's last reply has played: waits for the server to end the stream, with the
    /// paused clock held still (tokio does not auto-advance while a blocking task runs). The
    /// end-of-call work (transcripts, a paused session) runs on the store's own threads; without
    /// the hold the clock would race through the caller's frames meanwhile, by however long
    /// that work takes in real time. If nothing closes within [`HOLD`] of real time, the hold
    /// ends and `limit_ms` of virtual time fails the test.
    pub async fn until_closed(&mut self, limit_ms: u64) -> u64 {
        let (release, held) = std::sync::mpsc::channel::<()>();
        let hold = tokio::task::spawn_blocking(move || {
            let _ = held.recv_timeout(HOLD);
        });
        let at = self.run_until(limit_ms, |t| t.closed_at().is_some()).await;
        let _ = release.send(());
        let _ = hold.await;
        if let Some(call) = self.call.take() {
            call.await.expect("the call task ends cleanly");
        }
        at
    }

    async fn handle_due(&mut self, now: u64) {
        if self.closed {
            return;
        }
        for name in self.handset.marks_due(now) {
            self.log(Seen::MarkEchoed(name.clone()));
            self.send(Inbound::Mark { name }).await;
        }
        for digit in self.handset.keys_due(now) {
            self.log(Seen::Key(digit));
            let duration_ms = (self.platform == Platform::Vonage).then_some(100);
            self.send(Inbound::Dtmf { digit, duration_ms }).await;
        }
        while self.handset.next_frame <= now {
            let at_ms = self.handset.next_frame - sb_testkit::virtual_call::FRAME_MS;
            let (pcm16k, spoken) = self.handset.take_frame();
            for s in spoken {
                self.log(Seen::Spoke(s));
            }
            self.send(Inbound::Audio { pcm16k, at_ms }).await;
        }
    }

    async fn on_server(&mut self, m: Option<Message>) {
        let now = self.now();
        let wire = match m {
            None | Some(Message::Close(_)) => {
                if !self.closed {
                    self.closed = true;
                    self.log(Seen::Closed);
                }
                return;
            }
            Some(Message::Text(t)) => WsMessage::Text(t.to_string()),
            Some(Message::Binary(b)) => WsMessage::Binary(b.to_vec()),
            Some(_) => return,
        };
        let outs = match self.handset.codec.decode(wire) {
            Ok(o) => o,
            Err(e) => return self.problem(format!("caller cannot decode: {e}")),
        };
        for o in outs {
            match self.handset.got(now, o) {
                Got::Audio {
                    from_ms,
                    ms,
                    voiced_from,
                } => self.log(Seen::BotAudio {
                    from_ms,
                    ms,
                    voiced_from,
                }),
                Got::Mark(name) => self.log(Seen::MarkReceived(name)),
                Got::Clear(replies) => {
                    self.log(Seen::Clear);
                    for r in replies {
                        self.send(r).await;
                    }
                }
            }
        }
    }
}
