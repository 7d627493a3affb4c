//! Opening the backends and resolving `--tenant` and `--as`.

use std::path::Path;
use std::sync::Arc;

use helpdesk_core::domain::{Actor, Role, Tenant};
use helpdesk_core::{Helpdesk, KnowledgeBase};

use super::error::{CliError, CliResult};
use crate::web::Backends;

/// The backends and the engine of one run.
pub struct Context {
    /// The backends (store, knowledge base, embedder).
    pub backends: Backends,
    /// The engine.
    pub helpdesk: Helpdesk,
}

impl Context {
    /// Opens the backends under `data_dir` (see [`Backends::from_environment`]).
    pub async fn open(data_dir: &Path) -> CliResult<Self> {
        let backends = Backends::from_environment(data_dir).await?;
        let helpdesk = backends.build()?;
        Ok(Self { backends, helpdesk })
    }

    /// The knowledge base, or [`CliError::NoKnowledgeBase`] when the backends have none.
    pub fn knowledge_base(&self) -> CliResult<Arc<dyn KnowledgeBase>> {
        self.backends
            .knowledge_base
            .clone()
            .ok_or(CliError::NoKnowledgeBase)
    }

    /// The tenant with `slug`.
    pub async fn tenant(&self, slug: &str) -> CliResult<Tenant> {
        self.helpdesk
            .store()
            .get_tenant_by_slug(slug)
            .await?
            .ok_or_else(|| CliError::UnknownTenant(slug.to_string()))
    }

    /// The actor for the user with `email` in the tenant `slug`.
    pub async fn actor(&self, slug: &str, email: &str) -> CliResult<Actor> {
        let tenant = self.tenant(slug).await?;
        let user = self
            .helpdesk
            .store()
            .get_user_by_email(tenant.id, email)
            .await?
            .ok_or_else(|| CliError::UnknownUser {
                tenant: slug.to_string(),
                email: email.to_string(),
            })?;
        Ok(Actor::for_user(&user))
    }

    /// The actor of the first active admin of the tenant `slug`: who the operator's
    /// knowledge-base commands act as (their changes are audited as that admin's).
    pub async fn admin(&self, slug: &str) -> CliResult<Actor> {
        let tenant = self.tenant(slug).await?;
        self.helpdesk
            .store()
            .list_users(tenant.id, Some(Role::Admin))
            .await?
            .iter()
            .find(|u| u.active)
            .map(Actor::for_user)
            .ok_or(CliError::NoAdmin(slug.to_string()))
    }
}
