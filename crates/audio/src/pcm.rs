//! L16 byte packing, sample-format conversion and fixed-duration framing.

use crate::{check_len, AudioError, Result};

/// Little-endian 16-bit PCM bytes → samples. Odd length is an error.
pub fn l16le_to_i16(bytes: &[u8]) -> Result<Vec<i16>> {
    l16_to_i16(bytes, i16::from_le_bytes)
}

/// Big-endian 16-bit PCM bytes (RTP `L16`, RFC 3551) → samples. Odd length is an error.
pub fn l16be_to_i16(bytes: &[u8]) -> Result<Vec<i16>> {
    l16_to_i16(bytes, i16::from_be_bytes)
}

fn l16_to_i16(bytes: &[u8], conv: fn([u8; 2]) -> i16) -> Result<Vec<i16>> {
    if !bytes.len().is_multiple_of(2) {
        return Err(AudioError::OddLength(bytes.len()));
    }
    check_len(bytes.len() / 2)?;
    Ok(bytes.chunks_exact(2).map(|c| conv([c[0], c[1]])).collect())
}

/// Samples → little-endian 16-bit PCM bytes.
pub fn l16le_from_i16(samples: &[i16]) -> Vec<u8> {
    samples.iter().flat_map(|s| s.to_le_bytes()).collect()
}

/// Samples → big-endian 16-bit PCM bytes.
pub fn l16be_from_i16(samples: &[i16]) -> Vec<u8> {
    samples.iter().flat_map(|s| s.to_be_bytes()).collect()
}

/// i16 → f32 in [-1, 1): `s / 32768`.
pub fn i16_to_f32(samples: &[i16]) -> Vec<f32> {
    samples.iter().map(|&s| sample_i16_to_f32(s)).collect()
}

/// f32 → i16 with rounding and saturation; NaN becomes 0.
pub fn f32_to_i16(samples: &[f32]) -> Vec<i16> {
    samples.iter().map(|&s| sample_f32_to_i16(s)).collect()
}

/// One sample i16 → f32.
#[inline]
pub fn sample_i16_to_f32(s: i16) -> f32 {
    f32::from(s) / 32768.0
}

/// One sample f32 → i16 (round to nearest, saturating; NaN → 0).
#[inline]
pub fn sample_f32_to_i16(s: f32) -> i16 {
    // `as` saturates and maps NaN to 0.
    (s * 32768.0).round().clamp(-32768.0, 32767.0) as i16
}

/// Number of samples in a frame of `ms` milliseconds at `rate` Hz; error unless exact.
pub fn frame_len(rate: u32, ms: u32) -> Result<usize> {
    let total = u64::from(rate) * u64::from(ms);
    if rate == 0 || ms == 0 || !total.is_multiple_of(1000) {
        return Err(AudioError::UnsupportedRate(rate));
    }
    usize::try_from(total / 1000).map_err(|_| AudioError::UnsupportedRate(rate))
}

/// Splits `samples` into frames of `ms` milliseconds at `rate`.
///
/// Returns the complete frames and the trailing remainder (shorter than a frame, possibly empty).
pub fn frames<T>(samples: &[T], rate: u32, ms: u32) -> Result<(Vec<&[T]>, &[T])> {
    let n = frame_len(rate, ms)?;
    let chunks = samples.chunks_exact(n);
    let rest = chunks.remainder();
    Ok((chunks.collect(), rest))
}

/// Splits into 20 ms frames, zero-padding the last partial frame. Empty input is an error.
pub fn frames_20ms_padded(samples: &[i16], rate: u32) -> Result<Vec<Vec<i16>>> {
    if samples.is_empty() {
        return Err(AudioError::Empty);
    }
    check_len(samples.len())?;
    let n = frame_len(rate, 20)?;
    Ok(samples
        .chunks(n)
        .map(|c| {
            let mut f = c.to_vec();
            f.resize(n, 0);
            f
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn l16_le_and_be() {
        let bytes = [0x01, 0x00, 0xFF, 0x7F, 0x00, 0x80, 0xFF, 0xFF];
        assert_eq!(l16le_to_i16(&bytes), Ok(vec![1, 32767, -32768, -1]));
        assert_eq!(l16be_to_i16(&bytes), Ok(vec![256, -129, 128, -1]));
        assert_eq!(l16le_from_i16(&[1, 32767, -32768, -1]), bytes.to_vec());
        assert_eq!(l16be_from_i16(&[256, -129, 128, -1]), bytes.to_vec());
        assert_eq!(l16le_to_i16(&[]), Ok(vec![]));
    }

    #[test]
    fn l16_odd_length_is_error() {
        assert_eq!(l16le_to_i16(&[1, 2, 3]), Err(AudioError::OddLength(3)));
        assert_eq!(l16be_to_i16(&[1]), Err(AudioError::OddLength(1)));
    }

    #[test]
    fn float_conversion() {
        assert_eq!(i16_to_f32(&[0, 16384, -32768]), vec![0.0, 0.5, -1.0]);
        assert_eq!(
            f32_to_i16(&[0.0, 0.5, -1.0, 1.0, 2.0, -3.0, f32::NAN, 0.000_01]),
            vec![0, 16384, -32768, 32767, 32767, -32768, 0, 0]
        );
        for s in [i16::MIN, -1234, 0, 1, 4321, i16::MAX] {
            assert_eq!(sample_f32_to_i16(sample_i16_to_f32(s)), s);
        }
    }

    #[test]
    fn framing() {
        assert_eq!(frame_len(8000, 20), Ok(160));
        assert_eq!(frame_len(16000, 20), Ok(320));
        assert_eq!(frame_len(22050, 20), Ok(441));
        assert_eq!(frame_len(24000, 20), Ok(480));
        assert_eq!(
            frame_len(11025, 20),
            Err(AudioError::UnsupportedRate(11025))
        );
        assert_eq!(frame_len(0, 20), Err(AudioError::UnsupportedRate(0)));
        let s: Vec<i16> = (0..350).collect();
        let (f, rest) = frames(&s, 8000, 20).unwrap();
        assert_eq!(f.len(), 2);
        assert_eq!(f[1][0], 160);
        assert_eq!(rest, &s[320..]);
        let padded = frames_20ms_padded(&s, 8000).unwrap();
        assert_eq!(padded.len(), 3);
        assert_eq!(padded[2][29], 349);
        assert_eq!(padded[2][30], 0);
        assert_eq!(frames_20ms_padded(&[], 8000), Err(AudioError::Empty));
    }
}

/// RMS (in i16 units) below which a 10 ms window counts as silence for [`leading_silence`]
/// (−46 dBFS: well under speech, above dither and codec noise).
pub const SILENCE_RMS: f64 = 160.0;

/// Samples of silence at the start of `samples` (at `rate` Hz), keeping `keep_ms` before the
/// first non-silent 10 ms window; all of it when nothing is audible.
pub fn leading_silence(samples: &[i16], rate: u32, keep_ms: u32) -> usize {
    let win = (rate as usize / 100).max(1);
    let loud = |w: &[i16]| {
        let sum: f64 = w.iter().map(|&s| f64::from(s) * f64::from(s)).sum();
        (sum / w.len() as f64).sqrt() > SILENCE_RMS
    };
    match samples.chunks(win).position(loud) {
        Some(i) => (i * win).saturating_sub(rate as usize * keep_ms as usize / 1000),
        None => samples.len(),
    }
}

#[cfg(test)]
mod silence_tests {
    use super::leading_silence;

    #[test]
    fn leading_silence_keeps_a_margin_before_the_first_sound() {
        let mut pcm = vec![0i16; 1_600]; // 100 ms at 16 kHz
        pcm.extend(std::iter::repeat_n(3_000i16, 800));
        assert_eq!(leading_silence(&pcm, 16_000, 10), 1_440);
        assert_eq!(leading_silence(&pcm, 16_000, 0), 1_600);
        assert_eq!(leading_silence(&pcm, 16_000, 500), 0);
        assert_eq!(leading_silence(&[0; 320], 16_000, 10), 320);
        assert_eq!(leading_silence(&[], 8_000, 10), 0);
        assert_eq!(leading_silence(&[9_000; 5], 16_000, 10), 0);
    }
}
