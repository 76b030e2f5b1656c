//! `eval voice --offline`: the same spoken sentences without the server's timing. Each caller
//! utterance goes through the transport's codec alone (Twilio: 8 kHz μ-law and back; Vonage:
//! 16 kHz L16 as is), is recognised whole by Whisper on one thread, and its text is read by the
//! engine in-process. Beside the served run it separates what the codec does from what the
//! phone path's end-pointing and early guesses do.

use super::corpus::{Case, Set};
use super::score::{self, CallOutcome};
use anyhow::Context;
use sb_nlu::dialog::{QueryInput, QueryParams, SessionState, TurnRequest, TurnStep};
use sb_nlu::engine::Engine;
use sb_speech::asr::{Asr, AsrOptions, WhisperAsr};
use sb_testkit::Voices;
use serde_json::{json, Value};

/// The endpointer's pre-roll: a served utterance starts this long before the speech.
const PRE_ROLL_MS: usize = 300;
/// The trailing silence a served utterance ends with before the end-pointer closes it.
const TAIL_MS: usize = 200;

/// `pcm` (16 kHz) as the server hears it over `transport`.
pub fn through_codec(pcm: &[i16], transport: &str) -> anyhow::Result<Vec<f32>> {
    let f = sb_audio::i16_to_f32(pcm);
    match transport {
        "twilio" => {
            let narrow = sb_audio::f32_to_i16(&sb_audio::resample(&f, 16_000, 8_000)?);
            let line = sb_audio::ulaw_decode(&sb_audio::ulaw_encode(&narrow));
            Ok(sb_audio::resample(
                &sb_audio::i16_to_f32(&line),
                8_000,
                16_000,
            )?)
        }
        _ => Ok(f),
    }
}

/// The engine's reading of `text` as one turn: the call record's shape, for [`score::score`].
fn read(engine: &Engine, text: &str, confidence: f32) -> Value {
    let mut state = SessionState::default();
    let req = TurnRequest {
        session: "projects/eval/agent/sessions/offline".into(),
        input: QueryInput::Text {
            text: text.into(),
            language_code: engine.agent.language.clone(),
        },
        params: QueryParams::default(),
        now: chrono::Utc::now(),
        sentiment: None,
        speech_confidence: Some(confidence),
        source: "eval".into(),
    };
    let turn = match engine.begin(&mut state, req) {
        TurnStep::Done(r) => json!({
            "inputKind": "speech",
            "callerText": text,
            "asrConfidence": confidence,
            "intent": r.intent_name,
            "parameters": Value::Object(r.parameters),
            "botText": r.reply_text,
        }),
        TurnStep::Webhook(_) => json!({"inputKind": "speech", "callerText": text}),
    };
    json!({"id": "offline", "turns": [turn]})
}

/// Scores every one-sentence case of `cases` over each transport without the server.
pub async fn run(
    engine: &Engine,
    cases: &[Case],
    set: Set,
    voices: &[(String, Voices)],
    transports: &[String],
    tz: chrono_tz::Tz,
) -> anyhow::Result<Vec<CallOutcome>> {
    let asr = tokio::task::spawn_blocking(|| -> anyhow::Result<WhisperAsr> {
        let paths = crate::speech_cli::model_paths(None)?;
        let cache = sb_speech::models::ModelStore::from_env().root.join("cache");
        Ok(WhisperAsr::load(&paths.whisper_dir, &cache, 1)?)
    })
    .await??;
    let asr = std::sync::Arc::new(asr);
    let mut out = Vec::new();
    for (j, case) in cases
        .iter()
        .enumerate()
        .filter(|(_, c)| c.kind == "one-sentence")
    {
        let (voice, v) = &voices[j % voices.len()];
        let pcm = v.say(&case.turns[0]).await.context("caller voice")?;
        for t in transports {
            let mut audio = vec![0.0f32; PRE_ROLL_MS * 16];
            audio.extend(through_codec(&pcm, t)?);
            audio.extend(std::iter::repeat_n(0.0, TAIL_MS * 16));
            let asr = asr.clone();
            let tr =
                tokio::task::spawn_blocking(move || asr.transcribe(&audio, &AsrOptions::default()))
                    .await??;
            let record = read(engine, &tr.text, tr.confidence);
            let today = chrono::Utc::now().with_timezone(&tz).date_naive();
            let o = score::score(case, set, voice, t, &record, today);
            eprintln!(
                "offline {} {t} {voice}: {:?} one-turn {}",
                case.id, tr.text, o.one_turn_success
            );
            out.push(o);
        }
    }
    Ok(out)
}
