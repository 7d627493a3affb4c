//! The `helpdesk-web` binary starts, prints the demo logins and the address it serves on,
//! and answers there; its data survives a restart; `--demo-store` runs in memory.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

struct Running {
    child: Child,
    port: u16,
    printed: String,
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start(args: &[&str]) -> Running {
    let mut child = Command::new(env!("CARGO_BIN_EXE_helpdesk-web"))
        .args(["--port", "0"])
        .args(args)
        // The binary picks its backends from the environment; `make test` exports
        // MONGODB_URI for the Mongo tests, and a developer may have a Gemini key set.
        .env_remove("MONGODB_URI")
        .env_remove("GEMINI_API_KEY")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut lines = BufReader::new(stdout).lines();
    let started = Instant::now();
    let mut seen = Vec::new();
    let port = loop {
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "no listening line: {seen:?}"
        );
        let Some(line) = lines.next() else {
            let _ = child.kill();
            panic!("helpdesk-web exited early: {seen:?}");
        };
        let line = line.unwrap();
        if let Some(addr) = line.strip_prefix("listening on http://127.0.0.1:") {
            break addr.trim().parse::<u16>().unwrap();
        }
        seen.push(line);
    };
    Running {
        child,
        port,
        printed: seen.join("\n"),
    }
}

fn get(port: u16, path: &str) -> String {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    response
}

fn assert_logins(printed: &str) {
    for who in [
        "admin",
        "agent (billing)",
        "agent (tech)",
        "customer",
        "password:",
    ] {
        assert!(printed.contains(who), "{printed}");
    }
}

fn temp_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("helpdesk-web-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

#[test]
fn serves_from_a_data_dir_and_keeps_data_across_restarts() {
    let dir = temp_dir("persist");
    let data = dir.to_str().unwrap();
    let first = start(&["--data-dir", data]);
    assert_logins(&first.printed);
    let login = get(first.port, "/login");
    assert!(login.starts_with("HTTP/1.1 200"), "{login}");
    assert!(
        !login.contains("Demo store"),
        "a data dir is not the demo store"
    );
    let logins_file = Path::new(data).join("demo-logins.txt");
    assert!(Path::new(data).join("helpdesk.db").exists());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&logins_file)
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o077, 0, "demo passwords readable only by the owner");
    }
    let printed_first = first.printed.clone();
    drop(first);

    // Restart on the same folder: no second seed, the same logins, the data is there.
    let second = start(&["--data-dir", data]);
    assert_eq!(second.printed.trim(), printed_first.trim());
    let help = get(second.port, "/login");
    assert!(help.starts_with("HTTP/1.1 200"), "{help}");
    drop(second);
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn demo_store_runs_in_memory() {
    let running = start(&[
        "--demo-store",
        "--data-dir",
        temp_dir("demo").to_str().unwrap(),
    ]);
    assert_logins(&running.printed);
    let response = get(running.port, "/login");
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert!(response.contains("Demo store"));
}
