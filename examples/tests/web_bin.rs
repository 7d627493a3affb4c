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
    start_logging(args, Stdio::null())
}

/// Starts the binary with its log lines (stderr) going to `stderr`.
fn start_logging(args: &[&str], stderr: Stdio) -> Running {
    let mut child = Command::new(env!("CARGO_BIN_EXE_helpdesk-web"))
        .args(["--port", "0"])
        .args(args)
        // The binary picks its backends from the environment; `make test` exports
        // MONGODB_URI for the Mongo tests and DATABASE_URL (scripts/start-postgres.sh) for
        // the PostgreSQL ones, and a developer may have a Gemini key set.
        .env_remove("MONGODB_URI")
        .env_remove("DATABASE_URL")
        .env_remove("GEMINI_API_KEY")
        .stdout(Stdio::piped())
        .stderr(stderr)
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
    // After the listening line: the ready block, between two rules of `=`.
    let mut block = Vec::new();
    let mut rules = 0;
    while rules < 2 {
        let line = lines.next().expect("the ready block").unwrap();
        if line.starts_with("=====") {
            rules += 1;
        } else if rules == 1 {
            block.push(line);
        }
    }
    assert!(seen.is_empty(), "nothing but the block on stdout: {seen:?}");
    Running {
        child,
        port,
        printed: block.join("\n"),
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
    assert!(
        first
            .printed
            .contains("helpdesk-web is ready: open http://127.0.0.1:")
    );
    let logins_file = Path::new(data).join("demo-logins.txt");
    assert!(Path::new(data).join("helpdesk.db").exists());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode_of = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(
            mode_of(Path::new(data)),
            0o700,
            "data folder is the owner's only"
        );
        assert_eq!(
            mode_of(&Path::new(data).join("helpdesk.db")),
            0o600,
            "database is the owner's only"
        );
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
    // The same logins (the port differs).
    let logins = |printed: &str| printed.lines().skip(1).collect::<Vec<_>>().join("\n");
    assert_eq!(logins(&second.printed), logins(&printed_first));
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

#[test]
fn logs_written_to_a_file_carry_no_colour_codes() {
    let dir = temp_dir("logs");
    std::fs::create_dir_all(&dir).unwrap();
    let log = dir.join("stderr.log");
    let file = std::fs::File::create(&log).unwrap();
    let running = start_logging(
        &[
            "--demo-store",
            "--data-dir",
            dir.join("data").to_str().unwrap(),
        ],
        Stdio::from(file),
    );
    // A failed sign-in is logged (issue 16 item 13); wait for the line.
    let page = get(running.port, "/login");
    let pre = page
        .lines()
        .find_map(|l| l.strip_prefix("set-cookie: hd_pre="))
        .and_then(|v| v.split(';').next())
        .expect("pre-session cookie")
        .to_string();
    let marker = r#"name="csrf" value=""#;
    let at = page.find(marker).unwrap() + marker.len();
    let csrf = page[at..].split('"').next().unwrap();
    let body = format!("csrf={csrf}&company=nimbus&email=nobody%40example.com&password=wrong+one");
    let mut stream = TcpStream::connect(("127.0.0.1", running.port)).unwrap();
    write!(
        stream,
        "POST /login HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\
         Cookie: hd_pre={pre}\r\nContent-Type: application/x-www-form-urlencoded\r\n\
         Content-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    assert!(response.starts_with("HTTP/1.1 401"), "{response}");
    drop(running);
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(
        text.contains("sign-in failed"),
        "failed sign-ins are logged: {text}"
    );
    assert!(text.contains("nobody@example.com"), "{text}");
    assert!(!text.contains('\u{1b}'), "no ANSI escape codes: {text:?}");
    std::fs::remove_dir_all(&dir).ok();
}
