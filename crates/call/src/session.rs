//! [`CallSession`]: one state machine per call, str0m-style. Read top to bottom:
//!
//! ```text
//! Input ─► handle_input ─► fire due timers ─► dispatch
//!   Audio ──► Listener (VAD + end-pointer) ─► Heard::{Started, Sustained, Ended}
//!               Started   : cancels the no-input timer
//!               Sustained : barge-in if the bot's turn is interruptible (ClearPlayback)
//!               Paused    : early recognition; the turn may end here    (early.rs)
//!               Ended     : Output::Asr ─► AsrResult ─► engine turn   (turn.rs)
//!   Dtmf ───► DtmfCollector ─► engine turn with the digits as text      (turn.rs)
//!   engine turn ─► [Output::Webhook ─► WebhookResult] ─► Output::Synthesize
//!   TtsChunk ─► Output::PlayAudio … Output::Mark("turn-N-end") ─► PlaybackMark ─► listen
//!   Tick ───► timers: no-input re-prompt / goodbye, DTMF entry, max call, stalls
//! Output ◄─ poll_output            next deadline ◄─ poll_timeout
//! ```
//!
//! The session never reads a clock, never does I/O, never panics on odd input orders: inputs for
//! turns that are no longer current, marks it never sent and anything after the end are ignored.

use crate::config::{CallConfig, CallError};
use crate::dtmf::DtmfCollector;
use crate::listen::{Heard, Listener};
use crate::turn::Turn;
use crate::types::*;
use chrono::{DateTime, TimeDelta, Utc};
use sb_contracts::asr::AsrPriority;
use sb_contracts::sentiment::Sentiment;
use sb_contracts::vad::Vad;
use sb_nlu::dialog::SessionState;
use sb_nlu::engine::Engine;
use std::collections::VecDeque;
use std::sync::Arc;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    NotStarted,
    Live,
    Ended,
}

/// The sans-IO call session. See the module docs for the flow.
pub struct CallSession {
    pub(crate) engine: Arc<Engine>,
    pub(crate) cfg: CallConfig,
    pub(crate) session_path: String,
    pub(crate) sentiment: Option<Arc<dyn Sentiment>>,
    pub(crate) listener: Listener,
    pub(crate) dtmf: DtmfCollector,
    pub(crate) state: SessionState,
    pub(crate) out: VecDeque<Output>,
    phase: Phase,
    start_ms: u64,
    start_utc: DateTime<Utc>,
    pub(crate) next_turn: u64,
    /// The bot's turn in flight (ASR → NLU → TTS → playback); `None` while listening.
    pub(crate) turn: Option<Turn>,
    /// The open utterance will be recognised (it began while listening, or barged in).
    pub(crate) utterance_counts: bool,
    pub(crate) no_input_at: Option<u64>,
    pub(crate) no_input_count: u32,
    /// The agent's last non-final reply (repeated on no-input).
    pub(crate) last_prompt: String,
    /// `session_params` still to be merged (first engine turn).
    pub(crate) params_pending: bool,
}

impl CallSession {
    /// A session for one call. `vad` may use any frame length; audio is re-chunked for it.
    pub fn new(
        engine: Arc<Engine>,
        vad: Box<dyn Vad>,
        cfg: CallConfig,
        call_id: &str,
    ) -> Result<Self, CallError> {
        cfg.validate()?;
        let listener = Listener::new(vad, &cfg.endpoint, cfg.barge_in_min_speech_ms)?;
        let session_path = cfg.session.clone().unwrap_or_else(|| {
            let project = engine.agent.project.as_deref().unwrap_or("switchboard");
            format!("projects/{project}/agent/sessions/{call_id}")
        });
        Ok(Self {
            engine,
            session_path,
            sentiment: None,
            listener,
            dtmf: DtmfCollector::default(),
            state: SessionState::default(),
            out: VecDeque::new(),
            phase: Phase::NotStarted,
            start_ms: 0,
            start_utc: DateTime::<Utc>::UNIX_EPOCH,
            next_turn: 0,
            turn: None,
            utterance_counts: false,
            no_input_at: None,
            no_input_count: 0,
            last_prompt: String::new(),
            params_pending: true,
            cfg,
        })
    }

    /// Sentiment analyser used when `cfg.sentiment` is on.
    pub fn with_sentiment(mut self, s: Arc<dyn Sentiment>) -> Self {
        self.sentiment = Some(s);
        self
    }

    /// The engine state (contexts, slot filling, session params).
    pub fn state(&self) -> &SessionState {
        &self.state
    }

    pub fn is_ended(&self) -> bool {
        self.phase == Phase::Ended
    }

    pub(crate) fn is_live(&self) -> bool {
        self.phase == Phase::Live
    }

    /// Next queued output, in order.
    pub fn poll_output(&mut self) -> Option<Output> {
        self.out.pop_front()
    }

    /// The earliest pending deadline (driver ms). Feed [`Input::Tick`] at or after it.
    pub fn poll_timeout(&self) -> Option<u64> {
        if self.phase != Phase::Live {
            return None;
        }
        [
            self.max_call_at(),
            self.stall_at(),
            self.dtmf.deadline(),
            self.no_input_at,
            self.turn.as_ref().and_then(|t| t.deadline),
        ]
        .into_iter()
        .flatten()
        .min()
    }

    pub fn handle_input(&mut self, input: Input) {
        let at = input.at_ms();
        match self.phase {
            Phase::Ended => return,
            Phase::NotStarted => {
                match input {
                    Input::Start { at_ms, utc } => self.on_start(at_ms, utc),
                    Input::Hangup { at_ms } => self.end(at_ms, EndStatus::Completed, None),
                    Input::Abort { at_ms, error } => {
                        self.end(at_ms, EndStatus::Failed { error }, None)
                    }
                    _ => {} // nothing to do before the stream starts
                }
                return;
            }
            Phase::Live => {}
        }
        self.fire_timers(at);
        if self.phase != Phase::Live {
            return;
        }
        match input {
            Input::Start { .. } => {} // already started
            Input::Audio { at_ms, pcm16k } => self.on_audio(at_ms, &pcm16k),
            Input::Dtmf { at_ms, digit } => self.on_dtmf(at_ms, digit),
            Input::AsrResult {
                at_ms,
                turn,
                result,
            } => self.on_asr(at_ms, turn, result),
            Input::AsrSkipped { turn, .. } => self.on_asr_skipped(turn),
            Input::WebhookResult {
                at_ms,
                turn,
                outcome,
            } => self.on_webhook(at_ms, turn, outcome),
            Input::TtsChunk {
                at_ms,
                turn,
                pcm16k,
                last,
            } => self.on_tts(at_ms, turn, pcm16k, last),
            Input::TtsFailed { at_ms, turn, error } => self.on_tts_failed(at_ms, turn, error),
            Input::PlaybackMark { at_ms, name } => self.on_mark(at_ms, &name),
            Input::Tick { .. } => {}
            Input::Hangup { at_ms } => self.on_caller_hangup(at_ms),
            Input::Abort { at_ms, error } => self.end(
                at_ms,
                EndStatus::Failed { error },
                Some(HangupReason::Failed),
            ),
        }
    }

    fn on_start(&mut self, at: u64, utc: DateTime<Utc>) {
        self.phase = Phase::Live;
        self.start_ms = at;
        self.start_utc = utc;
        match self.cfg.resume.clone() {
            Some(r) => {
                self.state = r.state;
                match r.event {
                    Some(ev) if !ev.trim().is_empty() => self.event_turn(at, ev),
                    _ => self.listen(at),
                }
            }
            None => {
                let ev = self.cfg.welcome_event.clone();
                self.event_turn(at, ev);
            }
        }
    }

    /// Wall-clock time at driver time `at` (for the engine's `@sys.date` resolution).
    pub(crate) fn utc_at(&self, at: u64) -> DateTime<Utc> {
        let ms = at.saturating_sub(self.start_ms).min(i64::MAX as u64) as i64;
        TimeDelta::try_milliseconds(ms)
            .and_then(|d| self.start_utc.checked_add_signed(d))
            .unwrap_or(self.start_utc)
    }

    // ---- caller audio ------------------------------------------------------------------------

    fn on_audio(&mut self, at: u64, pcm: &[i16]) {
        let mut heard = Vec::new();
        self.listener.push(at, pcm, &mut heard);
        for h in heard {
            self.on_heard(at, h);
        }
    }

    fn on_heard(&mut self, at: u64, h: Heard) {
        match h {
            Heard::Started { .. } => {
                self.utterance_counts = self.turn.is_none();
                if self.utterance_counts {
                    self.no_input_at = None;
                }
            }
            Heard::Sustained { at_ms } => {
                if !self.utterance_counts && self.interruptible() {
                    self.barge_in(at_ms);
                    self.utterance_counts = true;
                }
            }
            Heard::Paused {
                end_ms, pcm, late, ..
            } => self.on_pause(at, end_ms, pcm, late),
            Heard::Resumed => self.on_resumed(),
            Heard::Ended { end_ms, pcm, .. } => {
                if self.end_tentative(at, end_ms, &pcm) {
                    return;
                }
                let counts = std::mem::take(&mut self.utterance_counts);
                if counts && self.turn.is_none() && self.phase == Phase::Live {
                    self.no_input_at = None;
                    self.speech_turn(at, end_ms, pcm, AsrPriority::Final);
                } else if self.turn.is_none() && self.no_input_at.is_none() {
                    // A discarded sound (cough during the prompt) while listening: keep waiting.
                    self.no_input_at =
                        Some(at.saturating_add(u64::from(self.cfg.no_input_timeout_ms)));
                }
            }
        }
    }

    /// Whether caller input may interrupt the turn in flight now.
    fn interruptible(&self) -> bool {
        self.cfg.barge_in && self.turn.as_ref().is_some_and(|t| t.interruptible)
    }

    // ---- DTMF --------------------------------------------------------------------------------

    fn on_dtmf(&mut self, at: u64, digit: char) {
        if self.turn.as_ref().is_some_and(|t| t.tentative) {
            self.turn = None; // keys in a pause: the digits are the turn
        }
        if self.turn.is_some() {
            if !self.interruptible() {
                return; // keys during a prompt that can't be interrupted are dropped
            }
            self.barge_in(at);
        }
        self.no_input_at = None;
        let (term, gap) = (self.cfg.dtmf_terminator, self.cfg.dtmf_inter_digit_ms);
        if let Some(digits) = self.dtmf.key(digit, at, term, gap) {
            self.dtmf_turn(at, at, digits);
        } else if !self.dtmf.is_collecting() && self.turn.is_none() {
            self.listen(at); // a lone terminator or junk key: keep waiting
        }
    }

    // ---- timers ------------------------------------------------------------------------------

    fn max_call_at(&self) -> Option<u64> {
        (self.cfg.max_call_ms > 0).then(|| self.start_ms.saturating_add(self.cfg.max_call_ms))
    }

    /// An open utterance whose audio stopped arriving ends like silence would end it.
    fn stall_at(&self) -> Option<u64> {
        if !self.listener.in_utterance() {
            return None;
        }
        let end = self.listener.audio_end_ms()?;
        Some(end.saturating_add(u64::from(self.cfg.endpoint.end_silence_ms)))
    }

    fn fire_timers(&mut self, now: u64) {
        for _ in 0..8 {
            if self.phase != Phase::Live {
                return;
            }
            let due = |d: Option<u64>| d.is_some_and(|d| now >= d);
            if due(self.max_call_at()) {
                self.end(now, EndStatus::Completed, Some(HangupReason::MaxDuration));
            } else if due(self.stall_at()) {
                let mut heard = Vec::new();
                self.listener.flush(&mut heard);
                for h in heard {
                    self.on_heard(now, h);
                }
            } else if let Some(deadline) = self.dtmf.deadline().filter(|&d| now >= d) {
                if let Some(digits) = self.dtmf.expire(now) {
                    let last_key = deadline.saturating_sub(u64::from(self.cfg.dtmf_inter_digit_ms));
                    if self.turn.is_none() {
                        self.dtmf_turn(now, last_key, digits);
                    }
                }
            } else if due(self.no_input_at) {
                self.no_input_at = None;
                self.on_no_input(now);
            } else if due(self.turn.as_ref().and_then(|t| t.deadline)) {
                self.turn_timeout(now);
            } else {
                return;
            }
        }
    }

    // ---- listening and the end ----------------------------------------------------------------

    /// The bot is quiet: wait for the caller (no-input timer armed).
    pub(crate) fn listen(&mut self, at: u64) {
        self.turn = None;
        self.no_input_at = if self.dtmf.is_collecting() {
            None
        } else {
            Some(at.saturating_add(u64::from(self.cfg.no_input_timeout_ms)))
        };
    }

    fn on_caller_hangup(&mut self, at: u64) {
        // A caller who hangs up during the pause message is still paused (resumable).
        let status = match self.turn.as_ref().and_then(|t| t.ending.as_ref()) {
            Some((s @ EndStatus::Paused { .. }, _)) => s.clone(),
            _ => EndStatus::Completed,
        };
        self.end(at, status, None);
    }

    /// Ends the session exactly once: the last turn's record, `SessionEnded`, then the hang-up.
    pub(crate) fn end(&mut self, at: u64, status: EndStatus, hangup: Option<HangupReason>) {
        if self.phase == Phase::Ended {
            return;
        }
        self.phase = Phase::Ended;
        if let Some(t) = self.turn.take() {
            self.emit_record(t, false);
        }
        self.no_input_at = None;
        self.dtmf.clear();
        self.out.push_back(Output::Event(CallEvent::SessionEnded {
            status,
            at_ms: at,
            state: Box::new(self.state.clone()),
        }));
        if let Some(reason) = hangup {
            self.out.push_back(Output::Hangup { reason });
        }
    }
}
