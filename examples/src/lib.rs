//! Library behind the example binaries of helpdesk-rs.
//!
//! - [`web`]: the `helpdesk-web` app (axum, server-rendered HTML with auto-escaping askama
//!   templates, inline SVG charts, CSRF-protected forms and role-checked routes).
//! - `helpdesk` ([`cli`]) administers a data folder from the shell: init, seed-demo,
//!   import-kb, reindex, open, list, sweep, analytics CSV.
//! - `helpdesk-eval` evaluates the learned ticket classifier on public data (in the binary)
//!   and the chatbot on labelled questions ([`eval`]).
//! - [`bench`](mod@bench): the benchmarks of `helpdesk-bench` (intake, queues, vector search,
//!   embeddings, AI turns); figures in BENCHMARKS.md.

pub mod bench;
pub mod cli;
pub mod eval;
pub mod web;

use std::error::Error;

/// `error` followed by each of its sources, outermost first: what the binaries print when
/// they fail, so the cause of a cause is never lost.
pub fn error_chain<'a>(
    error: &'a (dyn Error + 'static),
) -> impl Iterator<Item = &'a (dyn Error + 'static)> {
    std::iter::successors(Some(error), |&e| e.source())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    #[derive(Debug, thiserror::Error)]
    #[error("outer")]
    struct Outer(#[source] Middle);

    #[derive(Debug, thiserror::Error)]
    #[error("middle")]
    struct Middle(#[source] std::io::Error);

    #[test]
    fn error_chain_lists_every_source_outermost_first() {
        let error = Outer(Middle(std::io::Error::other("disk full")));
        let chain: Vec<String> = super::error_chain(&error).map(|e| e.to_string()).collect();
        assert_eq!(chain, ["outer", "middle", "disk full"]);
    }
}
