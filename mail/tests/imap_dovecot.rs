//! The IMAP poller against a real Dovecot (`scripts/start-dovecot.sh`; `make test` starts it).
//! Without `HELPDESK_IMAP_HOST` every test prints why it did not run and passes.
//! Each test works in mailboxes of its own (a random name), so they run in parallel.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "live/dovecot.rs"]
mod dovecot;

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_imap::Session;
use dovecot::{Server, append, client, server};
use futures_util::TryStreamExt as _;
use helpdesk_mail::imap::{ImapConfig, ImapError, ImapPoller, ImapSecurity, MailSink, SinkError};
use tokio::net::TcpStream;

/// A mailbox name no other test (or run) uses.
fn unique(prefix: &str) -> String {
    format!("{prefix}-{}", uuid::Uuid::now_v7().simple())
}

fn config(server: &Server, host: &str, mailbox: &str, processed: &str) -> ImapConfig {
    ImapConfig::new(host, &server.user, &server.password)
        .with_security(ImapSecurity::Plain)
        .with_port(server.port)
        .with_mailbox(mailbox)
        .with_processed_mailbox(processed)
        .with_batch_size(2)
        .with_poll_interval(Duration::from_secs(1))
        .with_io_timeout(Duration::from_secs(20))
}

/// Every message's bytes in `mailbox`, in UID order (`BODY.PEEK[]`: nothing marked seen).
async fn contents(session: &mut Session<TcpStream>, mailbox: &str) -> Vec<Vec<u8>> {
    session.select(mailbox).await.unwrap();
    let fetches: Vec<_> = session
        .fetch("1:*", "(UID BODY.PEEK[])")
        .await
        .unwrap()
        .try_collect()
        .await
        .unwrap_or_default();
    let mut messages: Vec<_> = fetches
        .iter()
        .filter_map(|f| Some((f.uid?, f.body()?.to_vec())))
        .collect();
    messages.sort();
    messages.into_iter().map(|(_, raw)| raw).collect()
}

/// Messages in `mailbox` not flagged `\Deleted`.
async fn live_count(session: &mut Session<TcpStream>, mailbox: &str) -> usize {
    session.select(mailbox).await.unwrap();
    session.uid_search("NOT DELETED").await.unwrap().len()
}

fn message(n: usize) -> Vec<u8> {
    format!(
        "From: Jane Doe <jane@example.com>\r\nTo: support@acme.example\r\n\
         Subject: Printer {n}\r\nMessage-ID: <msg-{n}-{}@example.com>\r\n\
         Content-Type: text/plain; charset=utf-8\r\n\r\nHello {n}, caf\u{e9} \u{2615}\r\n",
        uuid::Uuid::now_v7().simple()
    )
    .into_bytes()
}

/// Records what it is given; fails (temporarily) for messages containing `fail_on`.
#[derive(Default)]
struct RecordingSink {
    received: Mutex<Vec<(Vec<u8>, String)>>,
    fail_on: Mutex<Option<Vec<u8>>>,
}

#[async_trait::async_trait]
impl MailSink for RecordingSink {
    async fn accept(&self, raw: Vec<u8>, source: &str) -> Result<(), SinkError> {
        let fails = self
            .fail_on
            .lock()
            .unwrap()
            .as_ref()
            .is_some_and(|needle| raw.windows(needle.len()).any(|w| w == needle.as_slice()));
        if fails {
            return Err(SinkError::temporary("database is down"));
        }
        self.received.lock().unwrap().push((raw, source.to_owned()));
        Ok(())
    }
}

impl RecordingSink {
    fn received(&self) -> Vec<Vec<u8>> {
        self.received
            .lock()
            .unwrap()
            .iter()
            .map(|(raw, _)| raw.clone())
            .collect()
    }
}

#[tokio::test]
async fn three_messages_delivered_byte_exact_and_moved() {
    let Some(server) = server() else { return };
    let (inbox, processed) = (unique("in"), unique("done"));
    let mut session = client(&server).await;
    let sent: Vec<_> = (1..=3).map(message).collect();
    for raw in &sent {
        append(&mut session, &inbox, raw).await;
    }

    let sink = Arc::new(RecordingSink::default());
    let poller = ImapPoller::new(
        config(&server, &server.host, &inbox, &processed),
        sink.clone(),
    )
    .unwrap();
    let report = poller.poll_once().await.unwrap();

    assert_eq!((report.fetched, report.accepted, report.left), (3, 3, 0));
    assert_eq!(
        report.bytes,
        sent.iter().map(|m| m.len() as u64).sum::<u64>()
    );
    assert_eq!(sink.received(), sent, "byte-exact, in arrival order");
    let sources: HashSet<_> = sink
        .received
        .lock()
        .unwrap()
        .iter()
        .map(|(_, s)| s.clone())
        .collect();
    assert_eq!(sources, HashSet::from([format!("imap:{inbox}")]));
    assert_eq!(live_count(&mut session, &inbox).await, 0);
    assert_eq!(
        contents(&mut session, &processed).await,
        sent,
        "created and filled"
    );

    // Nothing new: a second poll fetches nothing and delivers nothing twice.
    let again = poller.poll_once().await.unwrap();
    assert_eq!((again.fetched, again.accepted), (0, 0));
    assert_eq!(sink.received().len(), 3);
}

#[tokio::test]
async fn a_temporary_sink_failure_leaves_exactly_that_message() {
    let Some(server) = server() else { return };
    let (inbox, processed) = (unique("in"), unique("done"));
    let mut session = client(&server).await;
    let sent: Vec<_> = (1..=3).map(message).collect();
    for raw in &sent {
        append(&mut session, &inbox, raw).await;
    }
    let sink = Arc::new(RecordingSink::default());
    *sink.fail_on.lock().unwrap() = Some(b"Subject: Printer 2".to_vec());
    let poller = ImapPoller::new(
        config(&server, &server.host, &inbox, &processed),
        sink.clone(),
    )
    .unwrap();

    let report = poller.poll_once().await.unwrap();
    assert_eq!((report.fetched, report.accepted, report.left), (3, 2, 1));
    assert_eq!(contents(&mut session, &inbox).await, vec![sent[1].clone()]);
    assert_eq!(
        contents(&mut session, &processed).await,
        vec![sent[0].clone(), sent[2].clone()]
    );

    // The engine is back: the next poll delivers the one left.
    *sink.fail_on.lock().unwrap() = None;
    let report = poller.poll_once().await.unwrap();
    assert_eq!((report.fetched, report.accepted, report.left), (1, 1, 0));
    assert_eq!(
        sink.received(),
        vec![sent[0].clone(), sent[2].clone(), sent[1].clone()]
    );
    assert_eq!(live_count(&mut session, &inbox).await, 0);
}

#[tokio::test]
async fn a_crash_between_accept_and_move_redelivers_the_same_bytes() {
    let Some(server) = server() else { return };
    let (inbox, processed) = (unique("in"), unique("done"));
    let mut session = client(&server).await;
    let sent = message(1);
    append(&mut session, &inbox, &sent).await;
    let sink = Arc::new(RecordingSink::default());
    let poller = ImapPoller::new(
        config(&server, &server.host, &inbox, &processed),
        sink.clone(),
    )
    .unwrap();

    // Accepted, then the poller "dies" before moving.
    let report = poller.poll_once_without_move().await.unwrap();
    assert_eq!((report.fetched, report.accepted), (1, 1));
    assert_eq!(
        contents(&mut session, &inbox).await,
        vec![sent.clone()],
        "still there"
    );

    // A fresh poller (the restarted process) delivers the same bytes again, then moves.
    let restarted = ImapPoller::new(
        config(&server, &server.host, &inbox, &processed),
        sink.clone(),
    )
    .unwrap();
    let report = restarted.poll_once().await.unwrap();
    assert_eq!((report.fetched, report.accepted), (1, 1));
    assert_eq!(sink.received(), vec![sent.clone(), sent.clone()]);
    assert_eq!(live_count(&mut session, &inbox).await, 0);
    assert_eq!(contents(&mut session, &processed).await, vec![sent]);
}

#[tokio::test]
async fn without_move_the_poller_copies_flags_and_expunges() {
    let Some(server) = server() else { return };
    let Ok(no_move_host) = std::env::var("HELPDESK_IMAP_HOST_NO_MOVE") else {
        eprintln!(
            "skipped: HELPDESK_IMAP_HOST_NO_MOVE is not set (scripts/start-dovecot.sh sets it)"
        );
        return;
    };
    let (inbox, processed) = (unique("in"), unique("done"));
    let mut session = client(&server).await;
    let sent: Vec<_> = (1..=3).map(message).collect();
    for raw in &sent {
        append(&mut session, &inbox, raw).await;
    }
    let sink = Arc::new(RecordingSink::default());
    let poller = ImapPoller::new(
        config(&server, &no_move_host, &inbox, &processed),
        sink.clone(),
    )
    .unwrap();
    let report = poller.poll_once().await.unwrap();
    assert_eq!((report.fetched, report.accepted), (3, 3));
    assert_eq!(sink.received(), sent);
    // Expunged (UIDPLUS), not merely flagged: the mailbox is empty.
    assert!(contents(&mut session, &inbox).await.is_empty());
    assert_eq!(contents(&mut session, &processed).await, sent);
}

#[tokio::test]
async fn run_polls_until_shutdown() {
    let Some(server) = server() else { return };
    let (inbox, processed) = (unique("in"), unique("done"));
    let mut session = client(&server).await;
    let sink = Arc::new(RecordingSink::default());
    let poller = ImapPoller::new(
        config(&server, &server.host, &inbox, &processed),
        sink.clone(),
    )
    .unwrap();
    let _ = session.create(&inbox).await;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let running = tokio::spawn(async move {
        poller
            .run(async move {
                let _ = stopped.await;
            })
            .await
    });

    // Mail arriving while it runs is picked up by a later poll.
    let sent = message(7);
    append(&mut session, &inbox, &sent).await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while sink.received().is_empty() && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(sink.received(), vec![sent]);

    stop.send(()).unwrap();
    let ended = tokio::time::timeout(Duration::from_secs(10), running).await;
    assert!(
        matches!(ended, Ok(Ok(Ok(())))),
        "run ends at shutdown: {ended:?}"
    );
}

#[tokio::test]
async fn run_fetches_new_mail_at_once_in_idle_and_stops_promptly() {
    let Some(server) = server() else { return };
    let (inbox, processed) = (unique("in"), unique("done"));
    let mut session = client(&server).await;
    let _ = session.create(&inbox).await;
    let sink = Arc::new(RecordingSink::default());
    // A poll interval far longer than the test: only IDLE can deliver in time.
    let config = config(&server, &server.host, &inbox, &processed)
        .with_poll_interval(Duration::from_secs(600));
    let poller = ImapPoller::new(config, sink.clone()).unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let running = tokio::spawn(async move {
        poller
            .run(async move {
                let _ = stopped.await;
            })
            .await
    });
    // Let it connect, poll the empty mailbox and enter IDLE.
    tokio::time::sleep(Duration::from_millis(1500)).await;

    let sent = message(8);
    append(&mut session, &inbox, &sent).await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while sink.received().is_empty() && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(sink.received(), vec![sent.clone()]);
    let moved = tokio::time::Instant::now() + Duration::from_secs(10);
    while live_count(&mut session, &inbox).await > 0 && tokio::time::Instant::now() < moved {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(contents(&mut session, &processed).await, vec![sent]);

    // Shutdown interrupts the IDLE wait instead of waiting out the interval.
    stop.send(()).unwrap();
    let ended = tokio::time::timeout(Duration::from_secs(10), running).await;
    assert!(
        matches!(ended, Ok(Ok(Ok(())))),
        "run ends at shutdown: {ended:?}"
    );
}

/// Appends a message to the mailbox while it accepts the first one: mail arriving while
/// the poller is busy.
struct AppendingSink {
    server: Server,
    inbox: String,
    late: Vec<u8>,
    received: Mutex<Vec<Vec<u8>>>,
}

#[async_trait::async_trait]
impl MailSink for AppendingSink {
    async fn accept(&self, raw: Vec<u8>, _source: &str) -> Result<(), SinkError> {
        let first = self.received.lock().unwrap().is_empty();
        self.received.lock().unwrap().push(raw);
        if first {
            let mut session = client(&self.server).await;
            append(&mut session, &self.inbox, &self.late).await;
            let _ = session.logout().await;
        }
        Ok(())
    }
}

#[tokio::test]
async fn mail_arriving_while_a_poll_is_busy_is_fetched_at_once_not_after_the_interval() {
    let Some(server) = server() else { return };
    let (inbox, processed) = (unique("in"), unique("done"));
    let mut session = client(&server).await;
    let first = message(10);
    append(&mut session, &inbox, &first).await;
    let late = message(11);
    let sink = Arc::new(AppendingSink {
        server: dovecot::server().unwrap(),
        inbox: inbox.clone(),
        late: late.clone(),
        received: Mutex::default(),
    });
    // Only an immediate second look can deliver the late message within the test.
    let config = config(&server, &server.host, &inbox, &processed)
        .with_poll_interval(Duration::from_secs(600));
    let poller = ImapPoller::new(config, sink.clone()).unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let running = tokio::spawn(async move {
        poller
            .run(async move {
                let _ = stopped.await;
            })
            .await
    });
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while sink.received.lock().unwrap().len() < 2 && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(*sink.received.lock().unwrap(), vec![first, late]);
    stop.send(()).unwrap();
    let ended = tokio::time::timeout(Duration::from_secs(10), running).await;
    assert!(matches!(ended, Ok(Ok(Ok(())))), "{ended:?}");
}

#[tokio::test]
async fn a_wrong_password_is_a_typed_auth_error() {
    let Some(server) = server() else { return };
    let config = ImapConfig::new(&server.host, &server.user, "not-the-password")
        .with_security(ImapSecurity::Plain)
        .with_port(server.port);
    let poller = ImapPoller::new(config, Arc::new(RecordingSink::default())).unwrap();
    let error = poller.poll_once().await.unwrap_err();
    match &error {
        ImapError::Auth { host, user, .. } => {
            assert_eq!(host, &server.host);
            assert_eq!(user, &server.user);
        }
        other => panic!("expected Auth, got {other:?}"),
    }
    assert!(error.is_temporary());
    let text = format!("{error} {error:?}");
    assert!(text.contains(&server.host), "{text}");
    assert!(!text.contains("not-the-password"), "{text}");
}

#[tokio::test]
async fn plain_to_a_remote_host_is_refused_before_connecting() {
    // No server needed: refused at construction and never sent.
    let config =
        ImapConfig::new("imap.example.com", "support", "secret").with_security(ImapSecurity::Plain);
    let error = ImapPoller::new(config, Arc::new(RecordingSink::default())).unwrap_err();
    assert!(
        matches!(&error, ImapError::PlainRefused { host } if host == "imap.example.com"),
        "{error:?}"
    );
    assert!(!error.is_temporary());
    assert!(error.to_string().contains("imap.example.com"));
}
