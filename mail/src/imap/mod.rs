//! The IMAP poller (feature `imap`): reads a mailbox, hands each message's raw bytes to a
//! [`MailSink`] (the engine's ingest), and moves what the sink accepted to a processed
//! mailbox. At least once and never lost: see [`ImapPoller`].
//!
//! Built on `async-imap` over tokio, TLS by rustls with the bundled webpki roots. Tested
//! against a real Dovecot (`scripts/start-dovecot.sh`, `tests/imap_dovecot.rs`).

mod config;
mod connect;
mod error;
mod poller;
mod session;

pub use config::{ImapConfig, ImapSecurity};
pub use error::{ImapError, SinkError};
pub use poller::{ImapPoller, MailSink, PollReport};
