//! Databases of the previous layout: unprefixed tables (`tickets`, `users`, ...) with the
//! migrations recorded in sqlx's `_sqlx_migrations` (versions 1 to 4, the same schema as
//! today's migrations without the prefix).
//!
//! Such a database is recognised by the rows of those migrations in `_sqlx_migrations`
//! (version, description and sqlx's checksum of that release's files), so a host's own
//! sqlx migrations and its own `users` table never look like it. Moving it runs inside the
//! migration transaction, after today's migrations created the prefixed tables: every row
//! is copied into the prefixed table of the same name (`row_id` and `seq` included, so
//! ticket and event order is kept; the full-text indexes fill through their triggers, and
//! the tickets' Details text of search is filled as migration 11 fills it), the old
//! tables are dropped, and the old migrations' rows are removed from `_sqlx_migrations`,
//! which is dropped when nothing else is recorded in it. Copying takes time and space in
//! proportion to the data, once.

use std::path::Path;

use helpdesk_core::Result;
use sqlx::SqliteConnection;

use crate::error::SqliteError;
use crate::migrate::table_exists;
use crate::sql::Sql;

/// The previous layout's migrations: version, description and the hex of sqlx's SHA-384
/// checksum of that release's file, as recorded in `_sqlx_migrations`.
const MIGRATIONS: [(i64, &str, &str); 4] = [
    (
        1,
        "schema",
        "0DDE8368EDE02D1FB6D5C6CBB8FB69F80DE8681ACEA6DC882AC3153114A352B4146E0C143C7198454D87902EEF37250F",
    ),
    (
        2,
        "indexes and fts",
        "55FED274EEF3D22075948CAAD01EDD11EF0462A2653F1138F4166DB31CCE0F3A5B1F58B6A3028CF6C24F4D32CC5A1077",
    ),
    (
        3,
        "routing indexes",
        "FE5CDF93DABC972FB1CB2D5694C43D7A6A097F30BD7A64915A47991E2CE3EA34C88AC96F252C7167FC06E6CCFFD87287",
    ),
    (
        4,
        "audit events",
        "F6A7701F01F842AC5B94C6E17FA989E31B95D9C0780041FF27FCC73BC8AE0C14F91629B728320888C18F27FEC199C73E",
    ),
];

/// Migration 11's fill of `search_details` for rows written before it: today's
/// `details_text`, the tags joined by spaces.
const FILL_SEARCH_DETAILS: &str = "UPDATE helpdesk_tickets SET search_details = (\
     SELECT coalesce(group_concat(value, ' '), '') \
     FROM (SELECT value FROM json_each(helpdesk_tickets.tags) ORDER BY key)) \
     WHERE tags <> '[]'";

/// The previous layout's tables, parents before the tables that refer to them.
const TABLES: [&str; 13] = [
    "tenants",
    "users",
    "auth_sessions",
    "ticket_counters",
    "tickets",
    "events",
    "messages",
    "idempotency_keys",
    "outbox",
    "articles",
    "chat_sessions",
    "leases",
    "audit_events",
];

/// A database of the previous layout: the versions of its migrations that are applied.
#[derive(Debug)]
pub(crate) struct Previous {
    versions: Vec<i64>,
}

fn failed(path: &Path, step: impl Into<String>) -> impl FnOnce(sqlx::Error) -> SqliteError {
    let (path, step) = (path.to_path_buf(), step.into());
    move |source| SqliteError::Migrate { path, step, source }
}

/// The previous layout's migrations recorded in this database, if its first one is.
pub(crate) async fn detect(conn: &mut SqliteConnection, path: &Path) -> Result<Option<Previous>> {
    let step = "looking for the previous layout";
    if !table_exists(conn, "_sqlx_migrations")
        .await
        .map_err(failed(path, step))?
    {
        return Ok(None);
    }
    let rows: Vec<(i64, String, String)> =
        sqlx::query_as("SELECT version, description, hex(checksum) FROM _sqlx_migrations")
            .fetch_all(&mut *conn)
            .await
            .map_err(failed(path, step))?;
    let ours = |(version, description, checksum): &(i64, String, String)| {
        MIGRATIONS
            .iter()
            .any(|(v, d, c)| v == version && d == description && c == checksum)
    };
    let versions: Vec<i64> = rows.iter().filter(|r| ours(r)).map(|r| r.0).collect();
    if !versions.contains(&1) {
        return Ok(None);
    }
    Ok(Some(Previous { versions }))
}

/// Copies the previous layout's rows into the prefixed tables (created by today's
/// migrations in the same transaction) and removes the previous layout.
pub(crate) async fn import(
    conn: &mut SqliteConnection,
    sql: &Sql,
    path: &Path,
    previous: &Previous,
) -> Result<()> {
    let mut present = Vec::new();
    for table in TABLES {
        if table_exists(conn, table)
            .await
            .map_err(failed(path, "looking for the previous layout"))?
        {
            present.push(table);
        }
    }
    for table in &present {
        let step = || format!("copying `{table}` into `{}`", sql.table(table));
        let columns: Vec<String> = sqlx::query_scalar("SELECT name FROM pragma_table_info(?)")
            .bind(*table)
            .fetch_all(&mut *conn)
            .await
            .map_err(failed(path, step()))?;
        let columns = columns
            .iter()
            .map(|c| format!("\"{}\"", c.replace('"', "\"\"")))
            .collect::<Vec<_>>()
            .join(", ");
        let copy = format!(
            "INSERT INTO {} ({columns}) SELECT {columns} FROM {table}",
            sql.table(table)
        );
        sqlx::query(&copy)
            .execute(&mut *conn)
            .await
            .map_err(failed(path, step()))?;
    }
    // The moved tickets lack the Details text of search (a column of migration 11, empty
    // in copied rows): fill it as migration 11 fills existing rows, which its trigger
    // passes on to the word index.
    if present.contains(&"tickets") {
        sqlx::query(sql.text(FILL_SEARCH_DETAILS))
            .execute(&mut *conn)
            .await
            .map_err(failed(path, "indexing the moved tickets for search"))?;
    }
    // The full-text index first (its triggers go with `tickets`), then children before
    // the tables they refer to, so no drop trips a foreign key.
    let mut drops = vec!["DROP TABLE IF EXISTS tickets_fts".to_owned()];
    drops.extend(present.iter().rev().map(|t| format!("DROP TABLE {t}")));
    for drop in &drops {
        sqlx::query(drop).execute(&mut *conn).await.map_err(failed(
            path,
            format!("removing the previous layout ({drop})"),
        ))?;
    }
    let step = "removing the previous layout's migrations from _sqlx_migrations";
    for version in &previous.versions {
        sqlx::query("DELETE FROM _sqlx_migrations WHERE version = ?")
            .bind(version)
            .execute(&mut *conn)
            .await
            .map_err(failed(path, step))?;
    }
    let others: i64 = sqlx::query_scalar("SELECT count(*) FROM _sqlx_migrations")
        .fetch_one(&mut *conn)
        .await
        .map_err(failed(path, step))?;
    if others == 0 {
        sqlx::query("DROP TABLE _sqlx_migrations")
            .execute(&mut *conn)
            .await
            .map_err(failed(path, step))?;
    }
    // Fresh planner statistics for the copied tables (the old ones went with the tables).
    for table in &present {
        sqlx::query(&format!("ANALYZE {}", sql.table(table)))
            .execute(&mut *conn)
            .await
            .map_err(failed(path, "analyzing the copied tables"))?;
    }
    Ok(())
}
