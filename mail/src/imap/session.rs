//! The poller's IMAP session: what the server can do, the processed mailbox, fetching in
//! batches, moving, and waiting in IDLE.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use async_imap::types::{Capability, Uid};
use futures_util::TryStreamExt as _;

use super::config::ImapConfig;
use super::connect::{ImapSession, open_session, timed};
use super::error::ImapError;

/// A shutdown request seen by a poll in progress (between messages) and by its pause.
#[derive(Default)]
pub(super) struct Stop {
    pub(super) flag: AtomicBool,
    wake: tokio::sync::Notify,
}

impl Stop {
    pub(super) fn request(&self) {
        self.flag.store(true, Ordering::SeqCst);
        // `notify_one` keeps a permit when nobody waits yet, so the wake-up is not lost.
        self.wake.notify_one();
    }

    /// Sleeps `pause`; false when a stop was requested before or during it.
    pub(super) async fn sleep(&self, pause: Duration) -> bool {
        if self.flag.load(Ordering::SeqCst) {
            return false;
        }
        tokio::select! {
            () = tokio::time::sleep(pause) => !self.flag.load(Ordering::SeqCst),
            () = self.wake.notified() => false,
        }
    }
}

/// An open session and what the server can do.
pub(super) struct Connection {
    pub(super) session: ImapSession,
    has_move: bool,
    has_uidplus: bool,
    pub(super) has_idle: bool,
    processed_ready: bool,
}

impl Connection {
    pub(super) async fn open(config: &ImapConfig) -> Result<Self, ImapError> {
        let mut session = open_session(config).await?;
        let (has_move, has_uidplus, has_idle) = timed(config, "CAPABILITY", async {
            let capabilities = session
                .capabilities()
                .await
                .map_err(command_error(config, "CAPABILITY"))?;
            let has = |name: &str| {
                capabilities
                    .iter()
                    .any(|c| matches!(c, Capability::Atom(atom) if atom.eq_ignore_ascii_case(name)))
            };
            Ok((has("MOVE"), has("UIDPLUS"), has("IDLE")))
        })
        .await?;
        Ok(Self {
            session,
            has_move,
            has_uidplus,
            has_idle,
            processed_ready: false,
        })
    }

    /// Waits in IDLE (RFC 2177) until the server reports a change to the selected mailbox
    /// (new mail is then polled at once instead of after the interval), the poll interval
    /// passes (capped at 29 minutes, as the RFC asks), or a stop is requested. Returns the
    /// connection and whether to keep polling.
    pub(super) async fn idle(
        self,
        config: &ImapConfig,
        stop: &Stop,
    ) -> Result<(Self, bool), ImapError> {
        if stop.flag.load(Ordering::SeqCst) {
            return Ok((self, false));
        }
        let Self {
            session,
            has_move,
            has_uidplus,
            has_idle,
            processed_ready,
        } = self;
        let mut handle = session.idle();
        timed(config, "IDLE", async {
            handle.init().await.map_err(command_error(config, "IDLE"))
        })
        .await?;
        let wait = config.poll_interval.min(Duration::from_secs(29 * 60));
        {
            let (changed, interrupt) = handle.wait_with_timeout(wait);
            tokio::pin!(changed);
            let outcome = tokio::select! {
                outcome = &mut changed => outcome,
                () = stop.wake.notified() => {
                    // Ends the wait cleanly (the stream stops), so DONE can follow.
                    drop(interrupt);
                    changed.await
                }
            };
            outcome.map_err(command_error(config, "IDLE"))?;
        }
        let session = timed(config, "DONE", async {
            handle.done().await.map_err(command_error(config, "IDLE"))
        })
        .await?;
        let connection = Self {
            session,
            has_move,
            has_uidplus,
            has_idle,
            processed_ready,
        };
        Ok((connection, !stop.flag.load(Ordering::SeqCst)))
    }

    /// Creates the processed mailbox when it does not exist (once per connection).
    pub(super) async fn ensure_processed_mailbox(
        &mut self,
        config: &ImapConfig,
    ) -> Result<(), ImapError> {
        if self.processed_ready {
            return Ok(());
        }
        let session = &mut self.session;
        let name = &config.processed_mailbox;
        let processed_error = |source| ImapError::Command {
            host: config.host.clone(),
            mailbox: name.clone(),
            operation: "CREATE",
            source,
        };
        timed(config, "LIST", async {
            if mailbox_exists(session, name)
                .await
                .map_err(processed_error)?
            {
                return Ok(());
            }
            if let Err(error) = session.create(name).await {
                // Another poller may have created it meanwhile: fine if it exists now.
                if !mailbox_exists(session, name)
                    .await
                    .map_err(processed_error)?
                {
                    return Err(processed_error(error));
                }
            }
            Ok(())
        })
        .await?;
        self.processed_ready = true;
        Ok(())
    }

    /// Moves the accepted messages out of the mailbox, by MOVE or COPY + EXPUNGE.
    pub(super) async fn move_to_processed(
        &mut self,
        config: &ImapConfig,
        uids: &[Uid],
    ) -> Result<(), ImapError> {
        let set = uid_set(uids);
        let target = &config.processed_mailbox;
        let session = &mut self.session;
        if self.has_move {
            return timed(config, "UID MOVE", async {
                session
                    .uid_mv(&set, target)
                    .await
                    .map_err(command_error(config, "UID MOVE"))
            })
            .await;
        }
        let has_uidplus = self.has_uidplus;
        timed(config, "UID COPY", async {
            session
                .uid_copy(&set, target)
                .await
                .map_err(command_error(config, "UID COPY"))?;
            // Flagged \Deleted right after the copy: later searches skip them even when
            // the expunge below cannot happen.
            session
                .uid_store(&set, "+FLAGS.SILENT (\\Deleted)")
                .await
                .map_err(command_error(config, "UID STORE"))?
                .try_collect::<Vec<_>>()
                .await
                .map_err(command_error(config, "UID STORE"))?;
            if has_uidplus {
                session
                    .uid_expunge(&set)
                    .await
                    .map_err(command_error(config, "UID EXPUNGE"))?
                    .try_collect::<Vec<_>>()
                    .await
                    .map_err(command_error(config, "UID EXPUNGE"))?;
            }
            Ok(())
        })
        .await
    }

    pub(super) async fn logout(mut self, config: &ImapConfig) {
        // Best effort: the server drops the session on its own when the socket closes.
        let _ = timed(config, "LOGOUT", async {
            self.session
                .logout()
                .await
                .map_err(command_error(config, "LOGOUT"))
        })
        .await;
    }
}

async fn mailbox_exists(
    session: &mut ImapSession,
    name: &str,
) -> Result<bool, async_imap::error::Error> {
    // The name was checked (no quotes, backslashes or wildcards), so quoting it is enough.
    let pattern = format!("\"{name}\"");
    let names: Vec<_> = session
        .list(Some(""), Some(&pattern))
        .await?
        .try_collect()
        .await?;
    Ok(names.iter().any(|n| n.name() == name))
}

/// Each message's size, so batches keep to the byte budget.
pub(super) async fn fetch_sizes(
    config: &ImapConfig,
    session: &mut ImapSession,
    uids: &[Uid],
) -> Result<HashMap<Uid, u64>, ImapError> {
    let set = uid_set(uids);
    timed(config, "UID FETCH", async {
        let fetches: Vec<_> = session
            .uid_fetch(&set, "(UID RFC822.SIZE)")
            .await
            .map_err(command_error(config, "UID FETCH"))?
            .try_collect()
            .await
            .map_err(command_error(config, "UID FETCH"))?;
        Ok(fetches
            .iter()
            .filter_map(|f| Some((f.uid?, u64::from(f.size?))))
            .collect())
    })
    .await
}

/// One batch's raw bytes by UID, in UID order. A message expunged by another client
/// meanwhile is simply absent.
pub(super) async fn fetch_bodies(
    config: &ImapConfig,
    session: &mut ImapSession,
    batch: &[Uid],
) -> Result<Vec<(Uid, Vec<u8>)>, ImapError> {
    let set = uid_set(batch);
    let mut messages: Vec<(Uid, Vec<u8>)> = timed(config, "UID FETCH", async {
        let fetches: Vec<_> = session
            .uid_fetch(&set, "(UID BODY.PEEK[])")
            .await
            .map_err(command_error(config, "UID FETCH"))?
            .try_collect()
            .await
            .map_err(command_error(config, "UID FETCH"))?;
        Ok(fetches
            .iter()
            .filter_map(|f| {
                let uid = f.uid?;
                // Unsolicited FETCH responses (flag changes) carry no body: skipped.
                let body = f.body()?;
                batch.binary_search(&uid).ok()?;
                Some((uid, body.to_vec()))
            })
            .collect())
    })
    .await?;
    messages.sort_unstable_by_key(|(uid, _)| *uid);
    messages.dedup_by_key(|(uid, _)| *uid);
    Ok(messages)
}

/// Splits the (sorted) UIDs into batches within the count and byte budgets, and sets aside
/// the messages over the size limit.
pub(super) fn plan_batches(
    config: &ImapConfig,
    uids: &[Uid],
    sizes: &HashMap<Uid, u64>,
) -> (Vec<Vec<Uid>>, Vec<Uid>) {
    let mut batches = Vec::new();
    let mut oversized = Vec::new();
    let mut batch = Vec::new();
    let mut batch_bytes = 0u64;
    for &uid in uids {
        // A message the size fetch did not report (expunged meanwhile) costs nothing.
        let size = sizes.get(&uid).copied().unwrap_or(0);
        if size > config.max_message_bytes {
            oversized.push(uid);
            continue;
        }
        if !batch.is_empty()
            && (batch.len() >= config.batch_size || batch_bytes + size > config.batch_bytes)
        {
            batches.push(std::mem::take(&mut batch));
            batch_bytes = 0;
        }
        batch.push(uid);
        batch_bytes += size;
    }
    if !batch.is_empty() {
        batches.push(batch);
    }
    (batches, oversized)
}

/// A UID set in IMAP's compact form (`1:3,7,9:10`) of sorted UIDs.
fn uid_set(uids: &[Uid]) -> String {
    let mut out = String::new();
    let mut i = 0;
    while i < uids.len() {
        let start = uids[i];
        let mut end = start;
        while i + 1 < uids.len() && uids[i + 1] == end.wrapping_add(1) {
            i += 1;
            end = uids[i];
        }
        if !out.is_empty() {
            out.push(',');
        }
        if start == end {
            out.push_str(&start.to_string());
        } else {
            out.push_str(&format!("{start}:{end}"));
        }
        i += 1;
    }
    out
}

pub(super) fn command_error<'a>(
    config: &'a ImapConfig,
    operation: &'static str,
) -> impl Fn(async_imap::error::Error) -> ImapError + 'a {
    move |source| ImapError::Command {
        host: config.host.clone(),
        mailbox: config.mailbox.clone(),
        operation,
        source,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    #[test]
    fn uid_sets_are_compact() {
        assert_eq!(uid_set(&[1]), "1");
        assert_eq!(uid_set(&[1, 2, 3, 7, 9, 10]), "1:3,7,9:10");
        assert_eq!(uid_set(&[4, 6]), "4,6");
    }

    #[test]
    fn batches_keep_count_and_byte_budgets() {
        let config = ImapConfig::new("h", "u", "p")
            .with_batch_size(2)
            .with_batch_bytes(100)
            .with_max_message_bytes(150);
        let sizes = HashMap::from([(1, 10), (2, 10), (3, 10), (4, 95), (5, 120), (6, 200)]);
        let (batches, oversized) = plan_batches(&config, &[1, 2, 3, 4, 5, 6], &sizes);
        assert_eq!(batches, vec![vec![1, 2], vec![3], vec![4], vec![5]]);
        assert_eq!(oversized, vec![6]);
    }
}
