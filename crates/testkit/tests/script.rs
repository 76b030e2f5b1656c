//! The call-script format: exact fields, defaults, clear errors, the shipped examples.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use sb_testkit::{Action, CallSection, Script, ScriptError, Turn};

#[test]
fn parses_every_field() {
    let script = Script::from_toml_str(
        r##"
description = "all the knobs"
[call]
greeting = true
custom_parameters = { agent = "restaurant", lang = "en" }

[[turn]]
say = "Hello there"
wait_for_bot = false

[[turn]]
wav = "clip.wav"
barge_in_after_ms = 500

[[turn]]
dtmf = "12#"

[[turn]]
silence_ms = 3000

[[turn]]
say = "Tanya"
expect_bot_contains = "Table booked"
expect_hangup = true
"##,
    )
    .expect("valid script");
    let params: BTreeMap<String, String> = [("agent", "restaurant"), ("lang", "en")]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    assert_eq!(
        script.call,
        CallSection {
            greeting: true,
            custom_parameters: params
        }
    );
    let expected = vec![
        Turn {
            wait_for_bot: Some(false),
            ..Turn::new(Action::Say("Hello there".into()))
        },
        Turn {
            barge_in_after_ms: Some(500),
            ..Turn::new(Action::Wav(PathBuf::from("clip.wav")))
        },
        Turn::new(Action::Dtmf("12#".into())),
        Turn::new(Action::Silence { ms: 3000 }),
        Turn {
            expect_bot_contains: Some("Table booked".into()),
            expect_hangup: true,
            ..Turn::new(Action::Say("Tanya".into()))
        },
    ];
    assert_eq!(script.turns, expected);
    // Defaults: speech and keys wait for the bot, silence does not.
    let waits: Vec<bool> = script.turns.iter().map(Turn::waits_for_bot).collect();
    assert_eq!(waits, vec![false, true, true, false, true]);
    assert_eq!(script.turns[2].describe(), "[dtmf 12#]");
    assert_eq!(script.turns[3].describe(), "[silence 3000 ms]");
}

#[test]
fn quick_form_waits_for_greeting_and_each_reply() {
    let s = Script::from_says(&["hi", "bye"]);
    assert!(s.call.greeting);
    assert_eq!(s.turns.len(), 2);
    assert_eq!(s.turns[1].action, Action::Say("bye".into()));
    assert!(s.turns.iter().all(Turn::waits_for_bot));
}

fn err(toml: &str) -> String {
    match Script::from_toml_str(toml) {
        Ok(s) => panic!("accepted a bad script: {s:?}"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn bad_scripts_get_clear_errors() {
    let e = err("[[turn]]\nsay = \"a\"\ndtmf = \"1\"\n");
    assert!(e.contains("turn 1: needs exactly one of `say`"), "{e}");
    assert!(e.contains("found 2"), "{e}");
    let e = err("[[turn]]\nwait_for_bot = true\n");
    assert!(
        e.contains("turn 1: needs exactly one") && e.contains("found 0"),
        "{e}"
    );
    let e = err("[[turn]]\nsay = \"a\"\nexpect_bot_contain = \"x\"\n");
    assert!(e.contains("unknown field `expect_bot_contain`"), "{e}");
    assert!(e.contains("line 3"), "TOML errors point at the line: {e}");
    let e = err("[[turn]]\ndtmf = \"12x\"\n");
    assert!(e.contains("turn 1: `dtmf` has 'x'"), "{e}");
    let e = err("[[turn]]\nsilence_ms = 0\n");
    assert!(e.contains("`silence_ms` must be"), "{e}");
    let e = err("[[turn]]\nsay = \"a\"\nbarge_in_after_ms = 100\n");
    assert!(e.contains("needs `[call] greeting = true`"), "{e}");
    let e = err("[[turn]]\nsay = \"a\"\nexpect_hangup = true\n[[turn]]\nsay = \"b\"\n");
    assert!(
        e.contains("turn 1: `expect_hangup` but 1 turn(s) follow"),
        "{e}"
    );
    let e = err("[[turn]]\nhangup = true\nexpect_bot_contains = \"x\"\n");
    assert!(e.contains("cannot expect"), "{e}");
    let e = err("[[turn]]\nsay = \"   \"\n");
    assert!(e.contains("`say` is empty"), "{e}");
    let e = err("[[turn]]\nsay = 5\n");
    assert!(e.contains("not valid TOML for a call script"), "{e}");
    let e = err("");
    assert!(e.contains("no [[turn]]"), "{e}");
    assert!(matches!(
        Script::load(Path::new("/nonexistent/script.toml")),
        Err(ScriptError::Io { .. })
    ));
}

#[test]
fn shipped_examples_parse() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts");
    let s = Script::load(&dir.join("restaurant.toml")).expect("restaurant.toml");
    assert!(s.call.greeting);
    assert_eq!(s.turns.len(), 1);
    assert_eq!(
        s.turns[0].action,
        Action::Say("I'd like to book a table at 10:00 am on 01/09/2022 for Tanya".into())
    );
    assert_eq!(
        s.turns[0].expect_bot_contains.as_deref(),
        Some("Table booked")
    );
    assert!(s.turns[0].expect_hangup);

    let s = Script::load(&dir.join("restaurant-missing.toml")).expect("restaurant-missing");
    assert_eq!(s.turns.len(), 2);
    assert_eq!(
        s.turns[0].expect_bot_contains.as_deref(),
        Some("book the table")
    );
    assert_eq!(s.turns[1].action, Action::Say("Tanya".into()));
    assert!(s.turns[1].expect_hangup);
}

#[test]
fn relative_wav_paths_resolve_against_the_script() {
    let dir = std::env::temp_dir().join(format!("sb-testkit-script-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("tmp");
    let path = dir.join("s.toml");
    std::fs::write(&path, "[[turn]]\nwav = \"a.wav\"\n").expect("write");
    let s = Script::load(&path).expect("load");
    assert_eq!(s.turns[0].action, Action::Wav(dir.join("a.wav")));
    let _ = std::fs::remove_dir_all(&dir);
}
