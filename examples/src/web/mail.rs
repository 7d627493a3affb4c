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

/// The key reply tokens are signed with: `MAIL_TOKEN_KEY` (hex, 32 bytes) when set, else
/// the key kept in `<data_dir>/mail-token.key`, made on first use (readable by this user
/// only), so that tokens in mail already sent keep working across restarts and the CLI's
/// `ingest-email` checks them with the same key as the app.
pub fn mail_token_key(data_dir: &std::path::Path) -> Result<helpdesk_mail::ReplyTokenKey, BoxError> {
    use sha2::{Digest, Sha256};

    let hex = match std::env::var("MAIL_TOKEN_KEY") {
        Ok(hex) if !hex.trim().is_empty() => hex,
        _ => {
            let path = data_dir.join("mail-token.key");
            match std::fs::read_to_string(&path) {
                Ok(hex) => hex,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    let seed = helpdesk_core::auth::new_token()?;
                    let key: String = Sha256::digest(seed.as_bytes())
                        .iter()
                        .map(|b| format!("{b:02x}"))
                        .collect();
                    super::backends::write_private_file(&path, &key)?;
                    key
                }
                Err(e) => return Err(Box::new(e)),
            }
        }
    };
    Ok(helpdesk_mail::ReplyTokenKey::from_hex(&hex)?)
}
