//! The voices and recognisers a call can choose with `<Config name="voiceName">` and
//! `<Config name="speechModel">`.
//!
//! * Voices: `default` (the server's Piper voice, also by its name), every espeak-ng voice and
//!   variant as `espeak:VOICE` (e.g. `espeak:en-us+f3`; espeak-ng's data holds them all, so
//!   each is loaded on its first call and kept), and the voices named in `[phone.voices]`
//!   (`espeak:VOICE` or `piper:/path/voice.onnx`, loaded at start).
//! * Recognisers: `default` (also by its name, [`SPEECH_MODEL`]) and the Whisper models named in
//!   `[phone.speech_models]` (a CTranslate2 model directory each, loaded at start).
//!
//! A name that is none of these is refused, with the list, and the call fails at once (see
//! `super::honour`): a call never runs silently on another voice or model than it asked for.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::{Arc, Mutex};

use anyhow::Context;
use sb_speech::asr::{Asr, WhisperAsr};
use sb_speech::models::ModelPaths;
use sb_speech::tts::{EspeakTts, PiperOptions, PiperTts, Tts};

use super::connectors::PhoneLimits;

/// The recogniser every call uses unless it chooses another.
pub const SPEECH_MODEL: &str = "whisper-tiny.en";

/// A call's own voice and recogniser (`None`: the server's).
#[derive(Clone, Default)]
pub struct CallSpeech {
    pub voice: Option<Arc<dyn Tts>>,
    pub asr: Option<Arc<dyn Asr>>,
}

/// What calls may choose from.
#[derive(Default)]
pub struct SpeechChoices {
    /// The default voice's own name (the connector's `voice`, else the Piper model's).
    default_voice: Option<String>,
    /// By lower-case name.
    voices: BTreeMap<String, Arc<dyn Tts>>,
    models: BTreeMap<String, Arc<dyn Asr>>,
    /// Where espeak-ng is, for `espeak:VOICE` on demand (`None`: only listed voices).
    espeak: Option<ModelPaths>,
    espeak_loaded: Mutex<HashMap<String, Arc<dyn Tts>>>,
}

impl SpeechChoices {
    /// Only the defaults.
    pub fn none() -> SpeechChoices {
        SpeechChoices::default()
    }

    /// Also `name` for the default voice.
    pub fn with_default_voice_name(mut self, name: &str) -> SpeechChoices {
        self.default_voice = Some(name.to_string());
        self
    }

    pub fn with_voice(mut self, name: &str, tts: Arc<dyn Tts>) -> SpeechChoices {
        self.voices.insert(name.to_ascii_lowercase(), tts);
        self
    }

    pub fn with_model(mut self, name: &str, asr: Arc<dyn Asr>) -> SpeechChoices {
        self.models.insert(name.to_ascii_lowercase(), asr);
        self
    }

    /// Every espeak-ng voice, as `espeak:VOICE`.
    pub fn with_espeak(mut self, paths: ModelPaths) -> SpeechChoices {
        self.espeak = Some(paths);
        self
    }

    /// The server's choices: `[phone.voices]`, `[phone.speech_models]` and every espeak-ng voice
    /// of the installed models. Blocking (loads models).
    pub fn load(limits: &PhoneLimits, paths: &ModelPaths, cache: &Path) -> anyhow::Result<Self> {
        let mut c = SpeechChoices::none()
            .with_default_voice_name(&voice_name_of(&paths.piper_model))
            .with_espeak(paths.clone());
        for (name, spec) in &limits.voices {
            let tts: Arc<dyn Tts> = match parse_voice(spec) {
                Some(VoiceSpec::Espeak(v)) => Arc::new(
                    EspeakTts::load_voice(paths, v)
                        .with_context(|| format!("phone.voices.{name}: espeak voice `{v}`"))?,
                ),
                Some(VoiceSpec::Piper(model)) => {
                    let voice_paths = ModelPaths {
                        piper_model: model.into(),
                        piper_config: format!("{model}.json").into(),
                        ..paths.clone()
                    };
                    let opts = PiperOptions {
                        split_first_clause: true,
                        ..PiperOptions::default()
                    };
                    Arc::new(
                        PiperTts::load_with(&voice_paths, opts)
                            .with_context(|| format!("phone.voices.{name}: Piper voice {model}"))?,
                    )
                }
                None => {
                    anyhow::bail!("phone.voices.{name}: `{spec}` is not espeak:VOICE or piper:PATH")
                }
            };
            c = c.with_voice(name, tts);
        }
        for (name, dir) in &limits.speech_models {
            let asr =
                WhisperAsr::load(dir, cache, limits.asr_threads.max(1)).with_context(|| {
                    format!(
                        "phone.speech_models.{name}: Whisper model {}",
                        dir.display()
                    )
                })?;
            c = c.with_model(name, Arc::new(asr));
        }
        tracing::info!(
            voices = ?c.voices.keys().collect::<Vec<_>>(),
            speech_models = ?c.models.keys().collect::<Vec<_>>(),
            "voices and recognisers calls may choose (and every espeak:VOICE)"
        );
        Ok(c)
    }

    /// The voice `name` selects (`Ok(None)`: the default one). May load an espeak-ng voice:
    /// blocking.
    pub fn voice(
        &self,
        name: &str,
        connector_voice: Option<&str>,
    ) -> Result<Option<Arc<dyn Tts>>, String> {
        let lower = name.trim().to_ascii_lowercase();
        let is_default = lower == "default"
            || self
                .default_voice
                .as_deref()
                .is_some_and(|d| d.eq_ignore_ascii_case(&lower))
            || connector_voice.is_some_and(|d| d.eq_ignore_ascii_case(&lower));
        if is_default {
            return Ok(None);
        }
        if let Some(v) = self.voices.get(&lower) {
            return Ok(Some(v.clone()));
        }
        if let (Some(paths), Some(VoiceSpec::Espeak(v))) = (&self.espeak, parse_voice(name.trim()))
        {
            let mut loaded = self.espeak_loaded.lock().unwrap_or_else(|p| p.into_inner());
            if let Some(t) = loaded.get(v) {
                return Ok(Some(t.clone()));
            }
            if let Ok(t) = EspeakTts::load_voice(paths, v) {
                let t: Arc<dyn Tts> = Arc::new(t);
                loaded.insert(v.to_string(), t.clone());
                return Ok(Some(t));
            }
        }
        Err(format!(
            "voiceName `{name}` is not installed (voices: {})",
            self.voice_names(connector_voice).join(", ")
        ))
    }

    /// The recogniser `name` selects (`Ok(None)`: the default one).
    pub fn model(&self, name: &str) -> Result<Option<Arc<dyn Asr>>, String> {
        let lower = name.trim().to_ascii_lowercase();
        if lower == "default" || lower == SPEECH_MODEL {
            return Ok(None);
        }
        match self.models.get(&lower) {
            Some(m) => Ok(Some(m.clone())),
            None => {
                let mut names = vec![format!("default = {SPEECH_MODEL}")];
                names.extend(self.models.keys().cloned());
                Err(format!(
                    "speechModel `{name}` is not configured (models: {})",
                    names.join(", ")
                ))
            }
        }
    }

    fn voice_names(&self, connector_voice: Option<&str>) -> Vec<String> {
        let mut names = vec!["default".to_string()];
        names.extend(self.default_voice.clone());
        names.extend(connector_voice.map(str::to_string));
        names.extend(self.voices.keys().cloned());
        if self.espeak.is_some() {
            names.push("espeak:VOICE (any espeak-ng voice, e.g. espeak:en-us+f3)".into());
        }
        names.dedup();
        names
    }
}

/// A voice from `[phone.voices]`.
#[derive(Debug, PartialEq, Eq)]
enum VoiceSpec<'a> {
    Espeak(&'a str),
    Piper(&'a str),
}

fn parse_voice(spec: &str) -> Option<VoiceSpec<'_>> {
    match spec.split_once(':') {
        Some(("espeak", v)) if valid_espeak_name(v) => Some(VoiceSpec::Espeak(v)),
        Some(("piper", p)) if p.ends_with(".onnx") => Some(VoiceSpec::Piper(p)),
        _ => None,
    }
}

/// espeak-ng voice names are short words: a caller's value must not reach it as a path.
fn valid_espeak_name(v: &str) -> bool {
    !v.is_empty()
        && v.len() <= 40
        && v.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_+".contains(&b))
}

/// `en_US-lessac-medium` of `…/en_US-lessac-medium.onnx`.
fn voice_name_of(model: &Path) -> String {
    model
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "default".into())
}

/// Checks `[phone.voices]` without loading anything (settings validation).
pub fn check_voice_spec(spec: &str) -> bool {
    parse_voice(spec).is_some()
}

#[cfg(test)]
mod tests {
    use super::*;
    use sb_speech::asr::{AsrOptions, Transcript};
    use sb_speech::tts::AudioChunk;
    use sb_speech::SpeechError;

    struct Silent;
    impl Tts for Silent {
        fn synthesize(
            &self,
            _: &str,
            _: &mut dyn FnMut(AudioChunk) -> bool,
        ) -> Result<(), SpeechError> {
            Ok(())
        }
        fn sample_rate(&self) -> u32 {
            16_000
        }
    }
    struct Deaf;
    impl Asr for Deaf {
        fn transcribe(&self, _: &[f32], _: &AsrOptions) -> Result<Transcript, SpeechError> {
            Err(SpeechError::Other("deaf".into()))
        }
    }

    #[test]
    fn names_select_or_are_refused_with_the_list() {
        let c = SpeechChoices::none()
            .with_default_voice_name("en_US-lessac-medium")
            .with_voice("Bright", Arc::new(Silent))
            .with_model("base", Arc::new(Deaf));
        assert!(c.voice("default", None).unwrap().is_none());
        assert!(c.voice("EN_US-lessac-medium", None).unwrap().is_none());
        assert!(c.voice("joe", Some("joe")).unwrap().is_none());
        assert!(c.voice("bright", None).unwrap().is_some());
        assert_eq!(
            c.voice("en-US-Wavenet-C", None).err().unwrap(),
            "voiceName `en-US-Wavenet-C` is not installed (voices: default, en_US-lessac-medium, bright)"
        );
        // Without espeak-ng, espeak voices are refused too.
        assert!(c.voice("espeak:en-us+f3", None).is_err());
        assert!(c.model("default").unwrap().is_none());
        assert!(c.model("whisper-tiny.en").unwrap().is_none());
        assert!(c.model("BASE").unwrap().is_some());
        assert_eq!(
            c.model("phone_call").err().unwrap(),
            "speechModel `phone_call` is not configured (models: default = whisper-tiny.en, base)"
        );
    }

    #[test]
    fn voice_specs() {
        assert_eq!(
            parse_voice("espeak:en-us+f3"),
            Some(VoiceSpec::Espeak("en-us+f3"))
        );
        assert_eq!(
            parse_voice("piper:/v/a.onnx"),
            Some(VoiceSpec::Piper("/v/a.onnx"))
        );
        assert_eq!(parse_voice("espeak:../../etc/passwd"), None);
        assert_eq!(parse_voice("espeak:"), None);
        assert_eq!(parse_voice("piper:/v/a.txt"), None);
        assert_eq!(parse_voice("en-us"), None);
    }
}
