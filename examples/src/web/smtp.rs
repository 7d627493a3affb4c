//! E-mail notifications over SMTP ([lettre]).
//!
//! [`SmtpNotifier`] implements the core [`Notifier`]: for each outbox entry it looks the
//! recipients (user ids) up in the store, skips inactive users and sends one plain-text
//! message per recipient, with a subject such as
//! `[Nimbus Notes #12] Assigned to you: Cannot sync`. A send error is returned, so the
//! outbox retries the entry later (earlier recipients of that entry may then get the
//! message twice: delivery is at least once).
//!
//! `helpdesk-web` uses it when `SMTP_URL` is set (`SMTP_FROM` sets the sender, default
//! `helpdesk@localhost`). URLs: `smtp://host:port` (plain, for local relays and tests),
//! `smtp://user:pass@host:587?tls=required` (STARTTLS) or `smtps://user:pass@host` (TLS).
//! There it is the fallback of `helpdesk_mail::MailNotifier`, which mails customers their
//! replies and acknowledgements on e-mail tickets with reply tokens made with
//! [`mail_token_key`].

use std::fmt;
use std::path::Path;

use async_trait::async_trait;
use helpdesk_core::domain::{NotificationKind, OutboxEntry, Tenant};
use helpdesk_core::{BoxError, DynStore, Notifier, UserId};
use lettre::address::AddressError;
use lettre::message::header::ContentType;
use lettre::message::{Mailbox, Message};
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};

/// The sender used when `SMTP_FROM` is not set.
pub const DEFAULT_FROM: &str = "helpdesk@localhost";

/// Longest subject line text kept from a ticket subject (in characters).
const MAX_SUBJECT_CHARS: usize = 150;

/// Why configuring or sending e-mail failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SmtpError {
    /// `SMTP_URL` could not be used (the URL itself is not repeated: it may hold a password).
    #[error(
        "SMTP_URL is not a usable SMTP URL (expected smtp://host:port or smtps://user:pass@host)"
    )]
    Url(#[source] lettre::transport::smtp::Error),
    /// The sender address (`SMTP_FROM`) is not a valid mailbox.
    #[error("SMTP_FROM {address:?} is not a valid e-mail address")]
    From {
        /// The address given.
        address: String,
        /// Why it is invalid.
        #[source]
        source: AddressError,
    },
    /// A recipient's stored e-mail address is not a valid mailbox.
    #[error("user {user} has an invalid e-mail address")]
    Recipient {
        /// The user.
        user: UserId,
        /// Why it is invalid.
        #[source]
        source: AddressError,
    },
    /// Looking a recipient up failed.
    #[error("could not look up user {user}")]
    Store {
        /// The user.
        user: UserId,
        /// The store error.
        #[source]
        source: helpdesk_core::Error,
    },
    /// An address given to send to is not a valid mailbox.
    #[error("the recipient's e-mail address is not valid")]
    Address {
        /// Why it is invalid.
        #[source]
        source: AddressError,
    },
    /// The SMTP server refused a message to an address or could not be reached.
    #[error("sending an e-mail failed")]
    SendTo {
        /// The SMTP error.
        #[source]
        source: lettre::transport::smtp::Error,
    },
    /// The message could not be built.
    #[error("could not build the e-mail message")]
    Message(#[source] lettre::error::Error),
    /// The SMTP server refused the message or could not be reached.
    #[error("sending the e-mail to user {user} failed")]
    Send {
        /// The recipient.
        user: UserId,
        /// The SMTP error.
        #[source]
        source: lettre::transport::smtp::Error,
    },
}

/// The environment variable holding the app's secret ([`app_secret`]; 64 hex digits: 32
/// bytes). Instances that share one store need the same value.
pub const MAIL_TOKEN_KEY: &str = "MAIL_TOKEN_KEY";

/// The key file kept in the data folder when `MAIL_TOKEN_KEY` is not set.
pub const MAIL_TOKEN_KEY_FILE: &str = "mail-token-key";

/// Why the reply-token key could not be had.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MailKeyError {
    /// `MAIL_TOKEN_KEY` (or the key file) is not 32 bytes of hex (the value is not repeated:
    /// it is a secret).
    #[error("{source_name} must be 64 hex digits (32 bytes): {problem}")]
    Invalid {
        /// `MAIL_TOKEN_KEY` or the key file's path.
        source_name: String,
        /// What is wrong ("not hex", "16 bytes, fewer than 32").
        problem: String,
    },
    /// The key file could not be read or written.
    #[error("cannot read or write the reply-token key file {path}")]
    File {
        /// The file.
        path: String,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// No random bytes for a new key.
    #[error("cannot make a random reply-token key")]
    Random(#[source] helpdesk_core::Error),
}

/// The key reply tokens (`support+<token>@...`) are made and checked with: the
/// [`app_secret`] as an HMAC key. It must stay the same across restarts, or customers'
/// answers to earlier mails no longer find their ticket by token (they still thread by
/// Message-ID).
pub fn mail_token_key(
    env_value: Option<&str>,
    data_dir: Option<&Path>,
) -> Result<helpdesk_mail::ReplyTokenKey, MailKeyError> {
    let bytes = app_secret(env_value, data_dir)?;
    helpdesk_mail::ReplyTokenKey::new(&bytes).map_err(|e| MailKeyError::Invalid {
        source_name: MAIL_TOKEN_KEY.to_owned(),
        problem: e.to_string(),
    })
}

/// The app's one persistent secret: reply tokens in mail are signed with it, and the web
/// app derives its form (CSRF), sign-up link and idle-session keys from it
/// ([`super::WebSecret`]), so every instance that shares it accepts what another made.
/// From `MAIL_TOKEN_KEY` (64 hex digits) when set; else from `<data_dir>/mail-token-key`,
/// made (32 random bytes, readable by the owner only) on first use. Without a data folder
/// (`--demo-store`) a fresh random secret is used.
pub fn app_secret(
    env_value: Option<&str>,
    data_dir: Option<&Path>,
) -> Result<Vec<u8>, MailKeyError> {
    let invalid = |source_name: &str, problem: String| MailKeyError::Invalid {
        source_name: source_name.to_owned(),
        problem,
    };
    let decode = |source_name: &str, text: &str| -> Result<Vec<u8>, MailKeyError> {
        let bytes =
            hex::decode(text.trim()).map_err(|e| invalid(source_name, format!("not hex ({e})")))?;
        if bytes.len() < 32 {
            return Err(invalid(
                source_name,
                format!("{} bytes, fewer than 32", bytes.len()),
            ));
        }
        Ok(bytes)
    };
    if let Some(value) = env_value.filter(|v| !v.trim().is_empty()) {
        return decode(MAIL_TOKEN_KEY, value);
    }
    let random = || -> Result<Vec<u8>, MailKeyError> {
        // Two fresh session-strength tokens hashed: 32 bytes from the OS's generator.
        let seed = helpdesk_core::auth::new_token().map_err(MailKeyError::Random)?;
        Ok(<sha2::Sha256 as sha2::Digest>::digest(seed.as_bytes()).to_vec())
    };
    let Some(dir) = data_dir else {
        return random();
    };
    let path = dir.join(MAIL_TOKEN_KEY_FILE);
    let file_error = |source| MailKeyError::File {
        path: path.display().to_string(),
        source,
    };
    match std::fs::read_to_string(&path) {
        Ok(text) => decode(&path.display().to_string(), &text),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let bytes = random()?;
            super::backends::create_private_file(&path).map_err(file_error)?;
            std::fs::write(&path, hex::encode(&bytes)).map_err(file_error)?;
            Ok(bytes)
        }
        Err(e) => Err(file_error(e)),
    }
}

/// Sends notifications as e-mail through an SMTP server.
#[derive(Clone)]
pub struct SmtpNotifier {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    store: DynStore,
    /// The URL without user info (for `Debug`).
    server: String,
}

impl fmt::Debug for SmtpNotifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SmtpNotifier")
            .field("server", &self.server)
            .field("from", &self.from.to_string())
            .finish_non_exhaustive()
    }
}

impl SmtpNotifier {
    /// A notifier sending through the server at `url` (see the module docs) as
    /// `from_address`, resolving recipients through `store`.
    pub fn from_url(url: &str, from_address: &str, store: DynStore) -> Result<Self, SmtpError> {
        let from = from_address
            .trim()
            .parse::<Mailbox>()
            .map_err(|source| SmtpError::From {
                address: from_address.to_owned(),
                source,
            })?;
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url.trim())
            .map_err(SmtpError::Url)?
            .build();
        Ok(Self {
            transport,
            from,
            store,
            server: without_credentials(url.trim()),
        })
    }

    /// The server URL without user name or password (for logs).
    pub fn server(&self) -> &str {
        &self.server
    }
}

#[async_trait]
impl super::mail::Mailer for SmtpNotifier {
    async fn send(&self, to: &str, subject: &str, body: String) -> Result<(), BoxError> {
        let to = to
            .parse::<Mailbox>()
            .map_err(|source| SmtpError::Address { source })?;
        let message = compose(self.from.clone(), to, subject, body)?;
        self.transport
            .send(message)
            .await
            .map_err(|source| SmtpError::SendTo { source })?;
        Ok(())
    }
}

#[async_trait]
impl Notifier for SmtpNotifier {
    async fn deliver(&self, tenant: &Tenant, entry: &OutboxEntry) -> Result<(), BoxError> {
        let notification = &entry.notification;
        let subject = subject_line(
            &tenant.name,
            notification.ticket_number,
            &notification.subject,
            &notification.kind,
        );
        let body = body_text(
            &tenant.name,
            notification.ticket_number,
            &notification.subject,
            &notification.kind,
        );
        for &user_id in &notification.recipients {
            let user = self
                .store
                .get_user(tenant.id, user_id)
                .await
                .map_err(|source| SmtpError::Store {
                    user: user_id,
                    source,
                })?;
            let Some(user) = user.filter(|u| u.active) else {
                continue;
            };
            let to = Mailbox::new(
                Some(clean_line(&user.name, MAX_SUBJECT_CHARS)),
                user.email.parse().map_err(|source| SmtpError::Recipient {
                    user: user_id,
                    source,
                })?,
            );
            let message = compose(self.from.clone(), to, &subject, body.clone())?;
            self.transport
                .send(message)
                .await
                .map_err(|source| SmtpError::Send {
                    user: user_id,
                    source,
                })?;
        }
        Ok(())
    }
}

/// Builds one plain-text message. The subject is cleaned of control characters first.
pub fn compose(
    from: Mailbox,
    to: Mailbox,
    subject: &str,
    body: String,
) -> Result<Message, SmtpError> {
    Message::builder()
        .from(from)
        .to(to)
        .subject(clean_line(subject, usize::MAX))
        .header(ContentType::TEXT_PLAIN)
        .body(body)
        .map_err(SmtpError::Message)
}

/// The subject of a notification e-mail, e.g. `[Nimbus Notes #12] Assigned to you: Cannot
/// sync`. Tenant name and ticket subject are untrusted: control characters (CR, LF, …)
/// become spaces so they cannot start another header.
pub fn subject_line(
    tenant_name: &str,
    ticket_number: u64,
    ticket_subject: &str,
    kind: &NotificationKind,
) -> String {
    let what = match kind {
        NotificationKind::Assigned => "Assigned to you".to_owned(),
        NotificationKind::StatusChanged { to, .. } => format!("Status changed to {to}"),
        NotificationKind::SlaBreached { kind } => format!("SLA breached ({kind})"),
        NotificationKind::Handoff { .. } => "Chat handed off to a human".to_owned(),
        NotificationKind::Replied { .. } => "New reply".to_owned(),
        NotificationKind::Automation => "Needs your attention".to_owned(),
        _ => "Ticket updated".to_owned(),
    };
    format!(
        "[{} #{ticket_number}] {what}: {}",
        clean_line(tenant_name, 80),
        clean_line(ticket_subject, MAX_SUBJECT_CHARS)
    )
}

/// The plain-text body: what happened and the ticket number.
pub fn body_text(
    tenant_name: &str,
    ticket_number: u64,
    ticket_subject: &str,
    kind: &NotificationKind,
) -> String {
    let ticket = format!(
        "ticket #{ticket_number} \"{}\"",
        clean_line(ticket_subject, MAX_SUBJECT_CHARS)
    );
    let what = match kind {
        NotificationKind::Assigned => format!("The {ticket} was assigned to you."),
        NotificationKind::StatusChanged { from, to } => {
            format!("The status of {ticket} changed from {from} to {to}.")
        }
        NotificationKind::SlaBreached { kind } => {
            format!("The {kind} target of {ticket} was missed.")
        }
        NotificationKind::Handoff { reason } => format!(
            "A chat was handed off to a human on {ticket}.\nReason: {}",
            clean_line(reason, 300)
        ),
        NotificationKind::Replied { .. } => format!("There is a new reply on {ticket}."),
        NotificationKind::Automation => {
            format!("An automation rule asks you to look at {ticket}.")
        }
        _ => format!("The {ticket} was updated."),
    };
    format!(
        "{what}\n\n-- \n{} helpdesk (automatic message)\n",
        clean_line(tenant_name, 80)
    )
}

/// One line of untrusted text: control characters become spaces, then the text is trimmed
/// and cut to `max_chars` characters.
fn clean_line(text: &str, max_chars: usize) -> String {
    let cleaned: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(max_chars)
        .collect();
    cleaned.trim().to_owned()
}

/// `url` with any `user:password@` removed.
fn without_credentials(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return "(invalid url)".to_owned();
    };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    let host = authority
        .rsplit_once('@')
        .map_or(authority, |(_, host)| host);
    format!("{scheme}://{host}{tail}")
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;

    #[test]
    fn a_short_or_garbled_mail_token_key_is_a_clear_error() {
        for value in ["00ff", "not hex at all"] {
            let error = mail_token_key(Some(value), None).unwrap_err();
            let text = error.to_string();
            assert!(
                text.contains("MAIL_TOKEN_KEY must be 64 hex digits"),
                "{text}"
            );
            assert!(!text.contains(value), "the secret is not repeated: {text}");
        }
        assert!(mail_token_key(Some(&"ab".repeat(32)), None).is_ok());
    }

    #[test]
    fn the_mail_token_key_file_is_made_once_and_kept() {
        let dir = std::env::temp_dir().join(format!("mail-key-{}", uuid::Uuid::now_v7()));
        std::fs::create_dir_all(&dir).unwrap();
        let tenant = helpdesk_core::TenantId::new();
        let first = mail_token_key(None, Some(&dir)).unwrap();
        let again = mail_token_key(None, Some(&dir)).unwrap();
        assert_eq!(first.token(tenant, 12), again.token(tenant, 12));
        let stored = std::fs::read_to_string(dir.join(MAIL_TOKEN_KEY_FILE)).unwrap();
        assert_eq!(hex::decode(stored.trim()).unwrap().len(), 32);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn subject_with_cr_lf_cannot_add_headers() {
        let subject = subject_line(
            "Nimbus\r\nX-Evil: 1",
            12,
            "Help\r\nBcc: victim@example.com\r\n\r\nbody",
            &NotificationKind::Assigned,
        );
        assert!(!subject.contains(['\r', '\n']), "{subject:?}");
        assert!(subject.starts_with("[Nimbus  X-Evil: 1 #12] Assigned to you: Help"));
        let message = compose(
            "helpdesk@localhost".parse().unwrap(),
            "agent@example.com".parse().unwrap(),
            "raw\r\nBcc: victim@example.com",
            "hello".into(),
        )
        .unwrap();
        let raw = String::from_utf8(message.formatted()).unwrap();
        let (headers, _) = raw.split_once("\r\n\r\n").unwrap();
        for line in headers.split("\r\n") {
            assert!(!line.to_ascii_lowercase().starts_with("bcc"), "{raw}");
            assert!(!line.to_ascii_lowercase().starts_with("x-evil"), "{raw}");
        }
        assert!(
            message
                .envelope()
                .to()
                .iter()
                .all(|a| a.to_string() == "agent@example.com")
        );
    }

    #[test]
    fn debug_and_server_hide_the_password() {
        let store: DynStore = std::sync::Arc::new(helpdesk_core::store::MemoryStore::new());
        let notifier = SmtpNotifier::from_url(
            "smtps://user:s3cret@mail.example.com:465",
            DEFAULT_FROM,
            store,
        )
        .unwrap();
        let debug = format!("{notifier:?}");
        assert!(!debug.contains("s3cret"), "{debug}");
        assert!(!debug.contains("user:"), "{debug}");
        assert_eq!(notifier.server(), "smtps://mail.example.com:465");
    }

    #[test]
    fn bad_url_and_sender_are_rejected() {
        let store: DynStore = std::sync::Arc::new(helpdesk_core::store::MemoryStore::new());
        let err =
            SmtpNotifier::from_url("http://pw@host", DEFAULT_FROM, store.clone()).unwrap_err();
        assert!(matches!(err, SmtpError::Url(_)), "{err:?}");
        assert!(!err.to_string().contains("pw"));
        let err =
            SmtpNotifier::from_url("smtp://127.0.0.1:2525", "not an address", store).unwrap_err();
        assert!(matches!(err, SmtpError::From { .. }), "{err:?}");
    }
}
