//! `switchboard chat`: a conversation in the terminal. Starts with the welcome event, then one user turn
//! per input line; prints `bot> reply` (or the full DF response JSON with `--json`) per turn. Works the
//! same with piped stdin. Sessions live in memory.

use crate::api::detect::check_segment;
use crate::cli::{load_engine, ChatArgs};
use crate::config::{ServerConfig, MAX_QUERY_CHARS, MAX_SESSION_ID_CHARS};
use crate::state::AppState;
use crate::turn::{detect_intent, TurnInput};
use anyhow::Context;
use sb_nlu::dialog::{QueryInput, QueryParams};
use std::io::{IsTerminal, Write};
use std::sync::Arc;
use tokio::io::AsyncBufReadExt;

pub async fn run(a: ChatArgs) -> anyhow::Result<()> {
    let engine = load_engine(&a.agent.agent, a.agent.webhook_url.as_deref())?;
    if let Some(tz) = &a.time_zone {
        anyhow::ensure!(
            tz.parse::<chrono_tz::Tz>().is_ok(),
            "unknown time zone `{tz}`"
        );
    }
    let session_id = a
        .session
        .clone()
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    check_segment("session", &session_id, MAX_SESSION_ID_CHARS)
        .map_err(|e| anyhow::anyhow!(e.message))?;
    let project = engine
        .agent
        .project
        .clone()
        .unwrap_or_else(|| "switchboard".into());
    let session = format!("projects/{project}/agent/sessions/{session_id}");
    let language = engine.agent.language.clone();
    let config = ServerConfig {
        webhook_timeout: a.agent.webhook_timeout,
        ..ServerConfig::default()
    };
    let app = Arc::new(AppState::new(engine, config, Arc::new(crate::clock::SystemClock)).await?);
    let interactive = std::io::stdin().is_terminal();

    let params = || QueryParams {
        time_zone: a.time_zone.clone(),
        ..QueryParams::default()
    };
    let welcome = TurnInput {
        session: session.clone(),
        input: QueryInput::Event {
            name: a.welcome_event.clone(),
            parameters: Default::default(),
            language_code: language.clone(),
        },
        params: params(),
        analyze_sentiment: false,
        source: "switchboard-chat".into(),
    };
    say(&app, welcome, a.json).await?;

    let mut lines = tokio::io::BufReader::new(tokio::io::stdin()).lines();
    loop {
        if interactive {
            print!("you> ");
            std::io::stdout().flush().context("stdout")?;
        }
        let Some(line) = lines.next_line().await.context("reading stdin")? else {
            break;
        };
        let text = line.trim();
        if text.is_empty() {
            continue;
        }
        if text.chars().count() > MAX_QUERY_CHARS {
            eprintln!("error: input exceeds {MAX_QUERY_CHARS} characters; not sent");
            continue;
        }
        let input = TurnInput {
            session: session.clone(),
            input: QueryInput::Text {
                text: text.to_string(),
                language_code: language.clone(),
            },
            params: params(),
            analyze_sentiment: false,
            source: "switchboard-chat".into(),
        };
        say(&app, input, a.json).await?;
    }
    app.store.close().await;
    Ok(())
}

async fn say(app: &AppState, input: TurnInput, json: bool) -> anyhow::Result<()> {
    let out = detect_intent(app, input)
        .await
        .map_err(|e| anyhow::anyhow!("turn failed: {}", e.message))?;
    let mut stdout = std::io::stdout().lock();
    if json {
        writeln!(stdout, "{}", out.response_json)?;
    } else {
        writeln!(stdout, "bot> {}", out.result.reply_text)?;
    }
    stdout.flush()?;
    Ok(())
}
