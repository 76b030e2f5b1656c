use super::*;
use crate::agent::{EntityEntry, EntityKind, EntityType};
use crate::NluError;
use serde_json::json;

fn entry(value: &str, synonyms: &[&str]) -> EntityEntry {
    EntityEntry {
        value: value.into(),
        synonyms: synonyms.iter().map(|s| s.to_string()).collect(),
    }
}

fn ety(name: &str, kind: EntityKind, fuzzy: bool, entries: Vec<EntityEntry>) -> EntityType {
    EntityType {
        name: name.into(),
        kind,
        automated_expansion: false,
        allow_fuzzy_extraction: fuzzy,
        entries,
    }
}

/// The bike-shop agent's `AppointmentType` (shared/agents/bike-shop/entities).
fn appointment_type(fuzzy: bool) -> EntityType {
    ety(
        "AppointmentType",
        EntityKind::Map,
        fuzzy,
        vec![
            entry(
                "service",
                &["service", "overhaul", "maintenance", "tune-up", "tune up"],
            ),
            entry(
                "fix",
                &["fix", "repair", "mend", "broken", "flat tire", "fixed"],
            ),
        ],
    )
}

fn values(ms: &[EntityMatch]) -> Vec<(String, serde_json::Value, String)> {
    ms.iter()
        .map(|m| (m.entity.clone(), m.value.clone(), m.original.clone()))
        .collect()
}

#[test]
fn map_synonyms_multiword_and_hyphen() {
    let m = EntityMatcher::new(&[appointment_type(false)]).unwrap();
    let text = "my bike needs a tune up";
    let got = m.extract(text, None, &ctx());
    assert_eq!(
        values(&got),
        [(
            "@AppointmentType".into(),
            json!("service"),
            "tune up".into()
        )]
    );
    assert_eq!((got[0].start, got[0].end), (16, 23));
    let got = m.extract(
        "I need a Tune-Up and a FLAT TIRE repaired",
        Some(&["AppointmentType"]),
        &ctx(),
    );
    assert_eq!(
        values(&got),
        [
            (
                "@AppointmentType".into(),
                json!("service"),
                "Tune-Up".into()
            ),
            ("@AppointmentType".into(), json!("fix"), "FLAT TIRE".into()),
        ]
    );
}

#[test]
fn token_boundaries_only() {
    let m = EntityMatcher::new(&[appointment_type(false)]).unwrap();
    assert!(m
        .extract("prefix servicemen fixture", None, &ctx())
        .is_empty());
    assert!(m.extract("", None, &ctx()).is_empty());
    assert!(
        m.extract("my bike needs a repiar", None, &ctx()).is_empty(),
        "no fuzzy when not allowed"
    );
}

#[test]
fn fuzzy_matches_typos_conservatively() {
    let m = EntityMatcher::new(&[appointment_type(true)]).unwrap();
    let got = m.extract("my bike needs a repiar", None, &ctx());
    assert_eq!(
        values(&got),
        [("@AppointmentType".into(), json!("fix"), "repiar".into())]
    );
    let got = m.extract("time for maintanance", None, &ctx());
    assert_eq!(
        values(&got),
        [(
            "@AppointmentType".into(),
            json!("service"),
            "maintanance".into()
        )]
    );
    // Short synonyms ("mend", "fix") never match approximately: "send"/"six" are other words.
    assert!(m.extract("send it to six people", None, &ctx()).is_empty());
}

#[test]
fn list_entity_values_are_synonyms() {
    let e = ety(
        "Topping",
        EntityKind::List,
        false,
        vec![
            entry("extra cheese", &["extra cheese"]),
            entry("ham", &["ham"]),
        ],
    );
    let m = EntityMatcher::new(&[e]).unwrap();
    let got = m.extract("ham and Extra Cheese please", None, &ctx());
    assert_eq!(
        values(&got),
        [
            ("@Topping".into(), json!("ham"), "ham".into()),
            (
                "@Topping".into(),
                json!("extra cheese"),
                "Extra Cheese".into()
            )
        ]
    );
}

#[test]
fn list_templates_reference_other_entities() {
    let fruit = ety(
        "Fruit",
        EntityKind::Map,
        false,
        vec![
            entry("apple", &["apple", "apples"]),
            entry("pear", &["pear", "pears"]),
        ],
    );
    let order = ety(
        "Order",
        EntityKind::List,
        false,
        vec![entry(
            "@sys.number:count @Fruit:fruit",
            &["@sys.number:count @Fruit:fruit"],
        )],
    );
    let m = EntityMatcher::new(&[fruit, order]).unwrap();
    let got = m.extract("I want 3 apples now", Some(&["Order"]), &ctx());
    assert_eq!(
        values(&got),
        [(
            "@Order".into(),
            json!({"count": 3, "fruit": "apple"}),
            "3 apples".into()
        )]
    );
}

#[test]
fn regexp_entities() {
    let e = ety(
        "Flight",
        EntityKind::Regexp,
        false,
        vec![entry(r"[A-Z]{2}\d{3,4}", &[r"[A-Z]{2}\d{3,4}"])],
    );
    let m = EntityMatcher::new(&[e]).unwrap();
    let got = m.extract("flight ua1234 or BA100x", None, &ctx());
    assert_eq!(
        values(&got),
        [("@Flight".into(), json!("ua1234"), "ua1234".into())]
    );
    let got = m.resolve_answer("it's LH400", "@Flight", &ctx()).unwrap();
    assert_eq!(got.value, json!("LH400"));
}

#[test]
fn bad_regexp_is_an_error_naming_the_entity() {
    let e = ety(
        "Broken",
        EntityKind::Regexp,
        false,
        vec![entry("([a-z]", &[])],
    );
    match EntityMatcher::new(&[e]) {
        Err(NluError::Entity { entity, message }) => {
            assert_eq!(entity, "Broken");
            assert!(message.contains("([a-z]"), "{message}");
        }
        other => panic!("expected entity error, got {other:?}"),
    }
}

#[test]
fn resolve_answer_prefers_whole_text() {
    let m = EntityMatcher::new(&[appointment_type(true)]).unwrap();
    let got = m
        .resolve_answer("  Tune-up ", "AppointmentType", &ctx())
        .unwrap();
    assert_eq!(
        (got.value, got.original.as_str()),
        (json!("service"), "Tune-up")
    );
    let got = m
        .resolve_answer("I think it needs a repair", "@AppointmentType", &ctx())
        .unwrap();
    assert_eq!(got.value, json!("fix"));
    assert!(m
        .resolve_answer("no idea", "AppointmentType", &ctx())
        .is_none());
    assert!(m.resolve_answer("tune up", "Unknown", &ctx()).is_none());
}

#[test]
fn weird_inputs_do_not_panic() {
    let m = EntityMatcher::new(&[appointment_type(true)]).unwrap();
    let long = "repair tune-up ".repeat(700);
    for t in [
        "",
        " ",
        "🚲🚲 tune up 🚲",
        "\u{0}\u{1}",
        "ーー",
        "é-é-é",
        "-",
        "'",
        long.as_str(),
    ] {
        let _ = m.extract(t, None, &ctx());
        let _ = m.resolve_answer(t, "AppointmentType", &ctx());
    }
    assert_eq!(m.extract(&long, None, &ctx()).len(), 1400);
}

fn ctx() -> crate::sysent::SysContext {
    crate::sysent::SysContext::reference(chrono_tz::UTC)
}
