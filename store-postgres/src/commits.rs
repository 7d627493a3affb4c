//! Commits between instances: every ticket write that appends events notifies the store's
//! channel with its tenant (`pg_notify`, in the write's own statement and transaction, so
//! the notification is delivered exactly when the write commits and never for a rolled-back
//! one), and [`relay`] listens on that channel and wakes the helpdesk's readers of the
//! event feed. Several app instances on one database thus see each other's events at once
//! instead of at their next poll.
//!
//! A notification carries only the tenant id: readers read the events themselves, so a
//! notification lost while the listening connection was down costs a poll interval, never
//! an event (the relay then wakes every reader, see [`Commit::Unknown`]).

use std::time::Duration;

use helpdesk_core::store::{Commit, WeakCommitSignal};
use helpdesk_core::{Result, TenantId};
use sqlx::PgPool;
use sqlx::postgres::PgListener;
use uuid::Uuid;

use crate::error::db;
use crate::sql::Sql;

/// The longest channel name PostgreSQL accepts (`NAMEDATALEN - 1`).
const MAX_CHANNEL_LEN: usize = 63;
/// What the channel name adds to the schema's.
const CHANNEL_SUFFIX: &str = ".events";
/// How long the relay waits after a listening error before it tries again.
const RETRY: Duration = Duration::from_secs(1);

/// The channel of the store's commits: `<schema>.events`. A schema name too long for that
/// is cut (schema names are ASCII); two such schemas sharing their first 56 characters
/// share a channel, which costs their readers a wasted read now and then, nothing more.
pub(crate) fn channel(sql: &Sql) -> String {
    let schema = sql.schema();
    let keep = schema.len().min(MAX_CHANNEL_LEN - CHANNEL_SUFFIX.len());
    format!("{}{CHANNEL_SUFFIX}", schema.get(..keep).unwrap_or(schema))
}

/// Listens on the store's channel (on a connection of `pool`, held while the relay runs)
/// and, from the moment this returns, relays every notification to `signal`. The relay
/// stops at the first notification after the helpdesk owning `signal` is gone, or when the
/// pool closes.
pub(crate) async fn relay(pool: &PgPool, sql: &Sql, signal: WeakCommitSignal) -> Result<()> {
    let mut listener = PgListener::connect_with(pool).await.map_err(db)?;
    let channel = channel(sql);
    listener.listen(&channel).await.map_err(db)?;
    tokio::spawn(run(listener, channel, signal));
    Ok(())
}

async fn run(mut listener: PgListener, channel: String, signal: WeakCommitSignal) {
    loop {
        let commit = match listener.try_recv().await {
            Ok(Some(notification)) => match Uuid::parse_str(notification.payload()) {
                Ok(tenant) => Commit::Tenant(TenantId::from_uuid(tenant)),
                Err(_) => Commit::Unknown,
            },
            Ok(None) => {
                tracing::warn!(%channel, "commit listener lost its connection; reconnecting");
                Commit::Unknown
            }
            Err(sqlx::Error::PoolClosed) => break,
            Err(error) => {
                tracing::warn!(%channel, %error, "commit listener failed; retrying");
                tokio::time::sleep(RETRY).await;
                Commit::Unknown
            }
        };
        if !signal.send(commit) {
            break;
        }
    }
    tracing::debug!(%channel, "commit relay stopped");
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn the_channel_is_named_after_the_schema_and_fits_postgres_limit() {
        assert_eq!(channel(&Sql::default()), "helpdesk.events");
        assert_eq!(
            channel(&Sql::new("support_desk").unwrap()),
            "support_desk.events"
        );
        let long = "s".repeat(63);
        let named = channel(&Sql::new(&long).unwrap());
        assert_eq!(named.len(), MAX_CHANNEL_LEN);
        assert!(named.ends_with(CHANNEL_SUFFIX));
    }
}
