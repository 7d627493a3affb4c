//! [`ImapPoller`]: fetch new mail by UID, hand it to a [`MailSink`], move what was accepted.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use async_imap::types::Uid;
use async_trait::async_trait;

use super::config::ImapConfig;
use super::connect::timed;
use super::error::{ImapError, SinkError};
use super::session::{Connection, Stop, command_error, fetch_bodies, fetch_sizes, plan_batches};
use crate::error::ErrorChain;

/// Where the poller delivers each message: usually the mail crate's ingest into the engine.
#[async_trait]
pub trait MailSink: Send + Sync {
    /// Takes one message's raw RFC 5322 bytes, exactly as the server stores them.
    /// `source` says where it came from (`imap:<mailbox>`), for the quarantine list.
    ///
    /// Ok: the message is in the engine (or kept in its quarantine): the poller moves it.
    /// Err(temporary): the poller leaves it in the mailbox for the next poll.
    async fn accept(&self, raw: Vec<u8>, source: &str) -> Result<(), SinkError>;
}

#[async_trait]
impl<S: MailSink + ?Sized> MailSink for Arc<S> {
    async fn accept(&self, raw: Vec<u8>, source: &str) -> Result<(), SinkError> {
        (**self).accept(raw, source).await
    }
}

/// What one poll did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct PollReport {
    /// Messages fetched from the mailbox.
    pub fetched: usize,
    /// Messages the sink accepted (and that were then moved).
    pub accepted: usize,
    /// Messages left in the mailbox: the sink failed temporarily, or the message is over
    /// [`ImapConfig::max_message_bytes`].
    pub left: usize,
    /// Bytes fetched.
    pub bytes: u64,
}

/// Reads a mailbox over IMAP and hands every message to a [`MailSink`].
///
/// Each poll selects the mailbox, finds the messages not flagged `\Deleted` (`UID SEARCH`),
/// fetches them in batches by UID with `BODY.PEEK[]` (so nothing is marked seen before it is
/// accepted), gives each one's bytes to the sink, and moves the accepted ones to the
/// processed mailbox with `UID MOVE` (RFC 6851), or where the server lacks MOVE with
/// `UID COPY`, `\Deleted` and `UID EXPUNGE` (RFC 4315; without UIDPLUS the copies stay flagged
/// `\Deleted`, which later polls skip, until someone expunges the mailbox).
///
/// **At least once, never lost.** A message leaves the mailbox only after the sink said Ok.
/// A crash (or a lost connection) between the sink's Ok and the move delivers the same bytes
/// again on the next poll; the engine is idempotent on the Message-ID (a second delivery is
/// a duplicate that writes nothing), so that is safe by design and no local state is kept.
///
/// ```no_run
/// use std::sync::Arc;
/// use helpdesk_mail::imap::{ImapConfig, ImapPoller, MailSink, SinkError};
///
/// struct Print;
/// #[async_trait::async_trait]
/// impl MailSink for Print {
///     async fn accept(&self, raw: Vec<u8>, source: &str) -> Result<(), SinkError> {
///         println!("{} bytes from {source}", raw.len());
///         Ok(())
///     }
/// }
///
/// # async fn run(shutdown: impl std::future::Future<Output = ()> + Send)
/// #     -> Result<(), helpdesk_mail::imap::ImapError> {
/// let config = ImapConfig::new("imap.example.com", "support@example.com", "secret");
/// let poller = ImapPoller::new(config, Arc::new(Print))?;
/// // `shutdown`: the host's signal, e.g. `async { tokio::signal::ctrl_c().await.ok(); }`.
/// poller.run(shutdown).await
/// # }
/// ```
pub struct ImapPoller {
    config: ImapConfig,
    sink: Arc<dyn MailSink>,
}

impl std::fmt::Debug for ImapPoller {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ImapPoller")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

/// The longest pause between reconnection attempts.
const MAX_BACKOFF: Duration = Duration::from_secs(300);

impl ImapPoller {
    /// A poller of `config`'s mailbox into `sink`. Fails when a field of `config` is
    /// unusable (naming it) or plain text to a non-loopback host was asked for.
    pub fn new(config: ImapConfig, sink: Arc<dyn MailSink>) -> Result<Self, ImapError> {
        config.validate()?;
        Ok(Self { config, sink })
    }

    /// The configuration.
    pub fn config(&self) -> &ImapConfig {
        &self.config
    }

    /// Connects, polls the mailbox once (every message in it, batch after batch), and
    /// logs out.
    pub async fn poll_once(&self) -> Result<PollReport, ImapError> {
        self.poll_with_fresh_session(true).await
    }

    /// A test seam: polls once and hands every message to the sink but moves none, as a
    /// poller that crashed right after the sink accepted would leave the mailbox.
    #[doc(hidden)]
    pub async fn poll_once_without_move(&self) -> Result<PollReport, ImapError> {
        self.poll_with_fresh_session(false).await
    }

    async fn poll_with_fresh_session(&self, move_accepted: bool) -> Result<PollReport, ImapError> {
        let mut connection = Connection::open(&self.config).await?;
        let never = AtomicBool::new(false);
        let report = self.poll(&mut connection, move_accepted, &never).await;
        connection.logout(&self.config).await;
        report
    }

    /// Polls every [`ImapConfig::poll_interval`] until `shutdown` completes, keeping one
    /// connection open between polls; where the server supports IDLE (RFC 2177) it waits
    /// in IDLE instead, so new mail is fetched as soon as it arrives. A lost connection or a failing server is logged and
    /// retried after a pause that doubles up to 5 minutes (reset by a good poll), so a down
    /// server is never hammered. When `shutdown` completes during a poll, the message in
    /// hand is finished and moved, and `run` returns.
    ///
    /// Returns Err only for a configuration the poller cannot use (see
    /// [`ImapError::is_temporary`]): every other error is retried.
    pub async fn run(&self, shutdown: impl Future<Output = ()> + Send) -> Result<(), ImapError> {
        self.config.validate()?;
        let stop = Stop::default();
        tokio::pin!(shutdown);
        let mut failures: u32 = 0;
        loop {
            let error = {
                let connection = self.serve_connection(&stop, &mut failures);
                tokio::pin!(connection);
                tokio::select! {
                    ended = &mut connection => match ended {
                        Ok(()) => return Ok(()),
                        Err(error) => error,
                    },
                    () = &mut shutdown => {
                        // Let the poll in progress finish the message in hand and move it.
                        stop.request();
                        let _ = connection.await;
                        return Ok(());
                    }
                }
            };
            if !error.is_temporary() {
                return Err(error);
            }
            failures = failures.saturating_add(1);
            let pause = backoff(failures);
            tracing::warn!(
                host = %self.config.host,
                mailbox = %self.config.mailbox,
                error = %ErrorChain(&error),
                retry_in_secs = pause.as_secs(),
                "IMAP poll failed; reconnecting after a pause"
            );
            tokio::select! {
                () = tokio::time::sleep(pause) => {}
                () = &mut shutdown => return Ok(()),
            }
        }
    }

    /// One connection's life: polls until an error ends it (Err) or `stop` is requested (Ok).
    async fn serve_connection(&self, stop: &Stop, failures: &mut u32) -> Result<(), ImapError> {
        let mut connection = Connection::open(&self.config).await?;
        tracing::info!(
            host = %self.config.host,
            mailbox = %self.config.mailbox,
            "IMAP poller connected"
        );
        loop {
            let report = self.poll(&mut connection, true, &stop.flag).await?;
            *failures = 0;
            if report.fetched > 0 || report.left > 0 {
                tracing::info!(
                    mailbox = %self.config.mailbox,
                    fetched = report.fetched,
                    accepted = report.accepted,
                    left = report.left,
                    bytes = report.bytes,
                    "IMAP poll"
                );
            }
            // Mail that arrived while this poll was busy announced itself before IDLE
            // began, so IDLE would not report it until its timeout (up to the poll
            // interval): after a poll that took something, look again at once. A poll
            // whose messages all failed waits as usual, so a failing sink is not hammered.
            if report.accepted > 0 && !stop.flag.load(Ordering::SeqCst) {
                continue;
            }
            let keep_going = if connection.has_idle {
                let (idled, keep_going) = connection.idle(&self.config, stop).await?;
                connection = idled;
                keep_going
            } else {
                stop.sleep(self.config.poll_interval).await
            };
            if !keep_going {
                connection.logout(&self.config).await;
                return Ok(());
            }
        }
    }

    /// One poll over an open connection.
    async fn poll(
        &self,
        connection: &mut Connection,
        move_accepted: bool,
        stop: &AtomicBool,
    ) -> Result<PollReport, ImapError> {
        let config = &self.config;
        let mut report = PollReport::default();
        connection.ensure_processed_mailbox(config).await?;
        let session = &mut connection.session;
        timed(config, "SELECT", async {
            session
                .select(&config.mailbox)
                .await
                .map_err(command_error(config, "SELECT"))
        })
        .await?;
        let mut uids: Vec<Uid> = timed(config, "UID SEARCH", async {
            session
                .uid_search("NOT DELETED")
                .await
                .map_err(command_error(config, "UID SEARCH"))
        })
        .await?
        .into_iter()
        .collect();
        if uids.is_empty() {
            return Ok(report);
        }
        uids.sort_unstable();
        let sizes = fetch_sizes(config, session, &uids).await?;
        let (batches, oversized) = plan_batches(config, &uids, &sizes);
        for uid in oversized {
            report.left += 1;
            tracing::warn!(
                mailbox = %config.mailbox,
                uid,
                size = sizes.get(&uid).copied().unwrap_or(0),
                limit = config.max_message_bytes,
                "IMAP message over max_message_bytes left in the mailbox"
            );
        }
        let source = config.source();
        for batch in batches {
            if stop.load(Ordering::SeqCst) {
                break;
            }
            let messages = fetch_bodies(config, &mut connection.session, &batch).await?;
            let mut accepted = Vec::with_capacity(messages.len());
            for (uid, raw) in messages {
                if stop.load(Ordering::SeqCst) {
                    break;
                }
                report.fetched += 1;
                report.bytes += raw.len() as u64;
                match self.sink.accept(raw, &source).await {
                    Ok(()) => accepted.push(uid),
                    Err(error) => {
                        report.left += 1;
                        tracing::warn!(
                            mailbox = %config.mailbox,
                            uid,
                            error = %ErrorChain(&error),
                            "IMAP message not accepted now; it stays for the next poll"
                        );
                    }
                }
            }
            report.accepted += accepted.len();
            if move_accepted && !accepted.is_empty() {
                connection.move_to_processed(config, &accepted).await?;
            }
        }
        Ok(report)
    }
}

/// 1 s, 2 s, 4 s, ... up to [`MAX_BACKOFF`].
fn backoff(failures: u32) -> Duration {
    let secs = 1u64 << failures.saturating_sub(1).min(16);
    Duration::from_secs(secs).min(MAX_BACKOFF)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    #[test]
    fn backoff_doubles_and_is_capped() {
        assert_eq!(backoff(1), Duration::from_secs(1));
        assert_eq!(backoff(2), Duration::from_secs(2));
        assert_eq!(backoff(5), Duration::from_secs(16));
        assert_eq!(backoff(40), MAX_BACKOFF);
    }
}
