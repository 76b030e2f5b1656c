//! English number words: cardinals, ordinals, years, digits.

const ONES: [&str; 20] = [
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
];
const TENS: [&str; 10] = [
    "", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety",
];
const SCALES: [(u64, &str); 5] = [
    (1_000_000_000_000_000, "quadrillion"),
    (1_000_000_000_000, "trillion"),
    (1_000_000_000, "billion"),
    (1_000_000, "million"),
    (1_000, "thousand"),
];

/// Largest value [`cardinal`] spells; longer digit strings are read digit by digit.
pub const MAX_CARDINAL: u64 = 999_999_999_999_999_999;

fn below_hundred(n: u64, out: &mut String) {
    let n = n as usize % 100;
    if n < 20 {
        out.push_str(ONES[n]);
    } else {
        out.push_str(TENS[n / 10]);
        if !n.is_multiple_of(10) {
            out.push('-');
            out.push_str(ONES[n % 10]);
        }
    }
}

fn below_thousand(n: u64, out: &mut String) {
    let h = n / 100;
    let r = n % 100;
    if h > 0 {
        out.push_str(ONES[h as usize % 20]);
        out.push_str(" hundred");
        if r > 0 {
            out.push(' ');
        }
    }
    if r > 0 || h == 0 {
        below_hundred(r, out);
    }
}

/// "forty-two", "one thousand two hundred five", "zero".
pub fn cardinal(mut n: u64) -> String {
    let mut out = String::new();
    if n == 0 {
        return "zero".into();
    }
    for (scale, name) in SCALES {
        if n >= scale {
            if !out.is_empty() {
                out.push(' ');
            }
            below_thousand(n / scale, &mut out);
            out.push(' ');
            out.push_str(name);
            n %= scale;
        }
    }
    if n > 0 {
        if !out.is_empty() {
            out.push(' ');
        }
        below_thousand(n, &mut out);
    }
    out
}

/// Turns the last word of a cardinal into its ordinal: "twenty-one" → "twenty-first".
pub fn ordinal(n: u64) -> String {
    let c = cardinal(n);
    let split = c.rfind([' ', '-']).map_or(0, |i| i + 1);
    let (head, last) = c.split_at(split);
    let last = match last {
        "one" => "first".to_string(),
        "two" => "second".into(),
        "three" => "third".into(),
        "five" => "fifth".into(),
        "eight" => "eighth".into(),
        "nine" => "ninth".into(),
        "twelve" => "twelfth".into(),
        w if w.ends_with('y') => format!("{}ieth", &w[..w.len() - 1]),
        w => format!("{w}th"),
    };
    format!("{head}{last}")
}

/// Years as spoken: 2022 → "twenty twenty-two", 2005 → "two thousand five",
/// 1999 → "nineteen ninety-nine", 1905 → "nineteen oh five", 1900 → "nineteen hundred".
pub fn year(y: u64) -> String {
    if !(1000..=9999).contains(&y) || (2000..2010).contains(&y) || y.is_multiple_of(1000) {
        return cardinal(y);
    }
    let (hi, lo) = (y / 100, y % 100);
    let mut out = String::new();
    below_hundred(hi, &mut out);
    match lo {
        0 => out.push_str(" hundred"),
        1..=9 => {
            out.push_str(" oh ");
            out.push_str(ONES[lo as usize]);
        }
        _ => {
            out.push(' ');
            below_hundred(lo, &mut out);
        }
    }
    out
}

/// Each ASCII digit as a word, space-separated; other characters are dropped.
pub fn digits(s: &str) -> String {
    s.chars()
        .filter_map(|c| c.to_digit(10).map(|d| ONES[d as usize]))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Parses a run of ASCII digits (commas allowed as thousands separators) to u64.
pub fn parse_int(s: &str) -> Option<u64> {
    let v: String = s.chars().filter(|&c| c != ',').collect();
    if v.is_empty() || !v.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    v.parse().ok().filter(|&n| n <= MAX_CARDINAL)
}

/// Spells an integer string: cardinal if it fits, else digit by digit.
pub fn number(s: &str) -> String {
    parse_int(s).map_or_else(|| digits(s), cardinal)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cardinals() {
        assert_eq!(cardinal(0), "zero");
        assert_eq!(cardinal(7), "seven");
        assert_eq!(cardinal(42), "forty-two");
        assert_eq!(cardinal(100), "one hundred");
        assert_eq!(cardinal(105), "one hundred five");
        assert_eq!(cardinal(1234), "one thousand two hundred thirty-four");
        assert_eq!(cardinal(2_000_010), "two million ten");
        assert_eq!(
            cardinal(MAX_CARDINAL),
            "nine hundred ninety-nine quadrillion nine hundred ninety-nine trillion nine hundred \
             ninety-nine billion nine hundred ninety-nine million nine hundred ninety-nine \
             thousand nine hundred ninety-nine"
        );
    }

    #[test]
    fn ordinals_years_digits() {
        assert_eq!(ordinal(1), "first");
        assert_eq!(ordinal(10), "tenth");
        assert_eq!(ordinal(12), "twelfth");
        assert_eq!(ordinal(20), "twentieth");
        assert_eq!(ordinal(21), "twenty-first");
        assert_eq!(ordinal(103), "one hundred third");
        assert_eq!(year(2022), "twenty twenty-two");
        assert_eq!(year(2000), "two thousand");
        assert_eq!(year(2005), "two thousand five");
        assert_eq!(year(1999), "nineteen ninety-nine");
        assert_eq!(year(1905), "nineteen oh five");
        assert_eq!(year(1900), "nineteen hundred");
        assert_eq!(year(2010), "twenty ten");
        assert_eq!(digits("+1 (415)"), "one four one five");
        assert_eq!(number("1,000"), "one thousand");
        assert_eq!(
            number("12345678901234567890"),
            digits("12345678901234567890")
        );
    }
}
