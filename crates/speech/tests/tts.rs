//! TTS tests against the real models (fetched through the model store on first use into
//! `$SWITCHBOARD_MODELS` or the default cache).

use std::sync::{Arc, OnceLock};

use sb_speech::models::{ModelPaths, ModelStore};
use sb_speech::tts::{AudioChunk, EspeakTts, PiperOptions, PiperTts, PromptCache, Tts};

fn paths() -> &'static ModelPaths {
    static P: OnceLock<ModelPaths> = OnceLock::new();
    P.get_or_init(|| {
        ModelStore::from_env()
            .ensure(&|line| eprintln!("{line}"))
            .expect("models available (fetched with pip on first use)")
    })
}

fn piper() -> Arc<PiperTts> {
    static T: OnceLock<Arc<PiperTts>> = OnceLock::new();
    T.get_or_init(|| Arc::new(PiperTts::load(paths()).expect("piper loads")))
        .clone()
}

fn rms(s: &[i16]) -> f64 {
    if s.is_empty() {
        return 0.0;
    }
    (s.iter().map(|&x| (x as f64).powi(2)).sum::<f64>() / s.len() as f64).sqrt()
}

/// Fraction of 20 ms frames that carry sound (RMS above ~-40 dBFS).
fn voiced_fraction(s: &[i16], rate: u32) -> f64 {
    let frame = (rate / 50) as usize;
    let frames: Vec<&[i16]> = s.chunks(frame).collect();
    let voiced = frames.iter().filter(|f| rms(f) > 300.0).count();
    voiced as f64 / frames.len().max(1) as f64
}

fn collect(tts: &dyn Tts, text: &str) -> Vec<AudioChunk> {
    let mut chunks = Vec::new();
    tts.synthesize(text, &mut |c| {
        chunks.push(c);
        true
    })
    .expect("synthesis succeeds");
    chunks
}

#[test]
fn phonemes_match_piper_reference() {
    // Reference strings from piper-phonemize's own test (src/test.cpp).
    let tts = piper();
    let s = tts.phonemize("this, is: a; test.").unwrap();
    assert_eq!(s.len(), 1);
    assert_eq!(s[0].phoneme_string(), "ðˈɪs, ɪz: ˈeɪ; tˈɛst.");
    let s = tts.phonemize("Test 1. Test 2.").unwrap();
    let strings: Vec<String> = s.iter().map(|x| x.phoneme_string()).collect();
    assert_eq!(strings, ["tˈɛst wˈʌn.", "tˈɛst tˈuː."]);
    assert_eq!(s[0].text, "Test 1.");
    assert_eq!(s[1].text, "Test 2.");
}

#[test]
fn phoneme_ids_have_bos_pads_eos_and_punctuation() {
    let tts = piper();
    let s = tts.phonemize("Hello, world?").unwrap();
    assert_eq!(s.len(), 1);
    let ids = tts.phoneme_ids(&s[0]);
    let map = &tts.voice().phoneme_id_map;
    let (pad, bos, eos) = (map["_"][0], map["^"][0], map["$"][0]);
    assert_eq!(ids[0], bos);
    assert_eq!(*ids.last().unwrap(), eos);
    // ^ _ p1 _ p2 _ … pn _ $  → every odd position is a pad.
    assert!(ids[1..ids.len() - 1].iter().step_by(2).all(|&i| i == pad));
    assert_eq!(ids.len(), 3 + 2 * s[0].phonemes.len());
    assert!(ids.contains(&map[","][0]), "comma kept");
    assert!(ids.contains(&map["?"][0]), "question mark kept");
}

#[test]
fn synthesis_is_speech_like() {
    let tts = piper();
    let chunks = collect(&*tts, "Hello, how can I help you?");
    assert_eq!(chunks.len(), 1);
    let c = &chunks[0];
    assert_eq!(c.sample_rate, 22050);
    assert_eq!(tts.sample_rate(), 22050);
    let secs = c.duration_secs();
    assert!((0.5..3.0).contains(&secs), "duration {secs}");
    assert!(rms(&c.samples) > 1000.0, "rms {}", rms(&c.samples));
    let v = voiced_fraction(&c.samples, c.sample_rate);
    assert!((0.4..1.0).contains(&v), "voiced fraction {v}");
    // Longer text → longer audio.
    let long = tts
        .synthesize_all(
            "Hello, how can I help you with your account, your order or your delivery today",
        )
        .unwrap();
    assert!(long.len() > c.samples.len() * 3 / 2);
}

#[test]
fn streams_one_chunk_per_sentence_in_order() {
    let tts = piper();
    let chunks = collect(
        &*tts,
        "Your order has shipped. Would you like the tracking number? Goodbye!",
    );
    let texts: Vec<&str> = chunks.iter().map(|c| c.text.as_str()).collect();
    assert_eq!(
        texts,
        [
            "Your order has shipped.",
            "Would you like the tracking number?",
            "Goodbye!"
        ]
    );
    for c in &chunks {
        assert!(rms(&c.samples) > 1000.0, "{:?} is silent", c.text);
    }
}

#[test]
fn sink_can_cancel() {
    let tts = piper();
    let mut seen = 0;
    tts.synthesize(
        "One sentence here. Another sentence. And a third.",
        &mut |_| {
            seen += 1;
            false
        },
    )
    .unwrap();
    assert_eq!(seen, 1);
}

#[test]
fn empty_text_yields_no_chunks() {
    let tts = piper();
    for text in ["", "   \n ", "...", "?!"] {
        assert!(collect(&*tts, text).is_empty(), "{text:?}");
    }
}

#[test]
fn concurrent_synthesis_from_threads() {
    let tts = piper();
    let handles: Vec<_> = ["Good morning.", "Good evening."]
        .into_iter()
        .map(|t| {
            let tts = tts.clone();
            std::thread::spawn(move || tts.synthesize_all(t).unwrap())
        })
        .collect();
    for h in handles {
        let s = h.join().unwrap();
        assert!(rms(&s) > 1000.0);
    }
}

#[test]
fn espeak_fallback_voice_streams_sentences() {
    let tts = EspeakTts::load(paths()).unwrap();
    assert_eq!(tts.sample_rate(), 22050);
    let chunks = collect(&tts, "Please hold. An agent will be with you shortly.");
    assert_eq!(chunks.len(), 2);
    assert_eq!(chunks[1].text, "An agent will be with you shortly.");
    for c in &chunks {
        assert!(
            (0.3..4.0).contains(&c.duration_secs()),
            "{}",
            c.duration_secs()
        );
        assert!(rms(&c.samples) > 500.0);
    }
    assert!(collect(&tts, "").is_empty());
}

#[test]
fn prompt_cache_serves_presynthesised_audio() {
    let tts = piper();
    let cache = PromptCache::build(&*tts, ["Welcome to Acme.", "Goodbye.", "Goodbye."]).unwrap();
    assert_eq!(cache.len(), 2);
    assert_eq!(cache.sample_rate(), 22050);
    let a = cache
        .get("  Welcome   to Acme. ")
        .expect("whitespace-insensitive hit");
    assert!(rms(&a) > 1000.0);
    assert!(cache.get("Something else.").is_none());
}

#[test]
fn split_first_clause_option_emits_the_leading_clause_first() {
    let opts = PiperOptions {
        split_first_clause: true,
        ..PiperOptions::default()
    };
    let tts = PiperTts::load_with(paths(), opts).unwrap();
    let chunks = collect(
        &tts,
        "Thanks for calling Acme support, how can I help you today? Bye.",
    );
    let texts: Vec<&str> = chunks.iter().map(|c| c.text.as_str()).collect();
    assert_eq!(
        texts,
        [
            "Thanks for calling Acme support,",
            "how can I help you today?",
            "Bye."
        ]
    );
    for c in &chunks {
        assert!(rms(&c.samples) > 1000.0, "{:?} is silent", c.text);
    }
    // A short leading clause ("Yes,") is not split off.
    let chunks = collect(&tts, "Yes, that works for me.");
    assert_eq!(chunks.len(), 1);
}

#[test]
fn missing_models_give_a_fix_it_error() {
    let root = std::env::temp_dir().join(format!("sb-tts-empty-{}", std::process::id()));
    let layout = ModelStore::at(&root).layout();
    match PiperTts::load(&layout) {
        Err(sb_speech::SpeechError::Model(m)) => {
            assert!(m.contains("switchboard models fetch"), "{m}")
        }
        Err(e) => panic!("wrong error kind: {e}"),
        Ok(_) => panic!("loaded a voice from an empty store"),
    }
}

#[test]
fn piper_without_noise_repeats_itself_exactly() {
    let samples = |tts: &PiperTts| -> Vec<i16> {
        collect(tts, "For whom should I book the table?")
            .into_iter()
            .flat_map(|c| c.samples)
            .collect()
    };
    let noisy = piper();
    assert_ne!(samples(&noisy), samples(&noisy), "Piper's noise varies");
    let opts = PiperOptions {
        noise: Some((0.0, 0.0)),
        ..PiperOptions::default()
    };
    let quiet = PiperTts::load_with(paths(), opts).unwrap();
    let first = samples(&quiet);
    assert!(voiced_fraction(&first, quiet.voice().sample_rate) > 0.3);
    assert_eq!(first, samples(&quiet));
}

#[test]
fn a_repeated_opening_clause_comes_from_the_unit_cache() {
    let opts = PiperOptions {
        split_first_clause: true,
        unit_cache_bytes: 4 << 20,
        ..PiperOptions::default()
    };
    // Noise on: a fresh synthesis of the same clause would differ, a cached one cannot.
    let tts = PiperTts::load_with(paths(), opts).unwrap();
    let a = collect(&tts, "Table booked, for Tanya at seven pm tomorrow.");
    let b = collect(&tts, "Table booked, for Ahmed at noon on Friday.");
    assert_eq!(a[0].text, "Table booked,");
    assert_eq!(b[0].text, "Table booked,");
    assert!(rms(&a[0].samples) > 1000.0);
    assert_eq!(a[0].samples, b[0].samples, "the opening clause is reused");
    assert_ne!(a[1].samples, b[1].samples, "the rest differs");
    // Each distinct unit is kept once.
    assert_eq!(tts.cached_units(), 3);
    // Warming with the reply's template, parameters filled with plain words (only the first
    // chunk synthesised, as the server does at start), fills the entry the real reply hits.
    let warm = PiperTts::load_with(
        paths(),
        PiperOptions {
            split_first_clause: true,
            unit_cache_bytes: 4 << 20,
            ..PiperOptions::default()
        },
    )
    .unwrap();
    let mut first = Vec::new();
    warm.synthesize("Table booked for that at that on that.", &mut |c| {
        first = c.samples;
        false
    })
    .unwrap();
    assert_eq!(warm.cached_units(), 1);
    let real = collect(&warm, "Table booked for Tanya at seven pm tomorrow.");
    assert_eq!(real[0].text, "Table booked,");
    assert_eq!(real[0].samples, first, "the warmed opening is reused");
    assert_eq!(warm.cached_units(), 2);
    // Off by default: every synthesis runs the model (fresh noise).
    let plain = PiperTts::load_with(
        paths(),
        PiperOptions {
            split_first_clause: true,
            ..PiperOptions::default()
        },
    )
    .unwrap();
    let c = collect(&plain, "Table booked, for Tanya at seven pm tomorrow.");
    let d = collect(&plain, "Table booked, for Tanya at seven pm tomorrow.");
    assert_ne!(c[0].samples, d[0].samples);
    assert_eq!(plain.cached_units(), 0);
}
