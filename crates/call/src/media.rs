//! The call's one timeline for caller audio: the stream's media clock placed on the driver's
//! clock.
//!
//! A transport codec knows where each chunk of caller audio sits in the stream (Twilio's media
//! `timestamp`, Vonage's frame count): its *media time*. The driver knows when the chunk
//! arrived, on its one clock. [`MediaClock`] places the chunk on the call's timeline from both,
//! once, so the session gets [`crate::Input::Audio`] at the time its first sample was spoken
//! and never second-guesses it:
//!
//! * the first chunk ends at its arrival (this fixes the offset between the two clocks);
//! * after that the media clock rules: chunks follow each other, and a gap in media time (the
//!   platform lost audio and says so) is a gap on the timeline, though never past the chunk's
//!   arrival (a bogus timestamp cannot move the call into the future);
//! * network jitter (a chunk later than the media clock predicts by up to [`LOST_MS`]) moves
//!   nothing: frames arrive late, never early;
//! * a chunk later than that means the sender fell behind its own media clock (a stalled
//!   sender, lost audio a frame count cannot show): the timeline re-anchors at its arrival;
//! * the timeline never goes back (overlapping or repeated media time continues where the
//!   audio so far ended).

/// Lateness beyond which a chunk is taken to follow lost audio rather than jitter.
pub const LOST_MS: u64 = 200;

/// Places one stream's audio on the call's timeline (see the module docs).
#[derive(Debug, Clone, Default)]
pub struct MediaClock {
    /// Call time minus media time, once the first chunk arrived.
    offset: Option<i128>,
    /// Call time where the audio placed so far ends.
    end_ms: u64,
}

impl MediaClock {
    pub fn new() -> Self {
        Self::default()
    }

    /// Places a chunk of `len_ms` whose first sample is at media time `media_ms`, which
    /// arrived (whole) at `arrival_ms` on the driver's clock. Returns the call time of its
    /// first sample.
    pub fn place(&mut self, arrival_ms: u64, media_ms: u64, len_ms: u64) -> u64 {
        let by_arrival = arrival_ms.saturating_sub(len_ms);
        let at = match self.offset {
            None => by_arrival,
            Some(offset) => {
                let by_media = clamp(i128::from(media_ms) + offset);
                let contiguous = self.end_ms;
                if by_arrival > by_media.saturating_add(LOST_MS) {
                    by_arrival
                } else if by_media > contiguous {
                    by_media.min(contiguous.max(by_arrival))
                } else {
                    contiguous
                }
            }
        };
        let at = at.max(self.end_ms);
        self.offset = Some(i128::from(at) - i128::from(media_ms));
        self.end_ms = at.saturating_add(len_ms);
        at
    }

    /// Call time where the audio placed so far ends (`None` before the first chunk).
    pub fn end_ms(&self) -> Option<u64> {
        self.offset.map(|_| self.end_ms)
    }
}

fn clamp(v: i128) -> u64 {
    v.clamp(0, i128::from(u64::MAX)) as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 20 ms chunks of a stream: (arrival, media) → call time.
    fn run(chunks: &[(u64, u64)]) -> Vec<u64> {
        let mut c = MediaClock::new();
        chunks.iter().map(|&(a, m)| c.place(a, m, 20)).collect()
    }

    #[test]
    fn the_first_chunk_ends_at_its_arrival_and_jitter_moves_nothing() {
        // Arrivals late by up to 150 ms, then a burst catching up.
        let at = run(&[
            (1020, 0),
            (1040, 20),
            (1210, 40),
            (1211, 60),
            (1212, 80),
            (1120, 100),
        ]);
        assert_eq!(at, [1000, 1020, 1040, 1060, 1080, 1100]);
    }

    #[test]
    fn a_sender_running_ahead_of_real_time_stays_on_its_media_clock() {
        // An unpaced sender: a second of audio in 10 ms.
        let mut c = MediaClock::new();
        let at: Vec<u64> = (0..50).map(|i| c.place(100 + i / 5, i * 20, 20)).collect();
        assert_eq!(at[0], 80);
        assert_eq!(at[49], 80 + 49 * 20);
        assert_eq!(c.end_ms(), Some(80 + 1000));
    }

    #[test]
    fn a_media_gap_is_a_gap_but_never_past_the_arrival() {
        // Twilio lost 100 ms (its timestamps jump), and the frames after it arrive in time.
        assert_eq!(run(&[(20, 0), (40, 20), (160, 140)]), [0, 20, 140]);
        // A bogus jump of an hour lands at the chunk's arrival, not an hour ahead.
        assert_eq!(run(&[(20, 0), (40, 20), (60, 3_600_000)]), [0, 20, 40]);
    }

    #[test]
    fn a_sender_that_fell_behind_re_anchors_at_the_arrival() {
        // A frame count cannot show lost audio: 5 s without frames, then the count goes on.
        let at = run(&[(20, 0), (40, 20), (5060, 40), (5080, 60)]);
        assert_eq!(at, [0, 20, 5040, 5060]);
    }

    #[test]
    fn the_timeline_never_goes_back() {
        // Repeated and rewound media time continue where the audio ended.
        assert_eq!(
            run(&[(20, 0), (40, 20), (60, 20), (80, 0)]),
            [0, 20, 40, 60]
        );
        assert_eq!(MediaClock::new().end_ms(), None);
    }
}
