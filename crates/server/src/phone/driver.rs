//! The one driver loop for both transports: it selects over the socket, speech/webhook
//! results, the session's next deadline, the playout clock and shutdown; decodes platform
//! messages into [`Input`]s, drains [`Output`]s and writes them back paced.
//!
//! Clock: milliseconds since the socket was accepted (tokio's clock: virtual under paused time),
//! the one source of every [`Input`]'s time. Caller audio is placed on that timeline by its
//! media time (the codec's) through a [`MediaClock`]; the call's "now" never falls behind the
//! audio placed so far. `Instant::now` beyond that only paces the output.

use super::accept::{to_wire, to_ws, MediaSocket};
use super::events::Bookkeeping;
use super::playout::{Playout, Send};
use super::setup::Phone;
use super::speech::{Step, Work};
use super::start::CallSetup;
use axum::extract::ws::Message;
use sb_call::{CallSession, HangupReason, Input, MediaClock, Output};
use sb_speech::asr::AsrFailure;
use sb_speech::ssml::{self, Piece};
use sb_transport::{Codec, Inbound, Outbound, Platform};
use std::sync::Arc;
use tokio::sync::mpsc;
use tokio::task::JoinSet;
use tokio::time::{sleep_until, Duration, Instant};

/// Results waiting for one call (speech chunks, webhook answers).
const WORK_QUEUE: usize = 256;
/// Longest wait for a live-agent handoff REST call before the socket closes anyway.
pub(crate) const HANDOFF_TIMEOUT: Duration = Duration::from_secs(15);

pub(crate) struct Driver {
    pub(crate) phone: Arc<Phone>,
    pub(crate) platform: Platform,
    pub(crate) setup: CallSetup,
    session: CallSession,
    codec: Box<dyn Codec + std::marker::Send>,
    playout: Playout,
    work_tx: mpsc::Sender<Work>,
    work_rx: mpsc::Receiver<Work>,
    tasks: JoinSet<()>,
    key: u64,
    t0: Instant,
    media: MediaClock,
    bad: u32,
    window_start: Instant,
    window_count: u32,
    closed: bool,
    pub(crate) hangup: Option<HangupReason>,
    pub(crate) book: Bookkeeping,
    /// The close frame to end the socket with, when the driver chose one.
    pub(crate) close_frame: Option<axum::extract::ws::CloseFrame>,
    /// The agent's words for recognition prompts, made at the first recognition that uses them.
    agent_words: Option<String>,
}

impl Driver {
    pub(crate) fn new(
        phone: Arc<Phone>,
        platform: Platform,
        setup: CallSetup,
        session: CallSession,
        codec: Box<dyn Codec + std::marker::Send>,
        t0: Instant,
    ) -> Self {
        let (work_tx, work_rx) = mpsc::channel(WORK_QUEUE);
        let lead = Duration::from_millis(phone.file.phone.playout_lead_ms);
        let key = phone.next_key();
        Driver {
            platform,
            setup,
            session,
            codec,
            playout: Playout::new(lead, Instant::now()),
            work_tx,
            work_rx,
            tasks: JoinSet::new(),
            key,
            t0,
            media: MediaClock::new(),
            bad: 0,
            window_start: Instant::now(),
            window_count: 0,
            closed: false,
            hangup: None,
            book: Bookkeeping::default(),
            close_frame: None,
            agent_words: None,
            phone,
        }
    }

    /// The prompt of the next recognition (`phone.asr_prompt`).
    fn asr_prompt(&mut self) -> Option<String> {
        let hints = self.setup.connector.cfg.asr_prompt();
        let (engine, cache) = (&self.setup.engine, &mut self.agent_words);
        let words = || {
            cache
                .get_or_insert_with(|| {
                    super::asr_prompt::agent_words(
                        &engine.agent,
                        super::asr_prompt::AGENT_WORDS_BYTES,
                    )
                })
                .clone()
        };
        self.phone
            .file
            .phone
            .asr_prompt
            .compose(hints, words, self.session.last_reply())
    }

    pub(crate) fn now_ms(&self) -> u64 {
        let clock = self.t0.elapsed().as_millis() as u64;
        clock.max(self.media.end_ms().unwrap_or(0))
    }

    pub(crate) async fn run(&mut self, ws: &mut impl MediaSocket) {
        let mut book = std::mem::take(&mut self.book);
        book.started(self);
        self.book = book;
        let chosen = std::mem::take(&mut self.setup.speech);
        self.phone.speech.choose(self.key, chosen);
        let mut shutdown = self.phone.shutdown_signal();
        let mut shutting = *shutdown.borrow();
        let at = self.now_ms();
        if let Some(error) = self.setup.refused.take() {
            // Refused settings fail the session before it starts, as the platform would.
            tracing::warn!(call = %self.setup.info.call_id, %error, "call settings refused");
            self.feed(Input::Abort { at_ms: at, error });
        }
        self.feed(Input::Start {
            at_ms: at,
            utc: self.phone.clock.now(),
        });
        if shutting {
            self.feed(Input::Abort {
                at_ms: at,
                error: "server shutting down".into(),
            });
        }
        loop {
            self.drain_outputs();
            if !self.pump(ws).await {
                let at = self.now_ms();
                self.closed = true;
                self.feed(Input::Hangup { at_ms: at });
            }
            if self.session.is_ended() || self.closed {
                self.drain_outputs();
                break;
            }
            let deadline = self
                .session
                .poll_timeout()
                .map(|ms| self.t0 + Duration::from_millis(ms));
            let send_due = self.playout.next_due(Instant::now());
            tokio::select! {
                r = shutdown.changed(), if !shutting => {
                    shutting = true;
                    if r.is_ok() {
                        let at = self.now_ms();
                        self.feed(Input::Abort { at_ms: at, error: "server shutting down".into() });
                    }
                }
                msg = ws.recv() => self.on_socket(msg),
                Some(w) = self.work_rx.recv() => self.on_work(w),
                _ = sleep_until(deadline.unwrap_or_else(Instant::now)), if deadline.is_some() => {
                    let at = self.now_ms();
                    self.feed(Input::Tick { at_ms: at });
                }
                _ = sleep_until(send_due.unwrap_or_else(Instant::now)), if send_due.is_some() => {}
            }
        }
    }

    fn feed(&mut self, input: Input) {
        self.session.handle_input(input);
    }

    fn on_socket(&mut self, msg: Option<Result<Message, axum::Error>>) {
        let at = self.now_ms();
        // A message over the socket's cap: the stream cannot be read past it, so the server
        // ends the call (close code 1009) and the record says so.
        if let Some(why) = msg
            .as_ref()
            .and_then(|m| m.as_ref().err())
            .and_then(super::accept::oversized)
        {
            self.on_bad(why.clone());
            self.close_frame =
                super::accept::close_frame(super::accept::close::TOO_BIG, "message too big");
            self.feed(Input::Abort {
                at_ms: at,
                error: why,
            });
            return;
        }
        let msg = match msg {
            Some(Ok(Message::Close(_))) | Some(Err(_)) | None => {
                self.closed = true;
                for ev in self.codec.on_close() {
                    if ev == Inbound::Stop {
                        self.feed(Input::Hangup { at_ms: at });
                    }
                }
                return;
            }
            Some(Ok(m)) => m,
        };
        let limits = &self.phone.file.phone;
        let Some(wire) = to_wire(msg, limits.max_message_bytes) else {
            return;
        };
        if self.window_start.elapsed() >= Duration::from_secs(1) {
            self.window_start = Instant::now();
            self.window_count = 0;
        }
        self.window_count += 1;
        let decoded = if self.window_count > limits.max_messages_per_sec {
            Err("message rate limit exceeded".to_string())
        } else {
            wire.and_then(|w| self.codec.decode(w).map_err(|e| e.to_string()))
        };
        match decoded {
            Ok(events) => {
                for ev in events {
                    self.on_inbound(ev);
                }
            }
            Err(e) => self.on_bad(e),
        }
    }

    fn on_bad(&mut self, e: String) {
        self.bad += 1;
        let m = &self.phone.metrics;
        m.bad_messages
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        if self.bad <= 3 {
            tracing::warn!(call = %self.setup.info.call_id, error = %e, "bad platform message skipped");
        }
        if self.bad == self.phone.file.phone.max_bad_messages + 1 {
            let at = self.now_ms();
            self.feed(Input::Abort {
                at_ms: at,
                error: format!("too many bad platform messages (last: {e})"),
            });
        }
    }

    fn on_inbound(&mut self, ev: Inbound) {
        let now = self.now_ms();
        match ev {
            Inbound::Audio { pcm16k, at_ms } => {
                let len = pcm16k.len() as u64 / 16;
                let arrival = self.t0.elapsed().as_millis() as u64;
                let at = self.media.place(arrival, at_ms, len);
                self.feed(Input::Audio { at_ms: at, pcm16k });
            }
            Inbound::Dtmf { digit, .. } => self.feed(Input::Dtmf { at_ms: now, digit }),
            Inbound::Mark { name } => {
                tracing::trace!(call = %self.setup.info.call_id, at = now, %name, "mark echoed");
                self.feed(Input::PlaybackMark { at_ms: now, name })
            }
            Inbound::Stop => {
                self.closed = true;
                self.feed(Input::Hangup { at_ms: now });
            }
            Inbound::Start(_) | Inbound::Connected | Inbound::Cleared => {}
            Inbound::Notify { .. } | Inbound::Ignored(_) => {}
        }
    }

    fn on_work(&mut self, w: Work) {
        tracing::trace!(call = %self.setup.info.call_id, work = ?std::mem::discriminant(&w), "work result");
        while self.tasks.try_join_next().is_some() {} // reap finished webhook tasks
        let at = self.now_ms();
        let input = match w {
            Work::Asr { turn, result } => {
                self.book.asr_done(&self.phone, turn, at);
                Input::AsrResult {
                    at_ms: at,
                    turn,
                    result,
                }
            }
            Work::Tts { turn, pcm16k, last } => Input::TtsChunk {
                at_ms: at,
                turn,
                pcm16k,
                last,
            },
            Work::TtsFailed { turn, error } => Input::TtsFailed {
                at_ms: at,
                turn,
                error,
            },
            Work::Webhook { turn, outcome } => Input::WebhookResult {
                at_ms: at,
                turn,
                outcome,
            },
        };
        self.feed(input);
    }

    /// Performs every queued output (requests are started, audio is queued for pacing).
    fn drain_outputs(&mut self) {
        // Failures answered at once re-enter the session, so loop until it is quiet.
        for _ in 0..64 {
            let mut answered = Vec::new();
            while let Some(out) = self.session.poll_output() {
                if let Some(input) = self.perform(out) {
                    answered.push(input);
                }
            }
            if answered.is_empty() {
                return;
            }
            for i in answered {
                self.feed(i);
            }
        }
    }

    fn perform(&mut self, out: Output) -> Option<Input> {
        let at = self.now_ms();
        let speech = self.phone.speech.clone();
        tracing::trace!(call = %self.setup.info.call_id, at, output = %describe(&out), "output");
        match out {
            Output::PlayAudio { turn, pcm16k } => {
                if !self.playout.push_audio(turn, pcm16k) {
                    self.phone.metrics.dropped("outbound_audio");
                }
            }
            Output::Mark(name) => self.playout.push_mark(name),
            Output::ClearPlayback => {
                self.playout.clear(Instant::now());
                self.book.pending_clear = true;
            }
            Output::Asr {
                turn,
                pcm16k,
                prompt,
                priority,
            } => {
                if !priority.runs(speech.asr_load()) {
                    self.phone.metrics.dropped("early_asr");
                    return Some(Input::AsrSkipped { at_ms: at, turn });
                }
                self.book.asr_sent(turn, at);
                let prompt = prompt.or_else(|| self.asr_prompt());
                if !speech.recognize(
                    self.key,
                    turn,
                    priority,
                    pcm16k,
                    prompt,
                    self.work_tx.clone(),
                ) {
                    return Some(Input::AsrResult {
                        at_ms: at,
                        turn,
                        result: Err(AsrFailure::Overloaded),
                    });
                }
            }
            Output::CancelAsr { turn } => speech.cancel_asr(self.key, turn),
            Output::Synthesize { turn, text } => return self.speak(at, turn, &text),
            Output::Webhook {
                turn,
                request,
                webhook,
            } => {
                let (client, tx) = (self.phone.webhook.clone(), self.work_tx.clone());
                self.tasks.spawn(async move {
                    let outcome = client.call_with(&request, &webhook).await;
                    let _ = tx.send(Work::Webhook { turn, outcome }).await;
                });
            }
            Output::Event(ev) => super::events::on_event(self, ev),
            Output::Hangup { reason } => self.hangup = Some(reason),
        }
        None
    }

    /// Says a reply: plain text, or SSML with silences and clips. Clips are fetched (or taken
    /// from the cache) off the loop first; one that cannot be had is logged and skipped.
    fn speak(&mut self, at: u64, turn: u64, text: &str) -> Option<Input> {
        let reading = ssml::pieces_of(text);
        let call = self.setup.info.call_id.clone();
        if let Some(w) = &reading.warning {
            tracing::warn!(call = %call, turn, warning = %w, "reply SSML");
        }
        let overloaded = || Input::TtsFailed {
            at_ms: at,
            turn,
            error: "speech synthesis is overloaded".into(),
        };
        let has_clips = reading
            .pieces
            .iter()
            .any(|p| matches!(p, Piece::Audio { .. }));
        if !has_clips {
            let steps = reading.pieces.into_iter().filter_map(step_of).collect();
            let ok = self
                .phone
                .speech
                .speak(self.key, turn, steps, self.work_tx.clone());
            return (!ok).then(overloaded);
        }
        let (phone, tx, key) = (self.phone.clone(), self.work_tx.clone(), self.key);
        self.tasks.spawn(async move {
            let mut steps = Vec::new();
            for p in reading.pieces {
                let Piece::Audio { src, fallback } = p else {
                    steps.extend(step_of(p));
                    continue;
                };
                match phone.clips.get(&src).await {
                    Ok(pcm) => steps.push(Step::Clip(pcm)),
                    Err(e) => {
                        phone.metrics.dropped("audio_clip");
                        tracing::warn!(call = %call, turn, error = %e, "audio clip skipped");
                        if !fallback.is_empty() {
                            steps.push(Step::Say {
                                text: fallback,
                                rate: 1.0,
                            });
                        }
                    }
                }
            }
            if !phone.speech.speak(key, turn, steps, tx.clone()) {
                let error = "speech synthesis is overloaded".to_string();
                let _ = tx.send(Work::TtsFailed { turn, error }).await;
            }
        });
        None
    }

    /// Writes what is due. `false` when the socket is gone.
    async fn pump(&mut self, ws: &mut impl MediaSocket) -> bool {
        if self.closed {
            return true;
        }
        let mut msgs = Vec::new();
        if std::mem::take(&mut self.book.pending_clear) {
            msgs.extend(self.codec.encode(&Outbound::Clear).unwrap_or_default());
        }
        let now = Instant::now();
        for s in self.playout.due(now) {
            let encoded = match s {
                Send::Mark(name) => self.codec.encode(&Outbound::Mark(name)),
                Send::Audio { turn, pcm, first } => {
                    if first {
                        let at = self.now_ms();
                        self.book.first_audio(&self.phone, turn, at);
                        self.codec.reply_starts();
                    }
                    self.codec.encode(&Outbound::Audio(pcm))
                }
            };
            match encoded {
                Ok(m) => msgs.extend(m),
                Err(e) => {
                    tracing::warn!(call = %self.setup.info.call_id, error = %e, "cannot encode output")
                }
            }
        }
        for m in msgs {
            if ws.send(to_ws(m)).await.is_err() {
                return false;
            }
        }
        true
    }

    /// After the socket closed: end-of-call bookkeeping, handoff, pause, queue cleanup.
    pub(crate) async fn finish(mut self) {
        self.tasks.abort_all();
        self.phone.speech.forget(self.key);
        super::events::finish(&mut self, HANDOFF_TIMEOUT).await;
    }
}

impl Drop for Driver {
    /// Also when a call's task unwinds: its queued speech jobs go and it stops counting as a
    /// call on the line (`forget` is idempotent).
    fn drop(&mut self) {
        self.phone.speech.forget(self.key);
    }
}

/// The speech step of a piece that needs no fetching.
fn step_of(p: Piece) -> Option<Step> {
    match p {
        Piece::Speech { text, rate } => Some(Step::Say { text, rate }),
        Piece::Silence { ms } => Some(Step::Silence { ms }),
        Piece::Audio { .. } => None,
    }
}

/// A one-line description of an output for trace logs (no audio, no secrets).
fn describe(o: &Output) -> String {
    match o {
        Output::PlayAudio { turn, pcm16k } => format!("play turn {turn}: {} ms", pcm16k.len() / 16),
        Output::Mark(m) => format!("mark {m}"),
        Output::ClearPlayback => "clear".into(),
        Output::Asr { turn, pcm16k, .. } => format!("asr turn {turn}: {} ms", pcm16k.len() / 16),
        Output::CancelAsr { turn } => format!("cancel asr turn {turn}"),
        Output::Synthesize { turn, text } => format!("synthesize turn {turn}: {text:?}"),
        Output::Webhook { turn, .. } => format!("webhook turn {turn}"),
        Output::Event(e) => format!(
            "event {}",
            match e {
                sb_call::CallEvent::IntentMatched { .. } => "intent-matched",
                sb_call::CallEvent::TurnCompleted(_) => "turn-completed",
                sb_call::CallEvent::BargeIn { .. } => "barge-in",
                sb_call::CallEvent::NoInput { .. } => "no-input",
                sb_call::CallEvent::Warning { .. } => "warning",
                sb_call::CallEvent::SessionEnded { .. } => "session-ended",
            }
        ),
        Output::Hangup { reason } => format!("hangup {reason:?}"),
    }
}
