//! A small fake bot server for the simulated caller's tests: the other side of the wire, built
//! on sb-transport's server codecs. It detects caller utterances by energy, answers each with a
//! tone burst (or synthesised speech) followed by a mark, and can misbehave on purpose.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use sb_speech::models::{ModelPaths, ModelStore};
use sb_speech::tts::{EspeakTts, Tts};
use sb_testkit::playback::is_voiced;
use sb_testkit::Platform;
use sb_transport::{server_codec, Inbound, Outbound, WsMessage};
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tokio::time::{sleep_until, Instant};
use tokio_tungstenite::tungstenite::Message;

/// A missing test dependency: a failure that says how to install it; only
/// `SWITCHBOARD_TEST_ALLOW_SKIP=1` (a developer opt-out CI never sets) makes it a skip.
pub fn missing<T>(what: &str) -> Option<T> {
    if std::env::var("SWITCHBOARD_TEST_ALLOW_SKIP").as_deref() == Ok("1") {
        eprintln!("SKIPPED: {what}");
        return None;
    }
    panic!("{what}");
}

/// The model store's paths; see [`missing`].
pub fn models() -> Option<ModelPaths> {
    static PATHS: OnceLock<Option<ModelPaths>> = OnceLock::new();
    PATHS
        .get_or_init(
            || match ModelStore::from_env().ensure(&|m| eprintln!("{m}")) {
                Ok(p) => Some(p),
                Err(e) => missing(&format!(
                    "speech models unavailable ({e}); run `target/release/switchboard models fetch`"
                )),
            },
        )
        .clone()
}

/// The caller's voice (espeak-ng en-us); see [`missing`].
pub fn caller_voice() -> Option<Arc<dyn Tts>> {
    let paths = models()?;
    match EspeakTts::load_voice(&paths, "en-us") {
        Ok(t) => Some(Arc::new(t)),
        Err(e) => missing(&format!(
            "espeak-ng voice unavailable ({e}); run `scripts/install-deps.sh` and `switchboard models fetch`"
        )),
    }
}

#[derive(Clone)]
pub struct FakeConfig {
    pub platform: Platform,
    /// Greeting tone length (none: no greeting).
    pub greeting_ms: Option<u64>,
    pub reply_ms: u64,
    /// Delay between the end of a caller utterance and the reply.
    pub think_ms: u64,
    /// Silent audio sent before each reply's tone.
    pub lead_silence_ms: u64,
    /// Caller silence (media time) that ends an utterance.
    pub endpoint_ms: u64,
    /// Send `clear` when the caller speaks while a reply is playing.
    pub clear_on_barge_in: bool,
    /// Close the socket once the mark of this reply (1-based, greeting not counted) is echoed.
    pub hangup_after_reply: Option<usize>,
    /// Close right after sending that reply instead (cutting its audio off).
    pub hangup_without_waiting: bool,
    /// Send undecodable messages before each reply.
    pub garbage: bool,
    /// Speak these texts (in order) instead of tones.
    pub reply_texts: Vec<String>,
    pub bot_voice: Option<Arc<dyn Tts>>,
}

impl FakeConfig {
    pub fn new(platform: Platform) -> Self {
        FakeConfig {
            platform,
            greeting_ms: None,
            reply_ms: 600,
            think_ms: 200,
            lead_silence_ms: 0,
            endpoint_ms: 400,
            clear_on_barge_in: false,
            hangup_after_reply: None,
            hangup_without_waiting: false,
            garbage: false,
            reply_texts: Vec::new(),
            bot_voice: None,
        }
    }
}

/// What the fake bot saw on one connection.
#[derive(Debug, Clone, Default)]
pub struct ConnLog {
    pub start: Option<(Instant, BTreeMap<String, String>)>,
    /// Receipt time of the last voiced frame of each caller utterance.
    pub utterance_ends: Vec<Instant>,
    pub digits: Vec<(Instant, char)>,
    pub replies: Vec<SentReply>,
    pub mark_echoes: Vec<(Instant, String)>,
    pub clears_sent: Vec<Instant>,
    pub cleared_confirmations: Vec<Instant>,
    pub decode_errors: Vec<String>,
    pub audio_frames: usize,
    pub stopped: bool,
}

#[derive(Debug, Clone)]
pub struct SentReply {
    pub mark: String,
    /// When the first audio message went out (all of it is sent at once).
    pub sent_at: Instant,
    /// When the first non-silent audio went out (same message batch as `sent_at`).
    pub voiced_at: Instant,
    pub audio_ms: u64,
}

pub struct FakeBot {
    pub url: String,
    logs: mpsc::Receiver<ConnLog>,
}

impl FakeBot {
    /// Binds 127.0.0.1:0 and serves every connection with `cfg`.
    pub async fn spawn(cfg: FakeConfig) -> FakeBot {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let path = match cfg.platform {
            Platform::Twilio => "twilio/media",
            Platform::Vonage => "vonage/media",
        };
        let (tx, rx) = mpsc::channel(256);
        let spoken: Arc<Vec<Vec<i16>>> = Arc::new(match cfg.bot_voice.clone() {
            Some(v) => {
                let texts = cfg.reply_texts.clone();
                tokio::task::spawn_blocking(move || {
                    texts.iter().map(|t| speech(v.as_ref(), t)).collect()
                })
                .await
                .expect("bot voice task")
            }
            None => Vec::new(),
        });
        tokio::spawn(async move {
            while let Ok((tcp, _)) = listener.accept().await {
                let cfg = cfg.clone();
                let tx = tx.clone();
                let spoken = spoken.clone();
                tokio::spawn(async move {
                    let log = serve(tcp, cfg, spoken).await;
                    let _ = tx.send(log).await;
                });
            }
        });
        FakeBot {
            url: format!("ws://{addr}/{path}"),
            logs: rx,
        }
    }

    /// The log of the next connection to finish.
    pub async fn next_log(&mut self) -> ConnLog {
        self.logs.recv().await.expect("fake bot task ended")
    }
}

fn tone(ms: u64) -> Vec<i16> {
    let n = (ms * 16) as usize;
    (0..n)
        .map(|i| ((i as f32 * 440.0 * std::f32::consts::TAU / 16_000.0).sin() * 8000.0) as i16)
        .collect()
}

struct Pending {
    at: Instant,
    greeting: bool,
}

async fn serve(tcp: tokio::net::TcpStream, cfg: FakeConfig, spoken: Arc<Vec<Vec<i16>>>) -> ConnLog {
    let mut log = ConnLog::default();
    let Ok(mut ws) = tokio_tungstenite::accept_async(tcp).await else {
        return log;
    };
    let mut codec = server_codec(cfg.platform).expect("codec");
    let mut pending: Option<Pending> = None;
    let mut replies_sent = 0usize;
    let mut hangup_on_mark: Option<String> = None;
    // Utterance tracking on the media clock.
    let mut in_utt = false;
    let mut silent_samples = 0u64;
    let mut last_voiced = Instant::now();
    let mut playing: Option<String> = None; // mark of the reply being played
    let mut cleared_this_reply = false;
    loop {
        let wake = pending.as_ref().map(|p| p.at);
        let msg = tokio::select! {
            m = ws.next() => Some(m),
            _ = async { match wake { Some(t) => sleep_until(t).await, None => std::future::pending().await } } => None,
        };
        let now = Instant::now();
        let Some(m) = msg else {
            // A reply is due.
            let p = pending.take().expect("pending");
            let audio = match spoken.get(replies_sent) {
                _ if p.greeting => tone(cfg.greeting_ms.unwrap_or(0)),
                Some(a) => a.clone(),
                None => tone(cfg.reply_ms),
            };
            if !p.greeting {
                replies_sent += 1;
            }
            let mark = if p.greeting {
                "greeting".to_string()
            } else {
                format!("reply-{replies_sent}")
            };
            if cfg.garbage {
                let junk: Vec<Message> = match cfg.platform {
                    Platform::Twilio => vec![
                        Message::text("this is not json"),
                        Message::binary(vec![1u8, 2, 3]),
                    ],
                    Platform::Vonage => vec![
                        Message::binary(vec![0u8; 100]),
                        Message::text(r#"{"action":"dance"}"#),
                    ],
                };
                for j in junk {
                    let _ = ws.send(j).await;
                }
            }
            let mut pcm = vec![0i16; (cfg.lead_silence_ms * 16) as usize];
            pcm.extend_from_slice(&audio);
            let msgs = codec.encode(&Outbound::Audio(pcm)).expect("encode audio");
            let sent_at = Instant::now();
            for m in msgs {
                let _ = ws.send(to_msg(m)).await;
            }
            for m in codec
                .encode(&Outbound::Mark(mark.clone()))
                .expect("encode mark")
            {
                let _ = ws.send(to_msg(m)).await;
            }
            log.replies.push(SentReply {
                mark: mark.clone(),
                sent_at,
                voiced_at: sent_at,
                audio_ms: (cfg.lead_silence_ms * 16 + audio.len() as u64) / 16,
            });
            playing = Some(mark.clone());
            cleared_this_reply = false;
            if !p.greeting && cfg.hangup_after_reply == Some(replies_sent) {
                if cfg.hangup_without_waiting {
                    let _ = ws.close(None).await;
                    drain(&mut ws).await;
                    return log;
                }
                hangup_on_mark = Some(mark);
            }
            continue;
        };
        let wire = match m {
            None | Some(Err(_)) | Some(Ok(Message::Close(_))) => break,
            Some(Ok(Message::Text(t))) => WsMessage::Text(t.as_str().to_owned()),
            Some(Ok(Message::Binary(b))) => WsMessage::Binary(b.to_vec()),
            Some(Ok(_)) => continue,
        };
        let events = match codec.decode(wire) {
            Ok(e) => e,
            Err(e) => {
                log.decode_errors.push(e.to_string());
                continue;
            }
        };
        for ev in events {
            match ev {
                Inbound::Start(info) => {
                    log.start = Some((now, info.custom_parameters.clone()));
                    if cfg.greeting_ms.is_some() {
                        pending = Some(Pending {
                            at: now,
                            greeting: true,
                        });
                    }
                }
                Inbound::Audio { pcm16k, .. } => {
                    log.audio_frames += 1;
                    if is_voiced(&pcm16k) {
                        in_utt = true;
                        silent_samples = 0;
                        last_voiced = now;
                        if cfg.clear_on_barge_in && playing.is_some() && !cleared_this_reply {
                            for m in codec.encode(&Outbound::Clear).expect("encode clear") {
                                let _ = ws.send(to_msg(m)).await;
                            }
                            log.clears_sent.push(now);
                            cleared_this_reply = true;
                        }
                    } else if in_utt {
                        silent_samples += pcm16k.len() as u64;
                        if silent_samples >= cfg.endpoint_ms * 16 {
                            in_utt = false;
                            log.utterance_ends.push(last_voiced);
                            pending = Some(Pending {
                                at: now + Duration::from_millis(cfg.think_ms),
                                greeting: false,
                            });
                        }
                    }
                }
                Inbound::Dtmf { digit, .. } => {
                    log.digits.push((now, digit));
                    if digit == '#' {
                        log.utterance_ends.push(now);
                        pending = Some(Pending {
                            at: now + Duration::from_millis(cfg.think_ms),
                            greeting: false,
                        });
                    }
                }
                Inbound::Mark { name } => {
                    log.mark_echoes.push((now, name.clone()));
                    if playing.as_ref() == Some(&name) {
                        playing = None;
                    }
                    if hangup_on_mark.as_ref() == Some(&name) {
                        let _ = ws.close(None).await;
                        drain(&mut ws).await;
                        return log;
                    }
                }
                Inbound::Cleared => {
                    log.cleared_confirmations.push(now);
                    playing = None;
                }
                Inbound::Stop => log.stopped = true,
                _ => {}
            }
        }
    }
    log
}

async fn drain(ws: &mut tokio_tungstenite::WebSocketStream<tokio::net::TcpStream>) {
    while let Some(Ok(m)) = ws.next().await {
        if m.is_close() {
            break;
        }
    }
}

fn speech(tts: &dyn Tts, text: &str) -> Vec<i16> {
    let raw = tts.synthesize_all(text).expect("bot voice");
    let f = sb_audio::i16_to_f32(&raw);
    sb_audio::f32_to_i16(&sb_audio::resample(&f, tts.sample_rate(), 16_000).expect("resample"))
}

fn to_msg(m: WsMessage) -> Message {
    match m {
        WsMessage::Text(t) => Message::text(t),
        WsMessage::Binary(b) => Message::binary(b),
    }
}
