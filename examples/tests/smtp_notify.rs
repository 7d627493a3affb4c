//! E-mail notifications end to end: `SmtpNotifier` sends through a real SMTP server
//! (scripts/smtp_sink.py, aiosmtpd from the shared venv made by scripts/python-env.sh).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use helpdesk_core::domain::{Actor, OutboxEntry, Role, TicketStatus};
use helpdesk_core::service::{NewTenant, NewTicket, NewUser};
use helpdesk_core::store::MemoryStore;
use helpdesk_core::testkit::ManualClock;
use helpdesk_core::{DynStore, Helpdesk};
use helpdesk_examples::web::smtp::SmtpNotifier;

/// The SMTP sink, killed when dropped.
struct Sink {
    child: Child,
    port: u16,
    out: PathBuf,
    _dir: TempDir,
}

impl Sink {
    fn start() -> Self {
        let dir = TempDir::new("sink");
        let out = dir.0.join("mail.jsonl");
        let Some(python) = option_env!("HELPDESK_VENV_PYTHON") else {
            panic!("built without the venv: run scripts/python-env.sh, then rebuild");
        };
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/smtp_sink.py");
        let mut child = Command::new(python)
            .arg(script)
            .args(["--port", "0", "--out"])
            .arg(&out)
            .stdout(Stdio::piped())
            .spawn()
            .expect("start smtp_sink.py");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let port = line.trim().parse().unwrap_or_else(|_| {
            let _ = child.kill();
            panic!("smtp_sink.py printed {line:?} instead of its port")
        });
        Self {
            child,
            port,
            out,
            _dir: dir,
        }
    }

    fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    /// Every message received so far: (envelope recipients, headers unfolded, raw data).
    fn messages(&self) -> Vec<(Vec<String>, String)> {
        let Ok(text) = std::fs::read_to_string(&self.out) else {
            return Vec::new();
        };
        text.lines()
            .map(|line| {
                let v: serde_json::Value = serde_json::from_str(line).unwrap();
                let rcpts = v["rcpt_tos"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|r| r.as_str().unwrap().to_owned())
                    .collect();
                let data = v["data"].as_str().unwrap().replace("\r\n ", " ");
                (rcpts, data)
            })
            .collect()
    }

    /// The subject of the one message sent to `address` whose subject contains `needle`.
    fn subject_to(&self, address: &str, needle: &str) -> String {
        let found: Vec<String> = self
            .messages()
            .into_iter()
            .filter(|(rcpts, _)| rcpts.iter().any(|r| r == address))
            .filter_map(|(_, data)| subject_of(&data))
            .filter(|s| s.contains(needle))
            .collect();
        assert_eq!(
            found.len(),
            1,
            "messages to {address} with {needle:?}: {found:?}; all: {:?}",
            self.messages()
        );
        found.into_iter().next().unwrap()
    }
}

impl Drop for Sink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn subject_of(data: &str) -> Option<String> {
    let headers = data.split("\r\n\r\n").next()?;
    headers
        .split("\r\n")
        .find_map(|l| l.strip_prefix("Subject: "))
        .map(str::to_owned)
}

struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> Self {
        let dir = std::env::temp_dir().join(format!(
            "helpdesk-smtp-{name}-{}-{}",
            std::process::id(),
            jiff::Timestamp::now().as_nanosecond()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn helpdesk(store: &DynStore, clock: &Arc<ManualClock>, smtp_url: &str) -> Helpdesk {
    let notifier = SmtpNotifier::from_url(smtp_url, "helpdesk@acme.test", store.clone()).unwrap();
    Helpdesk::builder(store.clone())
        .clock(clock.clone())
        .notifier(Arc::new(notifier))
        .build()
        .unwrap()
}

struct World {
    store: DynStore,
    clock: Arc<ManualClock>,
    agent: Actor,
    customer: Actor,
}

async fn world(hd: &Helpdesk, store: DynStore, clock: Arc<ManualClock>) -> World {
    let (_, admin) = hd
        .register_tenant(NewTenant {
            name: "Acme".into(),
            slug: "acme".into(),
            admin: NewUser::new("admin@acme.test", "Ada Admin", Role::Admin),
            settings: None,
        })
        .await
        .unwrap();
    let admin = Actor::for_user(&admin);
    let agent = hd
        .add_user(
            &admin,
            NewUser::new("agent@acme.test", "Bob Billing", Role::Agent).with_skills(&["billing"]),
        )
        .await
        .unwrap();
    let customer = hd
        .add_user(
            &admin,
            NewUser::new("carl@customer.test", "Carl", Role::Customer),
        )
        .await
        .unwrap();
    World {
        store,
        clock,
        agent: Actor::for_user(&agent),
        customer: Actor::for_user(&customer),
    }
}

fn new_world_parts() -> (DynStore, Arc<ManualClock>) {
    let store: DynStore = Arc::new(MemoryStore::new());
    let clock = Arc::new(ManualClock::new("2026-03-02T09:00:00Z".parse().unwrap()));
    (store, clock)
}

#[tokio::test]
#[cfg_attr(not(helpdesk_venv), ignore = "run scripts/python-env.sh first")]
async fn notifications_arrive_by_email_with_recipient_and_subject() {
    let sink = Sink::start();
    let (store, clock) = new_world_parts();
    let hd = helpdesk(&store, &clock, &sink.url());
    let w = world(&hd, store, clock).await;

    // Assignment: the ticket routes to the billing agent.
    let ticket = hd
        .open_ticket(
            &w.customer,
            NewTicket::new("Refund please", "I was charged twice"),
        )
        .await
        .unwrap()
        .ticket;
    assert_eq!(
        ticket.assignee,
        Some(w.agent.user_id),
        "routed to the agent"
    );
    let report = hd.dispatch_outbox().await.unwrap();
    assert!(report.failed == 0 && report.delivered >= 1, "{report:?}");
    let number = format!("#{}", ticket.number);
    let subject = sink.subject_to("agent@acme.test", "Assigned");
    assert!(subject.contains(&number), "{subject}");
    assert!(subject.starts_with("[Acme "), "{subject}");
    assert!(
        subject.ends_with("Assigned to you: Refund please"),
        "{subject}"
    );

    // Status change: the customer hears about it.
    hd.transition(&w.agent, ticket.id, TicketStatus::InProgress)
        .await
        .unwrap();
    hd.dispatch_outbox().await.unwrap();
    let subject = sink.subject_to("carl@customer.test", "Status changed to in_progress");
    assert!(subject.contains(&number), "{subject}");

    // Handoff: a customer asks the chatbot for a human; the chat ticket's assignee (or,
    // when unassigned, the admins) is told.
    let chat = hd.start_chat(&w.customer).await.unwrap();
    let chat = hd.request_human(&w.customer, chat.id).await.unwrap();
    let chat_ticket = w
        .store
        .get_ticket(w.customer.tenant_id, chat.ticket_id.unwrap())
        .await
        .unwrap()
        .unwrap();
    let report = hd.dispatch_outbox().await.unwrap();
    assert_eq!(report.failed, 0, "{report:?}");
    let told = match chat_ticket.assignee {
        Some(id) => {
            w.store
                .get_user(w.customer.tenant_id, id)
                .await
                .unwrap()
                .unwrap()
                .email
        }
        None => "admin@acme.test".to_owned(),
    };
    assert_ne!(told, "carl@customer.test");
    let subject = sink.subject_to(&told, "handed off");
    assert!(
        subject.starts_with(&format!("[Acme #{}]", chat_ticket.number)),
        "{subject}"
    );

    // Every message has our sender and a plain-text body naming the ticket.
    let (_, data) = sink
        .messages()
        .into_iter()
        .find(|(r, _)| r.iter().any(|r| r == "agent@acme.test"))
        .unwrap();
    assert!(data.contains("From: helpdesk@acme.test"), "{data}");
    assert!(data.contains("text/plain"), "{data}");
    assert!(data.contains(&format!("ticket {number}")), "{data}");
}

#[tokio::test]
#[cfg_attr(not(helpdesk_venv), ignore = "run scripts/python-env.sh first")]
async fn a_down_server_keeps_the_entry_for_a_retry() {
    // A port nothing listens on: bind one, then free it.
    let down = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("smtp://127.0.0.1:{}", listener.local_addr().unwrap().port())
    };
    let (store, clock) = new_world_parts();
    let hd_down = helpdesk(&store, &clock, &down);
    let w = world(&hd_down, store.clone(), clock.clone()).await;
    hd_down
        .open_ticket(&w.customer, NewTicket::new("Refund", "charged twice"))
        .await
        .unwrap();
    let report = hd_down.dispatch_outbox().await.unwrap();
    assert_eq!((report.delivered, report.failed), (0, 1), "{report:?}");
    let tenant = w.agent.tenant_id;
    let entries: Vec<OutboxEntry> = w.store.list_outbox(tenant).await.unwrap();
    let entry = &entries[0];
    assert_eq!(entry.attempts, 1);
    assert!(entry.delivered_at.is_none());
    let error = entry.last_error.as_deref().unwrap();
    assert!(error.contains("sending the e-mail"), "{error}");

    // Later the server is up: the same entry is delivered.
    let sink = Sink::start();
    let hd_up = helpdesk(&store, &w.clock, &sink.url());
    w.clock.advance(Duration::from_secs(3600));
    let report = hd_up.dispatch_outbox().await.unwrap();
    assert_eq!((report.delivered, report.failed), (1, 0), "{report:?}");
    let subject = sink.subject_to("agent@acme.test", "Assigned");
    assert!(subject.contains("Refund"), "{subject}");
    let entries = w.store.list_outbox(tenant).await.unwrap();
    assert!(entries[0].delivered_at.is_some());
}
