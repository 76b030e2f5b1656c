//! `<Config name="voiceName">` and `<Config name="speechModel">`: a call speaks with the voice
//! and is heard by the recogniser it names, other calls keep the server's, and a name that is not
//! installed fails the call with the list of what is. Real server, platform-side callers, fake
//! engines that tell each other apart (a voice by its loudness, a recogniser by what it hears);
//! then the real espeak-ng voices of the installed models.

mod phone_support;

use phone_support::{FakeAsr, FakeTts, PhoneServer, RawCaller};
use sb_speech::tts::{AudioChunk, Tts};
use sb_speech::SpeechError;
use sb_testkit::virtual_call::voice::vowel;
use sb_transport::{Inbound, Outbound, Platform};
use std::sync::Arc;
use std::time::Duration;
use switchboard::phone::choices::SpeechChoices;

/// A voice quieter than [`FakeTts`] (peak 8,000): a 300 Hz square wave at 2,000.
struct QuietTts;

impl Tts for QuietTts {
    fn synthesize(
        &self,
        text: &str,
        sink: &mut dyn FnMut(AudioChunk) -> bool,
    ) -> Result<(), SpeechError> {
        let samples = (0..3_200)
            .map(|i| if (i / 27) % 2 == 0 { 2_000 } else { -2_000 })
            .collect();
        sink(AudioChunk {
            samples,
            sample_rate: 16_000,
            text: text.to_string(),
        });
        Ok(())
    }

    fn sample_rate(&self) -> u32 {
        16_000
    }
}

async fn server() -> PhoneServer {
    let choices = SpeechChoices::none()
        .with_default_voice_name("en_US-lessac-medium")
        .with_voice("quiet", Arc::new(QuietTts))
        .with_model(
            "cancel-model",
            Arc::new(FakeAsr("cancel my booking".into())),
        );
    PhoneServer::start_choosing(
        "",
        Arc::new(FakeAsr("hello".into())),
        Arc::new(FakeTts),
        choices,
    )
    .await
}

/// The bot's audio up to its first mark (acknowledged), and that mark.
async fn first_reply(c: &mut RawCaller) -> Vec<i16> {
    tokio::time::timeout(Duration::from_secs(10), async {
        let mut audio = Vec::new();
        loop {
            for o in c.next_outputs().await.expect("closed before a reply") {
                match o {
                    Outbound::Audio(pcm) => audio.extend(pcm),
                    Outbound::Mark(name) => {
                        c.send(&Inbound::Mark { name }).await;
                        return audio;
                    }
                    Outbound::Clear => {}
                }
            }
        }
    })
    .await
    .expect("no reply in time")
}

fn peak(pcm: &[i16]) -> i32 {
    pcm.iter().map(|s| i32::from(*s).abs()).max().unwrap_or(0)
}

/// One utterance (a sung vowel the server's VAD takes for speech) and the silence after it,
/// in media time from `at_ms`.
async fn utterance(c: &mut RawCaller, at_ms: &mut u64) {
    let mut pcm = vowel(140.0, 900, 9_000.0);
    pcm.extend(vec![0i16; 16 * 1_500]);
    for frame in pcm.chunks(320) {
        c.send(&Inbound::Audio {
            pcm16k: frame.to_vec(),
            at_ms: *at_ms,
        })
        .await;
        *at_ms += 20;
    }
}

async fn hang_up(c: &mut RawCaller) {
    if c.platform == Platform::Twilio {
        c.send(&Inbound::Stop).await;
    } else {
        // Vonage has no stop message: the platform closes the socket.
        let _ = c.ws.close(None).await;
    }
    let _ = tokio::time::timeout(Duration::from_secs(10), c.until_closed()).await;
}

/// The call's record (its end is queued before the server closes the socket, and reads follow
/// the queued writes).
async fn call(s: &PhoneServer, id: &str) -> serde_json::Value {
    let (status, call) = s.get_json(&format!("/v1/calls/{id}")).await;
    assert_eq!(status, 200, "{call}");
    call
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_speaks_with_the_voice_it_names() {
    let s = server().await;
    let url = s.ws_url(Platform::Twilio);
    let mut plain = RawCaller::connect(&url, Platform::Twilio).await;
    plain.start("CAvoice0", &[]).await;
    let mut quiet = RawCaller::connect(&url, Platform::Twilio).await;
    quiet
        .start("CAvoice1", &[("config.voiceName", "Quiet")])
        .await;
    let mut named = RawCaller::connect(&url, Platform::Twilio).await;
    named
        .start("CAvoice2", &[("config.voiceName", "en_US-lessac-medium")])
        .await;
    let (p, q, n) = (
        peak(&first_reply(&mut plain).await),
        peak(&first_reply(&mut quiet).await),
        peak(&first_reply(&mut named).await),
    );
    // μ-law at 8 kHz keeps a peak within a few percent.
    assert!(p > 7_000, "the default voice's greeting peaks at {p}");
    assert!(
        (1_700..2_400).contains(&q),
        "the quiet voice's greeting peaks at {q}"
    );
    assert!(n > 7_000, "the default voice by its name peaks at {n}");
    for c in [&mut plain, &mut quiet, &mut named] {
        hang_up(c).await;
    }
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_is_heard_by_the_recogniser_it_names() {
    let s = server().await;
    let url = s.ws_url(Platform::Vonage);
    for (id, params, heard) in [
        ("vonage-model-0", vec![], "hello"),
        (
            "vonage-model-1",
            vec![("config.speechModel", "cancel-model")],
            "cancel my booking",
        ),
    ] {
        let mut c = RawCaller::connect(&url, Platform::Vonage).await;
        c.start(id, &params).await;
        first_reply(&mut c).await;
        let mut at = 0;
        utterance(&mut c, &mut at).await;
        first_reply(&mut c).await;
        hang_up(&mut c).await;
        let rec = call(&s, id).await;
        assert_eq!(rec["turns"][1]["callerText"], heard, "{rec}");
    }
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_voice_or_model_that_is_not_installed_fails_the_call_with_the_list() {
    let s = server().await;
    let url = s.ws_url(Platform::Twilio);
    let mut c = RawCaller::connect(&url, Platform::Twilio).await;
    c.start(
        "CAnotinstalled",
        &[
            ("config.voiceName", "en-US-Wavenet-C"),
            ("config.speechModel", "phone_call"),
        ],
    )
    .await;
    let _ = tokio::time::timeout(Duration::from_secs(10), c.until_closed()).await;
    let rec = call(&s, "CAnotinstalled").await;
    assert_eq!(rec["status"], "failed", "{rec}");
    assert_eq!(
        rec["error"],
        "speechModel `phone_call` is not configured (models: default = whisper-tiny.en, \
         cancel-model); voiceName `en-US-Wavenet-C` is not installed (voices: default, \
         en_US-lessac-medium, quiet)",
        "{rec}"
    );
    s.stop().await;
}

/// The real espeak-ng of the installed models: any of its voices and variants by name, loaded
/// once; a name it does not have, or that is not a voice name at all, is refused.
#[test]
fn espeak_voices_are_installed_voices() {
    let store = sb_speech::models::ModelStore::from_env();
    let paths = store
        .verify()
        .map(|_| store.layout())
        .unwrap_or_else(|e| panic!("speech models missing ({e}): run `switchboard models fetch`"));
    let choices = SpeechChoices::none().with_espeak(paths);
    let f3 = choices
        .voice("espeak:en-us+f3", None)
        .expect("espeak:en-us+f3")
        .expect("a voice of its own");
    let again = choices.voice("espeak:en-us+f3", None).unwrap().unwrap();
    assert!(Arc::ptr_eq(&f3, &again), "loaded once");
    let pcm = f3.synthesize_all("Your table is booked.").expect("speaks");
    assert!(
        pcm.len() > f3.sample_rate() as usize / 2,
        "{} samples",
        pcm.len()
    );
    let gb = choices.voice("espeak:en-gb-x-rp", None).unwrap().unwrap();
    assert_ne!(gb.synthesize_all("Your table is booked.").unwrap(), pcm);
    for bad in [
        "espeak:xx-nowhere",
        "espeak:../../etc/passwd",
        "piper:/tmp/x.onnx",
    ] {
        let why = choices.voice(bad, None).err().expect(bad);
        assert!(why.contains("is not installed"), "{why}");
    }
}

/// `[phone.voices]` and `[phone.speech_models]` with the installed Piper voice and Whisper model
/// under other names: loaded at start, chosen by those names; a bad entry stops the start.
#[test]
fn configured_voices_and_models_load_at_start() {
    let store = sb_speech::models::ModelStore::from_env();
    store
        .verify()
        .unwrap_or_else(|e| panic!("speech models missing ({e}): run `switchboard models fetch`"));
    let paths = store.layout();
    let toml = format!(
        "[phone.voices]\nsecond = \"piper:{}\"\nrobot = \"espeak:en-us+m3\"\n\
         [phone.speech_models]\ntiny = \"{}\"\n",
        paths.piper_model.display(),
        paths.whisper_dir.display()
    );
    let file = switchboard::phone::connectors::PhoneFile::parse(&toml).expect("settings");
    file.validate().expect("valid");
    let cache = tempfile::tempdir().unwrap();
    let choices = SpeechChoices::load(&file.phone, &paths, cache.path()).expect("loaded");
    let second = choices
        .voice("second", None)
        .unwrap()
        .expect("the Piper voice");
    assert!(!second.synthesize_all("Hello.").unwrap().is_empty());
    assert!(choices.voice("ROBOT", None).unwrap().is_some());
    assert!(choices.model("tiny").unwrap().is_some());
    // The default voice answers to the Piper model's own name too.
    let stem = paths
        .piper_model
        .file_stem()
        .unwrap()
        .to_string_lossy()
        .into_owned();
    assert!(choices.voice(&stem, None).unwrap().is_none());

    for bad in [
        "[phone.voices]\nx = \"festival:kal\"\n",
        "[phone.voices]\ndefault = \"espeak:en\"\n",
    ] {
        let file = switchboard::phone::connectors::PhoneFile::parse(bad).expect("parses");
        assert!(file.validate().is_err(), "{bad}");
    }
    let missing = switchboard::phone::connectors::PhoneFile::parse(
        "[phone.speech_models]\nbig = \"/nonexistent/whisper-large\"\n",
    )
    .unwrap();
    let err = SpeechChoices::load(&missing.phone, &paths, cache.path())
        .err()
        .expect("refused");
    assert!(
        format!("{err:#}").contains("phone.speech_models.big"),
        "{err:#}"
    );
}
