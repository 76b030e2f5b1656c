//! Whole-path calls on a virtual clock, str0m style: the platform's codec on the caller's side,
//! our codec on the server's side and a [`CallSession`] between them, with a scripted
//! recogniser and synthesiser, stepped from one event to the next in virtual milliseconds.
//! No sockets, threads, sleeps or wall clock: a minute of call runs in milliseconds.
//!
//! ```text
//! caller: phrases (tones) + silence ─ 20 ms frames ─► CallerCodec ─ wire ─► Codec ─► Input::Audio
//!         keys ─────────────────────────────────────►     (JSON or binary)       ─► Input::Dtmf
//!         playback clock ◄─ Audio/Mark/Clear ◄─ CallerCodec ◄─ wire ◄─ Codec ◄─ Output::PlayAudio…
//!         mark echoes ───────────────────────────────────────────────────────► Input::PlaybackMark
//! server: Output::Asr ─► ScriptedAsr (hears the phrases' pitches) ─ delay ─► Input::AsrResult
//!         Output::Synthesize ─► ScriptedTts (a tone per sentence) ─ delay ─► Input::TtsChunk
//! clock:  jumps to the earliest of: the next frame, a due mark or key, a provider result,
//!         the session's poll_timeout
//! ```
//!
//! Caller audio reaches the session stamped with the codec's media time (the time of its first
//! sample on the stream), and arrives when the frame is complete, as from a real platform.
//! Everything the session asked for and everything the caller got is kept in [`Seen`] order
//! with its virtual time, for assertions.

mod handset;
mod timeline;
pub mod voice;
mod wire;

use std::collections::BTreeMap;
use std::sync::Arc;

use sb_call::{CallConfig, CallError, CallSession, Input};
use sb_contracts::vad::Vad;
use sb_nlu::engine::Engine;
use sb_transport::{caller_codec, server_codec, Codec, Inbound, Platform, StartInfo};

pub use handset::{Got, Handset, Spoken, FRAME_MS};
pub use timeline::{Heard, Seen, Timeline};
use voice::{EnergyVad, Phrasebook, ScriptedAsr, ScriptedTts};

/// Steps at one virtual instant before the harness calls it a livelock.
const MAX_STEPS_AT_ONCE: u32 = 10_000;

/// How to set a virtual call up.
pub struct Setup {
    pub platform: Platform,
    pub cfg: CallConfig,
    pub engine: Arc<Engine>,
    pub asr: ScriptedAsr,
    pub tts: ScriptedTts,
    /// The session's VAD ([`EnergyVad`] unless a test wants another).
    pub vad: Box<dyn Vad>,
}

impl Setup {
    pub fn new(platform: Platform, engine: Arc<Engine>, cfg: CallConfig) -> Self {
        Setup {
            platform,
            cfg,
            engine,
            asr: ScriptedAsr::default(),
            tts: ScriptedTts::default(),
            vad: Box::new(EnergyVad),
        }
    }
}

/// A provider result waiting for its virtual time.
struct Pending {
    due: u64,
    seq: u64,
    input: Input,
}

/// One call, caller and server, on a virtual clock. See the module docs.
pub struct VirtualCall {
    now: u64,
    platform: Platform,
    session: CallSession,
    server: Box<dyn Codec + Send>,
    handset: Handset,
    asr: ScriptedAsr,
    tts: ScriptedTts,
    book: Phrasebook,
    pending: Vec<Pending>,
    seq: u64,
    /// Caller events produced while the server's outputs were being handled.
    caller_outbox: Vec<Inbound>,
    last_audio_turn: Option<u64>,
    closed: bool,
    seen: Timeline,
}

impl VirtualCall {
    /// A call whose stream has not started yet; [`VirtualCall::start`] starts it at time 0.
    pub fn new(setup: Setup) -> Result<Self, CallError> {
        let session = CallSession::new(setup.engine, setup.vad, setup.cfg, "CAvirtual")?;
        let codec_error = |e: sb_transport::TransportError| CallError::Config(e.to_string());
        Ok(VirtualCall {
            now: 0,
            platform: setup.platform,
            session,
            server: server_codec(setup.platform).map_err(codec_error)?,
            handset: Handset::new(
                caller_codec(setup.platform).map_err(codec_error)?,
                setup.platform,
                0,
            ),
            asr: setup.asr,
            tts: setup.tts,
            book: Phrasebook::default(),
            pending: Vec::new(),
            seq: 0,
            caller_outbox: Vec::new(),
            last_audio_turn: None,
            closed: false,
            seen: Timeline::default(),
        })
    }

    /// The platform connects and starts the media stream at time 0.
    pub fn start(&mut self) -> &mut Self {
        let info = StartInfo {
            call_id: "CAvirtual".into(),
            stream_id: "MZvirtual".into(),
            account_id: "ACvirtual".into(),
            custom_parameters: BTreeMap::new(),
            sample_rate: match self.platform {
                Platform::Twilio => 8_000,
                Platform::Vonage => 16_000,
            },
            encoding: match self.platform {
                Platform::Twilio => "audio/x-mulaw",
                Platform::Vonage => "audio/l16",
            }
            .into(),
        };
        self.caller_send(Inbound::Connected);
        self.caller_send(Inbound::Start(info));
        self.flush_caller();
        self
    }

    pub fn now(&self) -> u64 {
        self.now
    }

    pub fn platform(&self) -> Platform {
        self.platform
    }

    /// The session (its state, `is_ended`).
    pub fn session(&self) -> &CallSession {
        &self.session
    }

    /// How much later the caller's sound reaches the session's media timeline than the caller
    /// made it: the rate conversions on the way (the simulated phone's and ours). 0 when the line
    /// runs at the core rate.
    pub fn uplink_delay_ms(&self) -> u64 {
        self.handset.uplink_delay_ms()
    }

    /// The caller says `text` for `ms` (after anything still queued), from the next frame on.
    pub fn say(&mut self, text: &str, ms: u64) -> &mut Self {
        let pcm = self.book.speech(text, ms);
        self.handset.queue_speech(pcm, Some(text.to_string()));
        self
    }

    /// The caller stays silent for `ms` between queued phrases.
    pub fn pause(&mut self, ms: u64) -> &mut Self {
        let n = ms as usize * voice::SAMPLES_PER_MS;
        self.handset.queue_speech(vec![0; n], None);
        self
    }

    /// The caller presses `keys`, the first now, then one every `gap_ms`.
    pub fn press(&mut self, keys: &str, gap_ms: u64) -> &mut Self {
        self.handset.queue_keys(self.now, keys, gap_ms);
        self
    }

    /// The caller hangs up now (Twilio: `stop`; both: the socket closes).
    pub fn hang_up(&mut self) -> &mut Self {
        if self.closed {
            return self;
        }
        self.log(Seen::CallerHungUp);
        self.caller_send(Inbound::Stop);
        for ev in self.server.on_close() {
            self.on_inbound(ev);
        }
        self.flush_caller();
        self.close();
        self
    }

    /// Whether the stream is over (either side hung up).
    pub fn is_closed(&self) -> bool {
        self.closed
    }

    /// Runs for `ms` of virtual time (or until the call is over).
    pub fn run_for(&mut self, ms: u64) -> &mut Self {
        let end = self.now + ms;
        while !self.closed && self.next_event().is_some_and(|t| t <= end) {
            self.step();
        }
        self.now = self.now.max(end);
        self
    }

    /// Runs until `done` holds; returns the time it first held.
    ///
    /// # Panics
    /// When it does not hold within `limit_ms` or the call ends first, with the timeline.
    pub fn run_until(&mut self, limit_ms: u64, mut done: impl FnMut(&Self) -> bool) -> u64 {
        let end = self.now + limit_ms;
        loop {
            if done(self) {
                return self.now;
            }
            let next = self.next_event();
            match next {
                Some(t) if t <= end => self.step(),
                _ => panic!(
                    "not reached by {end} ms (now {} ms, call {}):\n{}",
                    self.now,
                    if self.closed { "over" } else { "live" },
                    self.dump()
                ),
            }
        }
    }

    /// Runs until the caller has echoed the end mark of bot turn `turn` (its reply played).
    pub fn until_played(&mut self, turn: u64, limit_ms: u64) -> u64 {
        let name = sb_call::end_mark(turn);
        self.run_until(limit_ms, |c| {
            c.seen
                .entries
                .iter()
                .any(|(_, s)| matches!(s, Seen::MarkEchoed(n) if *n == name))
        })
    }

    /// Runs until the caller has said everything queued.
    pub fn until_said(&mut self, limit_ms: u64) -> u64 {
        self.run_until(limit_ms, |c| !c.handset.speaking())
    }

    /// Runs until the stream is over.
    pub fn until_closed(&mut self, limit_ms: u64) -> u64 {
        self.run_until(limit_ms, |c| c.closed)
    }

    /// Everything so far, in order, with virtual times.
    pub fn timeline(&self) -> &Timeline {
        &self.seen
    }

    // ---- the loop ----------------------------------------------------------------------------

    /// When something happens next.
    fn next_event(&self) -> Option<u64> {
        if self.closed {
            return None;
        }
        [
            Some(self.handset.next_frame),
            self.handset.next_mark_at(),
            self.handset.next_key_at(),
            self.pending.first().map(|p| p.due),
            self.session.poll_timeout(),
        ]
        .into_iter()
        .flatten()
        .min()
        .map(|t| t.max(self.now))
    }

    /// Advances to the next event and handles everything due then.
    fn step(&mut self) {
        let Some(t) = self.next_event() else { return };
        self.now = t;
        let mut guard = 0;
        while !self.closed && self.next_event() == Some(t) {
            guard += 1;
            assert!(
                guard < MAX_STEPS_AT_ONCE,
                "livelock at {t} ms:\n{}",
                self.dump()
            );
            self.handle_due(t);
        }
    }

    fn handle_due(&mut self, t: u64) {
        while self.pending.first().is_some_and(|p| p.due <= t) {
            let p = self.pending.remove(0);
            self.feed(p.input);
        }
        if self.session.poll_timeout().is_some_and(|d| d <= t) {
            self.feed(Input::Tick { at_ms: t });
            if self.session.poll_timeout().is_some_and(|d| d <= t) {
                let d = self.session.poll_timeout();
                self.seen.problems.push(format!(
                    "poll_timeout {d:?} still due after a tick at {t} ms"
                ));
                self.close();
                return;
            }
        }
        for name in self.handset.marks_due(t) {
            self.log(Seen::MarkEchoed(name.clone()));
            self.caller_send(Inbound::Mark { name });
        }
        for digit in self.handset.keys_due(t) {
            self.log(Seen::Key(digit));
            let duration_ms = (self.platform == Platform::Vonage).then_some(100);
            self.caller_send(Inbound::Dtmf { digit, duration_ms });
        }
        if self.handset.next_frame <= t {
            let (frame, spoken) = self.handset.take_frame();
            for s in spoken {
                self.log(Seen::Spoke(s));
            }
            self.caller_send(Inbound::Audio {
                pcm16k: frame,
                at_ms: t - FRAME_MS,
            });
        }
        self.flush_caller();
    }

    /// The server ends the stream (or the caller did).
    fn close(&mut self) {
        if !self.closed {
            self.closed = true;
            self.log(Seen::Closed);
        }
    }

    fn log(&mut self, s: Seen) {
        self.seen.push(self.now, s);
    }
}

/// The timeline's questions ([`Timeline::heard`], [`Timeline::clears`], …) asked of the call.
impl std::ops::Deref for VirtualCall {
    type Target = Timeline;

    fn deref(&self) -> &Timeline {
        &self.seen
    }
}
