//! [`FliteTts`]: CMU Flite's English voices (Debian package `flite`), run as a subprocess.
//!
//! These are caller voices for the simulator and the ASR test set: speakers that are not the
//! bot's (kal16 and rms: US male, awb: Scottish male, slt: US female). Not a bot voice: a
//! process per utterance is fine for preparing test audio, not for the call path.

use std::path::PathBuf;
use std::process::Command;
use std::sync::atomic::{AtomicU64, Ordering};

use super::{AudioChunk, Tts};
use crate::error::SpeechError;

/// Flite's voices that speak English well enough for a caller.
pub const FLITE_VOICES: [&str; 4] = ["slt", "rms", "awb", "kal16"];
/// Output rate (kal16, awb, rms and slt are all 16 kHz; others are resampled).
const RATE: u32 = 16_000;
/// Longest text accepted (one caller turn).
const MAX_TEXT: usize = 2_000;

static SEQ: AtomicU64 = AtomicU64::new(0);

/// One Flite voice.
pub struct FliteTts {
    binary: PathBuf,
    voice: String,
}

fn missing(what: &str) -> SpeechError {
    SpeechError::Model(format!(
        "{what}: install the Debian package `flite` (scripts/install-deps.sh does), or set \
         SWITCHBOARD_FLITE to its binary"
    ))
}

impl FliteTts {
    /// The voice `voice` (one of `flite -lv`) of the `flite` binary on `PATH` (or
    /// `$SWITCHBOARD_FLITE`).
    pub fn new(voice: &str) -> Result<Self, SpeechError> {
        let binary = std::env::var_os("SWITCHBOARD_FLITE")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from("flite"));
        let out = Command::new(&binary)
            .arg("-lv")
            .output()
            .map_err(|_| missing("flite is not installed"))?;
        let list = String::from_utf8_lossy(&out.stdout);
        let known = list
            .split(':')
            .nth(1)
            .unwrap_or("")
            .split_whitespace()
            .any(|v| v == voice);
        if !known {
            return Err(missing(&format!(
                "flite has no voice {voice:?} ({})",
                list.trim()
            )));
        }
        Ok(Self {
            binary,
            voice: voice.to_string(),
        })
    }

    pub fn voice(&self) -> &str {
        &self.voice
    }

    fn render(&self, text: &str) -> Result<Vec<i16>, SpeechError> {
        let n = SEQ.fetch_add(1, Ordering::Relaxed);
        let path = std::env::temp_dir().join(format!("sb-flite-{}-{n}.wav", std::process::id()));
        let status = Command::new(&self.binary)
            .args(["-voice", &self.voice, "-t", text, "-o"])
            .arg(&path)
            .status();
        let bytes = std::fs::read(&path);
        let _ = std::fs::remove_file(&path);
        match status {
            Ok(s) if s.success() => {}
            Ok(s) => return Err(SpeechError::Other(format!("flite failed: {s}"))),
            Err(e) => return Err(SpeechError::Other(format!("flite did not run: {e}"))),
        }
        let wav = sb_audio::wav::read_wav(&bytes?)
            .map_err(|e| SpeechError::BadAudio(format!("flite output: {e}")))?;
        let pcm = if wav.rate == RATE {
            wav.samples
        } else {
            sb_audio::resample(&wav.samples, wav.rate, RATE)
                .map_err(|e| SpeechError::BadAudio(e.to_string()))?
        };
        Ok(sb_audio::f32_to_i16(&pcm))
    }
}

impl Tts for FliteTts {
    /// The whole text as one chunk.
    fn synthesize(
        &self,
        text: &str,
        sink: &mut dyn FnMut(AudioChunk) -> bool,
    ) -> Result<(), SpeechError> {
        let text = text.trim();
        if text.is_empty() {
            return Ok(());
        }
        if text.len() > MAX_TEXT || text.starts_with('-') || text.contains('\0') {
            return Err(SpeechError::Other(format!(
                "flite text must be at most {MAX_TEXT} bytes, not start with '-', without NUL"
            )));
        }
        let samples = self.render(text)?;
        sink(AudioChunk {
            samples,
            sample_rate: RATE,
            text: text.to_string(),
        });
        Ok(())
    }

    fn sample_rate(&self) -> u32 {
        RATE
    }
}
