//! The `helpdesk` command-line tool: `helpdesk --data-dir DIR <command>`.
//!
//! It shares its data folder layout with `helpdesk-web` (SQLite database, or MongoDB with
//! `MONGODB_URI`, or PostgreSQL with a `postgres://` `DATABASE_URL`; the knowledge-base
//! index, `demo-logins.txt`). Machine-readable output
//! goes to stdout, progress bars and errors to stderr.

mod analytics;
mod context;
mod error;
mod kb;
mod keys;
mod mail;
mod tickets;

use std::io::Write;
use std::path::{Path, PathBuf};

use clap::{Parser, Subcommand};
use helpdesk_core::domain::{Priority, TicketStatus};

pub use context::Context;
pub use error::{CliError, CliResult};
pub use kb::ImportReport;
pub use mail::describe as describe_ingest;

use crate::web::seed::{DEMO_TENANT, seed_demo};
use crate::web::write_private_file;

/// The command line.
#[derive(Debug, Parser)]
#[command(name = "helpdesk", about = "Administer a helpdesk-rs data folder")]
pub struct Cli {
    /// Where data is kept (same layout as helpdesk-web).
    #[arg(long, default_value = "helpdesk-data", global = true)]
    pub data_dir: PathBuf,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create the store and run its migrations (idempotent).
    Init,
    /// Seed the demo company unless it exists; its logins go to DIR/demo-logins.txt.
    SeedDemo,
    /// Import every *.md file of a folder as knowledge-base articles (title from `# `).
    ImportKb {
        /// The tenant slug.
        #[arg(long)]
        tenant: String,
        /// The folder of markdown files.
        dir: PathBuf,
    },
    /// Rebuild the tenant's search index from its stored articles.
    Reindex {
        /// The tenant slug.
        #[arg(long)]
        tenant: String,
    },
    /// Open a ticket as a user.
    Open {
        /// The tenant slug.
        #[arg(long)]
        tenant: String,
        /// The e-mail of the user to act as.
        #[arg(long = "as", value_name = "EMAIL")]
        as_email: String,
        /// Subject.
        #[arg(long)]
        subject: String,
        /// Description.
        #[arg(long)]
        description: String,
        /// Priority (low, medium, high, urgent); triage may raise it.
        #[arg(long)]
        priority: Option<Priority>,
    },
    /// List the tickets a user may see, newest first.
    List {
        /// The tenant slug.
        #[arg(long)]
        tenant: String,
        /// The e-mail of the user to act as.
        #[arg(long = "as", value_name = "EMAIL")]
        as_email: String,
        /// Only these statuses (repeatable).
        #[arg(long)]
        status: Vec<TicketStatus>,
        /// At most this many tickets (1..=200).
        #[arg(long, default_value_t = 50)]
        limit: u32,
    },
    /// Run the SLA and chat-inactivity sweeps and dispatch the outbox.
    Sweep,
    /// API keys for integrations of the JSON API.
    ApiKey {
        /// What to do.
        #[command(subcommand)]
        action: ApiKeyCommand,
    },
    /// Take one e-mail message from stdin into the tenant's helpdesk (for the MTA's pipe:
    /// `"|helpdesk --data-dir DIR ingest-email --tenant acme"`). Exit code 75 (try again
    /// later) when the store is unavailable; a message the helpdesk refuses is kept in its
    /// quarantine (exit 0).
    IngestEmail {
        /// The tenant slug.
        #[arg(long)]
        tenant: String,
    },
    /// Take mail from the IMAP mailbox of the `IMAP_*` environment variables (see
    /// `helpdesk_examples::web::imap`) into the `IMAP_TENANT` company, moving what was taken
    /// to `Processed`: once, or until interrupted (Ctrl-C) with `--watch`.
    PollImap {
        /// Keep polling (IDLE when the server has it) until interrupted.
        #[arg(long)]
        watch: bool,
    },
    /// E-mail kept in a tenant's quarantine (admins only).
    Quarantine {
        /// What to do.
        #[command(subcommand)]
        action: QuarantineCommand,
    },
    /// Export the tenant's analytics as CSV (`metric,key,value`).
    Analytics {
        /// The tenant slug.
        #[arg(long)]
        tenant: String,
        /// The e-mail of an admin of the tenant.
        #[arg(long = "as", value_name = "ADMIN_EMAIL")]
        as_email: String,
        /// The last N days (1..=366).
        #[arg(long, default_value_t = 30)]
        days: u32,
        /// Write to this file instead of stdout.
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

/// `quarantine` subcommands; each acts as an admin of the tenant.
#[derive(Debug, Subcommand)]
pub enum QuarantineCommand {
    /// List the held messages, newest first (tab-separated).
    List {
        /// The tenant slug.
        #[arg(long)]
        tenant: String,
        /// The e-mail of an admin of the tenant.
        #[arg(long = "as", value_name = "ADMIN_EMAIL")]
        as_email: String,
    },
    /// Take a held message in again (without the noise filter and the per-sender limit).
    Reingest {
        /// The tenant slug.
        #[arg(long)]
        tenant: String,
        /// The e-mail of an admin of the tenant.
        #[arg(long = "as", value_name = "ADMIN_EMAIL")]
        as_email: String,
        /// The entry's id.
        id: String,
    },
    /// Discard a held message.
    Discard {
        /// The tenant slug.
        #[arg(long)]
        tenant: String,
        /// The e-mail of an admin of the tenant.
        #[arg(long = "as", value_name = "ADMIN_EMAIL")]
        as_email: String,
        /// The entry's id.
        id: String,
    },
}

/// `api-key` subcommands; each acts as an admin of the tenant.
#[derive(Debug, Subcommand)]
pub enum ApiKeyCommand {
    /// Create a key and print its secret (shown this once).
    Create {
        /// The tenant slug.
        #[arg(long)]
        tenant: String,
        /// The e-mail of an admin of the tenant.
        #[arg(long = "as", value_name = "ADMIN_EMAIL")]
        as_email: String,
        /// What the key is for.
        #[arg(long)]
        label: String,
        /// The agent or admin the key acts as (default: the admin).
        #[arg(long = "for", value_name = "EMAIL")]
        for_email: Option<String>,
    },
    /// List the tenant's keys (never their secrets).
    List {
        /// The tenant slug.
        #[arg(long)]
        tenant: String,
        /// The e-mail of an admin of the tenant.
        #[arg(long = "as", value_name = "ADMIN_EMAIL")]
        as_email: String,
    },
    /// Revoke a key; it stops working at once.
    Revoke {
        /// The tenant slug.
        #[arg(long)]
        tenant: String,
        /// The e-mail of an admin of the tenant.
        #[arg(long = "as", value_name = "ADMIN_EMAIL")]
        as_email: String,
        /// The key's id.
        id: String,
    },
}

/// Runs `cli`, writing its output to `out`.
pub async fn run(cli: Cli, out: &mut dyn Write) -> CliResult<()> {
    let ctx = Context::open(&cli.data_dir).await?;
    let write_err = |source| CliError::Write {
        path: PathBuf::from("<stdout>"),
        source,
    };
    match cli.command {
        Command::Init => {
            writeln!(out, "initialized {}", cli.data_dir.display()).map_err(write_err)?;
        }
        Command::SeedDemo => seed(&ctx, &cli.data_dir, out).await?,
        Command::ImportKb { tenant, dir } => {
            let report = kb::import_kb(&ctx, &tenant, &dir).await?;
            writeln!(
                out,
                "imported {} articles ({} created, {} updated)",
                report.created + report.updated,
                report.created,
                report.updated
            )
            .map_err(write_err)?;
        }
        Command::Reindex { tenant } => {
            let n = kb::reindex(&ctx, &tenant).await?;
            writeln!(out, "reindexed {n} articles").map_err(write_err)?;
        }
        Command::Open {
            tenant,
            as_email,
            subject,
            description,
            priority,
        } => {
            let ticket =
                tickets::open(&ctx, &tenant, &as_email, &subject, &description, priority).await?;
            let assignee = match ticket.assignee {
                Some(id) => ctx
                    .helpdesk
                    .store()
                    .get_user(ticket.tenant_id, id)
                    .await?
                    .map(|u| u.email),
                None => None,
            };
            write!(out, "{}", tickets::describe(&ticket, assignee.as_deref()))
                .map_err(write_err)?;
        }
        Command::List {
            tenant,
            as_email,
            status,
            limit,
        } => {
            let list = tickets::list(&ctx, &tenant, &as_email, status, limit).await?;
            write!(out, "{}", tickets::table(&list)).map_err(write_err)?;
        }
        Command::Sweep => {
            let sla = ctx.helpdesk.sla_sweep().await?;
            let chat = ctx.helpdesk.chat_inactivity_sweep().await?;
            let outbox = ctx.helpdesk.dispatch_outbox().await?;
            let index = ctx.helpdesk.index_sweep().await?;
            writeln!(
                out,
                "sla: ran={} examined={} breaches={}\n\
                 chat: ran={} closed={} resolved={}\n\
                 outbox: ran={} delivered={} failed={}\n\
                 index: ran={} embedded={} failed={}",
                sla.ran,
                sla.examined,
                sla.breaches,
                chat.ran,
                chat.closed,
                chat.resolved,
                outbox.ran,
                outbox.delivered,
                outbox.failed,
                index.ran,
                index.embedded,
                index.failed
            )
            .map_err(write_err)?;
        }
        Command::ApiKey { action } => match action {
            ApiKeyCommand::Create {
                tenant,
                as_email,
                label,
                for_email,
            } => keys::create(&ctx, &tenant, &as_email, &label, for_email.as_deref(), out).await?,
            ApiKeyCommand::List { tenant, as_email } => {
                keys::list(&ctx, &tenant, &as_email, out).await?
            }
            ApiKeyCommand::Revoke {
                tenant,
                as_email,
                id,
            } => keys::revoke(&ctx, &tenant, &as_email, &id, out).await?,
        },
        Command::IngestEmail { tenant } => {
            mail::ingest_email(&ctx, &cli.data_dir, &tenant, out).await?
        }
        Command::PollImap { watch } => mail::poll_imap(&ctx, &cli.data_dir, watch, out).await?,
        Command::Quarantine { action } => match action {
            QuarantineCommand::List { tenant, as_email } => {
                mail::list(&ctx, &tenant, &as_email, out).await?
            }
            QuarantineCommand::Reingest {
                tenant,
                as_email,
                id,
            } => mail::reingest(&ctx, &cli.data_dir, &tenant, &as_email, &id, out).await?,
            QuarantineCommand::Discard {
                tenant,
                as_email,
                id,
            } => mail::discard(&ctx, &tenant, &as_email, &id, out).await?,
        },
        Command::Analytics {
            tenant,
            as_email,
            days,
            out: file,
        } => {
            let report = analytics::report(&ctx, &tenant, &as_email, days).await?;
            match file {
                Some(path) => {
                    let f = std::fs::File::create(&path).map_err(|source| CliError::Write {
                        path: path.clone(),
                        source,
                    })?;
                    analytics::write_csv(&report, std::io::BufWriter::new(f))?;
                }
                None => analytics::write_csv(&report, out)?,
            }
        }
    }
    Ok(())
}

/// `seed-demo`: seeds unless the demo tenant exists.
async fn seed(ctx: &Context, data_dir: &Path, out: &mut dyn Write) -> CliResult<()> {
    let write_err = |source| CliError::Write {
        path: PathBuf::from("<stdout>"),
        source,
    };
    let store = ctx.helpdesk.store();
    if store.get_tenant_by_slug(DEMO_TENANT).await?.is_some() {
        writeln!(out, "demo tenant `{DEMO_TENANT}` exists; nothing to do").map_err(write_err)?;
        return Ok(());
    }
    let credentials = seed_demo(&ctx.helpdesk, ctx.backends.knowledge_base.as_ref()).await?;
    let text = credentials.describe();
    let path = data_dir.join("demo-logins.txt");
    write_private_file(&path, &text).map_err(|source| CliError::Write { path, source })?;
    write!(out, "{text}").map_err(write_err)?;
    Ok(())
}
