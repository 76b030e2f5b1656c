use super::*;
use std::path::PathBuf;

fn shared(name: &str) -> Option<PathBuf> {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/agents")
        .join(name);
    if p.exists() {
        return Some(p);
    }
    // Missing data fails the test; skipping is a developer opt-out that CI never sets.
    let what = format!(
        "{} is missing: the tests read the shared DF ES exports from ../shared/agents next to the checkout",
        p.display()
    );
    if std::env::var("SWITCHBOARD_TEST_ALLOW_SKIP").as_deref() == Ok("1") {
        eprintln!("SKIPPED: {what}");
        return None;
    }
    panic!("{what}");
}

fn write(dir: &Path, rel: &str, body: &str) {
    let p = dir.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, body).unwrap();
}

#[test]
fn loads_telephony_agent() {
    let Some(dir) = shared("telephony") else {
        return eprintln!("skipped: shared agents missing");
    };
    let a = load(&dir).unwrap();
    assert_eq!(a.time_zone, "America/Los_Angeles");
    assert!((a.ml_min_confidence - 0.3).abs() < 1e-6);
    let make = a.intent_by_name("makeRes").unwrap();
    assert_eq!(make.parameters.len(), 5);
    assert_eq!(make.parameters[2].data_type, "@sys.date");
    assert_eq!(
        make.parameters[4].prompts,
        vec!["What number can we reach you at?".to_string()]
    );
    assert!(make.webhook_used);
    assert!(make.end_interaction, "listed in endIntentIds");
    let ph = make
        .training_phrases
        .iter()
        .find(|p| p.text() == "david is my first name")
        .unwrap();
    assert_eq!(ph.parts[0].alias.as_deref(), Some("name"));
    assert_eq!(ph.parts[2].entity, None, "@sys.ignore is not a slot");
    let yes = a.intent_by_name("Default Welcome Intent - yes").unwrap();
    assert_eq!(
        yes.input_contexts,
        vec!["defaultwelcomeintent-followup".to_string()]
    );
    let tr = a.intent_by_name("transfercall").unwrap();
    assert!(tr.messages.iter().any(|m| matches!(m, Message::TransferCall { phone_number, .. } if phone_number == "+12023334444")));
    assert_eq!(tr.events, vec!["call_transfer_event".to_string()]);
    assert!(a.intents.iter().any(|i| i.is_fallback));
}

#[test]
fn loads_bike_shop_entities() {
    let Some(dir) = shared("bike-shop") else {
        return eprintln!("skipped: shared agents missing");
    };
    let a = load(&dir).unwrap();
    let e = a.entity("@AppointmentType").unwrap();
    assert_eq!(e.kind, EntityKind::Map);
    assert_eq!(e.entries.len(), 2);
    assert!(e.entries[0].synonyms.contains(&"tune-up".to_string()));
    let custom = a.intent_by_name("Make Appointment - custom").unwrap();
    assert_eq!(
        custom.parent_id.as_deref(),
        Some("81dfa908-da80-43fc-8c70-e71299d1dcc2")
    );
}

#[test]
fn loads_all_shared_agents() {
    for name in ["telephony", "slot-filling", "bike-shop"] {
        let Some(dir) = shared(name) else {
            return eprintln!("skipped: shared agents missing");
        };
        let a = load(&dir).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(!a.intents.is_empty());
    }
}

#[test]
fn loads_zip_with_top_folder_and_embedded_layout() {
    let tmp = tempfile::tempdir().unwrap();
    let zpath = tmp.path().join("old.zip");
    let f = std::fs::File::create(&zpath).unwrap();
    let mut z = zip::ZipWriter::new(f);
    let opts = zip::write::SimpleFileOptions::default();
    use std::io::Write;
    z.start_file("MyAgent/agent.json", opts).unwrap();
    z.write_all(br#"{"language":"en","defaultTimezone":"Europe/Paris"}"#)
        .unwrap();
    z.start_file("MyAgent/intents/Hello.json", opts).unwrap();
    z.write_all(br#"{"name":"Hello","userSays":[{"data":[{"text":"hi there"}]}],"responses":[{"messages":[{"type":0,"speech":["Hello!","Hi!"]}]}]}"#).unwrap();
    z.start_file("MyAgent/entities/Color.json", opts).unwrap();
    z.write_all(br#"{"name":"Color","entries":[{"value":"red","synonyms":["red","crimson"]}]}"#)
        .unwrap();
    z.finish().unwrap();
    let a = load(&zpath).unwrap();
    assert_eq!(a.time_zone, "Europe/Paris");
    let hello = a.intent_by_name("Hello").unwrap();
    assert_eq!(hello.training_phrases[0].text(), "hi there");
    assert_eq!(
        hello.messages,
        vec![Message::Text {
            variants: vec!["Hello!".into(), "Hi!".into()],
            platform: None
        }]
    );
    assert_eq!(
        a.entity("Color").unwrap().entries[0].synonyms,
        vec!["red", "crimson"]
    );
    // The same export from memory: as bytes, and as its files.
    let bytes = std::fs::read(&zpath).unwrap();
    let m = load_zip_bytes(&bytes, "old").unwrap();
    assert_eq!(m.name, "old");
    assert_eq!(m.intent_by_name("Hello").unwrap().messages, hello.messages);
    assert!(load_zip_bytes(b"PK\x03\x04 not a zip", "x").is_err());
    let files = BTreeMap::from([
        (
            "MyAgent/agent.json".to_string(),
            br#"{"language":"en","defaultTimezone":"Europe/Paris"}"#.to_vec(),
        ),
        (
            "MyAgent/intents/Hello.json".to_string(),
            br#"{"name":"Hello","userSays":[{"data":[{"text":"hi there"}]}]}"#.to_vec(),
        ),
    ]);
    let f = load_files(files, "mem").unwrap();
    assert_eq!(
        f.intent_by_name("Hello").unwrap().training_phrases[0].text(),
        "hi there"
    );
    assert!(load_files(BTreeMap::new(), "mem").is_err(), "no agent.json");
}

#[test]
fn errors_name_file_and_field() {
    let tmp = tempfile::tempdir().unwrap();
    write(tmp.path(), "agent.json", r#"{"language":"en"}"#);
    write(
        tmp.path(),
        "intents/Bad.json",
        r#"{"name":"Bad","responses":[{"parameters":[{"name":"x","required":"yes"}]}]}"#,
    );
    let err = load(tmp.path()).unwrap_err().to_string();
    assert!(err.contains("intents/Bad.json"), "{err}");
    assert!(err.contains("responses[0].parameters[0].required"), "{err}");

    write(tmp.path(), "intents/Bad.json", "{ not json");
    let err = load(tmp.path()).unwrap_err().to_string();
    assert!(err.starts_with("intents/Bad.json"), "{err}");

    write(
        tmp.path(),
        "intents/Bad.json",
        r#"{"name":"Bad","responses":[{"parameters":[{"name":"c","dataType":"@Nope"}]}]}"#,
    );
    let err = load(tmp.path()).unwrap_err().to_string();
    assert!(err.contains("@Nope"), "{err}");

    write(
        tmp.path(),
        "agent.json",
        r#"{"defaultTimezone":"Mars/Olympus"}"#,
    );
    let err = load(tmp.path()).unwrap_err().to_string();
    assert!(
        err.contains("agent.json") && err.contains("defaultTimezone"),
        "{err}"
    );

    let err = load(&tmp.path().join("missing")).unwrap_err().to_string();
    assert!(err.contains("missing"), "{err}");
    let not_zip = tmp.path().join("x.zip");
    std::fs::write(&not_zip, b"garbage").unwrap();
    assert!(load(&not_zip).unwrap_err().to_string().contains("ZIP"));
}

#[test]
fn loads_each_language_of_a_multilingual_export() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(
        d,
        "agent.json",
        r#"{"language": "en", "supportedLanguages": ["es", "EN"]}"#,
    );
    write(
        d,
        "intents/Hi.json",
        r#"{"name": "Hi", "responses": [{"messages": [
            {"type": 0, "lang": "en", "speech": "Hello"},
            {"type": 0, "lang": "es", "speech": "Hola"}],
            "parameters": [{"name": "n", "dataType": "@sys.number", "value": "$n",
              "required": true, "prompts": [{"lang": "en", "value": "How many?"},
                                            {"lang": "es", "value": "¿Cuántos?"}]}]}]}"#,
    );
    write(
        d,
        "intents/Hi_usersays_en.json",
        r#"[{"data": [{"text": "hi"}]}]"#,
    );
    write(
        d,
        "intents/Hi_usersays_es.json",
        r#"[{"data": [{"text": "hola"}]}]"#,
    );
    assert_eq!(languages(d).unwrap(), ["en", "es"]);
    let speech = |a: &Agent| -> Vec<String> {
        a.intents[0]
            .messages
            .iter()
            .filter_map(|m| match m {
                Message::Text { variants, .. } => Some(variants.join("|")),
                _ => None,
            })
            .collect()
    };
    let en = load_language(d, None).unwrap();
    assert_eq!(
        (en.language.as_str(), speech(&en)),
        ("en", vec!["Hello".to_string()])
    );
    assert_eq!(en.intents[0].training_phrases[0].text(), "hi");
    let es = load_language(d, Some("ES")).unwrap();
    assert_eq!(
        (es.language.as_str(), speech(&es)),
        ("es", vec!["Hola".to_string()])
    );
    assert_eq!(es.intents[0].training_phrases[0].text(), "hola");
    assert_eq!(es.intents[0].parameters[0].prompts, ["¿Cuántos?"]);
    let err = load_language(d, Some("fr")).unwrap_err().to_string();
    assert!(err.contains("the agent has no language `fr`"), "{err}");
}
