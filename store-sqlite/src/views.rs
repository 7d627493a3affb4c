//! Saved views: administrative changes (in the audit transaction) and the reads.

use async_trait::async_trait;
use helpdesk_core::domain::SavedView;
use helpdesk_core::store::{AdminChange, SavedViewStore};
use helpdesk_core::{Error, Result, SavedViewId, TenantId};
use sqlx::SqliteConnection;
use sqlx::sqlite::{SqliteQueryResult, SqliteRow};

use crate::SqliteStore;
use crate::codec::{Columns, json, ms};
use crate::error::{db, duplicate_name, index_violated, refused_insert};
use crate::sql::Sql;

macro_rules! view_columns {
    () => {
        "id, tenant_id, owner, name, filter, created_by, created_at, updated_at, team"
    };
}

/// The unique index on (tenant, scope, folded name), without the table prefix
/// (migration 10).
const NAME_INDEX: &str = "saved_views_name";

/// Whether a saved view id is taken (a failed insert's id check).
const ID_EXISTS: &str = "SELECT EXISTS (SELECT 1 FROM helpdesk_saved_views WHERE id = ?)";

/// A tenant's views by folded name, then id (index `saved_views_tenant`,
/// migration 10). `name_folded` compares bytewise (SQLite's BINARY collation), which is
/// the order of Rust's `String`, as in the reference store.
pub(crate) const TENANT_VIEWS: &str = concat!(
    "SELECT ",
    view_columns!(),
    " FROM helpdesk_saved_views WHERE tenant_id = ? ORDER BY name_folded, id"
);

fn view_from(row: &SqliteRow) -> Result<SavedView> {
    let c = Columns(row);
    Ok(SavedView {
        id: c.id("id")?,
        tenant_id: c.id("tenant_id")?,
        owner: c.opt_id("owner")?,
        name: c.text("name")?,
        filter: c.json("filter")?,
        created_by: c.id("created_by")?,
        created_at: c.ts("created_at")?,
        updated_at: c.ts("updated_at")?,
        team: c.opt_text("team")?,
    })
}

/// `NotFound` when a change matched no view of the tenant.
fn found(done: SqliteQueryResult, id: SavedViewId) -> Result<()> {
    if done.rows_affected() == 0 {
        return Err(Error::not_found("saved_view", id));
    }
    Ok(())
}

async fn insert(sql: &Sql, conn: &mut SqliteConnection, c: &SavedView) -> Result<()> {
    let inserted = sqlx::query(sql.text(concat!(
        "INSERT INTO helpdesk_saved_views (",
        view_columns!(),
        ", name_folded) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
    )))
    .bind(c.id.to_string())
    .bind(c.tenant_id.to_string())
    .bind(c.owner.map(|o| o.to_string()))
    .bind(&c.name)
    .bind(json(&c.filter, "saved view filter")?)
    .bind(c.created_by.to_string())
    .bind(ms(c.created_at))
    .bind(ms(c.updated_at))
    .bind(c.team.as_deref())
    .bind(c.folded_name())
    .execute(&mut *conn)
    .await;
    match inserted {
        Ok(_) => Ok(()),
        Err(e) => Err(refused_insert(
            sql,
            conn,
            e,
            NAME_INDEX,
            ID_EXISTS,
            c.id.to_string(),
            &c.name,
        )
        .await),
    }
}

/// Applies one of the saved-view changes of [`AdminChange`].
pub(crate) async fn apply(
    sql: &Sql,
    conn: &mut SqliteConnection,
    change: &AdminChange,
) -> Result<()> {
    match change {
        AdminChange::CreateSavedView(c) => insert(sql, conn, c).await,
        AdminChange::UpdateSavedView(c) => {
            // Id, tenant, creator and creation time are not written: they stay.
            let done = sqlx::query(sql.text(
                "UPDATE helpdesk_saved_views SET owner = ?, team = ?, name = ?, name_folded = ?, \
                 filter = ?, updated_at = ? \
                 WHERE id = ? AND tenant_id = ?",
            ))
            .bind(c.owner.map(|o| o.to_string()))
            .bind(c.team.as_deref())
            .bind(&c.name)
            .bind(c.folded_name())
            .bind(json(&c.filter, "saved view filter")?)
            .bind(ms(c.updated_at))
            .bind(c.id.to_string())
            .bind(c.tenant_id.to_string())
            .execute(&mut *conn)
            .await
            // The id does not change, so the name index is the only one an update can hit.
            .map_err(|e| {
                if index_violated(sql, NAME_INDEX, &e) {
                    duplicate_name(&c.name)
                } else {
                    db(e)
                }
            })?;
            found(done, c.id)
        }
        AdminChange::DeleteSavedView { tenant, id } => {
            let done = sqlx::query(
                sql.text("DELETE FROM helpdesk_saved_views WHERE id = ? AND tenant_id = ?"),
            )
            .bind(id.to_string())
            .bind(tenant.to_string())
            .execute(&mut *conn)
            .await
            .map_err(db)?;
            found(done, *id)
        }
        _ => Err(Error::Internal("not a saved-view change")),
    }
}

#[async_trait]
impl SavedViewStore for SqliteStore {
    async fn get_saved_view(&self, tenant: TenantId, id: SavedViewId) -> Result<Option<SavedView>> {
        sqlx::query(self.sql.text(concat!(
            "SELECT ",
            view_columns!(),
            " FROM helpdesk_saved_views WHERE id = ? AND tenant_id = ?"
        )))
        .bind(id.to_string())
        .bind(tenant.to_string())
        .fetch_optional(&self.pool)
        .await
        .map_err(db)?
        .as_ref()
        .map(view_from)
        .transpose()
    }

    async fn list_saved_views(&self, tenant: TenantId) -> Result<Vec<SavedView>> {
        sqlx::query(self.sql.text(TENANT_VIEWS))
            .bind(tenant.to_string())
            .fetch_all(&self.pool)
            .await
            .map_err(db)?
            .iter()
            .map(view_from)
            .collect()
    }
}
