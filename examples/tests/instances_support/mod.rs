//! Several `helpdesk-web` processes on one database (issue 22): a database of the test's
//! own on the MongoDB-wire or PostgreSQL test server, the processes themselves (started,
//! killed with SIGKILL, restarted on their data folder), and an SMTP sink that can hold a
//! sender in the middle of a delivery. Shared by `web_processes_mongo.rs`,
//! `web_processes_postgres.rs` and `web_processes_bench.rs`; `api` drives the processes
//! over their JSON API, `scenario` is the test both backends run.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

pub(crate) mod api;
pub(crate) mod scenario;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::time::{Duration, Instant};

use helpdesk_core::DynStore;
use sqlx::Connection;

/// The app secret every instance shares (`MAIL_TOKEN_KEY`): forms, sign-up links and
/// reply tokens one signs, the others accept.
pub(crate) const SHARED_SECRET: &str =
    "6a1c0f3e9b2d4c5a8e7f60112233445566778899aabbccddeeff001122334455";

/// How long a start may take: the first instance seeds the demo company and embeds its
/// articles (MiniLM in a debug build, on a busy 2-core machine).
const START_DEADLINE: Duration = Duration::from_secs(240);

/// Which server the processes share.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Backend {
    /// The `MONGODB_URI` server (SecantusDB in `make test`).
    Mongo,
    /// The `HELPDESK_POSTGRES_URL` server.
    Postgres,
}

/// A database of the test's own, made fresh on the backend's test server.
pub(crate) struct Database {
    pub(crate) backend: Backend,
    /// MongoDB: the server's URI; PostgreSQL: the URL of the test's database.
    url: String,
    /// The database's name.
    pub(crate) name: String,
    /// The server URL the database was made from (PostgreSQL: to drop it).
    server: String,
}

impl Database {
    /// A new, empty database (MongoDB makes it on first write).
    pub(crate) async fn fresh(backend: Backend) -> Self {
        let name = format!("hdproc_{}", uuid::Uuid::now_v7().simple());
        let variable = match backend {
            Backend::Mongo => "MONGODB_URI",
            Backend::Postgres => "HELPDESK_POSTGRES_URL",
        };
        let Ok(server) = std::env::var(variable) else {
            panic!("{variable} was set when the test was built but is not set now");
        };
        let url = match backend {
            Backend::Mongo => server.clone(),
            Backend::Postgres => {
                let mut admin = sqlx::PgConnection::connect(&server)
                    .await
                    .expect("connect to HELPDESK_POSTGRES_URL");
                sqlx::query(&format!("CREATE DATABASE \"{name}\""))
                    .execute(&mut admin)
                    .await
                    .expect("create the test's database");
                admin.close().await.ok();
                url_of_database(&server, &name)
            }
        };
        Self {
            backend,
            url,
            name,
            server,
        }
    }

    /// The environment that points `helpdesk-web` at this database.
    pub(crate) fn env(&self) -> Vec<(String, String)> {
        match self.backend {
            Backend::Mongo => vec![
                ("MONGODB_URI".into(), self.url.clone()),
                ("MONGODB_DATABASE".into(), self.name.clone()),
            ],
            Backend::Postgres => vec![("DATABASE_URL".into(), self.url.clone())],
        }
    }

    /// The store on this database, for the test's own checks. Open it once an instance
    /// has started (and so created the schema).
    pub(crate) async fn store(&self) -> DynStore {
        match self.backend {
            Backend::Mongo => Arc::new(
                helpdesk_store_mongo::MongoStore::connect(&self.url, &self.name)
                    .await
                    .expect("open the test's MongoDB database"),
            ),
            Backend::Postgres => Arc::new(
                helpdesk_store_postgres::PostgresStore::connect(&self.url)
                    .await
                    .expect("open the test's PostgreSQL database"),
            ),
        }
    }

    /// Drops the database (after a failed test it stays, for a look).
    pub(crate) async fn drop_database(self) {
        match self.backend {
            Backend::Mongo => {
                let client = mongodb::Client::with_uri_str(&self.server)
                    .await
                    .expect("connect to MONGODB_URI");
                client
                    .database(&self.name)
                    .drop()
                    .await
                    .expect("drop the test's database");
            }
            Backend::Postgres => {
                let mut admin = sqlx::PgConnection::connect(&self.server)
                    .await
                    .expect("connect to HELPDESK_POSTGRES_URL");
                sqlx::query(&format!("DROP DATABASE \"{}\" WITH (FORCE)", self.name))
                    .execute(&mut admin)
                    .await
                    .expect("drop the test's database");
                admin.close().await.ok();
            }
        }
    }
}

/// `server` (a `postgres://` URL) with its database replaced by `name`, query kept.
fn url_of_database(server: &str, name: &str) -> String {
    let (base, query) = match server.split_once('?') {
        Some((base, query)) => (base, format!("?{query}")),
        None => (server, String::new()),
    };
    let (scheme, rest) = base.split_once("://").expect("a URL with a scheme");
    let authority = rest.split('/').next().unwrap_or(rest);
    format!("{scheme}://{authority}/{name}{query}")
}

/// A folder removed when dropped, except after a failure (it holds the instances' logs).
pub(crate) struct TempDir(pub(crate) PathBuf);

impl TempDir {
    pub(crate) fn new(name: &str) -> Self {
        let dir = std::env::temp_dir().join(format!(
            "helpdesk-{name}-{}-{}",
            std::process::id(),
            uuid::Uuid::now_v7().simple()
        ));
        std::fs::create_dir_all(&dir).expect("create a temporary folder");
        Self(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!("kept for a look: {}", self.0.display());
        } else {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

/// Variables of the test's own environment a process must not inherit: the store, the
/// model providers, mail, and the options the cluster sets itself.
const NOT_INHERITED: &[&str] = &[
    "MONGODB_URI",
    "MONGODB_DATABASE",
    "DATABASE_URL",
    "GEMINI_API_KEY",
    "GEMINI_BASE_URL",
    "OPENAI_BASE_URL",
    "OPENAI_API_KEY",
    "OPENAI_MODEL",
    "IMAP_HOST",
    "SMTP_URL",
    "SMTP_FROM",
    "MAIL_TOKEN_KEY",
    "HELPDESK_PUBLIC_URL",
    "HELPDESK_SWEEP_SECONDS",
    "HELPDESK_LEASE_SECONDS",
];

/// One `helpdesk-web` process: its data folder, log file and environment stay across a
/// kill and a restart. Killed (SIGKILL) when dropped.
pub(crate) struct Instance {
    /// `a`, `b`, `c`: also the local part of its `SMTP_FROM`.
    pub(crate) name: String,
    /// Its port while it runs.
    pub(crate) port: u16,
    /// The block printed when it became ready (the demo logins).
    pub(crate) printed: String,
    child: Option<Child>,
    lines: Option<Receiver<String>>,
    data_dir: PathBuf,
    log: PathBuf,
    env: Vec<(String, String)>,
    args: Vec<String>,
}

impl Instance {
    /// An instance (not started) keeping its data folder and log under `dir`.
    pub(crate) fn new(
        name: &str,
        dir: &Path,
        env: Vec<(String, String)>,
        args: Vec<String>,
    ) -> Self {
        Self {
            name: name.into(),
            port: 0,
            printed: String::new(),
            child: None,
            lines: None,
            data_dir: dir.join(format!("data-{name}")),
            log: dir.join(format!("{name}.log")),
            env,
            args,
        }
    }

    /// The sender address of its notification e-mails.
    pub(crate) fn sender(&self) -> String {
        format!("instance-{}@helpdesk.test", self.name)
    }

    /// `http://127.0.0.1:PORT`.
    pub(crate) fn base(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub(crate) fn is_running(&self) -> bool {
        self.child.is_some()
    }

    /// Starts the process (its log lines appended to its log file); [`Instance::ready`]
    /// waits for it.
    pub(crate) fn launch(&mut self) {
        assert!(self.child.is_none(), "{} runs already", self.name);
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .expect("open the instance's log");
        let mut command = Command::new(env!("CARGO_BIN_EXE_helpdesk-web"));
        command
            .args(["--port", "0", "--data-dir"])
            .arg(&self.data_dir)
            .args(&self.args);
        for name in NOT_INHERITED {
            command.env_remove(name);
        }
        let mut child = command
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .env("SMTP_FROM", self.sender())
            .stdout(Stdio::piped())
            .stderr(Stdio::from(log))
            .spawn()
            .expect("start helpdesk-web");
        let stdout = child.stdout.take().expect("piped stdout");
        let (send, receive) = channel();
        // Reads stdout to its end (a closed pipe would fail the process's next print).
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = send.send(line);
            }
        });
        self.child = Some(child);
        self.lines = Some(receive);
    }

    /// Waits until the process listens and has printed its ready block.
    pub(crate) fn ready(&mut self) {
        let lines = self.lines.as_ref().expect("launched");
        let deadline = Instant::now() + START_DEADLINE;
        let mut seen = Vec::new();
        let next = |seen: &Vec<String>| match lines
            .recv_timeout(deadline.saturating_duration_since(Instant::now()))
        {
            Ok(line) => line,
            Err(RecvTimeoutError::Timeout) => {
                panic!("{}: not ready in {START_DEADLINE:?}: {seen:?}", self.name)
            }
            Err(RecvTimeoutError::Disconnected) => panic!(
                "{}: exited before it was ready: {seen:?}\n{}",
                self.name,
                self.log_tail(30)
            ),
        };
        let port = loop {
            let line = next(&seen);
            if let Some(port) = line.strip_prefix("listening on http://127.0.0.1:") {
                break port.trim().parse().expect("a port");
            }
            seen.push(line);
        };
        let mut block = Vec::new();
        let mut rules = 0;
        while rules < 2 {
            let line = next(&seen);
            if line.starts_with("=====") {
                rules += 1;
            } else if rules == 1 {
                block.push(line);
            }
        }
        self.port = port;
        self.printed = block.join("\n");
    }

    /// Starts the process and waits until it is ready.
    pub(crate) fn start(&mut self) {
        self.launch();
        self.ready();
    }

    /// Kills the process with SIGKILL (no shutdown of any kind) and reaps it.
    pub(crate) fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        self.lines = None;
    }

    /// The last `n` lines of its log.
    pub(crate) fn log_tail(&self, n: usize) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(n)..].join("\n")
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Instances on one database with one secret and one SMTP server, each with its own data
/// folder. Every process is killed when the cluster is dropped; after a failure the last
/// log lines of each are printed and the folder is kept.
pub(crate) struct Cluster {
    pub(crate) instances: Vec<Instance>,
    dir: TempDir,
}

impl Cluster {
    /// `count` instances (not started) on `db`, mailing through `smtp_url` when given,
    /// with `args` (sweep and lease options) on their command lines.
    pub(crate) fn new(db: &Database, count: usize, smtp_url: Option<&str>, args: &[&str]) -> Self {
        let dir = TempDir::new("processes");
        let mut env = db.env();
        env.push(("MAIL_TOKEN_KEY".into(), SHARED_SECRET.into()));
        if let Some(url) = smtp_url {
            env.push(("SMTP_URL".into(), url.into()));
        }
        let args: Vec<String> = args.iter().map(|a| (*a).to_owned()).collect();
        let instances = (0..count)
            .map(|i| {
                let name = ((b'a' + i as u8) as char).to_string();
                Instance::new(&name, &dir.0, env.clone(), args.clone())
            })
            .collect();
        Self { instances, dir }
    }

    /// Starts the first instance (it seeds the demo company on a new database), then the
    /// others together once it is ready, so that no two seed at once.
    pub(crate) fn start_all(&mut self) {
        let (first, rest) = self.instances.split_first_mut().expect("an instance");
        first.start();
        for instance in rest.iter_mut() {
            instance.launch();
        }
        for instance in rest.iter_mut() {
            instance.ready();
        }
    }

    /// The instance whose notification sender is `address`.
    pub(crate) fn by_sender(&self, address: &str) -> usize {
        self.instances
            .iter()
            .position(|i| i.sender() == address)
            .unwrap_or_else(|| panic!("no instance sends as {address}"))
    }

    /// The base URLs of the running instances.
    pub(crate) fn running(&self) -> Vec<String> {
        self.instances
            .iter()
            .filter(|i| i.is_running())
            .map(Instance::base)
            .collect()
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        for instance in &mut self.instances {
            instance.kill();
        }
        if std::thread::panicking() {
            for instance in &self.instances {
                eprintln!(
                    "--- last log lines of instance {}:\n{}",
                    instance.name,
                    instance.log_tail(40)
                );
            }
        }
    }
}

/// A mail the sink received.
#[derive(Debug, Clone)]
pub(crate) struct Mail {
    /// The envelope sender (which instance sent it).
    pub(crate) from: String,
    /// The envelope recipients.
    pub(crate) to: Vec<String>,
    pub(crate) subject: String,
}

/// `scripts/smtp_sink.py` on a free port, killed when dropped. `hold` makes the next
/// sender wait in its MAIL FROM command until `release`.
pub(crate) struct Sink {
    child: Child,
    port: u16,
    out: PathBuf,
    hold: PathBuf,
    _dir: TempDir,
}

impl Sink {
    pub(crate) fn start() -> Self {
        let dir = TempDir::new("sink");
        let out = dir.0.join("mail.jsonl");
        let hold = dir.0.join("hold");
        let Some(python) = option_env!("HELPDESK_VENV_PYTHON") else {
            panic!("built without the venv: run scripts/python-env.sh, then rebuild");
        };
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/smtp_sink.py");
        let mut child = Command::new(python)
            .arg(script)
            .args(["--port", "0", "--out"])
            .arg(&out)
            .arg("--hold")
            .arg(&hold)
            .stdout(Stdio::piped())
            .spawn()
            .expect("start smtp_sink.py");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("piped stdout"))
            .read_line(&mut line)
            .expect("the sink's port");
        let port = line.trim().parse().unwrap_or_else(|_| {
            let _ = child.kill();
            panic!("smtp_sink.py printed {line:?} instead of its port")
        });
        Self {
            child,
            port,
            out,
            hold,
            _dir: dir,
        }
    }

    pub(crate) fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    /// Every mail received so far, in order.
    pub(crate) fn mails(&self) -> Vec<Mail> {
        let Ok(text) = std::fs::read_to_string(&self.out) else {
            return Vec::new();
        };
        text.lines()
            .map(|line| {
                let v: serde_json::Value = serde_json::from_str(line).expect("a JSON line");
                let to = v["rcpt_tos"]
                    .as_array()
                    .expect("recipients")
                    .iter()
                    .map(|r| r.as_str().expect("an address").to_owned())
                    .collect();
                let data = v["data"]
                    .as_str()
                    .expect("the message")
                    .replace("\r\n ", " ");
                let headers = data.split("\r\n\r\n").next().unwrap_or_default();
                let subject = headers
                    .split("\r\n")
                    .find_map(|l| l.strip_prefix("Subject: "))
                    .unwrap_or_default()
                    .to_owned();
                Mail {
                    from: v["mail_from"].as_str().unwrap_or_default().to_owned(),
                    to,
                    subject,
                }
            })
            .collect()
    }

    /// From now on, a sender waits in its MAIL FROM command until [`Sink::release`].
    pub(crate) fn hold(&self) {
        std::fs::write(&self.hold, b"").expect("create the hold file");
    }

    pub(crate) fn release(&self) {
        let _ = std::fs::remove_file(&self.hold);
    }

    /// The senders held so far, in order.
    pub(crate) fn held(&self) -> Vec<String> {
        let log = self.hold.with_extension("log");
        let Ok(text) = std::fs::read_to_string(log) else {
            return Vec::new();
        };
        text.lines()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .filter_map(|v| v["held"].as_str().map(str::to_owned))
            .collect()
    }
}

impl Drop for Sink {
    fn drop(&mut self) {
        self.release();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Polls `check` every `every` until it gives a value or `within` passes (then panics
/// with `what` and the last thing `check` said).
pub(crate) async fn eventually<T>(
    what: &str,
    within: Duration,
    every: Duration,
    mut check: impl AsyncFnMut() -> Result<T, String>,
) -> T {
    let deadline = Instant::now() + within;
    loop {
        match check().await {
            Ok(value) => return value,
            Err(last) if Instant::now() >= deadline => {
                panic!("{what}: not within {within:?}; last: {last}")
            }
            Err(_) => tokio::time::sleep(every).await,
        }
    }
}

/// The median of `values` (the mean of the middle two for an even count).
pub(crate) fn median(values: &[f64]) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let n = sorted.len();
    match n {
        0 => f64::NAN,
        _ if n % 2 == 1 => sorted[n / 2],
        _ => (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0,
    }
}
