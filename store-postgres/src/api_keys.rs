//! API keys, with the hash of each key's secret in the same row (read only by the lookup
//! that authenticates a key).

use async_trait::async_trait;
use helpdesk_core::domain::ApiKey;
use helpdesk_core::store::ApiKeyStore;
use helpdesk_core::{ApiKeyId, DuplicateKind, Error, Result, TenantId};
use jiff::Timestamp;
use sqlx::PgConnection;
use sqlx::postgres::PgRow;

use crate::PostgresStore;
use crate::codec::{Columns, ms, opt_ms};
use crate::error::{db, is_unique_violation};
use crate::sql::Sql;

macro_rules! key_columns {
    () => {
        "id, tenant_id, user_id, role, label, prefix, created_at, created_by, last_used_at, \
         revoked_at"
    };
}

/// A tenant's keys, newest first (index `api_keys_newest`, migration 3).
pub(crate) const TENANT_KEYS: &str = concat!(
    "SELECT ",
    key_columns!(),
    " FROM helpdesk.api_keys WHERE tenant_id = $1 ORDER BY created_at DESC, id DESC"
);

fn key_from(row: &PgRow) -> Result<ApiKey> {
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

/// Inserts a key with its secret's hash. A used id or hash is `Duplicate { kind: Id }`
/// naming the key's id: the hash is never put in the error.
pub(crate) async fn insert(
    sql: &Sql,
    conn: &mut PgConnection,
    key: &ApiKey,
    secret_hash: &str,
) -> Result<()> {
    sqlx::query(sql.text(
        "INSERT INTO helpdesk.api_keys (id, tenant_id, user_id, role, label, prefix, \
         secret_hash, created_at, created_by, last_used_at, revoked_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    ))
    .bind(key.id.as_uuid())
    .bind(key.tenant_id.as_uuid())
    .bind(key.user_id.as_uuid())
    .bind(key.role.as_str())
    .bind(&key.label)
    .bind(&key.prefix)
    .bind(secret_hash)
    .bind(ms(key.created_at))
    .bind(key.created_by.as_uuid())
    .bind(opt_ms(key.last_used_at))
    .bind(opt_ms(key.revoked_at))
    .execute(&mut *conn)
    .await
    .map_err(|e| {
        if is_unique_violation(&e) {
            Error::Duplicate {
                kind: DuplicateKind::Id,
                value: key.id.to_string(),
            }
        } else {
            db(e)
        }
    })?;
    Ok(())
}

/// Sets `revoked_at` unless the key is already revoked; `NotFound` when the key is not the
/// tenant's.
pub(crate) async fn revoke(
    sql: &Sql,
    conn: &mut PgConnection,
    tenant: TenantId,
    id: ApiKeyId,
    at: Timestamp,
) -> Result<()> {
    let done = sqlx::query(sql.text(
        "UPDATE helpdesk.api_keys SET revoked_at = COALESCE(revoked_at, $1) \
         WHERE id = $2 AND tenant_id = $3",
    ))
    .bind(ms(at))
    .bind(id.as_uuid())
    .bind(tenant.as_uuid())
    .execute(&mut *conn)
    .await
    .map_err(db)?;
    if done.rows_affected() == 0 {
        return Err(Error::not_found("api_key", id));
    }
    Ok(())
}

#[async_trait]
impl ApiKeyStore for PostgresStore {
    async fn api_key_by_hash(&self, secret_hash: &str) -> Result<Option<ApiKey>> {
        sqlx::query(self.sql.text(concat!(
            "SELECT ",
            key_columns!(),
            " FROM helpdesk.api_keys WHERE secret_hash = $1"
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
            .bind(tenant.as_uuid())
            .fetch_all(&self.pool)
            .await
            .map_err(db)?
            .iter()
            .map(key_from)
            .collect()
    }

    async fn touch_api_key(&self, tenant: TenantId, id: ApiKeyId, at: Timestamp) -> Result<()> {
        // `GREATEST` ignores a NULL and keeps the later of two racing uses; the row counts
        // as touched either way.
        let done = sqlx::query(self.sql.text(
            "UPDATE helpdesk.api_keys SET last_used_at = GREATEST(last_used_at, $1) \
             WHERE id = $2 AND tenant_id = $3",
        ))
        .bind(ms(at))
        .bind(id.as_uuid())
        .bind(tenant.as_uuid())
        .execute(&self.pool)
        .await
        .map_err(db)?;
        if done.rows_affected() == 0 {
            return Err(Error::not_found("api_key", id));
        }
        Ok(())
    }
}
