//! `email-imap`: the time from a message's arrival in an IMAP mailbox to its ticket in the
//! store, with [`ImapPoller::run`] waiting in IDLE on a real server (the Dovecot of
//! `scripts/start-dovecot.sh`).
//!
//! A fresh mailbox, a fresh SQLite store (WAL, `synchronous = FULL`) with a filesystem blob
//! store, and the poller with [`TenantMailbox`] as its sink. After one untimed message (the
//! poller is then connected and idling), each of `messages` person-written messages built
//! from the corpus (see [`super::email`]) is APPENDed by a client of the benchmark's own;
//! the clock starts when the server has answered the APPEND and stops when the message is
//! in the store, which is read every `check_ms` milliseconds. The next message is appended
//! `gap_ms` after that, when the poller has moved the message and is back in IDLE: a
//! message that arrives while the poller is still busy with the previous one (after its
//! `UID SEARCH`, before its next IDLE) is only seen when that IDLE times out, after
//! `poll_interval` (60 s by default); see BENCHMARKS.md.
//!
//! Without IDLE the poller sleeps `poll_interval` (60 s by default) between polls, so a
//! message waits for the next poll: a delay uniform between 0 and the interval, plus one
//! poll. That poll is measured here too (`poll_once` after an APPEND: connect, log in,
//! select, search, fetch, ingest, move, log out), with the poller stopped.

use std::sync::Arc;
use std::time::{Duration, Instant};

use async_imap::Session;
use helpdesk_core::service::email_message_id;
use helpdesk_core::store::TicketStore;
use helpdesk_core::{MessageId, TenantId};
use helpdesk_mail::imap::{ImapConfig, ImapPoller, ImapSecurity};
use helpdesk_mail::{MailIngest, TenantMailbox};
use helpdesk_store_sqlite::{Durability, SqliteStore};
use serde::Serialize;
use tokio::net::TcpStream;

use super::email::{EmailOptions, helpdesk_on, person_messages, register_tenant};
use super::{BoxError, PROFILE, Samples, ScratchDir, Step, bar, ms, open_sqlite, print_table};

/// Where the IMAP server is.
#[derive(Debug, Clone)]
pub struct ImapServer {
    /// Host (loopback: plain text is allowed only there).
    pub host: String,
    /// Port.
    pub port: u16,
    /// User.
    pub user: String,
    /// Password.
    pub password: String,
}

/// Options of an `email-imap` run.
#[derive(Debug, Clone)]
pub struct EmailImapOptions {
    /// Messages timed with the poller in IDLE.
    pub messages: usize,
    /// Polls timed without IDLE (`poll_once` after one APPEND each).
    pub polls: usize,
    /// How often the store is read while waiting for a ticket, in milliseconds.
    pub check_ms: u64,
    /// Longest wait for one message before the run fails, in seconds.
    pub timeout_s: u64,
    /// Pause after a message's ticket before the next APPEND, in milliseconds.
    pub gap_ms: u64,
    /// The generator's options (corpus, senders, replies).
    pub mail: EmailOptions,
}

/// The result of an `email-imap` run.
#[derive(Debug, Clone, Serialize)]
pub struct EmailImapReport {
    /// The build profile of the binary.
    pub profile: &'static str,
    /// Messages timed in IDLE.
    pub messages: usize,
    /// The store check interval, in milliseconds.
    pub check_ms: u64,
    /// The pause between a ticket and the next APPEND, in milliseconds.
    pub gap_ms: u64,
    /// Median time from the APPEND's answer to the message in the store.
    pub idle_p50_ms: f64,
    /// 95th percentile.
    pub idle_p95_ms: f64,
    /// The longest.
    pub idle_max_ms: f64,
    /// Polls timed without IDLE.
    pub polls: usize,
    /// Median time of one `poll_once` taking one message.
    pub poll_p50_ms: f64,
    /// 95th percentile.
    pub poll_p95_ms: f64,
    /// The poller's default interval between polls without IDLE, in seconds.
    pub default_poll_interval_s: u64,
}

impl EmailImapReport {
    /// Prints the report as a table.
    pub fn print(&self) {
        print_table(
            &format!(
                "email-imap (Dovecot, IDLE, store read every {} ms, {} ms between messages, {} build)",
                self.check_ms, self.gap_ms, self.profile
            ),
            &[
                (
                    "arrival to ticket (IDLE)",
                    format!(
                        "p50 {}, p95 {}, max {}  ({} messages)",
                        ms(self.idle_p50_ms),
                        ms(self.idle_p95_ms),
                        ms(self.idle_max_ms),
                        self.messages
                    ),
                ),
                (
                    "one poll (no IDLE)",
                    format!(
                        "p50 {}, p95 {}  ({} polls of one message)",
                        ms(self.poll_p50_ms),
                        ms(self.poll_p95_ms),
                        self.polls
                    ),
                ),
                (
                    "without IDLE",
                    format!(
                        "arrival to ticket = wait for the next poll (0 to {} s by default) + one poll",
                        self.default_poll_interval_s
                    ),
                ),
            ],
        );
    }
}

/// A plain client of the benchmark's own, for CREATE and APPEND.
async fn client(server: &ImapServer) -> Result<Session<TcpStream>, BoxError> {
    let tcp = TcpStream::connect((server.host.as_str(), server.port))
        .await
        .step(format!(
            "connecting to IMAP {}:{}",
            server.host, server.port
        ))?;
    let mut client = async_imap::Client::new(tcp);
    client
        .read_response()
        .await
        .step("reading the IMAP greeting")?
        .ok_or("the IMAP server closed the connection before its greeting")?;
    client
        .login(&server.user, &server.password)
        .await
        .map_err(|(e, _)| e)
        .step(format!("logging in to IMAP as {}", server.user))
}

/// Reads the store every `check` until the message with `id` is in it.
async fn wait_for(
    store: &SqliteStore,
    tenant: TenantId,
    id: MessageId,
    check: Duration,
    timeout: Duration,
) -> Result<(), BoxError> {
    let deadline = Instant::now() + timeout;
    loop {
        if store
            .get_message(tenant, id)
            .await
            .step("reading the store")?
            .is_some()
        {
            return Ok(());
        }
        if Instant::now() >= deadline {
            return Err(format!("message {id} not in the store after {timeout:?}").into());
        }
        tokio::time::sleep(check).await;
    }
}

/// `email-imap` against `server`; scratch files under `dir` (the system temp folder by default).
pub async fn run(
    options: &EmailImapOptions,
    server: &ImapServer,
    dir: Option<&std::path::Path>,
) -> Result<EmailImapReport, BoxError> {
    // One untimed message first, then the timed ones, then one per poll.
    let messages = person_messages(&options.mail, 1 + options.messages + options.polls)?;
    let scratch = ScratchDir::new(dir, "email-imap")?;
    let sqlite = open_sqlite(&scratch.path().join("helpdesk.db"), Durability::PowerLoss).await?;
    let helpdesk = helpdesk_on(Arc::new(sqlite.clone()), scratch.path())?;
    let tenant = register_tenant(&helpdesk).await?.id;
    let inbox = format!("bench-{}", uuid::Uuid::now_v7().simple());
    let config = ImapConfig::new(&server.host, &server.user, &server.password)
        .with_security(ImapSecurity::Plain)
        .with_port(server.port)
        .with_mailbox(&inbox)
        .with_processed_mailbox(format!("{inbox}-done"))
        .with_io_timeout(Duration::from_secs(20));
    let default_poll_interval_s = config.poll_interval.as_secs();
    let sink = Arc::new(TenantMailbox::new(MailIngest::new(helpdesk), tenant));
    let poller = Arc::new(ImapPoller::new(config, sink).step("configuring the IMAP poller")?);
    let mut session = client(server).await?;
    session
        .create(&inbox)
        .await
        .step(format!("creating the mailbox {inbox}"))?;

    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let running = {
        let poller = Arc::clone(&poller);
        tokio::spawn(async move {
            poller
                .run(async {
                    let _ = stopped.await;
                })
                .await
        })
    };
    let check = Duration::from_millis(options.check_ms.max(1));
    let timeout = Duration::from_secs(options.timeout_s.max(1));
    let mut idle = Samples::with_capacity(options.messages);
    let progress = bar((1 + options.messages + options.polls) as u64, "email-imap");
    let mut result: Result<(), BoxError> = Ok(());
    for (i, (message_id, raw)) in messages.iter().enumerate().take(1 + options.messages) {
        let id = email_message_id(tenant, message_id);
        let step = async {
            if i > 0 {
                tokio::time::sleep(Duration::from_millis(options.gap_ms)).await;
            }
            session
                .append(&inbox, None, None, raw)
                .await
                .step(format!("APPEND of message #{i}"))?;
            let appended = Instant::now();
            wait_for(&sqlite, tenant, id, check, timeout).await?;
            Ok::<_, BoxError>(appended.elapsed())
        };
        match step.await {
            Ok(delay) => {
                if i > 0 {
                    idle.push(delay);
                }
            }
            Err(e) => {
                result = Err(e);
                break;
            }
        }
        progress.inc(1);
    }
    let _ = stop.send(());
    let ended = running.await.step("the IMAP poller's task")?;
    result?;
    ended.step("the IMAP poller")?;

    let mut polls = Samples::with_capacity(options.polls);
    for (i, (message_id, raw)) in messages.iter().enumerate().skip(1 + options.messages) {
        session
            .append(&inbox, None, None, raw)
            .await
            .step(format!("APPEND of message #{i}"))?;
        let t = Instant::now();
        let report = poller.poll_once().await.step("polling once")?;
        polls.push(t.elapsed());
        if report.accepted != 1 {
            return Err(format!("a poll took {report:?}, not the one message").into());
        }
        wait_for(
            &sqlite,
            tenant,
            email_message_id(tenant, message_id),
            check,
            timeout,
        )
        .await?;
        progress.inc(1);
    }
    progress.finish_and_clear();
    for mailbox in [inbox.clone(), format!("{inbox}-done")] {
        if let Err(e) = session.delete(&mailbox).await {
            eprintln!("helpdesk-bench: could not delete the IMAP mailbox {mailbox}: {e}");
        }
    }
    let _ = session.logout().await;
    sqlite.close().await;
    Ok(EmailImapReport {
        profile: PROFILE,
        messages: idle.len(),
        check_ms: options.check_ms.max(1),
        gap_ms: options.gap_ms,
        idle_p50_ms: idle.median(),
        idle_p95_ms: idle.percentile(0.95),
        idle_max_ms: idle.percentile(1.0),
        polls: polls.len(),
        poll_p50_ms: polls.median(),
        poll_p95_ms: polls.percentile(0.95),
        default_poll_interval_s,
    })
}
