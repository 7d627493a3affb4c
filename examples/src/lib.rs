//! Library behind the example binaries of helpdesk-rs.
//!
//! - [`web`]: the `helpdesk-web` app (axum, server-rendered HTML with auto-escaping askama
//!   templates, inline SVG charts, CSRF-protected forms and role-checked routes).
//! - `helpdesk` ([`cli`]) administers a data folder from the shell: init, seed-demo,
//!   import-kb, reindex, open, list, sweep, analytics CSV.
//! - `helpdesk-eval` (a binary only) evaluates the learned ticket classifier on public data.
//! - [`bench`]: the benchmarks of `helpdesk-bench` (intake, queues, vector search,
//!   embeddings, AI turns); figures in BENCHMARKS.md.

pub mod bench;
pub mod cli;
pub mod web;
