//! Repair of spoken years that Whisper splits at the decade.
//!
//! "twenty twenty-two" is often written "2020-22" or "2020, 22" by Whisper tiny: it reads
//! "twenty twenty" as the year 2020 and the rest as another number. A year `XYZ0` followed by a
//! two-digit `Zd` that repeats the decade digit `Z` is one spoken year, `XYZd`. A range written
//! "2020-22" never comes out of a caller's speech ("from twenty twenty to twenty twenty-two").

use super::WordTiming;

/// Joins split years in `words` (in place), keeping the first word's start and the last's end.
pub fn repair_split_years(words: &mut Vec<WordTiming>) {
    let mut i = 0;
    while i < words.len() {
        if let Some(joined) = joined_in_one(&words[i].word) {
            words[i].word = joined;
        } else if i + 1 < words.len() {
            if let Some(joined) = joined_across(&words[i].word, &words[i + 1].word) {
                let end = words[i + 1].end_ms;
                words[i].word = joined;
                words[i].end_ms = words[i].end_ms.max(end);
                words.remove(i + 1);
            }
        }
        i += 1;
    }
}

/// "2020-22" / "2020-22." → "2022" / "2022.".
fn joined_in_one(word: &str) -> Option<String> {
    let (year, rest) = word.split_once('-')?;
    join(year, rest)
}

/// "2020," + "22." → "2022.".
fn joined_across(first: &str, second: &str) -> Option<String> {
    let year = first.strip_suffix(',')?;
    join(year, second)
}

/// `year` = "XYZ0" (1900–2090), `rest` = "Zd" + trailing punctuation → "XYZd" + punctuation.
fn join(year: &str, rest: &str) -> Option<String> {
    let y = year.as_bytes();
    let plausible = y.len() == 4
        && y.iter().all(u8::is_ascii_digit)
        && (year.starts_with("19") || year.starts_with("20"))
        && y[3] == b'0';
    if !plausible {
        return None;
    }
    let digits = rest.trim_end_matches(['.', ',', '?', '!']);
    let d = digits.as_bytes();
    if d.len() != 2 || !d.iter().all(u8::is_ascii_digit) || d[0] != y[2] || d[1] == b'0' {
        return None;
    }
    Some(format!("{}{}{}", &year[..2], digits, &rest[digits.len()..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(text: &str) -> Vec<WordTiming> {
        text.split(' ')
            .enumerate()
            .map(|(i, w)| WordTiming {
                word: w.to_string(),
                start_ms: i as u32 * 100,
                end_ms: i as u32 * 100 + 90,
            })
            .collect()
    }

    fn repaired(text: &str) -> String {
        let mut w = words(text);
        repair_split_years(&mut w);
        w.iter()
            .map(|w| w.word.as_str())
            .collect::<Vec<_>>()
            .join(" ")
    }

    #[test]
    fn joins_years_split_at_the_decade() {
        assert_eq!(
            repaired("on January 9, 2020-22 for Tanya."),
            "on January 9, 2022 for Tanya."
        );
        assert_eq!(repaired("January ninth, 2020, 22."), "January ninth, 2022.");
        assert_eq!(repaired("in 1990-95"), "in 1995");
        assert_eq!(repaired("2030-31?"), "2031?");
    }

    #[test]
    fn leaves_other_numbers_alone() {
        for text in [
            "2020-24th on this.",
            "2020-21 and 2020-30",
            "2022 for 22 people",
            "2020, 32",
            "1820-22",
            "2021-22",
            "10-12",
            "2020,",
        ] {
            let expect = if text == "2020-21 and 2020-30" {
                "2021 and 2020-30"
            } else {
                text
            };
            assert_eq!(repaired(text), expect, "{text}");
        }
    }

    #[test]
    fn keeps_timings_of_a_joined_pair() {
        let mut w = words("2020, 22 please");
        repair_split_years(&mut w);
        assert_eq!(w.len(), 2);
        assert_eq!((w[0].start_ms, w[0].end_ms), (0, 190));
        assert_eq!(w[1].word, "please");
    }
}
