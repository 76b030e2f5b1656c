//! `place_call`: a simulated caller that follows a [`Script`] over Twilio Media Streams or the
//! Vonage Voice WebSocket and reports what happened.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use sb_transport::{caller_codec, Inbound, Platform, StartInfo};
use tokio::time::Instant;

use crate::line::{Line, PumpEnd};
use crate::report::{text_contains, text_sounds_contains, CallReport, HungUpBy, TurnReport};
use crate::script::{Action, Script};
use crate::voices::Voices;

/// How to place one call.
#[derive(Debug, Clone)]
pub struct CallOptions {
    pub transport: Platform,
    /// `ws://host:port/twilio/media` or `ws://host:port/vonage/media`.
    pub url: String,
    /// Twilio `<Parameter>`s / Vonage headers; override the script's `[call] custom_parameters`.
    pub custom_parameters: BTreeMap<String, String>,
    /// Pace the caller's speech at one 20 ms frame per 20 ms (true, like a phone line). False
    /// sends speech as fast as the socket takes it; line silence is always paced.
    pub realtime: bool,
    /// Write `<call_id>-caller.wav` and `<call_id>-bot.wav` (the bot as heard) here.
    pub record_dir: Option<PathBuf>,
    /// How long a reply may take to start before it counts as missing.
    pub reply_timeout: Duration,
    /// How long a reply may last once started.
    pub max_reply: Duration,
    /// Quiet after the bot's last audio (and mark echo) that ends its reply.
    pub quiet: Duration,
    /// How long to wait for the bot to hang up when a turn expects it.
    pub hangup_timeout: Duration,
    pub connect_timeout: Duration,
    /// The Vonage stream rate (8000 or 16000).
    pub vonage_rate: u32,
    /// Sign the Twilio media upgrade with this auth token, as Twilio does (`X-Twilio-Signature`
    /// over the `wss://` stream URL): a server with the token configured refuses an unsigned upgrade.
    pub twilio_auth_token: Option<String>,
    /// Use this call id (CallSid / uuid) instead of a new one: a call that comes back to the bot,
    /// as a Twilio call does after a pause (a new stream on the same CallSid).
    pub call_id: Option<String>,
}

impl CallOptions {
    /// Defaults: real-time, no recording, 10 s reply timeout, 700 ms quiet.
    pub fn new(transport: Platform, url: impl Into<String>) -> Self {
        CallOptions {
            transport,
            url: url.into(),
            custom_parameters: BTreeMap::new(),
            realtime: true,
            record_dir: None,
            reply_timeout: Duration::from_secs(10),
            max_reply: Duration::from_secs(60),
            quiet: Duration::from_millis(700),
            hangup_timeout: Duration::from_secs(5),
            connect_timeout: Duration::from_secs(10),
            vonage_rate: 16_000,
            twilio_auth_token: None,
            call_id: None,
        }
    }
}

/// Gap between DTMF key presses.
const DTMF_GAP: Duration = Duration::from_millis(200);
/// Audio the server sends this long after the caller's `stop` counts as audio after hang-up.
const HANGUP_GRACE: Duration = Duration::from_millis(200);
const HANGUP_DRAIN: Duration = Duration::from_secs(2);

/// Places one call, following `script`. Never panics on server behaviour: connection failures,
/// protocol violations and missing replies become `problems` in the report.
pub async fn place_call(opts: CallOptions, script: Script, voices: &Voices) -> CallReport {
    let mut ids = CallIds::new(opts.transport, opts.vonage_rate);
    if let Some(id) = &opts.call_id {
        ids.call_id = id.clone();
    }
    let mut report = CallReport {
        call_id: ids.call_id.clone(),
        transport: platform_name(opts.transport).into(),
        greeting: None,
        turns: Vec::new(),
        problems: Vec::new(),
        hung_up_by: HungUpBy::Caller,
        duration_ms: 0,
        recordings: Vec::new(),
        ok: false,
    };
    let fail = |mut r: CallReport, msg: String| {
        r.problems.push(msg);
        r.compute_ok();
        r
    };
    if let Err(e) = script.validate() {
        return fail(report, format!("invalid script: {e}"));
    }
    let audio = match voices.prepare(&script).await {
        Ok(a) => a,
        Err(e) => return fail(report, e.to_string()),
    };
    let codec = match caller_codec(opts.transport) {
        Ok(c) => c,
        Err(e) => return fail(report, format!("caller codec: {e}")),
    };
    // Nagle off, as on a media platform: otherwise a small message written right after another
    // (Twilio's `start` after `connected`, the last frame of speech) waits for the peer's
    // delayed ACK, up to 40 ms.
    let request = match upgrade_request(&opts) {
        Ok(r) => r,
        Err(e) => return fail(report, format!("bad URL {}: {e}", opts.url)),
    };
    let connect = tokio_tungstenite::connect_async_with_config(request, None, true);
    let ws = match tokio::time::timeout(opts.connect_timeout, connect).await {
        Ok(Ok((ws, _))) => ws,
        Ok(Err(e)) => return fail(report, format!("cannot connect to {}: {e}", opts.url)),
        Err(_) => return fail(report, format!("connecting to {} timed out", opts.url)),
    };
    let keep_audio = voices.asr.is_some();
    let mut line = Line::new(
        ws,
        codec,
        opts.transport,
        opts.realtime,
        keep_audio,
        opts.record_dir.is_some(),
    );
    let mut params = script.call.custom_parameters.clone();
    params.extend(opts.custom_parameters.clone());
    line.send_event(&Inbound::Connected).await;
    line.send_event(&Inbound::Start(ids.start_info(params)))
        .await;
    line.open_reply(Instant::now());

    let run = Runner {
        opts: &opts,
        script: &script,
    };
    let outcome = run.converse(&mut line, &audio).await;
    if line.caller_hung_up {
        // The script's `hangup` turn already did.
    } else if line.closed_at.is_none() {
        line.hang_up(HANGUP_DRAIN, HANGUP_GRACE).await;
    } else {
        report.hung_up_by = HungUpBy::Bot;
        let now = line.closed_at.unwrap_or_else(Instant::now);
        let unplayed = line.playback.unplayed(now);
        let marks = line.playback.pending_mark_names();
        if !marks.is_empty() || unplayed > Duration::from_millis(100) {
            line.problems.add(format!(
                "the bot hung up with {} ms of its audio unplayed and mark(s) {marks:?} not \
                 yet echoed (the caller would not hear the end)",
                unplayed.as_millis()
            ));
        }
    }
    report.duration_ms = ms(line.t0.elapsed());
    if let Some(msg) = outcome.early_hangup.clone() {
        line.problems.add(msg);
    }
    if let (Some(dir), Some((caller, bot))) = (&opts.record_dir, line.take_recording()) {
        match write_recordings(dir, &ids.call_id, &caller, &bot) {
            Ok(paths) => report.recordings = paths,
            Err(e) => line.problems.add(format!("recording: {e}")),
        }
    }
    build_turns(&mut report, &mut line, &script, &outcome, voices).await;
    report.problems = std::mem::take(&mut line.problems).into_lines();
    report.compute_ok();
    report
}

struct Runner<'a> {
    opts: &'a CallOptions,
    script: &'a Script,
}

/// What the conversation loop learned beyond the line's own state.
#[derive(Default)]
struct Outcome {
    /// Turns the caller performed (their reply slot is `index + 1`).
    turns_done: usize,
    /// Per reply slot: did the bot hang up after it (before the caller's next action)?
    hung_up_after: Vec<bool>,
    early_hangup: Option<String>,
}

impl Runner<'_> {
    async fn converse(&self, line: &mut Line, audio: &[Option<crate::voices::Pcm>]) -> Outcome {
        let mut out = Outcome {
            hung_up_after: vec![false; self.script.turns.len() + 1],
            ..Outcome::default()
        };
        let turns = &self.script.turns;
        if self.script.call.greeting {
            let next_barge = turns.first().and_then(|t| t.barge_in_after_ms);
            let found = self.await_reply(line, 0, next_barge).await;
            if !found && line.closed_at.is_none() {
                line.problems.add(format!(
                    "no greeting within {} s",
                    self.opts.reply_timeout.as_secs_f32()
                ));
            }
        }
        for (i, turn) in turns.iter().enumerate() {
            if line.closed_at.is_some() {
                out.hung_up_after[i] = true;
                let expected = i > 0 && turns[i - 1].expect_hangup;
                if !expected {
                    out.early_hangup = Some(format!(
                        "the bot hung up before turn {} of {}",
                        i + 1,
                        turns.len()
                    ));
                }
                return out;
            }
            // Was the caller's new turn started over audio still playing?
            let now = Instant::now();
            if line.playback.unplayed(now) > Duration::ZERO {
                if let Some(r) = line.replies.last_mut() {
                    r.interrupted = r.first_audio_at.is_some();
                }
            }
            let end = match &turn.action {
                Action::Say(_) | Action::Wav(_) => {
                    let pcm = audio.get(i).and_then(|a| a.clone()).unwrap_or_default();
                    line.queue_speech(&pcm);
                    line.pump(None, |l, _| !l.speech_pending()).await;
                    line.speech_end_on_wire().unwrap_or_else(Instant::now)
                }
                Action::Dtmf(d) => {
                    line.queue_dtmf(d, DTMF_GAP);
                    line.pump(None, |l, _| !l.dtmf_pending()).await;
                    line.dtmf_sent_at.unwrap_or_else(Instant::now)
                }
                Action::Silence { ms } => {
                    let start = Instant::now();
                    line.open_reply(start);
                    let until = start + Duration::from_millis(*ms);
                    line.pump(Some(until), |_, _| false).await;
                    start
                }
                Action::Hangup => {
                    out.turns_done = i + 1;
                    line.hang_up(HANGUP_DRAIN, HANGUP_GRACE).await;
                    return out;
                }
            };
            if !matches!(turn.action, Action::Silence { .. }) {
                line.open_reply(end);
            }
            out.turns_done = i + 1;
            let slot = i + 1;
            let next_barge = turns.get(i + 1).and_then(|t| t.barge_in_after_ms);
            if turn.waits_for_bot() || next_barge.is_some() {
                let found = self.await_reply(line, slot, next_barge).await;
                let silent_turn = matches!(turn.action, Action::Silence { .. });
                if !found && line.closed_at.is_none() && !silent_turn {
                    line.problems.add(format!(
                        "no reply to turn {} within {} s",
                        i + 1,
                        self.opts.reply_timeout.as_secs_f32()
                    ));
                }
            }
            if turn.expect_hangup {
                let until = Instant::now() + self.opts.hangup_timeout;
                line.pump(Some(until), |_, _| false).await;
            }
            if line.closed_at.is_some() {
                out.hung_up_after[slot] = true;
            }
        }
        out
    }

    /// Waits for reply `slot` to start; then either `barge_ms` more (the next turn barges in)
    /// or until it is done. Returns whether the reply started.
    async fn await_reply(&self, line: &mut Line, slot: usize, barge_ms: Option<u64>) -> bool {
        let opened = line
            .replies
            .get(slot)
            .map_or_else(Instant::now, |r| r.opened_at);
        let started = line
            .pump(Some(opened + self.opts.reply_timeout), |l, _| {
                l.replies
                    .get(slot)
                    .is_some_and(|r| r.first_audio_at.is_some())
            })
            .await;
        let first = line.replies.get(slot).and_then(|r| r.first_audio_at);
        let Some(first) = first else {
            return false;
        };
        if started == PumpEnd::Closed {
            return true;
        }
        match barge_ms {
            Some(ms) => {
                let until = first + Duration::from_millis(ms);
                line.pump(Some(until), |_, _| false).await;
            }
            None => {
                let quiet = self.opts.quiet;
                line.pump(Some(first + self.opts.max_reply), |l, now| {
                    l.reply_done(slot, now, quiet)
                })
                .await;
            }
        }
        true
    }
}

async fn build_turns(
    report: &mut CallReport,
    line: &mut Line,
    script: &Script,
    outcome: &Outcome,
    voices: &Voices,
) {
    for slot in 0..line.replies.len() {
        let r = &mut line.replies[slot];
        let latency_ms = r
            .first_audio_at
            .map(|f| ms(f.saturating_duration_since(r.opened_at)));
        let mut audio = std::mem::take(&mut r.audio);
        audio.truncate(r.samples);
        let mut t = TurnReport {
            caller: String::new(),
            bot_text: None,
            latency_ms,
            bot_audio_ms: r.samples as u64 / 16,
            expectation: None,
            expectation_detail: None,
            interrupted: r.interrupted,
            bot_cleared: r.cleared,
        };
        let asr_problem = match voices.transcribe(audio).await {
            Some(Ok(text)) => {
                t.bot_text = Some(text);
                None
            }
            Some(Err(e)) => Some(format!("ASR failed on reply {slot}: {e}")),
            None => None,
        };
        if let Some(p) = asr_problem {
            line.problems.add(p);
        }
        if slot == 0 {
            if script.call.greeting || t.latency_ms.is_some() {
                report.greeting = Some(t);
            }
            continue;
        }
        let Some(turn) = script.turns.get(slot - 1) else {
            continue;
        };
        t.caller = turn.describe();
        check_expectations(&mut t, turn, outcome.hung_up_after.get(slot) == Some(&true));
        report.turns.push(t);
    }
}

fn check_expectations(t: &mut TurnReport, turn: &crate::script::Turn, hung_up: bool) {
    let mut verdicts = Vec::new();
    let mut details = Vec::new();
    if let Some(want) = &turn.expect_bot_contains {
        match &t.bot_text {
            Some(text) => {
                let exact = text_contains(text, want);
                let ok = exact || text_sounds_contains(text, want);
                if !ok {
                    details.push(format!("expected the bot to say {want:?}"));
                } else if !exact {
                    details.push(format!("{want:?} matched by sound"));
                }
                verdicts.push(ok);
            }
            None if t.latency_ms.is_none() => {
                details.push(format!(
                    "expected the bot to say {want:?}; it did not reply"
                ));
                verdicts.push(false);
            }
            None => details.push(format!("{want:?} not checked: no ASR")),
        }
    }
    if turn.expect_hangup {
        if !hung_up {
            details.push("expected the bot to hang up".into());
        }
        verdicts.push(hung_up);
    }
    t.expectation = (!verdicts.is_empty()).then(|| verdicts.iter().all(|v| *v));
    t.expectation_detail = (!details.is_empty()).then(|| details.join("; "));
}

fn write_recordings(
    dir: &std::path::Path,
    call_id: &str,
    caller: &[i16],
    bot: &[i16],
) -> Result<Vec<PathBuf>, String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let mut out = Vec::new();
    for (name, pcm) in [("caller", caller), ("bot", bot)] {
        let path = dir.join(format!("{call_id}-{name}.wav"));
        let bytes = sb_audio::write_wav_i16(pcm, 16_000).map_err(|e| e.to_string())?;
        std::fs::write(&path, bytes).map_err(|e| format!("{}: {e}", path.display()))?;
        out.push(path);
    }
    Ok(out)
}

fn ms(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

pub(crate) fn platform_name(p: Platform) -> &'static str {
    match p {
        Platform::Twilio => "twilio",
        Platform::Vonage => "vonage",
    }
}

/// Unique-enough ids for simulated calls (no randomness needed: process id, time, counter).
struct CallIds {
    platform: Platform,
    rate: u32,
    call_id: String,
    stream_id: String,
    account_id: String,
}

impl CallIds {
    fn new(platform: Platform, rate: u32) -> Self {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64);
        let hex = format!("{:08x}{:016x}{:08x}", std::process::id(), nanos, n as u32);
        let (call_id, stream_id, account_id) = match platform {
            Platform::Twilio => (
                format!("CA{hex}"),
                format!("MZ{hex}"),
                "AC00000000000000000000000000000000".to_owned(),
            ),
            Platform::Vonage => (
                format!(
                    "{}-{}-{}-{}-{}",
                    &hex[0..8],
                    &hex[8..12],
                    &hex[12..16],
                    &hex[16..20],
                    &hex[20..32]
                ),
                String::new(),
                String::new(),
            ),
        };
        CallIds {
            platform,
            rate,
            call_id,
            stream_id,
            account_id,
        }
    }

    fn start_info(&self, custom_parameters: BTreeMap<String, String>) -> StartInfo {
        let (sample_rate, encoding) = match self.platform {
            Platform::Twilio => (8000, "audio/x-mulaw"),
            Platform::Vonage => (self.rate, "audio/l16"),
        };
        StartInfo {
            call_id: self.call_id.clone(),
            stream_id: self.stream_id.clone(),
            account_id: self.account_id.clone(),
            custom_parameters,
            sample_rate,
            encoding: encoding.into(),
        }
    }
}

/// The WebSocket upgrade request, signed like Twilio's when a Twilio auth token is given.
fn upgrade_request(
    opts: &CallOptions,
) -> Result<
    tokio_tungstenite::tungstenite::handshake::client::Request,
    tokio_tungstenite::tungstenite::Error,
> {
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let mut req = opts.url.as_str().into_client_request()?;
    if let (Platform::Twilio, Some(token)) = (opts.transport, opts.twilio_auth_token.as_deref()) {
        // Twilio always reaches the server over TLS (a proxy in front ends it), so the URL it
        // signs, and the server rebuilds, is the `wss://` one.
        let public = opts.url.replacen("ws://", "wss://", 1);
        let sig = sb_transport::twilio_signature(token, &public, &[]);
        if let Ok(v) = sig.parse() {
            req.headers_mut().insert("x-twilio-signature", v);
        }
    }
    Ok(req)
}
