//! Vonage Voice WebSocket: a session of inbound messages into our server codec.
//!
//! Input: records `[kind] [len: u16 LE] [len bytes]`. kind < 0x80: even → text frame (the bytes
//! as UTF-8, lossily), odd → binary frame (L16 audio); kind ≥ 0x80 drives our side:
//! `kind % 5` = mark (the bytes are its name), clear, audio (`len` ms / 10 of outbound audio),
//! reply start, close.
//!
//! Checks: no panic; the first message yields Connected + Start at 8/16/24 kHz L16; audio is only
//! taken after that, in whole 20 ms frames, as 20 ms of 16 kHz audio with a media clock that
//! follows it; nothing decodes after close; outbound audio is whole 20 ms L16 frames.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sb_transport::{Codec, Inbound, Outbound, VonageServer, WsMessage};
use serde_json::Value;

fuzz_target!(|data: &[u8]| {
    let mut codec = VonageServer::new();
    let mut closed = false;
    let mut samples = 0u64;
    let mut rest = data;
    while let [kind, lo, hi, tail @ ..] = rest {
        let len = usize::from(u16::from_le_bytes([*lo, *hi])).min(tail.len());
        let (body, next) = tail.split_at(len);
        rest = next;
        if *kind >= 0x80 {
            drive(&mut codec, kind % 5, body, len, &mut closed);
            continue;
        }
        let binary = kind % 2 == 1;
        let msg = if binary {
            WsMessage::Binary(body.to_vec())
        } else {
            WsMessage::Text(String::from_utf8_lossy(body).into_owned())
        };
        let rate_before = codec.rate();
        let res = codec.decode(msg);
        if closed {
            assert!(res.is_err(), "decoded after close");
            continue;
        }
        if binary {
            match rate_before {
                None => assert!(res.is_err(), "audio before the first message"),
                Some(r) if body.len() != r as usize / 50 * 2 => {
                    assert!(res.is_err(), "a frame that is not 20 ms")
                }
                Some(_) => assert!(res.is_ok(), "a 20 ms frame: {res:?}"),
            }
        }
        let Ok(events) = res else { continue };
        if rate_before.is_none() && !binary {
            let [Inbound::Connected, Inbound::Start(info)] = &events[..] else {
                panic!("first message: {events:?}")
            };
            assert!(matches!(info.sample_rate, 8000 | 16000 | 24000));
            assert_eq!(info.encoding, "audio/l16");
            assert_eq!(codec.rate(), Some(info.sample_rate));
        }
        for ev in &events {
            if let Inbound::Audio { pcm16k, at_ms } = ev {
                assert_eq!(pcm16k.len(), 320, "20 ms at 16 kHz");
                assert_eq!(*at_ms, samples / 16, "media clock");
                samples += pcm16k.len() as u64;
            }
            if let Inbound::Dtmf { digit, .. } = ev {
                assert!("0123456789*#ABCD".contains(*digit));
            }
        }
    }
    let closing = codec.on_close();
    assert_eq!(closing.is_empty(), closed);
    assert!(codec.decode(WsMessage::Binary(vec![0; 640])).is_err());
});

fn drive(codec: &mut VonageServer, op: u8, body: &[u8], len: usize, closed: &mut bool) {
    let out = match op {
        0 => Outbound::Mark(String::from_utf8_lossy(body).into_owned()),
        1 => Outbound::Clear,
        2 => Outbound::Audio(
            (0..(len % 200) * 160)
                .map(|i| ((i as i32 * 331) % 30_000 - 15_000) as i16)
                .collect(),
        ),
        3 => {
            codec.reply_starts();
            return;
        }
        _ => {
            assert_eq!(codec.on_close().is_empty(), *closed);
            *closed = true;
            return;
        }
    };
    let res = codec.encode(&out);
    let Some(rate) = codec.rate().filter(|_| !*closed) else {
        assert!(res.is_err(), "encoded without a live stream");
        return;
    };
    let msgs = res.expect("encode on a live stream");
    for m in msgs {
        match (m, &out) {
            (WsMessage::Binary(b), Outbound::Audio(_)) => {
                assert_eq!(b.len(), rate as usize / 50 * 2, "20 ms L16 frame")
            }
            (WsMessage::Text(t), Outbound::Mark(name)) => {
                let v: Value = serde_json::from_str(&t).expect("our JSON parses");
                assert_eq!(v["action"], "notify");
                assert_eq!(v["payload"]["mark"].as_str(), Some(name.as_str()));
            }
            (WsMessage::Text(t), Outbound::Clear) => {
                let v: Value = serde_json::from_str(&t).expect("our JSON parses");
                assert_eq!(v["action"], "clear");
            }
            (m, out) => panic!("{out:?} encoded as {m:?}"),
        }
    }
}
