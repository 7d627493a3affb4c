//! API keys: one document per key, with the hash of its secret (read only by the lookup
//! that authenticates a key; listings project it away).

use async_trait::async_trait;
use bson::{Document, doc};
use helpdesk_core::domain::ApiKey;
use helpdesk_core::store::ApiKeyStore;
use helpdesk_core::{ApiKeyId, DuplicateKind, Error, Result, TenantId};
use jiff::Timestamp;
use mongodb::ClientSession;

use crate::codec::{Reader, date, opt_date};
use crate::error::{driver, is_duplicate_key};
use crate::schema::API_KEYS;
use crate::store::{MongoStore, in_session};

fn key_doc(key: &ApiKey, secret_hash: &str) -> Document {
    doc! {
        "_id": key.id.to_string(),
        "tenant_id": key.tenant_id.to_string(),
        "user_id": key.user_id.to_string(),
        "role": key.role.as_str(),
        "label": &key.label,
        "prefix": &key.prefix,
        "secret_hash": secret_hash,
        "created_at": date(key.created_at),
        "created_by": key.created_by.to_string(),
        "last_used_at": opt_date(key.last_used_at),
        "revoked_at": opt_date(key.revoked_at),
    }
}

fn key_from(d: &Document) -> Result<ApiKey> {
    let r = Reader::new(d, API_KEYS);
    Ok(ApiKey {
        id: r.parse("_id")?,
        tenant_id: r.parse("tenant_id")?,
        user_id: r.parse("user_id")?,
        role: r.parse("role")?,
        label: r.str("label")?.to_string(),
        prefix: r.str("prefix")?.to_string(),
        created_at: r.time("created_at")?,
        created_by: r.parse("created_by")?,
        last_used_at: r.opt_time("last_used_at")?,
        revoked_at: r.opt_time("revoked_at")?,
    })
}

/// Every field but the secret's hash.
fn without_hash() -> Document {
    doc! { "secret_hash": 0 }
}

impl MongoStore {
    /// Inserts a key with its secret's hash (a used id or hash is `Duplicate { kind: Id }`;
    /// the hash is never put in the error).
    pub(crate) async fn insert_api_key(
        &self,
        key: &ApiKey,
        secret_hash: &str,
        mut session: Option<&mut ClientSession>,
    ) -> Result<()> {
        let keys = self.coll(API_KEYS);
        match in_session!(session, keys.insert_one(key_doc(key, secret_hash))) {
            Ok(_) => Ok(()),
            Err(e) if is_duplicate_key(&e) => Err(Error::Duplicate {
                kind: DuplicateKind::Id,
                value: key.id.to_string(),
            }),
            Err(e) => Err(driver(e)),
        }
    }

    /// Sets `revoked_at` unless the key is already revoked; `NotFound` when the key is not
    /// the tenant's.
    pub(crate) async fn revoke_api_key_in(
        &self,
        tenant: TenantId,
        id: ApiKeyId,
        at: Timestamp,
        mut session: Option<&mut ClientSession>,
    ) -> Result<()> {
        let keys = self.coll(API_KEYS);
        let filter = doc! { "_id": id.to_string(), "tenant_id": tenant.to_string() };
        let mut unrevoked = filter.clone();
        unrevoked.insert("revoked_at", bson::Bson::Null);
        let set = doc! { "$set": { "revoked_at": date(at) } };
        let revoked = in_session!(session, keys.update_one(unrevoked, set)).map_err(driver)?;
        if revoked.matched_count > 0 {
            return Ok(());
        }
        // Already revoked (the first time stays), or not the tenant's key.
        let found = in_session!(session, keys.find_one(filter)).map_err(driver)?;
        match found {
            Some(_) => Ok(()),
            None => Err(Error::not_found("api_key", id)),
        }
    }
}

#[async_trait]
impl ApiKeyStore for MongoStore {
    async fn api_key_by_hash(&self, secret_hash: &str) -> Result<Option<ApiKey>> {
        self.coll(API_KEYS)
            .find_one(doc! { "secret_hash": secret_hash })
            .projection(without_hash())
            .await
            .map_err(driver)?
            .map(|d| key_from(&d))
            .transpose()
    }

    async fn list_api_keys(&self, tenant: TenantId) -> Result<Vec<ApiKey>> {
        use futures_util::TryStreamExt;
        let docs: Vec<Document> = self
            .coll(API_KEYS)
            .find(doc! { "tenant_id": tenant.to_string() })
            .sort(doc! { "created_at": -1, "_id": -1 })
            .projection(without_hash())
            .await
            .map_err(driver)?
            .try_collect()
            .await
            .map_err(driver)?;
        docs.iter().map(key_from).collect()
    }

    async fn touch_api_key(&self, tenant: TenantId, id: ApiKeyId, at: Timestamp) -> Result<()> {
        // `$max` never moves the time back (a date sorts after a null or missing field).
        let done = self
            .coll(API_KEYS)
            .update_one(
                doc! { "_id": id.to_string(), "tenant_id": tenant.to_string() },
                doc! { "$max": { "last_used_at": date(at) } },
            )
            .await
            .map_err(driver)?;
        if done.matched_count == 0 {
            return Err(Error::not_found("api_key", id));
        }
        Ok(())
    }
}
