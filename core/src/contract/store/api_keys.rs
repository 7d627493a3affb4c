//! API keys: the reads and the use mark. Creating and revoking a key are administrative
//! changes with an audit event ([`AdminChange::CreateApiKey`](super::AdminChange::CreateApiKey),
//! [`AdminChange::RevokeApiKey`](super::AdminChange::RevokeApiKey)).

use async_trait::async_trait;
use jiff::Timestamp;

use crate::domain::ApiKey;
use crate::{ApiKeyId, Result, TenantId};

/// API keys of every tenant, found by the hash of their secret.
#[async_trait]
pub trait ApiKeyStore: Send + Sync {
    /// The key whose secret hashes to `secret_hash` (hex SHA-256, see
    /// [`hash_token`](crate::auth::hash_token)), of any tenant, revoked ones included
    /// (the service decides what a revoked key gets). The one read that looks a key up by
    /// its secret; nothing returns the hash.
    async fn api_key_by_hash(&self, secret_hash: &str) -> Result<Option<ApiKey>>;

    /// The tenant's keys, revoked ones included, newest first (`created_at` descending,
    /// then id descending).
    async fn list_api_keys(&self, tenant: TenantId) -> Result<Vec<ApiKey>>;

    /// Records a use of the tenant's key at `at`: `last_used_at` becomes `at` unless it is
    /// already later (it never moves back). No audit event. A key of another tenant, or an
    /// unknown id, is `NotFound`.
    async fn touch_api_key(&self, tenant: TenantId, id: ApiKeyId, at: Timestamp) -> Result<()>;
}
