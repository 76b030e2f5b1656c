//! Audio plumbing shared by the codecs: streaming rate conversion on 20 ms frames.

use sb_audio::Resampler;

use crate::{Result, TransportError};

/// The rate every codec hands to (and takes from) the call core.
pub const CORE_RATE: u32 = 16_000;

/// Largest outbound audio accepted in one `Outbound::Audio` (5 minutes at 16 kHz).
pub const MAX_OUTBOUND_SAMPLES: usize = CORE_RATE as usize * 300;

/// A streaming resampler fed with arbitrary-length input.
///
/// Input is cut into 20 ms frames; an incomplete tail waits for the next push. Output lags
/// input by the resampler delay (10 ms when the rates differ, none when they are equal).
pub(crate) struct FrameResampler {
    rs: Resampler,
    pending: Vec<i16>,
    out: Vec<i16>,
    /// Output samples still to drop after [`FrameResampler::restart`] (the resampler's delay).
    skip: usize,
    /// Output not yet sent as a whole frame by [`FrameResampler::frames_aligned`].
    carry: Vec<i16>,
}

impl FrameResampler {
    pub(crate) fn new(from: u32, to: u32) -> Result<Self> {
        let rs = Resampler::new(from, to)?;
        let out = vec![0; rs.output_frame_len()];
        Ok(Self {
            pending: Vec::with_capacity(rs.input_frame_len()),
            carry: Vec::with_capacity(2 * out.len()),
            skip: 0,
            rs,
            out,
        })
    }

    /// Feeds samples; returns the resampled output of every frame completed so far.
    pub(crate) fn push(&mut self, mut input: &[i16]) -> Result<Vec<i16>> {
        let n = self.rs.input_frame_len();
        let mut result =
            Vec::with_capacity((self.pending.len() + input.len()) / n.max(1) * self.out.len());
        if !self.pending.is_empty() {
            let take = (n - self.pending.len()).min(input.len());
            let (head, rest) = input.split_at(take);
            self.pending.extend_from_slice(head);
            input = rest;
            if self.pending.len() < n {
                return Ok(result);
            }
            let frame = std::mem::take(&mut self.pending);
            let res = self.process_into(&frame, &mut result);
            self.pending = frame;
            self.pending.clear();
            res?;
        }
        let chunks = input.chunks_exact(n);
        let rest = chunks.remainder();
        for frame in chunks {
            self.process_into(frame, &mut result)?;
        }
        self.pending.extend_from_slice(rest);
        Ok(result)
    }

    /// Cuts `input` into 20 ms frames (the last padded with silence) and resamples each;
    /// one output vector per frame. Nothing is kept back except the resampler delay.
    pub(crate) fn frames_padded(&mut self, input: &[i16]) -> Result<Vec<Vec<i16>>> {
        let n = self.rs.input_frame_len();
        let mut frames = Vec::with_capacity(input.len().div_ceil(n.max(1)));
        let mut padded = Vec::new();
        for chunk in input.chunks(n.max(1)) {
            let frame = if chunk.len() == n {
                chunk
            } else {
                padded.clear();
                padded.extend_from_slice(chunk);
                padded.resize(n, 0);
                &padded[..]
            };
            let written = self.rs.process_i16(frame, &mut self.out)?;
            frames.push(self.out.get(..written).unwrap_or(&self.out[..]).to_vec());
        }
        Ok(frames)
    }

    /// The resampler's delay in ms (0 when the rates are equal).
    pub(crate) fn delay_ms(&self) -> u64 {
        let rate = self.rs.output_frame_len() as u64 * 50; // 20 ms frames
        (self.rs.delay() as u64 * 1000)
            .checked_div(rate)
            .unwrap_or(0)
    }

    /// [`Self::frames_padded`] without the resampler's delay after a [`Self::restart`]: the
    /// output is re-cut into whole frames, and what doesn't fill one waits for the next call.
    pub(crate) fn frames_aligned(&mut self, input: &[i16]) -> Result<Vec<Vec<i16>>> {
        let frame = self.out.len();
        let mut frames = Vec::new();
        for out in self.frames_padded(input)? {
            let drop = self.skip.min(out.len());
            self.skip -= drop;
            self.carry.extend_from_slice(&out[drop..]);
            while self.carry.len() >= frame {
                frames.push(self.carry.drain(..frame).collect());
            }
        }
        Ok(frames)
    }

    /// A new signal starts: the old one's history and unsent tail (at most the delay, the end
    /// of a reply) are dropped, and so are the first `delay` samples of output, which would
    /// only be that history.
    pub(crate) fn restart(&mut self) {
        self.reset();
        self.skip = self.rs.delay();
    }

    /// Drops buffered input and the resampler history (after a barge-in clear).
    pub(crate) fn reset(&mut self) {
        self.pending.clear();
        self.carry.clear();
        self.skip = 0;
        self.rs.reset();
    }

    fn process_into(&mut self, frame: &[i16], result: &mut Vec<i16>) -> Result<()> {
        let written = self.rs.process_i16(frame, &mut self.out)?;
        result.extend_from_slice(self.out.get(..written).unwrap_or(&self.out[..]));
        Ok(())
    }
}

/// Rejects outbound audio above [`MAX_OUTBOUND_SAMPLES`].
pub(crate) fn check_outbound_len(pcm: &[i16]) -> Result<()> {
    if pcm.len() > MAX_OUTBOUND_SAMPLES {
        return Err(TransportError::TooLarge {
            len: pcm.len() * 2,
            max: MAX_OUTBOUND_SAMPLES * 2,
        });
    }
    Ok(())
}

/// Milliseconds of 16 kHz audio in `samples` samples.
pub(crate) fn core_ms(samples: u64) -> u64 {
    samples / u64::from(CORE_RATE / 1000)
}

#[cfg(test)]
mod tests {
    use super::FrameResampler;

    #[test]
    fn a_restarted_signal_comes_out_without_the_delay_in_whole_frames() {
        let mut plain = FrameResampler::new(16_000, 8_000).unwrap();
        let mut aligned = FrameResampler::new(16_000, 8_000).unwrap();
        // Some earlier signal, then a click 5 ms into the new one (100 ms written at once).
        let earlier = vec![1_000i16; 320 * 3];
        plain.frames_padded(&earlier).unwrap();
        aligned.frames_aligned(&earlier).unwrap();
        let mut signal = vec![0i16; 1_600];
        signal[80] = 20_000;
        plain.reset();
        aligned.restart();
        let onset = |frames: &[Vec<i16>]| {
            let flat: Vec<i16> = frames.concat();
            flat.iter().position(|s| s.abs() > 2_000)
        };
        let p = plain.frames_padded(&signal).unwrap();
        let a = aligned.frames_aligned(&signal).unwrap();
        assert!(a.iter().all(|f| f.len() == 160), "whole 20 ms frames");
        assert_eq!(a.len(), 4, "80 samples wait for the next write");
        let (p_on, a_on) = (onset(&p).unwrap(), onset(&a).unwrap());
        assert_eq!(p_on - a_on, 80, "10 ms sooner at 8 kHz");
        assert!((38..=42).contains(&a_on), "the click at 5 ms: {a_on}");
        // The next write continues seamlessly from the carried samples.
        let more = aligned.frames_aligned(&[0i16; 320]).unwrap();
        assert_eq!(more.len(), 1);
        assert!(aligned.carry.len() == 80);
    }

    #[test]
    fn conversion_delay_is_half_a_frame_between_rates_and_none_at_one_rate() {
        assert_eq!(FrameResampler::new(16_000, 8_000).unwrap().delay_ms(), 10);
        assert_eq!(FrameResampler::new(8_000, 16_000).unwrap().delay_ms(), 10);
        assert_eq!(FrameResampler::new(16_000, 16_000).unwrap().delay_ms(), 0);
    }
}
