//! Phone test helpers: a real server on 127.0.0.1:0 with the phone path attached, fake or real
//! speech engines, and a raw platform-side WebSocket client.
#![allow(dead_code)]

pub mod agents;
pub mod app;
pub mod customer;
pub mod twilio;

use futures_util::{SinkExt, StreamExt};
use sb_speech::asr::{Asr, AsrOptions, Transcript};
use sb_speech::tts::{AudioChunk, Tts};
use sb_speech::SpeechError;
use sb_transport::{caller_codec, CallerCodec, Inbound, Outbound, Platform, StartInfo, WsMessage};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use switchboard::config::ServerConfig;
use switchboard::phone::choices::SpeechChoices;
use switchboard::phone::connectors::PhoneFile;
use switchboard::phone::Phone;
use switchboard::AppState;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::Message;

/// The bot's Piper voice without its per-synthesis noise: the same reply is the same audio on
/// every run, so what the simulated caller's Whisper hears of it does not change between runs
/// (with the noise, CI once heard "Welcome back" as "I'll come back").
pub const QUIET_VOICE: Option<(f32, f32)> = Some((0.0, 0.0));

pub fn restaurant() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/restaurant")
}

/// ASR that always hears `text`.
pub struct FakeAsr(pub String);

impl Asr for FakeAsr {
    fn transcribe(&self, _pcm: &[f32], _o: &AsrOptions) -> Result<Transcript, SpeechError> {
        Ok(Transcript {
            text: self.0.clone(),
            confidence: 0.9,
            words: Vec::new(),
        })
    }
}

/// TTS that says 200 ms of a tone per text, at 16 kHz.
pub struct FakeTts;

impl Tts for FakeTts {
    fn synthesize(
        &self,
        text: &str,
        sink: &mut dyn FnMut(AudioChunk) -> bool,
    ) -> Result<(), SpeechError> {
        let samples = (0..3_200)
            .map(|i| ((i as f32 * 0.1).sin() * 8_000.0) as i16)
            .collect();
        sink(AudioChunk {
            samples,
            sample_rate: 16_000,
            text: text.to_string(),
        });
        Ok(())
    }

    fn sample_rate(&self) -> u32 {
        16_000
    }
}

pub struct PhoneServer {
    pub base: String,
    pub host: String,
    pub state: Arc<AppState>,
    pub phone: Arc<Phone>,
    stop: Option<oneshot::Sender<()>>,
    handle: Option<JoinHandle<std::io::Result<()>>>,
    pub http: reqwest::Client,
}

impl PhoneServer {
    pub async fn start(toml: &str, asr: Arc<dyn Asr>, tts: Arc<dyn Tts>) -> PhoneServer {
        PhoneServer::start_with(toml, asr, tts, ServerConfig::default()).await
    }

    /// Like [`PhoneServer::start`] with a server configuration (e.g. a `data_dir`, so calls and
    /// paused sessions outlive the server).
    pub async fn start_with(
        toml: &str,
        asr: Arc<dyn Asr>,
        tts: Arc<dyn Tts>,
        config: ServerConfig,
    ) -> PhoneServer {
        let clock = Arc::new(switchboard::clock::SystemClock);
        PhoneServer::start_clocked(toml, asr, tts, config, clock).await
    }

    /// Like [`PhoneServer::start_with`] on `clock` (e.g. a `ManualClock`: paused sessions'
    /// expiry is on the server's clock).
    pub async fn start_clocked(
        toml: &str,
        asr: Arc<dyn Asr>,
        tts: Arc<dyn Tts>,
        config: ServerConfig,
        clock: Arc<dyn switchboard::clock::Clock>,
    ) -> PhoneServer {
        let choices = SpeechChoices::none();
        PhoneServer::start_full(toml, asr, tts, choices, config, clock).await
    }

    /// Like [`PhoneServer::start`] with voices and recognisers calls may choose.
    pub async fn start_choosing(
        toml: &str,
        asr: Arc<dyn Asr>,
        tts: Arc<dyn Tts>,
        choices: SpeechChoices,
    ) -> PhoneServer {
        let clock = Arc::new(switchboard::clock::SystemClock);
        let config = ServerConfig::default();
        PhoneServer::start_full(toml, asr, tts, choices, config, clock).await
    }

    async fn start_full(
        toml: &str,
        asr: Arc<dyn Asr>,
        tts: Arc<dyn Tts>,
        choices: SpeechChoices,
        config: ServerConfig,
        clock: Arc<dyn switchboard::clock::Clock>,
    ) -> PhoneServer {
        let engine = switchboard::cli::load_engine(&restaurant(), None).expect("agent");
        let state = Arc::new(AppState::new(engine, config, clock).await.expect("state"));
        let file = PhoneFile::parse(toml).expect("phone toml");
        let st = state.clone();
        let phone = tokio::task::spawn_blocking(move || {
            Phone::start_choosing(&st, file, asr, tts, choices)
        })
        .await
        .expect("join")
        .expect("phone");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let host = listener.local_addr().expect("addr").to_string();
        let (stop, rx) = oneshot::channel::<()>();
        let handle = tokio::spawn(switchboard::run(listener, state.clone(), async move {
            let _ = rx.await;
        }));
        PhoneServer {
            base: format!("http://{host}"),
            host,
            state,
            phone,
            stop: Some(stop),
            handle: Some(handle),
            http: reqwest::Client::new(),
        }
    }

    pub async fn fake(toml: &str) -> PhoneServer {
        PhoneServer::start(toml, Arc::new(FakeAsr("hello".into())), Arc::new(FakeTts)).await
    }

    pub fn ws_url(&self, platform: Platform) -> String {
        match platform {
            Platform::Twilio => format!("ws://{}/twilio/media", self.host),
            Platform::Vonage => format!("ws://{}/vonage/media", self.host),
        }
    }

    pub async fn get_json(&self, path: &str) -> (u16, serde_json::Value) {
        let r = self
            .http
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .expect("get");
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(serde_json::Value::Null))
    }

    /// The Prometheus text of `/metrics`.
    pub async fn metrics(&self) -> String {
        self.http
            .get(format!("{}/metrics", self.base))
            .send()
            .await
            .expect("metrics")
            .text()
            .await
            .expect("metrics body")
    }

    pub async fn stop(mut self) {
        self.phone.drain(std::time::Duration::from_secs(10)).await;
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(h) = self.handle.take() {
            let _ = h.await;
        }
    }
}

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// The platform's side of one media WebSocket, driven by hand.
pub struct RawCaller {
    pub platform: Platform,
    pub ws: Ws,
    pub codec: Box<dyn CallerCodec + Send>,
}

impl RawCaller {
    pub async fn connect(url: &str, platform: Platform) -> RawCaller {
        Self::connect_signed(url, platform, None).await
    }

    /// As Twilio connects to a server that has its auth token: the upgrade signed.
    pub async fn connect_signed(url: &str, platform: Platform, token: Option<&str>) -> RawCaller {
        use tokio_tungstenite::tungstenite::client::IntoClientRequest;
        let mut req = url.into_client_request().expect("ws url");
        if let Some(t) = token {
            // Signed as Twilio does, over the public `wss://` URL the server rebuilds.
            let sig = sb_transport::twilio_signature(t, &url.replacen("ws://", "wss://", 1), &[]);
            req.headers_mut()
                .insert("x-twilio-signature", sig.parse().expect("header"));
        }
        let (ws, _) = tokio_tungstenite::connect_async_with_config(req, None, true)
            .await
            .expect("connect");
        RawCaller {
            platform,
            ws,
            codec: caller_codec(platform).expect("codec"),
        }
    }

    pub async fn send_raw(&mut self, m: Message) -> bool {
        self.ws.send(m).await.is_ok()
    }

    pub async fn send(&mut self, ev: &Inbound) {
        for m in self.codec.encode(ev).expect("encode") {
            let msg = match m {
                WsMessage::Text(t) => Message::Text(t.into()),
                WsMessage::Binary(b) => Message::Binary(b.into()),
            };
            self.ws.send(msg).await.expect("send");
        }
    }

    /// Connected + start with `params`.
    pub async fn start(&mut self, call_id: &str, params: &[(&str, &str)]) {
        self.start_stream(call_id, &format!("MZ{call_id}"), params)
            .await
    }

    /// [`RawCaller::start`] with stream id `stream_id` (a call's later stream, e.g. a resume,
    /// has a new one).
    pub async fn start_stream(&mut self, call_id: &str, stream_id: &str, params: &[(&str, &str)]) {
        let custom_parameters: BTreeMap<String, String> = params
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        self.send(&Inbound::Connected).await;
        self.send(&Inbound::Start(StartInfo {
            call_id: call_id.into(),
            stream_id: stream_id.into(),
            account_id: "ACtest".into(),
            custom_parameters,
            sample_rate: if self.platform == Platform::Twilio {
                8_000
            } else {
                16_000
            },
            encoding: if self.platform == Platform::Twilio {
                "audio/x-mulaw"
            } else {
                "audio/l16"
            }
            .into(),
        }))
        .await;
    }

    /// Reads until the server sends audio (returns its decoded outputs) or closes (`None`).
    pub async fn next_outputs(&mut self) -> Option<Vec<Outbound>> {
        loop {
            let m = self.ws.next().await?.ok()?;
            let w = match m {
                Message::Text(t) => WsMessage::Text(t.to_string()),
                Message::Binary(b) => WsMessage::Binary(b.to_vec()),
                Message::Close(_) => return None,
                _ => continue,
            };
            if let Ok(o) = self.codec.decode(w) {
                if !o.is_empty() {
                    return Some(o);
                }
            }
        }
    }

    /// Reads until the server closes the socket; returns every output seen.
    pub async fn until_closed(&mut self) -> Vec<Outbound> {
        let mut all = Vec::new();
        while let Some(o) = self.next_outputs().await {
            all.extend(o);
        }
        all
    }
}

/// Reads until the server sends a mark (the end of a bot turn), for at most 10 s; returns the
/// mark's name and whether audio came before it.
pub async fn until_mark(c: &mut RawCaller) -> (String, bool) {
    tokio::time::timeout(std::time::Duration::from_secs(10), async {
        let mut audio = false;
        loop {
            let outs = c.next_outputs().await.expect("socket closed before a mark");
            for o in outs {
                match o {
                    Outbound::Audio(pcm) => audio |= !pcm.is_empty(),
                    Outbound::Mark(name) => return (name, audio),
                    Outbound::Clear => {}
                }
            }
        }
    })
    .await
    .expect("no mark in time")
}
