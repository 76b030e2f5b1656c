//! Call scripts: what the simulated caller says and expects, parsed from TOML.
//!
//! ```toml
//! [call]
//! greeting = true                      # wait for the bot's greeting first
//! custom_parameters = { agent = "restaurant" }
//!
//! [[turn]]
//! say = "I'd like to book a table for two"
//! expect_bot_contains = "what name"
//!
//! [[turn]]
//! say = "Tanya"
//! expect_bot_contains = "Table booked"
//! expect_hangup = true
//! ```
//!
//! Each `[[turn]]` has exactly one action: `say`, `wav`, `dtmf`, `silence_ms` or `hangup = true`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// Longest `silence_ms` a script may ask for (10 minutes).
pub const MAX_SILENCE_MS: u64 = 600_000;
/// Longest `barge_in_after_ms` (1 minute).
pub const MAX_BARGE_IN_MS: u64 = 60_000;

/// A parsed, validated call script.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Script {
    pub call: CallSection,
    pub turns: Vec<Turn>,
}

/// The `[call]` table.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CallSection {
    /// Wait for (and report) the bot's greeting before the first turn.
    #[serde(default)]
    pub greeting: bool,
    /// Twilio `<Parameter>`s / Vonage headers sent with the start message.
    #[serde(default)]
    pub custom_parameters: BTreeMap<String, String>,
}

/// What the caller does in one turn.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// Speak this text with the caller's voice.
    Say(String),
    /// Play this WAV file (any rate/layout; converted to 16 kHz mono).
    Wav(PathBuf),
    /// Press these keys (`0-9`, `*`, `#`, `A-D`).
    Dtmf(String),
    /// Stay silent this long (the line keeps carrying silence frames).
    Silence { ms: u64 },
    /// Hang up.
    Hangup,
}

/// One `[[turn]]`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Turn {
    pub action: Action,
    /// Wait for the bot's reply to finish (mark echoed, then quiet) before the next turn.
    /// `None` = the default: true for `say`/`wav`/`dtmf`, false for `silence_ms`/`hangup`.
    pub wait_for_bot: Option<bool>,
    /// Start this turn this long after the bot's *previous* reply started (barge-in) instead
    /// of waiting for it to finish.
    pub barge_in_after_ms: Option<u64>,
    /// The bot's reply to this turn must contain this (case-insensitive, punctuation ignored;
    /// checked against the ASR transcript of the reply).
    pub expect_bot_contains: Option<String>,
    /// The bot must hang up after its reply to this turn.
    pub expect_hangup: bool,
}

impl Turn {
    /// A plain turn with `action` and default options.
    pub fn new(action: Action) -> Self {
        Turn {
            action,
            wait_for_bot: None,
            barge_in_after_ms: None,
            expect_bot_contains: None,
            expect_hangup: false,
        }
    }

    /// Whether the caller waits for the bot's reply after this turn.
    pub fn waits_for_bot(&self) -> bool {
        self.wait_for_bot.unwrap_or(matches!(
            self.action,
            Action::Say(_) | Action::Wav(_) | Action::Dtmf(_)
        ))
    }

    /// How the turn reads in a report: the text said, or a bracketed description.
    pub fn describe(&self) -> String {
        match &self.action {
            Action::Say(t) => t.clone(),
            Action::Wav(p) => format!("[wav {}]", p.display()),
            Action::Dtmf(d) => format!("[dtmf {d}]"),
            Action::Silence { ms } => format!("[silence {ms} ms]"),
            Action::Hangup => "[hang up]".into(),
        }
    }
}

/// Why a script was rejected.
#[derive(Debug, thiserror::Error)]
pub enum ScriptError {
    #[error("cannot read script {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("script is not valid TOML for a call script: {0}")]
    Toml(String),
    #[error("turn {turn}: {msg}")]
    Turn { turn: usize, msg: String },
    #[error("{0}")]
    Invalid(String),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawScript {
    #[serde(default)]
    #[allow(dead_code)]
    description: Option<String>,
    #[serde(default)]
    call: CallSection,
    #[serde(default)]
    turn: Vec<RawTurn>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTurn {
    say: Option<String>,
    wav: Option<PathBuf>,
    dtmf: Option<String>,
    silence_ms: Option<u64>,
    hangup: Option<bool>,
    wait_for_bot: Option<bool>,
    barge_in_after_ms: Option<u64>,
    expect_bot_contains: Option<String>,
    #[serde(default)]
    expect_hangup: bool,
}

impl Script {
    /// Parses and validates a script. Relative `wav` paths stay relative (see [`Script::load`]).
    pub fn from_toml_str(text: &str) -> Result<Script, ScriptError> {
        let raw: RawScript = toml::from_str(text).map_err(|e| ScriptError::Toml(e.to_string()))?;
        let mut turns = Vec::with_capacity(raw.turn.len());
        for (i, t) in raw.turn.into_iter().enumerate() {
            turns.push(turn_from_raw(i + 1, t)?);
        }
        let script = Script {
            call: raw.call,
            turns,
        };
        script.validate()?;
        Ok(script)
    }

    /// Reads a script file; relative `wav` paths are resolved against the file's directory.
    pub fn load(path: &Path) -> Result<Script, ScriptError> {
        let text = std::fs::read_to_string(path).map_err(|source| ScriptError::Io {
            path: path.to_owned(),
            source,
        })?;
        let mut script = Self::from_toml_str(&text)?;
        let base = path.parent().unwrap_or_else(|| Path::new("."));
        for t in &mut script.turns {
            if let Action::Wav(p) = &mut t.action {
                if p.is_relative() {
                    *p = base.join(&*p);
                }
            }
        }
        Ok(script)
    }

    /// The quick form: wait for a greeting, then say each line, waiting for each reply.
    pub fn from_says(lines: &[&str]) -> Script {
        Script {
            call: CallSection {
                greeting: true,
                custom_parameters: BTreeMap::new(),
            },
            turns: lines
                .iter()
                .map(|l| Turn::new(Action::Say((*l).to_owned())))
                .collect(),
        }
    }

    /// Checks the rules a parsed script must follow (also run by [`Script::from_toml_str`]).
    pub fn validate(&self) -> Result<(), ScriptError> {
        if self.turns.is_empty() && !self.call.greeting {
            return Err(ScriptError::Invalid(
                "the script has no [[turn]] and does not wait for a greeting".into(),
            ));
        }
        let last = self.turns.len();
        for (i, t) in self.turns.iter().enumerate() {
            let n = i + 1;
            let err = |msg: String| Err(ScriptError::Turn { turn: n, msg });
            match &t.action {
                Action::Say(s) if s.trim().is_empty() => return err("`say` is empty".into()),
                Action::Dtmf(d) => {
                    if d.is_empty() {
                        return err("`dtmf` is empty".into());
                    }
                    if let Some(c) = d.chars().find(|c| !is_dtmf(*c)) {
                        return err(format!("`dtmf` has {c:?}; allowed are 0-9, *, # and A-D"));
                    }
                }
                Action::Silence { ms } if *ms == 0 || *ms > MAX_SILENCE_MS => {
                    return err(format!("`silence_ms` must be 1..={MAX_SILENCE_MS}"))
                }
                Action::Hangup if t.expect_bot_contains.is_some() || t.expect_hangup => {
                    return err("a `hangup` turn cannot expect anything from the bot".into())
                }
                _ => {}
            }
            if let Some(ms) = t.barge_in_after_ms {
                if ms > MAX_BARGE_IN_MS {
                    return err(format!("`barge_in_after_ms` must be ≤ {MAX_BARGE_IN_MS}"));
                }
                if i == 0 && !self.call.greeting {
                    return err(
                        "`barge_in_after_ms` on the first turn needs `[call] greeting = true` \
                         (there is no bot reply to interrupt)"
                            .into(),
                    );
                }
            }
            if let Some(s) = &t.expect_bot_contains {
                if crate::report::normalize_text(s).is_empty() {
                    return err("`expect_bot_contains` has no words".into());
                }
            }
            if t.expect_hangup && n != last {
                return err(format!(
                    "`expect_hangup` but {} turn(s) follow; the bot cannot answer them",
                    last - n
                ));
            }
        }
        Ok(())
    }
}

fn is_dtmf(c: char) -> bool {
    c.is_ascii_digit() || matches!(c, '*' | '#' | 'A'..='D')
}

fn turn_from_raw(n: usize, t: RawTurn) -> Result<Turn, ScriptError> {
    let mut actions = Vec::new();
    if let Some(s) = t.say {
        actions.push(Action::Say(s));
    }
    if let Some(p) = t.wav {
        actions.push(Action::Wav(p));
    }
    if let Some(d) = t.dtmf {
        actions.push(Action::Dtmf(d));
    }
    if let Some(ms) = t.silence_ms {
        actions.push(Action::Silence { ms });
    }
    match t.hangup {
        Some(true) => actions.push(Action::Hangup),
        Some(false) => {
            return Err(ScriptError::Turn {
                turn: n,
                msg: "`hangup = false` means nothing; leave it out".into(),
            })
        }
        None => {}
    }
    if actions.len() != 1 {
        return Err(ScriptError::Turn {
            turn: n,
            msg: format!(
                "needs exactly one of `say`, `wav`, `dtmf`, `silence_ms`, `hangup = true` \
                 (found {})",
                actions.len()
            ),
        });
    }
    Ok(Turn {
        action: actions.remove(0),
        wait_for_bot: t.wait_for_bot,
        barge_in_after_ms: t.barge_in_after_ms,
        expect_bot_contains: t.expect_bot_contains,
        expect_hangup: t.expect_hangup,
    })
}
