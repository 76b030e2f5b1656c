//! The caller's playback clock (sans-IO): bot audio plays at 1× speed in the order it arrived;
//! a mark is due once everything queued before it has played; `clear` drops what has not.

use std::collections::VecDeque;
use std::time::Duration;

use tokio::time::Instant;

/// Samples per second of the audio crossing the codec boundary.
pub const RATE: u32 = 16_000;

/// Playing time of `samples` samples at 16 kHz.
pub fn samples_duration(samples: usize) -> Duration {
    Duration::from_nanos(samples as u64 * (1_000_000_000 / RATE as u64))
}

/// Samples of 16 kHz audio in `d` (rounded down).
pub fn duration_samples(d: Duration) -> usize {
    (d.as_nanos() / (1_000_000_000 / RATE as u128)) as usize
}

/// What a [`Playback::clear`] dropped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cleared {
    /// Samples that were queued but had not played yet.
    pub dropped_samples: usize,
    /// Marks that were waiting for that audio, oldest first.
    pub pending_marks: Vec<String>,
}

/// A playback queue measured on a clock the caller passes in.
#[derive(Debug, Default)]
pub struct Playback {
    /// When everything queued so far will have played (`None` before any audio).
    play_end: Option<Instant>,
    marks: VecDeque<(Instant, String)>,
    played_samples: u64,
}

impl Playback {
    pub fn new() -> Self {
        Self::default()
    }

    /// Queues `samples` samples received at `now`; returns when they start playing.
    pub fn push_audio(&mut self, now: Instant, samples: usize) -> Instant {
        let start = self.play_end.map_or(now, |e| e.max(now));
        self.play_end = Some(start + samples_duration(samples));
        self.played_samples = self.played_samples.saturating_add(samples as u64);
        start
    }

    /// Queues a mark received at `now`: due when the audio queued before it has played.
    pub fn push_mark(&mut self, now: Instant, name: String) {
        let due = self.play_end.map_or(now, |e| e.max(now));
        self.marks.push_back((due, name));
    }

    /// Marks whose audio has played by `now`, oldest first (removed from the queue).
    pub fn take_due(&mut self, now: Instant) -> Vec<String> {
        let mut out = Vec::new();
        while self.marks.front().is_some_and(|(due, _)| *due <= now) {
            if let Some((_, name)) = self.marks.pop_front() {
                out.push(name);
            }
        }
        out
    }

    /// When the next mark is due.
    pub fn next_due(&self) -> Option<Instant> {
        self.marks.front().map(|(due, _)| *due)
    }

    /// Marks not echoed yet.
    pub fn pending_marks(&self) -> usize {
        self.marks.len()
    }

    /// Names of the marks not echoed yet.
    pub fn pending_mark_names(&self) -> Vec<String> {
        self.marks.iter().map(|(_, n)| n.clone()).collect()
    }

    /// When the queued audio finishes (or finished) playing.
    pub fn play_end(&self) -> Option<Instant> {
        self.play_end
    }

    /// Queued audio that has not played by `now`.
    pub fn unplayed(&self, now: Instant) -> Duration {
        self.play_end
            .map_or(Duration::ZERO, |e| e.saturating_duration_since(now))
    }

    /// Total samples ever queued, minus those dropped by clears.
    pub fn total_samples(&self) -> u64 {
        self.played_samples
    }

    /// Drops everything not yet played at `now` (barge-in).
    pub fn clear(&mut self, now: Instant) -> Cleared {
        let dropped_samples = duration_samples(self.unplayed(now));
        if self.play_end.is_some_and(|e| e > now) {
            self.play_end = Some(now);
        }
        self.played_samples = self.played_samples.saturating_sub(dropped_samples as u64);
        Cleared {
            dropped_samples,
            pending_marks: self.marks.drain(..).map(|(_, n)| n).collect(),
        }
    }
}

/// Whether a stretch of 16 kHz audio carries sound rather than line silence: any 10 ms
/// window with an RMS above about -46 dBFS.
pub fn is_voiced(pcm: &[i16]) -> bool {
    pcm.chunks(160).any(|w| {
        let energy: f64 = w.iter().map(|&s| f64::from(s) * f64::from(s)).sum();
        energy / w.len().max(1) as f64 > VOICED_RMS * VOICED_RMS
    })
}

/// Offset (in samples, a multiple of 160) of the first 10 ms window [`is_voiced`] calls sound.
pub fn first_voiced(pcm: &[i16]) -> Option<usize> {
    pcm.chunks(160).position(is_voiced).map(|i| i * 160)
}

/// RMS (in i16 units) above which [`is_voiced`] calls a window sound.
pub const VOICED_RMS: f64 = 160.0;

/// `pcm` without leading and trailing silence (in 10 ms windows, keeping one window of margin).
pub fn trim_silence(pcm: &[i16]) -> &[i16] {
    let windows: Vec<&[i16]> = pcm.chunks(160).collect();
    let first = windows.iter().position(|w| is_voiced(w));
    let last = windows.iter().rposition(|w| is_voiced(w));
    match (first, last) {
        (Some(f), Some(l)) => {
            let start = f.saturating_sub(1) * 160;
            let end = ((l + 2) * 160).min(pcm.len());
            &pcm[start..end]
        }
        _ => &pcm[..0],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marks_wait_for_the_audio_before_them() {
        let t0 = Instant::now();
        let mut p = Playback::new();
        assert_eq!(p.push_audio(t0, 16_000), t0); // 1 s
        p.push_mark(t0, "a".into());
        assert_eq!(p.next_due(), Some(t0 + Duration::from_secs(1)));
        assert!(p.take_due(t0 + Duration::from_millis(999)).is_empty());
        // Audio that arrives while the first still plays queues behind it.
        let later = t0 + Duration::from_millis(500);
        assert_eq!(p.push_audio(later, 8_000), t0 + Duration::from_secs(1));
        p.push_mark(later, "b".into());
        assert_eq!(
            p.take_due(t0 + Duration::from_secs(1)),
            vec!["a".to_string()]
        );
        assert_eq!(p.pending_marks(), 1);
        assert_eq!(
            p.take_due(t0 + Duration::from_millis(1500)),
            vec!["b".to_string()]
        );
        // A mark with nothing queued is due at once.
        let idle = t0 + Duration::from_secs(5);
        p.push_mark(idle, "c".into());
        assert_eq!(p.take_due(idle), vec!["c".to_string()]);
    }

    #[test]
    fn clear_drops_unplayed_audio_and_hands_back_marks() {
        let t0 = Instant::now();
        let mut p = Playback::new();
        p.push_audio(t0, 32_000); // 2 s
        p.push_mark(t0, "end".into());
        let c = p.clear(t0 + Duration::from_millis(500));
        assert_eq!(c.dropped_samples, 24_000);
        assert_eq!(c.pending_marks, vec!["end".to_string()]);
        assert_eq!(p.pending_marks(), 0);
        assert_eq!(p.total_samples(), 8_000);
        assert_eq!(p.unplayed(t0 + Duration::from_millis(500)), Duration::ZERO);
        // New audio after the clear starts right away.
        let t1 = t0 + Duration::from_millis(600);
        assert_eq!(p.push_audio(t1, 160), t1);
    }

    #[test]
    fn voicing_and_trimming() {
        let mut pcm = vec![0i16; 1600];
        pcm.extend((0..3200).map(|i| if i % 2 == 0 { 3000 } else { -3000 }));
        pcm.extend(vec![3i16; 4800]);
        assert!(!is_voiced(&pcm[..1600]));
        assert_eq!(first_voiced(&pcm), Some(1600));
        assert_eq!(first_voiced(&pcm[..1600]), None);
        assert!(is_voiced(&pcm));
        let t = trim_silence(&pcm);
        assert_eq!(t.len(), 3200 + 320);
        assert!(trim_silence(&[0; 800]).is_empty());
    }
}
