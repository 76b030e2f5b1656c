//! Test harness: the real restaurant engine, a scripted VAD and a virtual clock.
#![allow(dead_code)]

use chrono::{TimeZone, Utc};
use sb_call::*;
use sb_contracts::asr::Transcript;
use sb_contracts::vad::Vad;
use sb_contracts::SpeechError;
use sb_nlu::engine::Engine;
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

pub const FRAME: usize = 320; // 20 ms at 16 kHz
pub const LOUD: i16 = 5000;

/// Speech probability from energy: a frame whose peak is ≥ 1000 is speech (0.95), else 0.02.
pub struct ScriptedVad;

impl Vad for ScriptedVad {
    fn speech_probability(&mut self, f: &[i16]) -> Result<f32, SpeechError> {
        let peak = f.iter().map(|s| s.unsigned_abs()).max().unwrap_or(0);
        Ok(if peak >= 1000 { 0.95 } else { 0.02 })
    }
    fn frame_len(&self) -> usize {
        FRAME
    }
    fn reset(&mut self) {}
}

pub fn repo(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(rel)
}

pub fn restaurant() -> Arc<Engine> {
    static E: OnceLock<Arc<Engine>> = OnceLock::new();
    E.get_or_init(|| Arc::new(Engine::load(&repo("examples/restaurant")).expect("agent loads")))
        .clone()
}

/// The end-pointing the exact-timing tests were written for: 600 ms end silence, no early turn.
pub fn classic() -> CallConfig {
    CallConfig {
        endpoint: sb_contracts::vad::EndpointConfig {
            end_silence_ms: 600,
            early_silence_ms: 0,
            ..Default::default()
        },
        ..CallConfig::default()
    }
}

/// Early end of turn at a 200 ms pause (the early-turn tests' timings), 700 ms end silence.
pub fn early_200() -> CallConfig {
    CallConfig {
        endpoint: sb_contracts::vad::EndpointConfig {
            end_silence_ms: 700,
            early_silence_ms: 200,
            ..Default::default()
        },
        ..CallConfig::default()
    }
}

pub const WELCOME: &str =
    "Welcome to our Demonstration Restaurant. When and for whom would you like to book a table?";

/// A session on a virtual clock; every output is logged with the time of the input that caused it.
pub struct Harness {
    pub s: CallSession,
    pub now: u64,
}

pub type Timed = Vec<(u64, Output)>;

impl Harness {
    pub fn new(cfg: CallConfig) -> Self {
        Self::with_engine(restaurant(), cfg)
    }

    pub fn with_engine(engine: Arc<Engine>, cfg: CallConfig) -> Self {
        let s = CallSession::new(engine, Box::new(ScriptedVad), cfg, "CA123").expect("session");
        Harness { s, now: 0 }
    }

    /// Feeds one input at its own time (ticking due timers first, like a driver would).
    pub fn input(&mut self, i: Input) -> Timed {
        let at = i.at_ms();
        let mut out = self.until(at);
        self.now = self.now.max(at);
        self.s.handle_input(i);
        out.extend(self.drain(at));
        out
    }

    fn drain(&mut self, at: u64) -> Timed {
        std::iter::from_fn(|| self.s.poll_output())
            .map(|o| (at, o))
            .collect()
    }

    /// Ticks every deadline up to and including `t`, at the deadline.
    pub fn until(&mut self, t: u64) -> Timed {
        let mut out = Vec::new();
        while let Some(d) = self.s.poll_timeout().filter(|&d| d <= t) {
            self.now = self.now.max(d);
            self.s.handle_input(Input::Tick { at_ms: d });
            out.extend(self.drain(d));
        }
        self.now = self.now.max(t);
        out
    }

    pub fn start(&mut self) -> Timed {
        let utc = Utc.with_ymd_and_hms(2022, 1, 5, 15, 0, 0).unwrap();
        self.input(Input::Start {
            at_ms: self.now,
            utc,
        })
    }

    /// `ms` of caller audio in 20 ms frames from now (speech or silence).
    pub fn audio(&mut self, ms: u64, speech: bool) -> Timed {
        let mut out = Vec::new();
        for _ in 0..ms / 20 {
            let pcm = vec![if speech { LOUD } else { 0 }; FRAME];
            out.extend(self.input(Input::Audio {
                at_ms: self.now,
                pcm16k: pcm,
            }));
            self.now += 20;
        }
        out
    }

    /// Silence frames until an `Asr` output appears (at most 3 s).
    pub fn until_asr(&mut self) -> (u64, u64, Vec<i16>, Timed) {
        let mut all = Vec::new();
        for _ in 0..150 {
            let out = self.audio(20, false);
            let asr = out.iter().find_map(|(t, o)| match o {
                Output::Asr { turn, pcm16k, .. } => Some((*t, *turn, pcm16k.clone())),
                _ => None,
            });
            all.extend(out);
            if let Some((t, turn, pcm)) = asr {
                return (t, turn, pcm, all);
            }
        }
        panic!("no ASR request: {all:?}");
    }

    pub fn asr(&mut self, at: u64, turn: u64, text: &str) -> Timed {
        let tr = Transcript {
            text: text.into(),
            confidence: 0.9,
            words: vec![],
        };
        self.input(Input::AsrResult {
            at_ms: at,
            turn,
            result: Ok(tr),
        })
    }

    /// One TTS chunk of `ms` of audio.
    pub fn tts(&mut self, at: u64, turn: u64, ms: u64, last: bool) -> Timed {
        let pcm = vec![7; (ms * 16) as usize];
        self.input(Input::TtsChunk {
            at_ms: at,
            turn,
            pcm16k: pcm,
            last,
        })
    }

    pub fn mark(&mut self, at: u64, turn: u64) -> Timed {
        self.input(Input::PlaybackMark {
            at_ms: at,
            name: end_mark(turn),
        })
    }

    /// Plays the reply of `turn` (one 1 s chunk 100 ms from now) and echoes its mark 1 s later.
    pub fn play(&mut self, turn: u64) -> Timed {
        let t = self.now + 100;
        let mut out = self.tts(t, turn, 1000, true);
        out.extend(self.mark(t + 1000, turn));
        out
    }

    /// The caller says `text` (1 s of speech): returns the bot's reply text and its turn.
    pub fn say(&mut self, text: &str) -> (u64, String) {
        self.audio(300, false);
        self.audio(1000, true);
        let (t, turn, _, _) = self.until_asr();
        let mut out = self.asr(t + 200, turn, text);
        // An unfinished-sounding answer waits for the full end-of-speech silence, where the
        // whole utterance is recognised again (with the same words here).
        for _ in 0..50 {
            if synth(&out).is_some() {
                break;
            }
            let step = self.audio(20, false);
            let again = step.iter().find_map(|(t, o)| match o {
                Output::Asr { turn, .. } => Some((*t, *turn)),
                _ => None,
            });
            out.extend(step);
            if let Some((t, turn)) = again {
                out.extend(self.asr(t + 200, turn, text));
            }
        }
        synth(&out).unwrap_or_else(|| panic!("no reply: {out:?}"))
    }
}

/// Outputs without events.
pub fn actions(out: &Timed) -> Vec<(u64, Output)> {
    out.iter()
        .filter(|(_, o)| !matches!(o, Output::Event(_)))
        .cloned()
        .collect()
}

pub fn events(out: &Timed) -> Vec<CallEvent> {
    out.iter()
        .filter_map(|(_, o)| match o {
            Output::Event(e) => Some(e.clone()),
            _ => None,
        })
        .collect()
}

pub fn synth(out: &Timed) -> Option<(u64, String)> {
    out.iter().find_map(|(_, o)| match o {
        Output::Synthesize { turn, text } => Some((*turn, text.clone())),
        _ => None,
    })
}

pub fn records(out: &Timed) -> Vec<TurnRecord> {
    events(out)
        .into_iter()
        .filter_map(|e| match e {
            CallEvent::TurnCompleted(r) => Some(*r),
            _ => None,
        })
        .collect()
}

pub fn ended(out: &Timed) -> Vec<EndStatus> {
    events(out)
        .into_iter()
        .filter_map(|e| match e {
            CallEvent::SessionEnded { status, .. } => Some(status),
            _ => None,
        })
        .collect()
}

/// Starts a call and plays the welcome (turn 0) to its mark echo; returns the echo time.
pub fn welcomed(h: &mut Harness) -> u64 {
    let out = h.start();
    assert_eq!(synth(&out), Some((0, WELCOME.to_string())));
    h.play(0);
    h.now
}
