//! The schema version and the upgrade of older layouts, run when a store opens.
//!
//! Versions:
//! 1. The unprefixed layout of the releases before collection prefixes (`tenants`,
//!    `tickets`, ...); it kept no version document.
//! 2. Every collection under the store's prefix (default `helpdesk_`), and the version in
//!    `{prefix}meta` as `{_id: "schema", version: 2}`.
//! 3. Full-text search and custom fields: tickets carry `custom_fields`, `field_tokens`,
//!    `search_subject` and `search_details`, searched messages `search_body`, users
//!    `search_requester`, each with its index. A database of an earlier version gets them
//!    for every document it holds ([`crate::reindex`]) before the version is recorded.
//!
//! Opening reads the version before writing anything: a newer one than [`SCHEMA_VERSION`]
//! is refused with [`Error::SchemaTooNew`]. A prefixed store that finds no version of its
//! own but a version-1 database next to it (the unprefixed collections, recognised by the
//! helpdesk's own index names, so that a host's `users` or `tickets` is never taken for
//! one) copies its documents under the prefix, drops the old collections and then records
//! the version.

use bson::{Document, doc};
use futures_util::TryStreamExt;
use helpdesk_core::{Error, Result};
use mongodb::Database;

use crate::error::{BACKEND, driver, is_duplicate_key, only_duplicate_keys};
use crate::schema::{self, DATA, META, TENANTS, TICKETS, prefixed};
use crate::store::MongoStore;

/// The schema version this build writes and understands: the `version` of the
/// `{_id: "schema"}` document in the store's `{prefix}meta` collection. A database at a
/// higher version is refused with [`Error::SchemaTooNew`].
pub const SCHEMA_VERSION: u64 = 3;

/// `_id` of the version document in `{prefix}meta`.
const SCHEMA_DOC: &str = "schema";

/// Documents copied per `insert_many` while upgrading.
const COPY_BATCH: usize = 500;

/// Brings the database to [`SCHEMA_VERSION`] under `prefix`: refuses a newer one, upgrades
/// a version-1 layout, creates what is missing and records the version.
pub(crate) async fn open(db: &Database, prefix: &str) -> Result<()> {
    let own = stored_version(db, &prefixed(prefix, META)).await?;
    refuse_newer(db, prefix, own)?;
    // An empty prefix is the version-1 names themselves: nothing to move.
    let legacy = own.is_none() && !prefix.is_empty() && is_legacy_layout(db).await?;
    schema::ensure(db, prefix).await?;
    if legacy {
        tracing::info!(
            database = db.name(),
            prefix,
            "moving the unprefixed helpdesk collections under the prefix"
        );
        copy_legacy(db, prefix).await?;
        drop_legacy(db).await?;
    }
    if own != Some(SCHEMA_VERSION) {
        // Also on a fresh database (where there is nothing to index, at the cost of three
        // empty reads): whatever the version was, nothing is recorded before the documents
        // have what this version's reads rely on.
        let done = MongoStore::unopened(db.clone(), prefix).reindex().await?;
        if done.tickets + done.messages + done.users > 0 {
            tracing::info!(
                database = db.name(),
                prefix,
                tickets = done.tickets,
                messages = done.messages,
                users = done.users,
                "indexed the existing documents for search and custom fields"
            );
        }
        record_version(db, prefix).await?;
    }
    Ok(())
}

fn refuse_newer(db: &Database, prefix: &str, found: Option<u64>) -> Result<()> {
    match found {
        Some(found) if found > SCHEMA_VERSION => Err(Error::SchemaTooNew {
            backend: BACKEND,
            database: format!("database {} (collection prefix {prefix:?})", db.name()),
            found,
            supported: SCHEMA_VERSION,
        }),
        _ => Ok(()),
    }
}

/// The version recorded in the meta collection `meta`, if any.
async fn stored_version(db: &Database, meta: &str) -> Result<Option<u64>> {
    let Some(d) = db
        .collection::<Document>(meta)
        .find_one(doc! { "_id": SCHEMA_DOC })
        .await
        .map_err(driver)?
    else {
        return Ok(None);
    };
    crate::codec::Reader::new(&d, META).u64("version").map(Some)
}

/// Whether the database holds the version-1 layout: the unprefixed `tenants` and `tickets`
/// carrying the helpdesk's unique indexes, and no version document (an unprefixed store of
/// version 2 or later writes one, and its collections are its own, not an old layout).
async fn is_legacy_layout(db: &Database) -> Result<bool> {
    let existing = db
        .list_collection_names()
        .filter(doc! { "name": { "$in": [TENANTS, TICKETS, META] } })
        .await
        .map_err(driver)?;
    let has = |name: &str| existing.iter().any(|c| c == name);
    if !(has(TENANTS) && has(TICKETS)) {
        return Ok(false);
    }
    if has(META) {
        let unprefixed = stored_version(db, META).await?;
        // A newer engine's unprefixed store is not ours to move either.
        refuse_newer(db, "", unprefixed)?;
        if unprefixed.is_some() {
            return Ok(false);
        }
    }
    for (collection, index) in [(TENANTS, "slug_unique"), (TICKETS, "tenant_number_unique")] {
        let names = db
            .collection::<Document>(collection)
            .list_index_names()
            .await
            .map_err(driver)?;
        if !names.iter().any(|n| n == index) {
            return Ok(false);
        }
    }
    Ok(true)
}

/// Copies every document of the unprefixed collections under `prefix`. Documents already
/// there (a copy interrupted and run again, or another instance upgrading at the same time)
/// are kept as they are: an insert never overwrites.
async fn copy_legacy(db: &Database, prefix: &str) -> Result<()> {
    for name in DATA {
        let from = db.collection::<Document>(name);
        let to = db.collection::<Document>(&prefixed(prefix, name));
        let mut cursor = from
            .find(doc! {})
            .sort(doc! { "_id": 1 })
            .await
            .map_err(driver)?;
        let mut batch = Vec::with_capacity(COPY_BATCH);
        loop {
            let next = cursor.try_next().await.map_err(driver)?;
            let done = next.is_none();
            batch.extend(next);
            if batch.len() == COPY_BATCH || (done && !batch.is_empty()) {
                match to
                    .insert_many(std::mem::take(&mut batch))
                    .ordered(false)
                    .await
                {
                    Ok(_) => {}
                    Err(e) if only_duplicate_keys(&e) => {}
                    Err(e) => return Err(driver(e)),
                }
            }
            if done {
                break;
            }
        }
    }
    Ok(())
}

/// Drops the unprefixed collections once they are copied. `tenants` and `tickets` go last:
/// while they are there the layout is still recognised, so an upgrade interrupted here is
/// finished by the next start.
async fn drop_legacy(db: &Database) -> Result<()> {
    let order = DATA
        .iter()
        .filter(|c| ![TENANTS, TICKETS].contains(c))
        .chain([&TENANTS, &TICKETS]);
    for name in order {
        db.collection::<Document>(name)
            .drop()
            .await
            .map_err(driver)?;
    }
    Ok(())
}

/// Records [`SCHEMA_VERSION`] in `{prefix}meta`; `$max` never lowers a version a newer
/// instance wrote meanwhile.
async fn record_version(db: &Database, prefix: &str) -> Result<()> {
    let meta = db.collection::<Document>(&prefixed(prefix, META));
    let update = || {
        meta.update_one(
            doc! { "_id": SCHEMA_DOC },
            doc! { "$max": { "version": SCHEMA_VERSION as i64 } },
        )
        .upsert(true)
    };
    match update().await {
        Ok(_) => Ok(()),
        // Two instances upserted the document at once: it exists now, so this one updates.
        Err(e) if is_duplicate_key(&e) => update().await.map(|_| ()).map_err(driver),
        Err(e) => Err(driver(e)),
    }
}
