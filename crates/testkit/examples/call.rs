//! `cargo run --release -p sb-testkit --example call -- ws://127.0.0.1:8080/twilio/media \
//!    crates/testkit/scripts/restaurant.toml [twilio|vonage] [record_dir]`
//! One scripted call with the espeak-ng caller voice and Whisper on the bot's replies.

use std::sync::Arc;

use sb_speech::asr::{Asr, WhisperAsr};
use sb_speech::models::ModelStore;
use sb_speech::tts::EspeakTts;
use sb_testkit::{place_call, CallOptions, Platform, Script, Voices};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some(url), Some(script)) = (args.first(), args.get(1)) else {
        return Err("usage: call <ws-url> <script.toml> [twilio|vonage] [record_dir]".into());
    };
    let platform = match args.get(2).map(String::as_str) {
        Some("vonage") => Platform::Vonage,
        _ => Platform::Twilio,
    };
    let script = Script::load(script.as_ref())?;
    let store = ModelStore::from_env();
    let paths = store.ensure(&|m| eprintln!("{m}"))?;
    let asr: Arc<dyn Asr> = Arc::new(WhisperAsr::load(
        &paths.whisper_dir,
        &store.root.join("cache"),
        2,
    )?);
    let voices = Voices::new(Arc::new(EspeakTts::load_voice(&paths, "en-us")?), Some(asr));
    let mut opts = CallOptions::new(platform, url.clone());
    opts.record_dir = args.get(3).map(Into::into);
    let report = place_call(opts, script, &voices).await;
    println!("{report}");
    Ok(())
}
