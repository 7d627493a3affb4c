//! `api-key create | list | revoke`: API keys of a tenant, administered as one of its
//! admins (the changes are audited as that admin's).

use std::io::Write;

use helpdesk_core::ApiKeyId;
use helpdesk_core::service::NewApiKey;

use super::context::Context;
use super::error::{CliError, CliResult};

fn write_err(source: std::io::Error) -> CliError {
    CliError::Write {
        path: "<stdout>".into(),
        source,
    }
}

/// Creates a key acting as `user_email` (default: the admin) and prints its secret once.
pub(super) async fn create(
    ctx: &Context,
    slug: &str,
    admin_email: &str,
    label: &str,
    user_email: Option<&str>,
    out: &mut dyn Write,
) -> CliResult<()> {
    let admin = ctx.actor(slug, admin_email).await?;
    let mut new = NewApiKey::new(label);
    if let Some(email) = user_email {
        new = new.acting_as(ctx.actor(slug, email).await?.user_id);
    }
    let created = ctx.helpdesk.create_api_key(&admin, new).await?;
    writeln!(
        out,
        "id: {}\nlabel: {}\nacts as: {} ({})\nsecret: {}\n\nThe secret is shown once; \
         send it as `Authorization: Bearer <secret>`.",
        created.key.id, created.key.label, created.key.user_id, created.key.role, created.secret
    )
    .map_err(write_err)
}

/// Lists the tenant's keys (never their secrets).
pub(super) async fn list(
    ctx: &Context,
    slug: &str,
    admin_email: &str,
    out: &mut dyn Write,
) -> CliResult<()> {
    let admin = ctx.actor(slug, admin_email).await?;
    let keys = ctx.helpdesk.list_api_keys(&admin).await?;
    writeln!(
        out,
        "{:<36}  {:<10}  {:<8}  {:<7}  LABEL",
        "ID", "PREFIX", "ROLE", "STATE"
    )
    .map_err(write_err)?;
    for key in keys {
        let state = if key.revoked_at.is_some() {
            "revoked"
        } else {
            "active"
        };
        writeln!(
            out,
            "{:<36}  {:<10}  {:<8}  {:<7}  {}",
            key.id,
            key.prefix,
            key.role,
            state,
            key.label.replace(['\n', '\r'], " ")
        )
        .map_err(write_err)?;
    }
    Ok(())
}

/// Revokes a key.
pub(super) async fn revoke(
    ctx: &Context,
    slug: &str,
    admin_email: &str,
    id: &str,
    out: &mut dyn Write,
) -> CliResult<()> {
    let admin = ctx.actor(slug, admin_email).await?;
    let id: ApiKeyId = id.parse()?;
    ctx.helpdesk.revoke_api_key(&admin, id).await?;
    writeln!(out, "revoked {id}").map_err(write_err)
}
