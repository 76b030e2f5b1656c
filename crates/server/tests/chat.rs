//! `switchboard chat` with piped stdin, run as the built binary.

mod common;

use common::*;
use std::io::Write;
use std::process::{Command, Stdio};

fn chat(args: &[&str], input: &str) -> (bool, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_switchboard"))
        .arg("chat")
        .args(args)
        .env("SWITCHBOARD_LOG", "warn")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn switchboard");
    let mut stdin = child.stdin.take().expect("stdin");
    stdin.write_all(input.as_bytes()).expect("write stdin");
    drop(stdin);
    let out = child.wait_with_output().expect("wait");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn piped_chat_prints_one_reply_per_turn() {
    let Some(agent) = shared_agent("bike-shop") else {
        return;
    };
    let agent = agent.to_string_lossy().into_owned();
    let (ok, out, err) = chat(
        &["--agent", &agent],
        "What are your hours?\n\nI'd like to make an appointment\ntomorrow\n",
    );
    assert!(ok, "stderr: {err}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(
        lines,
        vec![
            "bot> Hi, welcome to Hogarth's bike shop.  How can I help you?",
            "bot> We are open every weekday from 9am to 5:30pm",
            "bot> What day do you want to come in?",
            "bot> What time works for you?",
        ],
        "stderr: {err}"
    );
}

#[test]
fn piped_chat_json_prints_df_responses() {
    let Some(agent) = shared_agent("bike-shop") else {
        return;
    };
    let agent = agent.to_string_lossy().into_owned();
    let (ok, out, err) = chat(
        &[
            "--agent",
            &agent,
            "--json",
            "--session",
            "cli-1",
            "--time-zone",
            "Europe/Paris",
        ],
        "What are your hours?\n",
    );
    assert!(ok, "stderr: {err}");
    let v: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON line"))
        .collect();
    assert_eq!(v.len(), 2);
    assert_eq!(intent_name(&v[0]), "Welcome Intent");
    assert_eq!(intent_name(&v[1]), "Hours");
    assert_eq!(v[1]["queryResult"]["queryText"], "What are your hours?");
    assert!(v[1]["responseId"].is_string());
}

#[test]
fn chat_rejects_bad_arguments_cleanly() {
    let Some(agent) = shared_agent("bike-shop") else {
        return;
    };
    let agent = agent.to_string_lossy().into_owned();
    let (ok, _, err) = chat(&["--agent", &agent, "--time-zone", "Mars/Base"], "");
    assert!(!ok);
    assert!(err.contains("unknown time zone `Mars/Base`"), "{err}");
    let (ok, _, err) = chat(&["--agent", "/nonexistent/agent"], "");
    assert!(!ok);
    assert!(
        err.contains("cannot load agent /nonexistent/agent"),
        "{err}"
    );
    assert!(!err.contains("panicked"), "{err}");
}
