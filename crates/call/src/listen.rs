//! The caller's side of the line: VAD over re-chunked audio, the end-pointer, and a bounded
//! buffer that keeps the current utterance (with pre-roll) for the recogniser.
//!
//! Audio time counts samples since the first frame (the end-pointer's time: audio heard). Each
//! push says where its first sample sits on the call's timeline (the driver's `MediaClock`
//! placed it by its media time), and the listener takes that as it is: audio that follows on
//! is contiguous, a push later than that starts a gap (a new segment of the timeline; the gap
//! is no silence the end-pointer heard), and one earlier goes on where the audio ended.

use crate::config::CallError;
use sb_contracts::vad::{EndpointConfig, EndpointEvent, Endpointer, Vad, VAD_RATE};
use std::collections::VecDeque;

const SAMPLES_PER_MS: u64 = (VAD_RATE / 1000) as u64;
/// Within speech, a frame this far below the loudest voiced frame so far (−30 dB in RMS) is
/// silence whatever the VAD says: earshot's score decays for 60–100 ms after the last word,
/// which would delay every pause and end by as much. On a noisy line the noise floor sits above
/// this level and the VAD alone decides.
const QUIET_RATIO: f32 = 0.032;

/// What the listener heard, in driver time.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Heard {
    /// An utterance began at `start_ms` (reported `start_min_ms` later, at `at_ms`).
    Started { start_ms: u64, at_ms: u64 },
    /// The utterance has `barge_min_ms` of voiced audio, as of the frame ending at `at_ms`.
    Sustained { at_ms: u64 },
    /// The open utterance has paused (`early_silence_ms` of silence after `end_ms`, or
    /// `late_silence_ms` when `late`); `pcm` is its audio so far. It stays open: speech may
    /// resume, or [`Listener::commit`] ends it.
    Paused {
        start_ms: u64,
        end_ms: u64,
        pcm: Vec<i16>,
        late: bool,
    },
    /// Speech came back after a [`Heard::Paused`]: the utterance goes on.
    Resumed,
    /// The utterance ended; `end_ms` is the end of its last voiced frame. `claimed`: it was
    /// the caller's turn ([`Listener::claim`]).
    Ended {
        start_ms: u64,
        end_ms: u64,
        pcm: Vec<i16>,
        claimed: bool,
    },
}

struct Utterance {
    capture_from: u64,
    voiced_ms: u64,
    sustained: bool,
    claimed: bool,
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
    /// The timeline's segments, oldest first: (first sample, call time of sample 0 for it).
    segments: VecDeque<(u64, u64)>,
    utt: Option<Utterance>,
    keep: u64,
    cap: u64,
    /// RMS of the loudest frame the VAD called speech since the last utterance closed.
    speech_peak: f32,
    /// The open utterance paused after speech that ended here (audio time).
    paused_at: Option<u64>,
    /// Audio pushed but not yet through the VAD, and what was heard not yet polled.
    pending: VecDeque<i16>,
    heard: VecDeque<Heard>,
    end_silence_ms: u64,
}

impl Listener {
    pub fn new(
        vad: Box<dyn Vad>,
        cfg: &EndpointConfig,
        barge_min_ms: u32,
    ) -> Result<Self, CallError> {
        let n = vad.frame_len();
        if n == 0 || n > VAD_RATE as usize {
            return Err(CallError::VadFrame(n));
        }
        let frame_ms = (n as u64 * 1000 / u64::from(VAD_RATE)).max(1);
        let ep = Endpointer::new(cfg.clone(), frame_ms as u32)?;
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
            segments: VecDeque::new(),
            utt: None,
            keep,
            cap,
            speech_peak: 0.0,
            paused_at: None,
            pending: VecDeque::new(),
            heard: VecDeque::new(),
            end_silence_ms: u64::from(cfg.end_silence_ms),
        })
    }

    /// The open utterance is the caller's turn (it began while the bot listened, or it
    /// interrupted the bot): its end is recognised.
    pub fn claim(&mut self) {
        if let Some(u) = self.utt.as_mut() {
            u.claimed = true;
        }
    }

    /// Whether the open utterance is claimed.
    pub fn claimed(&self) -> bool {
        self.utt.as_ref().is_some_and(|u| u.claimed)
    }

    /// An open utterance whose audio stopped arriving ends as silence would end it, then.
    pub fn poll_timeout(&self) -> Option<u64> {
        self.utt.as_ref()?;
        Some(self.audio_end_ms()?.saturating_add(self.end_silence_ms))
    }

    /// Ends an open utterance whose audio stalled, if [`Listener::poll_timeout`] has passed.
    pub fn handle_timeout(&mut self, now: u64) {
        if self.poll_timeout().is_some_and(|t| now >= t) {
            self.flush();
        }
    }

    /// True while an utterance is open.
    #[cfg(test)]
    pub fn in_utterance(&self) -> bool {
        self.utt.is_some()
    }

    /// Driver time when the audio received so far ends.
    pub fn audio_end_ms(&self) -> Option<u64> {
        let (_, base) = self.segments.back()?;
        Some(base.saturating_add(self.total / SAMPLES_PER_MS))
    }

    /// Call time of audio time `audio_ms` where something starts, in the segment of the
    /// timeline it belongs to.
    fn to_driver(&self, audio_ms: u64) -> u64 {
        self.on_timeline(audio_ms, false)
    }

    /// Call time of audio time `audio_ms` where something ends: an end on a gap belongs to the
    /// audio before it.
    fn end_to_driver(&self, audio_ms: u64) -> u64 {
        self.on_timeline(audio_ms, true)
    }

    fn on_timeline(&self, audio_ms: u64, end: bool) -> u64 {
        let sample = audio_ms.saturating_mul(SAMPLES_PER_MS);
        let base = self
            .segments
            .iter()
            .rev()
            .find(|(first, _)| *first < sample || (!end && *first == sample))
            .or(self.segments.front())
            .map_or(0, |(_, base)| *base);
        base.saturating_add(audio_ms)
    }

    /// Feeds caller audio starting at driver time `at_ms`. What it makes heard comes out of
    /// [`Listener::poll_heard`], one event at a time, so the session's reaction to one (a claim)
    /// is in place before the next frame is judged.
    pub fn push(&mut self, at_ms: u64, pcm: &[i16]) {
        let received = self.total + self.pending.len() as u64;
        let expected = self
            .segments
            .back()
            .map(|(_, base)| base.saturating_add(received / SAMPLES_PER_MS));
        if expected.is_none_or(|e| at_ms > e) {
            let base = at_ms.saturating_sub(received / SAMPLES_PER_MS);
            self.segments.push_back((received, base));
        }
        self.pending.extend(pcm);
    }

    /// The next thing heard in the audio pushed so far.
    pub fn poll_heard(&mut self) -> Option<Heard> {
        loop {
            if let Some(h) = self.heard.pop_front() {
                return Some(h);
            }
            if !self.next_frame() {
                self.trim();
                return None;
            }
        }
    }

    /// Runs the VAD and the end-pointer over the next whole frame of pending audio.
    fn next_frame(&mut self) -> bool {
        let n = self.frame.capacity();
        while let Some(s) = self.pending.pop_front() {
            self.buf.push_back(s);
            self.frame.push(s);
            self.total += 1;
            if self.frame.len() == n {
                let p = match self.vad.speech_probability(&self.frame) {
                    Ok(p) if p.is_finite() => p,
                    _ => 0.0, // a failing VAD hears silence rather than stopping the call
                };
                let p = self.gate(p, rms(&self.frame));
                self.frame.clear();
                let frame_start = (self.total - n as u64) / SAMPLES_PER_MS;
                self.on_frame(frame_start, p);
                return true;
            }
        }
        false
    }

    fn on_frame(&mut self, start: u64, p: f32) {
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
                    claimed: false,
                });
                let h = Heard::Started {
                    start_ms: self.to_driver(at_ms),
                    at_ms: self.end_to_driver(end),
                };
                self.heard.push_back(h);
            }
            Some(EndpointEvent::SpeechEnded { start_ms, end_ms }) => {
                let h = self.close(start_ms, end_ms);
                self.heard.push_back(h);
                return;
            }
            Some(EndpointEvent::Paused {
                start_ms,
                end_ms,
                late,
            }) => {
                self.paused_at = Some(end_ms);
                let from = self.utt.as_ref().map_or(self.buf_start, |u| u.capture_from);
                let a = from.saturating_sub(self.buf_start) as usize;
                let h = Heard::Paused {
                    start_ms: self.to_driver(start_ms),
                    end_ms: self.end_to_driver(end_ms),
                    pcm: self.buf.range(a.min(self.buf.len())..).copied().collect(),
                    late,
                };
                self.heard.push_back(h);
            }
            Some(EndpointEvent::MaxUtteranceReached { start_ms, at_ms }) => {
                let h = self.close(start_ms, at_ms);
                self.heard.push_back(h);
                return;
            }
            None => {}
        }
        if let Some(e) = self.paused_at {
            if self.ep.last_speech_end().is_some_and(|now| now != e) {
                self.paused_at = None;
                self.heard.push_back(Heard::Resumed);
            }
        }
        if let Some(u) = self.utt.as_mut() {
            if !u.sustained && u.voiced_ms >= self.barge_min_ms {
                u.sustained = true;
                let at_ms = self.end_to_driver(end);
                self.heard.push_back(Heard::Sustained { at_ms });
            }
        }
    }

    /// The VAD's probability, or 0 for a frame far quieter than the speech heard so far.
    fn gate(&mut self, p: f32, rms: f32) -> f32 {
        if p >= self.threshold {
            if rms < self.speech_peak * QUIET_RATIO {
                return 0.0;
            }
            self.speech_peak = self.speech_peak.max(rms);
        }
        p
    }

    /// Driver time at which the open utterance's last voiced frame ended.
    pub fn last_speech_end_ms(&self) -> Option<u64> {
        self.ep.last_speech_end().map(|e| self.end_to_driver(e))
    }

    /// Ends the open utterance now, without an event: the session took its turn at a pause.
    /// Speech after this starts a new utterance.
    pub fn commit(&mut self) {
        self.ep.reset();
        self.utt = None;
        self.paused_at = None;
        self.speech_peak = 0.0;
        self.trim();
    }

    /// Ends an open utterance now (the audio stream stalled).
    fn flush(&mut self) {
        if let Some(EndpointEvent::SpeechEnded { start_ms, end_ms }) = self.ep.finish() {
            let h = self.close(start_ms, end_ms);
            self.heard.push_back(h);
        }
        self.utt = None;
        self.speech_peak = 0.0;
        self.trim();
    }

    fn close(&mut self, start_ms: u64, end_ms: u64) -> Heard {
        self.speech_peak = 0.0;
        self.paused_at = None;
        let utt = self.utt.take();
        let claimed = utt.as_ref().is_some_and(|u| u.claimed);
        let from = utt
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
            end_ms: self.end_to_driver(end_ms),
            pcm,
            claimed,
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
        while self.segments.len() > 1 && self.segments[1].0 <= self.buf_start {
            self.segments.pop_front();
        }
    }
}

fn rms(frame: &[i16]) -> f32 {
    if frame.is_empty() {
        return 0.0;
    }
    let sum: f64 = frame.iter().map(|&s| f64::from(s) * f64::from(s)).sum();
    (sum / frame.len() as f64).sqrt() as f32
}

#[cfg(test)]
mod tests {
    use super::*;
    use sb_contracts::SpeechError;

    /// 10 ms frames; speech when the first sample is loud.
    struct Loud;
    impl Vad for Loud {
        fn speech_probability(&mut self, f: &[i16]) -> Result<f32, SpeechError> {
            if f[0] == 42 {
                return Err(SpeechError::Model("boom".into()));
            }
            Ok(if f[0] > 100 { 0.9 } else { 0.0 })
        }
        fn frame_len(&self) -> usize {
            160
        }
        fn reset(&mut self) {}
    }

    fn listener() -> Listener {
        let cfg = EndpointConfig {
            end_silence_ms: 600,
            early_silence_ms: 0,
            ..EndpointConfig::default()
        };
        Listener::new(Box::new(Loud), &cfg, 300).unwrap()
    }

    #[test]
    fn pauses_carry_the_audio_so_far_and_commit_closes_the_utterance() {
        let cfg = EndpointConfig {
            early_silence_ms: 200,
            end_silence_ms: 600,
            pre_roll_ms: 100,
            ..EndpointConfig::default()
        };
        let mut l = Listener::new(Box::new(Loud), &cfg, 300).unwrap();
        push(&mut l, 0, 200, 0);
        let mut heard = push(&mut l, 200, 500, 1000);
        heard.extend(push(&mut l, 700, 250, 0));
        assert!(matches!(heard[0], Heard::Started { start_ms: 200, .. }));
        let Some(Heard::Paused {
            start_ms,
            end_ms,
            pcm,
            late: false,
        }) = heard.last()
        else {
            panic!("{heard:?}")
        };
        assert_eq!((*start_ms, *end_ms), (200, 700));
        // 100 ms pre-roll, 500 ms speech, 200 ms of the pause (the audio up to the report).
        assert_eq!(pcm.len(), 800 * 16);
        assert_eq!(l.last_speech_end_ms(), Some(700));
        l.commit();
        assert!(!l.in_utterance());
        assert_eq!(l.last_speech_end_ms(), None);
        // The rest of the silence ends nothing; new speech is a new utterance.
        assert!(push(&mut l, 950, 600, 0).is_empty());
        let heard = push(&mut l, 1550, 200, 1000);
        assert!(
            matches!(heard[0], Heard::Started { start_ms: 1550, .. }),
            "{heard:?}"
        );
    }

    fn push(l: &mut Listener, at: u64, ms: u64, v: i16) -> Vec<Heard> {
        l.push(at, &vec![v; (ms * 16) as usize]);
        drain(l)
    }

    /// An event without its audio, for messages.
    fn brief(h: &Heard) -> String {
        match h {
            Heard::Ended {
                start_ms, end_ms, ..
            } => format!("Ended {start_ms}..{end_ms}"),
            Heard::Paused {
                start_ms, end_ms, ..
            } => format!("Paused {start_ms}..{end_ms}"),
            other => format!("{other:?}"),
        }
    }

    fn drain(l: &mut Listener) -> Vec<Heard> {
        std::iter::from_fn(|| l.poll_heard()).collect()
    }

    /// A VAD that hears speech in anything but digital silence, like earshot's decaying tail.
    struct Sticky;
    impl Vad for Sticky {
        fn speech_probability(&mut self, f: &[i16]) -> Result<f32, SpeechError> {
            Ok(if f.iter().any(|&s| s != 0) { 0.9 } else { 0.0 })
        }
        fn frame_len(&self) -> usize {
            160
        }
        fn reset(&mut self) {}
    }

    #[test]
    fn a_quiet_tail_after_speech_is_silence_but_quiet_speech_alone_is_not() {
        let cfg = EndpointConfig {
            early_silence_ms: 120,
            end_silence_ms: 600,
            pre_roll_ms: 100,
            ..EndpointConfig::default()
        };
        let mut l = Listener::new(Box::new(Sticky), &cfg, 300).unwrap();
        push(&mut l, 0, 500, 8_000); // speech 0..500
        let out = push(&mut l, 500, 200, 200); // −32 dB: the VAD still says speech
        let paused = out.iter().find_map(|h| match h {
            Heard::Paused { end_ms, .. } => Some(*end_ms),
            _ => None,
        });
        assert_eq!(paused, Some(500), "{out:?}");
        // The tail counts as silence: the utterance ends 600 ms after 500 despite the VAD.
        let out = push(&mut l, 700, 400, 200);
        assert!(
            matches!(out[..], [Heard::Ended { end_ms: 500, .. }]),
            "{out:?}"
        );
        // A new, quiet utterance on its own is speech: the loudness reference starts afresh.
        let out = push(&mut l, 1100, 300, 200);
        assert!(
            matches!(out[..], [Heard::Started { start_ms: 1100, .. }, ..]),
            "{out:?}"
        );
    }

    #[test]
    fn odd_sized_pushes_rechunk_and_an_early_stamp_does_not_move_the_timeline_back() {
        let mut l = listener();
        assert!(push(&mut l, 1000, 7, 0).is_empty());
        assert_eq!(l.audio_end_ms(), Some(1007));
        push(&mut l, 1007, 13, 0);
        assert_eq!(l.audio_end_ms(), Some(1020));
        // Speech 1020..1520 in uneven pieces, one stamped before where the audio ended.
        let mut heard = Vec::new();
        let mut t = 1020;
        for (ms, early) in [(33, 0), (67, 0), (100, 30), (150, 0), (150, 0)] {
            heard.extend(push(&mut l, t - early, ms, 1000));
            t += ms;
        }
        heard.extend(push(&mut l, t, 700, 0));
        assert_eq!(
            heard[0],
            Heard::Started {
                start_ms: 1020,
                at_ms: 1120
            }
        );
        assert_eq!(heard[1], Heard::Sustained { at_ms: 1320 });
        let Heard::Ended {
            start_ms,
            end_ms,
            pcm,
            ..
        } = &heard[2]
        else {
            panic!("{heard:?}")
        };
        assert_eq!((*start_ms, *end_ms), (1020, 1520));
        // Pre-roll floored at the stream's start (1000), 300 ms post-roll: 1000..1820.
        assert_eq!(pcm.len(), 820 * 16);
        assert_eq!(heard.len(), 3);
    }

    #[test]
    fn times_before_a_gap_keep_their_place_on_the_timeline() {
        let mut l = listener();
        push(&mut l, 0, 500, 1000); // speech 0..500
                                    // 300 ms of the stream lost, then silence: the end-pointer needs 600 ms of it.
        let heard = push(&mut l, 800, 700, 0);
        assert!(
            matches!(
                heard[..],
                [Heard::Ended {
                    start_ms: 0,
                    end_ms: 500,
                    ..
                }]
            ),
            "{:?}",
            heard.iter().map(brief).collect::<Vec<_>>()
        );
        assert_eq!(l.audio_end_ms(), Some(1500));
    }

    #[test]
    fn a_gap_on_the_timeline_is_followed_and_vad_errors_are_silence() {
        let mut l = listener();
        push(&mut l, 0, 100, 0);
        push(&mut l, 5000, 20, 0);
        assert_eq!(l.audio_end_ms(), Some(5020));
        assert!(
            push(&mut l, 5020, 1000, 42).is_empty(),
            "failing VAD hears nothing"
        );
        let heard = push(&mut l, 6020, 200, 1000);
        assert_eq!(
            heard[0],
            Heard::Started {
                start_ms: 6020,
                at_ms: 6120
            }
        );
        l.flush();
        let out = drain(&mut l);
        assert!(
            matches!(
                out[..],
                [Heard::Ended {
                    start_ms: 6020,
                    end_ms: 6220,
                    ..
                }]
            ),
            "{out:?}"
        );
        assert!(!l.in_utterance());
    }

    #[test]
    fn buffer_stays_bounded_without_speech() {
        let mut l = listener();
        for i in 0..500 {
            push(&mut l, i * 100, 100, 0);
        }
        assert!(l.buf.len() as u64 <= l.keep);
    }
}
