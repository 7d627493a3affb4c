//! Saved views: one document per view, with its folded name for the per-scope unique index
//! and its filter as an embedded document. Administrative changes run in the audit
//! transaction's session, like canned responses.

use async_trait::async_trait;
use bson::{Document, doc};
use helpdesk_core::domain::SavedView;
use helpdesk_core::store::{AdminChange, SavedViewStore};
use helpdesk_core::{DuplicateKind, Error, Result, SavedViewId, TenantId};
use mongodb::ClientSession;

use crate::codec::{Reader, date, opt_string, to_bson};
use crate::error::{driver, is_duplicate_key};
use crate::schema::SAVED_VIEWS;
use crate::store::{MongoStore, in_session};

/// What an update replaces (everything but `_id`, `tenant_id`, `created_by` and
/// `created_at`), with the folded name the unique index checks.
fn changeable_fields(v: &SavedView) -> Result<Document> {
    Ok(doc! {
        // Null for a shared view: the unique index on (tenant_id, owner, name_folded)
        // treats null as one value, so the tenant's shared views are one scope.
        "owner": opt_string(v.owner),
        // The team a shared view is published to (null: every agent).
        "team": opt_string(v.team.as_deref()),
        "name": &v.name,
        "name_folded": v.folded_name(),
        // The filter's serde form (vocabulary strings, the assignee tagged by `is`), so
        // host tools read it as the API writes it.
        "filter": to_bson(&v.filter, "saved view filter")?,
        "updated_at": date(v.updated_at),
    })
}

fn view_doc(v: &SavedView) -> Result<Document> {
    let mut d = doc! {
        "_id": v.id.to_string(),
        "tenant_id": v.tenant_id.to_string(),
        "created_by": v.created_by.to_string(),
        "created_at": date(v.created_at),
    };
    d.extend(changeable_fields(v)?);
    Ok(d)
}

fn view_from(d: &Document) -> Result<SavedView> {
    let r = Reader::new(d, SAVED_VIEWS);
    Ok(SavedView {
        id: r.parse("_id")?,
        tenant_id: r.parse("tenant_id")?,
        owner: r.opt_parse("owner")?,
        name: r.str("name")?.to_string(),
        filter: r.serde("filter")?,
        created_by: r.parse("created_by")?,
        created_at: r.time("created_at")?,
        updated_at: r.time("updated_at")?,
        // Absent on views written before teams: published to everyone.
        team: r.opt_string("team")?,
    })
}

fn scope(tenant: TenantId, id: SavedViewId) -> Document {
    doc! { "_id": id.to_string(), "tenant_id": tenant.to_string() }
}

fn name_taken(v: &SavedView) -> Error {
    Error::Duplicate {
        kind: DuplicateKind::Name,
        value: v.name.clone(),
    }
}

impl MongoStore {
    /// Applies one of the saved-view changes of [`AdminChange`] in `session`.
    pub(crate) async fn apply_view_change(
        &self,
        change: &AdminChange,
        mut session: Option<&mut ClientSession>,
    ) -> Result<()> {
        let coll = self.coll(SAVED_VIEWS);
        match change {
            AdminChange::CreateSavedView(v) => {
                match in_session!(session, coll.insert_one(view_doc(v)?)) {
                    Ok(_) => Ok(()),
                    // Read outside the transaction (which the failed write has aborted).
                    Err(e) if is_duplicate_key(&e) => Err(self.view_duplicate(v).await?),
                    Err(e) => Err(driver(e)),
                }
            }
            AdminChange::UpdateSavedView(v) => {
                let update = doc! { "$set": changeable_fields(v)? };
                match in_session!(session, coll.update_one(scope(v.tenant_id, v.id), update)) {
                    Ok(r) if r.matched_count == 0 => Err(Error::not_found("saved_view", v.id)),
                    Ok(_) => Ok(()),
                    // The id does not change: the name index is the only one it can hit.
                    Err(e) if is_duplicate_key(&e) => Err(name_taken(v)),
                    Err(e) => Err(driver(e)),
                }
            }
            AdminChange::DeleteSavedView { tenant, id } => {
                let done =
                    in_session!(session, coll.delete_one(scope(*tenant, *id))).map_err(driver)?;
                if done.deleted_count == 0 {
                    return Err(Error::not_found("saved_view", id));
                }
                Ok(())
            }
            _ => Err(Error::Internal("not a saved-view change")),
        }
    }

    /// Which unique value a failed insert hit: the id first, like the reference store
    /// (ids are unique across tenants), else the folded name in its scope.
    async fn view_duplicate(&self, v: &SavedView) -> Result<Error> {
        let id_taken = self
            .find_one(SAVED_VIEWS, doc! { "_id": v.id.to_string() })
            .await?
            .is_some();
        Ok(if id_taken {
            Error::Duplicate {
                kind: DuplicateKind::Id,
                value: v.id.to_string(),
            }
        } else {
            name_taken(v)
        })
    }
}

#[async_trait]
impl SavedViewStore for MongoStore {
    async fn get_saved_view(&self, tenant: TenantId, id: SavedViewId) -> Result<Option<SavedView>> {
        self.find_one(SAVED_VIEWS, scope(tenant, id))
            .await?
            .map(|d| view_from(&d))
            .transpose()
    }

    /// Sorted by the server: folded names compare as UTF-8 bytes there, as Rust strings
    /// do, and ids are UUID strings of one fixed lower-case form, whose order is the ids'.
    async fn list_saved_views(&self, tenant: TenantId) -> Result<Vec<SavedView>> {
        self.find_all(
            SAVED_VIEWS,
            doc! { "tenant_id": tenant.to_string() },
            doc! { "name_folded": 1, "_id": 1 },
            0,
        )
        .await?
        .iter()
        .map(view_from)
        .collect()
    }
}
