//! The telephone-band evaluation set: caller utterances synthesised at run time by voices other
//! than the bot's (CMU Flite's four English speakers and espeak-ng), perturbed (speed ±10 %, white or babble noise at 20–30 dB SNR),
//! sent through 8 kHz G.711 μ-law and brought back to 16 kHz like the media path does.
//! Everything is deterministic: only the texts below are committed.

use sb_audio::g711::{ulaw_decode, ulaw_encode};

use crate::error::SpeechError;
use crate::models::ModelPaths;
use std::sync::Arc;

use crate::tts::{caller_voice, Tts};

/// Reference texts by category, as a caller would say them.
pub const TEXTS: &[(&str, &str)] = &[
    (
        "booking",
        "I'd like to book a table at ten a.m. on the ninth of January for Tanya",
    ),
    ("booking", "Book a table for Michael tomorrow at seven p.m."),
    (
        "booking",
        "Can I reserve a table for Friday at eight p.m. under the name Sarah",
    ),
    (
        "booking",
        "A table for Nicole on the tenth at one p.m. please",
    ),
    (
        "booking",
        "Could I book a table at two p.m. on the twelfth of October for Joseph",
    ),
    (
        "booking",
        "I'd like to book a table on the tenth of September at four p.m. for Amanda",
    ),
    (
        "booking",
        "I would like a table for four people on Saturday evening",
    ),
    ("booking", "Can we get a table for two at half past seven"),
    (
        "booking",
        "I want to make a reservation for tonight at eight",
    ),
    (
        "booking",
        "Book me a table for six on Sunday the ninth of January",
    ),
    ("booking", "Do you have a table free tomorrow at noon"),
    ("booking", "A table for three at seven thirty p.m. please"),
    (
        "booking",
        "I'd like to reserve a table for Tanya on Monday at six p.m.",
    ),
    (
        "booking",
        "Could you book a table for David next Friday at nine",
    ),
    (
        "booking",
        "We would like a table for five on the first of March at eight p.m.",
    ),
    (
        "booking",
        "Please book a table for Emily on Thursday at seven",
    ),
    ("answer", "Tanya"),
    ("answer", "tomorrow"),
    ("answer", "at seven p.m."),
    ("answer", "yes"),
    ("answer", "no"),
    ("answer", "yes please"),
    ("answer", "no thanks"),
    ("answer", "Sunday"),
    ("answer", "Michael"),
    ("answer", "at ten a.m."),
    ("answer", "for two people"),
    ("answer", "next Friday"),
    ("answer", "the ninth of January"),
    ("answer", "that's right"),
    ("answer", "Sarah"),
    ("answer", "tonight at eight"),
    ("answer", "Nicole"),
    ("answer", "four people"),
    ("answer", "okay"),
    ("handoff", "I want to speak to an agent"),
    ("handoff", "Can I talk to a human"),
    ("handoff", "Let me talk to a real person"),
    ("handoff", "Representative please"),
    ("handoff", "Transfer me to a person"),
    ("handoff", "I'd like to speak to the manager"),
    ("pause", "I need to check my calendar"),
    ("pause", "Let me check my diary first"),
    ("pause", "Hold on, I need to look at my schedule"),
    ("pause", "I'll call you back when I know"),
    ("pause", "Can I get back to you on that"),
    ("pause", "One moment please"),
    (
        "digits",
        "four one five three three three two one nine eight",
    ),
    ("digits", "My number is five five five one two three four"),
    ("digits", "zero two zero seven nine four six zero"),
    ("digits", "one two three four"),
    ("digits", "The code is eight six two"),
    (
        "digits",
        "seven zero three five five five zero one nine nine",
    ),
    ("digits", "My booking reference is four two seven"),
    ("other", "Hello, is this the restaurant?"),
    ("other", "Good morning"),
    ("other", "Thank you, goodbye"),
    ("other", "That's all, thanks"),
    ("other", "What time do you open tomorrow"),
    ("other", "I want to cancel my booking"),
];

/// Caller voices (none is the bot's Piper voice), as [`caller_voice`] specs.
pub const VOICES: &[&str] = &[
    "flite:slt",
    "flite:rms",
    "flite:awb",
    "flite:kal16",
    "en-us",
    "flite:slt",
    "flite:rms",
];
const SPEEDS: [f32; 3] = [1.0, 0.9, 1.1];

/// Line noise added before the μ-law round trip.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Noise {
    None,
    /// White noise at this SNR (dB) relative to the speech.
    White(f32),
    /// Several voices talking over each other, at this SNR (dB).
    Babble(f32),
}
const NOISES: [Noise; 5] = [
    Noise::None,
    Noise::White(25.0),
    Noise::Babble(20.0),
    Noise::White(30.0),
    Noise::Babble(25.0),
];

/// One synthesised test utterance.
#[derive(Debug, Clone)]
pub struct EvalUtterance {
    pub id: String,
    pub category: &'static str,
    pub text: &'static str,
    pub voice: &'static str,
    pub speed: f32,
    pub noise: Noise,
    /// 16 kHz mono in [-1, 1], after the 8 kHz μ-law round trip.
    pub pcm_16k: Vec<f32>,
}

impl EvalUtterance {
    pub fn audio_s(&self) -> f64 {
        self.pcm_16k.len() as f64 / 16_000.0
    }
}

/// Renders every text once, and the short prompt answers a second time with another voice
/// and perturbation (they are the hard case), ~80 utterances.
pub fn build_corpus(paths: &ModelPaths) -> Result<Vec<EvalUtterance>, SpeechError> {
    let mut plan: Vec<(usize, usize)> = (0..TEXTS.len()).map(|i| (i, i)).collect();
    plan.extend(
        (0..TEXTS.len())
            .filter(|&i| TEXTS[i].0 == "answer")
            .map(|i| (i, i + 3)),
    );
    let voices: Vec<Arc<dyn Tts>> = VOICES
        .iter()
        .map(|v| caller_voice(paths, v))
        .collect::<Result<_, _>>()?;
    let babble = babble(&voices)?;
    let mut out = Vec::with_capacity(plan.len());
    for (k, (ti, cond)) in plan.into_iter().enumerate() {
        let (category, text) = TEXTS[ti];
        let vi = cond % VOICES.len();
        let speed = SPEEDS[cond % SPEEDS.len()];
        let noise = NOISES[cond % NOISES.len()];
        let raw = voices[vi].synthesize_all(text)?;
        let rate = voices[vi].sample_rate();
        let pcm_16k = telephone(&raw, rate, speed, noise, &babble, k as u32)?;
        out.push(EvalUtterance {
            id: format!("{category}-{ti:02}-{}", VOICES[vi]),
            category,
            text,
            voice: VOICES[vi],
            speed,
            noise,
            pcm_16k,
        });
    }
    Ok(out)
}

/// Babble source at 8 kHz: three voices saying unrelated sentences at once.
fn babble(voices: &[Arc<dyn Tts>]) -> Result<Vec<f32>, SpeechError> {
    let lines = [
        "So we went down to the market and bought some apples and a loaf of bread.",
        "The meeting has been moved to Wednesday afternoon because of the weather.",
        "Did you see the game last night, it went on until almost midnight.",
    ];
    let mut mix: Vec<f32> = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let v = &voices[(i * 2 + 1) % voices.len()];
        let s = to_8k(&v.synthesize_all(line)?, v.sample_rate(), 1.0)?;
        if mix.len() < s.len() {
            mix.resize(s.len(), 0.0);
        }
        // Offset each talker so their pauses do not line up.
        let len = mix.len().max(1);
        for (j, x) in s.iter().enumerate() {
            mix[(j + i * 4_000) % len] += x;
        }
    }
    Ok(mix)
}

/// Voice output → speed change → 8 kHz.
fn to_8k(samples: &[i16], rate: u32, speed: f32) -> Result<Vec<f32>, SpeechError> {
    let f = sb_audio::i16_to_f32(samples);
    let f = if (speed - 1.0).abs() > 1e-3 {
        stretch(&f, speed)
    } else {
        f
    };
    sb_audio::resample(&f, rate, 8000).map_err(|e| SpeechError::Other(e.to_string()))
}

/// Speed perturbation (tempo and pitch together, like playing a tape faster) by linear
/// interpolation; the following 8 kHz resample low-passes away the interpolation images.
fn stretch(x: &[f32], speed: f32) -> Vec<f32> {
    let n = ((x.len() as f32) / speed) as usize;
    (0..n)
        .map(|i| {
            let p = i as f32 * speed;
            let j = p as usize;
            let t = p - j as f32;
            let a = x.get(j).copied().unwrap_or(0.0);
            let b = x.get(j + 1).copied().unwrap_or(a);
            a + (b - a) * t
        })
        .collect()
}

/// Mean power of the frames louder than 1/10 of the loudest (the speech, not the pauses).
fn speech_power(x: &[f32]) -> f32 {
    let frames: Vec<f32> = x
        .chunks(160)
        .map(|f| f.iter().map(|v| v * v).sum::<f32>() / f.len() as f32)
        .collect();
    let max = frames.iter().copied().fold(0.0, f32::max);
    let loud: Vec<f32> = frames.into_iter().filter(|&p| p >= max * 0.01).collect();
    loud.iter().sum::<f32>() / loud.len().max(1) as f32
}

/// What a phone call delivers of `raw` (mono at `rate`): speed change, 150 ms of line on either
/// side, `noise` (babble drawn from `babble` at an offset picked by `seed`; white noise seeded
/// by `seed`), 8 kHz G.711 μ-law round trip, back to 16 kHz f32.
pub fn telephone(
    raw: &[i16],
    rate: u32,
    speed: f32,
    noise: Noise,
    babble: &[f32],
    seed: u32,
) -> Result<Vec<f32>, SpeechError> {
    let speech = to_8k(raw, rate, speed)?;
    // 150 ms of line before and after, as an endpointer would cut it.
    let pad = vec![0.0f32; 1_200];
    let mut x: Vec<f32> = pad.iter().chain(&speech).chain(&pad).copied().collect();
    let p_speech = speech_power(&speech);
    let mut rng = seed.wrapping_mul(2_654_435_761).wrapping_add(12_345);
    let mut white = move || {
        rng = rng.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
        (rng >> 8) as f32 / (1u32 << 24) as f32 * 2.0 - 1.0
    };
    let (snr, src): (f32, Vec<f32>) = match noise {
        Noise::None => (f32::INFINITY, Vec::new()),
        Noise::White(db) => (db, (0..x.len()).map(|_| white()).collect()),
        Noise::Babble(db) if !babble.is_empty() => {
            let off = (seed as usize * 7_919) % babble.len();
            (
                db,
                (0..x.len())
                    .map(|i| babble[(off + i) % babble.len()])
                    .collect(),
            )
        }
        Noise::Babble(_) => (f32::INFINITY, Vec::new()),
    };
    if snr.is_finite() {
        let p_noise = src.iter().map(|v| v * v).sum::<f32>() / src.len().max(1) as f32;
        if p_noise > 0.0 {
            let gain = (p_speech / p_noise / 10f32.powf(snr / 10.0)).sqrt();
            x.iter_mut().zip(&src).for_each(|(v, n)| *v += n * gain);
        }
    }
    let ulaw = ulaw_encode(&sb_audio::f32_to_i16(&x));
    let back = sb_audio::i16_to_f32(&ulaw_decode(&ulaw));
    sb_audio::resample(&back, 8000, 16_000).map_err(|e| SpeechError::Other(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn corpus_covers_every_category() {
        for c in ["booking", "answer", "handoff", "pause", "digits", "other"] {
            assert!(TEXTS.iter().filter(|t| t.0 == c).count() >= 5, "{c}");
        }
        let answers = TEXTS.iter().filter(|t| t.0 == "answer").count();
        assert!((60..=100).contains(&(TEXTS.len() + answers)));
    }

    #[test]
    fn stretch_changes_duration_and_noise_hits_the_snr() {
        let x: Vec<f32> = (0..8000).map(|i| (i as f32 * 0.05).sin() * 0.3).collect();
        assert_eq!(stretch(&x, 1.1).len(), 7272);
        assert_eq!(stretch(&x, 0.9).len(), 8888);
        let p = speech_power(&x);
        assert!((p - 0.045).abs() < 0.002, "{p}");
    }
}
