//! The embedded, forward-only migrations and their own migrations table.
//!
//! The applied versions are recorded in `<prefix>schema_migrations`, not in sqlx's
//! `_sqlx_migrations`: the host's own sqlx migrations keep that table to themselves, and
//! two helpdesks with different prefixes can share one file. All pending migrations (and
//! the move of a database of the previous layout, see `legacy`) run in one `BEGIN
//! IMMEDIATE` transaction: a failure or a crash leaves the database as it was, and two
//! processes opening the file at once apply them once.

use std::path::Path;

use helpdesk_core::Result;
use jiff::Timestamp;
use sqlx::{SqliteConnection, SqlitePool};

use crate::codec::ms;
use crate::error::{SchemaError, SqliteError};
use crate::legacy;
use crate::sql::Sql;

/// One migration: its version, a description and its SQL (written with the default
/// prefix, see [`Sql`]).
pub(crate) struct Migration {
    pub(crate) version: i64,
    pub(crate) description: &'static str,
    pub(crate) sql: &'static str,
}

impl Migration {
    /// FNV-1a (64 bits) of the SQL as written, prefix-independent: tells a recorded
    /// migration from a different one under the same version. Not a defence against
    /// tampering, only a check that the schema is the one this build expects.
    pub(crate) fn checksum(&self) -> String {
        let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
        for byte in self.sql.bytes() {
            hash ^= u64::from(byte);
            hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
        }
        format!("{hash:016x}")
    }
}

/// The migrations of `migrations/`, in order.
pub(crate) static MIGRATIONS: [Migration; 20] = [
    Migration {
        version: 1,
        description: "schema",
        sql: include_str!("../migrations/0001_schema.sql"),
    },
    Migration {
        version: 2,
        description: "indexes and fts",
        sql: include_str!("../migrations/0002_indexes_and_fts.sql"),
    },
    Migration {
        version: 3,
        description: "routing indexes",
        sql: include_str!("../migrations/0003_routing_indexes.sql"),
    },
    Migration {
        version: 4,
        description: "audit events",
        sql: include_str!("../migrations/0004_audit_events.sql"),
    },
    Migration {
        version: 5,
        description: "api keys and event feed",
        sql: include_str!("../migrations/0005_api_keys_and_event_feed.sql"),
    },
    Migration {
        version: 6,
        description: "webhooks",
        sql: include_str!("../migrations/0006_webhooks.sql"),
    },
    Migration {
        version: 7,
        description: "attachments",
        sql: include_str!("../migrations/0007_attachments.sql"),
    },
    Migration {
        version: 8,
        description: "email",
        sql: include_str!("../migrations/0008_email.sql"),
    },
    Migration {
        version: 9,
        description: "canned responses",
        sql: include_str!("../migrations/0009_canned_responses.sql"),
    },
    Migration {
        version: 10,
        description: "saved views",
        sql: include_str!("../migrations/0010_saved_views.sql"),
    },
    Migration {
        version: 11,
        description: "full text search",
        sql: include_str!("../migrations/0011_full_text_search.sql"),
    },
    Migration {
        version: 12,
        description: "custom fields",
        sql: include_str!("../migrations/0012_custom_fields.sql"),
    },
    Migration {
        version: 13,
        description: "teams",
        sql: include_str!("../migrations/0013_teams.sql"),
    },
    Migration {
        version: 14,
        description: "saved views published to a team",
        sql: include_str!("../migrations/0014_view_teams.sql"),
    },
    Migration {
        version: 15,
        description: "erasure of personal data",
        sql: include_str!("../migrations/0015_erasure.sql"),
    },
    Migration {
        version: 16,
        description: "language-model usage",
        sql: include_str!("../migrations/0016_model_usage.sql"),
    },
    Migration {
        version: 17,
        description: "routing stamps",
        sql: include_str!("../migrations/0017_routing_stamps.sql"),
    },
    Migration {
        version: 18,
        description: "knowledge-base chunks and change feed",
        sql: include_str!("../migrations/0018_kb_chunks.sql"),
    },
    Migration {
        version: 19,
        description: "learned-triage models",
        sql: include_str!("../migrations/0019_triage_models.sql"),
    },
    Migration {
        version: 20,
        description: "retiring learned-triage models",
        sql: include_str!("../migrations/0020_triage_model_retirement.sql"),
    },
];

/// The newest version this build knows.
pub(crate) fn newest_version() -> i64 {
    MIGRATIONS.iter().map(|m| m.version).max().unwrap_or(0)
}

/// The name of the migrations table, without prefix.
const TABLE: &str = "schema_migrations";

/// The migrations table (default prefix).
const CREATE_TABLE: &str = "CREATE TABLE IF NOT EXISTS helpdesk_schema_migrations (\
     version INTEGER PRIMARY KEY NOT NULL, \
     description TEXT NOT NULL, \
     checksum TEXT NOT NULL, \
     applied_at INTEGER NOT NULL) STRICT";

/// What the database records: the applied versions with their checksums, oldest first
/// (empty when the migrations table does not exist).
async fn applied(conn: &mut SqliteConnection, sql: &Sql) -> sqlx::Result<Vec<(i64, String)>> {
    let table = sql.table(TABLE);
    if !table_exists(conn, &table).await? {
        return Ok(Vec::new());
    }
    sqlx::query_as(
        sql.text("SELECT version, checksum FROM helpdesk_schema_migrations ORDER BY version"),
    )
    .fetch_all(&mut *conn)
    .await
}

/// Whether a table (or view) of this name exists in the main database.
pub(crate) async fn table_exists(conn: &mut SqliteConnection, name: &str) -> sqlx::Result<bool> {
    sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type IN ('table', 'view') AND name = ?)",
    )
    .bind(name)
    .fetch_one(&mut *conn)
    .await
}

/// Refuses a database migrated by a newer build or with a migration this build does not
/// have under its version; `Ok(true)` when every migration is already applied.
fn check(path: &Path, sql: &Sql, applied: &[(i64, String)]) -> Result<bool> {
    let known = newest_version();
    if let Some(found) = applied.iter().map(|(v, _)| *v).max()
        && found > known
    {
        return Err(SchemaError::Newer {
            path: path.to_path_buf(),
            table: sql.table(TABLE),
            found,
            known,
        }
        .into());
    }
    for (version, found) in applied {
        if let Some(m) = MIGRATIONS.iter().find(|m| m.version == *version) {
            let expected = m.checksum();
            if *found != expected {
                return Err(SchemaError::Changed {
                    path: path.to_path_buf(),
                    version: *version,
                    found: found.clone(),
                    expected,
                }
                .into());
            }
        }
    }
    Ok(MIGRATIONS
        .iter()
        .all(|m| applied.iter().any(|(v, _)| *v == m.version)))
}

/// Applies the pending migrations, first moving a database of the previous layout
/// (unprefixed tables, `_sqlx_migrations`) to the prefixed tables.
pub(crate) async fn run(pool: &SqlitePool, sql: &Sql, path: &Path) -> Result<()> {
    let failed = |step: &str| {
        let step = step.to_owned();
        move |source| SqliteError::Migrate {
            path: path.to_path_buf(),
            step,
            source,
        }
    };
    // A read first: an up-to-date database (every open but the first) takes no write lock.
    {
        let mut conn = pool.acquire().await.map_err(failed("connecting"))?;
        let recorded = applied(&mut conn, sql)
            .await
            .map_err(failed("reading the migrations table"))?;
        if check(path, sql, &recorded)? {
            return Ok(());
        }
    }
    let mut tx = pool
        .begin_with("BEGIN IMMEDIATE")
        .await
        .map_err(failed("starting the migration transaction"))?;
    // Dropped without a commit on an error, which rolls everything back.
    run_in_tx(&mut tx, sql, path).await?;
    tx.commit()
        .await
        .map_err(failed("committing the migrations"))?;
    Ok(())
}

async fn run_in_tx(conn: &mut SqliteConnection, sql: &Sql, path: &Path) -> Result<()> {
    let failed = |step: String| {
        move |source| SqliteError::Migrate {
            path: path.to_path_buf(),
            step,
            source,
        }
    };
    // Again under the write lock: another process may have migrated meanwhile.
    let recorded = applied(conn, sql)
        .await
        .map_err(failed("reading the migrations table".into()))?;
    check(path, sql, &recorded)?;
    let previous = if recorded.is_empty() {
        legacy::detect(conn, path).await?
    } else {
        None
    };
    sqlx::query(sql.text(CREATE_TABLE))
        .execute(&mut *conn)
        .await
        .map_err(failed("creating the migrations table".into()))?;
    let now = ms(Timestamp::now());
    for m in &MIGRATIONS {
        if recorded.iter().any(|(v, _)| *v == m.version) {
            continue;
        }
        let step = || format!("migration {} ({})", m.version, m.description);
        sqlx::raw_sql(&sql.rewrite(m.sql))
            .execute(&mut *conn)
            .await
            .map_err(failed(step()))?;
        sqlx::query(sql.text(
            "INSERT INTO helpdesk_schema_migrations (version, description, checksum, applied_at) \
             VALUES (?, ?, ?, ?)",
        ))
        .bind(m.version)
        .bind(m.description)
        .bind(m.checksum())
        .bind(now)
        .execute(&mut *conn)
        .await
        .map_err(failed(step()))?;
    }
    if let Some(previous) = previous {
        legacy::import(conn, sql, path, &previous).await?;
    }
    Ok(())
}
