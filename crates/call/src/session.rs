//! [`CallSession`]: one state machine per call, str0m-style. Read top to bottom:
//!
//! ```text
//! Input ─► handle_input ─► handle due timeouts ─► dispatch
//!   Audio ──► Listener (VAD + end-pointer) ─► Heard::{Started, Sustained, Paused, Resumed, Ended}
//!   Dtmf ───► DtmfCollector ─► a finished entry is an engine turn
//!   AsrResult / WebhookResult / TtsChunk / PlaybackMark ─► the turn (turn.rs)
//!   Tick ───► only timeouts
//! Output ◄─ poll_output            next deadline ◄─ poll_timeout
//! ```
//!
//! Who holds the floor (listening, guessing at a pause, recognising, fulfilling, speaking) is
//! one enum, [`crate::turn`]; what an early guess is worth is decided in [`crate::early`]. Each
//! component owns its deadline: the listener (an utterance whose audio stalled), the DTMF
//! collector (inter-digit timeout) and the turn (no-input, work in flight, the mark echo);
//! [`CallSession::poll_timeout`] is their minimum, with the call's length limit.
//!
//! The session never reads a clock, never does I/O, never panics on odd input orders: inputs for
//! turns that are no longer current, marks it never sent and anything after the end are ignored.

use crate::config::{CallConfig, CallError};
use crate::dtmf::DtmfCollector;
use crate::listen::Listener;
use crate::turn::Turn;
use crate::types::*;
use chrono::{DateTime, TimeDelta, Utc};
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
    /// Who holds the floor.
    pub(crate) turn: Turn,
    /// No-inputs in a row.
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
            turn: Turn::Listening { no_input_at: None },
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

    /// The bot's last reply that asked something of the caller (not a goodbye); empty before
    /// the first one.
    pub fn last_reply(&self) -> &str {
        &self.last_prompt
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
            self.listener.poll_timeout(),
            self.dtmf.poll_timeout(),
            self.turn.poll_timeout(),
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
        self.handle_timeouts(at);
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
        self.listener.push(at, pcm);
        self.on_listener(at);
    }

    /// Hands what the listener heard to the turn, one event at a time.
    fn on_listener(&mut self, at: u64) {
        while let Some(h) = self.listener.poll_heard() {
            self.on_heard(at, h);
        }
    }

    // ---- timers ------------------------------------------------------------------------------

    fn max_call_at(&self) -> Option<u64> {
        (self.cfg.max_call_ms > 0).then(|| self.start_ms.saturating_add(self.cfg.max_call_ms))
    }

    /// Handles every timeout due at `now`, the call's limit first.
    fn handle_timeouts(&mut self, now: u64) {
        let due = |d: Option<u64>| d.is_some_and(|d| now >= d);
        for _ in 0..8 {
            if self.phase != Phase::Live {
                return;
            }
            if due(self.max_call_at()) {
                self.end(now, EndStatus::Completed, Some(HangupReason::MaxDuration));
            } else if due(self.listener.poll_timeout()) {
                self.listener.handle_timeout(now);
                self.on_listener(now);
            } else if due(self.dtmf.poll_timeout()) {
                if let Some((digits, last_key)) = self.dtmf.handle_timeout(now) {
                    if self.turn.is_listening() {
                        self.dtmf_turn(now, last_key, digits);
                    }
                }
            } else if due(self.turn.poll_timeout()) {
                self.turn_timeout(now);
            } else {
                return;
            }
        }
    }

    // ---- listening and the end ----------------------------------------------------------------

    fn on_caller_hangup(&mut self, at: u64) {
        // A caller who hangs up during the pause message is still paused (resumable).
        let status = match self.turn.ending() {
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
        if let Some(bot) = self.turn.finish() {
            self.emit_record(bot, false);
        }
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
