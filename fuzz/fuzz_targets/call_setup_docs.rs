//! The call-setup documents we answer Twilio and Vonage with (TwiML, NCCO). Switchboard reads
//! neither format; it writes them from request data (query parameters, headers, form fields),
//! so the untrusted part is what goes in. Each document is read back with a real parser.
//!
//! Input: `\0`-separated strings (lossy UTF-8): url, then name/value pairs.
//!
//! Checks: no panic; TwiML is well-formed XML whose attributes and text read back as the input
//! (less the characters XML cannot carry); an NCCO carries the headers exactly, within Vonage's
//! 512-byte limit, or is refused; a transfer body accepts arrays only.
#![no_main]

use libfuzzer_sys::fuzz_target;
use quick_xml::events::Event;
use quick_xml::Reader;
use sb_transport::ncco::{ncco_connect, ncco_connect_phone, ncco_transfer, MAX_NCCO_HEADERS_BYTES};
use sb_transport::twiml::{twiml_connect_stream, twiml_dial, twiml_redirect};
use serde_json::{Map, Value};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let mut parts = text.split('\0');
    let url = parts.next().unwrap_or_default();
    let rest: Vec<&str> = parts.collect();
    let pairs: Vec<(&str, &str)> = rest
        .chunks(2)
        .map(|c| (c[0], c.get(1).copied().unwrap_or("")))
        .collect();

    // TwiML.
    let doc = twiml_connect_stream(url, &pairs);
    let read = read_xml(&doc);
    let mut expect = vec![
        ("Response".to_string(), vec![]),
        ("Connect".to_string(), vec![]),
        (
            "Stream".to_string(),
            vec![("url".to_string(), xml_chars(url))],
        ),
    ];
    for (k, v) in &pairs {
        expect.push((
            "Parameter".to_string(),
            vec![
                ("name".to_string(), xml_chars(k)),
                ("value".to_string(), xml_chars(v)),
            ],
        ));
    }
    assert_eq!(read.elements, expect, "{doc}");
    assert_eq!(read.text, "");

    let redirect = read_xml(&twiml_redirect(url));
    assert_eq!(redirect.text, xml_chars(url));
    let dial = read_xml(&twiml_dial(url));
    assert_eq!(dial.text, xml_chars(url.trim()));

    // NCCO.
    let rate = [8000, 16000, 24000, 44100][usize::from(data.first().copied().unwrap_or(0) % 4)];
    match ncco_connect(url, url, rate, &pairs) {
        Ok(ncco) => {
            assert_ne!(rate, 44100);
            let mut want = Map::new();
            for (k, v) in &pairs {
                assert!(*k != "event" && *k != "content-type");
                want.insert((*k).to_owned(), Value::from(*v));
            }
            let headers = &ncco[1]["endpoint"][0]["headers"];
            assert_eq!(headers, &Value::Object(want));
            assert!(headers.to_string().len() <= MAX_NCCO_HEADERS_BYTES);
            assert_eq!(ncco[1]["endpoint"][0]["uri"].as_str(), Some(url));
            // What we send is what Vonage parses.
            let wire = serde_json::to_string(&ncco).expect("serialize");
            assert_eq!(serde_json::from_str::<Value>(&wire).expect("reparse"), ncco);
        }
        Err(_) => {
            let reserved = pairs
                .iter()
                .any(|(k, _)| *k == "event" || *k == "content-type");
            let mut m = Map::new();
            for (k, v) in &pairs {
                m.insert((*k).to_owned(), Value::from(*v));
            }
            let big = Value::Object(m).to_string().len() > MAX_NCCO_HEADERS_BYTES;
            assert!(rate == 44100 || reserved || big, "refused a valid NCCO");
        }
    }
    let phone = ncco_connect_phone(url, pairs.first().map(|p| p.0));
    assert_eq!(phone[0]["endpoint"][0]["number"].as_str(), Some(url));

    // A configured transfer NCCO (any JSON).
    if let Ok(v) = serde_json::from_slice::<Value>(data) {
        let is_array = v.is_array();
        assert_eq!(ncco_transfer(v).is_ok(), is_array);
    }
});

/// What `xml_escape` keeps of `s`: every character XML 1.0 allows.
fn xml_chars(s: &str) -> String {
    s.chars()
        .filter(|&c| !((c as u32) < 0x20 && !matches!(c, '\t' | '\n' | '\r')))
        .filter(|&c| c != '\u{FFFE}' && c != '\u{FFFF}')
        .collect()
}

struct Xml {
    elements: Vec<(String, Vec<(String, String)>)>,
    text: String,
}

fn read_xml(doc: &str) -> Xml {
    let mut r = Reader::from_str(doc);
    r.config_mut().check_end_names = true;
    let mut out = Xml {
        elements: Vec::new(),
        text: String::new(),
    };
    let mut depth = 0usize;
    loop {
        let ev = r
            .read_event()
            .unwrap_or_else(|e| panic!("not well-formed XML: {e}: {doc}"));
        let (e, empty) = match ev {
            Event::Start(e) => (e, false),
            Event::Empty(e) => (e, true),
            Event::End(_) => {
                depth = depth.checked_sub(1).expect("balanced");
                continue;
            }
            Event::Text(t) => {
                out.text.push_str(&t.xml10_content());
                continue;
            }
            Event::GeneralRef(g) => {
                match g.resolve_char_ref() {
                    Ok(Some(c)) => out.text.push(c),
                    Ok(None) => {
                        let name = g.xml10_content();
                        let s = quick_xml::escape::resolve_predefined_entity(&name)
                            .unwrap_or_else(|| panic!("unknown entity &{name}; in {doc}"));
                        out.text.push_str(s);
                    }
                    Err(e) => panic!("bad character reference in {doc}: {e}"),
                }
                continue;
            }
            Event::Eof => break,
            other => panic!("unexpected {other:?} in {doc}"),
        };
        let name = e.name().as_ref().to_owned();
        let mut attrs = Vec::new();
        for a in e.attributes() {
            let a = a.unwrap_or_else(|err| panic!("attribute in {doc}: {err}"));
            let v = a
                .normalized_value(quick_xml::XmlVersion::Implicit1_0)
                .unwrap_or_else(|err| panic!("value in {doc}: {err}"));
            attrs.push((a.key.as_ref().to_owned(), v.into_owned()));
        }
        out.elements.push((name, attrs));
        if !empty {
            depth += 1;
        }
    }
    assert_eq!(depth, 0, "unbalanced: {doc}");
    out
}
