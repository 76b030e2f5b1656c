//! Property-style robustness: thousands of random and mutated messages into every codec.
//! No input may panic; classes of input that can never be valid must give errors.

use std::panic::{catch_unwind, AssertUnwindSafe};

use sb_transport::{
    CallerCodec, Codec, Inbound, Outbound, StartInfo, TransportError, TwilioCaller, TwilioServer,
    VonageCaller, VonageServer, WsMessage,
};
use serde_json::Value;

/// xorshift64*: deterministic, so a failure reproduces from its seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
    fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next() as u8).collect()
    }
    fn lossy_text(&mut self, max: usize) -> String {
        let n = self.below(max);
        String::from_utf8_lossy(&self.bytes(n)).into_owned()
    }
}

const TWILIO_IN: &[&str] = &[
    r#"{"event":"connected","protocol":"Call","version":"1.0.0"}"#,
    r#"{"event":"start","sequenceNumber":"1","streamSid":"MZ1","start":{"accountSid":"AC1","streamSid":"MZ1","callSid":"CA1","tracks":["inbound"],"customParameters":{"a":"b"},"mediaFormat":{"encoding":"audio/x-mulaw","sampleRate":8000,"channels":1}}}"#,
    r#"{"event":"media","sequenceNumber":"3","streamSid":"MZ1","media":{"track":"inbound","chunk":"1","timestamp":"20","payload":"/////////////////////w=="}}"#,
    r#"{"event":"media","streamSid":"MZ1","media":{"payload":"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="}}"#,
    r#"{"event":"dtmf","sequenceNumber":"5","streamSid":"MZ1","dtmf":{"track":"inbound_track","digit":"1"}}"#,
    r#"{"event":"mark","sequenceNumber":"4","streamSid":"MZ1","mark":{"name":"label"}}"#,
    r#"{"event":"stop","sequenceNumber":"5","streamSid":"MZ1","stop":{"accountSid":"AC1","callSid":"CA1"}}"#,
];

const VONAGE_IN: &[&str] = &[
    r#"{"event":"websocket:connected","content-type":"audio/l16;rate=16000","uuid":"u1","k":"v"}"#,
    r#"{"content-type":"audio/l16;rate=8000","k":1}"#,
    r#"{"event":"websocket:dtmf","digit":"5","duration":260}"#,
    r#"{"event":"websocket:cleared"}"#,
    r#"{"event":"websocket:notify","payload":{"mark":"m1"}}"#,
    r#"{"event":"websocket:notify","payload":{"x":[1,{"y":null}]}}"#,
];

const SERVER_OUT: &[&str] = &[
    r#"{"event":"media","streamSid":"MZ1","media":{"payload":"/////////////////////w=="}}"#,
    r#"{"event":"mark","streamSid":"MZ1","mark":{"name":"x"}}"#,
    r#"{"event":"clear","streamSid":"MZ1"}"#,
    r#"{"action":"notify","payload":{"mark":"turn"}}"#,
    r#"{"action":"clear"}"#,
];

const NASTY: &[&str] = &[
    "null",
    "true",
    "-1",
    "0",
    "1e308",
    "-1e400",
    "18446744073709551616",
    "3.5",
    "\"\"",
    "\"99999999999999999999999\"",
    "\"-7\"",
    "\"\\u0000\"",
    "\"\u{1F600}\"",
    "[]",
    "{}",
    "[[[[[[[[[[]]]]]]]]]]",
    "{\"a\":{\"b\":{\"c\":{}}}}",
    "\"////\"",
    "\"=\"",
];

/// Replaces one randomly chosen value somewhere in the tree with a nasty one.
fn replace_random(v: &mut Value, rng: &mut Rng, with: Value) {
    let children = match v {
        Value::Object(m) => m.len(),
        Value::Array(a) => a.len(),
        _ => 0,
    };
    if children == 0 || rng.below(4) == 0 {
        *v = with;
        return;
    }
    let i = rng.below(children);
    match v {
        Value::Object(m) => {
            if let Some(child) = m.values_mut().nth(i) {
                replace_random(child, rng, with);
            }
        }
        Value::Array(a) => {
            if let Some(child) = a.get_mut(i) {
                replace_random(child, rng, with);
            }
        }
        _ => {}
    }
}

/// A mutated text message and whether it is certainly invalid (not a JSON object).
fn mutate(base: &str, rng: &mut Rng) -> (String, bool) {
    match rng.below(9) {
        0 => (rng.lossy_text(300), false),
        1 => {
            // A strict prefix of an object is never a JSON object.
            let cut = rng.below(base.len());
            let cut = (0..=cut)
                .rev()
                .find(|&i| base.is_char_boundary(i))
                .unwrap_or(0);
            (base[..cut].to_owned(), true)
        }
        2 => {
            let mut b = base.as_bytes().to_vec();
            for _ in 0..=rng.below(4) {
                let i = rng.below(b.len());
                b[i] = rng.next() as u8;
            }
            (String::from_utf8_lossy(&b).into_owned(), false)
        }
        3..=5 => {
            let mut v: Value = serde_json::from_str(base).unwrap();
            let nasty = NASTY[rng.below(NASTY.len())];
            let with = if rng.below(6) == 0 {
                Value::String("x".repeat(rng.below(20_000)))
            } else {
                serde_json::from_str(nasty).unwrap_or(Value::String(nasty.into()))
            };
            replace_random(&mut v, rng, with);
            (v.to_string(), false)
        }
        6 => {
            let i = (0..=rng.below(base.len()))
                .rev()
                .find(|&i| base.is_char_boundary(i))
                .unwrap_or(0);
            let tok = NASTY[rng.below(NASTY.len())];
            (format!("{}{}{}", &base[..i], tok, &base[i..]), false)
        }
        7 => {
            let depth = 1 + rng.below(5000);
            (format!("{}{}", "[".repeat(depth), "]".repeat(depth)), true)
        }
        _ => {
            // Raw big numbers for the counters.
            let n = [
                "18446744073709551615",
                "18446744073709551616",
                "1e20",
                "-0",
                "007",
            ][rng.below(5)];
            (
                base.replace("\"5\"", n)
                    .replace("\"3\"", &format!("\"{n}\"")),
                false,
            )
        }
    }
}

fn random_binary(rng: &mut Rng) -> Vec<u8> {
    let n = match rng.below(4) {
        0 => 320,
        1 => 640,
        2 => 960,
        _ => rng.below(2000),
    };
    rng.bytes(n)
}

fn random_outbound(rng: &mut Rng) -> Outbound {
    match rng.below(4) {
        0 => Outbound::Mark(rng.lossy_text(40)),
        1 => Outbound::Clear,
        _ => {
            let n = [0, 1, 319, 320, 321, 5000][rng.below(6)];
            Outbound::Audio((0..n).map(|_| rng.next() as i16).collect())
        }
    }
}

fn started_twilio() -> TwilioServer {
    let mut s = TwilioServer::new().unwrap();
    s.decode(WsMessage::Text(TWILIO_IN[1].into())).unwrap();
    s
}

fn started_vonage(rate: u32) -> VonageServer {
    let mut s = VonageServer::new();
    let first = VONAGE_IN[0].replace("16000", &rate.to_string());
    s.decode(WsMessage::Text(first)).unwrap();
    s
}

fn caller_info(rate: u32) -> StartInfo {
    StartInfo {
        call_id: "CA1".into(),
        stream_id: "MZ1".into(),
        sample_rate: rate,
        ..StartInfo::default()
    }
}

fn check_inbound(events: &[Inbound]) {
    for e in events {
        if let Inbound::Audio { pcm16k, .. } = e {
            assert!(
                pcm16k.len() <= 16_000 + 320,
                "audio of {} samples",
                pcm16k.len()
            );
        }
    }
}

#[test]
fn random_and_mutated_messages_never_panic() {
    let mut rng = Rng(0x5EED_CAFE_F00D_0001);
    let mut twilio = started_twilio();
    let mut vonage16 = started_vonage(16000);
    let mut vonage8 = started_vonage(8000);
    let mut tcaller = TwilioCaller::new().unwrap();
    tcaller.encode(&Inbound::Start(caller_info(8000))).unwrap();
    let mut vcaller = VonageCaller::new();
    vcaller.encode(&Inbound::Start(caller_info(16000))).unwrap();
    let (mut oks, mut errs) = (0u32, 0u32);

    for iter in 0..12_000u32 {
        let target = rng.below(7);
        let base = match target {
            0 | 1 => TWILIO_IN[rng.below(TWILIO_IN.len())],
            2..=4 => VONAGE_IN[rng.below(VONAGE_IN.len())],
            _ => SERVER_OUT[rng.below(SERVER_OUT.len())],
        };
        let binary = rng.below(5) == 0;
        let (msg, never_valid) = if binary {
            (WsMessage::Binary(random_binary(&mut rng)), false)
        } else {
            let (t, invalid) = mutate(base, &mut rng);
            let not_object = !matches!(serde_json::from_str::<Value>(&t), Ok(Value::Object(_)));
            (WsMessage::Text(t), invalid || not_object)
        };
        let shown = format!("iter {iter} target {target}: {msg:?}");
        let shown = shown.get(..400).unwrap_or(&shown).to_owned();
        let result = catch_unwind(AssertUnwindSafe(|| -> Result<(), TransportError> {
            let res = match target {
                0 => started_twilio()
                    .decode(msg.clone())
                    .map(|e| check_inbound(&e)),
                1 => twilio.decode(msg.clone()).map(|e| check_inbound(&e)),
                2 => VonageServer::new()
                    .decode(msg.clone())
                    .map(|e| check_inbound(&e)),
                3 => vonage16.decode(msg.clone()).map(|e| check_inbound(&e)),
                4 => vonage8.decode(msg.clone()).map(|e| check_inbound(&e)),
                5 => tcaller.decode(msg.clone()).map(drop),
                _ => vcaller.decode(msg.clone()).map(drop),
            };
            if let Err(e) = &res {
                let _ = e.to_string();
            }
            // Interleave encodes so state changes meet outbound traffic.
            let out = random_outbound(&mut rng);
            let _ = match target {
                1 => twilio.encode(&out).map(drop),
                3 => vonage16.encode(&out).map(drop),
                4 => vonage8.encode(&out).map(drop),
                _ => Ok(()),
            };
            res
        }));
        let res = result.unwrap_or_else(|_| panic!("panicked on {shown}"));
        match (&msg, target, &res) {
            (_, _, Ok(())) if never_valid => panic!("accepted an invalid message: {shown}"),
            (WsMessage::Binary(_), 0 | 1 | 5, Ok(())) => panic!("Twilio accepted binary: {shown}"),
            (WsMessage::Binary(b), 3, r) => assert_eq!(r.is_ok(), b.len() == 640, "{shown}"),
            (WsMessage::Binary(b), 4, r) => assert_eq!(r.is_ok(), b.len() == 320, "{shown}"),
            _ => {}
        }
        if res.is_ok() {
            oks += 1;
        } else {
            errs += 1;
        }
        // Keep exploring after a stop / sequence poisoning.
        if iter % 500 == 0 {
            twilio = started_twilio();
        }
    }
    eprintln!("fuzz: {oks} accepted, {errs} rejected");
    assert!(oks > 1000 && errs > 1000, "ok {oks}, err {errs}");
}

#[test]
fn random_caller_events_never_panic() {
    let mut rng = Rng(0xC0FF_EE00_1234_5678);
    for _ in 0..2_000 {
        let rate = [0, 8000, 11025, 16000, 24000, 48000, u32::MAX][rng.below(7)];
        let mut info = caller_info(rate);
        if rng.below(3) == 0 {
            let key = ["event", "content-type", "uuid", "k", ""][rng.below(5)];
            info.custom_parameters
                .insert(key.into(), rng.lossy_text(30));
        }
        let mut callers: [Box<dyn CallerCodec>; 2] = [
            Box::new(TwilioCaller::new().unwrap()),
            Box::new(VonageCaller::new()),
        ];
        for c in callers.iter_mut() {
            for _ in 0..8 {
                let ev = match rng.below(8) {
                    0 => Inbound::Start(info.clone()),
                    1 => Inbound::Connected,
                    2 => Inbound::Audio {
                        pcm16k: vec![rng.next() as i16; rng.below(700)],
                        at_ms: rng.next(),
                    },
                    3 => Inbound::Dtmf {
                        digit: char::from_u32(rng.below(0x11_0000) as u32).unwrap_or('1'),
                        duration_ms: Some(rng.next() as u32),
                    },
                    4 => Inbound::Mark {
                        name: rng.lossy_text(20),
                    },
                    5 => Inbound::Notify {
                        payload: serde_json::json!({"n": rng.next()}),
                    },
                    6 => Inbound::Cleared,
                    _ => Inbound::Stop,
                };
                let shown = format!("{ev:?}");
                let r = catch_unwind(AssertUnwindSafe(|| c.encode(&ev).map(drop)));
                assert!(
                    r.is_ok(),
                    "caller panicked on {}",
                    shown.get(..200).unwrap_or(&shown)
                );
            }
        }
    }
}

#[test]
fn hostile_shapes_are_errors() {
    let mut s = started_twilio();
    let deep = format!("{}{}", "{\"a\":".repeat(10_000), "}".repeat(10_000));
    assert!(s.decode(WsMessage::Text(deep)).is_err());
    let long = format!(
        "{{\"event\":\"mark\",\"mark\":{{\"name\":\"{}\"}}}}",
        "é".repeat(40_000)
    );
    assert!(matches!(
        s.decode(WsMessage::Text(long)),
        Err(TransportError::TooLarge { .. })
    ));
    // After all that the codec still works.
    let ok = r#"{"event":"mark","streamSid":"MZ1","mark":{"name":"fine"}}"#;
    assert_eq!(
        s.decode(WsMessage::Text(ok.into())),
        Ok(vec![Inbound::Mark {
            name: "fine".into()
        }])
    );
    let mut v = started_vonage(16000);
    assert!(v.decode(WsMessage::Binary(vec![0; 1 << 20])).is_err());
    assert!(v
        .encode(&Outbound::Audio(vec![i16::MIN; 16_000 * 300 + 1]))
        .is_err());
    let frames = v.encode(&Outbound::Audio(vec![i16::MIN; 16_000])).unwrap();
    assert_eq!(frames.len(), 50);
}
