//! Piper (VITS) neural voice run with onnxruntime.

use std::sync::{Condvar, Mutex};

use ort::session::builder::GraphOptimizationLevel;
use ort::session::Session;
use ort::value::Tensor;

use super::phonemize::{sentences_from_clauses, Sentence, VoiceConfig};
use super::phrase::break_long_opening;
use super::unit_cache::UnitCache;
use super::{silence, AudioChunk, Normalizer, Tts};
use crate::error::SpeechError;
use crate::espeak::Espeak;
use crate::models::ModelPaths;

/// Tuning for [`PiperTts`].
#[derive(Debug, Clone)]
pub struct PiperOptions {
    /// Loaded copies of the model (concurrent syntheses); each costs ~the model's size in RAM.
    pub sessions: usize,
    /// onnxruntime intra-op threads per session.
    pub intra_threads: usize,
    /// Overrides the voice's `length_scale` (> 1 is slower speech).
    pub length_scale: Option<f32>,
    /// Overrides the voice's `noise_scale` and `noise_w`. Piper draws fresh noise on every
    /// synthesis, so the same text sounds slightly different each time; `Some((0.0, 0.0))`
    /// makes it repeatable (flatter, but the same audio every run — for tests).
    pub noise: Option<(f32, f32)>,
    /// Silence appended after every sentence but the last, as Piper does (ms).
    pub sentence_silence_ms: u32,
    /// Peak level of the normalised output (0..=1), like Piper's volume.
    pub volume: f32,
    /// Emit the first clause of the first sentence (up to its `,` `;` `:`) as its own chunk
    /// when it is long enough (≥ 12 phonemes), to cut time to first audio. The chunk's `text`
    /// is then that clause. A long opening clause without a comma gets one at its first phrase
    /// break (`phrase::break_long_opening`). Off by default: chunks are whole sentences, like Piper.
    pub split_first_clause: bool,
    /// With `split_first_clause`: one more session with this many intra-op threads (0 = none),
    /// used for a reply's first chunk when it is free, so a lone caller's first audio comes
    /// sooner. Its threads sleep rather than spin while waiting, so under load they only take
    /// CPU that is free.
    pub head_threads: usize,
    /// Keep the audio of short units (≤ `unit_cache::MAX_CACHED_IDS` phoneme ids) up to this
    /// many bytes, so a repeated opening clause of a dynamic reply ("Table booked, …") is not
    /// synthesised again. 0 = off.
    pub unit_cache_bytes: usize,
}

impl Default for PiperOptions {
    fn default() -> Self {
        PiperOptions {
            sessions: 1,
            intra_threads: 1,
            length_scale: None,
            noise: None,
            sentence_silence_ms: 200,
            volume: 1.0,
            split_first_clause: false,
            head_threads: 0,
            unit_cache_bytes: 0,
        }
    }
}

/// A Piper voice. The ONNX sessions stay loaded; inference never holds the espeak lock.
pub struct PiperTts {
    espeak: &'static Espeak,
    voice: VoiceConfig,
    opts: PiperOptions,
    pool: Mutex<Vec<Session>>,
    available: Condvar,
    /// The session for first chunks (`head_threads`).
    head: Option<Mutex<Session>>,
    /// Recently synthesised short units (`unit_cache_bytes`).
    units: Option<UnitCache>,
    normalizer: Option<Normalizer>,
}

impl PiperTts {
    /// Load the default voice from verified model paths.
    pub fn load(paths: &ModelPaths) -> Result<Self, SpeechError> {
        Self::load_with(paths, PiperOptions::default())
    }

    pub fn load_with(paths: &ModelPaths, opts: PiperOptions) -> Result<Self, SpeechError> {
        let json = std::fs::read_to_string(&paths.piper_config).map_err(|e| {
            SpeechError::Model(format!(
                "cannot read Piper voice config {}: {e}; run `switchboard models fetch`",
                paths.piper_config.display()
            ))
        })?;
        let voice = VoiceConfig::from_json(&json)?;
        let espeak = Espeak::load(&paths.espeak_lib, &paths.espeak_data)?;
        let env = super::ort_environment(&paths.onnxruntime_lib)?;
        let model = std::fs::read(&paths.piper_model).map_err(|e| {
            SpeechError::Model(format!(
                "cannot read Piper model {}: {e}; run `switchboard models fetch`",
                paths.piper_model.display()
            ))
        })?;
        let mut sessions = Vec::new();
        for _ in 0..opts.sessions.max(1) {
            sessions.push(session(
                &env,
                &model,
                opts.intra_threads.max(1),
                true,
                paths,
            )?);
        }
        let head = if opts.split_first_clause && opts.head_threads > 0 {
            Some(Mutex::new(session(
                &env,
                &model,
                opts.head_threads,
                false,
                paths,
            )?))
        } else {
            None
        };
        Ok(PiperTts {
            espeak,
            voice,
            pool: Mutex::new(sessions),
            available: Condvar::new(),
            head,
            units: (opts.unit_cache_bytes > 0).then(|| UnitCache::new(opts.unit_cache_bytes)),
            opts,
            normalizer: None,
        })
    }

    /// Run `f` on the text before phonemisation (hook for `normalize_for_speech`).
    pub fn with_normalizer(mut self, f: Normalizer) -> Self {
        self.normalizer = Some(f);
        self
    }

    pub fn voice(&self) -> &VoiceConfig {
        &self.voice
    }

    /// Piper-compatible phonemes of `text`, grouped by sentence.
    pub fn phonemize(&self, text: &str) -> Result<Vec<Sentence>, SpeechError> {
        Ok(self
            .plan(text, false)?
            .into_iter()
            .map(|(s, _)| s)
            .collect())
    }

    /// Synthesis units: sentences (true) or, with `split_first`, a leading clause (false).
    fn plan(&self, text: &str, split_first: bool) -> Result<Vec<(Sentence, bool)>, SpeechError> {
        // LEAD: wire `crate::normalize::normalize_for_speech(text, locale, tz)` in through
        // `with_normalizer` (it needs the agent's locale and time zone).
        let text = match &self.normalizer {
            Some(f) => f(text),
            None => text.to_string(),
        };
        if text.trim().is_empty() {
            return Ok(Vec::new());
        }
        let text = match split_first.then(|| break_long_opening(&text)).flatten() {
            Some(broken) => broken,
            None => text,
        };
        let clauses = self.espeak.clauses(&self.voice.espeak_voice, &text)?;
        let clusters = &self.voice.clusters;
        if split_first && clauses.len() > 1 && !clauses[0].end_of_sentence {
            let head = sentences_from_clauses(&clauses[..1], clusters);
            if head.first().is_some_and(|h| h.phonemes.len() >= 12) {
                let mut units: Vec<(Sentence, bool)> =
                    head.into_iter().map(|s| (s, false)).collect();
                let rest = sentences_from_clauses(&clauses[1..], clusters);
                units.extend(rest.into_iter().map(|s| (s, true)));
                return Ok(units);
            }
        }
        let sentences = sentences_from_clauses(&clauses, clusters);
        Ok(sentences.into_iter().map(|s| (s, true)).collect())
    }

    /// Model input ids for one sentence.
    pub fn phoneme_ids(&self, sentence: &Sentence) -> Vec<i64> {
        let (ids, missing) = self.voice.phoneme_ids(&sentence.phonemes);
        if missing > 0 {
            tracing::debug!(
                missing,
                "phonemes missing from the voice's id map were skipped"
            );
        }
        ids
    }

    /// Run the model on phoneme ids; returns peak-normalised 16-bit samples.
    pub fn infer(&self, ids: &[i64]) -> Result<Vec<i16>, SpeechError> {
        self.infer_at(ids, 1.0)
    }

    /// [`Self::infer`] at `rate` times the voice's speed.
    fn infer_at(&self, ids: &[i64], rate: f32) -> Result<Vec<i16>, SpeechError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut lease = self.checkout();
        let audio = self.run(lease.session(), ids, rate)?;
        drop(lease);
        Ok(to_i16(&audio, self.opts.volume))
    }

    /// [`Self::infer`] for a reply's first chunk: on the head session when it is free.
    fn infer_head(&self, ids: &[i64], rate: f32) -> Result<Vec<i16>, SpeechError> {
        let free = self.head.as_ref().and_then(|h| h.try_lock().ok());
        let Some(mut session) = free else {
            return self.infer_at(ids, rate);
        };
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let audio = self.run(&mut session, ids, rate)?;
        drop(session);
        Ok(to_i16(&audio, self.opts.volume))
    }

    /// One unit's audio: from the unit cache, or the model (`first`: on the head session).
    /// Only units at the voice's own rate are cached.
    fn synthesize_unit(
        &self,
        ids: &[i64],
        first: bool,
        rate: f32,
    ) -> Result<Vec<i16>, SpeechError> {
        let units = self.units.as_ref().filter(|_| rate == 1.0);
        if let Some(hit) = units.and_then(|c| c.get(ids)) {
            return Ok(hit.to_vec());
        }
        let samples = if first {
            self.infer_head(ids, rate)?
        } else {
            self.infer_at(ids, rate)?
        };
        if let Some(c) = units {
            c.insert(ids, &samples);
        }
        Ok(samples)
    }

    /// Number of units in the unit cache (0 when it is off).
    pub fn cached_units(&self) -> usize {
        self.units.as_ref().map_or(0, UnitCache::len)
    }

    /// Runs the model; `rate` divides the length scale (2.0 speaks twice as fast).
    fn run(&self, session: &mut Session, ids: &[i64], rate: f32) -> Result<Vec<f32>, SpeechError> {
        let e = |e: ort::Error| SpeechError::Other(format!("Piper inference failed: {e}"));
        let n = ids.len();
        let input = Tensor::from_array(([1usize, n], ids.to_vec())).map_err(e)?;
        let lengths = Tensor::from_array(([1usize], vec![n as i64])).map_err(e)?;
        let rate = if rate.is_finite() && rate > 0.0 {
            rate
        } else {
            1.0
        };
        let length_scale = self.opts.length_scale.unwrap_or(self.voice.length_scale) / rate;
        let (noise_scale, noise_w) = self
            .opts
            .noise
            .unwrap_or((self.voice.noise_scale, self.voice.noise_w));
        let scales =
            Tensor::from_array(([3usize], vec![noise_scale, length_scale, noise_w])).map_err(e)?;
        let outputs = if self.voice.num_speakers > 1 {
            let sid = Tensor::from_array(([1usize], vec![0i64])).map_err(e)?;
            session
                .run(ort::inputs![
                    "input" => input, "input_lengths" => lengths, "scales" => scales, "sid" => sid
                ])
                .map_err(e)?
        } else {
            session
                .run(ort::inputs!["input" => input, "input_lengths" => lengths, "scales" => scales])
                .map_err(e)?
        };
        let (_, audio) = outputs[0].try_extract_tensor::<f32>().map_err(e)?;
        Ok(audio.to_vec())
    }

    /// Take a session from the pool, waiting if all are busy. The lock is held only to pop.
    fn checkout(&self) -> Lease<'_> {
        let mut pool = self.pool.lock().unwrap_or_else(|p| p.into_inner());
        loop {
            if let Some(s) = pool.pop() {
                return Lease {
                    owner: self,
                    session: Some(s),
                };
            }
            pool = self.available.wait(pool).unwrap_or_else(|p| p.into_inner());
        }
    }
}

/// One ONNX session of the voice; `spin`: whether idle intra-op threads spin (onnxruntime's
/// default, lowest latency) or sleep.
fn session(
    env: &ort::environment::Environment,
    model: &[u8],
    threads: usize,
    spin: bool,
    paths: &ModelPaths,
) -> Result<Session, SpeechError> {
    let ort_err = |e: ort::Error| SpeechError::Model(format!("onnxruntime: {e}"));
    Session::builder(env)
        .map_err(ort_err)?
        .with_optimization_level(GraphOptimizationLevel::Level3)
        .map_err(|e| ort_err(e.into()))?
        .with_intra_threads(threads)
        .map_err(|e| ort_err(e.into()))?
        .with_inter_threads(1)
        .map_err(|e| ort_err(e.into()))?
        .with_intra_op_spinning(spin)
        .map_err(|e| ort_err(e.into()))?
        .commit_from_memory(model)
        .map_err(|e| {
            SpeechError::Model(format!(
                "cannot load Piper model {}: {e}; delete it and run `switchboard models fetch`",
                paths.piper_model.display()
            ))
        })
}

/// A borrowed session, returned to the pool on drop (also on unwind).
struct Lease<'a> {
    owner: &'a PiperTts,
    session: Option<Session>,
}

impl Lease<'_> {
    fn session(&mut self) -> &mut Session {
        self.session
            .as_mut()
            .expect("lease holds a session until drop")
    }
}

impl Drop for Lease<'_> {
    fn drop(&mut self) {
        if let Some(s) = self.session.take() {
            self.owner
                .pool
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .push(s);
            self.owner.available.notify_one();
        }
    }
}

impl Tts for PiperTts {
    fn synthesize(
        &self,
        text: &str,
        sink: &mut dyn FnMut(AudioChunk) -> bool,
    ) -> Result<(), SpeechError> {
        self.synthesize_at(text, 1.0, sink)
    }

    /// Piper honours the rate through its length scale.
    fn synthesize_at(
        &self,
        text: &str,
        rate: f32,
        sink: &mut dyn FnMut(AudioChunk) -> bool,
    ) -> Result<(), SpeechError> {
        let units = self.plan(text, self.opts.split_first_clause)?;
        let last = units.len().saturating_sub(1);
        for (i, (sentence, ends_sentence)) in units.into_iter().enumerate() {
            let ids = self.phoneme_ids(&sentence);
            let mut samples = self.synthesize_unit(&ids, i == 0, rate)?;
            if i < last && ends_sentence {
                samples.extend(silence(
                    self.voice.sample_rate,
                    self.opts.sentence_silence_ms,
                ));
            }
            let chunk = AudioChunk {
                samples,
                sample_rate: self.voice.sample_rate,
                text: sentence.text,
            };
            if !sink(chunk) {
                break;
            }
        }
        Ok(())
    }

    fn sample_rate(&self) -> u32 {
        self.voice.sample_rate
    }
}

/// Peak-normalise float audio to `volume` of full scale, as Piper does.
fn to_i16(audio: &[f32], volume: f32) -> Vec<i16> {
    let peak = audio
        .iter()
        .filter(|x| x.is_finite())
        .fold(0.0f32, |m, x| m.max(x.abs()));
    let scale = 32767.0 * volume.clamp(0.0, 1.0) / peak.max(0.01);
    audio
        .iter()
        .map(|x| {
            let v = if x.is_finite() { x * scale } else { 0.0 };
            v.clamp(-32767.0, 32767.0) as i16
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::to_i16;

    #[test]
    fn normalises_peak_and_handles_nan() {
        let s = to_i16(&[0.0, 0.5, -0.25, f32::NAN], 1.0);
        assert_eq!(s, [0, 32767, -16383, 0]);
        // Near-silence is not blown up to full scale.
        let q = to_i16(&[0.001], 1.0);
        assert_eq!(q, [3276]);
    }
}
