//! Twilio Media Streams: exact wire messages in both directions.

use std::collections::BTreeMap;

use sb_transport::{
    CallerCodec, Codec, Inbound, Outbound, StartInfo, TransportError, TwilioCaller, TwilioServer,
    WsMessage,
};

fn text(s: &str) -> WsMessage {
    WsMessage::Text(s.to_owned())
}

fn texts(msgs: Vec<WsMessage>) -> Vec<String> {
    msgs.into_iter()
        .map(|m| match m {
            WsMessage::Text(t) => t,
            WsMessage::Binary(b) => panic!("unexpected binary {b:?}"),
        })
        .collect()
}

const START: &str = r#"{"event":"start","sequenceNumber":"1","streamSid":"MZ1","start":{"accountSid":"AC1","streamSid":"MZ1","callSid":"CA1","tracks":["inbound"],"customParameters":{"agent":"pizza","n":"2"},"mediaFormat":{"encoding":"audio/x-mulaw","sampleRate":8000,"channels":1}}}"#;

/// 160 bytes of μ-law silence (0xFF) in base64.
fn silence_b64() -> String {
    format!("{}/w==", "////".repeat(53))
}

fn started() -> TwilioServer {
    let mut s = TwilioServer::new().unwrap();
    s.decode(text(
        r#"{"event":"connected","protocol":"Call","version":"1.0.0"}"#,
    ))
    .unwrap();
    s.decode(text(START)).unwrap();
    s
}

fn start_info() -> StartInfo {
    StartInfo {
        call_id: "CA1".into(),
        stream_id: "MZ1".into(),
        account_id: "AC1".into(),
        custom_parameters: BTreeMap::from([
            ("agent".to_owned(), "pizza".to_owned()),
            ("n".to_owned(), "2".to_owned()),
        ]),
        sample_rate: 8000,
        encoding: "audio/x-mulaw".into(),
    }
}

#[test]
fn decodes_the_documented_inbound_messages() {
    let mut s = TwilioServer::new().unwrap();
    assert_eq!(
        s.decode(text(
            r#"{"event":"connected","protocol":"Call","version":"1.0.0"}"#
        )),
        Ok(vec![Inbound::Connected])
    );
    assert_eq!(
        s.decode(text(START)),
        Ok(vec![Inbound::Start(start_info())])
    );
    assert_eq!(s.stream_sid(), Some("MZ1"));
    let media = |seq: u32| {
        format!(
            r#"{{"event":"media","sequenceNumber":"{seq}","streamSid":"MZ1","media":{{"track":"inbound","chunk":"1","timestamp":"5","payload":"{}"}}}}"#,
            silence_b64()
        )
    };
    assert_eq!(
        s.decode(text(&media(2))),
        Ok(vec![Inbound::Audio {
            pcm16k: vec![0; 320],
            at_ms: 0
        }])
    );
    assert_eq!(
        s.decode(text(&media(3))),
        Ok(vec![Inbound::Audio {
            pcm16k: vec![0; 320],
            at_ms: 20
        }])
    );
    assert_eq!(
        s.decode(text(r#"{"event":"dtmf","sequenceNumber":"4","streamSid":"MZ1","dtmf":{"track":"inbound_track","digit":"7"}}"#)),
        Ok(vec![Inbound::Dtmf { digit: '7', duration_ms: None }])
    );
    assert_eq!(
        s.decode(text(
            r#"{"event":"mark","sequenceNumber":"5","streamSid":"MZ1","mark":{"name":"turn-1"}}"#
        )),
        Ok(vec![Inbound::Mark {
            name: "turn-1".into()
        }])
    );
    assert_eq!(
        s.decode(text(r#"{"event":"stop","sequenceNumber":"6","streamSid":"MZ1","stop":{"accountSid":"AC1","callSid":"CA1"}}"#)),
        Ok(vec![Inbound::Stop])
    );
    assert_eq!(s.on_close(), vec![]);
    assert_eq!(
        s.decode(text(&media(7))),
        Err(TransportError::AfterStop("message"))
    );
}

#[test]
fn media_is_buffered_to_20ms_frames() {
    let mut s = started();
    // 80 bytes (10 ms): nothing yet; the next 80 complete a frame.
    let eighty = base64_of(&[0xFF; 80]);
    let msg = format!(r#"{{"event":"media","streamSid":"MZ1","media":{{"payload":"{eighty}"}}}}"#);
    assert_eq!(s.decode(text(&msg)), Ok(vec![]));
    assert_eq!(
        s.decode(text(&msg)),
        Ok(vec![Inbound::Audio {
            pcm16k: vec![0; 320],
            at_ms: 0
        }])
    );
    // 400 bytes = 2.5 frames: two frames now, the half waits.
    let four_hundred = base64_of(&[0xFF; 400]);
    let msg =
        format!(r#"{{"event":"media","streamSid":"MZ1","media":{{"payload":"{four_hundred}"}}}}"#);
    assert_eq!(
        s.decode(text(&msg)),
        Ok(vec![Inbound::Audio {
            pcm16k: vec![0; 640],
            at_ms: 20
        }])
    );
    assert_eq!(s.stats().media_bytes, 560);
}

fn base64_of(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

#[test]
fn rejects_bad_inbound_messages() {
    let mut s = TwilioServer::new().unwrap();
    let media =
        r#"{"event":"media","sequenceNumber":"2","streamSid":"MZ1","media":{"payload":"/w=="}}"#;
    assert_eq!(
        s.decode(text(media)),
        Err(TransportError::MissingStart("media"))
    );
    assert_eq!(
        s.decode(WsMessage::Binary(vec![0; 160])),
        Err(TransportError::Unsupported(
            "binary message of 160 bytes on a Twilio stream".into()
        ))
    );
    assert!(matches!(
        s.decode(text("{\"event\":")),
        Err(TransportError::Malformed(_))
    ));
    assert!(matches!(
        s.decode(text("[1,2]")),
        Err(TransportError::Malformed(_))
    ));
    assert!(matches!(
        s.decode(text(r#"{"event":7}"#)),
        Err(TransportError::Malformed(_))
    ));
    assert_eq!(
        s.decode(text(r#"{"event":"future-thing"}"#)),
        Ok(vec![Inbound::Ignored("twilio event future-thing".into())])
    );

    let mut s = started();
    let with = |seq: &str, sid: &str, payload: &str| {
        format!(
            r#"{{"event":"media","sequenceNumber":"{seq}","streamSid":"{sid}","media":{{"payload":"{payload}"}}}}"#
        )
    };
    assert_eq!(
        s.decode(text(&with("2", "MZ2", "/w=="))),
        Err(TransportError::StreamMismatch {
            expected: "MZ1".into(),
            got: "MZ2".into()
        })
    );
    assert_eq!(
        s.decode(text(&with("2", "MZ1", "not base64!"))),
        Err(TransportError::BadBase64("media.payload"))
    );
    assert_eq!(
        s.decode(text(&with("2", "MZ1", "/w=="))),
        Err(TransportError::Sequence { last: 2, got: 2 })
    );
    assert_eq!(
        s.decode(text(&with("1", "MZ1", "/w=="))),
        Err(TransportError::Sequence { last: 2, got: 1 })
    );
    assert!(matches!(
        s.decode(text(&with("-3", "MZ1", "/w=="))),
        Err(TransportError::Malformed(_))
    ));
    assert!(matches!(
        s.decode(text(&with("99999999999999999999999", "MZ1", "/w=="))),
        Err(TransportError::Malformed(_))
    ));
    // A gap is tolerated and counted.
    assert_eq!(s.decode(text(&with("9", "MZ1", "/w=="))), Ok(vec![]));
    assert_eq!(s.stats().sequence_gaps, 6);
    // More than 1 s in one message.
    let big = base64_of(&vec![0xFF; 8001]);
    assert!(matches!(
        s.decode(text(&with("10", "MZ1", &big))),
        Err(TransportError::TooLarge { max: 8000, .. })
    ));
    let ok = base64_of(&vec![0xFF; 8000]);
    assert_eq!(
        s.decode(text(&with("11", "MZ1", &ok))),
        Ok(vec![Inbound::Audio {
            pcm16k: vec![0; 16000],
            at_ms: 0
        }])
    );
    assert!(matches!(
        s.decode(text(r#"{"event":"dtmf","dtmf":{"digit":"12"}}"#)),
        Err(TransportError::Malformed(_))
    ));
    assert_eq!(
        s.decode(text(START)),
        Err(TransportError::Sequence { last: 11, got: 1 })
    );
    let again = START.replace(r#""sequenceNumber":"1""#, r#""sequenceNumber":"12""#);
    assert_eq!(
        s.decode(text(&again)),
        Err(TransportError::Malformed(
            "second start on one stream".into()
        ))
    );
    let huge = format!(
        r#"{{"event":"mark","mark":{{"name":"{}"}}}}"#,
        "x".repeat(70_000)
    );
    assert!(matches!(
        s.decode(text(&huge)),
        Err(TransportError::TooLarge { .. })
    ));
    // Other media formats are refused.
    let mut s = TwilioServer::new().unwrap();
    assert!(matches!(
        s.decode(text(&START.replace("8000", "16000"))),
        Err(TransportError::Unsupported(_))
    ));
    assert_eq!(s.on_close(), vec![Inbound::Stop]);
}

#[test]
fn encodes_exact_outbound_json() {
    let mut s = TwilioServer::new().unwrap();
    assert_eq!(
        s.encode(&Outbound::Clear),
        Err(TransportError::MissingStart("outbound message"))
    );
    let mut s = started();
    let frame = format!(
        r#"{{"event":"media","streamSid":"MZ1","media":{{"payload":"{}"}}}}"#,
        silence_b64()
    );
    assert_eq!(
        texts(s.encode(&Outbound::Audio(vec![0; 320])).unwrap()),
        std::slice::from_ref(&frame)
    );
    // 321 samples → two 20 ms frames, the second padded with silence.
    assert_eq!(
        texts(s.encode(&Outbound::Audio(vec![0; 321])).unwrap()),
        [frame.clone(), frame.clone()]
    );
    assert_eq!(
        texts(s.encode(&Outbound::Audio(vec![0; 5])).unwrap()),
        [frame]
    );
    assert_eq!(s.encode(&Outbound::Audio(vec![])), Ok(vec![]));
    assert_eq!(
        texts(s.encode(&Outbound::Mark("turn \"1\"".into())).unwrap()),
        [r#"{"event":"mark","streamSid":"MZ1","mark":{"name":"turn \"1\""}}"#]
    );
    assert_eq!(
        texts(s.encode(&Outbound::Clear).unwrap()),
        [r#"{"event":"clear","streamSid":"MZ1"}"#]
    );
    assert!(matches!(
        s.encode(&Outbound::Audio(vec![0; 16_000 * 300 + 1])),
        Err(TransportError::TooLarge { .. })
    ));
}

#[test]
fn caller_produces_exact_platform_messages() {
    let mut c = TwilioCaller::new().unwrap();
    assert_eq!(
        c.encode(&Inbound::Dtmf {
            digit: '1',
            duration_ms: None
        }),
        Err(TransportError::MissingStart("caller event"))
    );
    assert_eq!(
        texts(c.encode(&Inbound::Connected).unwrap()),
        [r#"{"event":"connected","protocol":"Call","version":"1.0.0"}"#]
    );
    assert_eq!(
        texts(c.encode(&Inbound::Start(start_info())).unwrap()),
        [START]
    );
    let media = |seq: u32, chunk: u32, ts: u32| {
        format!(
            r#"{{"event":"media","sequenceNumber":"{seq}","streamSid":"MZ1","media":{{"track":"inbound","chunk":"{chunk}","timestamp":"{ts}","payload":"{}"}}}}"#,
            silence_b64()
        )
    };
    assert_eq!(
        texts(
            c.encode(&Inbound::Audio {
                pcm16k: vec![0; 500],
                at_ms: 0
            })
            .unwrap()
        ),
        [media(2, 1, 0), media(3, 2, 20)]
    );
    assert_eq!(
        texts(
            c.encode(&Inbound::Dtmf {
                digit: '#',
                duration_ms: Some(100)
            })
            .unwrap()
        ),
        [
            r##"{"event":"dtmf","sequenceNumber":"4","streamSid":"MZ1","dtmf":{"track":"inbound_track","digit":"#"}}"##
        ]
    );
    assert_eq!(
        texts(c.encode(&Inbound::Mark { name: "m1".into() }).unwrap()),
        [r#"{"event":"mark","sequenceNumber":"5","streamSid":"MZ1","mark":{"name":"m1"}}"#]
    );
    assert!(matches!(
        c.encode(&Inbound::Cleared),
        Err(TransportError::Unsupported(_))
    ));
    assert_eq!(
        texts(c.encode(&Inbound::Stop).unwrap()),
        [
            r#"{"event":"stop","sequenceNumber":"6","streamSid":"MZ1","stop":{"accountSid":"AC1","callSid":"CA1"}}"#
        ]
    );
    assert_eq!(
        c.encode(&Inbound::Stop),
        Err(TransportError::AfterStop("caller event"))
    );
}

#[test]
fn caller_decodes_server_messages_strictly() {
    let mut c = TwilioCaller::new().unwrap();
    let clear = text(r#"{"event":"clear","streamSid":"MZ1"}"#);
    assert_eq!(
        c.decode(clear.clone()),
        Err(TransportError::MissingStart("server message"))
    );
    c.encode(&Inbound::Start(start_info())).unwrap();
    assert_eq!(c.decode(clear), Ok(vec![Outbound::Clear]));
    assert_eq!(
        c.decode(text(
            r#"{"event":"mark","streamSid":"MZ1","mark":{"name":"a"}}"#
        )),
        Ok(vec![Outbound::Mark("a".into())])
    );
    let media = format!(
        r#"{{"event":"media","streamSid":"MZ1","media":{{"payload":"{}"}}}}"#,
        silence_b64()
    );
    assert_eq!(
        c.decode(text(&media)),
        Ok(vec![Outbound::Audio(vec![0; 320])])
    );
    assert_eq!(
        c.decode(text(r#"{"event":"clear","streamSid":"MZ9"}"#)),
        Err(TransportError::StreamMismatch {
            expected: "MZ1".into(),
            got: "MZ9".into()
        })
    );
    assert!(matches!(
        c.decode(text(r#"{"event":"clear"}"#)),
        Err(TransportError::Malformed(_))
    ));
    assert_eq!(
        c.decode(text(r#"{"event":"hangup","streamSid":"MZ1"}"#)),
        Err(TransportError::UnknownEvent("hangup".into()))
    );
    assert!(matches!(
        c.decode(WsMessage::Binary(vec![1])),
        Err(TransportError::Unsupported(_))
    ));
}

/// A 440 Hz tone survives caller → server (16k → 8k μ-law → 16k) up to the two resampler
/// delays (10 ms each) and μ-law quantisation.
#[test]
fn audio_round_trips_through_caller_and_server() {
    let tone: Vec<i16> = (0..16_000)
        .map(|i| {
            (8000.0 * (2.0 * std::f64::consts::PI * 440.0 * f64::from(i) / 16_000.0).sin()) as i16
        })
        .collect();
    let mut c = TwilioCaller::new().unwrap();
    let mut s = TwilioServer::new().unwrap();
    let mut got = Vec::new();
    let mut events = Vec::new();
    for ev in [
        Inbound::Connected,
        Inbound::Start(start_info()),
        Inbound::Audio {
            pcm16k: tone.clone(),
            at_ms: 0,
        },
        Inbound::Stop,
    ] {
        for m in c.encode(&ev).unwrap() {
            for e in s.decode(m).unwrap() {
                match e {
                    Inbound::Audio { pcm16k, .. } => got.extend(pcm16k),
                    other => events.push(other),
                }
            }
        }
    }
    assert_eq!(
        events,
        [
            Inbound::Connected,
            Inbound::Start(start_info()),
            Inbound::Stop
        ]
    );
    assert_eq!(got.len(), 16_000);
    let delay = 320;
    let (mut err, mut sig) = (0f64, 0f64);
    for i in 1000..15_000 {
        let d = f64::from(got[i]) - f64::from(tone[i - delay]);
        err += d * d;
        sig += f64::from(tone[i - delay]).powi(2);
    }
    let snr_db = 10.0 * (sig / err).log10();
    assert!(snr_db > 25.0, "SNR {snr_db} dB");
}

#[test]
fn media_time_follows_twilio_timestamps_over_lost_audio() {
    let mut s = started();
    let media = |seq: u32, ts: &str| {
        text(&format!(
            r#"{{"event":"media","sequenceNumber":"{seq}","streamSid":"MZ1","media":{{"track":"inbound","chunk":"{seq}","timestamp":"{ts}","payload":"{}"}}}}"#,
            silence_b64()
        ))
    };
    let at = |r: sb_transport::Result<Vec<Inbound>>| match r.unwrap().as_slice() {
        [Inbound::Audio { at_ms, pcm16k }] if pcm16k.len() == 320 => *at_ms,
        other => panic!("{other:?}"),
    };
    assert_eq!(at(s.decode(media(2, "0"))), 0);
    assert_eq!(at(s.decode(media(3, "20"))), 20);
    // Jitter in the stamps (under a frame) moves nothing.
    assert_eq!(at(s.decode(media(4, "55"))), 40);
    // Twilio lost 100 ms: the media time jumps with its timestamp.
    assert_eq!(at(s.decode(media(5, "160"))), 160);
    assert_eq!(at(s.decode(media(6, "180"))), 180);
    // Stamps that go back, or cannot be read, tell nothing: the samples' count goes on.
    assert_eq!(at(s.decode(media(7, "20"))), 200);
    assert_eq!(at(s.decode(media(8, "soon"))), 220);
}
