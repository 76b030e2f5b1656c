//! A small WebDriver client (the W3C protocol over HTTP) driving Debian's headless chromium
//! through `/usr/bin/chromedriver`. Waiting for the page is event-driven: a script in the page
//! resolves when a MutationObserver sees the expected text (in the document or the widget's
//! shadow root).

use serde_json::{json, Value};
use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;
use tokio::io::AsyncBufReadExt;

pub const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
pub const CHROMIUM: &str = "/usr/bin/chromium";
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";
const SHADOW: &str = "shadow-6066-11e4-a52e-4f735466cecf";

/// The chromedriver process; sessions talk to it.
pub struct Driver {
    child: tokio::process::Child,
    pub base: String,
    client: reqwest::Client,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.start_kill();
    }
}

/// Chromium and chromedriver, or the install command (see `common::missing`).
pub fn browser_available() -> bool {
    if std::path::Path::new(CHROMEDRIVER).exists() && std::path::Path::new(CHROMIUM).exists() {
        return true;
    }
    crate::common::missing::<()>(
        "chromium and chromium-driver are not installed: run `scripts/install-browser.sh` \
         (apt-get install chromium chromium-driver)",
    );
    false
}

impl Driver {
    pub async fn start() -> Driver {
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").expect("free port");
            l.local_addr().expect("addr").port()
        };
        let mut child = tokio::process::Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("start chromedriver");
        let out = child.stdout.take().expect("stdout");
        let mut lines = tokio::io::BufReader::new(out).lines();
        tokio::time::timeout(Duration::from_secs(20), async {
            while let Ok(Some(l)) = lines.next_line().await {
                if l.contains("started successfully") {
                    return;
                }
            }
            panic!("chromedriver exited before it was ready");
        })
        .await
        .expect("chromedriver ready within 20 s");
        // Keep draining its output so it never blocks on a full pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        Driver {
            child,
            base: format!("http://127.0.0.1:{port}"),
            client: reqwest::Client::new(),
        }
    }

    /// A new browser with a fresh profile and the given window size.
    pub async fn session(&self, width: u32, height: u32) -> Session {
        let profile = std::env::temp_dir().join(format!("sb-chromium-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&profile).expect("profile dir");
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": CHROMIUM,
                "args": [
                    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
                    "--disable-dev-shm-usage", "--hide-scrollbars", "--force-device-scale-factor=1",
                    format!("--user-data-dir={}", profile.display()),
                    format!("--window-size={width},{height}")
                ]
            }
        }}});
        let r: Value = self
            .client
            .post(format!("{}/session", self.base))
            .json(&caps)
            .send()
            .await
            .expect("new session")
            .json()
            .await
            .expect("json");
        let id = r["value"]["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no session: {r}"))
            .to_string();
        let s = Session {
            url: format!("{}/session/{id}", self.base),
            client: self.client.clone(),
            profile,
        };
        s.cmd(
            "POST",
            "/timeouts",
            json!({"implicit": 10_000, "script": 15_000}),
        )
        .await;
        s.set_window(width, height).await;
        s
    }
}

pub struct Session {
    url: String,
    client: reqwest::Client,
    profile: PathBuf,
}

impl Drop for Session {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}

#[derive(Debug, Clone)]
pub struct El(pub String);

impl Session {
    pub async fn cmd(&self, method: &str, path: &str, body: Value) -> Value {
        match self.try_cmd(method, path, body).await {
            Ok(v) => v,
            Err(e) => panic!("{e}"),
        }
    }

    pub async fn try_cmd(&self, method: &str, path: &str, body: Value) -> Result<Value, String> {
        let url = format!("{}{path}", self.url);
        let req = match method {
            "GET" => self.client.get(&url),
            "DELETE" => self.client.delete(&url),
            _ => self.client.post(&url).json(&body),
        };
        let r: Value = req
            .send()
            .await
            .unwrap_or_else(|e| panic!("{method} {path}: {e}"))
            .json()
            .await
            .unwrap_or_else(|e| panic!("{method} {path}: {e}"));
        if let Some(err) = r["value"]["error"].as_str() {
            return Err(format!("{method} {path}: {err}: {}", r["value"]["message"]));
        }
        Ok(r["value"].clone())
    }

    pub async fn close(self) {
        self.cmd("DELETE", "", Value::Null).await;
    }

    pub async fn goto(&self, url: &str) {
        self.cmd("POST", "/url", json!({"url": url})).await;
    }

    pub async fn current_url(&self) -> String {
        self.cmd("GET", "/url", Value::Null)
            .await
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    /// The page's viewport size (headless windows cannot be narrower than 500 px, so phone
    /// widths are emulated through the DevTools protocol).
    pub async fn set_window(&self, width: u32, height: u32) {
        self.cmd(
            "POST",
            "/goog/cdp/execute",
            json!({"cmd": "Emulation.setDeviceMetricsOverride", "params": {
                "width": width, "height": height, "deviceScaleFactor": 1, "mobile": width < 600
            }}),
        )
        .await;
    }

    fn el(v: Value) -> El {
        El(v[ELEMENT]
            .as_str()
            .unwrap_or_else(|| panic!("not an element: {v}"))
            .to_string())
    }

    /// The first element matching `css` in the document (waits up to the implicit timeout).
    pub async fn find(&self, css: &str) -> El {
        Self::el(
            self.cmd(
                "POST",
                "/element",
                json!({"using": "css selector", "value": css}),
            )
            .await,
        )
    }

    /// The first element matching `css` in the widget's shadow root.
    pub async fn find_in_widget(&self, css: &str) -> El {
        let host = self.find("[data-switchboard-chat]").await;
        let root = self
            .cmd("GET", &format!("/element/{}/shadow", host.0), Value::Null)
            .await;
        let root = root[SHADOW].as_str().expect("shadow root").to_string();
        Self::el(
            self.cmd(
                "POST",
                &format!("/shadow/{root}/element"),
                json!({"using": "css selector", "value": css}),
            )
            .await,
        )
    }

    pub async fn click(&self, e: &El) {
        self.cmd("POST", &format!("/element/{}/click", e.0), json!({}))
            .await;
    }

    /// Types like a person (Enter is "\u{E007}").
    pub async fn type_into(&self, e: &El, text: &str) {
        self.cmd(
            "POST",
            &format!("/element/{}/value", e.0),
            json!({"text": text}),
        )
        .await;
    }

    pub async fn script(&self, js: &str, args: Value) -> Value {
        self.cmd("POST", "/execute/sync", json!({"script": js, "args": args}))
            .await
    }

    /// Resolves once the text of `css` (in the widget's shadow root when `widget`) contains
    /// `want`: checked on every DOM mutation, not on a timer. Panics after 15 s.
    pub async fn wait_text(&self, widget: bool, css: &str, want: &str) {
        let js = r#"
            const [widget, css, want, done] = arguments;
            const host = document.querySelector('[data-switchboard-chat]');
            const root = widget ? (host && host.shadowRoot) : document;
            if (!root) { done('no root'); return; }
            const has = () => Array.from(root.querySelectorAll(css)).some(e => e.textContent.includes(want));
            if (has()) { done(true); return; }
            const obs = new MutationObserver(() => { if (has()) { obs.disconnect(); done(true); } });
            obs.observe(root, {subtree: true, childList: true, characterData: true, attributes: true});
        "#;
        let r = self
            .try_cmd(
                "POST",
                "/execute/async",
                json!({"script": js, "args": [widget, css, want]}),
            )
            .await;
        if r != Ok(json!(true)) {
            let text = self
                .script(
                    "const h = document.querySelector('[data-switchboard-chat]');\
                     return (arguments[0] && h ? h.shadowRoot : document.body).textContent;",
                    json!([widget]),
                )
                .await;
            self.screenshot(&std::env::temp_dir().join("sb-browser-failure.png"))
                .await;
            panic!("waiting for {css} to contain {want:?}: {r:?}\npage text: {text}");
        }
    }

    pub async fn screenshot(&self, path: &std::path::Path) {
        let b64 = self.cmd("GET", "/screenshot", Value::Null).await;
        let png = base64::Engine::decode(
            &base64::engine::general_purpose::STANDARD,
            b64.as_str().expect("base64"),
        )
        .expect("png");
        if let Some(d) = path.parent() {
            std::fs::create_dir_all(d).expect("docs dir");
        }
        std::fs::write(path, png).expect("write screenshot");
    }
}
