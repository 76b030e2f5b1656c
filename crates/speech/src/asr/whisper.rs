//! [`WhisperAsr`]: whisper.cpp (via `whisper-rs`) behind the [`Asr`] trait.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use whisper_rs::{
    FullParams, SamplingStrategy, WhisperContext, WhisperContextParameters, WhisperState,
};

use super::ggml::WeightType;
use super::repeat::kept_word_indices;
use super::years::repair_split_years;
use super::{cache, validate_pcm, Asr, AsrOptions, CancelFlag, Transcript, WordTiming};
use crate::error::SpeechError;
use std::sync::atomic::Ordering;

use super::echo_stop::{stop_echo, EchoStop};

const SAMPLE_RATE: usize = 16_000;
/// whisper.cpp needs ≥ 100 ms; short words are padded with silence to this.
const MIN_SAMPLES: usize = SAMPLE_RATE;
/// Encoder windows in seconds: the smallest one that holds the audio is used
/// (whisper.cpp `audio_ctx` = 50 frames per second). Fixed windows, rather
/// than "audio + margin", keep the decoder out of repetition loops.
const WINDOWS_S: [usize; 3] = [6, 10, 15];
/// Largest beam whisper.cpp supports (`WHISPER_MAX_DECODERS`).
const MAX_BEAM: usize = 8;
/// Audio whose loudest 20 ms frame is below this RMS (≈ −50 dBFS) is treated
/// as silence without running the model (Whisper hallucinates on silence).
const SILENCE_RMS: f32 = 0.003_16;
/// Longest accepted `initial_prompt`, in bytes.
const MAX_PROMPT_BYTES: usize = 2_000;
/// Prompt tokens kept (the most recent); whisper.cpp allows n_text_ctx / 2.
const MAX_PROMPT_TOKENS: usize = 200;
/// Idle decoder states kept for reuse.
const MAX_POOLED_STATES: usize = 4;
/// The `lead_in_ms` most useful for recorded audio: "Table booked for Tanya…" from Piper, whose
/// sound starts 180 ms in, came back as "For Tanya…" (with the agent prompt) or as nothing
/// (without); from ~280 ms of silence on it is heard whole. Applied to every utterance of the
/// telephone test set (79, greedy, no prompt) it takes WER from 22.4 to 21.0 %, but it moves
/// which utterances tiny.en mishears (a Flite "tomorrow" became "to my rule"), so the call path,
/// whose utterances have the endpointer's 300 ms pre-roll, does not use it.
pub const RECORDED_LEAD_IN_MS: u32 = 400;
/// A frame reaching this share of the loudest frame's level is sound.
const ONSET_SHARE: f32 = 0.1;

/// Whisper model loaded once and shared; `Send + Sync`.
pub struct WhisperAsr {
    ctx: WhisperContext,
    threads: usize,
    states: Mutex<Vec<WhisperState>>,
    ggml_path: PathBuf,
    /// Encoder window (s) for audio shorter than [`SHORT_AUDIO_SAMPLES`]; > 15 = 30 s.
    short_window_s: usize,
    /// Silence (samples) put before audio shorter than [`SHORT_AUDIO_SAMPLES`].
    short_lead: usize,
    /// Audio is padded with trailing silence to at least this many samples.
    min_samples: usize,
    /// The decoder's echo detector (boxed: whisper.cpp holds its address during a run).
    echo: Box<EchoStop>,
}

/// Audio shorter than this (2 s) uses [`WhisperAsr::with_short_window`]'s window.
pub const SHORT_AUDIO_SAMPLES: usize = 2 * SAMPLE_RATE;
/// Default encoder window for short audio (see [`WhisperAsr::with_short_window`]).
pub const DEFAULT_SHORT_WINDOW_S: usize = 6;

fn model_err(e: impl std::fmt::Display) -> SpeechError {
    SpeechError::Model(e.to_string())
}

impl WhisperAsr {
    /// Loads the CTranslate2 Whisper model in `model_dir` (`model.bin`,
    /// `vocabulary.txt`), converting it into `cache_dir` on first use.
    /// `threads` (≥ 1) is the compute thread count of each call.
    pub fn load(model_dir: &Path, cache_dir: &Path, threads: usize) -> Result<Self, SpeechError> {
        Self::load_with(model_dir, cache_dir, threads, WeightType::default())
    }

    /// [`WhisperAsr::load`] with an explicit storage type for the large
    /// matrices (see [`WeightType`]).
    pub fn load_with(
        model_dir: &Path,
        cache_dir: &Path,
        threads: usize,
        wtype: WeightType,
    ) -> Result<Self, SpeechError> {
        if threads == 0 {
            return Err(SpeechError::Other("threads must be at least 1".into()));
        }
        whisper_rs::install_logging_hooks();
        let ggml_path = cache::ensure_ggml(model_dir, cache_dir, wtype)?;
        let mut params = WhisperContextParameters::default();
        params.use_gpu(false);
        let ctx = WhisperContext::new_with_params(&ggml_path, params)
            .map_err(|e| model_err(format!("whisper.cpp load {}: {e}", ggml_path.display())))?;
        let first = ctx.create_state().map_err(model_err)?;
        let n_vocab = usize::try_from(ctx.n_vocab()).unwrap_or(0);
        let echo = Box::new(EchoStop::new(ctx.token_eot(), n_vocab, |id| {
            ctx.token_to_bytes(id)
                .ok()
                .map(|b| String::from_utf8_lossy(b).into_owned())
        }));
        Ok(Self {
            ctx,
            threads,
            states: Mutex::new(vec![first]),
            ggml_path,
            echo,
            short_window_s: DEFAULT_SHORT_WINDOW_S,
            short_lead: 0,
            min_samples: MIN_SAMPLES,
        })
    }

    /// Padding of short audio: `lead_ms` of silence before audio under 2 s, and trailing
    /// silence up to `min_ms` in total (at least 1 s, which whisper.cpp needs).
    pub fn with_short_padding(mut self, lead_ms: u32, min_ms: u32) -> Self {
        self.short_lead = lead_ms.min(1_000) as usize * SAMPLE_RATE / 1000;
        self.min_samples = (min_ms.min(6_000) as usize * SAMPLE_RATE / 1000).max(MIN_SAMPLES);
        self
    }

    /// Encoder window in seconds for audio under 2 s (one of 6, 10, 15, or 30; other values
    /// round up to the next of these). Whisper was trained on 30 s windows and reads very
    /// short words less reliably in a small one; a larger window costs encoder time.
    pub fn with_short_window(mut self, seconds: usize) -> Self {
        self.short_window_s = seconds;
        self
    }

    /// The converted whisper.cpp model file in the cache.
    pub fn ggml_path(&self) -> &Path {
        &self.ggml_path
    }

    fn take_state(&self) -> Result<WhisperState, SpeechError> {
        let pooled = self.states.lock().ok().and_then(|mut s| s.pop());
        match pooled {
            Some(s) => Ok(s),
            None => self.ctx.create_state().map_err(model_err),
        }
    }

    fn put_state(&self, state: WhisperState) {
        if let Ok(mut s) = self.states.lock() {
            if s.len() < MAX_POOLED_STATES {
                s.push(state);
            }
        }
    }

    /// Tokenizes the caller's prompt. (`FullParams::set_initial_prompt` and
    /// `set_language` leak a `CString` per call and panic on NUL, so the
    /// prompt goes in as tokens and the language stays at its "en" default.)
    fn prompt_tokens(&self, opts: &AsrOptions) -> Result<Vec<i32>, SpeechError> {
        let Some(prompt) = opts.initial_prompt.as_deref().map(str::trim) else {
            return Ok(Vec::new());
        };
        if prompt.is_empty() {
            return Ok(Vec::new());
        }
        if prompt.len() > MAX_PROMPT_BYTES || prompt.contains('\0') {
            return Err(SpeechError::Other(format!(
                "initial_prompt must be at most {MAX_PROMPT_BYTES} bytes without NUL"
            )));
        }
        // Every token covers at least one byte, so this buffer always fits.
        let mut tokens = self
            .ctx
            .tokenize(prompt, prompt.len() + 8)
            .map_err(|e| SpeechError::Other(format!("initial_prompt: {e}")))?;
        let excess = tokens.len().saturating_sub(MAX_PROMPT_TOKENS);
        tokens.drain(..excess);
        Ok(tokens)
    }

    fn params<'a>(
        &self,
        opts: &AsrOptions,
        prompt: &'a [i32],
        n_samples: usize,
    ) -> FullParams<'a, 'a> {
        let beam = opts.beam_size.clamp(1, MAX_BEAM);
        let strategy = if beam == 1 {
            SamplingStrategy::Greedy { best_of: 1 }
        } else {
            SamplingStrategy::BeamSearch {
                beam_size: beam as i32,
                patience: -1.0,
            }
        };
        let mut p = FullParams::new(strategy);
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let threads = if opts.threads == 0 {
            self.threads
        } else {
            opts.threads.min(cores)
        };
        p.set_n_threads(threads as i32);
        p.set_translate(false);
        p.set_no_context(true);
        // Timestamp mode (one segment): predicting where speech ends keeps the
        // decoder from looping over the padded window, which the
        // `<|notimestamps|>` mode did on short utterances, and yields
        // token times for word timings.
        p.set_no_timestamps(false);
        p.set_single_segment(true);
        p.set_token_timestamps(true);
        p.set_print_special(false);
        p.set_print_progress(false);
        p.set_print_realtime(false);
        p.set_print_timestamps(false);
        p.set_suppress_blank(true);
        p.set_suppress_nst(true);
        p.set_temperature(0.0);
        p.set_temperature_inc(0.0);
        p.set_max_tokens(token_cap(opts.max_tokens, n_samples) as i32);
        let ctx = if n_samples < SHORT_AUDIO_SAMPLES {
            audio_ctx(self.short_window_s * SAMPLE_RATE)
        } else {
            audio_ctx(n_samples)
        };
        p.set_audio_ctx(ctx as i32);
        if !prompt.is_empty() {
            p.set_tokens(prompt);
        }
        // SAFETY: `stop_echo` reads the `EchoStop` owned (boxed) by `self`, which outlives the
        // `full` call these params are made for; whisper.cpp passes valid tokens and logits.
        unsafe {
            p.set_filter_logits_callback(Some(stop_echo));
            p.set_filter_logits_callback_user_data(
                &*self.echo as *const EchoStop as *mut std::ffi::c_void,
            );
        }
        if let Some(flag) = &opts.cancel {
            // SAFETY: whisper.cpp calls `cancelled` with this pointer only during the `full`
            // call these params are made for, and the caller's `opts` (which holds the flag's
            // `Arc`) outlives that call. The callback only reads an atomic.
            unsafe {
                p.set_abort_callback(Some(cancelled));
                p.set_abort_callback_user_data(flag.as_ptr() as *mut std::ffi::c_void);
            }
        }
        p
    }

    /// Decodes `pcm` (possibly padded); `n_real_samples` is the caller's length.
    fn run(
        &self,
        state: &mut WhisperState,
        pcm: &[f32],
        n_real_samples: usize,
        lead_samples: usize,
        opts: &AsrOptions,
        prompt: &[i32],
    ) -> Result<Transcript, SpeechError> {
        state
            .full(self.params(opts, prompt, pcm.len()), pcm)
            .map_err(|e| SpeechError::Other(format!("whisper.cpp: {e}")))?;
        let eot = self.ctx.token_eot();
        let audio_ms = (n_real_samples * 1000 / SAMPLE_RATE) as u32;
        let lead_cs = (lead_samples * 100 / SAMPLE_RATE) as i64;
        let mut words: Vec<WordBuf> = Vec::new();
        let (mut logprob_sum, mut n_tokens) = (0f64, 0usize);
        for segment in state.as_iter() {
            for i in 0..segment.n_tokens() {
                let Some(token) = segment.get_token(i) else {
                    continue;
                };
                if token.token_id() >= eot {
                    continue; // special / timestamp tokens
                }
                let data = token.token_data();
                logprob_sum += data.plog as f64;
                n_tokens += 1;
                let bytes = token.to_bytes().unwrap_or_default();
                let (t0, t1) = (
                    centis_to_ms(data.t0 - lead_cs, audio_ms),
                    centis_to_ms(data.t1 - lead_cs, audio_ms),
                );
                match words.last_mut() {
                    Some(w) if !bytes.starts_with(b" ") => {
                        w.bytes.extend_from_slice(bytes);
                        w.end_ms = w.end_ms.max(t1);
                    }
                    _ => words.push(WordBuf {
                        bytes: bytes.to_vec(),
                        start_ms: t0,
                        end_ms: t1.max(t0),
                    }),
                }
            }
        }
        let words: Vec<WordTiming> = words
            .into_iter()
            .map(|w| WordTiming {
                word: String::from_utf8_lossy(&w.bytes).trim().to_string(),
                start_ms: w.start_ms,
                end_ms: w.end_ms,
            })
            .filter(|w| !w.word.is_empty())
            .collect();
        let strs: Vec<&str> = words.iter().map(|w| w.word.as_str()).collect();
        let keep = kept_word_indices(&strs);
        let mut words: Vec<WordTiming> = keep.into_iter().map(|i| words[i].clone()).collect();
        repair_split_years(&mut words);
        // A stray mark before the first word (", I'd like…" after a cut-off start) is noise.
        let lead = words
            .iter()
            .take_while(|w| !w.word.chars().any(char::is_alphanumeric))
            .count();
        words.drain(..lead);
        let text = words
            .iter()
            .map(|w| w.word.as_str())
            .collect::<Vec<_>>()
            .join(" ");
        if !text.chars().any(char::is_alphanumeric) {
            return Ok(Transcript {
                text: String::new(),
                confidence: 0.0,
                words: Vec::new(),
            });
        }
        let confidence = ((logprob_sum / n_tokens.max(1) as f64).exp() as f32).clamp(0.0, 1.0);
        Ok(Transcript {
            text,
            confidence,
            words,
        })
    }
}

struct WordBuf {
    bytes: Vec<u8>,
    start_ms: u32,
    end_ms: u32,
}

/// whisper.cpp's abort hook: true once the recognition's [`CancelFlag`] is set.
unsafe extern "C" fn cancelled(data: *mut std::ffi::c_void) -> bool {
    // SAFETY: `data` is the `AtomicBool` of a live `CancelFlag` (see `params`).
    unsafe { (*(data as *const std::sync::atomic::AtomicBool)).load(Ordering::Relaxed) }
}

/// whisper.cpp token times are in 10 ms units; clamp into the real audio.
fn centis_to_ms(t: i64, audio_ms: u32) -> u32 {
    (t.max(0).saturating_mul(10)).min(audio_ms as i64) as u32
}

/// Encoder context (frames of 20 ms) for `n_samples` of audio; 0 = full 30 s.
fn audio_ctx(n_samples: usize) -> usize {
    WINDOWS_S
        .iter()
        .find(|&&w| n_samples <= w * SAMPLE_RATE)
        .map(|&w| w * 50)
        .unwrap_or(0)
}

/// Token budget: the caller's cap, but never more than ~8 tokens per second
/// of audio plus a margin, so a looping decoder stops early.
fn token_cap(requested: usize, n_samples: usize) -> usize {
    let by_audio = 16 + 8 * n_samples.div_ceil(SAMPLE_RATE);
    let requested = if requested == 0 {
        usize::MAX
    } else {
        requested
    };
    requested.min(by_audio).min(220)
}

/// Silence to put in front of `pcm` so that its sound starts `min_onset` samples in.
fn onset_lead(pcm: &[f32], peak_rms: f32, min_onset: usize) -> usize {
    let frame = SAMPLE_RATE / 50;
    let onset = pcm
        .chunks(frame)
        .position(|f| frame_rms(f) >= peak_rms * ONSET_SHARE)
        .map_or(pcm.len(), |i| i * frame);
    min_onset.saturating_sub(onset)
}

fn frame_rms(f: &[f32]) -> f32 {
    (f.iter().map(|x| x * x).sum::<f32>() / f.len().max(1) as f32).sqrt()
}

/// RMS of the loudest 20 ms frame.
fn peak_frame_rms(pcm: &[f32]) -> f32 {
    pcm.chunks(SAMPLE_RATE / 50)
        .map(frame_rms)
        .fold(0.0, f32::max)
}

/// Sound (20 ms frames at least [`ONSET_SHARE`] of the loudest) in ms.
fn voiced_ms(pcm: &[f32], peak_rms: f32) -> usize {
    let frame = SAMPLE_RATE / 50;
    pcm.chunks(frame)
        .filter(|f| frame_rms(f) >= peak_rms * ONSET_SHARE)
        .count()
        * 20
}

/// Voiced sound shorter than this is never taken for a cut-off transcript.
const CUT_MIN_VOICED_MS: usize = 2_000;
/// Fewer words per second of voiced sound than this (×10) reads as a decoder that stopped early.
const CUT_WORDS_PER_10S: usize = 12;
/// Beam width of the second decoding of a transcript that reads cut off.
const CUT_RETRY_BEAM: usize = 5;

/// Whether `text` is far too short for `voiced_ms` of sound: tiny.en on telephone audio
/// sometimes ends a long sentence after its first word or two ("High," for a five-second
/// booking), greedy decoding having put the end-of-text token first at a pause.
fn reads_cut_off(text: &str, voiced_ms: usize) -> bool {
    let words = text.split_whitespace().count();
    voiced_ms >= CUT_MIN_VOICED_MS && words * 10_000 < voiced_ms * CUT_WORDS_PER_10S
}

impl Asr for WhisperAsr {
    fn transcribe(&self, pcm_16k: &[f32], opts: &AsrOptions) -> Result<Transcript, SpeechError> {
        validate_pcm(pcm_16k)?;
        let peak = peak_frame_rms(pcm_16k);
        if peak < SILENCE_RMS {
            return Ok(Transcript {
                text: String::new(),
                confidence: 0.0,
                words: Vec::new(),
            });
        }
        let first = self.decode(pcm_16k, peak, opts)?;
        let voiced = voiced_ms(pcm_16k, peak);
        if opts.beam_size > 1 || !reads_cut_off(&first.text, voiced) {
            return Ok(first);
        }
        // The same audio decoded again with a beam, which does not end at the first pause; the
        // longer reading wins. Deterministic: it depends on the audio and options only.
        let wider = AsrOptions {
            beam_size: CUT_RETRY_BEAM,
            ..opts.clone()
        };
        let second = self.decode(pcm_16k, peak, &wider)?;
        tracing::debug!(first = %first.text, second = %second.text, voiced, "cut-off transcript decoded again");
        let words = |t: &Transcript| t.text.split_whitespace().count();
        Ok(if words(&second) > words(&first) {
            second
        } else {
            first
        })
    }
}

impl WhisperAsr {
    /// One decoding of audio that is not silence (`peak`: its loudest frame's RMS).
    fn decode(
        &self,
        pcm_16k: &[f32],
        peak: f32,
        opts: &AsrOptions,
    ) -> Result<Transcript, SpeechError> {
        let padded;
        let short_lead = if pcm_16k.len() < SHORT_AUDIO_SAMPLES {
            self.short_lead
        } else {
            0
        };
        let min_onset = opts.lead_in_ms.min(1_000) as usize * SAMPLE_RATE / 1000;
        let lead = short_lead.max(onset_lead(pcm_16k, peak, min_onset));
        let pcm = if pcm_16k.len() + lead < self.min_samples || lead > 0 {
            let mut v = vec![0.0; lead];
            v.extend_from_slice(pcm_16k);
            v.resize(v.len().max(self.min_samples), 0.0);
            padded = v;
            &padded[..]
        } else {
            pcm_16k
        };
        let prompt = self.prompt_tokens(opts)?;
        let is_cancelled = || opts.cancel.as_ref().is_some_and(CancelFlag::is_cancelled);
        if is_cancelled() {
            return Err(SpeechError::Cancelled);
        }
        let mut state = self.take_state()?;
        let result = self.run(&mut state, pcm, pcm_16k.len(), lead, opts, &prompt);
        if is_cancelled() {
            // An aborted run leaves the state whole: whisper.cpp resets it on the next one.
            self.put_state(state);
            return Err(SpeechError::Cancelled);
        }
        if result.is_ok() {
            self.put_state(state);
        }
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sound_starting_early_gets_silence_in_front() {
        let ms = |n: usize| n * SAMPLE_RATE / 1000;
        let clip = |silent_ms: usize| {
            let mut v = vec![0.001f32; ms(silent_ms)];
            v.extend((0..ms(500)).map(|i| 0.3 * ((i as f32) * 0.1).sin()));
            v
        };
        let lead = |pcm: &[f32]| onset_lead(pcm, peak_frame_rms(pcm), ms(400)) * 1000 / SAMPLE_RATE;
        assert_eq!(lead(&clip(0)), 400);
        assert_eq!(lead(&clip(180)), 220);
        assert_eq!(lead(&clip(400)), 0);
        assert_eq!(lead(&clip(600)), 0, "the endpointer's pre-roll is enough");
    }

    #[test]
    fn window_is_the_smallest_fixed_one_that_fits() {
        assert_eq!(audio_ctx(16_000), 300);
        assert_eq!(audio_ctx(6 * 16_000), 300);
        assert_eq!(audio_ctx(6 * 16_000 + 1), 500);
        assert_eq!(audio_ctx(12 * 16_000), 750);
        assert_eq!(audio_ctx(20 * 16_000), 0);
    }

    #[test]
    fn silence_gate_uses_loudest_frame() {
        let mut pcm = vec![0.001f32; 16_000];
        assert!(peak_frame_rms(&pcm) < SILENCE_RMS);
        pcm[8_000..8_320].iter_mut().for_each(|x| *x = 0.1);
        assert!((peak_frame_rms(&pcm) - 0.1).abs() < 1e-6);
    }

    #[test]
    fn a_word_or_two_for_seconds_of_sound_reads_cut_off() {
        assert!(reads_cut_off("High,", 4_000));
        assert!(reads_cut_off("table for the", 3_500));
        assert!(
            !reads_cut_off("Yes.", 600),
            "short answers are never retried"
        );
        assert!(!reads_cut_off("On the 9th of January at 8 pm.", 2_500));
        assert!(!reads_cut_off("", 1_000));
        let ms = |n: usize| n * SAMPLE_RATE / 1000;
        let mut pcm = vec![0.0f32; ms(1_000)];
        pcm.extend((0..ms(2_000)).map(|i| 0.3 * ((i as f32) * 0.1).sin()));
        assert_eq!(voiced_ms(&pcm, peak_frame_rms(&pcm)), 2_000);
    }

    #[test]
    fn token_cap_scales_with_audio() {
        assert_eq!(token_cap(128, 3 * 16_000), 40);
        assert_eq!(token_cap(10, 3 * 16_000), 10);
        assert_eq!(token_cap(0, 60 * 16_000), 220);
    }
}
