//! Policy: the rules the service applies, as plain functions and strategies without I/O.
//! The lifecycle table, the role matrix, password and token handling, SLA arithmetic in
//! business time, routing strategies (and the [`routing::Router`] trait), the triage chain
//! and keyword rules (and the [`triage::Classifier`] trait), input validation and
//! normalisation, custom field rules, and the analytics definitions.
//!
//! Every module is re-exported at the crate root (`helpdesk_core::lifecycle`,
//! `helpdesk_core::sla`, ...).

pub mod analytics;
pub mod auth;
pub mod automation;
pub mod erasure;
pub mod fields;
pub mod lifecycle;
pub mod roles;
pub mod routing;
pub mod sla;
pub mod teams;
pub mod triage;
pub mod validate;
