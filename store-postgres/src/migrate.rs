//! The embedded, forward-only migrations and their own migrations table.
//!
//! The applied versions are recorded in `<schema>.schema_migrations`, not in sqlx's
//! `_sqlx_migrations`: the host's own sqlx migrations keep that table (in its schema) to
//! themselves, and two helpdesks in different schemas can share one database. All pending
//! migrations run in one transaction that first takes a transaction-level advisory lock:
//! a failure leaves the database as it was (PostgreSQL's DDL is transactional), and two
//! instances starting together apply them once (the second waits for the lock, then finds
//! them applied).

use helpdesk_core::Result;
use jiff::Timestamp;
use sqlx::{PgConnection, PgPool, Postgres, Transaction};

use crate::codec::ms;
use crate::error::{PostgresError, SchemaError};
use crate::sql::Sql;

/// One migration: its version, a description and its SQL (written with the default
/// schema, see [`Sql`]).
pub(crate) struct Migration {
    pub(crate) version: i64,
    pub(crate) description: &'static str,
    pub(crate) sql: &'static str,
}

impl Migration {
    /// FNV-1a (64 bits) of the SQL as written, schema-independent: tells a recorded
    /// migration from a different one under the same version. Not a defence against
    /// tampering, only a check that the schema is the one this build expects.
    pub(crate) fn checksum(&self) -> String {
        format!("{:016x}", fnv1a(self.sql))
    }
}

fn fnv1a(text: &str) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in text.bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    hash
}

/// The migrations of `migrations/`, in order.
pub(crate) static MIGRATIONS: [Migration; 17] = [
    Migration {
        version: 1,
        description: "schema",
        sql: include_str!("../migrations/0001_schema.sql"),
    },
    Migration {
        version: 2,
        description: "indexes",
        sql: include_str!("../migrations/0002_indexes.sql"),
    },
    Migration {
        version: 3,
        description: "api keys, webhooks, event feed",
        sql: include_str!("../migrations/0003_api_keys_webhooks_feed.sql"),
    },
    Migration {
        version: 4,
        description: "attachments",
        sql: include_str!("../migrations/0004_attachments.sql"),
    },
    Migration {
        version: 5,
        description: "email",
        sql: include_str!("../migrations/0005_email.sql"),
    },
    Migration {
        version: 6,
        description: "canned responses",
        sql: include_str!("../migrations/0006_canned_responses.sql"),
    },
    Migration {
        version: 7,
        description: "saved views",
        sql: include_str!("../migrations/0007_saved_views.sql"),
    },
    Migration {
        version: 8,
        description: "full-text search",
        sql: include_str!("../migrations/0008_search.sql"),
    },
    Migration {
        version: 9,
        description: "custom fields",
        sql: include_str!("../migrations/0009_custom_fields.sql"),
    },
    Migration {
        version: 10,
        description: "teams",
        sql: include_str!("../migrations/0010_teams.sql"),
    },
    Migration {
        version: 11,
        description: "saved views published to a team",
        sql: include_str!("../migrations/0011_view_teams.sql"),
    },
    Migration {
        version: 12,
        description: "erasure of personal data",
        sql: include_str!("../migrations/0012_erasure.sql"),
    },
    Migration {
        version: 13,
        description: "language-model usage",
        sql: include_str!("../migrations/0013_model_usage.sql"),
    },
    Migration {
        version: 14,
        description: "routing stamps",
        sql: include_str!("../migrations/0014_routing_stamps.sql"),
    },
    Migration {
        version: 15,
        description: "knowledge-base chunks and change feed",
        sql: include_str!("../migrations/0015_kb_chunks.sql"),
    },
    Migration {
        version: 16,
        description: "learned-triage models",
        sql: include_str!("../migrations/0016_triage_models.sql"),
    },
    Migration {
        version: 17,
        description: "retiring learned-triage models",
        sql: include_str!("../migrations/0017_triage_model_retirement.sql"),
    },
];

/// The newest version this build knows.
pub(crate) fn newest_version() -> i64 {
    MIGRATIONS.iter().map(|m| m.version).max().unwrap_or(0)
}

/// The name of the migrations table in the store's schema.
pub(crate) const TABLE: &str = "schema_migrations";

/// The advisory lock every helpdesk migration of a database takes (one key for all schemas:
/// the trigram extension is per database, and migrations are rare, so serialising them
/// all costs nothing).
fn lock_key() -> i64 {
    i64::from_ne_bytes(fnv1a("helpdesk-store-postgres migrations").to_ne_bytes())
}

/// The migrations table (default schema).
const CREATE_TABLE: &str = "CREATE TABLE IF NOT EXISTS helpdesk.schema_migrations (\
     version bigint PRIMARY KEY, \
     description text NOT NULL, \
     checksum text NOT NULL, \
     applied_at bigint NOT NULL)";

/// The trigram indexes, named with the schema of pg_trgm's operator class: the text filter's
/// over the folded subject, and full-text search's over the requester's name and e-mail
/// (found anywhere in them, see `search`).
const TRIGRAM_INDEXES: [&str; 2] = [
    "CREATE INDEX IF NOT EXISTS tickets_subject_trgm ON \
     helpdesk.tickets USING gin (subject_folded {opclass})",
    concat!(
        "CREATE INDEX IF NOT EXISTS users_search_trgm ON helpdesk.users USING gin (",
        crate::search::requester_folded!(),
        " {opclass})"
    ),
];

/// Whether a table exists in the store's schema.
async fn table_exists(conn: &mut PgConnection, sql: &Sql, name: &str) -> sqlx::Result<bool> {
    sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_tables WHERE schemaname = $1 AND tablename = $2)",
    )
    .bind(sql.schema())
    .bind(name)
    .fetch_one(&mut *conn)
    .await
}

/// What the database records: the applied versions with their checksums, oldest first
/// (empty when the migrations table does not exist).
async fn applied(conn: &mut PgConnection, sql: &Sql) -> sqlx::Result<Vec<(i64, String)>> {
    if !table_exists(conn, sql, TABLE).await? {
        return Ok(Vec::new());
    }
    sqlx::query_as(
        &sql.rewrite("SELECT version, checksum FROM helpdesk.schema_migrations ORDER BY version"),
    )
    .fetch_all(&mut *conn)
    .await
}

/// Refuses a schema migrated by a newer build or with a migration this build does not have
/// under its version.
fn check(database: &str, sql: &Sql, applied: &[(i64, String)]) -> Result<()> {
    let known = newest_version();
    if let Some(found) = applied.iter().map(|(v, _)| *v).max()
        && found > known
    {
        return Err(SchemaError::Newer {
            database: database.to_owned(),
            schema: sql.schema().to_owned(),
            table: format!("{}.{TABLE}", sql.schema()),
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
                    schema: sql.schema().to_owned(),
                    version: *version,
                    found: found.clone(),
                    expected,
                }
                .into());
            }
        }
    }
    Ok(())
}

/// Applies the pending migrations in one transaction under the advisory lock (when
/// migration 8 was among them, the words of the texts already stored are then indexed for
/// search, see `search_index::reindex`), then adds the trigram indexes when pg_trgm is
/// available. Returns whether the trigram indexes exist.
pub(crate) async fn run(pool: &PgPool, sql: &Sql) -> Result<bool> {
    let mut tx = pool
        .begin()
        .await
        .map_err(failed(sql, "starting the migration transaction"))?;
    sqlx::query("SELECT pg_advisory_xact_lock($1)")
        .bind(lock_key())
        .execute(&mut *tx)
        .await
        .map_err(failed(sql, "taking the migration lock"))?;
    let database: String = sqlx::query_scalar("SELECT current_database()::text")
        .fetch_one(&mut *tx)
        .await
        .map_err(failed(sql, "reading the database name"))?;
    let recorded = applied(&mut tx, sql)
        .await
        .map_err(failed(sql, "reading the migrations table"))?;
    check(&database, sql, &recorded)?;
    sqlx::query(&format!(
        "CREATE SCHEMA IF NOT EXISTS {}",
        sql.quoted_schema()
    ))
    .execute(&mut *tx)
    .await
    .map_err(failed(sql, "creating the schema"))?;
    sqlx::query(&sql.rewrite(CREATE_TABLE))
        .execute(&mut *tx)
        .await
        .map_err(failed(sql, "creating the migrations table"))?;
    let now = ms(Timestamp::now());
    let mut words_added = false;
    for m in &MIGRATIONS {
        if recorded.iter().any(|(v, _)| *v == m.version) {
            continue;
        }
        let step = format!("migration {} ({})", m.version, m.description);
        // Through `Executor::execute` (a boxed `Send` future): `RawSql::execute` is an
        // `async fn` generic over the executor, whose future is not `Send` for every
        // lifetime, and a host spawns `connect` on a multi-threaded runtime.
        let text = sql.rewrite(m.sql);
        sqlx::Executor::execute(&mut *tx, sqlx::raw_sql(&text))
            .await
            .map_err(failed(sql, &step))?;
        words_added |= m.version == crate::search_index::INDEXED_SINCE;
        sqlx::query(&sql.rewrite(
            "INSERT INTO helpdesk.schema_migrations (version, description, checksum, applied_at) \
             VALUES ($1, $2, $3, $4)",
        ))
        .bind(m.version)
        .bind(m.description)
        .bind(m.checksum())
        .bind(now)
        .execute(&mut *tx)
        .await
        .map_err(failed(sql, &step))?;
    }
    if words_added {
        // After the last migration, not right after 8: the reindex reads tickets with
        // every column this build reads (such as 9's `custom_fields` and 10's `team`).
        crate::search_index::reindex(&mut tx, sql).await?;
    }
    let trigram = trigram_index(&mut tx, sql).await?;
    tx.commit()
        .await
        .map_err(failed(sql, "committing the migrations"))?;
    Ok(trigram)
}

/// Wraps a failed step of the migration.
pub(crate) fn failed(sql: &Sql, step: &str) -> impl FnOnce(sqlx::Error) -> PostgresError + use<> {
    let schema = sql.schema().to_owned();
    let step = step.to_owned();
    move |source| PostgresError::Migrate {
        schema,
        step,
        source,
    }
}

/// The schema pg_trgm is installed in, if it is installed in this database.
async fn trigram_schema(tx: &mut Transaction<'static, Postgres>) -> sqlx::Result<Option<String>> {
    sqlx::query_scalar(
        "SELECT n.nspname::text FROM pg_catalog.pg_extension e \
         JOIN pg_catalog.pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'pg_trgm'",
    )
    .fetch_optional(&mut **tx)
    .await
}

/// Adds the trigram indexes (over the folded subject, and over the users' folded name and
/// e-mail) when the pg_trgm extension is installed or can be installed (into the store's
/// schema: a guest does not add objects to the host's). Without it the text filter and
/// search's requester source are the same plain `LIKE`, answered by reading the tenant's
/// tickets, and users. Tried in a savepoint, so a refusal (no contrib package, no
/// privilege) does not abort the migration.
async fn trigram_index(tx: &mut Transaction<'static, Postgres>, sql: &Sql) -> Result<bool> {
    let mut namespace = trigram_schema(tx)
        .await
        .map_err(failed(sql, "looking for pg_trgm"))?;
    if namespace.is_none() {
        // A nested transaction on the same connection is a savepoint.
        let mut savepoint = sqlx::Connection::begin(&mut **tx)
            .await
            .map_err(failed(sql, "starting a savepoint for pg_trgm"))?;
        let created = sqlx::query(&format!(
            "CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA {}",
            sql.quoted_schema()
        ))
        .execute(&mut *savepoint)
        .await;
        match created {
            Ok(_) => savepoint
                .commit()
                .await
                .map_err(failed(sql, "releasing the pg_trgm savepoint"))?,
            Err(e) => {
                tracing::warn!(error = %e, "pg_trgm is not available: the ticket text filter and the requester search read without a trigram index");
                savepoint
                    .rollback()
                    .await
                    .map_err(failed(sql, "rolling back the pg_trgm savepoint"))?;
                return Ok(false);
            }
        }
        namespace = trigram_schema(tx)
            .await
            .map_err(failed(sql, "looking for pg_trgm"))?;
    }
    let Some(namespace) = namespace else {
        return Ok(false);
    };
    let opclass = format!("\"{}\".gin_trgm_ops", namespace.replace('"', "\"\""));
    for index in TRIGRAM_INDEXES {
        sqlx::query(&sql.rewrite(&index.replace("{opclass}", &opclass)))
            .execute(&mut **tx)
            .await
            .map_err(failed(sql, "creating the trigram indexes"))?;
    }
    Ok(true)
}
