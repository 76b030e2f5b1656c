//! Twilio Media Streams: a WebSocket session of inbound messages into our server codec.
//!
//! Input: messages separated by `\n`. A valid UTF-8 line is a text frame (JSON, as Twilio sends),
//! any other line a binary frame. Lines starting with `#` drive our side instead: `#mark NAME`,
//! `#clear`, `#audio N` (N·10 ms of outbound audio), `#reply`, `#close`, so encoding interleaves
//! with decoding the way a call does.
//!
//! Checks: no panic; audio timestamps never go back over the audio delivered (gaps Twilio's
//! timestamps show move them on); a start names a stream and the
//! μ-law/8 kHz format; nothing decodes after a stop; outbound media frames are 20 ms of μ-law.
#![no_main]

use base64::Engine as _;
use libfuzzer_sys::fuzz_target;
use sb_transport::{Codec, Inbound, Outbound, TwilioServer, WsMessage};
use serde_json::Value;

fuzz_target!(|data: &[u8]| {
    let Ok(mut codec) = TwilioServer::new() else {
        return;
    };
    let mut stopped = false;
    let mut delivered_ms = 0u64;
    for line in data.split(|&b| b == b'\n') {
        if let Some(cmd) = line.strip_prefix(b"#") {
            drive(&mut codec, cmd, &mut stopped);
            continue;
        }
        let msg = match std::str::from_utf8(line) {
            Ok(s) => WsMessage::Text(s.to_owned()),
            Err(_) => WsMessage::Binary(line.to_vec()),
        };
        let res = codec.decode(msg);
        if stopped {
            assert!(res.is_err(), "decoded after stop: {res:?}");
            continue;
        }
        let Ok(events) = res else { continue };
        for ev in events {
            match ev {
                Inbound::Audio { pcm16k, at_ms } => {
                    assert!(!pcm16k.is_empty());
                    // Lost audio (a jump in Twilio's `timestamp`s) moves the clock on; it never
                    // goes back over audio already delivered.
                    assert!(
                        at_ms >= delivered_ms,
                        "media clock {at_ms} < {delivered_ms}"
                    );
                    delivered_ms = at_ms + pcm16k.len() as u64 / 16;
                }
                Inbound::Start(info) => {
                    assert!(!info.stream_id.is_empty());
                    assert_eq!(info.sample_rate, 8000);
                    assert_eq!(info.encoding, "audio/x-mulaw");
                    assert_eq!(codec.stream_sid(), Some(info.stream_id.as_str()));
                }
                Inbound::Dtmf { digit, duration_ms } => {
                    assert!("0123456789*#ABCD".contains(digit), "digit {digit:?}");
                    assert_eq!(duration_ms, None);
                }
                Inbound::Stop => stopped = true,
                _ => {}
            }
        }
    }
    let closing = codec.on_close();
    assert_eq!(closing.is_empty(), stopped);
    assert!(codec.decode(WsMessage::Text("{}".into())).is_err());
});

fn drive(codec: &mut TwilioServer, cmd: &[u8], stopped: &mut bool) {
    let cmd = String::from_utf8_lossy(cmd);
    let (verb, arg) = cmd.split_once(' ').unwrap_or((&cmd, ""));
    let out = match verb {
        "mark" => Outbound::Mark(arg.to_owned()),
        "clear" => Outbound::Clear,
        "audio" => {
            let n: usize = arg.trim().parse().unwrap_or(1).min(200);
            let pcm: Vec<i16> = (0..n * 160)
                .map(|i| ((i as i32 * 997) % 20_000 - 10_000) as i16)
                .collect();
            Outbound::Audio(pcm)
        }
        "reply" => {
            codec.reply_starts();
            return;
        }
        "close" => {
            let evs = codec.on_close();
            assert_eq!(evs.is_empty(), *stopped);
            *stopped = true;
            return;
        }
        _ => return,
    };
    let res = codec.encode(&out);
    if *stopped || codec.stream_sid().is_none() {
        assert!(res.is_err(), "encoded without a live stream");
        return;
    }
    let Ok(msgs) = res else {
        panic!("encode failed on a live stream: {res:?}")
    };
    let sid = codec.stream_sid().unwrap_or_default().to_owned();
    for m in msgs {
        let WsMessage::Text(t) = m else {
            panic!("binary to Twilio")
        };
        let v: Value = serde_json::from_str(&t).expect("our JSON parses");
        assert_eq!(v["streamSid"].as_str(), Some(sid.as_str()));
        match v["event"].as_str() {
            Some("media") => {
                let p = v["media"]["payload"].as_str().expect("payload");
                let bytes = base64::engine::general_purpose::STANDARD
                    .decode(p)
                    .expect("base64");
                assert_eq!(bytes.len(), 160, "20 ms of 8 kHz μ-law");
            }
            Some("mark") => assert_eq!(v["mark"]["name"].as_str(), Some(out_name(&out))),
            Some("clear") => assert!(matches!(out, Outbound::Clear)),
            other => panic!("unexpected outbound event {other:?}"),
        }
    }
}

fn out_name(out: &Outbound) -> &str {
    match out {
        Outbound::Mark(n) => n,
        _ => "",
    }
}
