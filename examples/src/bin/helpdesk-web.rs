//! `helpdesk-web [--port P] [--data-dir DIR] [--demo-store]`: the example web helpdesk.
//!
//! Keeps its data under `--data-dir` (default `helpdesk-data`): a SQLite database (or
//! MongoDB when `MONGODB_URI` is set, else PostgreSQL when `DATABASE_URL` is a
//! `postgres://` URL: see `StoreChoice`) and a persistent knowledge-base index built with the
//! offline MiniLM model (`scripts/setup-model.sh` prepares it and sets `HELPDESK_MODEL_DIR`
//! and `ORT_DYLIB_PATH`). With `GEMINI_API_KEY` it uses Gemini, else with `OPENAI_BASE_URL`
//! or `OPENAI_API_KEY` an OpenAI-compatible server (`OPENAI_MODEL` names the model);
//! otherwise it runs in offline mode. With `SMTP_URL` (e.g. `smtp://127.0.0.1:2525`) notifications go out as
//! e-mail from `SMTP_FROM` (default `helpdesk@localhost`), and so do sign-up confirmation
//! links (without `SMTP_URL` they are written to the log). Agents' replies on e-mail
//! tickets go to the customer as threaded reply mails, with reply tokens signed with
//! `MAIL_TOKEN_KEY` (64 hex digits; by default a key kept in the data folder). With
//! `IMAP_HOST` (and `IMAP_USER`, `IMAP_PASSWORD`, ...: see `helpdesk_examples::web::imap`) it
//! takes mail from that mailbox into the `IMAP_TENANT` company. On first
//! start it seeds a demo company ("Nimbus Notes") and prints its logins (kept in `DIR/demo-logins.txt`, readable
//! only by you), then `listening on http://127.0.0.1:P` and, set apart in a block, the
//! address to open and the demo logins (again on later starts). `--demo-store` keeps
//! everything in memory instead. The data folder is created readable by you only (0700),
//! the SQLite file 0600. Behind a TLS proxy, `--public-url https://...` makes the session
//! cookie `Secure`; `--idle-minutes` ends unused sessions (default 30).
//!
//! Several instances may share one MongoDB or PostgreSQL database (README, "Running
//! several instances"): give them the same `MAIL_TOKEN_KEY`, each its own `--data-dir`,
//! and start one first on a new database (it seeds the demo company; a second instance
//! seeding at the same time fails with a duplicate company and exits). `MONGODB_DATABASE`
//! names the MongoDB database (default `helpdesk`). `--sweep-seconds` (or
//! `HELPDESK_SWEEP_SECONDS`, default 30) sets how often the background sweeps run and
//! `--lease-seconds` (or `HELPDESK_LEASE_SECONDS`, default 60) how long a sweep's lease
//! lasts, so how soon another instance takes over the work of one that died.

use std::io::{IsTerminal, Write};
use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use clap::Parser;
use helpdesk_core::Notifier;
use helpdesk_core::service::HelpdeskConfig;
use helpdesk_examples::error_chain;
use helpdesk_examples::web::imap::imap_from_env;
use helpdesk_examples::web::mail::Mailer;
use helpdesk_examples::web::seed::{DEMO_TENANT, seed_demo};
use helpdesk_examples::web::smtp::{DEFAULT_FROM, MAIL_TOKEN_KEY, SmtpNotifier, app_secret};
use helpdesk_examples::web::{
    AppState, Backends, WebOptions, WebSecret, create_private_dir, router, spawn_sweeps,
    write_private_file,
};
use helpdesk_mail::imap::ImapPoller;
use helpdesk_mail::{MailIngest, MailNotifier, ReplyTokenKey, TenantMailbox};

#[derive(Parser)]
#[command(name = "helpdesk-web", about = "The helpdesk-rs example web helpdesk")]
struct Cli {
    /// Port to listen on (127.0.0.1 only); 0 picks a free one.
    #[arg(long, default_value_t = 8080)]
    port: u16,
    /// Where data is kept (SQLite database, knowledge-base index, demo logins).
    #[arg(long, default_value = "helpdesk-data")]
    data_dir: PathBuf,
    /// Keep everything in memory (nothing survives a restart).
    #[arg(long)]
    demo_store: bool,
    /// The address people reach the helpdesk at (e.g. behind a TLS proxy). When it is
    /// `https://...`, the session cookie is `Secure`. Defaults to the local address.
    #[arg(long, env = "HELPDESK_PUBLIC_URL")]
    public_url: Option<String>,
    /// Overrides whether cookies are `Secure` (default: when the public URL is https).
    #[arg(long)]
    secure_cookies: Option<bool>,
    /// Minutes after which an unused session ends (the lifetime of any session is 12 h).
    #[arg(long, default_value_t = 30)]
    idle_minutes: u64,
    /// Seconds between two rounds of the background sweeps (SLA breaches, idle chats,
    /// automation rules, retention, notification delivery, the knowledge-base index).
    #[arg(long, env = "HELPDESK_SWEEP_SECONDS", default_value_t = 30,
          value_parser = clap::value_parser!(u64).range(1..=86_400))]
    sweep_seconds: u64,
    /// Seconds a sweep's lease lasts (each sweep and the delivery of notifications and
    /// webhooks take one in the store, so that of several instances one works a batch).
    /// When an instance dies holding a lease, another takes the work over once it
    /// expires. Keep it well above the time one round of work takes.
    #[arg(long, env = "HELPDESK_LEASE_SECONDS", default_value_t = 60,
          value_parser = clap::value_parser!(u64).range(1..=86_400))]
    lease_seconds: u64,
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    // Colour codes only for a person at a terminal: a log file or a pipe gets plain text.
    let colour = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(colour)
        .with_max_level(tracing::Level::INFO)
        .init();
    match run(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("helpdesk-web: {e}");
            for cause in error_chain(e.as_ref()).skip(1) {
                eprintln!("  caused by: {cause}");
            }
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> Result<(), Box<dyn std::error::Error>> {
    let backends = if cli.demo_store {
        Backends::offline_demo()
    } else {
        Backends::from_environment(&cli.data_dir).await?
    };
    let smtp = smtp_notifier(&backends)?;
    let data_dir = (!cli.demo_store).then_some(cli.data_dir.as_path());
    // One key signs the reply tokens in mail going out and checks them on mail coming in.
    let secret = app_secret(std::env::var(MAIL_TOKEN_KEY).ok().as_deref(), data_dir)?;
    let token_key = ReplyTokenKey::new(&secret)?;
    let web_secret = WebSecret::new(&secret)?;
    let notifier = match &smtp {
        Some(staff) => Some(mail_notifier(&backends, staff, token_key.clone())?),
        None => None,
    };
    let config = HelpdeskConfig {
        lease_ttl: Duration::from_secs(cli.lease_seconds),
        ..HelpdeskConfig::default()
    };
    let helpdesk = backends.build_with_config(notifier, config)?;
    let logins_file = cli.data_dir.join("demo-logins.txt");
    let existing = helpdesk.store().get_tenant_by_slug(DEMO_TENANT).await?;
    let logins = if existing.is_none() {
        let credentials = seed_demo(&helpdesk, backends.knowledge_base.as_ref()).await?;
        let text = credentials.describe();
        if !cli.demo_store {
            create_private_dir(&cli.data_dir)?;
            write_private_file(&logins_file, &text)?;
        }
        text
    } else {
        std::fs::read_to_string(&logins_file).unwrap_or_else(|_| {
            format!(
                "The demo company exists; its logins were printed at first start ({} is \
                 missing).\n",
                logins_file.display()
            )
        })
    };
    let sweeps = spawn_sweeps(helpdesk.clone(), Duration::from_secs(cli.sweep_seconds));
    // Webhooks admins register through the JSON API are posted from here.
    let webhooks = tokio::spawn(
        helpdesk_api::WebhookSender::new(
            helpdesk.clone(),
            helpdesk_api::WebhookDelivery::default(),
        )?
        .run(),
    );
    let listener =
        tokio::net::TcpListener::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, cli.port))).await?;
    let port = listener.local_addr()?.port();
    let local_url = format!("http://127.0.0.1:{port}");
    let public_url = cli.public_url.clone().unwrap_or_else(|| local_url.clone());
    let secure_cookies = cli
        .secure_cookies
        .unwrap_or_else(|| WebOptions::secure_cookies_for(&public_url));
    let helpdesk_for_imap = helpdesk.clone();
    let state = AppState::new(
        helpdesk,
        backends.knowledge_base.clone(),
        WebOptions {
            mode_notice: backends.mode_notice(),
            demo_hint: "Demo logins are printed in the terminal where helpdesk-web started.".into(),
            secure_cookies,
            idle_timeout: Duration::from_secs(cli.idle_minutes.max(1) * 60),
            // Sign-up links go out by e-mail too (without SMTP_URL, to the log).
            mailer: smtp.map(|n| Arc::new(n) as Arc<dyn Mailer>),
            public_url: public_url.clone(),
            mail_token_key: Some(token_key.clone()),
            secret: Some(web_secret),
            ..WebOptions::default()
        },
    )?;
    let imap = imap_poller(&helpdesk_for_imap, token_key).await?;
    println!("listening on {local_url}");
    print!("{}", ready_block(&public_url, &logins));
    std::io::stdout().flush()?;
    axum::serve(
        listener,
        router(state).into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await?;
    sweeps.abort();
    webhooks.abort();
    if let Some(imap) = imap {
        imap.abort();
    }
    Ok(())
}

/// The block printed once the server listens: where to open it and the demo logins, set
/// apart from the log lines (which go to stderr).
fn ready_block(url: &str, logins: &str) -> String {
    let rule = "=".repeat(72);
    let mut block = format!("\n{rule}\n helpdesk-web is ready: open {url}\n\n");
    for line in logins.lines() {
        block.push(' ');
        block.push_str(line);
        block.push('\n');
    }
    block.push_str(&format!("{rule}\n\n"));
    block
}

/// The e-mail notifier when `SMTP_URL` is set (sender from `SMTP_FROM`).
fn smtp_notifier(backends: &Backends) -> Result<Option<SmtpNotifier>, Box<dyn std::error::Error>> {
    let Ok(url) = std::env::var("SMTP_URL") else {
        return Ok(None);
    };
    if url.trim().is_empty() {
        return Ok(None);
    }
    let from = std::env::var("SMTP_FROM").unwrap_or_else(|_| DEFAULT_FROM.to_owned());
    let notifier = SmtpNotifier::from_url(&url, &from, backends.store.clone())?;
    println!("e-mail notifications via {}", notifier.server());
    Ok(Some(notifier))
}

/// Customers' mail (replies on e-mail tickets, acknowledgements) through the same SMTP
/// server, with `staff` (the plain notifications) as the fallback for everything else.
fn mail_notifier(
    backends: &Backends,
    staff: &SmtpNotifier,
    key: ReplyTokenKey,
) -> Result<Arc<dyn Notifier>, Box<dyn std::error::Error>> {
    let url = std::env::var("SMTP_URL").unwrap_or_default();
    let mut notifier =
        MailNotifier::from_url(&url, backends.store.clone(), key, Arc::new(staff.clone()))?;
    // Files on a reply travel with its mail (within the notifier's size budget).
    if let Some(blobs) = &backends.blob_store {
        notifier = notifier.with_blob_store(blobs.clone());
    }
    Ok(Arc::new(notifier))
}

/// The IMAP poller when `IMAP_HOST` is set (variables in `helpdesk_examples::web::imap`):
/// mail of that mailbox goes to the `IMAP_TENANT` company through the same door as the
/// CLI's `ingest-email`.
async fn imap_poller(
    helpdesk: &helpdesk_core::Helpdesk,
    key: ReplyTokenKey,
) -> Result<Option<tokio::task::JoinHandle<()>>, Box<dyn std::error::Error>> {
    let Some((config, slug)) = imap_from_env()? else {
        return Ok(None);
    };
    let tenant = helpdesk
        .store()
        .get_tenant_by_slug(&slug)
        .await?
        .ok_or_else(|| format!("IMAP_TENANT: no company with slug `{slug}`"))?;
    let ingest = MailIngest::new(helpdesk.clone()).with_reply_token_key(key);
    let mailbox = format!("{}@{} {}", config.user, config.host, config.mailbox);
    let poller = ImapPoller::new(config, Arc::new(TenantMailbox::new(ingest, tenant.id)))?;
    println!("taking mail from {mailbox} into `{slug}`");
    Ok(Some(tokio::spawn(async move {
        if let Err(e) = poller.run(std::future::pending()).await {
            tracing::error!(error = %e, "the IMAP poller stopped");
        }
    })))
}
