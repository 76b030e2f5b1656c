//! Piper-compatible phonemisation: espeak clauses → per-sentence phoneme lists → model ids.
//!
//! Mirrors Piper (`piper-phonemize` / `piper1-gpl`): the clause's terminator (`, . ? ! ; :`) is
//! appended to its phonemes, followed by a space for `, ; :`; sentences end at `. ? !`; the
//! phoneme string is NFD-decomposed into code points (multi-code-point keys of the voice's
//! `phoneme_id_map`, e.g. diphthongs, are merged back); ids are `^ _ (id _)* $`.

use std::collections::HashMap;

use serde::Deserialize;
use unicode_normalization::UnicodeNormalization;

use crate::error::SpeechError;
use crate::espeak::Clause;

pub const PAD: &str = "_";
pub const BOS: &str = "^";
pub const EOS: &str = "$";

/// One sentence ready for synthesis.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sentence {
    /// Source text of the sentence.
    pub text: String,
    /// Phonemes, one entry per model symbol (usually one code point).
    pub phonemes: Vec<String>,
}

impl Sentence {
    /// The phonemes joined into one string (Piper's phoneme string for the sentence).
    pub fn phoneme_string(&self) -> String {
        self.phonemes.concat()
    }
}

/// Group espeak clauses into sentences the way Piper does. `clusters` are multi-code-point
/// symbols to merge (longest first). Sentences with no speakable phoneme are dropped.
pub fn sentences_from_clauses(clauses: &[Clause], clusters: &[Vec<char>]) -> Vec<Sentence> {
    let mut out = Vec::new();
    let mut text = String::new();
    let mut phonemes = String::new();
    for clause in clauses {
        let mut p = clause.phonemes.clone();
        if let Some(t) = clause.terminator {
            p.push(t);
            if matches!(t, ',' | ';' | ':') {
                p.push(' ');
            }
        }
        phonemes.push_str(&p);
        if !clause.text.is_empty() {
            if !text.is_empty() {
                text.push(' ');
            }
            text.push_str(&clause.text);
        }
        if clause.end_of_sentence {
            push_sentence(&mut out, &mut text, &mut phonemes, clusters);
        }
    }
    push_sentence(&mut out, &mut text, &mut phonemes, clusters);
    out
}

fn push_sentence(
    out: &mut Vec<Sentence>,
    text: &mut String,
    phonemes: &mut String,
    clusters: &[Vec<char>],
) {
    let chars: Vec<char> = phonemes.nfd().collect();
    let speakable = chars
        .iter()
        .any(|c| !c.is_whitespace() && !matches!(c, ',' | '.' | '?' | '!' | ';' | ':'));
    if speakable {
        out.push(Sentence {
            text: std::mem::take(text),
            phonemes: merge_clusters(&chars, clusters),
        });
    }
    text.clear();
    phonemes.clear();
}

fn merge_clusters(chars: &[char], clusters: &[Vec<char>]) -> Vec<String> {
    let mut out = Vec::with_capacity(chars.len());
    let mut i = 0;
    while i < chars.len() {
        let hit = clusters.iter().find(|k| chars[i..].starts_with(k));
        let n = hit.map_or(1, |k| k.len());
        out.push(chars[i..i + n].iter().collect());
        i += n;
    }
    out
}

#[derive(Debug, Deserialize)]
struct RawConfig {
    audio: RawAudio,
    #[serde(default)]
    espeak: Option<RawEspeak>,
    #[serde(default)]
    inference: Option<RawInference>,
    #[serde(default)]
    num_speakers: Option<u32>,
    #[serde(default)]
    phoneme_type: Option<String>,
    phoneme_id_map: HashMap<String, Vec<i64>>,
}

#[derive(Debug, Deserialize)]
struct RawAudio {
    sample_rate: u32,
}

#[derive(Debug, Deserialize)]
struct RawEspeak {
    voice: String,
}

#[derive(Debug, Deserialize)]
struct RawInference {
    noise_scale: Option<f32>,
    length_scale: Option<f32>,
    noise_w: Option<f32>,
}

/// A Piper voice's `.onnx.json`.
#[derive(Debug, Clone)]
pub struct VoiceConfig {
    pub sample_rate: u32,
    pub espeak_voice: String,
    pub noise_scale: f32,
    pub length_scale: f32,
    pub noise_w: f32,
    pub num_speakers: u32,
    pub phoneme_id_map: HashMap<String, Vec<i64>>,
    /// Multi-code-point symbols of the id map, longest first.
    pub clusters: Vec<Vec<char>>,
}

impl VoiceConfig {
    pub fn from_json(json: &str) -> Result<Self, SpeechError> {
        let raw: RawConfig = serde_json::from_str(json)
            .map_err(|e| SpeechError::Model(format!("bad Piper voice config: {e}")))?;
        if let Some(t) = raw.phoneme_type.as_deref() {
            if t != "espeak" {
                return Err(SpeechError::Model(format!(
                    "Piper voice phoneme_type {t:?} is not supported (only \"espeak\")"
                )));
            }
        }
        for sym in [PAD, BOS, EOS] {
            if raw.phoneme_id_map.get(sym).is_none_or(|v| v.is_empty()) {
                return Err(SpeechError::Model(format!(
                    "Piper voice config has no id for {sym:?}"
                )));
            }
        }
        if raw.audio.sample_rate == 0 {
            return Err(SpeechError::Model("Piper voice sample_rate is 0".into()));
        }
        let mut clusters: Vec<Vec<char>> = raw
            .phoneme_id_map
            .keys()
            .map(|k| k.chars().collect::<Vec<_>>())
            .filter(|k| k.len() > 1)
            .collect();
        clusters.sort_by(|a, b| b.len().cmp(&a.len()).then_with(|| a.cmp(b)));
        let inf = raw.inference.unwrap_or(RawInference {
            noise_scale: None,
            length_scale: None,
            noise_w: None,
        });
        Ok(VoiceConfig {
            sample_rate: raw.audio.sample_rate,
            espeak_voice: raw.espeak.map_or_else(|| "en-us".to_string(), |e| e.voice),
            noise_scale: inf.noise_scale.unwrap_or(0.667),
            length_scale: inf.length_scale.unwrap_or(1.0),
            noise_w: inf.noise_w.unwrap_or(0.8),
            num_speakers: raw.num_speakers.unwrap_or(1),
            phoneme_id_map: raw.phoneme_id_map,
            clusters,
        })
    }

    /// `^ _ (id _)* $`; phonemes missing from the map are skipped (as Piper does) and
    /// counted in the second value.
    pub fn phoneme_ids(&self, phonemes: &[String]) -> (Vec<i64>, usize) {
        let m = &self.phoneme_id_map;
        let (pad, bos, eos) = (&m[PAD], &m[BOS], &m[EOS]);
        let mut ids = Vec::with_capacity(phonemes.len() * 2 + 3);
        ids.extend_from_slice(bos);
        ids.extend_from_slice(pad);
        let mut missing = 0;
        for p in phonemes {
            match m.get(p.as_str()) {
                Some(v) => {
                    ids.extend_from_slice(v);
                    ids.extend_from_slice(pad);
                }
                None => missing += 1,
            }
        }
        ids.extend_from_slice(eos);
        (ids, missing)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn clause(p: &str, t: &str, term: Option<char>, eos: bool) -> Clause {
        Clause {
            phonemes: p.into(),
            text: t.into(),
            terminator: term,
            end_of_sentence: eos,
        }
    }

    #[test]
    fn punctuation_and_sentence_split_like_piper() {
        let c = [
            clause("ðˈɪs", "this,", Some(','), false),
            clause("ɪz", "is:", Some(':'), false),
            clause("ˈeɪ", "a;", Some(';'), false),
            clause("tˈɛst", "test.", Some('.'), true),
            clause("tˈɛst tˈuː", "Test 2", None, true),
        ];
        let s = sentences_from_clauses(&c, &[]);
        assert_eq!(s.len(), 2);
        assert_eq!(s[0].phoneme_string(), "ðˈɪs, ɪz: ˈeɪ; tˈɛst.");
        assert_eq!(s[0].text, "this, is: a; test.");
        assert_eq!(s[1].phoneme_string(), "tˈɛst tˈuː");
    }

    #[test]
    fn nfd_and_clusters() {
        // "ç" decomposes into "c" + combining cedilla, as in Piper.
        let s = sentences_from_clauses(&[clause("lˈɪçt", "licht!", Some('!'), true)], &[]);
        assert_eq!(s[0].phonemes, ["l", "ˈ", "ɪ", "c", "\u{327}", "t", "!"]);
        let clusters = vec!["aɪ".chars().collect::<Vec<_>>()];
        let s = sentences_from_clauses(&[clause("maɪ", "my", None, true)], &clusters);
        assert_eq!(s[0].phonemes, ["m", "aɪ"]);
    }

    #[test]
    fn punctuation_only_sentence_is_dropped() {
        let s = sentences_from_clauses(&[clause("", "...", Some('.'), true)], &[]);
        assert!(s.is_empty());
    }

    #[test]
    fn ids_have_bos_pads_eos() {
        let json = r#"{"audio":{"sample_rate":22050},"espeak":{"voice":"en-us"},
            "inference":{"noise_scale":0.5,"length_scale":1.1,"noise_w":0.7},
            "phoneme_id_map":{"_":[0],"^":[1],"$":[2],"a":[14],"b":[15]}}"#;
        let v = VoiceConfig::from_json(json).unwrap();
        let (ids, missing) = v.phoneme_ids(&["a".into(), "x".into(), "b".into()]);
        assert_eq!(ids, [1, 0, 14, 0, 15, 0, 2]);
        assert_eq!(missing, 1);
        assert_eq!(v.length_scale, 1.1);
    }

    #[test]
    fn bad_config_is_an_error() {
        assert!(VoiceConfig::from_json("{").is_err());
        let no_pad = r#"{"audio":{"sample_rate":22050},"phoneme_id_map":{"^":[1],"$":[2]}}"#;
        assert!(VoiceConfig::from_json(no_pad).is_err());
    }
}
