use super::*;

/// Compound scores from the reference Python implementation (vaderSentiment 3.3.2,
/// `polarity_scores(s)["compound"]`, rounded to 4 places there).
const REFERENCE: &[(&str, f64)] = &[
    ("This is great, thank you!", 0.784),
    ("this is terrible, I'm furious", -0.7783),
    ("I want to book a table for two.", 0.0772),
    ("The food was not good.", -0.3412),
    ("The food was not very good at all", -0.3865),
    ("The service is VERY slow and the staff is RUDE", -0.5766),
    ("I kind of like it", 0.2975),
    (
        "The plot was good, but the characters are uncompelling and the dialog is not great.",
        -0.7042,
    ),
    ("no problem, that's fine", 0.4692),
    ("Today SUX!", -0.5461),
    ("Make sure you :) or :D today!", 0.8633),
    ("What a horrible, horrible day!!!", -0.8349),
    ("Is this really the best you can do???", 0.72),
    ("At least it isn't a horrible book.", 0.431),
    ("He is the bomb", 0.6124),
    ("I am extremely happy and somewhat tired", 0.3369),
    ("Without doubt a good experience", 0.6136),
    ("never so happy", 0.6948),
];

#[test]
fn matches_reference_implementation() {
    let v = VaderSentiment::new();
    // 7,520 lines, 14 duplicated words (the later entry wins, as in the reference).
    assert_eq!(v.lexicon_len(), 7506);
    for (text, expected) in REFERENCE {
        let got = v.compound(text);
        assert!(
            (got - expected).abs() < 6e-5,
            "{text:?}: got {got}, want {expected}"
        );
    }
}

#[test]
fn brief_examples() {
    let v = VaderSentiment::new();
    let pos = v.analyze("This is great, thank you!");
    assert!(pos.score > 0.5, "{pos:?}");
    assert!((pos.score - 0.784).abs() < 1e-3);
    assert!((pos.magnitude - 0.784).abs() < 1e-3);
    let neg = v.analyze("this is terrible, I'm furious");
    assert!(neg.score < -0.5, "{neg:?}");
    let neutral = v.analyze("The meeting is at ten tomorrow.");
    assert_eq!(
        neutral,
        SentimentScore {
            score: 0.0,
            magnitude: 0.0
        }
    );
    assert_eq!(v.analyze(""), SentimentScore::default());
    assert_eq!(v.analyze("   \n"), SentimentScore::default());
}

#[test]
fn magnitude_sums_sentences() {
    let v = VaderSentiment::new();
    let a = v.compound("This is great, thank you!");
    let b = v.compound("this is terrible, I'm furious");
    let mixed = v.analyze("This is great, thank you! this is terrible, I'm furious");
    // Two sentences of opposite polarity: magnitude is the sum of both strengths.
    assert!(
        (f64::from(mixed.magnitude) - (a.abs() + b.abs())).abs() < 1e-6,
        "{mixed:?}"
    );
    assert!(mixed.magnitude > mixed.score.abs());
    // Whole-text score as in the reference ("... I am furious." variant: -0.126).
    assert!(
        (v.compound("This is great, thank you! This is terrible, I am furious.") + 0.126).abs()
            < 6e-5
    );
    assert_eq!(
        sentences("Hi. How are you?? Fine!  3.5 is ok"),
        vec!["Hi.", "How are you??", "Fine!", "3.5 is ok"]
    );
}

#[test]
fn hostile_input_is_bounded() {
    let v = VaderSentiment::new();
    let long = "bad ".repeat(100_000);
    let s = v.analyze(&long);
    assert!(s.score < -0.99 && s.score >= -1.0);
    let s = v.analyze("é".repeat(MAX_TEXT_BYTES).as_str());
    assert_eq!(s, SentimentScore::default());
    assert_eq!(tokens("  :) hello!!  "), vec![":)", "hello"]);
}
