//! Synthetic voices for calls on a virtual clock. The caller "speaks" a vowel-like buzz (a
//! pulse train through two formants, its loudness swelling at a syllable rate), one pitch per
//! phrase: the production VAD (earshot) takes it for speech, unlike a pure tone. The scripted
//! recogniser hears which phrases' pitches are in the audio it is given and answers with their
//! words, so what it returns depends on the audio that really crossed both codecs (pre-roll,
//! the part before a pause, the whole utterance), not on a counter. The scripted synthesiser
//! says a tone whose length follows the text.

use std::f32::consts::PI;

use sb_call::Transcript;
use sb_contracts::vad::Vad;
use sb_contracts::SpeechError;

/// Samples per millisecond at the core rate.
pub const SAMPLES_PER_MS: usize = 16;
const RATE: f32 = 16_000.0;
/// Peak amplitude of the caller's phrases.
const CALLER_LEVEL: f32 = 8_000.0;
/// Peak amplitude of the bot's speech.
const BOT_LEVEL: f32 = 6_000.0;
/// The bot's pitch (any: it never reaches the recogniser).
const BOT_HZ: f32 = 1_000.0;
/// The first phrase's pitch and the step between phrases: the range earshot scores well above
/// its threshold in every frame (measured: 180–320 Hz), far enough apart to tell in 20 ms.
const FIRST_HZ: f32 = 180.0;
const STEP_HZ: f32 = 20.0;
const MAX_PHRASES: usize = 8;
/// Lags searched for the pitch (168–400 Hz): twice the longest period used is outside, so a
/// pitch is never read an octave down.
const LAGS: std::ops::RangeInclusive<usize> = 40..=95;
/// A phrase counts as heard with at least this many 20 ms blocks at its pitch.
const MIN_BLOCKS: usize = 2;

/// `ms` of a sine at `hz` and peak `level`, 16 kHz.
pub fn tone(hz: f32, ms: u64, level: f32) -> Vec<i16> {
    let n = ms as usize * SAMPLES_PER_MS;
    let w = 2.0 * PI * hz / RATE;
    (0..n)
        .map(|i| ((i as f32 * w).sin() * level) as i16)
        .collect()
}

/// `ms` of a vowel ("ah": formants at 700 and 1220 Hz) on pitch `f0`, peak `level`, its
/// loudness falling and swelling between 100 % and 20 % four times a second.
pub fn vowel(f0: f32, ms: u64, level: f32) -> Vec<i16> {
    let n = ms as usize * SAMPLES_PER_MS;
    let resonator = |hz: f32, bw: f32| {
        let r = (-PI * bw / RATE).exp();
        (2.0 * r * (2.0 * PI * hz / RATE).cos(), -r * r)
    };
    let (a1, a2) = resonator(700.0, 110.0);
    let (b1, b2) = resonator(1_220.0, 120.0);
    let (mut ya, mut yb) = ([0f32; 2], [0f32; 2]);
    let period = RATE / f0;
    let mut phase = period - 1.0;
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        phase += 1.0;
        let pulse = if phase >= period {
            phase -= period;
            1.0
        } else {
            0.0
        };
        let a = pulse + a1 * ya[0] + a2 * ya[1];
        ya = [a, ya[0]];
        let b = a + b1 * yb[0] + b2 * yb[1];
        yb = [b, yb[0]];
        let swell = 0.6 + 0.4 * (2.0 * PI * 4.0 * i as f32 / RATE).cos();
        out.push(b * swell);
    }
    let peak = out.iter().fold(f32::MIN_POSITIVE, |m, s| m.max(s.abs()));
    out.iter().map(|s| (s / peak * level) as i16).collect()
}

/// The phrases a caller can say, each with its own pitch.
#[derive(Debug, Clone, Default)]
pub struct Phrasebook {
    phrases: Vec<String>,
}

impl Phrasebook {
    /// The pitch of `text`, added to the book on first use.
    ///
    /// # Panics
    /// With more than 8 distinct phrases in one call (the pitches would leave the range a VAD
    /// takes for speech).
    pub fn pitch(&mut self, text: &str) -> f32 {
        let i = match self.phrases.iter().position(|p| p == text) {
            Some(i) => i,
            None => {
                assert!(
                    self.phrases.len() < MAX_PHRASES,
                    "at most {MAX_PHRASES} distinct phrases per virtual call"
                );
                self.phrases.push(text.to_string());
                self.phrases.len() - 1
            }
        };
        FIRST_HZ + STEP_HZ * i as f32
    }

    /// `ms` of the caller saying `text`.
    pub fn speech(&mut self, text: &str, ms: u64) -> Vec<i16> {
        let hz = self.pitch(text);
        vowel(hz, ms, CALLER_LEVEL)
    }

    /// What a recogniser hears in `pcm16k`: the phrases whose pitch it contains, in order of
    /// first appearance, joined by spaces (empty when none).
    pub fn hear(&self, pcm16k: &[i16]) -> String {
        let mut blocks = vec![0usize; self.phrases.len()];
        let mut order = Vec::new();
        for b in pcm16k.chunks_exact(320) {
            let Some(hz) = pitch_of(b) else { continue };
            let i = ((hz - FIRST_HZ) / STEP_HZ).round();
            if i < 0.0 || (FIRST_HZ + STEP_HZ * i - hz).abs() > STEP_HZ / 3.0 {
                continue;
            }
            let i = i as usize;
            if i < blocks.len() {
                blocks[i] += 1;
                if blocks[i] == MIN_BLOCKS {
                    order.push(i);
                }
            }
        }
        order
            .iter()
            .map(|&i| self.phrases[i].as_str())
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// The pitch of a 20 ms block by normalised autocorrelation, if it is voiced.
fn pitch_of(block: &[i16]) -> Option<f32> {
    let x: Vec<f32> = block.iter().map(|&s| f32::from(s)).collect();
    let energy: f32 = x.iter().map(|v| v * v).sum();
    if energy / (x.len() as f32) < 300.0 * 300.0 {
        return None;
    }
    let r = |lag: usize| {
        let (a, b) = (&x[..x.len() - lag], &x[lag..]);
        let num: f32 = a.iter().zip(b).map(|(p, q)| p * q).sum();
        let den =
            (a.iter().map(|v| v * v).sum::<f32>() * b.iter().map(|v| v * v).sum::<f32>()).sqrt();
        if den > 0.0 {
            num / den
        } else {
            0.0
        }
    };
    let (best, score) = LAGS
        .map(|l| (l, r(l)))
        .fold((0, f32::MIN), |m, c| if c.1 > m.1 { c } else { m });
    if score < 0.5 {
        return None;
    }
    // Between samples: the vertex of the parabola through the peak and its neighbours.
    let (l, c, h) = (r(best - 1), score, r(best + 1));
    let den = l - 2.0 * c + h;
    let shift = if den.abs() > f32::EPSILON {
        (0.5 * (l - h) / den).clamp(-0.5, 0.5)
    } else {
        0.0
    };
    Some(RATE / (best as f32 + shift))
}

/// The scripted recogniser: hears the phrasebook's pitches, answers after a virtual delay.
#[derive(Debug, Clone)]
pub struct ScriptedAsr {
    /// Virtual time from the request to the result.
    pub delay_ms: u64,
    /// Answer guesses at a pause ([`sb_call::AsrPriority::is_guess`]) with `AsrSkipped`, as the
    /// server does when recognition is busy.
    pub skip_guesses: bool,
}

impl Default for ScriptedAsr {
    fn default() -> Self {
        ScriptedAsr {
            delay_ms: 150,
            skip_guesses: false,
        }
    }
}

impl ScriptedAsr {
    pub fn transcript(&self, book: &Phrasebook, pcm16k: &[i16]) -> Transcript {
        Transcript {
            text: book.hear(pcm16k),
            confidence: 0.9,
            words: Vec::new(),
        }
    }
}

/// The scripted synthesiser: one tone chunk per sentence, `ms_per_char` long per character.
#[derive(Debug, Clone)]
pub struct ScriptedTts {
    /// Virtual time from the request to the first chunk.
    pub first_chunk_ms: u64,
    /// Virtual time between chunks.
    pub next_chunk_ms: u64,
    pub ms_per_char: u64,
}

impl Default for ScriptedTts {
    fn default() -> Self {
        ScriptedTts {
            first_chunk_ms: 80,
            next_chunk_ms: 20,
            ms_per_char: 20,
        }
    }
}

impl ScriptedTts {
    /// The sentences of `text` and the audio of each.
    pub fn chunks(&self, text: &str) -> Vec<Vec<i16>> {
        sentences(text)
            .into_iter()
            .map(|s| tone(BOT_HZ, self.ms_of(&s), BOT_LEVEL))
            .collect()
    }

    /// Length of the audio said for `text`, ms.
    pub fn duration_ms(&self, text: &str) -> u64 {
        sentences(text).iter().map(|s| self.ms_of(s)).sum()
    }

    fn ms_of(&self, sentence: &str) -> u64 {
        sentence.chars().count() as u64 * self.ms_per_char
    }
}

/// `text` cut after `.`, `?` and `!` followed by a space (or the end).
fn sentences(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut chars = text.trim().chars().peekable();
    while let Some(c) = chars.next() {
        cur.push(c);
        if matches!(c, '.' | '?' | '!') && chars.peek().is_none_or(|n| n.is_whitespace()) {
            out.push(std::mem::take(&mut cur).trim().to_string());
        }
    }
    if !cur.trim().is_empty() {
        out.push(cur.trim().to_string());
    }
    out
}

/// A VAD that calls a 20 ms frame speech when its peak reaches 1000 (the line is otherwise
/// digital silence): deterministic end-pointing for virtual-clock tests.
#[derive(Debug, Default, Clone, Copy)]
pub struct EnergyVad;

impl Vad for EnergyVad {
    fn speech_probability(&mut self, f: &[i16]) -> Result<f32, SpeechError> {
        let peak = f.iter().map(|s| s.unsigned_abs()).max().unwrap_or(0);
        Ok(if peak >= 1_000 { 0.95 } else { 0.02 })
    }
    fn frame_len(&self) -> usize {
        320
    }
    fn reset(&mut self) {}
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_recogniser_hears_the_phrases_in_the_audio_in_order() {
        let mut book = Phrasebook::default();
        let mut pcm = vec![0i16; 4_800];
        pcm.extend(book.speech("a table for", 600));
        pcm.extend(vec![0; 3_200]);
        pcm.extend(book.speech("Tanya", 300));
        assert_eq!(book.hear(&pcm), "a table for Tanya");
        assert_eq!(book.hear(&pcm[..4_800 + 9_600]), "a table for");
        assert_eq!(book.hear(&pcm[..4_000]), "");
        let other = book.speech("operator", 200);
        assert_eq!(book.hear(&other), "operator");
        for i in 3..8 {
            let text = format!("phrase {i}");
            assert_eq!(
                book.hear(&book.clone().speech(&text, 100)),
                "",
                "not in the book yet"
            );
            let pcm = book.speech(&text, 100);
            assert_eq!(book.hear(&pcm), text);
        }
    }

    #[test]
    fn the_synthesiser_says_each_sentence_for_its_length() {
        let tts = ScriptedTts::default();
        let chunks = tts.chunks("Hello there. How are you? Fine");
        let lens: Vec<usize> = chunks.iter().map(Vec::len).collect();
        assert_eq!(lens, vec![12 * 20 * 16, 12 * 20 * 16, 4 * 20 * 16]);
        assert_eq!(tts.duration_ms("Hello there. How are you? Fine"), 28 * 20);
        assert_eq!(sentences("At 10.30 today."), vec!["At 10.30 today."]);
    }
}
