//! `switchboard eval voice`: spoken bookings of the restaurant agent through the real phone path
//! (a `switchboard serve` child, simulated Twilio and Vonage callers in several synthetic voices),
//! scored from the server's own call records: per-slot accuracy, one-turn task success, turns
//! needed, per transport and per voice.

pub mod corpus;
pub mod offline;
pub mod score;

use crate::demo::{fetch_call, free_port, spawn_server_exe};
use crate::sim_cli::{caller_voices, platform};
use anyhow::Context;
use clap::Args;
use corpus::{Case, Set};
use sb_testkit::{place_call, Action, CallOptions, CallSection, Script, Turn, Voices};
use score::{check_all, CallOutcome, Report};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::path::PathBuf;

/// Every caller voice this machine has without extra installs: CMU Flite's four English voices
/// and four espeak-ng variants (the model store's espeak-ng data).
pub const ALL_VOICES: &str =
    "flite:kal16,flite:rms,flite:awb,flite:slt,espeak:en-us,espeak:en-us+f3,espeak:en+m3,espeak:en-gb-x-rp+f2";

/// How long the caller waits for a reply before it counts as missing.
const REPLY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

#[derive(Debug, Args)]
pub struct EvalVoiceArgs {
    /// `tune` (for choosing anything) or `heldout` (for reporting only).
    #[arg(long, default_value = "tune")]
    pub set: Set,
    /// Seed of the sentence generator.
    #[arg(long, default_value_t = 13)]
    pub seed: u64,
    /// One-sentence bookings (each spoken over every transport).
    #[arg(long, default_value_t = 20)]
    pub sentences: usize,
    /// Multi-turn bookings (the caller answers the prompts).
    #[arg(long, default_value_t = 4)]
    pub dialogs: usize,
    /// Caller voices, used in turn: `flite:NAME` or `espeak:NAME`.
    #[arg(long, value_delimiter = ',', default_value = ALL_VOICES)]
    pub voices: Vec<String>,
    #[arg(long, value_delimiter = ',', default_value = "twilio,vonage")]
    pub transports: Vec<String>,
    #[arg(long, default_value = "examples/restaurant")]
    pub agent: PathBuf,
    /// The `switchboard` binary to serve with (default: this one), e.g. an older build.
    #[arg(long)]
    pub server_exe: Option<PathBuf>,
    /// More `switchboard serve` arguments (repeatable), e.g. `--serve-arg=--config=sb.toml`.
    #[arg(long = "serve-arg", allow_hyphen_values = true)]
    pub serve_args: Vec<String>,
    /// Write the JSON report here.
    #[arg(long)]
    pub json: Option<PathBuf>,
    /// The server's data directory (default: a new temporary one, removed afterwards).
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
    /// No server: each one-sentence booking through the codec alone, recognised whole and read
    /// by the engine in-process (separates the codec from the phone path's timing).
    #[arg(long)]
    pub offline: bool,
}

/// The agent's time zone (`defaultTimezone` of agent.json), for "tomorrow".
fn agent_time_zone(agent: &std::path::Path) -> chrono_tz::Tz {
    std::fs::read_to_string(agent.join("agent.json"))
        .ok()
        .and_then(|s| serde_json::from_str::<Value>(&s).ok())
        .and_then(|v| v["defaultTimezone"].as_str().and_then(|z| z.parse().ok()))
        .unwrap_or(chrono_tz::UTC)
}

fn today(tz: chrono_tz::Tz) -> chrono::NaiveDate {
    chrono::Utc::now().with_timezone(&tz).date_naive()
}

fn script(case: &Case) -> Script {
    Script {
        call: CallSection {
            greeting: true,
            ..CallSection::default()
        },
        turns: case
            .turns
            .iter()
            .map(|t| Turn::new(Action::Say(t.clone())))
            .collect(),
    }
}

/// The first sentence read as text by the detect-intent API: what the NLU makes of the words
/// when nothing was misheard.
async fn text_reference(
    client: &reqwest::Client,
    base: &str,
    case: &Case,
    tz: chrono_tz::Tz,
) -> anyhow::Result<BTreeMap<&'static str, score::SlotCheck>> {
    let url = format!(
        "{base}/v2/projects/eval/agent/sessions/eval-text-{}-{}:detectIntent",
        case.id,
        uuid::Uuid::new_v4()
    );
    let body = json!({"queryInput": {"text": {"text": case.turns[0], "languageCode": "en"}}});
    let r: Value = client
        .post(&url)
        .json(&body)
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    Ok(check_all(
        &r["queryResult"]["parameters"],
        &case.want,
        today(tz),
    ))
}

pub async fn eval_voice(a: EvalVoiceArgs) -> anyhow::Result<Report> {
    anyhow::ensure!(!a.voices.is_empty(), "--voices is empty");
    anyhow::ensure!(
        a.sentences + a.dialogs > 0,
        "nothing to do: --sentences and --dialogs are 0"
    );
    let transports = a
        .transports
        .iter()
        .map(|t| platform(t).map(|p| (t.to_ascii_lowercase(), p)))
        .collect::<anyhow::Result<Vec<_>>>()?;
    anyhow::ensure!(!transports.is_empty(), "--transports is empty");
    let tz = agent_time_zone(&a.agent);
    let cases = corpus::cases(a.set, a.seed, a.sentences, a.dialogs);

    let specs = a.voices.clone();
    let voices = tokio::task::spawn_blocking(move || -> anyhow::Result<Vec<(String, Voices)>> {
        let paths = crate::speech_cli::model_paths(None)?;
        specs
            .into_iter()
            .map(|s| Ok((s.clone(), caller_voices(&paths, &s, false)?)))
            .collect()
    })
    .await??;

    if a.offline {
        let engine = crate::cli::load_engine(&a.agent, None)?;
        let names: Vec<String> = transports.iter().map(|(n, _)| n.clone()).collect();
        let calls = offline::run(&engine, &cases, a.set, &voices, &names, tz).await?;
        return Ok(Report::new(a.set, a.seed, "offline".into(), calls));
    }
    let (dir, temporary) = match &a.data_dir {
        Some(d) => (d.clone(), false),
        None => (
            std::env::temp_dir().join(format!("switchboard-eval-voice-{}", uuid::Uuid::new_v4())),
            true,
        ),
    };
    let exe = match &a.server_exe {
        Some(p) => p.clone(),
        None => std::env::current_exe().context("cannot find the switchboard binary")?,
    };
    let server = spawn_server_exe(&exe, &a.agent, free_port()?, &dir, &a.serve_args).await?;
    let client = reqwest::Client::new();
    let mut outcomes = Vec::new();
    let total = cases.len() * transports.len();
    for (j, case) in cases.iter().enumerate() {
        let (voice, voices) = &voices[j % voices.len()];
        let reference = match case.kind {
            "one-sentence" => text_reference(&client, &server.http(), case, tz).await.ok(),
            _ => None,
        };
        for (name, transport) in &transports {
            let path = format!("/{name}/media");
            let mut opts = CallOptions::new(*transport, server.ws(&path));
            // A quality measure, not a latency one: on a loaded machine a reply may be slow.
            opts.reply_timeout = REPLY_TIMEOUT;
            let report = place_call(opts, script(case), voices).await;
            let url = format!("{}/v1/calls/{}", server.http(), report.call_id);
            let record = match fetch_call(&client, &url).await {
                Ok(r) => r,
                Err(e) => json!({"id": report.call_id, "error": e.to_string()}),
            };
            let mut o = score::score(case, a.set, voice, name, &record, today(tz));
            o.text_slots = reference.clone();
            o.problems = report.problems.clone();
            if let Some(e) = record["error"].as_str() {
                o.problems.push(format!("call record: {e}"));
            }
            eprintln!("[{}/{total}] {}", outcomes.len() + 1, progress_line(&o));
            outcomes.push(o);
        }
    }
    drop(server);
    if temporary {
        let _ = std::fs::remove_dir_all(&dir);
    }
    Ok(Report::new(
        a.set,
        a.seed,
        exe.display().to_string(),
        outcomes,
    ))
}

fn progress_line(o: &CallOutcome) -> String {
    let ok = |k: &str| if o.slots[k].correct { "✓" } else { "✗" };
    format!(
        "{} {} {}: {} person{} date{} time{} heard {:?}",
        o.id,
        o.transport,
        o.voice,
        if o.one_turn_success {
            "one-turn ✓"
        } else if o.booked {
            "booked"
        } else {
            "not booked"
        },
        ok("person"),
        ok("date"),
        ok("time"),
        o.heard
    )
}

/// `switchboard eval voice`: runs, prints the table, writes the JSON.
pub async fn run(a: EvalVoiceArgs) -> anyhow::Result<()> {
    let json_path = a.json.clone();
    let report = eval_voice(a).await?;
    println!("{report}");
    if let Some(p) = json_path {
        std::fs::write(&p, serde_json::to_vec_pretty(&report)?)
            .with_context(|| format!("cannot write {}", p.display()))?;
        println!("JSON report: {}", p.display());
    }
    Ok(())
}
