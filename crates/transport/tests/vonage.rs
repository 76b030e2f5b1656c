//! Vonage Voice WebSocket: exact wire messages in both directions.

use std::collections::BTreeMap;

use sb_transport::{
    CallerCodec, Codec, Inbound, Outbound, StartInfo, TransportError, VonageCaller, VonageServer,
    WsMessage,
};

fn text(s: &str) -> WsMessage {
    WsMessage::Text(s.to_owned())
}

const FIRST: &str = r#"{"event":"websocket:connected","content-type":"audio/l16;rate=16000","uuid":"call-1","agent":"pizza"}"#;

fn info(rate: u32) -> StartInfo {
    StartInfo {
        call_id: "call-1".into(),
        custom_parameters: BTreeMap::from([("agent".to_owned(), "pizza".to_owned())]),
        sample_rate: rate,
        encoding: "audio/l16".into(),
        ..StartInfo::default()
    }
}

fn started(rate: u32) -> VonageServer {
    let mut s = VonageServer::new();
    s.decode(text(&FIRST.replace("16000", &rate.to_string())))
        .unwrap();
    s
}

#[test]
fn first_message_starts_the_stream() {
    let mut s = VonageServer::new();
    assert_eq!(
        s.decode(text(FIRST)),
        Ok(vec![Inbound::Connected, Inbound::Start(info(16000))])
    );
    assert_eq!(s.rate(), Some(16000));
    // The older form without `event`, at 8 kHz, with a non-string header.
    let mut s = VonageServer::new();
    let mut expected = info(8000);
    expected.call_id.clear();
    expected.custom_parameters.insert("n".into(), "3".into());
    assert_eq!(
        s.decode(text(
            r#"{"content-type":"audio/l16;rate=8000","agent":"pizza","n":3}"#
        )),
        Ok(vec![Inbound::Connected, Inbound::Start(expected)])
    );
    assert_eq!(
        s.decode(text(FIRST)),
        Ok(vec![Inbound::Ignored(
            "repeated websocket:connected".into()
        )])
    );
}

#[test]
fn rejects_bad_messages() {
    let mut s = VonageServer::new();
    assert_eq!(
        s.decode(WsMessage::Binary(vec![0; 640])),
        Err(TransportError::MissingStart("audio frame"))
    );
    assert_eq!(
        s.decode(text(r#"{"event":"websocket:dtmf","digit":"1"}"#)),
        Err(TransportError::MissingStart("text event"))
    );
    assert!(matches!(
        s.decode(text(
            r#"{"event":"websocket:connected","content-type":"audio/l16;rate=44100"}"#
        )),
        Err(TransportError::Unsupported(_))
    ));
    assert!(matches!(
        s.decode(text(
            r#"{"event":"websocket:connected","content-type":"audio/pcmu;rate=8000"}"#
        )),
        Err(TransportError::Unsupported(_))
    ));
    assert!(matches!(
        s.decode(text(r#"{"event":"websocket:connected"}"#)),
        Err(TransportError::Malformed(_))
    ));
    let mut s = started(16000);
    for n in [0, 320, 639, 641, 1280] {
        assert_eq!(
            s.decode(WsMessage::Binary(vec![0; n])),
            Err(TransportError::FrameSize {
                expected: 640,
                got: n
            })
        );
    }
    let mut s = started(8000);
    assert_eq!(
        s.decode(WsMessage::Binary(vec![0; 640])),
        Err(TransportError::FrameSize {
            expected: 320,
            got: 640
        })
    );
    assert!(matches!(
        s.decode(text(
            r#"{"event":"websocket:dtmf","digit":"1","duration":-5}"#
        )),
        Err(TransportError::Malformed(_))
    ));
    assert!(matches!(
        s.decode(text("not json")),
        Err(TransportError::Malformed(_))
    ));
    assert_eq!(s.on_close(), vec![Inbound::Stop]);
    assert_eq!(s.on_close(), vec![]);
    assert_eq!(
        s.decode(WsMessage::Binary(vec![0; 320])),
        Err(TransportError::AfterStop("message"))
    );
    assert_eq!(
        s.encode(&Outbound::Clear),
        Err(TransportError::AfterStop("outbound message"))
    );
}

#[test]
fn decodes_audio_and_events() {
    let mut s = started(16000);
    let frame: Vec<u8> = [0x01, 0x00, 0xFF, 0xFF].repeat(160);
    let pcm: Vec<i16> = [1, -1].repeat(160);
    assert_eq!(
        s.decode(WsMessage::Binary(frame.clone())),
        Ok(vec![Inbound::Audio {
            pcm16k: pcm.clone(),
            at_ms: 0
        }])
    );
    assert_eq!(
        s.decode(WsMessage::Binary(frame)),
        Ok(vec![Inbound::Audio {
            pcm16k: pcm,
            at_ms: 20
        }])
    );
    assert_eq!(
        s.decode(text(
            r#"{"event":"websocket:dtmf","digit":"5","duration":260}"#
        )),
        Ok(vec![Inbound::Dtmf {
            digit: '5',
            duration_ms: Some(260)
        }])
    );
    assert_eq!(
        s.decode(text(r#"{"event":"websocket:cleared"}"#)),
        Ok(vec![Inbound::Cleared])
    );
    assert_eq!(
        s.decode(text(
            r#"{"event":"websocket:notify","payload":{"mark":"turn-1"}}"#
        )),
        Ok(vec![Inbound::Mark {
            name: "turn-1".into()
        }])
    );
    assert_eq!(
        s.decode(text(
            r#"{"event":"websocket:notify","payload":{"x":[1,2]}}"#
        )),
        Ok(vec![Inbound::Notify {
            payload: serde_json::json!({"x": [1, 2]})
        }])
    );
    assert_eq!(
        s.decode(text(r#"{"event":"websocket:media:update"}"#)),
        Ok(vec![Inbound::Ignored(
            "vonage event websocket:media:update".into()
        )])
    );
    // 8 kHz frames come out as 16 kHz (after the 10 ms resampler delay).
    let mut s = started(8000);
    let out = s.decode(WsMessage::Binary(vec![0; 320])).unwrap();
    assert_eq!(
        out,
        vec![Inbound::Audio {
            pcm16k: vec![0; 320],
            at_ms: 0
        }]
    );
}

#[test]
fn encodes_exact_outbound_messages() {
    let mut s = VonageServer::new();
    assert_eq!(
        s.encode(&Outbound::Mark("a".into())),
        Err(TransportError::MissingStart("outbound message"))
    );
    let mut s = started(16000);
    let out = s.encode(&Outbound::Audio(vec![1000; 330])).unwrap();
    let mut second = [0xE8, 0x03].repeat(10);
    second.resize(640, 0);
    assert_eq!(
        out,
        vec![
            WsMessage::Binary([0xE8, 0x03].repeat(320)),
            WsMessage::Binary(second)
        ]
    );
    assert_eq!(
        s.encode(&Outbound::Mark("turn-1".into())),
        Ok(vec![text(
            r#"{"action":"notify","payload":{"mark":"turn-1"}}"#
        )])
    );
    assert_eq!(
        s.encode(&Outbound::Clear),
        Ok(vec![text(r#"{"action":"clear"}"#)])
    );
    let mut s = started(8000);
    let out = s.encode(&Outbound::Audio(vec![0; 640])).unwrap();
    assert_eq!(out, vec![WsMessage::Binary(vec![0; 320]); 2]);
}

#[test]
fn caller_produces_exact_platform_messages() {
    let mut c = VonageCaller::new();
    assert_eq!(c.encode(&Inbound::Connected), Ok(vec![]));
    assert_eq!(
        c.encode(&Inbound::Audio {
            pcm16k: vec![0; 320],
            at_ms: 0
        }),
        Err(TransportError::MissingStart("caller event"))
    );
    assert_eq!(
        c.encode(&Inbound::Start(info(16000))),
        Ok(vec![text(FIRST)])
    );
    assert_eq!(
        c.encode(&Inbound::Audio {
            pcm16k: vec![-2; 320],
            at_ms: 0
        }),
        Ok(vec![WsMessage::Binary([0xFE, 0xFF].repeat(320))])
    );
    assert_eq!(
        c.encode(&Inbound::Dtmf {
            digit: '5',
            duration_ms: Some(260)
        }),
        Ok(vec![text(
            r#"{"event":"websocket:dtmf","digit":"5","duration":260}"#
        )])
    );
    assert_eq!(
        c.encode(&Inbound::Mark {
            name: "turn-1".into()
        }),
        Ok(vec![text(
            r#"{"event":"websocket:notify","payload":{"mark":"turn-1"}}"#
        )])
    );
    assert_eq!(
        c.encode(&Inbound::Notify {
            payload: serde_json::json!({"k": "v"})
        }),
        Ok(vec![text(
            r#"{"event":"websocket:notify","payload":{"k":"v"}}"#
        )])
    );
    assert_eq!(
        c.encode(&Inbound::Cleared),
        Ok(vec![text(r#"{"event":"websocket:cleared"}"#)])
    );
    assert_eq!(c.encode(&Inbound::Stop), Ok(vec![]));
    assert_eq!(
        c.encode(&Inbound::Cleared),
        Err(TransportError::AfterStop("caller event"))
    );

    let mut c = VonageCaller::new();
    let mut bad = info(16000);
    bad.custom_parameters
        .insert("content-type".into(), "x".into());
    assert!(matches!(
        c.encode(&Inbound::Start(bad)),
        Err(TransportError::Unsupported(_))
    ));
    assert!(matches!(
        c.encode(&Inbound::Start(info(11025))),
        Err(TransportError::Unsupported(_))
    ));
}

#[test]
fn caller_decodes_server_messages() {
    let mut c = VonageCaller::new();
    assert_eq!(
        c.decode(text(r#"{"action":"clear"}"#)),
        Err(TransportError::MissingStart("server message"))
    );
    c.encode(&Inbound::Start(info(16000))).unwrap();
    assert_eq!(
        c.decode(text(r#"{"action":"clear"}"#)),
        Ok(vec![Outbound::Clear])
    );
    assert_eq!(
        c.decode(text(r#"{"action":"notify","payload":{"mark":"m"}}"#)),
        Ok(vec![Outbound::Mark("m".into())])
    );
    assert_eq!(
        c.decode(WsMessage::Binary([0x02, 0x00].repeat(320))),
        Ok(vec![Outbound::Audio(vec![2; 320])])
    );
    assert_eq!(
        c.decode(WsMessage::Binary(vec![0; 320])),
        Err(TransportError::FrameSize {
            expected: 640,
            got: 320
        })
    );
    assert_eq!(
        c.decode(text(r#"{"action":"transfer"}"#)),
        Err(TransportError::UnknownEvent("transfer".into()))
    );
    assert!(matches!(
        c.decode(text(r#"{"event":"x"}"#)),
        Err(TransportError::Malformed(_))
    ));
}

#[test]
fn caller_and_server_round_trip_at_both_rates() {
    for rate in [8000, 16000] {
        let mut c = VonageCaller::new();
        let mut s = VonageServer::new();
        let evs = [
            Inbound::Connected,
            Inbound::Start(info(rate)),
            Inbound::Dtmf {
                digit: '9',
                duration_ms: Some(120),
            },
            Inbound::Mark { name: "m".into() },
            Inbound::Notify {
                payload: serde_json::json!({"a": 1}),
            },
            Inbound::Cleared,
        ];
        let mut got = Vec::new();
        for ev in &evs {
            for m in c.encode(ev).unwrap() {
                got.extend(s.decode(m).unwrap());
            }
        }
        assert_eq!(got, evs);
        // Server → caller: a mark and a clear come back typed.
        for out in [Outbound::Mark("x".into()), Outbound::Clear] {
            let mut back = Vec::new();
            for m in s.encode(&out).unwrap() {
                back.extend(c.decode(m).unwrap());
            }
            assert_eq!(back, [out]);
        }
    }
}
