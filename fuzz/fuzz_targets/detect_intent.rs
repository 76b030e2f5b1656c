//! `detectIntent` requests: the URL tail (`SESSION:detectIntent`) and the JSON body, parsed and
//! validated into a turn by the server's own code.
//!
//! The parser is `crates/server/src/api/detect.rs`; sb-server links whisper.cpp and the whole
//! server stack, so the file is compiled in here with the three small items it uses from the
//! server (`ApiError`, the length limits, `TurnInput`). Keep the shims in step with the server.
//!
//! Input: the URL tail, `\n`, the body.
//!
//! Checks: no panic; an accepted body yields text or an event within the documented limits, a
//! valid language code and time zone, and lower-cased short context names.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sb_nlu::dialog::QueryInput;

include!("common/detect_shims.rs");

fuzz_target!(|data: &[u8]| {
    let split = data.iter().position(|&b| b == b'\n').unwrap_or(data.len());
    let (tail, body) = data.split_at(split);
    let body = body.get(1..).unwrap_or_default();
    let tail = String::from_utf8_lossy(tail);

    let session = match detect::parse_session_tail(&tail) {
        Ok(id) => {
            assert!(!id.is_empty() && id.chars().count() <= config::MAX_SESSION_ID_CHARS);
            assert!(!id.contains('/') && !id.chars().any(char::is_control));
            assert_eq!(format!("{id}:detectIntent"), tail);
            format!("projects/p/agent/sessions/{id}")
        }
        Err(e) => {
            assert!(e.status == "NOT_FOUND" || e.status == "INVALID_ARGUMENT");
            "projects/p/agent/sessions/s".to_string()
        }
    };

    let Ok(t) = detect::parse_body(body, session.clone(), "en") else {
        return;
    };
    assert_eq!(t.session, session);
    let lang = match &t.input {
        QueryInput::Text {
            text,
            language_code,
        } => {
            assert!(!text.trim().is_empty());
            assert!(text.chars().count() <= config::MAX_QUERY_CHARS);
            language_code
        }
        QueryInput::Event {
            name,
            language_code,
            ..
        } => {
            assert!(!name.trim().is_empty() && name.len() <= 150);
            assert!(!name.chars().any(char::is_control));
            language_code
        }
    };
    assert!(!lang.is_empty() && lang.len() <= 35);
    assert!(lang
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'));
    if let Some(tz) = &t.params.time_zone {
        assert!(tz.parse::<chrono_tz::Tz>().is_ok());
    }
    for c in &t.params.contexts {
        assert!(!c.name.is_empty() && !c.name.contains('/'));
        assert_eq!(c.name, c.name.to_lowercase());
    }
    assert!(t.params.payload.as_ref().is_none_or(|p| p.is_object()));
    assert_eq!(t.source, "switchboard");
    let _ = t.analyze_sentiment;
});
