//! The poller's typed errors. Messages name the host and mailbox, never the password.

/// Why a poll (or connecting for one) failed. Every variant but [`Self::InvalidConfig`] and
/// [`Self::PlainRefused`] is temporary: [`ImapPoller::run`](super::ImapPoller::run)
/// reconnects after a pause; see [`Self::is_temporary`].
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ImapError {
    /// A configuration field is unusable.
    #[error("IMAP configuration: {field} {message}")]
    InvalidConfig {
        /// The [`ImapConfig`](super::ImapConfig) field (`"mailbox"`, `"batch_size"`, ...).
        field: &'static str,
        /// What is wrong with it.
        message: String,
    },
    /// [`ImapSecurity::Plain`](super::ImapSecurity::Plain) to a host that is not loopback:
    /// the password would cross the network in clear.
    #[error(
        "IMAP to {host} without TLS refused: only a loopback host may be reached in plain text \
         (use Tls or StartTls)"
    )]
    PlainRefused {
        /// The configured host.
        host: String,
    },
    /// The TCP connection could not be made (or timed out).
    #[error("cannot connect to IMAP server {host}:{port}")]
    Connect {
        /// The configured host.
        host: String,
        /// The configured port.
        port: u16,
        /// The socket's error.
        #[source]
        source: std::io::Error,
    },
    /// The TLS handshake (or `STARTTLS`) failed: a wrong certificate, a server without TLS.
    #[error("TLS with IMAP server {host} failed")]
    Tls {
        /// The configured host.
        host: String,
        /// The handshake's error.
        #[source]
        source: std::io::Error,
    },
    /// The server refused the login (a wrong user or password, a locked account).
    #[error("IMAP login as {user} at {host} refused")]
    Auth {
        /// The configured host.
        host: String,
        /// The login name (never the password).
        user: String,
        /// What the server said.
        #[source]
        source: async_imap::error::Error,
    },
    /// An IMAP command failed or the connection broke during it.
    #[error("IMAP {operation} on mailbox {mailbox} at {host} failed")]
    Command {
        /// The configured host.
        host: String,
        /// The mailbox the command was about.
        mailbox: String,
        /// The command (`"UID FETCH"`, `"UID MOVE"`, ...).
        operation: &'static str,
        /// The client's error (the server's `NO`/`BAD` text, an I/O error, ...).
        #[source]
        source: async_imap::error::Error,
    },
    /// A connection, login or command did not finish within the configured `io_timeout`.
    #[error("IMAP {operation} on mailbox {mailbox} at {host} timed out")]
    Timeout {
        /// The configured host.
        host: String,
        /// The mailbox the command was about.
        mailbox: String,
        /// What timed out (`"connect"`, `"LOGIN"`, `"UID FETCH"`, ...).
        operation: &'static str,
    },
}

impl ImapError {
    /// Whether trying again later may succeed (everything but a configuration error).
    pub fn is_temporary(&self) -> bool {
        !matches!(self, Self::InvalidConfig { .. } | Self::PlainRefused { .. })
    }
}

/// The sink could not take a message now; it stays in the mailbox for the next poll.
///
/// A permanent problem with a message (it does not parse, it is too large, its sender is
/// refused) is not an error for the poller: the sink keeps such a message in its quarantine
/// and answers `Ok`, so the poller moves it and never fetches it again.
#[derive(Debug, thiserror::Error)]
#[error("the message could not be accepted now; it stays in the mailbox")]
#[non_exhaustive]
pub struct SinkError {
    /// Why (a database that is down, a full disk, ...).
    #[source]
    pub source: Box<dyn std::error::Error + Send + Sync + 'static>,
}

impl SinkError {
    /// A temporary failure caused by `source`.
    pub fn temporary(
        source: impl Into<Box<dyn std::error::Error + Send + Sync + 'static>>,
    ) -> Self {
        Self {
            source: source.into(),
        }
    }
}
