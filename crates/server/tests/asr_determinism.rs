//! The same audio is heard the same way whatever else runs: the phone path's recogniser (as
//! `phone::setup` loads it, on its own thread count) gives identical text and confidence for a
//! telephone-band booking alone and while other recognitions run beside it. Run with
//! `--release`; the models come from `switchboard models fetch`.

use sb_speech::asr::AsrOptions;
use sb_speech::tts::Tts;
use std::sync::Arc;
use switchboard::eval_voice::offline::through_codec;
use switchboard::sim_cli::SpokenLikeAPerson;

#[test]
fn the_same_audio_gives_the_same_text_alone_and_under_load() {
    let paths = match sb_speech::models::ModelStore::from_env().paths() {
        Ok(p) => p,
        Err(e) => {
            if std::env::var("SWITCHBOARD_TEST_ALLOW_SKIP").as_deref() == Ok("1") {
                eprintln!("SKIPPED: speech models missing ({e})");
                return;
            }
            panic!("speech models missing ({e}): run `switchboard models fetch`");
        }
    };
    let (asr, _tts) = switchboard::phone::setup::load_models_with(1, "en", None, Some((0.0, 0.0)))
        .expect("speech models");
    // A hard case: a Flite voice over Twilio's 8 kHz μ-law, where tiny.en's choices are close.
    let voice =
        SpokenLikeAPerson::load(&paths, "flite:kal16").expect("flite (apt-get install flite)");
    let pcm: Vec<i16> = {
        let raw = voice
            .synthesize_all(
                "can I reserve a table on June third at seven forty five p m under the name George",
            )
            .expect("synthesis");
        let f =
            sb_audio::resample(&sb_audio::i16_to_f32(&raw), voice.sample_rate(), 16_000).unwrap();
        sb_audio::f32_to_i16(&f)
    };
    let mut audio = vec![0.0f32; 300 * 16];
    audio.extend(through_codec(&pcm, "twilio").expect("codec"));
    let audio = Arc::new(audio);
    // As the phone path asks: the recogniser's own thread count.
    let opts = AsrOptions::default();
    let alone = asr.transcribe(&audio, &opts).expect("recognition");
    assert!(!alone.text.is_empty());
    for round in 0..2 {
        // Two other recognitions of other audio run beside it (busy cores, shared state pool).
        let others: Vec<_> = (0..2)
            .map(|k| {
                let asr = asr.clone();
                let other: Vec<f32> = audio
                    .iter()
                    .rev()
                    .map(|x| x * (0.5 + k as f32 * 0.2))
                    .collect();
                std::thread::spawn(move || asr.transcribe(&other, &AsrOptions::default()).ok())
            })
            .collect();
        let busy = asr.transcribe(&audio, &opts).expect("recognition");
        for o in others {
            let _ = o.join();
        }
        assert_eq!(busy.text, alone.text, "round {round}");
        assert_eq!(
            busy.confidence.to_bits(),
            alone.confidence.to_bits(),
            "round {round}"
        );
        assert_eq!(busy.words, alone.words, "round {round}");
    }
}
