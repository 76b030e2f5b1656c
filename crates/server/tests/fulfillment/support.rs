//! Outside programs the webhook and API tests drive: the Node fulfillment app (Google's
//! `dialogflow-fulfillment` and `actions-on-google` libraries) and the Python client
//! (`google-cloud-dialogflow`). Both are installed by `scripts/install-test-deps.sh`; when they
//! are missing a test fails with that command (skips only with SWITCHBOARD_TEST_ALLOW_SKIP=1).
#![allow(dead_code)]

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

pub const INSTALL: &str = "scripts/install-test-deps.sh";

/// `crates/server/tests/REL`.
pub fn test_path(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join(rel)
}

/// A missing dependency: `None` when skipping is allowed, a failure otherwise.
pub fn missing<T>(what: &str) -> Option<T> {
    if std::env::var("SWITCHBOARD_TEST_ALLOW_SKIP").as_deref() == Ok("1") {
        eprintln!("SKIPPED: {what}; install with `{INSTALL}`");
        return None;
    }
    panic!("{what}; install it with `{INSTALL}` (from the repository root)");
}

/// `node app.js` from `tests/fulfillment`, listening on a free port of 127.0.0.1.
pub struct NodeApp {
    pub base: String,
    _child: Child,
}

impl NodeApp {
    pub async fn start() -> Option<NodeApp> {
        let dir = test_path("fulfillment");
        for module in ["dialogflow-fulfillment", "actions-on-google", "express"] {
            if !dir
                .join("node_modules")
                .join(module)
                .join("package.json")
                .is_file()
            {
                return missing(&format!(
                    "npm package {module} is not installed in {}",
                    dir.display()
                ));
            }
        }
        let spawned = Command::new("node")
            .arg("app.js")
            .current_dir(&dir)
            .env("PORT", "0")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn();
        let mut child = match spawned {
            Ok(c) => c,
            Err(e) => return missing(&format!("cannot run node ({e})")),
        };
        let stdout = child.stdout.take().expect("piped stdout");
        let mut lines = BufReader::new(stdout).lines();
        let first = tokio::time::timeout(Duration::from_secs(30), lines.next_line()).await;
        let line = match first {
            Ok(Ok(Some(l))) => l,
            other => panic!("the fulfillment app did not start: {other:?}"),
        };
        let port = line
            .strip_prefix("listening ")
            .and_then(|p| p.trim().parse::<u16>().ok())
            .unwrap_or_else(|| panic!("unexpected first line from app.js: {line:?}"));
        // Keep draining stdout so the app never blocks on a full pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        Some(NodeApp {
            base: format!("http://127.0.0.1:{port}"),
            _child: child,
        })
    }
}
