//! FFT-based resampling (rubato `FftFixedInOut`) between the supported rates.
//!
//! All supported rates are multiples of 50 Hz except 11 025/44 100 Hz, and the FFT block of
//! `FftFixedInOut` is the smallest common block of the two rates, so a 20 ms frame maps
//! to an exact 20 ms frame with ~10 ms of algorithmic delay.

use rubato::{FftFixedInOut, Resampler as _};

use crate::pcm::{frame_len, sample_f32_to_i16, sample_i16_to_f32};
use crate::{check_len, check_rate, AudioError, Result};

fn resample_err(e: impl std::fmt::Display) -> AudioError {
    AudioError::Resample(e.to_string())
}

fn gcd(mut a: u32, mut b: u32) -> u32 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a.max(1)
}

/// Resamples a whole signal from `from` Hz to `to` Hz.
///
/// The output has `round(len * to / from)` samples and is time-aligned with the input
/// (the resampler's delay is removed). Empty input gives empty output.
pub fn resample(samples: &[f32], from: u32, to: u32) -> Result<Vec<f32>> {
    check_rate(from)?;
    check_rate(to)?;
    check_len(samples.len())?;
    if from == to || samples.is_empty() {
        return Ok(samples.to_vec());
    }
    let out_len =
        ((samples.len() as u64 * u64::from(to) + u64::from(from) / 2) / u64::from(from)) as usize;
    // An even number of the rates' smallest common blocks keeps the FFT output length even, so
    // the reported delay (half the output block) is exact and is removed below.
    let unit = 2 * (from / gcd(from, to)) as usize;
    let chunk = unit * 1024usize.div_ceil(unit);
    let mut rs =
        FftFixedInOut::<f32>::new(from as usize, to as usize, chunk, 1).map_err(resample_err)?;
    let chunk_in = rs.input_frames_next();
    let chunk_out = rs.output_frames_next();
    let delay = rs.output_delay();
    let mut input = vec![0.0f32; chunk_in];
    let mut block = vec![0.0f32; chunk_out];
    let mut out = Vec::with_capacity(out_len + delay + chunk_out);
    let mut pos = 0usize;
    while out.len() < out_len + delay {
        let end = (pos + chunk_in).min(samples.len());
        let n = end.saturating_sub(pos);
        input.fill(0.0);
        if n > 0 {
            input[..n].copy_from_slice(&samples[pos..end]);
        }
        pos += chunk_in;
        let (_, written) = rs
            .process_into_buffer(&[&input[..]], &mut [&mut block[..]], None)
            .map_err(resample_err)?;
        out.extend_from_slice(&block[..written]);
    }
    out.drain(..delay);
    out.truncate(out_len);
    Ok(out)
}

/// Streaming resampler for fixed-duration frames (20 ms by default).
///
/// After construction, [`Resampler::process`] / [`Resampler::process_i16`] do not allocate.
/// Output lags input by [`Resampler::delay`] output samples (half an FFT block, 10 ms for 20 ms frames).
pub struct Resampler {
    inner: Option<FftFixedInOut<f32>>,
    in_len: usize,
    out_len: usize,
    scratch_in: Vec<f32>,
    scratch_out: Vec<f32>,
}

impl Resampler {
    /// A resampler for 20 ms frames from `from` Hz to `to` Hz.
    pub fn new(from: u32, to: u32) -> Result<Self> {
        Self::with_frame_ms(from, to, 20)
    }

    /// A resampler for frames of `ms` milliseconds (both rates must give whole frames).
    pub fn with_frame_ms(from: u32, to: u32, ms: u32) -> Result<Self> {
        check_rate(from)?;
        check_rate(to)?;
        let in_len = frame_len(from, ms)?;
        let out_len = frame_len(to, ms)?;
        let inner = if from == to {
            None
        } else {
            let rs = FftFixedInOut::<f32>::new(from as usize, to as usize, in_len, 1)
                .map_err(resample_err)?;
            if rs.input_frames_next() != in_len || rs.output_frames_next() != out_len {
                return Err(AudioError::UnsupportedRate(from));
            }
            Some(rs)
        };
        Ok(Self {
            inner,
            in_len,
            out_len,
            scratch_in: vec![0.0; in_len],
            scratch_out: vec![0.0; out_len],
        })
    }

    /// Samples per input frame.
    pub fn input_frame_len(&self) -> usize {
        self.in_len
    }

    /// Samples per output frame.
    pub fn output_frame_len(&self) -> usize {
        self.out_len
    }

    /// Output delay in output samples (0 when the rates are equal).
    pub fn delay(&self) -> usize {
        self.inner.as_ref().map_or(0, |r| r.output_delay())
    }

    /// Clears the internal state (start of a new stream).
    pub fn reset(&mut self) {
        if let Some(r) = self.inner.as_mut() {
            r.reset();
        }
    }

    /// Resamples one frame. `input.len()` must equal [`Self::input_frame_len`], `output` must
    /// hold at least [`Self::output_frame_len`] samples. Returns the samples written.
    pub fn process(&mut self, input: &[f32], output: &mut [f32]) -> Result<usize> {
        if input.len() != self.in_len {
            return Err(AudioError::FrameSize {
                expected: self.in_len,
                got: input.len(),
            });
        }
        let Some(out) = output.get_mut(..self.out_len) else {
            return Err(AudioError::OutputTooSmall {
                needed: self.out_len,
                got: output.len(),
            });
        };
        match self.inner.as_mut() {
            None => {
                out.copy_from_slice(input);
                Ok(self.out_len)
            }
            Some(rs) => {
                let (_, written) = rs
                    .process_into_buffer(&[input], &mut [out], None)
                    .map_err(resample_err)?;
                Ok(written)
            }
        }
    }

    /// Like [`Self::process`] for 16-bit samples (converted through internal scratch buffers).
    pub fn process_i16(&mut self, input: &[i16], output: &mut [i16]) -> Result<usize> {
        if input.len() != self.in_len {
            return Err(AudioError::FrameSize {
                expected: self.in_len,
                got: input.len(),
            });
        }
        if output.len() < self.out_len {
            return Err(AudioError::OutputTooSmall {
                needed: self.out_len,
                got: output.len(),
            });
        }
        let mut sin = std::mem::take(&mut self.scratch_in);
        let mut sout = std::mem::take(&mut self.scratch_out);
        for (d, &s) in sin.iter_mut().zip(input) {
            *d = sample_i16_to_f32(s);
        }
        let res = self.process(&sin, &mut sout);
        if let Ok(n) = res {
            for (d, &s) in output.iter_mut().zip(&sout[..n.min(sout.len())]) {
                *d = sample_f32_to_i16(s);
            }
        }
        self.scratch_in = sin;
        self.scratch_out = sout;
        res
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sine(freq: f32, rate: u32, n: usize, amp: f32) -> Vec<f32> {
        (0..n)
            .map(|i| amp * (2.0 * std::f32::consts::PI * freq * i as f32 / rate as f32).sin())
            .collect()
    }

    /// Counts sign changes (negative→non-negative and back) in `s`.
    fn zero_crossings(s: &[f32]) -> usize {
        s.windows(2)
            .filter(|w| (w[0] < 0.0) != (w[1] < 0.0))
            .count()
    }

    fn peak(s: &[f32]) -> f32 {
        s.iter().fold(0.0f32, |m, &x| m.max(x.abs()))
    }

    const PAIRS: [(u32, u32); 10] = [
        (44100, 16000),
        (48000, 8000),
        (8000, 16000),
        (16000, 8000),
        (16000, 22050),
        (22050, 16000),
        (16000, 24000),
        (24000, 16000),
        (8000, 24000),
        (22050, 8000),
    ];

    #[test]
    fn one_shot_keeps_frequency_amplitude_and_length() {
        for (from, to) in PAIRS {
            // One second of 1 kHz at 0.5 amplitude: 2000 zero crossings per second.
            let input = sine(1000.0, from, from as usize, 0.5);
            let out = resample(&input, from, to).unwrap();
            assert_eq!(out.len(), to as usize, "{from}->{to}");
            // Ignore 10 ms at each edge (filter ramp).
            let edge = to as usize / 100;
            let mid = &out[edge..out.len() - edge];
            let zc = zero_crossings(mid);
            assert!((1958..=1962).contains(&zc), "{from}->{to}: {zc} crossings");
            // Time alignment: fit out ≈ A·sin(ωn + φ); the lag −φ/ω must stay within half an
            // input sample (rubato's filter centre is half an input sample early for 22.05 kHz).
            let (lag_in_samples, amp) = fit_sine(mid, 1000.0, to, edge);
            assert!((amp - 0.5).abs() < 0.002, "{from}->{to}: amplitude {amp}");
            let lag_in = lag_in_samples * f64::from(from) / f64::from(to);
            assert!(
                lag_in.abs() <= 0.51,
                "{from}->{to}: lag {lag_in} input samples"
            );
        }
    }

    /// Least-squares fit of a sine of known frequency; returns (lag in samples, amplitude).
    fn fit_sine(s: &[f32], freq: f64, rate: u32, offset: usize) -> (f64, f64) {
        let w = 2.0 * std::f64::consts::PI * freq / f64::from(rate);
        let (mut a, mut b) = (0.0f64, 0.0f64);
        for (i, &x) in s.iter().enumerate() {
            let t = w * (i + offset) as f64;
            a += f64::from(x) * t.sin();
            b += f64::from(x) * t.cos();
        }
        let amp = 2.0 * (a * a + b * b).sqrt() / s.len() as f64;
        (-b.atan2(a) / w, amp)
    }

    #[test]
    fn one_shot_lengths_and_errors() {
        assert_eq!(resample(&[0.1; 441], 22050, 16000).unwrap().len(), 320);
        assert_eq!(resample(&[0.1; 1000], 16000, 24000).unwrap().len(), 1500);
        assert_eq!(resample(&[0.25; 3], 16000, 16000).unwrap(), vec![0.25; 3]);
        assert_eq!(resample(&[], 8000, 16000).unwrap(), Vec::<f32>::new());
        assert_eq!(
            resample(&[0.0; 4], 8001, 16000),
            Err(AudioError::UnsupportedRate(8001))
        );
        assert_eq!(
            resample(&[0.0; 4], 8000, 0),
            Err(AudioError::UnsupportedRate(0))
        );
    }

    #[test]
    fn streaming_matches_ratio_and_keeps_sine() {
        for (from, to) in PAIRS {
            let mut rs = Resampler::new(from, to).unwrap();
            assert_eq!(rs.input_frame_len(), from as usize / 50);
            assert_eq!(rs.output_frame_len(), to as usize / 50);
            assert_eq!(rs.delay(), to as usize / 100, "{from}->{to} delay");
            let input = sine(1000.0, from, from as usize, 0.5);
            let mut out = vec![0.0; to as usize];
            for (i, frame) in input.chunks_exact(rs.input_frame_len()).enumerate() {
                let o = &mut out[i * rs.output_frame_len()..];
                assert_eq!(rs.process(frame, o).unwrap(), rs.output_frame_len());
            }
            let steady = &out[to as usize / 25..];
            let zc = zero_crossings(steady);
            // 960 ms of 1 kHz = 1920 crossings.
            assert!((1918..=1921).contains(&zc), "{from}->{to}: {zc}");
            assert!((peak(steady) - 0.5).abs() < 0.01, "{from}->{to}");
        }
    }

    #[test]
    fn streaming_i16_and_frame_errors() {
        let mut rs = Resampler::new(8000, 16000).unwrap();
        let mut out = [0i16; 320];
        assert_eq!(
            rs.process_i16(&[0; 100], &mut out),
            Err(AudioError::FrameSize {
                expected: 160,
                got: 100
            })
        );
        assert_eq!(
            rs.process_i16(&[0; 160], &mut [0i16; 10]),
            Err(AudioError::OutputTooSmall {
                needed: 320,
                got: 10
            })
        );
        // A DC level passes through (after the 10 ms delay) unchanged.
        for _ in 0..3 {
            assert_eq!(rs.process_i16(&[8000; 160], &mut out), Ok(320));
        }
        assert!(
            out.iter().all(|&s| (s - 8000).abs() <= 40),
            "{:?}",
            &out[..8]
        );
        let mut same = Resampler::new(16000, 16000).unwrap();
        assert_eq!(same.delay(), 0);
        assert_eq!(same.process_i16(&[7; 320], &mut out), Ok(320));
        assert_eq!(out, [7; 320]);
        assert!(Resampler::new(11025, 16000).is_err());
    }
}
