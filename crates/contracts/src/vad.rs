//! Voice activity detection contracts and end-pointing.
//!
//! * [`Vad`] — per-frame speech probability on 16 kHz mono audio (the speech crate has the
//!   neural implementation).
//! * [`VadStream`] — re-chunks audio of any length (e.g. 20 ms telephony frames) into VAD frames.
//! * [`Endpointer`] — a pure state machine: `(time_ms, probability)` per frame in, start/end of
//!   utterance events out. It never reads a clock.

use serde::{Deserialize, Serialize};

use crate::SpeechError;

/// Sample rate every [`Vad`] works at.
pub const VAD_RATE: u32 = 16_000;

/// A voice activity detector over fixed-size 16 kHz mono frames.
pub trait Vad: Send {
    /// Probability in [0, 1] that `frame16k` (exactly [`Vad::frame_len`] samples) contains speech.
    fn speech_probability(&mut self, frame16k: &[i16]) -> Result<f32, SpeechError>;
    /// Samples per frame.
    fn frame_len(&self) -> usize;
    /// Forgets all history (new stream).
    fn reset(&mut self);
}

/// Feeds audio of arbitrary length to a [`Vad`], one VAD frame at a time, keeping the remainder.
/// No allocation after construction.
pub struct VadStream<V: Vad> {
    vad: V,
    buf: Vec<i16>,
    filled: usize,
    frames_done: u64,
}

impl<V: Vad> VadStream<V> {
    pub fn new(vad: V) -> Self {
        let n = vad.frame_len();
        Self {
            vad,
            buf: vec![0; n],
            filled: 0,
            frames_done: 0,
        }
    }

    /// Duration of one VAD frame in milliseconds (rounded down).
    pub fn frame_ms(&self) -> u32 {
        (self.buf.len() as u64 * 1000 / u64::from(VAD_RATE)) as u32
    }

    /// Appends 16 kHz samples; calls `on_frame(frame_start_ms, probability)` for every completed
    /// VAD frame. Times count from the first sample pushed since construction or [`Self::reset`].
    pub fn push(
        &mut self,
        mut samples: &[i16],
        mut on_frame: impl FnMut(u64, f32),
    ) -> Result<(), SpeechError> {
        let n = self.buf.len();
        if n == 0 {
            return Err(SpeechError::Model("VAD frame length is 0".into()));
        }
        while !samples.is_empty() {
            let take = (n - self.filled).min(samples.len());
            let (head, tail) = samples.split_at(take);
            if let Some(dst) = self.buf.get_mut(self.filled..self.filled + take) {
                dst.copy_from_slice(head);
            }
            self.filled += take;
            samples = tail;
            if self.filled == n {
                let p = self.vad.speech_probability(&self.buf)?;
                let start_ms = self.frames_done * n as u64 * 1000 / u64::from(VAD_RATE);
                on_frame(start_ms, p);
                self.frames_done += 1;
                self.filled = 0;
            }
        }
        Ok(())
    }

    /// Resets the VAD, the partial frame and the time origin.
    pub fn reset(&mut self) {
        self.vad.reset();
        self.filled = 0;
        self.frames_done = 0;
    }
}

/// End-pointing parameters. Every field has a default, so `{}` deserialises.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EndpointConfig {
    /// Probability at or above which a frame is speech.
    pub threshold: f32,
    /// While a start is pending (`start_min_ms` not yet reached), frames at or above this keep
    /// the candidate alive (hysteresis; ≤ `threshold`). Ends are always judged on `threshold`:
    /// earshot's score decays slowly after speech and hovers near 0.4–0.5 in line noise.
    pub release_threshold: f32,
    /// Speech must last this long before `SpeechStarted` fires.
    pub start_min_ms: u32,
    /// Silence after speech that ends the utterance.
    pub end_silence_ms: u32,
    /// Silence after speech that reports a pause ([`EndpointEvent::Paused`]): the caller may be
    /// done, so recognition can start early and the turn can end here if what was said sounds
    /// complete. 0 turns this off; values ≥ `end_silence_ms` never fire.
    pub early_silence_ms: u32,
    /// A second, later pause report ([`EndpointEvent::Paused`] with `late`), for a recogniser
    /// too busy to take the first: it fires after this much silence when it is above
    /// `early_silence_ms` and below `end_silence_ms`. 0 turns it off.
    pub late_silence_ms: u32,
    /// Longest utterance before `MaxUtteranceReached` forces an end.
    pub max_utterance_ms: u32,
    /// Audio to keep before the detected start (reported as `capture_from_ms`).
    pub pre_roll_ms: u32,
}

impl Default for EndpointConfig {
    fn default() -> Self {
        Self {
            threshold: 0.6,
            release_threshold: 0.45,
            start_min_ms: 100,
            end_silence_ms: 700,
            early_silence_ms: 60,
            late_silence_ms: 200,
            max_utterance_ms: 15_000,
            pre_roll_ms: 300,
        }
    }
}

impl EndpointConfig {
    /// Checks ranges; returns a message naming the bad field.
    pub fn validate(&self) -> Result<(), SpeechError> {
        let bad = |m: String| Err(SpeechError::Other(format!("endpoint config: {m}")));
        if !(self.threshold > 0.0 && self.threshold <= 1.0) {
            return bad(format!("threshold {} not in (0, 1]", self.threshold));
        }
        if !(self.release_threshold >= 0.0 && self.release_threshold <= self.threshold) {
            return bad(format!(
                "release_threshold {} not in [0, threshold]",
                self.release_threshold
            ));
        }
        if self.end_silence_ms == 0 {
            return bad("end_silence_ms must be > 0".into());
        }
        if self.max_utterance_ms <= self.start_min_ms {
            return bad("max_utterance_ms must exceed start_min_ms".into());
        }
        Ok(())
    }
}

/// What the [`Endpointer`] reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EndpointEvent {
    /// Speech has lasted `start_min_ms`; it began at `at_ms`. Audio from `capture_from_ms`
    /// (`at_ms` minus pre-roll, floored at 0) should go to the recogniser.
    SpeechStarted { at_ms: u64, capture_from_ms: u64 },
    /// The utterance `[start_ms, end_ms)` ended (followed by `end_silence_ms` of silence).
    SpeechEnded { start_ms: u64, end_ms: u64 },
    /// The utterance that began at `start_ms` has been silent for `early_silence_ms` since
    /// `end_ms` (`late`: for `late_silence_ms`); it is still open. Reported at most twice per
    /// pause: first early, then late.
    Paused {
        start_ms: u64,
        end_ms: u64,
        late: bool,
    },
    /// The utterance that began at `start_ms` reached `max_utterance_ms` at `at_ms`.
    MaxUtteranceReached { start_ms: u64, at_ms: u64 },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Silence,
    /// Candidate speech since `since_ms`, not yet long enough.
    Onset {
        since_ms: u64,
    },
    /// In an utterance that began at `start_ms`; last speech frame ended at `last_speech_end`.
    Speaking {
        start_ms: u64,
        last_speech_end: u64,
        /// Reports of the current pause so far (0, 1 early, 2 late).
        pauses: u8,
    },
}

/// Pure end-pointing state machine. Feed one `(frame_start_ms, probability)` per VAD frame.
#[derive(Debug, Clone)]
pub struct Endpointer {
    cfg: EndpointConfig,
    frame_ms: u64,
    state: State,
    last_time: Option<u64>,
}

impl Endpointer {
    /// `frame_ms` is the duration each fed probability covers (16 for [`EarshotVad`]).
    pub fn new(cfg: EndpointConfig, frame_ms: u32) -> Result<Self, SpeechError> {
        cfg.validate()?;
        if frame_ms == 0 {
            return Err(SpeechError::Other("endpoint frame_ms must be > 0".into()));
        }
        Ok(Self {
            cfg,
            frame_ms: u64::from(frame_ms),
            state: State::Silence,
            last_time: None,
        })
    }

    pub fn config(&self) -> &EndpointConfig {
        &self.cfg
    }

    /// True between `SpeechStarted` and the end of the utterance.
    pub fn is_speaking(&self) -> bool {
        matches!(self.state, State::Speaking { .. })
    }

    /// Back to silence, forgetting any partial utterance.
    pub fn reset(&mut self) {
        self.state = State::Silence;
        self.last_time = None;
    }

    /// Processes one frame starting at `time_ms` with speech probability `prob`
    /// (NaN counts as silence). Frames whose time does not advance are ignored.
    ///
    /// Rules: a run of frames ≥ `threshold` (dips ≥ `release_threshold` tolerated) lasting
    /// `start_min_ms` starts an utterance at the run's first frame; it ends at the end of its last
    /// frame ≥ `threshold` once `end_silence_ms` have passed without one, or is cut at
    /// `max_utterance_ms`.
    pub fn feed(&mut self, time_ms: u64, prob: f32) -> Option<EndpointEvent> {
        if self.last_time.is_some_and(|t| time_ms <= t) {
            return None;
        }
        self.last_time = Some(time_ms);
        let end = time_ms.saturating_add(self.frame_ms);
        let cfg = &self.cfg;
        match self.state {
            State::Silence => {
                if prob >= cfg.threshold {
                    self.state = State::Onset { since_ms: time_ms };
                    return self.check_onset(time_ms, end);
                }
                None
            }
            State::Onset { since_ms } => {
                if prob >= cfg.release_threshold {
                    self.check_onset(since_ms, end)
                } else {
                    self.state = State::Silence;
                    None
                }
            }
            State::Speaking {
                start_ms,
                mut last_speech_end,
                mut pauses,
            } => {
                if prob >= cfg.threshold {
                    last_speech_end = end;
                    pauses = 0;
                }
                if end.saturating_sub(start_ms) >= u64::from(cfg.max_utterance_ms) {
                    self.state = State::Silence;
                    return Some(EndpointEvent::MaxUtteranceReached {
                        start_ms,
                        at_ms: end,
                    });
                }
                if end.saturating_sub(last_speech_end) >= u64::from(cfg.end_silence_ms) {
                    self.state = State::Silence;
                    return Some(EndpointEvent::SpeechEnded {
                        start_ms,
                        end_ms: last_speech_end,
                    });
                }
                let silence = end.saturating_sub(last_speech_end);
                let early = u64::from(cfg.early_silence_ms);
                let late = u64::from(cfg.late_silence_ms);
                let report = if pauses == 0 && early > 0 && silence >= early {
                    Some(false)
                } else if pauses < 2 && late > early && early > 0 && silence >= late {
                    Some(true)
                } else {
                    None
                };
                if let Some(is_late) = report {
                    pauses = if is_late { 2 } else { 1 };
                }
                self.state = State::Speaking {
                    start_ms,
                    last_speech_end,
                    pauses,
                };
                report.map(|late| EndpointEvent::Paused {
                    start_ms,
                    end_ms: last_speech_end,
                    late,
                })
            }
        }
    }

    /// End of the open utterance's last speech frame, if one is open.
    pub fn last_speech_end(&self) -> Option<u64> {
        match self.state {
            State::Speaking {
                last_speech_end, ..
            } => Some(last_speech_end),
            _ => None,
        }
    }

    fn check_onset(&mut self, since_ms: u64, end: u64) -> Option<EndpointEvent> {
        if end.saturating_sub(since_ms) >= u64::from(self.cfg.start_min_ms) {
            self.state = State::Speaking {
                start_ms: since_ms,
                last_speech_end: end,
                pauses: 0,
            };
            Some(EndpointEvent::SpeechStarted {
                at_ms: since_ms,
                capture_from_ms: since_ms.saturating_sub(u64::from(self.cfg.pre_roll_ms)),
            })
        } else {
            self.state = State::Onset { since_ms };
            None
        }
    }

    /// End of stream: closes an open utterance (`SpeechEnded` at the last speech frame's end).
    pub fn finish(&mut self) -> Option<EndpointEvent> {
        let ev = match self.state {
            State::Speaking {
                start_ms,
                last_speech_end,
                ..
            } => Some(EndpointEvent::SpeechEnded {
                start_ms,
                end_ms: last_speech_end,
            }),
            _ => None,
        };
        self.reset();
        ev
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use EndpointEvent::*;

    /// Feeds `probs` as consecutive 20 ms frames; returns (frame time, event) pairs.
    fn run(ep: &mut Endpointer, probs: &[f32]) -> Vec<(u64, EndpointEvent)> {
        probs
            .iter()
            .enumerate()
            .filter_map(|(i, &p)| {
                let t = i as u64 * 20;
                ep.feed(t, p).map(|e| (t, e))
            })
            .collect()
    }

    fn ep(cfg: EndpointConfig) -> Endpointer {
        Endpointer::new(cfg, 20).unwrap()
    }

    /// 600 ms end silence and no pause reports (what the older tests were written for).
    fn classic() -> EndpointConfig {
        EndpointConfig {
            end_silence_ms: 600,
            early_silence_ms: 0,
            ..EndpointConfig::default()
        }
    }

    #[test]
    fn pauses_are_reported_once_each_before_the_end() {
        let mut e = ep(EndpointConfig {
            early_silence_ms: 200,
            end_silence_ms: 600,
            ..EndpointConfig::default()
        });
        let mut probs = vec![0.9; 20]; // 0..400 speech
        probs.extend(vec![0.1; 15]); // 400..700: a 300 ms pause
        probs.extend(vec![0.9; 10]); // 700..900 speech again
        probs.extend(vec![0.1; 40]);
        let evs = run(&mut e, &probs);
        assert_eq!(
            evs,
            vec![
                (
                    80,
                    SpeechStarted {
                        at_ms: 0,
                        capture_from_ms: 0
                    }
                ),
                (
                    580,
                    Paused {
                        start_ms: 0,
                        end_ms: 400,
                        late: false
                    }
                ),
                (
                    1080,
                    Paused {
                        start_ms: 0,
                        end_ms: 900,
                        late: false
                    }
                ),
                (
                    1480,
                    SpeechEnded {
                        start_ms: 0,
                        end_ms: 900
                    }
                ),
            ]
        );
        // The open utterance's last speech end is visible until it closes.
        let mut e = ep(classic());
        run(&mut e, &[0.9; 10]);
        assert_eq!(e.last_speech_end(), Some(200));
    }

    #[test]
    fn a_long_pause_is_reported_again_late() {
        let mut e = ep(EndpointConfig {
            early_silence_ms: 100,
            late_silence_ms: 300,
            end_silence_ms: 600,
            ..EndpointConfig::default()
        });
        let mut probs = vec![0.9; 20]; // 0..400 speech
        probs.extend(vec![0.1; 8]); // 400..560: a pause too short for the late report
        probs.extend(vec![0.9; 5]); // 560..660 speech again
        probs.extend(vec![0.1; 40]);
        let pauses: Vec<(u64, u64, bool)> = run(&mut e, &probs)
            .into_iter()
            .filter_map(|(t, ev)| match ev {
                Paused { end_ms, late, .. } => Some((t, end_ms, late)),
                _ => None,
            })
            .collect();
        assert_eq!(
            pauses,
            vec![(480, 400, false), (740, 660, false), (940, 660, true)]
        );
    }

    #[test]
    fn start_needs_min_duration_and_end_needs_silence() {
        let mut e = ep(classic());
        // 10 silent frames (0..200 ms), 40 speech frames (200..1000), 40 silent.
        let mut probs = vec![0.1; 10];
        probs.extend(vec![0.9; 40]);
        probs.extend(vec![0.05; 40]);
        let evs = run(&mut e, &probs);
        assert_eq!(
            evs,
            vec![
                (
                    280,
                    SpeechStarted {
                        at_ms: 200,
                        capture_from_ms: 0
                    }
                ),
                (
                    1580,
                    SpeechEnded {
                        start_ms: 200,
                        end_ms: 1000
                    }
                ),
            ]
        );
        assert!(!e.is_speaking());
    }

    #[test]
    fn short_blips_and_short_pauses_are_ignored() {
        let mut e = ep(classic());
        // 60 ms blip (too short), then speech with a 400 ms pause inside (< 600 ms).
        let mut probs = vec![0.0; 5];
        probs.extend([0.9, 0.9, 0.9, 0.1, 0.1]); // 100..160 blip
        probs.extend(vec![0.8; 20]); // 200..600
        probs.extend(vec![0.5; 20]); // 600..1000 pause (below threshold)
        probs.extend(vec![0.8; 10]); // 1000..1200
        probs.extend(vec![0.0; 40]);
        let evs = run(&mut e, &probs);
        assert_eq!(
            evs,
            vec![
                (
                    280,
                    SpeechStarted {
                        at_ms: 200,
                        capture_from_ms: 0
                    }
                ),
                (
                    1780,
                    SpeechEnded {
                        start_ms: 200,
                        end_ms: 1200
                    }
                ),
            ]
        );
    }

    #[test]
    fn hysteresis_applies_to_onset_only() {
        let mut e = ep(classic());
        // Onset 0.9, 0.5 (dip above release 0.45), 0.9 ... survives; then 0.5 counts as silence.
        let mut probs = vec![0.9, 0.5, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9];
        probs.extend(vec![0.5; 40]);
        let evs = run(&mut e, &probs);
        assert_eq!(
            evs,
            vec![
                (
                    80,
                    SpeechStarted {
                        at_ms: 0,
                        capture_from_ms: 0
                    }
                ),
                (
                    780,
                    SpeechEnded {
                        start_ms: 0,
                        end_ms: 200
                    }
                ),
            ]
        );
        // A dip below release cancels the pending start.
        let mut e = ep(classic());
        let evs = run(&mut e, &[0.9, 0.9, 0.4, 0.9, 0.9, 0.9, 0.9, 0.9]);
        assert_eq!(
            evs,
            vec![(
                140,
                SpeechStarted {
                    at_ms: 60,
                    capture_from_ms: 0
                }
            )]
        );
    }

    #[test]
    fn max_utterance_and_restart() {
        let cfg = EndpointConfig {
            max_utterance_ms: 1000,
            pre_roll_ms: 100,
            ..classic()
        };
        let mut e = ep(cfg);
        let mut probs = vec![0.0; 20];
        probs.extend(vec![1.0; 80]);
        let evs = run(&mut e, &probs);
        assert_eq!(
            evs,
            vec![
                (
                    480,
                    SpeechStarted {
                        at_ms: 400,
                        capture_from_ms: 300
                    }
                ),
                (
                    1380,
                    MaxUtteranceReached {
                        start_ms: 400,
                        at_ms: 1400
                    }
                ),
                (
                    1480,
                    SpeechStarted {
                        at_ms: 1400,
                        capture_from_ms: 1300
                    }
                ),
            ]
        );
        assert_eq!(
            e.finish(),
            Some(SpeechEnded {
                start_ms: 1400,
                end_ms: 2000
            })
        );
        assert_eq!(e.finish(), None);
    }

    #[test]
    fn time_must_advance_and_nan_is_silence() {
        let mut e = ep(classic());
        assert_eq!(e.feed(100, 0.9), None);
        assert_eq!(e.feed(100, 0.9), None); // repeated time ignored
        assert_eq!(e.feed(50, 0.9), None);
        assert_eq!(e.feed(120, f32::NAN), None); // NaN: onset cancelled
        for t in (140..220).step_by(20) {
            assert_eq!(e.feed(t, 0.9), None);
        }
        assert_eq!(
            e.feed(220, 0.9),
            Some(SpeechStarted {
                at_ms: 140,
                capture_from_ms: 0
            })
        );
    }

    #[test]
    fn config_defaults_and_validation() {
        let c: EndpointConfig = serde_json::from_str("{}").unwrap();
        assert_eq!(c, EndpointConfig::default());
        let c: EndpointConfig = serde_json::from_str(r#"{"end_silence_ms": 800}"#).unwrap();
        assert_eq!(c.end_silence_ms, 800);
        assert_eq!(c.start_min_ms, 100);
        assert!(serde_json::from_str::<EndpointConfig>(r#"{"bogus": 1}"#).is_err());
        let bad = EndpointConfig {
            threshold: 1.5,
            ..Default::default()
        };
        assert!(Endpointer::new(bad, 20).is_err());
        let bad = EndpointConfig {
            release_threshold: 0.9,
            ..Default::default()
        };
        assert!(bad.validate().is_err());
        assert!(Endpointer::new(EndpointConfig::default(), 0).is_err());
    }
}
