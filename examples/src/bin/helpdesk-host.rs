//! A host app embedding the helpdesk: its own page at `/` and the whole JSON API under
//! `/support` (`cargo run -p helpdesk-examples --bin helpdesk-host`, then open
//! http://127.0.0.1:8090/support/docs/).

use std::{net::SocketAddr, sync::Arc};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let store = helpdesk_store_sqlite::SqliteStore::open("host-helpdesk.db").await?;
    let helpdesk = helpdesk_core::Helpdesk::builder(Arc::new(store)).build()?;
    let app = axum::Router::new()
        .route("/", axum::routing::get(|| async { "The host's own page" }))
        .nest(
            "/support",
            helpdesk_api::router(helpdesk, helpdesk_api::ApiConfig::default()),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:8090").await?;
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .await?;
    Ok(())
}
