//! The `earshot` neural VAD. The [`Vad`] contract, [`VadStream`] and the [`Endpointer`] live in
//! `sb-contracts` (re-exported here) so that the call core builds without the ML stack.

pub use sb_contracts::vad::*;

use crate::SpeechError;

/// The `earshot` VAD: 16 ms frames (256 samples at 16 kHz), ~8 KiB of state.
pub struct EarshotVad {
    detector: Box<earshot::Detector>,
}

impl EarshotVad {
    /// Samples per frame (16 ms at 16 kHz).
    pub const FRAME_LEN: usize = 256;

    pub fn new() -> Self {
        Self {
            detector: earshot::Detector::default_boxed(),
        }
    }
}

impl Default for EarshotVad {
    fn default() -> Self {
        Self::new()
    }
}

impl Vad for EarshotVad {
    fn speech_probability(&mut self, frame16k: &[i16]) -> Result<f32, SpeechError> {
        if frame16k.len() != Self::FRAME_LEN {
            return Err(SpeechError::BadAudio(format!(
                "VAD frame has {} samples, expected {}",
                frame16k.len(),
                Self::FRAME_LEN
            )));
        }
        let p = self.detector.predict_i16(frame16k);
        if p.is_finite() {
            Ok(p.clamp(0.0, 1.0))
        } else {
            Err(SpeechError::Model(format!("VAD returned {p}")))
        }
    }

    fn frame_len(&self) -> usize {
        Self::FRAME_LEN
    }

    fn reset(&mut self) {
        self.detector.reset();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn earshot_rejects_wrong_frame_and_silence_is_not_speech() {
        let mut v = EarshotVad::new();
        assert!(matches!(
            v.speech_probability(&[0; 320]),
            Err(SpeechError::BadAudio(_))
        ));
        let mut s = VadStream::new(v);
        assert_eq!(s.frame_ms(), 16);
        let mut got = Vec::new();
        s.push(&[0; 700], |t, p| got.push((t, p))).unwrap();
        s.push(&[0; 100], |t, p| got.push((t, p))).unwrap();
        assert_eq!(got.iter().map(|g| g.0).collect::<Vec<_>>(), vec![0, 16, 32]);
        // Digital silence scores about 0.25: well under the 0.5 speech threshold.
        assert!(got.iter().all(|g| g.1 < 0.3), "{got:?}");
    }
}
