//! Phone numbers said digit by digit, as recognisers write them: words ("four one five"), "oh"
//! for zero, "double five", "triple seven", digits in groups or one by one ("0 1 6 1, 4 9 6"),
//! and any mix of these ("oh 7 7 double oh 9"). Duckling reads the plainly written ones; this
//! reader the rest. Values are the digits (a leading `+` kept), as for duckling's matches.

use crate::text::tokenize;
use serde_json::{json, Value};

fn digit_word(w: &str) -> Option<char> {
    Some(match w {
        "zero" | "oh" | "o" => '0',
        "one" => '1',
        "two" => '2',
        "three" => '3',
        "four" => '4',
        "five" => '5',
        "six" => '6',
        "seven" => '7',
        "eight" => '8',
        "nine" => '9',
        _ => return None,
    })
}

/// The digits a token stands for: a digit word or a run of digits.
fn digits_of(w: &str) -> Option<String> {
    if let Some(d) = digit_word(w) {
        return Some(d.to_string());
    }
    (!w.is_empty() && w.len() <= 15 && w.bytes().all(|b| b.is_ascii_digit())).then(|| w.to_string())
}

const MIN_DIGITS: usize = 7;
const MAX_DIGITS: usize = 15;

/// Digit sequences of 7–15 digits read as phone numbers: (start, end, value).
pub(crate) fn spoken_phone(text: &str) -> Vec<(usize, usize, Value)> {
    let toks = tokenize(text);
    let norm = |k: usize| toks.get(k).map_or("", |t| t.norm.as_str());
    let mut out = Vec::new();
    let mut i = 0;
    while i < toks.len() {
        let plus = norm(i) == "+";
        let first = if plus { i + 1 } else { i };
        let mut j = first;
        let mut digits = String::new();
        // Digit groups as written, to tell "1,000,000" (a number) from "415, 555, 0123".
        let mut groups: Vec<(usize, bool)> = Vec::new();
        let mut last_digit_tok = None;
        while j < toks.len() {
            let w = norm(j);
            let repeat = match w {
                "double" => 2,
                "triple" => 3,
                _ => 1,
            };
            if repeat > 1 {
                // "double 5", "double oh", "double 55" (the first digit doubled).
                let Some(next) = digits_of(norm(j + 1)) else {
                    break;
                };
                let mut cs = next.chars();
                let Some(c) = cs.next() else { break };
                digits.extend(std::iter::repeat_n(c, repeat));
                digits.extend(cs);
                groups.push((next.len() + repeat - 1, false));
                last_digit_tok = Some(j + 1);
                j += 2;
            } else if let Some(d) = digits_of(w) {
                let after_comma = j > first && norm(j - 1) == ",";
                groups.push((d.len(), after_comma));
                digits.push_str(&d);
                last_digit_tok = Some(j);
                j += 1;
            } else if matches!(w, "-" | "," | "." | "(" | ")") && !digits.is_empty()
                || (w == "(" && digits.is_empty())
            {
                j += 1;
            } else {
                break;
            }
            if digits.len() > MAX_DIGITS {
                break;
            }
        }
        let thousands = groups.len() > 1
            && groups.iter().skip(1).all(|&(n, comma)| n == 3 && comma)
            && groups.first().is_some_and(|&(n, _)| n <= 3);
        let words = toks[first..j].iter().any(|t| digit_word(&t.norm).is_some());
        let plausible = (MIN_DIGITS..=MAX_DIGITS).contains(&digits.len()) && !thousands;
        // One plain run of digits is duckling's to read (or a plain number).
        let spoken = words || groups.len() > 1;
        match last_digit_tok {
            Some(last) if plausible && spoken => {
                if let (Some(a), Some(b)) = (toks.get(i), toks.get(last)) {
                    let value = if plus { format!("+{digits}") } else { digits };
                    out.push((a.start, b.end, json!(value)));
                }
                i = last + 1;
            }
            _ => i = j.max(i + 1),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(t: &str) -> Vec<String> {
        spoken_phone(t)
            .into_iter()
            .map(|(s, e, v)| format!("{}={}", &t[s..e], v.as_str().unwrap_or_default()))
            .collect()
    }

    #[test]
    fn reads_spoken_and_mixed_digits() {
        assert_eq!(
            read("it's oh seven seven double oh nine, double oh one two three."),
            ["oh seven seven double oh nine, double oh one two three=07700900123"]
        );
        assert_eq!(
            read("415 double 5 5 0123 thanks"),
            ["415 double 5 5 0123=4155550123"]
        );
        assert_eq!(
            read("0 1 6 1, 4 9 6, 0 0 0 0"),
            ["0 1 6 1, 4 9 6, 0 0 0 0=01614960000"]
        );
        assert_eq!(
            read("oh triple 7 1 2 3 4 5 6"),
            ["oh triple 7 1 2 3 4 5 6=0777123456"]
        );
    }

    #[test]
    fn leaves_numbers_dates_and_short_runs() {
        for t in [
            "1,000,000",
            "oh, that's fine",
            "for 4 people on 01/09/2022",
            "at 8.30pm on 9 January 2022",
            "2 4 6",
            "07700900123",
        ] {
            assert!(read(t).is_empty(), "{t}: {:?}", read(t));
        }
    }
}
