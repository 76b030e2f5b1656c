use super::*;
use serde_json::json;

fn ex(text: &str, spans: &[(&str, &str)]) -> TaggedExample {
    let mut out = Vec::new();
    let mut from = 0;
    for (value, slot) in spans {
        let start = text[from..].find(value).unwrap() + from;
        out.push(SlotSpan {
            start,
            end: start + value.len(),
            slot: slot.to_string(),
        });
        from = start + value.len();
    }
    TaggedExample {
        text: text.into(),
        spans: out,
        hints: Vec::new(),
    }
}

fn spans(text: &str, found: &[SlotSpan]) -> Vec<(String, String)> {
    found
        .iter()
        .map(|s| (s.slot.clone(), text[s.start..s.end].to_string()))
        .collect()
}

fn pairs(v: &[(&str, &str)]) -> Vec<(String, String)> {
    v.iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
}

fn booking() -> Vec<TaggedExample> {
    vec![
        ex(
            "book a table for 4 people in Paris",
            &[("4", "guests"), ("Paris", "city")],
        ),
        ex(
            "table for two in London please",
            &[("two", "guests"), ("London", "city")],
        ),
        ex(
            "I need a table in Berlin for 6",
            &[("Berlin", "city"), ("6", "guests")],
        ),
        ex("reserve for 3 people", &[("3", "guests")]),
        ex("a table in Rome", &[("Rome", "city")]),
        ex(
            "can you book a table in Madrid for five people",
            &[("Madrid", "city"), ("five", "guests")],
        ),
        ex("book a table", &[]),
        ex(
            "for 8 people in Vienna",
            &[("8", "guests"), ("Vienna", "city")],
        ),
        ex(
            "we are 2 people, a table in Oslo",
            &[("2", "guests"), ("Oslo", "city")],
        ),
        ex(
            "in Lisbon for four",
            &[("Lisbon", "city"), ("four", "guests")],
        ),
    ]
}

#[test]
fn tags_new_values_in_known_contexts() {
    let tagger = SlotTagger::train(&booking(), &[]).unwrap();
    assert_eq!(tagger.slots(), ["guests", "city"]);
    let t = "book a table for 7 people in Dublin";
    assert_eq!(
        spans(t, &tagger.tag(t, &[])),
        pairs(&[("guests", "7"), ("city", "Dublin")])
    );
    let t = "table for three in Amsterdam please";
    assert_eq!(
        spans(t, &tagger.tag(t, &[])),
        pairs(&[("guests", "three"), ("city", "Amsterdam")])
    );
    assert_eq!(tagger.tag("book a table", &[]), []);
    assert_eq!(tagger.tag("", &[]), []);
}

#[test]
fn multi_word_values_use_gazetteers_and_hints() {
    let mut data = booking();
    data.push(ex(
        "a table in New York for 2",
        &[("New York", "city"), ("2", "guests")],
    ));
    let gaz = vec![(
        "city".to_string(),
        vec!["San Francisco".to_string(), "Los Angeles".to_string()],
    )];
    let tagger = SlotTagger::train(&data, &gaz).unwrap();
    let t = "book a table for 4 people in San Francisco";
    assert_eq!(
        spans(t, &tagger.tag(t, &[])),
        pairs(&[("guests", "4"), ("city", "San Francisco")])
    );
    // A hint on a token is accepted (and does not break tagging) even if never seen in training.
    let hint = EntityMatch {
        start: 17,
        end: 18,
        entity: "@sys.number".into(),
        value: json!(4),
        original: "4".into(),
    };
    assert_eq!(
        spans(t, &tagger.tag(t, &[hint])),
        pairs(&[("guests", "4"), ("city", "San Francisco")])
    );
    // Out-of-range hints are ignored, not a panic.
    let bad = EntityMatch {
        start: 30,
        end: 300,
        entity: "@sys.date".into(),
        value: json!(null),
        original: String::new(),
    };
    assert_eq!(tagger.tag("for 4", &[bad]).len(), 1);
}

#[test]
fn hints_are_learned_as_features() {
    let date = |text: &str, value: &str| {
        let start = text.find(value).unwrap();
        EntityMatch {
            start,
            end: start + value.len(),
            entity: "@sys.date".into(),
            value: json!(value),
            original: value.into(),
        }
    };
    let mk = |text: &str, value: &str| {
        let mut e = ex(text, &[(value, "date")]);
        e.hints.push(date(text, value));
        e
    };
    let data = vec![
        mk("remind me on monday", "monday"),
        mk("remind me tomorrow", "tomorrow"),
        mk("set a reminder for next week", "next week"),
        mk("remind me the day after tomorrow", "the day after tomorrow"),
        ex("remind me to call mom", &[]),
    ];
    let tagger = SlotTagger::train(&data, &[]).unwrap();
    let t = "remind me on the 3rd of june";
    assert_eq!(
        spans(t, &tagger.tag(t, &[date(t, "the 3rd of june")])),
        pairs(&[("date", "the 3rd of june")])
    );
}

#[test]
fn rejects_bad_spans_and_handles_no_slots() {
    let bad = TaggedExample {
        text: "héllo".into(),
        spans: vec![SlotSpan {
            start: 2,
            end: 3,
            slot: "x".into(),
        }],
        hints: vec![],
    };
    assert!(SlotTagger::train(&[bad], &[]).is_err());
    let none = SlotTagger::train(&[ex("hello there", &[])], &[]).unwrap();
    assert_eq!(none.tag("hello there", &[]), []);
    let empty = SlotTagger::train(&[], &[]).unwrap();
    assert!(empty.slots().is_empty());
}
