//! Audio clips of `telephonyPlayAudio` / SSML `<audio src>`: fetched once over http(s) (bounded in
//! size and time), decoded from WAV (PCM of any rate, μ-law, A-law) to the call's 16 kHz, and kept
//! by URI. A clip that cannot be fetched or decoded is an error for the caller to log and skip;
//! failures are not kept, so a later reply tries again.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::OnceCell;

/// Largest clip file fetched.
pub const MAX_CLIP_BYTES: usize = 5 * 1024 * 1024;
/// Longest wait for a clip (connect + whole body).
pub const CLIP_TIMEOUT: Duration = Duration::from_secs(5);
/// Most clips kept; beyond it new clips are played but not kept.
const MAX_CACHED: usize = 64;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClipError {
    #[error("unsupported audio URI {0:?} (only http and https are fetched)")]
    Scheme(String),
    #[error("fetching {uri}: {message}")]
    Fetch { uri: String, message: String },
    #[error("{uri}: larger than {MAX_CLIP_BYTES} bytes")]
    TooLarge { uri: String },
    #[error("{uri}: not a playable WAV file: {message}")]
    Decode { uri: String, message: String },
}

type Slot = Arc<OnceCell<Arc<[i16]>>>;

/// The clip cache of the server.
pub struct Clips {
    client: reqwest::Client,
    slots: Mutex<HashMap<String, Slot>>,
}

impl Default for Clips {
    fn default() -> Self {
        Self::new(CLIP_TIMEOUT)
    }
}

impl Clips {
    pub fn new(timeout: Duration) -> Self {
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout)
            .build()
            .unwrap_or_default();
        Clips {
            client,
            slots: Mutex::new(HashMap::new()),
        }
    }

    /// The clip at `uri` as 16 kHz mono samples (fetched at most once while it is kept;
    /// concurrent requests for one URI wait for the same fetch).
    pub async fn get(&self, uri: &str) -> Result<Arc<[i16]>, ClipError> {
        let slot = {
            let mut slots = self.slots.lock().unwrap_or_else(|p| p.into_inner());
            match slots.get(uri) {
                Some(s) => Some(s.clone()),
                None if slots.len() < MAX_CACHED => {
                    let s = Slot::default();
                    slots.insert(uri.to_string(), s.clone());
                    Some(s)
                }
                None => None,
            }
        };
        match slot {
            Some(s) => s.get_or_try_init(|| self.fetch(uri)).await.cloned(),
            None => self.fetch(uri).await,
        }
    }

    async fn fetch(&self, uri: &str) -> Result<Arc<[i16]>, ClipError> {
        let lower = uri.to_ascii_lowercase();
        if !(lower.starts_with("http://") || lower.starts_with("https://")) {
            return Err(ClipError::Scheme(uri.to_string()));
        }
        let fetch_err = |e: reqwest::Error| ClipError::Fetch {
            uri: uri.to_string(),
            message: e.without_url().to_string(),
        };
        let mut resp = self
            .client
            .get(uri)
            .send()
            .await
            .and_then(|r| r.error_for_status())
            .map_err(fetch_err)?;
        let too_large = || ClipError::TooLarge {
            uri: uri.to_string(),
        };
        if resp
            .content_length()
            .is_some_and(|n| n > MAX_CLIP_BYTES as u64)
        {
            return Err(too_large());
        }
        let mut body = Vec::new();
        while let Some(chunk) = resp.chunk().await.map_err(fetch_err)? {
            if body.len() + chunk.len() > MAX_CLIP_BYTES {
                return Err(too_large());
            }
            body.extend_from_slice(&chunk);
        }
        decode(&body).map_err(|message| ClipError::Decode {
            uri: uri.to_string(),
            message,
        })
    }
}

/// A WAV image as 16 kHz mono samples.
pub fn decode(bytes: &[u8]) -> Result<Arc<[i16]>, String> {
    let wav = sb_audio::read_wav(bytes).map_err(|e| e.to_string())?;
    let samples = if wav.rate == 16_000 {
        wav.samples
    } else {
        sb_audio::resample(&wav.samples, wav.rate, 16_000).map_err(|e| e.to_string())?
    };
    Ok(Arc::from(sb_audio::f32_to_i16(&samples)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tone(rate: u32, ms: u32) -> Vec<i16> {
        (0..rate * ms / 1000)
            .map(|i| {
                let t = i as f32 / rate as f32;
                (8000.0 * (2.0 * std::f32::consts::PI * 440.0 * t).sin()) as i16
            })
            .collect()
    }

    #[test]
    fn wav_clips_of_any_rate_and_g711_decode_to_16k() {
        let pcm8 = sb_audio::write_wav_i16(&tone(8000, 500), 8000).unwrap();
        assert_eq!(decode(&pcm8).unwrap().len(), 8000);
        let pcm16 = sb_audio::write_wav_i16(&tone(16_000, 250), 16_000).unwrap();
        assert_eq!(&*decode(&pcm16).unwrap(), &tone(16_000, 250)[..]);
        let ulaw = sb_audio::write_ulaw_wav(&tone(8000, 500), 8000).unwrap();
        assert_eq!(decode(&ulaw).unwrap().len(), 8000);
        assert!(decode(b"RIFF....WAVEjunk").is_err());
        assert!(decode(b"").is_err());
    }

    #[tokio::test]
    async fn other_schemes_are_refused() {
        let clips = Clips::default();
        let e = clips.get("gs://bucket/Piano.wav").await.unwrap_err();
        assert!(matches!(e, ClipError::Scheme(_)), "{e}");
    }
}
