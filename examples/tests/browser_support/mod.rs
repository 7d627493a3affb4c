//! Headless Chromium driven through chromedriver (fantoccini) against the real
//! `helpdesk-web` binary: starting both, the demo logins and a `Browser` with the steps
//! people take. Shared by the browser test files.
//!
//! Needs the Debian packages `chromium` and `chromium-driver`: run
//! `scripts/setup-chromium.sh` once. Without them the tests fail and say so.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::elements::Element;
use fantoccini::wd::TimeoutConfiguration;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;

pub(crate) const CHROMIUM: &str = "/usr/bin/chromium";
pub(crate) const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
/// Longest wait for one element, URL or process line.
pub(crate) const STEP: Duration = Duration::from_secs(20);
pub(crate) const WIDTH: u32 = 1280;
pub(crate) const HEIGHT: u32 = 860;

/// A child process killed (with its process group: chromedriver's Chromium) on drop.
pub(crate) struct Guard {
    child: Child,
    group: bool,
}

impl Drop for Guard {
    fn drop(&mut self) {
        if self.group {
            // chromedriver runs in its own process group with the browser it started.
            let _ = Command::new("kill")
                .args(["-KILL", "--", &format!("-{}", self.child.id())])
                .stderr(Stdio::null())
                .status();
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The demo logins as printed by `helpdesk-web`.
#[derive(Debug, Default)]
pub(crate) struct Logins {
    pub(crate) customer: (String, String),
    pub(crate) billing_agent: (String, String),
    pub(crate) admin: (String, String),
}

pub(crate) fn parse_logins(printed: &str) -> Logins {
    let find = |role: &str| -> (String, String) {
        let line = printed
            .lines()
            .find(|l| l.trim_start().starts_with(role))
            .unwrap_or_else(|| panic!("no {role} login in {printed}"));
        let email = line
            .split_whitespace()
            .find(|w| w.contains('@'))
            .unwrap()
            .to_string();
        let password = line.split_whitespace().last().unwrap().to_string();
        (email, password)
    };
    Logins {
        customer: find("customer"),
        billing_agent: find("agent (billing)"),
        admin: find("admin"),
    }
}

pub(crate) fn require_chromium() {
    let missing: Vec<&str> = [CHROMIUM, CHROMEDRIVER]
        .into_iter()
        .filter(|p| !Path::new(p).exists())
        .collect();
    assert!(
        missing.is_empty(),
        "the browser test needs headless Chromium and chromedriver, but {} is missing: run \
         scripts/setup-chromium.sh (as root; it installs the Debian packages chromium and \
         chromium-driver)",
        missing.join(" and ")
    );
}

pub(crate) fn scratch_dir(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("browser-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Starts `helpdesk-web` on a free port with its data in `data_dir`.
pub(crate) fn start_server(data_dir: &Path) -> (Guard, u16, Logins) {
    start_server_with(data_dir, &[])
}

/// [`start_server`] with `env` set for the server (e.g. a Gemini key and the address of a
/// fake Gemini server).
pub(crate) fn start_server_with(data_dir: &Path, env: &[(&str, &str)]) -> (Guard, u16, Logins) {
    let mut command = Command::new(env!("CARGO_BIN_EXE_helpdesk-web"));
    command
        .args(["--port", "0", "--data-dir"])
        .arg(data_dir)
        // SQLite and the offline model: the child's backends must not depend on a MongoDB
        // or a Gemini key that the caller's environment happens to carry.
        .env_remove("MONGODB_URI")
        .env_remove("DATABASE_URL")
        .env_remove("GEMINI_API_KEY")
        .env_remove("GEMINI_BASE_URL")
        .env_remove("SMTP_URL");
    for (key, value) in env {
        command.env(key, value);
    }
    let mut child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let guard = Guard {
        child,
        group: false,
    };
    let (tx, rx) = std::sync::mpsc::channel();
    // Reads the server's output for as long as it runs: once the caller has what it needs
    // (the port and the logins) the lines are dropped, but still read, since a server whose
    // output pipe is full blocks on its next log line.
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            let _ = tx.send(line);
        }
    });
    let started = Instant::now();
    let mut seen = Vec::new();
    let port = loop {
        let left = Duration::from_secs(120).saturating_sub(started.elapsed());
        match rx.recv_timeout(left) {
            Ok(line) => {
                if let Some(port) = line.strip_prefix("listening on http://127.0.0.1:") {
                    break port.trim().parse::<u16>().unwrap();
                }
                seen.push(line);
            }
            Err(e) => panic!("helpdesk-web printed no listening line ({e}): {seen:?}"),
        }
    };
    // The logins come in the ready block after it, between two rules of `=`.
    let mut rules = 0;
    while rules < 2 {
        let left = Duration::from_secs(30).saturating_sub(started.elapsed());
        match rx.recv_timeout(left.max(Duration::from_secs(5))) {
            Ok(line) if line.starts_with("=====") => rules += 1,
            Ok(line) => seen.push(line),
            Err(e) => panic!("helpdesk-web printed no ready block ({e}): {seen:?}"),
        }
    }
    (guard, port, parse_logins(&seen.join("\n")))
}

fn free_port() -> u16 {
    TcpListener::bind(("127.0.0.1", 0))
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Whether chromedriver on 127.0.0.1:`port` answers `/status` with `"ready":true` (read
/// until it says so, the connection closes or 2 s pass: it may keep the connection open).
fn driver_ready(port: u16) -> bool {
    let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    if write!(
        stream,
        "GET /status HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
    )
    .is_err()
    {
        return false;
    }
    let mut response = Vec::new();
    let mut buf = [0u8; 4096];
    while let Ok(n) = stream.read(&mut buf) {
        if n == 0 {
            break;
        }
        response.extend_from_slice(&buf[..n]);
        if String::from_utf8_lossy(&response).contains("\"ready\":true") {
            return true;
        }
    }
    false
}

/// The time zone the browser runs in: UTC+9 all year (no daylight saving time).
pub(crate) const VIEWER_ZONE: &str = "Asia/Tokyo";

/// Starts chromedriver on a free loopback port and waits until it is ready.
pub(crate) fn start_chromedriver(log: &Path) -> (Guard, u16) {
    use std::os::unix::process::CommandExt;
    let port = free_port();
    let log_file = std::fs::File::create(log).unwrap();
    let child = Command::new(CHROMEDRIVER)
        // Chromium (started by chromedriver, inheriting this) runs in a zone other than
        // UTC, so that pages are seen as by a viewer abroad (see [`VIEWER_ZONE`]).
        .env("TZ", VIEWER_ZONE)
        .arg(format!("--port={port}"))
        .arg("--allowed-ips=127.0.0.1")
        .stdout(log_file.try_clone().unwrap())
        .stderr(log_file)
        .process_group(0)
        .spawn()
        .unwrap();
    let guard = Guard { child, group: true };
    let started = Instant::now();
    loop {
        if driver_ready(port) {
            break;
        }
        assert!(
            started.elapsed() < STEP,
            "chromedriver did not get ready on port {port}; see {}",
            log.display()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    (guard, port)
}

/// The browser, the app's address and where screenshots go.
pub(crate) struct Browser {
    pub(crate) client: Client,
    base: String,
    shots: PathBuf,
    pub(crate) step: u32,
    /// The window size pages are shown at (screenshots grow only its height).
    width: u32,
    height: u32,
}

impl Browser {
    pub(crate) async fn open(
        driver_port: u16,
        app_port: u16,
        profile: &Path,
        shots: PathBuf,
    ) -> Self {
        Self::open_with(driver_port, app_port, profile, shots, None).await
    }

    /// [`Browser::open`], saving downloads in `downloads` (without asking) when given.
    pub(crate) async fn open_with(
        driver_port: u16,
        app_port: u16,
        profile: &Path,
        shots: PathBuf,
        downloads: Option<&Path>,
    ) -> Self {
        let prefs = match downloads {
            Some(dir) => json!({
                "download.default_directory": dir.display().to_string(),
                "download.prompt_for_download": false,
                "download.directory_upgrade": true,
                "safebrowsing.enabled": false,
            }),
            None => json!({}),
        };
        let mut caps = serde_json::Map::new();
        caps.insert("browserName".into(), json!("chrome"));
        // An alert must stay open so the test can see it, not be dismissed silently.
        caps.insert("unhandledPromptBehavior".into(), json!("ignore"));
        caps.insert(
            "goog:chromeOptions".into(),
            json!({
                "binary": CHROMIUM,
                "args": [
                    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                    "--no-first-run", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync",
                    "--disable-dev-shm-usage", "--hide-scrollbars",
                    format!("--window-size={WIDTH},{HEIGHT}"),
                    format!("--user-data-dir={}", profile.display()),
                ],
                "prefs": prefs,
            }),
        );
        let mut connector = hyper_util::client::legacy::connect::HttpConnector::new();
        connector.set_connect_timeout(Some(Duration::from_secs(5)));
        let client = tokio::time::timeout(
            Duration::from_secs(60),
            ClientBuilder::new(connector)
                .capabilities(caps)
                .connect(&format!("http://127.0.0.1:{driver_port}")),
        )
        .await
        .expect("chromedriver did not start Chromium within 60 s")
        .expect("start a Chromium session");
        client
            .update_timeouts(TimeoutConfiguration::new(
                Some(Duration::from_secs(10)),
                Some(STEP),
                Some(Duration::ZERO),
            ))
            .await
            .unwrap();
        Self {
            client,
            base: format!("http://127.0.0.1:{app_port}"),
            shots,
            step: 0,
            width: WIDTH,
            height: HEIGHT,
        }
    }

    /// Shows pages at `width` x `height` from now on (screenshots included).
    pub(crate) async fn resize(&mut self, width: u32, height: u32) {
        self.client.set_window_size(width, height).await.unwrap();
        self.width = width;
        self.height = height;
    }

    pub(crate) async fn goto(&self, path: &str) {
        self.client
            .goto(&format!("{}{path}", self.base))
            .await
            .unwrap();
    }

    /// The path of the current page (`/portal/tickets/…`).
    pub(crate) async fn path(&self) -> String {
        self.client.current_url().await.unwrap().path().to_string()
    }

    /// Waits until the current path satisfies `ok`.
    pub(crate) async fn wait_path(&self, what: &str, ok: impl Fn(&str) -> bool) -> String {
        let started = Instant::now();
        loop {
            let path = self.path().await;
            if ok(&path) {
                return path;
            }
            assert!(
                started.elapsed() < STEP,
                "waited {STEP:?} for {what}; still on {path}: {}",
                self.main_text().await
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Waits for an element matching `css`.
    pub(crate) async fn wait(&self, css: &str) -> Element {
        match self
            .client
            .wait()
            .at_most(STEP)
            .for_element(Locator::Css(css))
            .await
        {
            Ok(e) => e,
            Err(e) => panic!(
                "no `{css}` on {} after {STEP:?} ({e}): {}",
                self.path().await,
                self.main_text().await
            ),
        }
    }

    pub(crate) async fn find(&self, css: &str) -> Element {
        match self.client.find(Locator::Css(css)).await {
            Ok(e) => e,
            Err(e) => panic!(
                "no `{css}` on {} ({e}): {}",
                self.path().await,
                self.main_text().await
            ),
        }
    }

    /// The text of the element matching `css`. Found again when the page replaced it
    /// between the find and the read (the live stream re-renders threads and queues as
    /// soon as a write commits).
    pub(crate) async fn text(&self, css: &str) -> String {
        for _ in 0..20 {
            match self.find(css).await.text().await {
                Ok(text) => return text,
                Err(e) if is_stale(&e) => tokio::time::sleep(Duration::from_millis(50)).await,
                Err(e) => panic!("reading `{css}`: {e}"),
            }
        }
        panic!("`{css}` kept being replaced while read")
    }

    /// Waits for an element matching `css` and returns its text (read again if the page
    /// replaces the element meanwhile).
    pub(crate) async fn wait_text(&self, css: &str) -> String {
        self.wait(css).await;
        self.text(css).await
    }

    /// The visible text of the page's main area (for failure messages).
    pub(crate) async fn main_text(&self) -> String {
        match self.client.find(Locator::Css("body")).await {
            Ok(body) => body.text().await.unwrap_or_default(),
            Err(e) => format!("(no body: {e})"),
        }
    }

    pub(crate) async fn fill(&self, css: &str, text: &str) {
        let field = self.find(css).await;
        field.clear().await.unwrap();
        field.send_keys(text).await.unwrap();
    }

    /// Clicks a link or a form's button and waits until the new page has replaced the old
    /// one: until then the old page's elements still match (a search result page shares
    /// its rows with the page it was searched from) and go stale under the test's feet.
    pub(crate) async fn click(&self, css: &str) {
        let old = self.find("html").await;
        let mut tries = 0;
        while let Err(e) = self.wait(css).await.click().await {
            tries += 1;
            assert!(is_stale(&e) && tries < 20, "clicking `{css}`: {e}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let started = Instant::now();
        while old.tag_name().await.is_ok() {
            assert!(
                started.elapsed() < STEP,
                "clicking `{css}` did not load a new page within {STEP:?}; still on {}",
                self.path().await
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Saves a full-page screenshot as `NN-name.png`.
    pub(crate) async fn shot(&mut self, name: &str) {
        self.step += 1;
        let height = self
            .client
            .execute(
                "return Math.ceil(document.documentElement.scrollHeight);",
                vec![],
            )
            .await
            .unwrap()
            .as_u64()
            .unwrap_or(u64::from(self.height))
            .clamp(u64::from(self.height), 4000);
        let height = u32::try_from(height).unwrap();
        self.client
            .set_window_size(self.width, height)
            .await
            .unwrap();
        let png = self.client.screenshot().await.unwrap();
        self.client
            .set_window_size(self.width, self.height)
            .await
            .unwrap();
        let file = self.shots.join(format!("{:02}-{name}.png", self.step));
        std::fs::write(&file, png).unwrap();
    }

    /// Fails if a JavaScript dialog (alert, confirm, prompt) is open.
    pub(crate) async fn assert_no_dialog(&self) {
        match self.client.get_alert_text().await {
            Err(e) if e.is_no_such_alert() => {}
            Err(e) => panic!("checking for a dialog failed: {e}"),
            Ok(text) => panic!("a JavaScript dialog is open: {text:?}"),
        }
    }

    pub(crate) async fn sign_in(&mut self, (email, password): &(String, String), home: &str) {
        self.goto("/login").await;
        self.wait("form[action='/login']").await;
        self.fill("input[name=company]", "nimbus").await;
        self.fill("input[name=email]", email).await;
        self.fill("input[name=password]", password).await;
        self.click("form[action='/login'] button").await;
        self.wait_path(&format!("{email} to land on {home}"), |p| p == home)
            .await;
    }

    pub(crate) async fn sign_out(&self) {
        self.click("form[action='/logout'] button").await;
        self.wait_path("the sign-in page after signing out", |p| p == "/login")
            .await;
    }

    /// Raises a ticket from the portal (a screenshot of the filled form when `shot` names
    /// one); returns the ticket page path.
    pub(crate) async fn raise_ticket(
        &mut self,
        subject: &str,
        description: &str,
        shot: Option<&str>,
    ) -> String {
        self.click("nav a[href='/portal/new']").await;
        self.wait("form[action='/portal/tickets']").await;
        self.fill("input[name=subject]", subject).await;
        self.fill("textarea[name=description]", description).await;
        if let Some(name) = shot {
            self.shot(name).await;
        }
        self.click("form[action='/portal/tickets'] button.primary")
            .await;
        self.wait_path("the new ticket's page", |p| {
            p.starts_with("/portal/tickets/")
        })
        .await
    }
}

/// Whether a WebDriver command failed because its element was replaced meanwhile.
pub(crate) fn is_stale(error: &fantoccini::error::CmdError) -> bool {
    matches!(
        error,
        fantoccini::error::CmdError::Standard(e)
            if e.error == fantoccini::error::ErrorStatus::StaleElementReference
    )
}
