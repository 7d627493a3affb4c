//! The `helpdesk-web` binary starts, prints the demo logins and the address it serves on,
//! and answers there.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

#[test]
fn prints_credentials_and_listening_address_then_serves() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_helpdesk-web"))
        .args(["--port", "0"])
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
            started.elapsed() < Duration::from_secs(60),
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
    let printed = seen.join("\n");
    for who in [
        "admin",
        "agent (billing)",
        "agent (tech)",
        "customer",
        "password:",
    ] {
        assert!(printed.contains(who), "{printed}");
    }

    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream
        .write_all(b"GET /login HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    child.kill().unwrap();
    let _ = child.wait();
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert!(response.contains("Offline mode"));
    assert!(response.contains("Demo store"));
}
