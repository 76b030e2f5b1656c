//! Outbound pacing: bot audio waits here and is written at most `lead` ahead of real time, so
//! the platform's buffer (Vonage: ~1,024 frames) never overflows and a barge-in `Clear` drops
//! little. Marks follow the audio queued before them.

use std::collections::VecDeque;
use tokio::time::{Duration, Instant};

/// Samples per write: 100 ms at 16 kHz (five 20 ms frames).
const CHUNK: usize = 1_600;
/// Most audio queued (beyond: dropped and counted): 5 minutes at 16 kHz.
pub const MAX_QUEUED_SAMPLES: usize = 16_000 * 300;

#[derive(Debug, PartialEq)]
pub enum Item {
    Audio { turn: u64, pcm: Vec<i16> },
    Mark(String),
}

/// What to write now.
#[derive(Debug, PartialEq)]
pub enum Send {
    /// Audio of `turn`; `first` when it is the turn's first audio written.
    Audio {
        turn: u64,
        pcm: Vec<i16>,
        first: bool,
    },
    Mark(String),
}

pub struct Playout {
    items: VecDeque<Item>,
    queued: usize,
    /// When the audio written so far finishes playing.
    play_end: Instant,
    lead: Duration,
    last_turn_started: Option<u64>,
}

impl Playout {
    pub fn new(lead: Duration, now: Instant) -> Self {
        Playout {
            items: VecDeque::new(),
            queued: 0,
            play_end: now,
            lead,
            last_turn_started: None,
        }
    }

    /// Queues audio; `false` (nothing queued) when over [`MAX_QUEUED_SAMPLES`].
    pub fn push_audio(&mut self, turn: u64, pcm: Vec<i16>) -> bool {
        if pcm.is_empty() {
            return true;
        }
        if self.queued + pcm.len() > MAX_QUEUED_SAMPLES {
            return false;
        }
        self.queued += pcm.len();
        self.items.push_back(Item::Audio { turn, pcm });
        true
    }

    pub fn push_mark(&mut self, name: String) {
        self.items.push_back(Item::Mark(name));
    }

    /// Drops everything not yet written (barge-in); the platform drops its buffer too.
    pub fn clear(&mut self, now: Instant) {
        self.items.clear();
        self.queued = 0;
        self.play_end = now;
    }

    /// When the next write is due, if anything waits: audio once less than `lead` is
    /// unplayed, i.e. just after `play_end - lead` ([`Playout::due`] writes nothing at that very
    /// instant, and a clock that does not move on by itself, like a paused test clock, would
    /// wake there forever).
    pub fn next_due(&self, now: Instant) -> Option<Instant> {
        match self.items.front()? {
            Item::Mark(_) => Some(now),
            Item::Audio { .. } => Some(
                self.play_end
                    .checked_sub(self.lead)
                    .unwrap_or(self.play_end)
                    + Duration::from_nanos(1),
            ),
        }
    }

    /// Everything that may be written at `now`, in order.
    pub fn due(&mut self, now: Instant) -> Vec<Send> {
        let mut out = Vec::new();
        loop {
            match self.items.front_mut() {
                None => break,
                Some(Item::Mark(_)) => {
                    if let Some(Item::Mark(m)) = self.items.pop_front() {
                        out.push(Send::Mark(m));
                    }
                }
                Some(Item::Audio { turn, pcm }) => {
                    let ahead = self.play_end.saturating_duration_since(now);
                    if ahead >= self.lead {
                        break;
                    }
                    let turn = *turn;
                    let n = pcm.len().min(CHUNK);
                    let chunk: Vec<i16> = pcm.drain(..n).collect();
                    if pcm.is_empty() {
                        self.items.pop_front();
                    }
                    self.queued = self.queued.saturating_sub(n);
                    let frames = n.div_ceil(320) as u64;
                    self.play_end = self.play_end.max(now) + Duration::from_millis(frames * 20);
                    let first = self.last_turn_started != Some(turn);
                    self.last_turn_started = Some(turn);
                    out.push(Send::Audio {
                        turn,
                        pcm: chunk,
                        first,
                    });
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paces_audio_and_keeps_marks_in_order() {
        let t0 = Instant::now();
        let mut p = Playout::new(Duration::from_millis(1_000), t0);
        assert!(p.push_audio(3, vec![1; 16_000 * 3]));
        p.push_mark("turn-3-end".into());
        let first = p.due(t0);
        // 1 s of lead: ten 100 ms chunks, the first flagged.
        assert_eq!(first.len(), 10);
        assert!(matches!(
            first[0],
            Send::Audio {
                turn: 3,
                first: true,
                ..
            }
        ));
        assert!(matches!(first[1], Send::Audio { first: false, .. }));
        assert_eq!(p.next_due(t0), Some(t0 + Duration::from_nanos(1)));
        assert!(p.due(t0).is_empty());
        assert_eq!(p.due(t0 + Duration::from_millis(2_000)).len(), 10);
        let last = p.due(t0 + Duration::from_millis(4_000));
        assert_eq!(last.len(), 10 + 1);
        assert_eq!(last.last(), Some(&Send::Mark("turn-3-end".into())));
        p.push_audio(4, vec![1; 320]);
        p.clear(t0);
        assert_eq!(p.next_due(t0), None);
    }

    #[test]
    fn audio_is_written_when_it_says_it_is_due() {
        let t0 = Instant::now();
        let mut p = Playout::new(Duration::from_millis(200), t0);
        p.push_audio(1, vec![1; 16_000]);
        assert_eq!(p.due(t0).len(), 2, "200 ms ahead");
        let due = p.next_due(t0).expect("more waits");
        assert!(due > t0 + Duration::from_millis(0));
        assert_eq!(
            p.due(due).len(),
            1,
            "a clock that stops at the due time still writes"
        );
    }
}
