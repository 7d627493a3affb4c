//! The `Helpdesk` service (in progress).

/// The helpdesk service.
#[derive(Debug)]
pub struct Helpdesk;

/// Builds a [`Helpdesk`].
#[derive(Debug)]
pub struct HelpdeskBuilder;
