//! `scripts/smtp_sink.py`, an SMTP server that writes what it receives to a file, for the
//! live tests (`make test` makes its Python venv).
#![allow(
    dead_code,
    unreachable_pub,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic
)]

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

/// `scripts/smtp_sink.py` on a loopback port, killed on drop.
pub struct SmtpSink {
    child: Child,
    out: PathBuf,
    pub port: u16,
}

impl SmtpSink {
    pub fn python() -> Option<PathBuf> {
        let cache = std::env::var_os("HELPDESK_CACHE")
            .map(PathBuf::from)
            .or_else(|| {
                std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache/helpdesk"))
            })?;
        let python = cache.join("venv/bin/python");
        python.exists().then_some(python)
    }

    /// A sink on `port` (0: any free one).
    pub fn start(port: u16) -> Option<Self> {
        let Some(python) = Self::python() else {
            eprintln!("skipped: no Python venv with aiosmtpd (run scripts/python-env.sh)");
            return None;
        };
        let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../scripts/smtp_sink.py");
        let out = std::env::temp_dir().join(format!("smtp-sink-{}.jsonl", uuid::Uuid::now_v7()));
        let mut child = Command::new(python)
            .arg(script)
            .args(["--port", &port.to_string(), "--out"])
            .arg(&out)
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let port = line.trim().parse().expect("the sink prints its port");
        Some(Self { child, out, port })
    }

    pub fn mails(&self) -> Vec<serde_json::Value> {
        std::fs::read_to_string(&self.out)
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_file(&self.out);
    }
}

/// A free loopback port.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}
