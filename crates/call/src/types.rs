//! What goes into a call session ([`Input`]) and what comes out ([`Output`], [`CallEvent`]).
//!
//! Every input carries `at_ms`: its instant on the call's timeline, in milliseconds from the
//! driver's one clock (any origin). The session never reads a clock; its timers fire on the first
//! input whose `at_ms` reaches them.

use chrono::{DateTime, Utc};
use sb_contracts::asr::{AsrFailure, AsrPriority, Transcript};
use sb_nlu::agent::WebhookConfig;
use sb_nlu::dialog::{SessionState, TurnResult};
use sb_nlu::webhook::{WebhookOutcome, WebhookRequest};
use serde_json::{Map, Value};

/// Something that happened to the call.
#[derive(Debug, Clone)]
pub enum Input {
    /// The media stream started. `utc` is the wall-clock time at `at_ms` (for `@sys.date`).
    Start { at_ms: u64, utc: DateTime<Utc> },
    /// Caller audio, 16 kHz mono, any length; `at_ms` is the time of its first sample: its
    /// media time placed on the call's timeline ([`crate::MediaClock`]). Taken as it is: audio
    /// stamped later than where the audio so far ended follows a gap; stamped earlier, it goes
    /// on where that audio ended.
    Audio { at_ms: u64, pcm16k: Vec<i16> },
    /// A DTMF key (`0-9`, `*`, `#`, `A-D`).
    Dtmf { at_ms: u64, digit: char },
    /// Answer to [`Output::Asr`] of `turn`.
    AsrResult {
        at_ms: u64,
        turn: u64,
        result: Result<Transcript, AsrFailure>,
    },
    /// The driver did not run an `early` [`Output::Asr`] of `turn` (recognition is busy): the
    /// utterance is recognised whole at its end instead.
    AsrSkipped { at_ms: u64, turn: u64 },
    /// Answer to [`Output::Webhook`] of `turn`.
    WebhookResult {
        at_ms: u64,
        turn: u64,
        outcome: WebhookOutcome,
    },
    /// Synthesised audio for [`Output::Synthesize`] of `turn`, 16 kHz mono; `last` ends it.
    TtsChunk {
        at_ms: u64,
        turn: u64,
        pcm16k: Vec<i16>,
        last: bool,
    },
    /// Synthesis of `turn` failed (chunks already delivered stay valid).
    TtsFailed {
        at_ms: u64,
        turn: u64,
        error: String,
    },
    /// The platform echoed a mark we sent: the audio before it has played.
    PlaybackMark { at_ms: u64, name: String },
    /// Nothing happened; lets timers fire. Send one at [`crate::CallSession::poll_timeout`].
    Tick { at_ms: u64 },
    /// The caller hung up (stream stopped).
    Hangup { at_ms: u64 },
    /// The driver cannot continue the call (transport or provider failure).
    Abort { at_ms: u64, error: String },
}

impl Input {
    pub fn at_ms(&self) -> u64 {
        match self {
            Input::Start { at_ms, .. }
            | Input::Audio { at_ms, .. }
            | Input::Dtmf { at_ms, .. }
            | Input::AsrResult { at_ms, .. }
            | Input::AsrSkipped { at_ms, .. }
            | Input::WebhookResult { at_ms, .. }
            | Input::TtsChunk { at_ms, .. }
            | Input::TtsFailed { at_ms, .. }
            | Input::PlaybackMark { at_ms, .. }
            | Input::Tick { at_ms }
            | Input::Hangup { at_ms }
            | Input::Abort { at_ms, .. } => *at_ms,
        }
    }
}

/// Work for the driver.
#[derive(Debug, Clone)]
pub enum Output {
    /// Send bot audio (16 kHz mono) to the caller.
    PlayAudio {
        turn: u64,
        pcm16k: Vec<i16>,
    },
    /// Send a playback mark; the platform echoes it ([`Input::PlaybackMark`]) once played.
    Mark(String),
    /// Drop audio queued on the platform (barge-in).
    ClearPlayback,
    /// Recognise one utterance (pre-roll included); answer with [`Input::AsrResult`]. A guess
    /// (at a pause, the caller may go on; see [`AsrPriority`]) may instead be answered with
    /// [`Input::AsrSkipped`] when recognition is busy.
    Asr {
        turn: u64,
        pcm16k: Vec<i16>,
        prompt: Option<String>,
        priority: AsrPriority,
    },
    /// Stop the [`Output::Asr`] of `turn` if it is queued or running: its answer is no longer
    /// wanted (an [`Input::AsrResult`] for it may still arrive and is ignored).
    CancelAsr {
        turn: u64,
    },
    /// Synthesise `text`; answer with [`Input::TtsChunk`]s (sentence by sentence, last one flagged).
    Synthesize {
        turn: u64,
        text: String,
    },
    /// Call the fulfillment webhook; answer with [`Input::WebhookResult`].
    Webhook {
        turn: u64,
        request: Box<WebhookRequest>,
        webhook: Box<WebhookConfig>,
    },
    Event(CallEvent),
    /// End the media leg. For `LiveAgentHandoff` the driver moves the call (REST redirect)
    /// instead of hanging it up.
    Hangup {
        reason: HangupReason,
    },
}

impl PartialEq for Output {
    /// Webhook requests compare by turn, JSON body and URL.
    fn eq(&self, other: &Self) -> bool {
        use Output::*;
        match (self, other) {
            (PlayAudio { turn: a, pcm16k: x }, PlayAudio { turn: b, pcm16k: y }) => {
                a == b && x == y
            }
            (Mark(a), Mark(b)) => a == b,
            (ClearPlayback, ClearPlayback) => true,
            (CancelAsr { turn: a }, CancelAsr { turn: b }) => a == b,
            (
                Asr {
                    turn: a,
                    pcm16k: x,
                    prompt: p,
                    priority: e,
                },
                Asr {
                    turn: b,
                    pcm16k: y,
                    prompt: q,
                    priority: f,
                },
            ) => a == b && x == y && p == q && e == f,
            (Synthesize { turn: a, text: x }, Synthesize { turn: b, text: y }) => a == b && x == y,
            (
                Webhook {
                    turn: a,
                    request: x,
                    webhook: w,
                },
                Webhook {
                    turn: b,
                    request: y,
                    webhook: v,
                },
            ) => {
                a == b
                    && w.url == v.url
                    && serde_json::to_value(&**x).ok() == serde_json::to_value(&**y).ok()
            }
            (Event(a), Event(b)) => a == b,
            (Hangup { reason: a }, Hangup { reason: b }) => a == b,
            _ => false,
        }
    }
}

/// Why the session ends the call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HangupReason {
    /// The agent ended the conversation (`endInteraction`).
    EndOfConversation,
    LiveAgentHandoff,
    Paused,
    /// The caller said nothing `max_no_input + 1` times.
    NoInput,
    /// `max_call_ms` reached.
    MaxDuration,
    /// [`Input::Abort`].
    Failed,
}

/// Observations for status callbacks, analytics and persistence.
#[derive(Debug, Clone, PartialEq)]
pub enum CallEvent {
    /// The engine answered a turn (Twilio `statusCallback` `intent` event).
    IntentMatched {
        turn: u64,
        at_ms: u64,
        result: Box<TurnResult>,
    },
    /// A turn is complete: emitted when its reply starts playing, or when it ends without audio.
    TurnCompleted(Box<TurnRecord>),
    /// The caller interrupted `turn` (speech or DTMF).
    BargeIn { turn: u64, at_ms: u64 },
    /// No input after a prompt; `count` in a row.
    NoInput { count: u32, at_ms: u64 },
    /// A provider failed; the call goes on.
    Warning { turn: u64, message: String },
    /// Emitted exactly once.
    SessionEnded {
        status: EndStatus,
        at_ms: u64,
        /// Engine state at the end (persist it to resume a paused session).
        state: Box<SessionState>,
    },
}

/// How the session ended (Twilio `VirtualAgentStatus`).
#[derive(Debug, Clone, PartialEq)]
pub enum EndStatus {
    Completed,
    LiveAgentHandoff {
        /// `AgentHandoffParameters`: the handoff payload.
        params: Value,
        /// Telephony transfer target, if the agent gave one.
        transfer_to: Option<String>,
    },
    Paused {
        /// `PauseParameters`: the pause payload without `TWILIO_ACTION`.
        params: Map<String, Value>,
    },
    Failed {
        error: String,
    },
}

/// What the caller gave in a turn.
#[derive(Debug, Clone, PartialEq)]
pub enum TurnInput {
    Speech { text: String, confidence: f32 },
    Dtmf { digits: String },
    Event { name: String },
}

/// Milliseconds on the driver's clock. `None` where a stage did not happen.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TurnTimings {
    /// True end of the caller's speech (end of the last voiced frame) or the last DTMF key.
    pub speech_end_ms: Option<u64>,
    /// Speech end → ASR result.
    pub asr_ms: Option<u64>,
    /// Query ready → engine result (includes the webhook round trip).
    pub nlu_ms: u64,
    /// Engine result → first reply audio.
    pub tts_first_audio_ms: Option<u64>,
    /// Speech end → first reply audio.
    pub reply_latency_ms: Option<u64>,
}

/// One turn, for analytics (Vonage-style per-turn JSON) and transcripts.
#[derive(Debug, Clone, PartialEq)]
pub struct TurnRecord {
    pub turn: u64,
    pub input: TurnInput,
    pub intent: Option<String>,
    pub confidence: f32,
    pub parameters: Map<String, Value>,
    pub all_required_params_present: bool,
    pub bot_text: String,
    /// (score, magnitude) of the caller's text.
    pub sentiment: Option<(f32, f32)>,
    pub timings: TurnTimings,
    pub query_result: Value,
    /// The caller interrupted the reply.
    pub interrupted: bool,
}
