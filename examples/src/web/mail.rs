//! E-mail the web app sends itself (the sign-up check), besides the helpdesk's
//! notifications: a [`Mailer`] sends one plain-text message to an address.
//!
//! `helpdesk-web` uses its [`super::smtp::SmtpNotifier`] when `SMTP_URL` is set; without
//! it, [`LogMailer`] writes the message to the log so that a local demo can still follow a
//! sign-up link (say so to whoever runs it: the log then holds single-use sign-up links).

use async_trait::async_trait;
use helpdesk_core::BoxError;

/// Sends plain-text e-mail.
#[async_trait]
pub trait Mailer: std::fmt::Debug + Send + Sync {
    /// Sends `body` with `subject` to `to`.
    async fn send(&self, to: &str, subject: &str, body: String) -> Result<(), BoxError>;
}

/// Writes messages to the log instead of sending them (no SMTP server configured).
#[derive(Debug, Clone, Copy, Default)]
pub struct LogMailer;

#[async_trait]
impl Mailer for LogMailer {
    async fn send(&self, to: &str, subject: &str, body: String) -> Result<(), BoxError> {
        tracing::warn!(
            to,
            subject,
            body,
            "no SMTP_URL: this e-mail was not sent; it is written to the log instead"
        );
        Ok(())
    }
}
