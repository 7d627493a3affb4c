//! Serves the API on loopback with a seeded demo tenant, for contract tests and trying it
//! out: prints `HELPDESK_API_URL=...` and `HELPDESK_API_TOKEN=...` (an admin's session)
//! once it listens, then serves until stopped.
//!
//! `cargo run -p helpdesk-api --example serve_demo -- [port] [sqlite file]`

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use helpdesk_api::{ApiConfig, RateLimits};
use helpdesk_core::blob::FsBlobStore;
use helpdesk_core::domain::{Actor, Role};
use helpdesk_core::service::{ArticleInput, NewAttachment, NewTenant, NewTicket, NewUser};
use helpdesk_core::testkit::{FakeEmbedder, InMemoryKnowledgeBase};
use helpdesk_core::{Helpdesk, Store};
use helpdesk_store_sqlite::SqliteStore;

const PASSWORD: &str = "demo-password-1";

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let port: u16 = args.next().map_or(Ok(0), |p| p.parse())?;
    let (store, blobs) = match args.next() {
        // Attachment bytes in a folder beside the database file.
        Some(path) => (
            SqliteStore::open(&path).await?,
            PathBuf::from(format!("{path}.blobs")),
        ),
        None => (
            SqliteStore::in_memory().await?,
            std::env::temp_dir().join(format!("helpdesk-demo-blobs-{}", std::process::id())),
        ),
    };
    let store: Arc<dyn Store> = Arc::new(store);
    let kb = Arc::new(InMemoryKnowledgeBase::new(Arc::new(FakeEmbedder::new())));
    let helpdesk = Helpdesk::builder(store)
        .knowledge_base(kb)
        .blob_store(Arc::new(FsBlobStore::new(blobs)))
        .build()?;
    let token = seed(&helpdesk).await?;

    let config = ApiConfig::default().rate_limits(RateLimits::unlimited());
    let app = axum::Router::new().nest("/api/v1", helpdesk_api::router(helpdesk, config));
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    let addr = listener.local_addr()?;
    println!("HELPDESK_API_URL=http://{addr}/api/v1");
    println!("HELPDESK_API_TOKEN={token}");
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .await?;
    Ok(())
}

/// A demo tenant with an admin, an agent, a customer, tickets (with a file) and an article; returns the
/// admin's session token.
async fn seed(helpdesk: &Helpdesk) -> Result<String, helpdesk_core::Error> {
    let (_, admin) = helpdesk
        .register_tenant(NewTenant {
            name: "Demo".into(),
            slug: "demo".into(),
            admin: NewUser::new("admin@demo.test", "Ada Admin", Role::Admin)
                .with_password(PASSWORD),
            settings: None,
        })
        .await?;
    let admin = Actor::for_user(&admin);
    helpdesk
        .add_user(
            &admin,
            NewUser::new("agent@demo.test", "Bob Agent", Role::Agent).with_password(PASSWORD),
        )
        .await?;
    let customer = helpdesk
        .add_user(
            &admin,
            NewUser::new("customer@demo.test", "Carl", Role::Customer).with_password(PASSWORD),
        )
        .await?;
    let customer = Actor::for_user(&customer);
    for subject in [
        "Cannot export invoices",
        "Password reset mail never arrives",
    ] {
        let log = NewAttachment::new("error.log", b"HTTP 500 at /billing/export\n".to_vec());
        helpdesk
            .open_ticket(
                &customer,
                NewTicket::new(subject, "It has not worked since this morning.")
                    .with_attachments(vec![log]),
            )
            .await?;
    }
    helpdesk
        .create_article(
            &admin,
            ArticleInput::new("Exporting invoices", "Open Billing and press Export."),
        )
        .await?;
    Ok(helpdesk
        .login("demo", "admin@demo.test", PASSWORD)
        .await?
        .token)
}
