//! Canned responses: one document per response, with its folded name for the per-scope
//! unique index. Administrative changes run in the audit transaction's session; the usage
//! count is an aggregation over the tickets' events.

use async_trait::async_trait;
use bson::{Document, doc};
use helpdesk_core::domain::CannedResponse;
use helpdesk_core::store::{AdminChange, CannedResponseStore, CannedUsage};
use helpdesk_core::{CannedResponseId, DuplicateKind, Error, Result, TenantId};
use jiff::Timestamp;
use mongodb::ClientSession;

use crate::codec::{Reader, at_or_after, date, opt_string, to_bson};
use crate::error::{driver, is_duplicate_key};
use crate::schema::{CANNED_RESPONSES, EVENTS};
use crate::store::{MongoStore, in_session};

/// The stored `type` of the events the usage counts (`EventKind::name`).
const APPLIED: &str = "canned_response_applied";

/// What an update replaces (everything but `_id`, `tenant_id`, `created_by` and
/// `created_at`), with the folded name the unique index checks.
fn changeable_fields(c: &CannedResponse) -> Result<Document> {
    Ok(doc! {
        // Null for a shared response: the unique index on (tenant_id, owner, name_folded)
        // treats null as one value, so the tenant's shared responses are one scope.
        "owner": opt_string(c.owner),
        "name": &c.name,
        "name_folded": c.folded_name(),
        "body": &c.body,
        "internal": c.internal,
        "actions": to_bson(&c.actions, "canned response actions")?,
        "updated_at": date(c.updated_at),
    })
}

fn canned_doc(c: &CannedResponse) -> Result<Document> {
    let mut d = doc! {
        "_id": c.id.to_string(),
        "tenant_id": c.tenant_id.to_string(),
        "created_by": c.created_by.to_string(),
        "created_at": date(c.created_at),
    };
    d.extend(changeable_fields(c)?);
    Ok(d)
}

fn canned_from(d: &Document) -> Result<CannedResponse> {
    let r = Reader::new(d, CANNED_RESPONSES);
    Ok(CannedResponse {
        id: r.parse("_id")?,
        tenant_id: r.parse("tenant_id")?,
        owner: r.opt_parse("owner")?,
        name: r.str("name")?.to_string(),
        body: r.str("body")?.to_string(),
        internal: r.bool("internal")?,
        actions: r.serde("actions")?,
        created_by: r.parse("created_by")?,
        created_at: r.time("created_at")?,
        updated_at: r.time("updated_at")?,
    })
}

fn usage_from(d: &Document) -> Result<CannedUsage> {
    // Read as an event field: the group's `_id` is the events' `kind.canned_response`.
    let r = Reader::new(d, EVENTS);
    Ok(CannedUsage {
        canned_response: r.parse("_id")?,
        uses: r.u64("uses")?,
        last_used_at: r.time("last_used_at")?,
    })
}

fn scope(tenant: TenantId, id: CannedResponseId) -> Document {
    doc! { "_id": id.to_string(), "tenant_id": tenant.to_string() }
}

fn name_taken(c: &CannedResponse) -> Error {
    Error::Duplicate {
        kind: DuplicateKind::Name,
        value: c.name.clone(),
    }
}

impl MongoStore {
    /// Applies one of the canned-response changes of [`AdminChange`] in `session`.
    pub(crate) async fn apply_canned_change(
        &self,
        change: &AdminChange,
        mut session: Option<&mut ClientSession>,
    ) -> Result<()> {
        let coll = self.coll(CANNED_RESPONSES);
        match change {
            AdminChange::CreateCannedResponse(c) => {
                match in_session!(session, coll.insert_one(canned_doc(c)?)) {
                    Ok(_) => Ok(()),
                    // Read outside the transaction (which the failed write has aborted).
                    Err(e) if is_duplicate_key(&e) => Err(self.canned_duplicate(c).await?),
                    Err(e) => Err(driver(e)),
                }
            }
            AdminChange::UpdateCannedResponse(c) => {
                let update = doc! { "$set": changeable_fields(c)? };
                match in_session!(session, coll.update_one(scope(c.tenant_id, c.id), update)) {
                    Ok(r) if r.matched_count == 0 => Err(Error::not_found("canned_response", c.id)),
                    Ok(_) => Ok(()),
                    // The id does not change: the name index is the only one it can hit.
                    Err(e) if is_duplicate_key(&e) => Err(name_taken(c)),
                    Err(e) => Err(driver(e)),
                }
            }
            AdminChange::DeleteCannedResponse { tenant, id } => {
                let done =
                    in_session!(session, coll.delete_one(scope(*tenant, *id))).map_err(driver)?;
                if done.deleted_count == 0 {
                    return Err(Error::not_found("canned_response", id));
                }
                Ok(())
            }
            _ => Err(Error::Internal("not a canned-response change")),
        }
    }

    /// Which unique value a failed insert hit: the id first, like the reference store
    /// (ids are unique across tenants), else the folded name in its scope.
    async fn canned_duplicate(&self, c: &CannedResponse) -> Result<Error> {
        let id_taken = self
            .find_one(CANNED_RESPONSES, doc! { "_id": c.id.to_string() })
            .await?
            .is_some();
        Ok(if id_taken {
            Error::Duplicate {
                kind: DuplicateKind::Id,
                value: c.id.to_string(),
            }
        } else {
            name_taken(c)
        })
    }
}

#[async_trait]
impl CannedResponseStore for MongoStore {
    async fn get_canned_response(
        &self,
        tenant: TenantId,
        id: CannedResponseId,
    ) -> Result<Option<CannedResponse>> {
        self.find_one(CANNED_RESPONSES, scope(tenant, id))
            .await?
            .map(|d| canned_from(&d))
            .transpose()
    }

    /// Sorted by the server: folded names compare as UTF-8 bytes there, as Rust strings
    /// do, and ids are UUID strings of one fixed lower-case form, whose order is the ids'.
    async fn list_canned_responses(&self, tenant: TenantId) -> Result<Vec<CannedResponse>> {
        self.find_all(
            CANNED_RESPONSES,
            doc! { "tenant_id": tenant.to_string() },
            doc! { "name_folded": 1, "_id": 1 },
            0,
        )
        .await?
        .iter()
        .map(canned_from)
        .collect()
    }

    /// Pending commits of the tenant are applied first, as for `list_tenant_events`, so
    /// every acknowledged use is counted; then one aggregation counts on the server, on
    /// the events' `(tenant_id, type, at)` index.
    async fn canned_response_usage(
        &self,
        tenant: TenantId,
        since: Timestamp,
    ) -> Result<Vec<CannedUsage>> {
        self.settle(doc! { "tenant_id": tenant.to_string() })
            .await?;
        let pipeline = vec![
            doc! { "$match": {
                "tenant_id": tenant.to_string(),
                "type": APPLIED,
                "at": at_or_after(since),
            } },
            doc! { "$group": {
                "_id": "$kind.canned_response",
                "uses": { "$sum": 1_i64 },
                "last_used_at": { "$max": "$at" },
            } },
            doc! { "$sort": { "uses": -1, "_id": 1 } },
        ];
        self.aggregate(EVENTS, pipeline)
            .await?
            .iter()
            .map(usage_from)
            .collect()
    }
}
