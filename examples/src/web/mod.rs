//! `helpdesk-web`: the example web helpdesk.
//!
//! Server-rendered HTML (askama templates, auto-escaped), inline SVG charts, plain CSS, no
//! network resources and two small same-origin scripts that only enhance (times in the
//! viewer's zone, the live chat thread). Sessions are `HttpOnly; SameSite=Strict` cookies;
//! every POST carries a CSRF token; every route checks the role.
//!
//! | area | routes |
//! |---|---|
//! | sign-in | `/login`, `/logout`, `/register`, `/register/verify`, `/register-company` |
//! | customer portal | `/portal`, `/portal/new`, `/portal/tickets/{id}` |
//! | chat | `/chat`, `/chat/{id}` |
//! | agent | `/agent` (queue), `/agent/tickets/{id}`, `/agent/canned` (canned responses) |
//! | admin | `/admin/analytics`, `/admin/users`, `/admin/kb`, `/admin/settings` |
//! | files | `/attachments/{id}` (download), `/attachments/{id}/view` (images inline) |
//!
//! Run it with `cargo run -p helpdesk-examples --bin helpdesk-web -- --port 8080`: it seeds
//! the demo tenant (company `nimbus`), prints the demo logins and
//! `listening on http://127.0.0.1:8080`. A host wires its own backends with
//! [`Backends`] (store, knowledge base, language model, embedder), builds an
//! [`AppState`] and serves [`router`]; [`spawn_sweeps`] runs the background sweeps and learned triage's training.

mod admin;
mod agent;
mod agent_forms;
mod agent_ticket;
mod ai_usage;
mod api_mount;
mod app;
mod attachments;
mod auth;
mod automation_form;
mod automations;
mod backends;
mod bulk;
mod canned;
pub mod charts;
mod chat;
mod chat_stream;
mod error;
mod fields;
mod fields_admin;
mod form;
mod idle;
pub mod imap;
mod kb;
mod keyed;
pub mod mail;
mod mail_admin;
mod names;
mod portal;
mod privacy;
mod reindex;
mod saved_views;
mod search;
pub mod secret;
pub mod seed;
mod session;
mod settings;
mod signup;
pub mod smtp;
mod sweeps;
mod teams_admin;
mod throttle;
mod upload;
mod views;

pub use app::{AppState, Backends, DEFAULT_IDLE_TIMEOUT, WebOptions, router};
pub use backends::{
    MONGO_DATABASE, StoreChoice, create_private_dir, create_private_file, write_private_file,
};
pub use error::WebError;
pub use idle::SEEN_COOKIE;
pub use secret::WebSecret;
pub use session::{PRESESSION_COOKIE, SESSION_COOKIE};
pub use signup::DEFAULT_VERIFICATION_TTL;
pub use sweeps::{TRAINING_ROUNDS, spawn_sweeps};
pub use throttle::{AbuseLimits, Limit, Tier};
