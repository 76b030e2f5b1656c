//! `switchboard bench soak` for a few seconds against a real `switchboard serve` child (the
//! restaurant agent, Whisper and Piper): the JSON report has samples with the server's RSS, fds
//! and threads, at least one completed call, a misbehaving call, and an exit code that matches
//! its verdict; `--replot` reads the report back. Run with `--release`; needs the speech models (`switchboard models fetch`).

mod common;

use sb_speech::models::ModelStore;
use serde_json::Value;
use std::process::Command;

#[test]
fn a_short_soak_reports_the_server_over_time() {
    let Some(agent) = common::example_agent("restaurant") else {
        return;
    };
    if let Err(e) = ModelStore::from_env().verify() {
        let what = format!("speech models: {e} (run `switchboard models fetch`)");
        if common::missing::<()>(&what).is_none() {
            return;
        }
    }
    let out = common::TempDir::new("bench-soak");
    let run = Command::new(env!("CARGO_BIN_EXE_switchboard"))
        .args([
            "bench",
            "soak",
            "--seconds",
            "20",
            "--interval",
            "5",
            "--calls",
            "1",
        ])
        .args([
            "--session-ttl",
            "2s",
            "--bad-every",
            "1",
            "--settle",
            "60",
            "--agent",
        ])
        .arg(&agent)
        .arg("--out")
        .arg(&out.0)
        .env("SWITCHBOARD_LOG", "warn")
        .output()
        .expect("run switchboard bench soak");
    let stdout = String::from_utf8_lossy(&run.stdout);
    let stderr = String::from_utf8_lossy(&run.stderr);
    let json = std::fs::read_to_string(out.0.join("bench-soak.json"))
        .unwrap_or_else(|e| panic!("no report ({e})\nstdout:\n{stdout}\nstderr:\n{stderr}"));
    let report: Value = serde_json::from_str(&json).expect("report JSON");
    let ctx = format!("stdout:\n{stdout}\nstderr:\n{stderr}");

    let samples = report["samples"].as_array().expect("samples");
    assert!(samples.len() >= 4, "{ctx}");
    assert_eq!(samples[0]["phase"], "baseline", "{ctx}");
    assert!(
        samples.iter().filter(|s| s["phase"] == "load").count() >= 4,
        "a sample every 5 s of the 20 s: {ctx}"
    );
    for s in samples {
        assert!(s["rss_kib"].as_u64().is_some_and(|k| k > 10_000), "{s}");
        assert!(s["fds"].as_u64().is_some_and(|n| n > 3), "{s}");
        assert!(s["threads"].as_u64().is_some_and(|n| n > 1), "{s}");
        assert!(s["tasks"].as_u64().is_some(), "the tokio gauge: {s}");
        assert!(s["sessions"].as_u64().is_some(), "the sessions gauge: {s}");
    }
    let v = &report["verdict"];
    assert!(v["calls_completed"].as_u64().unwrap_or(0) >= 1, "{ctx}");
    assert!(v["bad_calls"].as_u64().unwrap_or(0) >= 1, "{ctx}");
    assert!(v["text_turns"].as_u64().unwrap_or(0) >= 4, "{ctx}");
    assert_eq!(v["text_failed"], 0, "{ctx}");
    assert!(v["rss_growth"].as_f64().is_some(), "{ctx}");
    assert!(v["reply_first"]["p50"].as_u64().is_some(), "{ctx}");
    // After the callers stopped, the server is back to idle: no live call, and the sessions
    // (TTL 2 s) are swept.
    assert_eq!(v["live_calls"]["end"], 0, "{ctx}");
    assert_eq!(v["sessions"]["end"], 0, "{ctx}");
    // The exit code is the verdict.
    assert_eq!(run.status.success(), v["pass"] == true, "{ctx}");
    assert!(stdout.contains("verdict: "), "{ctx}");
    let svg = std::fs::read_to_string(out.0.join("bench-soak.svg")).expect("plot");
    assert!(svg.starts_with("<svg") && svg.contains("server RSS"));

    // --replot reads the report back: the same verdict, the plot redrawn.
    std::fs::remove_file(out.0.join("bench-soak.svg")).expect("remove plot");
    let again = Command::new(env!("CARGO_BIN_EXE_switchboard"))
        .args(["bench", "soak", "--replot"])
        .arg(out.0.join("bench-soak.json"))
        .output()
        .expect("run switchboard bench soak --replot");
    let replotted = String::from_utf8_lossy(&again.stdout);
    assert_eq!(again.status.success(), run.status.success(), "{replotted}");
    let verdict_lines = |s: &str| -> Vec<String> {
        let from = s.find("\nRSS: ").unwrap_or(0);
        s[from..]
            .lines()
            .filter(|l| !l.starts_with("report: ") && !l.starts_with("plot: "))
            .map(str::to_string)
            .collect()
    };
    assert_eq!(verdict_lines(&replotted), verdict_lines(&stdout));
    assert!(out.0.join("bench-soak.svg").is_file());
}
