//! One phone line as the platform sees it: a WebSocket to the server, the platform's codec, a
//! 20 ms frame clock that always carries audio (speech or silence), the playback clock for the
//! bot's audio, reply tracking and recording.

use std::collections::VecDeque;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use sb_transport::{CallerCodec, Inbound, Outbound, Platform, WsMessage};
use tokio::net::TcpStream;
use tokio::time::{sleep_until, Instant};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use crate::playback::{duration_samples, first_voiced, samples_duration, Playback, RATE};
use crate::report::Problems;

type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// Samples in one 20 ms frame at 16 kHz.
const FRAME: usize = RATE as usize / 50;
const FRAME_DUR: Duration = Duration::from_millis(20);
/// Longest recording kept per track (30 minutes).
const MAX_RECORD: usize = RATE as usize * 1800;

/// The bot's answer to one caller turn (index 0: the greeting).
#[derive(Debug)]
pub(crate) struct Reply {
    /// End of the caller's turn (start of the call for the greeting).
    pub opened_at: Instant,
    /// When the first non-silent bot audio of the reply is heard: received, or later when it
    /// queues behind audio still playing or behind silence sent in the same burst.
    pub first_audio_at: Option<Instant>,
    pub last_voiced_at: Option<Instant>,
    /// When the last non-silent audio of the reply finishes playing.
    pub voiced_until: Option<Instant>,
    /// Samples received from `first_audio_at` to the end of the last non-silent chunk, minus
    /// cleared ones.
    pub samples: usize,
    /// Samples received since `first_audio_at` (silence after the last voiced chunk too).
    received: usize,
    /// The samples themselves (kept only when the reply will be transcribed).
    pub audio: Vec<i16>,
    pub cleared: bool,
    pub interrupted: bool,
}

/// How a [`Line::pump`] ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PumpEnd {
    Reached,
    Deadline,
    Closed,
}

enum Wake {
    Msg(Option<Result<Message, tokio_tungstenite::tungstenite::Error>>),
    Timer,
}

pub(crate) struct Line {
    ws: Ws,
    codec: Box<dyn CallerCodec + Send>,
    platform: Platform,
    realtime: bool,
    pub t0: Instant,
    next_frame: Instant,
    speech: VecDeque<i16>,
    /// When the last frame carrying queued speech went out.
    pub speech_sent_at: Option<Instant>,
    dtmf: VecDeque<(Instant, char)>,
    pub dtmf_sent_at: Option<Instant>,
    pub playback: Playback,
    pub replies: Vec<Reply>,
    keep_audio: bool,
    record: Option<(Vec<i16>, Vec<i16>)>,
    pub problems: Problems,
    /// Set when the server closed the socket (or it failed).
    pub closed_at: Option<Instant>,
    /// Set once the caller hung up.
    pub caller_hung_up: bool,
}

impl Line {
    pub(crate) fn new(
        ws: Ws,
        codec: Box<dyn CallerCodec + Send>,
        platform: Platform,
        realtime: bool,
        keep_audio: bool,
        record: bool,
    ) -> Self {
        let now = Instant::now();
        Line {
            ws,
            codec,
            platform,
            realtime,
            t0: now,
            next_frame: now,
            speech: VecDeque::new(),
            speech_sent_at: None,
            dtmf: VecDeque::new(),
            dtmf_sent_at: None,
            playback: Playback::new(),
            replies: Vec::new(),
            keep_audio,
            record: record.then(|| (Vec::new(), Vec::new())),
            problems: Problems::default(),
            closed_at: None,
            caller_hung_up: false,
        }
    }

    /// Sends a platform event (connected/start/…) through the codec.
    pub(crate) async fn send_event(&mut self, ev: &Inbound) {
        match self.codec.encode(ev) {
            Ok(msgs) => self.send_all(msgs).await,
            Err(e) => self
                .problems
                .add(format!("caller could not encode {ev:?}: {e}")),
        }
    }

    /// Starts a new reply slot: bot audio from now on answers the turn that ended `at`.
    pub(crate) fn open_reply(&mut self, at: Instant) {
        self.replies.push(Reply {
            opened_at: at,
            first_audio_at: None,
            last_voiced_at: None,
            voiced_until: None,
            samples: 0,
            received: 0,
            audio: Vec::new(),
            cleared: false,
            interrupted: false,
        });
    }

    /// When the caller's speech queued so far ends on the wire: after its last frame went out,
    /// plus the simulated phone's own rate-conversion delay (a real platform has none).
    pub(crate) fn speech_end_on_wire(&self) -> Option<Instant> {
        let (out_ms, _) = self.codec.conversion_delay_ms();
        self.speech_sent_at
            .map(|t| t + Duration::from_millis(out_ms))
    }

    pub(crate) fn queue_speech(&mut self, pcm: &[i16]) {
        self.speech.extend(pcm.iter().copied());
        self.speech_sent_at = None;
    }

    pub(crate) fn speech_pending(&self) -> bool {
        !self.speech.is_empty()
    }

    /// Schedules key presses `gap` apart, starting now.
    pub(crate) fn queue_dtmf(&mut self, digits: &str, gap: Duration) {
        let now = Instant::now();
        for (i, d) in digits.chars().enumerate() {
            self.dtmf.push_back((now + gap * i as u32, d));
        }
        self.dtmf_sent_at = None;
    }

    pub(crate) fn dtmf_pending(&self) -> bool {
        !self.dtmf.is_empty()
    }

    /// Whether reply `k` has finished: it started, every mark was echoed and neither audio nor
    /// playback happened for `quiet`.
    pub(crate) fn reply_done(&self, k: usize, now: Instant, quiet: Duration) -> bool {
        let Some(r) = self.replies.get(k) else {
            return false;
        };
        let (Some(_), Some(voiced)) = (r.first_audio_at, r.voiced_until) else {
            return false;
        };
        self.playback.pending_marks() == 0 && voiced + quiet <= now
    }

    /// Runs the line (frames out, server messages in, marks echoed) until `cond` holds, the
    /// deadline passes or the server hangs up.
    pub(crate) async fn pump(
        &mut self,
        deadline: Option<Instant>,
        mut cond: impl FnMut(&Line, Instant) -> bool,
    ) -> PumpEnd {
        loop {
            let now = Instant::now();
            self.fire_due(now).await;
            if self.closed_at.is_some() {
                return PumpEnd::Closed;
            }
            if cond(self, now) {
                return PumpEnd::Reached;
            }
            if deadline.is_some_and(|d| now >= d) {
                return PumpEnd::Deadline;
            }
            let frame_due = if !self.realtime && !self.speech.is_empty() {
                now
            } else {
                self.next_frame
            };
            let mut wake = frame_due;
            for t in [
                self.playback.next_due(),
                deadline,
                self.dtmf.front().map(|d| d.0),
            ]
            .into_iter()
            .flatten()
            {
                wake = wake.min(t);
            }
            let ev = tokio::select! {
                m = self.ws.next() => Wake::Msg(m),
                _ = sleep_until(wake) => Wake::Timer,
            };
            if let Wake::Msg(m) = ev {
                self.on_ws(m).await;
            }
            if self.closed_at.is_none() && Instant::now() >= frame_due {
                self.send_frame().await;
            }
        }
    }

    async fn fire_due(&mut self, now: Instant) {
        for name in self.playback.take_due(now) {
            self.send_event(&Inbound::Mark { name }).await;
        }
        while self.dtmf.front().is_some_and(|d| d.0 <= now) {
            let Some((_, digit)) = self.dtmf.pop_front() else {
                break;
            };
            let duration_ms = (self.platform == Platform::Vonage).then_some(250);
            self.send_event(&Inbound::Dtmf { digit, duration_ms }).await;
            self.dtmf_sent_at = Some(Instant::now());
        }
    }

    async fn send_frame(&mut self) {
        let now = Instant::now();
        let mut frame = Vec::with_capacity(FRAME);
        let had_speech = !self.speech.is_empty();
        while frame.len() < FRAME {
            match self.speech.pop_front() {
                Some(s) => frame.push(s),
                None => break,
            }
        }
        frame.resize(FRAME, 0);
        let at_ms = duration_ms(self.next_frame.saturating_duration_since(self.t0));
        if let Some((caller, _)) = &mut self.record {
            if caller.len() < MAX_RECORD {
                caller.extend_from_slice(&frame);
            }
        }
        self.send_event(&Inbound::Audio {
            pcm16k: frame,
            at_ms,
        })
        .await;
        if had_speech && self.speech.is_empty() {
            self.speech_sent_at = Some(Instant::now());
        }
        self.next_frame += FRAME_DUR;
        // After a long stall (a paused debugger, an overloaded box) catch up by at most 200 ms.
        if self.next_frame + Duration::from_millis(200) < now {
            self.next_frame = now;
        }
    }

    async fn send_all(&mut self, msgs: Vec<WsMessage>) {
        for m in msgs {
            let msg = match m {
                WsMessage::Text(t) => Message::text(t),
                WsMessage::Binary(b) => Message::binary(b),
            };
            if let Err(e) = self.ws.send(msg).await {
                self.on_socket_error(e);
                return;
            }
        }
    }

    fn on_socket_error(&mut self, e: tokio_tungstenite::tungstenite::Error) {
        use tokio_tungstenite::tungstenite::Error as E;
        if self.closed_at.is_none() {
            if !matches!(e, E::ConnectionClosed | E::AlreadyClosed) {
                self.problems.add(format!("websocket error: {e}"));
            }
            self.closed_at = Some(Instant::now());
        }
    }

    async fn on_ws(&mut self, m: Option<Result<Message, tokio_tungstenite::tungstenite::Error>>) {
        let now = Instant::now();
        let msg = match m {
            None => {
                self.closed_at.get_or_insert(now);
                return;
            }
            Some(Err(e)) => return self.on_socket_error(e),
            Some(Ok(Message::Text(t))) => WsMessage::Text(t.as_str().to_owned()),
            Some(Ok(Message::Binary(b))) => WsMessage::Binary(b.to_vec()),
            Some(Ok(Message::Close(_))) => {
                self.closed_at.get_or_insert(now);
                return;
            }
            Some(Ok(_)) => return, // ping/pong: tungstenite answers pings itself
        };
        let shown = describe(&msg);
        match self.codec.decode(msg) {
            Ok(outs) => {
                for o in outs {
                    match o {
                        Outbound::Audio(pcm) => self.on_audio(now, pcm),
                        Outbound::Mark(name) => self.playback.push_mark(now, name),
                        Outbound::Clear => self.on_clear(now).await,
                    }
                }
            }
            Err(e) => self.problems.add(format!(
                "undecodable message from the server ({e}): {shown}"
            )),
        }
    }

    fn on_audio(&mut self, now: Instant, pcm: Vec<i16>) {
        let start = self.playback.push_audio(now, pcm.len());
        if let Some((_, bot)) = &mut self.record {
            let at = duration_samples(start.saturating_duration_since(self.t0));
            if at + pcm.len() <= MAX_RECORD {
                if bot.len() < at {
                    bot.resize(at, 0);
                }
                bot.truncate(at);
                bot.extend_from_slice(&pcm);
            }
        }
        let voiced_from = first_voiced(&pcm);
        let keep = self.keep_audio;
        let Some(r) = self.replies.last_mut() else {
            return;
        };
        let mut from = 0;
        if r.first_audio_at.is_none() {
            let Some(offset) = voiced_from else {
                return; // silence before the reply: not part of it
            };
            // Heard when its first voiced sample plays: at once, or behind queued audio. The
            // phone's own rate conversion delayed it within `pcm`; on the wire it came sooner.
            let (_, in_ms) = self.codec.conversion_delay_ms();
            let lag = duration_samples(Duration::from_millis(in_ms));
            r.first_audio_at = Some(start + samples_duration(offset.saturating_sub(lag)));
            from = offset;
        }
        let part = &pcm[from..];
        r.received += part.len();
        if keep && r.received <= MAX_RECORD {
            r.audio.extend_from_slice(part);
        }
        if voiced_from.is_some() {
            r.last_voiced_at = Some(now);
            r.voiced_until = Some(start + samples_duration(pcm.len()));
            r.samples = r.received;
        }
    }

    async fn on_clear(&mut self, now: Instant) {
        let cleared = self.playback.clear(now);
        if let Some((_, bot)) = &mut self.record {
            bot.truncate(duration_samples(now.saturating_duration_since(self.t0)));
        }
        // The reply being played is the one before the newest when the caller barged in.
        for r in self.replies.iter_mut().rev() {
            if r.first_audio_at.is_some() || r.samples > 0 {
                r.cleared = true;
                r.received = r.received.saturating_sub(cleared.dropped_samples);
                r.samples = r.samples.min(r.received);
                r.audio.truncate(r.received);
                r.voiced_until = r.voiced_until.map(|v| v.min(now));
                break;
            }
        }
        match self.platform {
            // Twilio empties its buffer and sends back the marks that were waiting.
            Platform::Twilio => {
                for name in cleared.pending_marks {
                    self.send_event(&Inbound::Mark { name }).await;
                }
            }
            // Vonage confirms the clear; the notifies queued behind the audio are dropped.
            Platform::Vonage => self.send_event(&Inbound::Cleared).await,
        }
    }

    /// The caller hangs up: Twilio sends `stop`, both close the socket. Then reads what the
    /// server still sends for up to `drain`, reporting audio that arrives after `grace`.
    pub(crate) async fn hang_up(&mut self, drain: Duration, grace: Duration) {
        if self.closed_at.is_some() || self.caller_hung_up {
            return;
        }
        self.caller_hung_up = true;
        self.send_event(&Inbound::Stop).await;
        let stopped = Instant::now();
        let _ = self.ws.close(None).await;
        let end = stopped + drain;
        let mut late_audio = 0usize;
        loop {
            let m = tokio::select! {
                m = self.ws.next() => m,
                _ = sleep_until(end) => break,
            };
            let late = Instant::now() > stopped + grace;
            match m {
                None | Some(Err(_)) | Some(Ok(Message::Close(_))) => break,
                Some(Ok(Message::Binary(_))) if late => late_audio += 1,
                Some(Ok(Message::Text(t))) if late && t.as_str().contains("\"media\"") => {
                    late_audio += 1
                }
                Some(Ok(_)) => {}
            }
        }
        if late_audio > 0 {
            self.problems.add(format!(
                "the server sent {late_audio} audio message(s) after the caller hung up"
            ));
        }
    }

    /// The recorded tracks (caller, bot as heard), when recording.
    pub(crate) fn take_recording(&mut self) -> Option<(Vec<i16>, Vec<i16>)> {
        self.record.take()
    }
}

fn duration_ms(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// A short, printable description of a wire message for problem reports.
fn describe(msg: &WsMessage) -> String {
    match msg {
        WsMessage::Text(t) => {
            let mut s: String = t.chars().take(120).collect();
            if t.chars().count() > 120 {
                s.push('…');
            }
            format!("text {s:?}")
        }
        WsMessage::Binary(b) => format!("binary frame of {} bytes", b.len()),
    }
}
