//! `switchboard call`: a simulated phone call against any server speaking Twilio Media Streams or the
//! Vonage WebSocket protocol.

use anyhow::Context;
use clap::Args;
use sb_speech::asr::{Asr, WhisperAsr};
use sb_speech::models::{ModelPaths, ModelStore};
use sb_speech::tts::{caller_voice, Tts};
use sb_testkit::{place_call, CallOptions, Platform, Script, Voices};
use std::path::PathBuf;
use std::sync::Arc;

#[derive(Debug, Args)]
pub struct CallArgs {
    /// `twilio` or `vonage`.
    #[arg(long, default_value = "twilio")]
    pub transport: String,
    /// WebSocket URL of the media endpoint, e.g. ws://127.0.0.1:8080/twilio/media.
    #[arg(long)]
    pub url: String,
    /// Script (TOML) of the caller's turns and expectations.
    #[arg(long, conflicts_with = "say")]
    pub script: Option<PathBuf>,
    /// Quick form: one caller turn per --say (waits for the greeting first).
    #[arg(long)]
    pub say: Vec<String>,
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
    /// Don't transcribe the bot's audio (faster; no bot text, no expectations).
    #[arg(long)]
    pub no_asr: bool,
    /// Save both sides of the call as WAV files here.
    #[arg(long)]
    pub record: Option<PathBuf>,
    /// Custom parameters of the call (`key=value`, repeatable): Twilio `<Parameter>`s / Vonage headers.
    #[arg(long = "param")]
    pub params: Vec<String>,
    /// The caller's voice: `flite:kal16|rms|awb|slt` (CMU Flite) or an espeak-ng voice
    /// (`espeak:en-us+f3`); never the bot's.
    #[arg(long, default_value = DEFAULT_CALLER_VOICE)]
    pub voice: String,
}

/// The simulated caller's default voice: Flite's awb (Scottish male). kal16 has the lowest word
/// error rate on short phrases, but over Twilio's 8 kHz only awb and slt carry the whole
/// one-sentence booking (name, date with year, time) through Whisper tiny.en (docs/NOTES.md).
pub const DEFAULT_CALLER_VOICE: &str = "flite:awb";

pub fn platform(name: &str) -> anyhow::Result<Platform> {
    match name.to_ascii_lowercase().as_str() {
        "twilio" => Ok(Platform::Twilio),
        "vonage" => Ok(Platform::Vonage),
        other => anyhow::bail!("unknown transport `{other}` (twilio or vonage)"),
    }
}

/// A voice that reads text the way a person would ("01/09/2022" → "January ninth…") before speaking.
pub struct SpokenLikeAPerson {
    inner: Arc<dyn Tts>,
    locale: String,
}

impl Tts for SpokenLikeAPerson {
    fn synthesize(
        &self,
        text: &str,
        sink: &mut dyn FnMut(sb_speech::tts::AudioChunk) -> bool,
    ) -> Result<(), sb_speech::SpeechError> {
        let spoken = sb_speech::normalize::normalize_for_speech(text, &self.locale, None);
        self.inner.synthesize(&spoken, sink)
    }
    fn sample_rate(&self) -> u32 {
        self.inner.sample_rate()
    }
}

impl SpokenLikeAPerson {
    /// The voice `spec` (see [`caller_voice`]) reading text like an en-US speaker.
    pub fn load(paths: &ModelPaths, spec: &str) -> anyhow::Result<Self> {
        let inner = caller_voice(paths, spec)
            .with_context(|| format!("cannot load the caller's voice `{spec}`"))?;
        Ok(Self {
            inner,
            locale: "en-US".into(),
        })
    }
}

/// The simulated caller's voice (`spec`, not the bot's Piper voice) and, optionally, the ASR that
/// transcribes the bot. Loading is blocking work.
pub fn caller_voices(paths: &ModelPaths, spec: &str, with_asr: bool) -> anyhow::Result<Voices> {
    let tts: Arc<dyn Tts> = Arc::new(SpokenLikeAPerson::load(paths, spec)?);
    let asr: Option<Arc<dyn Asr>> = if with_asr {
        let cache = ModelStore::from_env().root.join("cache");
        Some(Arc::new(WhisperAsr::load(&paths.whisper_dir, &cache, 1)?))
    } else {
        None
    };
    Ok(Voices::new(tts, asr))
}

pub async fn call(a: CallArgs) -> anyhow::Result<bool> {
    let transport = platform(&a.transport)?;
    let script = match (&a.script, a.say.is_empty()) {
        (Some(p), _) => Script::load(p).with_context(|| format!("bad script {}", p.display()))?,
        (None, false) => {
            let says: Vec<&str> = a.say.iter().map(String::as_str).collect();
            Script::from_says(&says)
        }
        (None, true) => anyhow::bail!("give --script FILE or at least one --say \"…\""),
    };
    let with_asr = !a.no_asr;
    let spec = a.voice.clone();
    let voices = tokio::task::spawn_blocking(move || -> anyhow::Result<Voices> {
        let paths = crate::speech_cli::model_paths(None)?;
        caller_voices(&paths, &spec, with_asr)
    })
    .await??;
    let mut opts = CallOptions::new(transport, a.url.clone());
    opts.record_dir = a.record.clone();
    for kv in &a.params {
        let (k, v) = kv
            .split_once('=')
            .with_context(|| format!("--param `{kv}` is not key=value"))?;
        opts.custom_parameters.insert(k.to_string(), v.to_string());
    }
    let report = place_call(opts, script, &voices).await;
    if a.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        println!("{report}");
    }
    Ok(report.ok)
}
