//! The `helpdesk` binary on a fresh data folder each: init, seed-demo, import-kb, reindex,
//! open, list, sweep and analytics, with their failure paths and exit codes. Uses the
//! offline MiniLM model when `HELPDESK_MODEL_DIR` is set, else the fake embedder.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicU32, Ordering};

const ADMIN: &str = "grace@nimbusnotes.example";
const CUSTOMER: &str = "carlos@example.com";

/// A fresh folder, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> Self {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let path = std::env::temp_dir().join(format!(
            "helpdesk-cli-{name}-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).unwrap();
        Self(path)
    }

    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn helpdesk(data: &TempDir, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_helpdesk"))
        .arg("--data-dir")
        .arg(data.path().join("data"))
        .args(args)
        .env_remove("MONGODB_URI")
        .env_remove("DATABASE_URL")
        .env_remove("GEMINI_API_KEY")
        .output()
        .unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn ok(data: &TempDir, args: &[&str]) -> String {
    let o = helpdesk(data, args);
    assert_eq!(o.status.code(), Some(0), "{args:?}: {}", stderr(&o));
    stdout(&o)
}

fn seeded(name: &str) -> TempDir {
    let data = TempDir::new(name);
    ok(&data, &["seed-demo"]);
    data
}

#[test]
fn init_is_idempotent_and_seed_demo_runs_once() {
    let data = TempDir::new("seed");
    assert!(ok(&data, &["init"]).contains("initialized"));
    assert!(ok(&data, &["init"]).contains("initialized"));
    assert!(data.path().join("data/helpdesk.db").exists());

    let first = ok(&data, &["seed-demo"]);
    assert!(first.contains(ADMIN), "{first}");
    assert!(first.contains(CUSTOMER), "{first}");
    let logins = data.path().join("data/demo-logins.txt");
    assert_eq!(std::fs::read_to_string(&logins).unwrap(), first);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&logins).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    let second = ok(&data, &["seed-demo"]);
    assert!(second.contains("nothing to do"), "{second}");
    assert_eq!(std::fs::read_to_string(&logins).unwrap(), first);
}

fn write(dir: &Path, name: &str, text: &str) {
    std::fs::write(dir.join(name), text).unwrap();
}

#[test]
fn import_kb_rejects_an_invalid_file_then_imports_and_updates() {
    let data = seeded("import");
    let articles = data.path().join("articles");
    std::fs::create_dir_all(&articles).unwrap();
    write(
        &articles,
        "a-webhooks.md",
        "# Configure webhooks\nTags: api\n\nOpen Settings, then Webhooks, and add a URL.\n",
    );
    write(
        &articles,
        "b-themes.md",
        "# Dark theme\n\nChoose View, then Theme, then Dark.\n",
    );
    write(&articles, "c-broken.md", "no title line here\n");
    write(&articles, "notes.txt", "not markdown, ignored\n");
    let before = ok(&data, &["reindex", "--tenant", "nimbus"]);

    let o = helpdesk(
        &data,
        &[
            "import-kb",
            "--tenant",
            "nimbus",
            articles.to_str().unwrap(),
        ],
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("c-broken.md"), "{}", stderr(&o));
    assert!(stderr(&o).contains("Title"), "{}", stderr(&o));
    // Nothing was imported: validation happens before any write.
    assert_eq!(ok(&data, &["reindex", "--tenant", "nimbus"]), before);

    std::fs::remove_file(articles.join("c-broken.md")).unwrap();
    let args = [
        "import-kb",
        "--tenant",
        "nimbus",
        articles.to_str().unwrap(),
    ];
    assert!(ok(&data, &args).contains("imported 2 articles (2 created, 0 updated)"));
    assert!(ok(&data, &args).contains("imported 2 articles (0 created, 2 updated)"));

    let count = |s: &str| -> usize {
        s.trim()
            .strip_prefix("reindexed ")
            .and_then(|s| s.strip_suffix(" articles"))
            .unwrap()
            .parse()
            .unwrap()
    };
    assert_eq!(
        count(&ok(&data, &["reindex", "--tenant", "nimbus"])),
        count(&before) + 2
    );

    let empty = data.path().join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    let o = helpdesk(
        &data,
        &["import-kb", "--tenant", "nimbus", empty.to_str().unwrap()],
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("no *.md file"), "{}", stderr(&o));
}

fn analytics_total(csv: &str) -> u64 {
    let mut lines = csv.lines();
    assert_eq!(lines.next(), Some("metric,key,value"));
    lines
        .find_map(|l| l.strip_prefix("tickets,total,"))
        .unwrap()
        .parse()
        .unwrap()
}

#[test]
fn open_list_sweep_and_analytics() {
    let data = seeded("tickets");
    let before = analytics_total(&ok(
        &data,
        &[
            "analytics",
            "--tenant",
            "nimbus",
            "--as",
            ADMIN,
            "--days",
            "7",
        ],
    ));

    let opened = ok(
        &data,
        &[
            "open",
            "--tenant",
            "nimbus",
            "--as",
            CUSTOMER,
            "--subject",
            "Cannot export my notebook to PDF",
            "--description",
            "The export button does nothing since yesterday.",
            "--priority",
            "high",
        ],
    );
    assert!(opened.starts_with("ticket #"), "{opened}");
    // Triage may raise a customer's priority, never lower it.
    assert!(
        opened.contains("priority: high") || opened.contains("priority: urgent"),
        "{opened}"
    );
    assert!(opened.contains("category: "), "{opened}");
    assert!(opened.contains("assignee: "), "{opened}");

    let list = ok(&data, &["list", "--tenant", "nimbus", "--as", CUSTOMER]);
    assert!(list.starts_with("NUMBER"), "{list}");
    assert!(list.contains("Cannot export my notebook to PDF"), "{list}");
    let resolved = ok(
        &data,
        &[
            "list", "--tenant", "nimbus", "--as", CUSTOMER, "--status", "resolved",
        ],
    );
    assert!(
        !resolved.contains("Cannot export my notebook"),
        "{resolved}"
    );

    let sweep = ok(&data, &["sweep"]);
    assert!(sweep.contains("sla: ran="), "{sweep}");
    assert!(sweep.contains("chat: ran="), "{sweep}");
    assert!(sweep.contains("outbox: ran="), "{sweep}");

    let out = data.path().join("analytics.csv");
    ok(
        &data,
        &[
            "analytics",
            "--tenant",
            "nimbus",
            "--as",
            ADMIN,
            "--days",
            "7",
            "--out",
            out.to_str().unwrap(),
        ],
    );
    let csv = std::fs::read_to_string(&out).unwrap();
    assert_eq!(analytics_total(&csv), before + 1);
    assert!(csv.contains("\nfirst_response,count,"), "{csv}");

    // Analytics are for admins only.
    let o = helpdesk(
        &data,
        &["analytics", "--tenant", "nimbus", "--as", CUSTOMER],
    );
    assert_eq!(o.status.code(), Some(1), "{}", stdout(&o));
}

#[test]
fn bad_tenant_user_and_usage_give_clear_errors() {
    let data = seeded("errors");
    let o = helpdesk(&data, &["list", "--tenant", "nope", "--as", CUSTOMER]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("no tenant with slug `nope`"),
        "{}",
        stderr(&o)
    );
    assert!(stdout(&o).is_empty());

    let o = helpdesk(
        &data,
        &["list", "--tenant", "nimbus", "--as", "who@x.example"],
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("who@x.example"), "{}", stderr(&o));

    let o = helpdesk(&data, &["reindex", "--tenant", "nope"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("`nope`"), "{}", stderr(&o));

    let o = helpdesk(
        &data,
        &[
            "list", "--tenant", "nimbus", "--as", CUSTOMER, "--limit", "0",
        ],
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("--limit"), "{}", stderr(&o));

    assert_eq!(helpdesk(&data, &["frobnicate"]).status.code(), Some(2));
    assert_eq!(
        helpdesk(&data, &["list", "--tenant", "nimbus"])
            .status
            .code(),
        Some(2)
    );
    assert_eq!(
        helpdesk(
            &data,
            &[
                "open",
                "--tenant",
                "nimbus",
                "--as",
                CUSTOMER,
                "--subject",
                "x",
                "--description",
                "y",
                "--priority",
                "bogus"
            ]
        )
        .status
        .code(),
        Some(2)
    );
}

#[test]
fn api_keys_are_created_listed_and_revoked_by_admins_only() {
    let data = seeded("api-key");
    let tenant = "nimbus";
    let created = ok(
        &data,
        &[
            "api-key", "create", "--tenant", tenant, "--as", ADMIN, "--label", "CRM sync",
        ],
    );
    let secret = created
        .lines()
        .find_map(|l| l.strip_prefix("secret: "))
        .unwrap()
        .to_string();
    assert!(secret.starts_with("hdk_"), "{created}");
    let id = created
        .lines()
        .find_map(|l| l.strip_prefix("id: "))
        .unwrap()
        .to_string();

    let listed = ok(
        &data,
        &["api-key", "list", "--tenant", tenant, "--as", ADMIN],
    );
    assert!(
        listed.contains("CRM sync") && listed.contains("active"),
        "{listed}"
    );
    assert!(!listed.contains(&secret), "the secret is never listed");

    // A customer may not create keys; the refusal is an error exit with the reason.
    let refused = helpdesk(
        &data,
        &[
            "api-key", "create", "--tenant", tenant, "--as", CUSTOMER, "--label", "x",
        ],
    );
    assert_eq!(refused.status.code(), Some(1));
    assert!(stderr(&refused).contains("may not"), "{}", stderr(&refused));

    let revoked = ok(
        &data,
        &["api-key", "revoke", "--tenant", tenant, "--as", ADMIN, &id],
    );
    assert!(revoked.contains(&id));
    let listed = ok(
        &data,
        &["api-key", "list", "--tenant", tenant, "--as", ADMIN],
    );
    assert!(listed.contains("revoked"), "{listed}");
    let unknown = helpdesk(
        &data,
        &[
            "api-key",
            "revoke",
            "--tenant",
            tenant,
            "--as",
            ADMIN,
            "not-an-id",
        ],
    );
    assert_eq!(unknown.status.code(), Some(1));
}

/// `helpdesk ingest-email` with `raw` on stdin.
fn ingest(data: &TempDir, tenant: &str, raw: &[u8]) -> Output {
    use std::io::Write;
    use std::process::Stdio;

    let mut child = Command::new(env!("CARGO_BIN_EXE_helpdesk"))
        .arg("--data-dir")
        .arg(data.path().join("data"))
        .args(["ingest-email", "--tenant", tenant])
        .env_remove("MONGODB_URI")
        .env_remove("DATABASE_URL")
        .env_remove("GEMINI_API_KEY")
        .env_remove("MAIL_TOKEN_KEY")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(raw).unwrap();
    child.wait_with_output().unwrap()
}

#[test]
fn ingest_email_takes_mail_from_the_pipe_once_and_quarantines_what_it_refuses() {
    let data = seeded("ingest");
    let mail = b"From: Dana <dana@example.org>\r\nTo: support@nimbusnotes.example\r\n\
        Subject: Export to PDF fails\r\nMessage-ID: <pipe-1@example.org>\r\n\r\n\
        The export button does nothing.\r\n";
    let first = ingest(&data, "nimbus", mail);
    assert_eq!(first.status.code(), Some(0), "{}", stderr(&first));
    let said = stdout(&first);
    assert!(
        said.starts_with("delivered to #") && said.contains("Opened"),
        "{said}"
    );
    // The MTA delivers it again (a retry): nothing new.
    let again = ingest(&data, "nimbus", mail);
    assert!(stdout(&again).contains("Duplicate"), "{}", stdout(&again));
    let listed = ok(
        &data,
        &["list", "--tenant", "nimbus", "--as", "dana@example.org"],
    );
    assert_eq!(listed.matches("Export to PDF fails").count(), 1, "{listed}");

    // Not a message: kept for the admin, exit 0 (the MTA must not bounce it back).
    let junk = ingest(&data, "nimbus", b"\x00\x01 definitely not mail");
    assert_eq!(junk.status.code(), Some(0), "{}", stderr(&junk));
    assert!(stdout(&junk).contains("(malformed)"), "{}", stdout(&junk));
    let held = ok(
        &data,
        &["quarantine", "list", "--tenant", "nimbus", "--as", ADMIN],
    );
    let line = held.lines().nth(1).expect("one held message");
    assert!(line.contains("malformed"), "{held}");
    let id = line.split('\t').next().unwrap();
    let customer = helpdesk(
        &data,
        &["quarantine", "list", "--tenant", "nimbus", "--as", CUSTOMER],
    );
    assert_ne!(
        customer.status.code(),
        Some(0),
        "customers may not see the quarantine"
    );
    let refused = helpdesk(
        &data,
        &[
            "quarantine",
            "reingest",
            "--tenant",
            "nimbus",
            "--as",
            ADMIN,
            id,
        ],
    );
    assert_ne!(refused.status.code(), Some(0));
    assert!(
        stderr(&refused).contains("refused again"),
        "{}",
        stderr(&refused)
    );
    assert!(
        ok(
            &data,
            &[
                "quarantine",
                "discard",
                "--tenant",
                "nimbus",
                "--as",
                ADMIN,
                id
            ]
        )
        .contains("discarded")
    );
    let held = ok(
        &data,
        &["quarantine", "list", "--tenant", "nimbus", "--as", ADMIN],
    );
    assert_eq!(
        held.lines().count(),
        1,
        "only the header line is left: {held}"
    );
}

#[test]
fn ingest_email_exit_codes_tell_the_mta_what_to_do() {
    let data = seeded("ingest-codes");
    let mail = b"From: a@example.org\r\nSubject: x\r\nMessage-ID: <c@example.org>\r\n\r\nx\r\n";
    // An unknown tenant: 67 (EX_NOUSER), so the MTA bounces it.
    let unknown = ingest(&data, "nobody", mail);
    assert_eq!(unknown.status.code(), Some(67), "{}", stderr(&unknown));
    assert!(stderr(&unknown).contains("nobody"), "{}", stderr(&unknown));
    // An empty message is kept, not bounced.
    let empty = ingest(&data, "nimbus", b"");
    assert_eq!(empty.status.code(), Some(0), "{}", stderr(&empty));
    assert!(stdout(&empty).contains("quarantined"), "{}", stdout(&empty));
}

#[test]
fn poll_imap_takes_a_mailbox_into_its_tenant() {
    let Ok(host) = std::env::var("HELPDESK_IMAP_HOST") else {
        eprintln!("skipped: HELPDESK_IMAP_HOST is not set (make test starts Dovecot)");
        return;
    };
    let port = std::env::var("HELPDESK_IMAP_PORT").unwrap();
    let user = std::env::var("HELPDESK_IMAP_USER").unwrap();
    let password = std::env::var("HELPDESK_IMAP_PASSWORD").unwrap();
    let data = seeded("poll-imap");
    let mailbox = format!(
        "cli-{}-{}",
        std::process::id(),
        data.path().display().to_string().len()
    );
    // APPEND with the test's own client (Python's imaplib), not the poller's.
    let append = Command::new("python3")
        .args(["-c", "import imaplib,sys; h,p,u,w,m=sys.argv[1:6]; c=imaplib.IMAP4(h,int(p)); c.login(u,w); c.create(m); c.append(m,None,None,sys.stdin.buffer.read()); c.logout()"])
        .args([host.as_str(), port.as_str(), user.as_str(), password.as_str(), mailbox.as_str()])
        .stdin(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut child| {
            use std::io::Write;
            child.stdin.take().unwrap().write_all(
                b"From: Ivy <ivy@example.org>\r\nTo: support@nimbusnotes.example\r\n\
                  Subject: Sync stuck at 99%\r\nMessage-ID: <imap-cli@example.org>\r\n\r\nIt hangs.\r\n",
            )?;
            child.wait()
        })
        .unwrap();
    assert!(append.success());
    let polled = Command::new(env!("CARGO_BIN_EXE_helpdesk"))
        .arg("--data-dir")
        .arg(data.path().join("data"))
        .arg("poll-imap")
        .env_remove("MONGODB_URI")
        .env_remove("DATABASE_URL")
        .env("IMAP_HOST", &host)
        .env("IMAP_PORT", &port)
        .env("IMAP_USER", &user)
        .env("IMAP_PASSWORD", &password)
        .env("IMAP_SECURITY", "plain")
        .env("IMAP_MAILBOX", &mailbox)
        .env("IMAP_TENANT", "nimbus")
        .output()
        .unwrap();
    assert_eq!(polled.status.code(), Some(0), "{}", stderr(&polled));
    assert!(
        stdout(&polled).contains("taken in 1"),
        "{}",
        stdout(&polled)
    );
    let listed = ok(
        &data,
        &["list", "--tenant", "nimbus", "--as", "ivy@example.org"],
    );
    assert!(listed.contains("Sync stuck at 99%"), "{listed}");
}
