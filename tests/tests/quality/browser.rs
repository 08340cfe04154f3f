//! Headless Chromium driven over the DevTools protocol, for the dashboard
//! test: the test types into the page and clicks it as a viewer would.
//!
//! The protocol runs over `--remote-debugging-pipe`: Chromium reads commands
//! from its file descriptor 3 and writes answers and events to 4, each a JSON
//! message ended by a NUL byte. A shell wraps the launch so those two are the
//! child's stdin and stdout; no websocket, no extra crate, nothing to download.

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tokio::sync::mpsc;

/// How long one command, or one awaited state of the page, may take.
const PATIENCE: Duration = Duration::from_secs(30);

/// The browser the dashboard test drives (Debian's `chromium`; `.ci/run`
/// installs it).
fn chromium() -> String {
    let path = std::env::var("CE_CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    assert!(
        std::path::Path::new(&path).exists(),
        "the dashboard test needs headless Chromium at {path}: apt-get install chromium (or set CE_CHROMIUM)"
    );
    path
}

/// One headless Chromium with one tab, killed on drop.
pub struct Browser {
    child: Child,
    commands: ChildStdin,
    messages: mpsc::UnboundedReceiver<Value>,
    /// Events received while waiting for an answer, oldest first.
    events: Vec<Value>,
    next_id: u64,
    /// The tab's session.
    session: String,
    profile: tempfile::TempDir,
}

impl Browser {
    /// Starts Chromium on a fresh profile and opens one blank tab.
    pub async fn launch() -> Browser {
        let profile = tempfile::tempdir().unwrap();
        let log = std::fs::File::create(profile.path().join("chromium.log")).unwrap();
        let mut child = Command::new("sh")
            .arg("-c")
            .arg(r#"exec "$0" "$@" 3<&0 4>&1 </dev/null >/dev/null"#)
            .arg(chromium())
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--no-first-run",
                "--no-default-browser-check",
                "--remote-debugging-pipe",
                "--window-size=1280,1024",
            ])
            .arg(format!(
                "--user-data-dir={}",
                profile.path().join("data").display()
            ))
            .arg("about:blank")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(log)
            .spawn()
            .unwrap();
        let commands = child.stdin.take().unwrap();
        let mut out = BufReader::new(child.stdout.take().unwrap());
        let (tx, messages) = mpsc::unbounded_channel();
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            loop {
                buf.clear();
                match out.read_until(0, &mut buf) {
                    Ok(0) | Err(_) => return,
                    Ok(_) => {}
                }
                if buf.last() == Some(&0) {
                    buf.pop();
                }
                let Ok(message) = serde_json::from_slice::<Value>(&buf) else {
                    continue;
                };
                if tx.send(message).is_err() {
                    return;
                }
            }
        });
        let mut browser = Browser {
            child,
            commands,
            messages,
            events: Vec::new(),
            next_id: 0,
            session: String::new(),
            profile,
        };
        let target = browser
            .command(None, "Target.createTarget", json!({"url": "about:blank"}))
            .await
            .unwrap();
        let attached = browser
            .command(
                None,
                "Target.attachToTarget",
                json!({"targetId": target["targetId"], "flatten": true}),
            )
            .await
            .unwrap();
        browser.session = attached["sessionId"].as_str().unwrap().to_owned();
        browser.send("Page.enable", json!({})).await;
        browser
    }

    /// Chromium's own log so far, for failure messages.
    fn log(&self) -> String {
        std::fs::read_to_string(self.profile.path().join("chromium.log")).unwrap_or_default()
    }

    /// Sends one command (to the browser, or to the tab's `session`) and
    /// waits for its answer: its result, or its error.
    async fn command(
        &mut self,
        session: Option<String>,
        method: &str,
        params: Value,
    ) -> Result<Value, Value> {
        self.next_id += 1;
        let id = self.next_id;
        let mut message = json!({"id": id, "method": method, "params": params});
        if let Some(session) = session {
            message["sessionId"] = session.into();
        }
        let mut bytes = serde_json::to_vec(&message).unwrap();
        bytes.push(0);
        if let Err(e) = self
            .commands
            .write_all(&bytes)
            .and_then(|()| self.commands.flush())
        {
            panic!("Chromium is gone ({e}): {}", self.log());
        }
        let deadline = tokio::time::Instant::now() + PATIENCE;
        loop {
            let message = match tokio::time::timeout_at(deadline, self.messages.recv()).await {
                Ok(Some(message)) => message,
                Ok(None) => panic!("Chromium exited during {method}: {}", self.log()),
                Err(_) => panic!("Chromium did not answer {method}: {}", self.log()),
            };
            if message["id"].as_u64() == Some(id) {
                return match message.get("error") {
                    Some(error) => Err(error.clone()),
                    None => Ok(message["result"].clone()),
                };
            }
            if message.get("method").is_some() {
                self.events.push(message);
            }
        }
    }

    /// A command to the tab that must succeed.
    async fn send(&mut self, method: &str, params: Value) -> Value {
        let session = Some(self.session.clone());
        self.command(session, method, params)
            .await
            .unwrap_or_else(|e| panic!("{method}: {e}"))
    }

    /// Waits for the tab's next `load` event (one that came after `events`
    /// was last cleared).
    async fn loaded(&mut self) {
        let deadline = tokio::time::Instant::now() + PATIENCE;
        loop {
            if self
                .events
                .iter()
                .any(|e| e["method"] == "Page.loadEventFired")
            {
                self.events.clear();
                return;
            }
            match tokio::time::timeout_at(deadline, self.messages.recv()).await {
                Ok(Some(message)) if message.get("method").is_some() => self.events.push(message),
                Ok(Some(_)) => {}
                Ok(None) => panic!("Chromium exited while loading: {}", self.log()),
                Err(_) => panic!("the page did not load: {}", self.log()),
            }
        }
    }

    /// Opens `url` in the tab, as if typed into its address bar, and waits
    /// for it to load (unless only the fragment changes: then the page stays
    /// and sees a `hashchange`).
    pub async fn goto(&mut self, url: &str) {
        self.events.clear();
        let nav = self.send("Page.navigate", json!({"url": url})).await;
        assert!(nav.get("errorText").is_none(), "{url}: {nav}");
        if nav.get("loaderId").is_some() {
            self.loaded().await;
        }
    }

    /// Reloads the tab, as the viewer's reload button does.
    pub async fn reload(&mut self) {
        self.events.clear();
        self.send("Page.reload", json!({})).await;
        self.loaded().await;
    }

    /// The value of the JavaScript expression `js` in the page (awaited if
    /// it is a promise), or its exception.
    pub async fn try_eval(&mut self, js: &str) -> Result<Value, Value> {
        let session = Some(self.session.clone());
        let res = self
            .command(
                session,
                "Runtime.evaluate",
                json!({"expression": js, "returnByValue": true, "awaitPromise": true}),
            )
            .await?;
        match res.get("exceptionDetails") {
            Some(e) => Err(e.clone()),
            None => Ok(res["result"]["value"].clone()),
        }
    }

    /// The value of `js` in the page, which must not throw.
    pub async fn eval(&mut self, js: &str) -> Value {
        self.try_eval(js)
            .await
            .unwrap_or_else(|e| panic!("{js}: {e}"))
    }

    /// Waits until the expression `js` is true in the page.
    pub async fn wait_for(&mut self, js: &str) {
        let deadline = Instant::now() + PATIENCE;
        while self.try_eval(&format!("!!({js})")).await != Ok(Value::Bool(true)) {
            if Instant::now() > deadline {
                let dom = self.dom().await;
                panic!("waited in vain for {js}: {dom}");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// The page's DOM as HTML.
    pub async fn dom(&mut self) -> String {
        let dom = self.eval("document.documentElement.outerHTML").await;
        dom.as_str().unwrap_or_default().to_owned()
    }

    /// The address in the tab's address bar.
    pub async fn href(&mut self) -> String {
        let href = self.eval("location.href").await;
        href.as_str().unwrap().to_owned()
    }

    /// Every address in the tab's back/forward history.
    pub async fn history(&mut self) -> Vec<String> {
        let history = self.send("Page.getNavigationHistory", json!({})).await;
        history["entries"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["url"].as_str().unwrap_or_default().to_owned())
            .collect()
    }

    /// The whole page as a PNG (DevTools `Page.captureScreenshot`, beyond
    /// the window's height too), written to `path`; its folders are made.
    pub async fn screenshot(&mut self, path: &std::path::Path) {
        let metrics = self.send("Page.getLayoutMetrics", json!({})).await;
        let size = &metrics["cssContentSize"];
        let shot = self
            .send(
                "Page.captureScreenshot",
                json!({"format": "png", "captureBeyondViewport": true, "clip": {
                    "x": 0, "y": 0, "scale": 1,
                    "width": size["width"].as_f64().unwrap_or(1280.0),
                    "height": size["height"].as_f64().unwrap_or(1024.0),
                }}),
            )
            .await;
        let png = base64(shot["data"].as_str().unwrap());
        assert!(png.starts_with(b"\x89PNG"), "a PNG");
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, png).unwrap();
    }

    /// A left click in the middle of the element `selector`, through the
    /// mouse.
    pub async fn click(&mut self, selector: &str) {
        let at = self
            .eval(&format!(
                "(() => {{ const e = document.querySelector({s}); e.scrollIntoView({{block: 'center'}}); \
                 const r = e.getBoundingClientRect(); return [r.x + r.width / 2, r.y + r.height / 2]; }})()",
                s = Value::from(selector)
            ))
            .await;
        let (x, y) = (at[0].as_f64().unwrap(), at[1].as_f64().unwrap());
        for kind in ["mousePressed", "mouseReleased"] {
            self.send(
                "Input.dispatchMouseEvent",
                json!({"type": kind, "x": x, "y": y, "button": "left", "clickCount": 1}),
            )
            .await;
        }
    }

    /// Clicks the field `selector` and pastes `text` into it.
    pub async fn paste(&mut self, selector: &str, text: &str) {
        self.click(selector).await;
        let focused = self
            .eval(&format!(
                "document.activeElement === document.querySelector({})",
                Value::from(selector)
            ))
            .await;
        assert_eq!(focused, Value::Bool(true), "{selector} takes the focus");
        self.send("Input.insertText", json!({"text": text})).await;
    }
}

/// Standard base64 (with padding) decoded, as DevTools sends binary data.
fn base64(text: &str) -> Vec<u8> {
    let value = |c: u8| match c {
        b'A'..=b'Z' => u32::from(c - b'A'),
        b'a'..=b'z' => u32::from(c - b'a') + 26,
        b'0'..=b'9' => u32::from(c - b'0') + 52,
        b'+' => 62,
        b'/' => 63,
        _ => panic!("not base64: {c}"),
    };
    let digits: Vec<u8> = text.bytes().filter(|c| *c != b'=').collect();
    let mut out = Vec::with_capacity(digits.len() * 3 / 4);
    for chunk in digits.chunks(4) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, c)| n | value(*c) << (18 - 6 * i));
        let bytes = n.to_be_bytes();
        out.extend_from_slice(&bytes[1..chunk.len()]);
    }
    out
}

impl Drop for Browser {
    /// Asks Chromium to close, so it takes its helper processes with it;
    /// kills it if it has not within five seconds.
    fn drop(&mut self) {
        let close = json!({"id": u64::MAX, "method": "Browser.close"});
        let mut bytes = serde_json::to_vec(&close).unwrap_or_default();
        bytes.push(0);
        let _ = self.commands.write_all(&bytes);
        let _ = self.commands.flush();
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
