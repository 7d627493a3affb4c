//! Saved views: administrative changes (in the audit transaction) and the reads.

use async_trait::async_trait;
use helpdesk_core::domain::SavedView;
use helpdesk_core::store::{AdminChange, SavedViewStore};
use helpdesk_core::{DuplicateKind, Error, Result, SavedViewId, TenantId};
use sqlx::PgConnection;
use sqlx::postgres::{PgQueryResult, PgRow};

use crate::PostgresStore;
use crate::codec::{Columns, json, ms};
use crate::error::{constraint, db, insert_err, is_unique_violation};
use crate::sql::Sql;

macro_rules! view_columns {
    () => {
        "id, tenant_id, owner, name, filter, created_by, created_at, updated_at, team"
    };
}

/// The unique index on (tenant, scope, folded name) (migration 7).
const NAME_INDEX: &str = "saved_views_name";

/// A tenant's views by folded name, then id (index `saved_views_tenant`,
/// migration 7; `name_folded` is collated "C", the order of Rust's `String`, as in the
/// reference store).
pub(crate) const TENANT_VIEWS: &str = concat!(
    "SELECT ",
    view_columns!(),
    " FROM helpdesk.saved_views WHERE tenant_id = $1 ORDER BY name_folded, id"
);

fn view_from(row: &PgRow) -> Result<SavedView> {
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

/// A unique violation of the name index as `Duplicate { kind: Name }`, else `Err(e)`.
fn name_taken(e: sqlx::Error, view: &SavedView) -> std::result::Result<Error, sqlx::Error> {
    if is_unique_violation(&e) && constraint(&e) == Some(NAME_INDEX) {
        Ok(Error::Duplicate {
            kind: DuplicateKind::Name,
            value: view.name.clone(),
        })
    } else {
        Err(e)
    }
}

/// `NotFound` when a change matched no view of the tenant.
fn found(done: PgQueryResult, id: SavedViewId) -> Result<()> {
    if done.rows_affected() == 0 {
        return Err(Error::not_found("saved_view", id));
    }
    Ok(())
}

/// Applies one of the saved-view changes of [`AdminChange`].
pub(crate) async fn apply(sql: &Sql, conn: &mut PgConnection, change: &AdminChange) -> Result<()> {
    match change {
        AdminChange::CreateSavedView(c) => {
            sqlx::query(sql.text(concat!(
                "INSERT INTO helpdesk.saved_views (",
                view_columns!(),
                ", name_folded) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
            )))
            .bind(c.id.as_uuid())
            .bind(c.tenant_id.as_uuid())
            .bind(c.owner.map(|o| o.as_uuid()))
            .bind(&c.name)
            .bind(json(&c.filter, "saved view filter")?)
            .bind(c.created_by.as_uuid())
            .bind(ms(c.created_at))
            .bind(ms(c.updated_at))
            .bind(c.team.as_deref())
            .bind(c.folded_name())
            .execute(&mut *conn)
            .await
            // PostgreSQL checks a row's unique indexes in the order they were created, the
            // primary key first: a row repeating both id and name is a taken id, as on
            // every backend. Any other unique violation is the primary key's.
            .map_err(|e| name_taken(e, c).unwrap_or_else(insert_err(c.id)))?;
            Ok(())
        }
        AdminChange::UpdateSavedView(c) => {
            // Id, tenant, creator and creation time are not written: they stay.
            let done = sqlx::query(sql.text(
                "UPDATE helpdesk.saved_views SET owner = $1, name = $2, name_folded = $3, \
                 filter = $4, updated_at = $5, team = $8 \
                 WHERE id = $6 AND tenant_id = $7",
            ))
            .bind(c.owner.map(|o| o.as_uuid()))
            .bind(&c.name)
            .bind(c.folded_name())
            .bind(json(&c.filter, "saved view filter")?)
            .bind(ms(c.updated_at))
            .bind(c.id.as_uuid())
            .bind(c.tenant_id.as_uuid())
            .bind(c.team.as_deref())
            .execute(&mut *conn)
            .await
            .map_err(|e| name_taken(e, c).unwrap_or_else(db))?;
            found(done, c.id)
        }
        AdminChange::DeleteSavedView { tenant, id } => {
            let done = sqlx::query(
                sql.text("DELETE FROM helpdesk.saved_views WHERE id = $1 AND tenant_id = $2"),
            )
            .bind(id.as_uuid())
            .bind(tenant.as_uuid())
            .execute(&mut *conn)
            .await
            .map_err(db)?;
            found(done, *id)
        }
        _ => Err(Error::Internal("not a saved-view change")),
    }
}

#[async_trait]
impl SavedViewStore for PostgresStore {
    async fn get_saved_view(&self, tenant: TenantId, id: SavedViewId) -> Result<Option<SavedView>> {
        sqlx::query(self.sql.text(concat!(
            "SELECT ",
            view_columns!(),
            " FROM helpdesk.saved_views WHERE id = $1 AND tenant_id = $2"
        )))
        .bind(id.as_uuid())
        .bind(tenant.as_uuid())
        .fetch_optional(&self.pool)
        .await
        .map_err(db)?
        .as_ref()
        .map(view_from)
        .transpose()
    }

    async fn list_saved_views(&self, tenant: TenantId) -> Result<Vec<SavedView>> {
        sqlx::query(self.sql.text(TENANT_VIEWS))
            .bind(tenant.as_uuid())
            .fetch_all(&self.pool)
            .await
            .map_err(db)?
            .iter()
            .map(view_from)
            .collect()
    }
}
