//! The caller's side of the line: VAD over re-chunked audio, the end-pointer, and a bounded
//! buffer that keeps the current utterance (with pre-roll) for the recogniser.
//!
//! Audio time counts samples since the first frame; it maps to the driver's clock through an
//! anchor that jumps forward over gaps in the stream (lost or late frames).

use sb_speech::vad::{EndpointConfig, EndpointEvent, Endpointer, Vad, VAD_RATE};
use std::collections::VecDeque;

const SAMPLES_PER_MS: u64 = (VAD_RATE / 1000) as u64;
/// A frame arriving this much later than the audio clock expects re-anchors the clock.
const GAP_MS: u64 = 200;

/// What the listener heard, in driver time.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Heard {
    /// An utterance began at `start_ms` (reported `start_min_ms` later, at `at_ms`).
    Started { start_ms: u64, at_ms: u64 },
    /// The utterance has `barge_min_ms` of voiced audio, as of the frame ending at `at_ms`.
    Sustained { at_ms: u64 },
    /// The utterance ended; `end_ms` is the end of its last voiced frame.
    Ended {
        start_ms: u64,
        end_ms: u64,
        pcm: Vec<i16>,
    },
}

struct Utterance {
    capture_from: u64,
    voiced_ms: u64,
    sustained: bool,
}

pub(crate) struct Listener {
    vad: Box<dyn Vad>,
    frame: Vec<i16>,
    frame_ms: u64,
    ep: Endpointer,
    threshold: f32,
    pre_roll: u64,
    barge_min_ms: u64,
    /// Samples received (= audio clock in samples).
    total: u64,
    /// `buf[0]` is sample number `buf_start`.
    buf: VecDeque<i16>,
    buf_start: u64,
    /// Driver time of audio sample 0.
    anchor: Option<u64>,
    utt: Option<Utterance>,
    keep: u64,
    cap: u64,
}

impl Listener {
    pub fn new(
        vad: Box<dyn Vad>,
        cfg: &EndpointConfig,
        barge_min_ms: u32,
    ) -> Result<Self, String> {
        let n = vad.frame_len();
        if n == 0 || n > VAD_RATE as usize {
            return Err(format!("VAD frame length {n} is unusable"));
        }
        let frame_ms = (n as u64 * 1000 / u64::from(VAD_RATE)).max(1);
        let ep = Endpointer::new(cfg.clone(), frame_ms as u32).map_err(|e| e.to_string())?;
        let pre_roll = u64::from(cfg.pre_roll_ms);
        // Enough for a pending onset plus its pre-roll, with margin.
        let keep = (pre_roll + u64::from(cfg.start_min_ms) + 2 * frame_ms + 500) * SAMPLES_PER_MS;
        let cap = (u64::from(cfg.max_utterance_ms) + pre_roll + 2_000) * SAMPLES_PER_MS;
        Ok(Self {
            vad,
            frame: Vec::with_capacity(n),
            frame_ms,
            ep,
            threshold: cfg.threshold,
            pre_roll,
            barge_min_ms: u64::from(barge_min_ms),
            total: 0,
            buf: VecDeque::new(),
            buf_start: 0,
            anchor: None,
            utt: None,
            keep,
            cap,
        })
    }

    /// True while an utterance is open.
    pub fn in_utterance(&self) -> bool {
        self.utt.is_some()
    }

    /// Driver time when the audio received so far ends.
    pub fn audio_end_ms(&self) -> Option<u64> {
        self.anchor.map(|a| a + self.total / SAMPLES_PER_MS)
    }

    fn to_driver(&self, audio_ms: u64) -> u64 {
        self.anchor.unwrap_or(0).saturating_add(audio_ms)
    }

    /// Feeds caller audio starting at driver time `at_ms`; appends what was heard to `out`.
    pub fn push(&mut self, at_ms: u64, pcm: &[i16], out: &mut Vec<Heard>) {
        match self.audio_end_ms() {
            None => self.anchor = Some(at_ms),
            Some(expected) if at_ms > expected + GAP_MS => {
                self.anchor = self.anchor.map(|a| a + (at_ms - expected));
            }
            _ => {}
        }
        let n = self.frame.capacity();
        for &s in pcm {
            self.buf.push_back(s);
            self.frame.push(s);
            self.total += 1;
            if self.frame.len() == n {
                let p = match self.vad.speech_probability(&self.frame) {
                    Ok(p) if p.is_finite() => p,
                    _ => 0.0, // a failing VAD hears silence rather than stopping the call
                };
                self.frame.clear();
                let frame_start = (self.total - n as u64) / SAMPLES_PER_MS;
                self.on_frame(frame_start, p, out);
            }
        }
        self.trim();
    }

    fn on_frame(&mut self, start: u64, p: f32, out: &mut Vec<Heard>) {
        let end = start + self.frame_ms;
        let ev = self.ep.feed(start, p);
        if let Some(u) = self.utt.as_mut() {
            if p >= self.threshold {
                u.voiced_ms += self.frame_ms;
            }
        }
        match ev {
            Some(EndpointEvent::SpeechStarted {
                at_ms,
                capture_from_ms,
            }) => {
                self.utt = Some(Utterance {
                    capture_from: capture_from_ms * SAMPLES_PER_MS,
                    voiced_ms: end.saturating_sub(at_ms),
                    sustained: false,
                });
                out.push(Heard::Started {
                    start_ms: self.to_driver(at_ms),
                    at_ms: self.to_driver(end),
                });
            }
            Some(EndpointEvent::SpeechEnded { start_ms, end_ms }) => {
                out.push(self.close(start_ms, end_ms));
                return;
            }
            Some(EndpointEvent::MaxUtteranceReached { start_ms, at_ms }) => {
                out.push(self.close(start_ms, at_ms));
                return;
            }
            None => {}
        }
        if let Some(u) = self.utt.as_mut() {
            if !u.sustained && u.voiced_ms >= self.barge_min_ms {
                u.sustained = true;
                out.push(Heard::Sustained {
                    at_ms: self.to_driver(end),
                });
            }
        }
    }

    /// Ends an open utterance now (the audio stream stalled).
    pub fn flush(&mut self, out: &mut Vec<Heard>) {
        if let Some(EndpointEvent::SpeechEnded { start_ms, end_ms }) = self.ep.finish() {
            out.push(self.close(start_ms, end_ms));
        }
        self.utt = None;
        self.trim();
    }

    fn close(&mut self, start_ms: u64, end_ms: u64) -> Heard {
        let from = self
            .utt
            .take()
            .map(|u| u.capture_from)
            .unwrap_or_else(|| start_ms.saturating_sub(self.pre_roll) * SAMPLES_PER_MS);
        // Post-roll as long as the pre-roll: recognisers like a little silence at both ends.
        let to = ((end_ms + self.pre_roll) * SAMPLES_PER_MS).min(self.total);
        let lo = from.max(self.buf_start);
        let pcm = if to > lo {
            let a = (lo - self.buf_start) as usize;
            let b = (to - self.buf_start) as usize;
            self.buf.range(a..b.min(self.buf.len())).copied().collect()
        } else {
            Vec::new()
        };
        Heard::Ended {
            start_ms: self.to_driver(start_ms),
            end_ms: self.to_driver(end_ms),
            pcm,
        }
    }

    fn trim(&mut self) {
        let keep_from = match &self.utt {
            Some(u) => u.capture_from.max(self.total.saturating_sub(self.cap)),
            None => self.total.saturating_sub(self.keep),
        };
        while self.buf_start < keep_from && self.buf.pop_front().is_some() {
            self.buf_start += 1;
        }
    }
}
