//! API keys of the in-memory store, kept beside their secrets' hashes.

use async_trait::async_trait;
use jiff::Timestamp;

use super::{Data, MemoryStore};
use crate::domain::ApiKey;
use crate::store::ApiKeyStore;
use crate::{ApiKeyId, DuplicateKind, Error, Result, TenantId};

pub(super) fn create(d: &mut Data, key: &ApiKey, secret_hash: &str) -> Result<()> {
    if let Some((k, _)) = d
        .api_keys
        .iter()
        .find(|(k, hash)| k.id == key.id || hash == secret_hash)
    {
        let value = if k.id == key.id {
            key.id.to_string()
        } else {
            // A hash is as good as its secret for a lookup: never echo it.
            "api key secret".to_string()
        };
        return Err(Error::Duplicate {
            kind: DuplicateKind::Id,
            value,
        });
    }
    d.api_keys.push((key.clone(), secret_hash.to_string()));
    Ok(())
}

fn key_mut(d: &mut Data, tenant: TenantId, id: ApiKeyId) -> Result<&mut ApiKey> {
    d.api_keys
        .iter_mut()
        .map(|(k, _)| k)
        .find(|k| k.tenant_id == tenant && k.id == id)
        .ok_or_else(|| Error::not_found("api_key", id))
}

pub(super) fn revoke(d: &mut Data, tenant: TenantId, id: ApiKeyId, at: Timestamp) -> Result<()> {
    let key = key_mut(d, tenant, id)?;
    key.revoked_at.get_or_insert(at);
    Ok(())
}

#[async_trait]
impl ApiKeyStore for MemoryStore {
    async fn api_key_by_hash(&self, secret_hash: &str) -> Result<Option<ApiKey>> {
        Ok(self
            .lock()?
            .api_keys
            .iter()
            .find(|(_, hash)| hash == secret_hash)
            .map(|(k, _)| k.clone()))
    }

    async fn list_api_keys(&self, tenant: TenantId) -> Result<Vec<ApiKey>> {
        let d = self.lock()?;
        let mut keys: Vec<ApiKey> = d
            .api_keys
            .iter()
            .map(|(k, _)| k)
            .filter(|k| k.tenant_id == tenant)
            .cloned()
            .collect();
        keys.sort_by_key(|k| std::cmp::Reverse((k.created_at, k.id)));
        Ok(keys)
    }

    async fn touch_api_key(&self, tenant: TenantId, id: ApiKeyId, at: Timestamp) -> Result<()> {
        let mut d = self.lock()?;
        let key = key_mut(&mut d, tenant, id)?;
        if key.last_used_at.is_none_or(|last| last < at) {
            key.last_used_at = Some(at);
        }
        Ok(())
    }
}
