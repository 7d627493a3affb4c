//! API keys, with the hash of each key's secret in the same row (read only by the lookup
//! that authenticates a key).

use async_trait::async_trait;
use helpdesk_core::domain::ApiKey;
use helpdesk_core::store::ApiKeyStore;
use helpdesk_core::{ApiKeyId, DuplicateKind, Error, Result, TenantId};
use jiff::Timestamp;
use sqlx::SqliteConnection;
use sqlx::sqlite::SqliteRow;

use crate::SqliteStore;
use crate::codec::{Columns, ms, opt_ms};
use crate::error::db;
use crate::sql::Sql;

macro_rules! key_columns {
    () => {
        "id, tenant_id, user_id, role, label, prefix, created_at, created_by, last_used_at, \
         revoked_at"
    };
}

/// A tenant's keys, newest first (index `api_keys_newest`, migration 5).
pub(crate) const TENANT_KEYS: &str = concat!(
    "SELECT ",
    key_columns!(),
    " FROM helpdesk_api_keys WHERE tenant_id = ? ORDER BY created_at DESC, id DESC"
);

fn key_from(row: &SqliteRow) -> Result<ApiKey> {
    let c = Columns(row);
    Ok(ApiKey {
        id: c.id("id")?,
        tenant_id: c.id("tenant_id")?,
        user_id: c.id("user_id")?,
        role: c.parsed("role")?,
        label: c.text("label")?,
        prefix: c.text("prefix")?,
        created_at: c.ts("created_at")?,
        created_by: c.id("created_by")?,
        last_used_at: c.opt_ts("last_used_at")?,
        revoked_at: c.opt_ts("revoked_at")?,
    })
}

/// Inserts a key with its secret's hash (a used id or hash is `Duplicate { kind: Id }`;
/// the hash is never put in the error).
pub(crate) async fn insert(
    sql: &Sql,
    conn: &mut SqliteConnection,
    key: &ApiKey,
    secret_hash: &str,
) -> Result<()> {
    sqlx::query(sql.text(
        "INSERT INTO helpdesk_api_keys (id, tenant_id, user_id, role, label, prefix, \
         secret_hash, created_at, created_by, last_used_at, revoked_at) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    ))
    .bind(key.id.to_string())
    .bind(key.tenant_id.to_string())
    .bind(key.user_id.to_string())
    .bind(key.role.as_str())
    .bind(&key.label)
    .bind(&key.prefix)
    .bind(secret_hash)
    .bind(ms(key.created_at))
    .bind(key.created_by.to_string())
    .bind(opt_ms(key.last_used_at))
    .bind(opt_ms(key.revoked_at))
    .execute(&mut *conn)
    .await
    .map_err(|e| match &e {
        sqlx::Error::Database(d) if d.kind() == sqlx::error::ErrorKind::UniqueViolation => {
            Error::Duplicate {
                kind: DuplicateKind::Id,
                value: key.id.to_string(),
            }
        }
        _ => db(e),
    })?;
    Ok(())
}

/// Sets `revoked_at` unless the key is already revoked; `NotFound` when the key is not the
/// tenant's.
pub(crate) async fn revoke(
    sql: &Sql,
    conn: &mut SqliteConnection,
    tenant: TenantId,
    id: ApiKeyId,
    at: Timestamp,
) -> Result<()> {
    let done = sqlx::query(sql.text(
        "UPDATE helpdesk_api_keys SET revoked_at = COALESCE(revoked_at, ?) \
         WHERE id = ? AND tenant_id = ?",
    ))
    .bind(ms(at))
    .bind(id.to_string())
    .bind(tenant.to_string())
    .execute(&mut *conn)
    .await
    .map_err(db)?;
    if done.rows_affected() == 0 {
        return Err(Error::not_found("api_key", id));
    }
    Ok(())
}

#[async_trait]
impl ApiKeyStore for SqliteStore {
    async fn api_key_by_hash(&self, secret_hash: &str) -> Result<Option<ApiKey>> {
        sqlx::query(self.sql.text(concat!(
            "SELECT ",
            key_columns!(),
            " FROM helpdesk_api_keys WHERE secret_hash = ?"
        )))
        .bind(secret_hash)
        .fetch_optional(&self.pool)
        .await
        .map_err(db)?
        .as_ref()
        .map(key_from)
        .transpose()
    }

    async fn list_api_keys(&self, tenant: TenantId) -> Result<Vec<ApiKey>> {
        sqlx::query(self.sql.text(TENANT_KEYS))
            .bind(tenant.to_string())
            .fetch_all(&self.pool)
            .await
            .map_err(db)?
            .iter()
            .map(key_from)
            .collect()
    }

    async fn touch_api_key(&self, tenant: TenantId, id: ApiKeyId, at: Timestamp) -> Result<()> {
        // `MAX` keeps the later of two racing uses; the row counts as touched either way.
        let done = sqlx::query(self.sql.text(
            "UPDATE helpdesk_api_keys SET last_used_at = MAX(COALESCE(last_used_at, ?), ?) \
             WHERE id = ? AND tenant_id = ?",
        ))
        .bind(ms(at))
        .bind(ms(at))
        .bind(id.to_string())
        .bind(tenant.to_string())
        .execute(&self.pool)
        .await
        .map_err(db)?;
        if done.rows_affected() == 0 {
            return Err(Error::not_found("api_key", id));
        }
        Ok(())
    }
}
