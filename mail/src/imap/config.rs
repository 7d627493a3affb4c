//! Where the poller reads mail from and how: [`ImapConfig`] and [`ImapSecurity`].

use std::fmt;
use std::net::IpAddr;
use std::time::Duration;

use super::error::ImapError;

/// How the connection to the IMAP server is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum ImapSecurity {
    /// TLS from the first byte (IMAPS, usually port 993), checked against the bundled webpki
    /// roots (Mozilla's list), so no system certificate store is needed.
    #[default]
    Tls,
    /// A plain connection upgraded with `STARTTLS` before logging in (usually port 143).
    StartTls,
    /// No TLS at all: the password travels in clear. Refused unless the host is a loopback
    /// address (`127.0.0.0/8`, `::1` or `localhost`), for a local test server or a tunnel.
    Plain,
}

impl ImapSecurity {
    /// The usual port of this security (993 for TLS, 143 otherwise).
    pub fn default_port(self) -> u16 {
        match self {
            Self::Tls => 993,
            Self::StartTls | Self::Plain => 143,
        }
    }
}

/// The IMAP account the poller reads. The password is left out of `Debug`.
///
/// ```
/// use std::time::Duration;
/// use helpdesk_mail::imap::{ImapConfig, ImapSecurity};
///
/// let config = ImapConfig::new("imap.example.com", "support@example.com", "secret")
///     .with_mailbox("INBOX")
///     .with_processed_mailbox("Helpdesk/Processed")
///     .with_poll_interval(Duration::from_secs(30));
/// assert_eq!(config.port, 993);
/// assert_eq!(config.security, ImapSecurity::Tls);
/// assert!(!format!("{config:?}").contains("secret"));
/// ```
#[derive(Clone)]
#[non_exhaustive]
pub struct ImapConfig {
    /// The server's host name (checked against its TLS certificate) or IP address.
    pub host: String,
    /// The server's port (default: the security's usual port).
    pub port: u16,
    /// How the connection is protected (default [`ImapSecurity::Tls`]).
    pub security: ImapSecurity,
    /// The login name.
    pub user: String,
    password: String,
    /// The mailbox new mail is read from (default `INBOX`).
    pub mailbox: String,
    /// The mailbox processed mail is moved to (default `Processed`), created when missing.
    pub processed_mailbox: String,
    /// Time between polls in [`ImapPoller::run`](super::ImapPoller::run) (default 60 s).
    pub poll_interval: Duration,
    /// Messages fetched per `UID FETCH` (default 20).
    pub batch_size: usize,
    /// Bytes fetched per `UID FETCH` at most (default 64 MiB); a larger single message is
    /// fetched alone.
    pub batch_bytes: u64,
    /// Largest message the poller fetches (default 100 MiB). A larger one stays in the
    /// mailbox (counted as left, logged) for a person to look at: it is never dropped.
    pub max_message_bytes: u64,
    /// Longest wait for one connection, login or IMAP command (default 60 s) before the
    /// connection counts as lost.
    pub io_timeout: Duration,
}

impl ImapConfig {
    /// An account on `host` over TLS (port 993) with the defaults above.
    pub fn new(
        host: impl Into<String>,
        user: impl Into<String>,
        password: impl Into<String>,
    ) -> Self {
        Self {
            host: host.into(),
            port: ImapSecurity::Tls.default_port(),
            security: ImapSecurity::Tls,
            user: user.into(),
            password: password.into(),
            mailbox: "INBOX".to_owned(),
            processed_mailbox: "Processed".to_owned(),
            poll_interval: Duration::from_secs(60),
            batch_size: 20,
            batch_bytes: 64 * 1024 * 1024,
            max_message_bytes: 100 * 1024 * 1024,
            io_timeout: Duration::from_secs(60),
        }
    }

    /// Another security; the port follows it unless set with [`Self::with_port`] after.
    pub fn with_security(mut self, security: ImapSecurity) -> Self {
        self.security = security;
        self.port = security.default_port();
        self
    }

    /// Another port.
    pub fn with_port(mut self, port: u16) -> Self {
        self.port = port;
        self
    }

    /// Another mailbox to read.
    pub fn with_mailbox(mut self, mailbox: impl Into<String>) -> Self {
        self.mailbox = mailbox.into();
        self
    }

    /// Another mailbox to move processed mail to.
    pub fn with_processed_mailbox(mut self, mailbox: impl Into<String>) -> Self {
        self.processed_mailbox = mailbox.into();
        self
    }

    /// Another time between polls.
    pub fn with_poll_interval(mut self, interval: Duration) -> Self {
        self.poll_interval = interval;
        self
    }

    /// Another number of messages per fetch.
    pub fn with_batch_size(mut self, batch_size: usize) -> Self {
        self.batch_size = batch_size;
        self
    }

    /// Another byte budget per fetch.
    pub fn with_batch_bytes(mut self, batch_bytes: u64) -> Self {
        self.batch_bytes = batch_bytes;
        self
    }

    /// Another largest message.
    pub fn with_max_message_bytes(mut self, max_message_bytes: u64) -> Self {
        self.max_message_bytes = max_message_bytes;
        self
    }

    /// Another I/O timeout.
    pub fn with_io_timeout(mut self, io_timeout: Duration) -> Self {
        self.io_timeout = io_timeout;
        self
    }

    pub(crate) fn password(&self) -> &str {
        &self.password
    }

    /// The `source` the sink is told: `imap:<mailbox>`.
    pub(crate) fn source(&self) -> String {
        format!("imap:{}", self.mailbox)
    }

    /// Checks every field; the error names the field at fault.
    pub(crate) fn validate(&self) -> Result<(), ImapError> {
        let invalid = |field: &'static str, message: &str| {
            Err(ImapError::InvalidConfig {
                field,
                message: message.to_owned(),
            })
        };
        if self.host.trim().is_empty() {
            return invalid("host", "is empty");
        }
        if self.port == 0 {
            return invalid("port", "must not be 0");
        }
        if self.user.is_empty() {
            return invalid("user", "is empty");
        }
        check_mailbox_name("mailbox", &self.mailbox)?;
        check_mailbox_name("processed_mailbox", &self.processed_mailbox)?;
        if self.mailbox == self.processed_mailbox {
            return invalid("processed_mailbox", "must differ from mailbox");
        }
        if self.poll_interval < Duration::from_secs(1) {
            return invalid("poll_interval", "must be at least 1 second");
        }
        if self.batch_size == 0 || self.batch_size > 1000 {
            return invalid("batch_size", "must be within 1..=1000");
        }
        if self.batch_bytes == 0 {
            return invalid("batch_bytes", "must not be 0");
        }
        if self.max_message_bytes == 0 {
            return invalid("max_message_bytes", "must not be 0");
        }
        if self.io_timeout.is_zero() {
            return invalid("io_timeout", "must not be 0");
        }
        if self.security == ImapSecurity::Plain && !is_loopback_host(&self.host) {
            return Err(ImapError::PlainRefused {
                host: self.host.clone(),
            });
        }
        Ok(())
    }
}

impl fmt::Debug for ImapConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The password is a secret: never in logs, never in a panic message.
        f.debug_struct("ImapConfig")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("security", &self.security)
            .field("user", &self.user)
            .field("mailbox", &self.mailbox)
            .field("processed_mailbox", &self.processed_mailbox)
            .field("poll_interval", &self.poll_interval)
            .field("batch_size", &self.batch_size)
            .finish_non_exhaustive()
    }
}

/// A loopback address, or `localhost` (which resolves to one; the poller checks the
/// resolved addresses too before it speaks without TLS).
pub(crate) fn is_loopback_host(host: &str) -> bool {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    match bare.parse::<IpAddr>() {
        Ok(ip) => ip.is_loopback(),
        Err(_) => bare.eq_ignore_ascii_case("localhost"),
    }
}

/// Mailbox names go into IMAP commands as quoted strings: printable ASCII only (no modified
/// UTF-7 here), without the quoting and wildcard characters.
fn check_mailbox_name(field: &'static str, name: &str) -> Result<(), ImapError> {
    let message = if name.is_empty() {
        Some("is empty")
    } else if name.len() > 200 {
        Some("is longer than 200 characters")
    } else if !name.chars().all(|c| c.is_ascii_graphic() || c == ' ')
        || name.contains(['"', '\\', '%', '*'])
    {
        Some("may hold printable ASCII only, without \" \\ % *")
    } else {
        None
    };
    match message {
        Some(message) => Err(ImapError::InvalidConfig {
            field,
            message: message.to_owned(),
        }),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    #[test]
    fn loopback_hosts() {
        for host in [
            "127.0.0.1",
            "127.0.0.2",
            "::1",
            "[::1]",
            "localhost",
            "LocalHost",
        ] {
            assert!(is_loopback_host(host), "{host}");
        }
        for host in [
            "10.0.0.1",
            "imap.example.com",
            "localhost.example.com",
            "::2",
        ] {
            assert!(!is_loopback_host(host), "{host}");
        }
    }

    #[test]
    fn plain_to_a_remote_host_is_refused() {
        let config =
            ImapConfig::new("imap.example.com", "u", "p").with_security(ImapSecurity::Plain);
        let err = config.validate().err();
        assert!(
            matches!(&err, Some(ImapError::PlainRefused { host }) if host == "imap.example.com"),
            "{err:?}"
        );
        let local = ImapConfig::new("127.0.0.1", "u", "p").with_security(ImapSecurity::Plain);
        assert!(local.validate().is_ok());
    }

    #[test]
    fn invalid_fields_are_named() {
        let cases = [
            (
                ImapConfig::new("h", "u", "p").with_mailbox("a\"b"),
                "mailbox",
            ),
            (
                ImapConfig::new("h", "u", "p").with_processed_mailbox(""),
                "processed_mailbox",
            ),
            (
                ImapConfig::new("h", "u", "p").with_processed_mailbox("INBOX"),
                "processed_mailbox",
            ),
            (
                ImapConfig::new("h", "u", "p").with_batch_size(0),
                "batch_size",
            ),
            (ImapConfig::new("", "u", "p"), "host"),
            (ImapConfig::new("h", "", "p"), "user"),
            (ImapConfig::new("h", "u", "p").with_port(0), "port"),
            (
                ImapConfig::new("h", "u", "p").with_poll_interval(Duration::ZERO),
                "poll_interval",
            ),
        ];
        for (config, expected) in cases {
            match config.validate() {
                Err(ImapError::InvalidConfig { field, .. }) => assert_eq!(field, expected),
                other => panic!("{expected}: {other:?}"),
            }
        }
    }

    #[test]
    fn debug_leaves_the_password_out() {
        let config = ImapConfig::new("h", "u", "hunter2-secret");
        assert!(!format!("{config:?}").contains("hunter2"));
    }
}
