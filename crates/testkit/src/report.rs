//! What a simulated call observed: per-turn latency, bot text, expectations, protocol problems.

use std::fmt;
use std::path::PathBuf;

use serde::Serialize;

/// Who ended the call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum HungUpBy {
    Bot,
    Caller,
}

/// One exchange: what the caller did and how the bot answered.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TurnReport {
    /// The caller's words (or `[dtmf 12#]`, `[silence 3000 ms]`, …); empty for the greeting.
    pub caller: String,
    /// ASR transcript of the bot's reply (`None` without ASR, or without a reply).
    pub bot_text: Option<String>,
    /// End of the caller's audio (last DTMF key, start of a silence) → first non-silent bot
    /// audio, as heard: when it arrived, or later if it queued behind audio still playing or
    /// behind silence sent in the same burst. Greeting: start message → first bot audio.
    /// `None`: no reply.
    pub latency_ms: Option<u64>,
    /// Bot audio in the reply (what was or would have been heard; cleared audio excluded).
    pub bot_audio_ms: u64,
    /// All of this turn's expectations held (`Some(true)`), one failed (`Some(false)`), or
    /// nothing could be checked (`None`).
    pub expectation: Option<bool>,
    /// Why an expectation failed or could not be checked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expectation_detail: Option<String>,
    /// The caller started its next turn while this reply was still playing.
    pub interrupted: bool,
    /// The server sent `clear` during this reply.
    pub bot_cleared: bool,
}

/// The outcome of one simulated call.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CallReport {
    /// The call id the caller announced (Twilio `callSid`, Vonage `uuid`).
    pub call_id: String,
    /// `twilio` or `vonage`.
    pub transport: String,
    pub greeting: Option<TurnReport>,
    pub turns: Vec<TurnReport>,
    /// Protocol and conversation problems, one line each (`…(×N)` when repeated).
    pub problems: Vec<String>,
    pub hung_up_by: HungUpBy,
    /// Wall-clock length of the call (socket open → closed).
    pub duration_ms: u64,
    /// WAV files written (`record_dir`).
    pub recordings: Vec<PathBuf>,
    /// No problems and no failed expectation.
    pub ok: bool,
}

impl CallReport {
    /// Every reply latency of the call (greeting excluded).
    pub fn reply_latencies(&self) -> impl Iterator<Item = u64> + '_ {
        self.turns.iter().filter_map(|t| t.latency_ms)
    }

    pub(crate) fn compute_ok(&mut self) {
        self.ok = self.problems.is_empty()
            && self
                .greeting
                .iter()
                .chain(&self.turns)
                .all(|t| t.expectation != Some(false));
    }
}

impl fmt::Display for CallReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "call {} over {}: {} turn(s), {:.1} s, hung up by {} — {}",
            self.call_id,
            self.transport,
            self.turns.len(),
            self.duration_ms as f64 / 1000.0,
            match self.hung_up_by {
                HungUpBy::Bot => "the bot",
                HungUpBy::Caller => "the caller",
            },
            if self.ok { "OK" } else { "FAILED" }
        )?;
        if let Some(g) = &self.greeting {
            write_bot(f, g)?;
        }
        for t in &self.turns {
            writeln!(f, "caller> {}", t.caller)?;
            write_bot(f, t)?;
        }
        if !self.problems.is_empty() {
            writeln!(f, "problems:")?;
            for p in &self.problems {
                writeln!(f, "  - {p}")?;
            }
        }
        for r in &self.recordings {
            writeln!(f, "recorded {}", r.display())?;
        }
        Ok(())
    }
}

fn write_bot(f: &mut fmt::Formatter<'_>, t: &TurnReport) -> fmt::Result {
    let Some(latency) = t.latency_ms else {
        write!(f, "bot> [no reply]")?;
        return write_expectation(f, t);
    };
    let text = match &t.bot_text {
        Some(s) if !s.is_empty() => s.clone(),
        Some(_) => format!(
            "[{:.1} s of unintelligible audio]",
            t.bot_audio_ms as f64 / 1e3
        ),
        None => format!("[{:.1} s of audio]", t.bot_audio_ms as f64 / 1e3),
    };
    write!(f, "bot ({latency} ms)> {text}")?;
    if t.bot_cleared {
        write!(f, " [cleared]")?;
    } else if t.interrupted {
        write!(f, " [interrupted]")?;
    }
    write_expectation(f, t)
}

fn write_expectation(f: &mut fmt::Formatter<'_>, t: &TurnReport) -> fmt::Result {
    match (t.expectation, &t.expectation_detail) {
        (Some(true), Some(d)) => writeln!(f, "  ✓ ({d})"),
        (Some(true), None) => writeln!(f, "  ✓"),
        (Some(false), Some(d)) => writeln!(f, "  ✗ {d}"),
        (Some(false), None) => writeln!(f, "  ✗"),
        (None, Some(d)) => writeln!(f, "  ({d})"),
        (None, None) => writeln!(f),
    }
}

/// Lower-case words separated by single spaces; punctuation and symbols become separators.
pub fn normalize_text(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_alphanumeric() {
                c.to_lowercase().next().unwrap_or(c)
            } else if c == '\'' || c == '’' {
                '\0'
            } else {
                ' '
            }
        })
        .filter(|c| *c != '\0')
        .collect::<String>()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// Whether `haystack` contains the words of `needle` in order, on word boundaries
/// (case-insensitive, punctuation ignored, tolerant of `-s`/`-ed`/`-ing` endings: telephone
/// audio often swallows a final consonant, so ASR hears "table book" for "table booked").
pub fn text_contains(haystack: &str, needle: &str) -> bool {
    let n = stemmed(needle);
    !n.is_empty() && format!(" {} ", stemmed(haystack)).contains(&format!(" {n} "))
}

/// Like [`text_contains`], word by word on how the words sound (their Metaphone keys; words
/// with digits must match as spelt). For text a simulated caller heard through its own speech
/// recognition, which slips on single sounds ("Table bucked" for "Table booked"); a word that
/// sounds different ("blocked", "stable") still fails.
pub fn text_sounds_contains(haystack: &str, needle: &str) -> bool {
    let n = sound_keys(needle);
    let h = sound_keys(haystack);
    !n.is_empty() && h.windows(n.len()).any(|w| w == n.as_slice())
}

fn sound_keys(s: &str) -> Vec<String> {
    use rphonetic::Encoder as _;
    let metaphone = rphonetic::Metaphone::default();
    stemmed(s)
        .split(' ')
        .filter(|w| !w.is_empty())
        .map(|w| {
            if w.chars().any(|c| c.is_ascii_digit()) {
                w.to_string()
            } else {
                let key = metaphone.encode(w);
                if key.is_empty() {
                    w.to_string()
                } else {
                    key
                }
            }
        })
        .collect()
}

fn stemmed(s: &str) -> String {
    normalize_text(s)
        .split(' ')
        .map(stem)
        .collect::<Vec<_>>()
        .join(" ")
}

/// A deliberately light stemmer: drops one `ing`, `ed` or plural `s` ending from longer words.
fn stem(w: &str) -> &str {
    let n = w.chars().count();
    for (suffix, min_len) in [("ing", 6), ("ed", 5), ("s", 4)] {
        if n >= min_len && w.ends_with(suffix) && !w.ends_with("ss") {
            return &w[..w.len() - suffix.len()];
        }
    }
    w
}

/// Collects problem lines, folding repeats into a count and capping distinct entries.
#[derive(Debug, Default)]
pub(crate) struct Problems {
    entries: Vec<(String, usize)>,
    overflow: usize,
}

/// Distinct problem lines kept per call.
const MAX_PROBLEMS: usize = 20;

impl Problems {
    pub(crate) fn add(&mut self, msg: impl Into<String>) {
        let mut msg: String = msg.into();
        if msg.len() > 300 {
            let mut cut = 300;
            while !msg.is_char_boundary(cut) {
                cut -= 1;
            }
            msg.truncate(cut);
            msg.push('…');
        }
        if let Some(e) = self.entries.iter_mut().find(|(m, _)| *m == msg) {
            e.1 += 1;
        } else if self.entries.len() < MAX_PROBLEMS {
            self.entries.push((msg, 1));
        } else {
            self.overflow += 1;
        }
    }

    pub(crate) fn into_lines(self) -> Vec<String> {
        let mut out: Vec<String> = self
            .entries
            .into_iter()
            .map(|(m, n)| if n > 1 { format!("{m} (×{n})") } else { m })
            .collect();
        if self.overflow > 0 {
            out.push(format!("… and {} more problem(s)", self.overflow));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matching_ignores_case_and_punctuation_on_word_boundaries() {
        assert_eq!(
            normalize_text("Table booked!  For TANYA."),
            "table booked for tanya"
        );
        assert!(text_contains("OK. Table booked, see you.", "table booked"));
        assert!(text_contains("I'd like that", "id like"));
        assert!(!text_contains("Tablebooked", "table booked"));
        assert!(!text_contains("stable booked", "table booked"));
        assert!(!text_contains("anything", "?!"));
        assert!(text_contains("table book for Tanya", "Table booked"));
        assert!(text_contains("two tables booked", "table booked"));
        assert!(!text_contains("table bookkeeper", "table booked"));
        assert!(text_contains("the class", "class"));
        assert!(!text_contains("table for two", "table for three"));
    }

    #[test]
    fn heard_text_matches_by_sound_but_not_a_different_word() {
        assert!(text_sounds_contains(
            "Table bucked for Tanya at any M",
            "Table booked"
        ));
        assert!(text_sounds_contains(
            "table booked for Tonya",
            "booked for Tanya"
        ));
        assert!(!text_sounds_contains(
            "Table blocked for Tanya",
            "Table booked"
        ));
        assert!(!text_sounds_contains("stable booked", "table booked"));
        assert!(!text_sounds_contains(
            "For whom should I book the table?",
            "Table booked"
        ));
        assert!(!text_sounds_contains("table for 2", "table for 3"));
        assert!(!text_sounds_contains("anything", "?!"));
    }

    #[test]
    fn problems_fold_repeats() {
        let mut p = Problems::default();
        p.add("bad frame");
        p.add("bad frame");
        p.add("other");
        assert_eq!(p.into_lines(), vec!["bad frame (×2)", "other"]);
    }
}
