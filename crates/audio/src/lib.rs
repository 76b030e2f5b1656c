//! sb-audio: pure audio helpers for Switchboard's media path.
//!
//! * [`g711`] — G.711 μ-law / A-law codecs (ITU-T G.711 tables).
//! * [`pcm`] — L16 byte packing, i16 ↔ f32 conversion and 20 ms framing.
//! * [`resample`] — one-shot and streaming FFT resampling (rubato) between telephony/TTS rates.
//! * [`wav`] — WAV read (any PCM/float/G.711 layout → mono f32) and write (16-bit PCM or μ-law).
//!
//! Every function that takes externally supplied data returns [`AudioError`] instead of panicking.

pub mod error;
pub mod g711;
pub mod pcm;
pub mod resample;
pub mod wav;

pub use error::AudioError;
pub use g711::{alaw_decode, alaw_encode, ulaw_decode, ulaw_encode};
pub use pcm::{
    f32_to_i16, frame_len, frames, i16_to_f32, l16be_from_i16, l16be_to_i16, l16le_from_i16,
    l16le_to_i16, leading_silence,
};
pub use resample::{resample, Resampler};
pub use wav::{read_wav, write_ulaw_wav, write_wav_f32, write_wav_i16, Wav};

/// Result alias used throughout the crate.
pub type Result<T> = std::result::Result<T, AudioError>;

/// Largest number of samples any single call accepts (one hour at 48 kHz).
pub const MAX_SAMPLES: usize = 48_000 * 3600;

/// Sample rates accepted by the resamplers and frame helpers.
pub const SUPPORTED_RATES: [u32; 8] = [8000, 11025, 16000, 22050, 24000, 32000, 44100, 48000];

/// Checks that `rate` is one of [`SUPPORTED_RATES`].
pub fn check_rate(rate: u32) -> Result<()> {
    if SUPPORTED_RATES.contains(&rate) {
        Ok(())
    } else {
        Err(AudioError::UnsupportedRate(rate))
    }
}

pub(crate) fn check_len(len: usize) -> Result<()> {
    if len > MAX_SAMPLES {
        Err(AudioError::TooLarge {
            len,
            max: MAX_SAMPLES,
        })
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_and_rates() {
        assert_eq!(check_len(MAX_SAMPLES), Ok(()));
        assert_eq!(
            check_len(MAX_SAMPLES + 1),
            Err(AudioError::TooLarge {
                len: MAX_SAMPLES + 1,
                max: MAX_SAMPLES
            })
        );
        assert_eq!(check_rate(22050), Ok(()));
        assert_eq!(check_rate(7999), Err(AudioError::UnsupportedRate(7999)));
    }
}
