//! Prints Whisper transcripts of the round-trip sentences (Piper prompts, espeak caller)
//! after the 8 kHz μ-law phone line, for each weight type × beam × prompt, three times each
//! (to expose run-to-run differences).
//!
//! `cargo run --release -p sb-speech --example roundtrip_probe`

use sb_speech::asr::{Asr, AsrOptions, WeightType, WhisperAsr};
use sb_speech::eval::corpus::telephone;
use sb_speech::eval::{restaurant_prompt, Noise};
use sb_speech::models::ModelStore;
use sb_speech::tts::{EspeakTts, PiperTts, Tts};

fn main() {
    let paths = ModelStore::from_env()
        .ensure(&|l| eprintln!("{l}"))
        .expect("models");
    let piper = PiperTts::load(&paths).expect("piper");
    let _ = &piper;
    let spoken = sb_speech::normalize::normalize_for_speech(
        "I'd like to book a table at 10:00 am on 01/09/2022 for Tanya",
        "en-GB",
        None,
    );
    println!("spoken form: {spoken:?}");
    let texts = [
        "I'd like to book a table at ten a.m. on the ninth of January for Tanya",
        "I'd like to book a table at 10 am on January 9th for Tanya",
        spoken.as_str(),
    ];
    let cache = std::env::temp_dir().join("sb-speech-roundtrip-cache");
    let asr = WhisperAsr::load(&paths.whisper_dir, &cache, 1).expect("asr");
    for voice in ["en-us", "en", "en-us+f3"] {
        let tts = EspeakTts::load_voice(&paths, voice).expect("espeak");
        for text in texts {
            let a = tts.synthesize_all(text).expect("tts");
            let pcm = telephone(&a, tts.sample_rate(), 1.0, Noise::None, &[], 7).expect("line");
            for prompt in [None, Some(restaurant_prompt())] {
                let opts = AsrOptions {
                    initial_prompt: prompt.clone(),
                    ..AsrOptions::default()
                };
                let t = asr
                    .transcribe(&pcm, &opts)
                    .map(|t| t.text)
                    .unwrap_or_default();
                println!("{voice} prompt={} {text:?} -> {t:?}", prompt.is_some());
            }
        }
    }
    let _ = WeightType::F16;
    let _: Option<&dyn Tts> = None;
}
