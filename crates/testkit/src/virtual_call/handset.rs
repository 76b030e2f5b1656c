//! The platform's side of a virtual call: the caller's codec, a 20 ms frame clock that always
//! carries audio (speech or silence), keys, and a 1× playback clock for the bot's audio whose
//! marks are echoed once the audio before them has played. Times are virtual milliseconds.

use std::collections::VecDeque;

use sb_transport::{CallerCodec, Inbound, Outbound, Platform};

use super::voice::SAMPLES_PER_MS;

/// Samples in one 20 ms frame at 16 kHz.
const FRAME: usize = 320;
/// One frame of caller audio, ms.
pub const FRAME_MS: u64 = 20;

/// A stretch of the caller's speech (or a pause) waiting to go out.
struct Stretch {
    pcm: Vec<i16>,
    pos: usize,
    /// The phrase said (`None` for a pause).
    text: Option<String>,
    /// When its first sample went out.
    began: Option<u64>,
}

/// A phrase the caller finished saying, on the caller's own timeline (its frames' times).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Spoken {
    pub text: String,
    pub from_ms: u64,
    pub to_ms: u64,
}

/// What the caller's side did with one server output.
#[derive(Debug, Clone, PartialEq)]
pub enum Got {
    /// Bot audio: plays from `from_ms` for `ms`; its first voiced sample at `voiced_from`.
    Audio {
        from_ms: u64,
        ms: u64,
        voiced_from: Option<u64>,
    },
    Mark(String),
    /// A clear; the events the platform sends back for it (Twilio: the marks it dropped;
    /// Vonage: `websocket:cleared`).
    Clear(Vec<Inbound>),
}

/// The platform's side of the line, sans-IO: the caller drives it with its own clock.
pub struct Handset {
    pub codec: Box<dyn CallerCodec + Send>,
    platform: Platform,
    /// The next frame covers `[next_frame - 20, next_frame)` and goes out at `next_frame`.
    pub next_frame: u64,
    speech: VecDeque<Stretch>,
    keys: VecDeque<(u64, char)>,
    /// When everything queued so far has played, in samples (16 kHz) since time 0.
    play_end: u64,
    marks: VecDeque<(u64, String)>,
}

impl Handset {
    pub fn new(codec: Box<dyn CallerCodec + Send>, platform: Platform, start: u64) -> Self {
        Handset {
            codec,
            platform,
            next_frame: start + FRAME_MS,
            speech: VecDeque::new(),
            keys: VecDeque::new(),
            play_end: 0,
            marks: VecDeque::new(),
        }
    }

    /// How much later the caller's sound reaches the server's media timeline than the caller
    /// made it: the simulated phone's rate conversion down and ours back up (the same filter
    /// delay); 0 when the line runs at the core rate.
    pub fn uplink_delay_ms(&self) -> u64 {
        2 * self.codec.conversion_delay_ms().0
    }

    pub fn queue_speech(&mut self, pcm: Vec<i16>, text: Option<String>) {
        self.speech.push_back(Stretch {
            pcm,
            pos: 0,
            text,
            began: None,
        });
    }

    /// Whether speech (or a scripted pause) is still waiting to go out.
    pub fn speaking(&self) -> bool {
        !self.speech.is_empty()
    }

    pub fn queue_keys(&mut self, at: u64, keys: &str, gap_ms: u64) {
        for (i, k) in keys.chars().enumerate() {
            self.keys.push_back((at + gap_ms * i as u64, k));
        }
    }

    pub fn next_key_at(&self) -> Option<u64> {
        self.keys.front().map(|k| k.0)
    }

    pub fn keys_due(&mut self, now: u64) -> Vec<char> {
        let mut out = Vec::new();
        while self.keys.front().is_some_and(|k| k.0 <= now) {
            if let Some((_, k)) = self.keys.pop_front() {
                out.push(k);
            }
        }
        out
    }

    pub fn next_mark_at(&self) -> Option<u64> {
        self.marks.front().map(|m| m.0)
    }

    pub fn marks_due(&mut self, now: u64) -> Vec<String> {
        let mut out = Vec::new();
        while self.marks.front().is_some_and(|m| m.0 <= now) {
            if let Some((_, name)) = self.marks.pop_front() {
                out.push(name);
            }
        }
        out
    }

    /// The frame that goes out now (`next_frame`), and the phrases it finished.
    pub fn take_frame(&mut self) -> (Vec<i16>, Vec<Spoken>) {
        let start = self.next_frame - FRAME_MS;
        let mut frame = Vec::with_capacity(FRAME);
        let mut done = Vec::new();
        while frame.len() < FRAME {
            let Some(s) = self.speech.front_mut() else {
                break;
            };
            let at = start + (frame.len() / SAMPLES_PER_MS) as u64;
            s.began.get_or_insert(at);
            let n = (FRAME - frame.len()).min(s.pcm.len() - s.pos);
            frame.extend_from_slice(&s.pcm[s.pos..s.pos + n]);
            s.pos += n;
            if s.pos == s.pcm.len() {
                let end = start + (frame.len() / SAMPLES_PER_MS) as u64;
                if let (Some(text), Some(from)) = (s.text.take(), s.began) {
                    done.push(Spoken {
                        text,
                        from_ms: from,
                        to_ms: end,
                    });
                }
                self.speech.pop_front();
            }
        }
        frame.resize(FRAME, 0);
        self.next_frame += FRAME_MS;
        (frame, done)
    }

    /// What the server's message asked for, acted on at `now`.
    pub fn got(&mut self, now: u64, out: Outbound) -> Got {
        let now_samples = now * SAMPLES_PER_MS as u64;
        match out {
            Outbound::Audio(pcm) => {
                let start = self.play_end.max(now_samples);
                self.play_end = start + pcm.len() as u64;
                // The phone's own rate conversion delayed the sound within `pcm`; a real
                // platform streams its native rate and has none.
                let (_, lag_ms) = self.codec.conversion_delay_ms();
                let lag = lag_ms as usize * SAMPLES_PER_MS;
                let voiced = pcm.iter().position(|s| s.unsigned_abs() >= 1_000);
                let ms = |samples: u64| samples / SAMPLES_PER_MS as u64;
                Got::Audio {
                    from_ms: ms(start),
                    ms: ms(pcm.len() as u64),
                    voiced_from: voiced.map(|v| ms(start + v.saturating_sub(lag) as u64)),
                }
            }
            Outbound::Mark(name) => {
                let due = self
                    .play_end
                    .max(now_samples)
                    .div_ceil(SAMPLES_PER_MS as u64);
                self.marks.push_back((due, name.clone()));
                Got::Mark(name)
            }
            Outbound::Clear => {
                self.play_end = self.play_end.min(now_samples);
                let dropped: Vec<String> = self.marks.drain(..).map(|(_, n)| n).collect();
                Got::Clear(match self.platform {
                    Platform::Twilio => dropped
                        .into_iter()
                        .map(|name| Inbound::Mark { name })
                        .collect(),
                    Platform::Vonage => vec![Inbound::Cleared],
                })
            }
        }
    }
}
