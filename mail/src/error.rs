//! The crate's typed errors: one enum for reading a message, one for building one.

/// Why a raw message could not be read. The caller keeps the raw bytes in its quarantine
/// with this reason; nothing here is a reason to drop a message silently.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ParseError {
    /// The message is larger than the configured limit; it was not parsed at all.
    #[error("message is {size} bytes, over the limit of {limit} bytes")]
    TooLarge {
        /// The message's size in bytes.
        size: usize,
        /// The limit in force ([`ParseLimits::max_message_bytes`](crate::ParseLimits)).
        limit: usize,
    },
    /// The bytes are not an RFC 5322 message (no header section could be read).
    #[error("not an e-mail message: {reason}")]
    Malformed {
        /// What was wrong, in words for the quarantine list.
        reason: &'static str,
    },
    /// A header the helpdesk cannot do without is absent or unreadable.
    #[error("header {field} is missing or unreadable")]
    MissingHeader {
        /// The header's name (`"From"`).
        field: &'static str,
    },
    /// The message has more MIME parts than the configured limit.
    #[error("message has {count} MIME parts, over the limit of {limit}")]
    TooManyParts {
        /// How many parts the message has.
        count: usize,
        /// The limit in force ([`ParseLimits::max_parts`](crate::ParseLimits)).
        limit: usize,
    },
}

/// Why an outbound message could not be built. Every variant names the field at fault.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BuildError {
    /// A required field was not set on the builder.
    #[error("{field} is required")]
    Missing {
        /// The builder field (`"to"`, `"subject"`, ...).
        field: &'static str,
    },
    /// An address is not a valid e-mail address.
    #[error("{field}: {value:?} is not a valid e-mail address")]
    InvalidAddress {
        /// The builder field (`"to"`, `"cc"`, `"from"`, ...).
        field: &'static str,
        /// The rejected value.
        value: String,
        /// What lettre said about it.
        #[source]
        source: lettre::address::AddressError,
    },
    /// A value is not usable in a header (a domain with spaces, a token with `@`, ...).
    #[error("{field}: {message}")]
    InvalidValue {
        /// The builder field.
        field: &'static str,
        /// What is wrong with it.
        message: String,
    },
    /// A content type of an attachment does not parse.
    #[error("attachments: {value:?} is not a valid content type")]
    InvalidContentType {
        /// The rejected value.
        value: String,
        /// What lettre said about it.
        #[source]
        source: lettre::message::header::ContentTypeErr,
    },
    /// lettre refused to assemble the message.
    #[error("the message could not be assembled")]
    Assemble(#[source] lettre::error::Error),
}

/// An error with its sources on one line (`outer: cause: root cause`): for log lines and
/// the quarantine's reason.
pub(crate) struct ErrorChain<'a>(pub(crate) &'a (dyn std::error::Error + 'static));

impl std::fmt::Display for ErrorChain<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)?;
        let mut source = self.0.source();
        while let Some(error) = source {
            write!(f, ": {error}")?;
            source = error.source();
        }
        Ok(())
    }
}
