//! `ingest-email` (the MTA's pipe, as Request Tracker's mailgate) and `quarantine`.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use helpdesk_core::QuarantineId;
use std::sync::Arc;

use helpdesk_mail::imap::ImapPoller;
use helpdesk_mail::{IngestOutcome, MailIngest, TenantMailbox};

use super::context::Context;
use super::error::{CliError, CliResult};
use crate::web::imap::imap_from_env;
use crate::web::smtp::{MAIL_TOKEN_KEY, mail_token_key};

/// The largest message read from stdin: the largest `email.max_message_bytes` a tenant may
/// set (100 MiB) and one byte, so that a longer one is still quarantined as oversized
/// rather than read without end.
const MAX_STDIN_BYTES: u64 = 100 * 1024 * 1024 + 1;

/// The engine's mail door for this run, checking reply tokens with the app's key
/// ([`mail_token_key`]).
pub(super) fn ingest(ctx: &Context, data_dir: &Path) -> CliResult<MailIngest> {
    let key = mail_token_key(
        std::env::var(MAIL_TOKEN_KEY).ok().as_deref(),
        Some(data_dir),
    )
    .map_err(|e| CliError::Argument {
        field: "MAIL_TOKEN_KEY",
        message: e.to_string(),
    })?;
    Ok(MailIngest::new(ctx.helpdesk.clone()).with_reply_token_key(key))
}

/// `ingest-email --tenant SLUG`: one message from stdin into the tenant's helpdesk.
pub(super) async fn ingest_email(
    ctx: &Context,
    data_dir: &Path,
    slug: &str,
    out: &mut dyn Write,
) -> CliResult<()> {
    let tenant = ctx.tenant(slug).await.map_err(|e| match e {
        CliError::UnknownTenant(slug) => CliError::UnknownMailTenant(slug),
        other => other,
    })?;
    let mut raw = Vec::new();
    std::io::stdin()
        .lock()
        .take(MAX_STDIN_BYTES)
        .read_to_end(&mut raw)
        .map_err(|source| CliError::Read {
            path: PathBuf::from("<stdin>"),
            source,
        })?;
    let outcome = ingest(ctx, data_dir)?
        .ingest(tenant.id, raw, "pipe")
        .await?;
    writeln!(out, "{}", describe(&outcome)).map_err(|source| CliError::Write {
        path: PathBuf::from("<stdout>"),
        source,
    })
}

/// `poll-imap`: the mailbox of the `IMAP_*` variables into its tenant, once or until
/// interrupted.
pub(super) async fn poll_imap(
    ctx: &Context,
    data_dir: &Path,
    watch: bool,
    out: &mut dyn Write,
) -> CliResult<()> {
    let argument = |e: &dyn std::fmt::Display| CliError::Argument {
        field: "IMAP_*",
        message: e.to_string(),
    };
    let (config, slug) = imap_from_env()
        .map_err(|e| argument(&e))?
        .ok_or_else(|| argument(&"IMAP_HOST is not set"))?;
    let tenant = ctx.tenant(&slug).await?;
    let sink = TenantMailbox::new(ingest(ctx, data_dir)?, tenant.id);
    let poller = ImapPoller::new(config, Arc::new(sink)).map_err(CliError::Imap)?;
    if watch {
        poller
            .run(async {
                let _ = tokio::signal::ctrl_c().await;
            })
            .await
            .map_err(CliError::Imap)?;
        return Ok(());
    }
    let report = poller.poll_once().await.map_err(CliError::Imap)?;
    writeln!(
        out,
        "fetched {}, taken in {}, left in the mailbox {}",
        report.fetched, report.accepted, report.left
    )
    .map_err(|source| CliError::Write {
        path: PathBuf::from("<stdout>"),
        source,
    })
}

/// One line saying where a message went.
pub fn describe(outcome: &IngestOutcome) -> String {
    match outcome {
        IngestOutcome::Delivered {
            number,
            disposition,
            matched_by,
            ..
        } => {
            let how = matched_by
                .as_ref()
                .map(|m| format!(", matched by {m:?}"))
                .unwrap_or_default();
            format!("delivered to #{number} ({disposition:?}{how})")
        }
        IngestOutcome::Quarantined { id, reason } => {
            format!("quarantined {id} ({})", reason.name())
        }
        _ => format!("{outcome:?}"),
    }
}

/// `quarantine list`: the held messages, newest first.
pub(super) async fn list(
    ctx: &Context,
    slug: &str,
    as_email: &str,
    out: &mut dyn Write,
) -> CliResult<()> {
    let actor = ctx.actor(slug, as_email).await?;
    let held = ctx.helpdesk.list_quarantine(&actor, true, 200).await?;
    let write_err = |source| CliError::Write {
        path: PathBuf::from("<stdout>"),
        source,
    };
    writeln!(out, "id\treceived\treason\tfrom\tsubject\tdetail").map_err(write_err)?;
    for entry in held {
        writeln!(
            out,
            "{}\t{}\t{}\t{}\t{}\t{}",
            entry.id,
            entry.received_at,
            entry.reason.name(),
            entry.from.as_deref().unwrap_or("-"),
            entry.subject.as_deref().unwrap_or("-").replace('\t', " "),
            entry.detail.replace('\t', " "),
        )
        .map_err(write_err)?;
    }
    Ok(())
}

/// `quarantine reingest ID`: the message through the door again (admins only).
pub(super) async fn reingest(
    ctx: &Context,
    data_dir: &Path,
    slug: &str,
    as_email: &str,
    id: &str,
    out: &mut dyn Write,
) -> CliResult<()> {
    let actor = ctx.actor(slug, as_email).await?;
    let id = parse_id(id)?;
    let outcome = ingest(ctx, data_dir)?.reingest(&actor, id).await?;
    writeln!(out, "{}", describe(&outcome)).map_err(|source| CliError::Write {
        path: PathBuf::from("<stdout>"),
        source,
    })
}

/// `quarantine discard ID` (admins only).
pub(super) async fn discard(
    ctx: &Context,
    slug: &str,
    as_email: &str,
    id: &str,
    out: &mut dyn Write,
) -> CliResult<()> {
    let actor = ctx.actor(slug, as_email).await?;
    ctx.helpdesk
        .discard_quarantined(&actor, parse_id(id)?)
        .await?;
    writeln!(out, "discarded {id}").map_err(|source| CliError::Write {
        path: PathBuf::from("<stdout>"),
        source,
    })
}

fn parse_id(id: &str) -> CliResult<QuarantineId> {
    id.trim().parse().map_err(|_| CliError::Argument {
        field: "id",
        message: format!("{id:?} is not a quarantine id"),
    })
}
