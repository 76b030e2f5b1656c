use super::*;

fn restaurant() -> Vec<(String, usize)> {
    let data: &[(&str, usize)] = &[
        ("book a table for two", 0),
        ("i want to reserve a table tonight", 0),
        ("can i make a reservation for four people", 0),
        ("reserve a table at 8 pm", 0),
        ("book me a table for tomorrow evening", 0),
        ("i'd like a reservation for saturday", 0),
        ("table for three at seven please", 0),
        ("get us a table for dinner", 0),
        ("when are you open", 1),
        ("what are your opening hours", 1),
        ("are you open on sunday", 1),
        ("what time do you close tonight", 1),
        ("how late are you open", 1),
        ("opening times for the weekend", 1),
        ("cancel my reservation", 2),
        ("i need to cancel my booking", 2),
        ("please cancel the table i booked", 2),
        ("call off my reservation for friday", 2),
        ("i can't make it, cancel it", 2),
        ("drop my booking", 2),
    ];
    data.iter().map(|(t, c)| (t.to_string(), *c)).collect()
}

fn argmax(p: &[f32]) -> usize {
    p.iter()
        .enumerate()
        .fold(0, |b, (i, v)| if *v > p[b] { i } else { b })
}

#[test]
fn classifies_in_domain_queries() {
    let clf = IntentClassifier::train(&restaurant(), 4).unwrap();
    let cases = [
        ("could you book a table for six people", 0),
        ("reserve a table for friday night", 0),
        ("are you open on monday", 1),
        ("what time do you open", 1),
        ("cancel my booking for tonight", 2),
        ("please cancel the reservation", 2),
    ];
    for (q, want) in cases {
        let p = clf.predict(q);
        assert_eq!(p.len(), 4);
        assert_eq!(argmax(&p), want, "{q}: {p:?}");
        assert!(p[want] > 0.5, "{q}: {p:?}");
        assert_eq!(p[3], 0.0, "class without examples is never predicted");
        assert!(p.iter().sum::<f32>() <= 1.0 + 1e-5);
    }
}

#[test]
fn out_of_domain_scores_low() {
    let clf = IntentClassifier::train(&restaurant(), 4).unwrap();
    for q in [
        "what is the weather like on jupiter",
        "xqzt vlorp gnarf",
        "who is the president of france",
        "my car needs new brakes",
        "asdfgh",
    ] {
        let p = clf.predict(q);
        assert!(p.iter().all(|v| *v < 0.3), "{q}: {p:?}");
    }
    assert_eq!(clf.predict(""), vec![0.0; 4]);
    assert_eq!(clf.predict("?!"), vec![0.0; 4]);
}

#[test]
fn single_class_agent() {
    let ex: Vec<(String, usize)> = [
        "talk to a human",
        "i want an agent",
        "connect me to a person",
        "speak to someone real",
    ]
    .iter()
    .map(|t| (t.to_string(), 0))
    .collect();
    let clf = IntentClassifier::train(&ex, 1).unwrap();
    assert!(
        clf.predict("can i talk to a person")[0] > 0.5,
        "{:?}",
        clf.predict("can i talk to a person")
    );
    assert!(clf.predict("how tall is the eiffel tower")[0] < 0.3);
}

#[test]
fn deterministic_and_validates_input() {
    let a = IntentClassifier::train(&restaurant(), 3).unwrap();
    let b = IntentClassifier::train(&restaurant(), 3).unwrap();
    assert_eq!(a.predict("book a table"), b.predict("book a table"));
    assert!(IntentClassifier::train(&restaurant(), 2).is_err());
    assert!(IntentClassifier::train(&[], 0).is_err());
    let empty = IntentClassifier::train(&[], 2).unwrap();
    assert_eq!(empty.predict("book a table"), vec![0.0, 0.0]);
}

fn music() -> (Vec<(String, usize)>, Gazetteers) {
    let data: &[(&str, usize)] = &[
        ("play the jazz classics playlist", 0),
        ("play something by adele", 0),
        ("play some music", 0),
        ("i want to hear a song", 0),
        ("start my workout mix", 0),
        ("add this song to my road trip playlist", 1),
        ("add this tune to my chill playlist", 1),
        ("put this track on my workout mix", 1),
        ("add a tune to the jazz classics playlist", 1),
        ("include this album in my party list", 1),
    ];
    let mut g = Gazetteers::new();
    for v in [
        "jazz classics",
        "road trip",
        "chill",
        "workout mix",
        "jazz classics",
    ] {
        g.add_annotated("playlist", v);
    }
    g.add_values("artist", &["adele", "nina simone"]);
    let ex = data.iter().map(|(t, c)| (t.to_string(), *c)).collect();
    (ex, g)
}

#[test]
fn entity_lists_are_features() {
    let (ex, g) = music();
    let plain = IntentClassifier::train(&ex, 2).unwrap();
    let with = IntentClassifier::train_with(&ex, 2, &g).unwrap();
    // A known artist the plain classifier never saw, in a text without carrier words.
    let q = "nina simone";
    assert_eq!(argmax(&with.predict(q)), 0, "{:?}", with.predict(q));
    assert!(
        with.predict(q)[0] > plain.predict(q)[0],
        "{:?} vs {:?}",
        with.predict(q),
        plain.predict(q)
    );
    for (q, want) in [
        ("add nina simone to my chill playlist", 1),
        ("play my chill playlist", 0),
    ] {
        assert_eq!(argmax(&with.predict(q)), want, "{q}: {:?}", with.predict(q));
    }
    // Deterministic, and an empty gazetteer is the plain classifier.
    let again = IntentClassifier::train_with(&ex, 2, &g).unwrap();
    assert_eq!(with.predict(q), again.predict(q));
    let empty = IntentClassifier::train_with(&ex, 2, &Gazetteers::new()).unwrap();
    assert_eq!(empty.predict(q), plain.predict(q));
}

#[test]
fn entity_lists_keep_out_of_domain_low() {
    let (ex, g) = music();
    let clf = IntentClassifier::train_with(&ex, 2, &g).unwrap();
    for q in [
        "what is the weather like on jupiter",
        "xqzt vlorp gnarf",
        "who is the president of france",
        "adele",
        "tell me about nina simone's childhood",
        "asdfgh",
    ] {
        let p = clf.predict(q);
        assert!(p.iter().all(|v| *v < 0.3), "{q}: {p:?}");
    }
    assert_eq!(clf.predict(""), vec![0.0; 2]);
}

/// Enough examples × classes to train on several threads: the parts are summed in a fixed
/// order, so two trainings give bit-identical scores, and they still classify.
#[test]
fn parallel_training_is_deterministic() {
    let base = restaurant();
    let mut examples = Vec::new();
    for v in 0..30 {
        for (t, c) in &base {
            for filler in ["", " please", " now", " thanks"] {
                examples.push((format!("{t} tag{v}{filler}"), c * 30 + v));
            }
        }
    }
    let n_classes = 90;
    assert!(examples.len() * (n_classes + 1) >= super::PARALLEL_MIN_WORK);
    let a = IntentClassifier::train(&examples, n_classes).unwrap();
    let b = IntentClassifier::train(&examples, n_classes).unwrap();
    for q in [
        "book a table for two tag3",
        "cancel my booking tag7",
        "hello",
    ] {
        assert_eq!(a.predict(q), b.predict(q), "{q}");
    }
    let p = a.predict("could you reserve a table for us tag5");
    assert_eq!(argmax(&p), 5, "{p:?}");
}
