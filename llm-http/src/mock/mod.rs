//! What the providers' mock servers share (feature `mock-server`): serving an axum router
//! on a free local port, rendering scripted replies ([`Outcome`]), and the default answers
//! built from a request ([`value_for_schema`], [`fake_embedding`]).
//!
//! Each provider's mock keeps its own wire format, validation and scripting; only what
//! does not depend on the provider is here.

mod defaults;
mod render;

use std::net::SocketAddr;
use std::sync::{Mutex, MutexGuard};

pub use defaults::{fake_embedding, halves, value_for_schema};
pub use render::{ContentTypes, Outcome, Rejection, render};

/// Locks a mock's state; a test that panicked while holding the lock leaves it usable
/// (every change to the state is whole).
pub fn lock<T>(state: &Mutex<T>) -> MutexGuard<'_, T> {
    state
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// An HTTP client for tests against a mock: without pool timers, so a paused tokio clock
/// only moves for the waits a test means (retry backoff).
pub fn test_http_client() -> reqwest::Client {
    reqwest::Client::builder()
        .pool_idle_timeout(None)
        .build()
        .unwrap_or_default()
}

/// A router served on `127.0.0.1`; the server stops when this is dropped.
#[derive(Debug)]
pub struct Served {
    addr: SocketAddr,
    task: tokio::task::JoinHandle<()>,
}

impl Served {
    /// Binds `127.0.0.1` on a free port and serves `router` on the current tokio runtime;
    /// `name` names the server in the log line of an unexpected stop.
    pub async fn start(router: axum::Router, name: &'static str) -> std::io::Result<Self> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let task = tokio::spawn(async move {
            if let Err(error) = axum::serve(listener, router).await {
                tracing::error!(%error, server = name, "mock server stopped");
            }
        });
        Ok(Self { addr, task })
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        self.task.abort();
    }
}
