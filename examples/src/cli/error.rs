//! The errors of the `helpdesk` command-line tool.

use std::path::PathBuf;

/// Why a `helpdesk` command failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CliError {
    /// The helpdesk engine or a backend failed.
    #[error(transparent)]
    Core(#[from] helpdesk_core::Error),
    /// No tenant has this slug.
    #[error("no tenant with slug `{0}` (run `helpdesk seed-demo` or check --tenant)")]
    UnknownTenant(String),
    /// `ingest-email` was given a tenant that does not exist (the MTA bounces the message).
    #[error("no tenant with slug `{0}` takes mail here (check --tenant in the mail server's pipe)")]
    UnknownMailTenant(String),
    /// The tenant has no active admin to act as.
    #[error("tenant `{0}` has no active admin to manage its knowledge base as")]
    NoAdmin(String),
    /// No user of the tenant has this e-mail.
    #[error("no user with e-mail `{email}` in tenant `{tenant}` (check --as)")]
    UnknownUser {
        /// The tenant slug.
        tenant: String,
        /// The e-mail looked up.
        email: String,
    },
    /// A file or folder could not be read.
    #[error("cannot read {}", path.display())]
    Read {
        /// The path.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// A file could not be written.
    #[error("cannot write {}", path.display())]
    Write {
        /// The path.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// A markdown file is not a valid article.
    #[error("invalid article {}", path.display())]
    Article {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        #[source]
        source: helpdesk_core::Error,
    },
    /// The folder holds no markdown file.
    #[error("no *.md file in {}", .0.display())]
    NoArticles(PathBuf),
    /// The backends have no knowledge base.
    #[error("no knowledge base is configured")]
    NoKnowledgeBase,
    /// Writing CSV failed.
    #[error("cannot write CSV")]
    Csv(#[from] csv::Error),
    /// An e-mail message could not be taken in (see [`CliError::exit_code`]).
    #[error(transparent)]
    Ingest(#[from] helpdesk_mail::IngestError),
    /// Polling the IMAP mailbox failed.
    #[error("IMAP polling failed")]
    Imap(#[source] helpdesk_mail::imap::ImapError),
    /// An argument is out of range.
    #[error("invalid --{field}: {message}")]
    Argument {
        /// The option.
        field: &'static str,
        /// Why.
        message: String,
    },
}

impl CliError {
    /// The process exit code, in the sysexits(3) terms mail transfer agents act on: 75
    /// (`EX_TEMPFAIL`, the MTA keeps the message and tries again) when trying again later
    /// may work, 67 (`EX_NOUSER`, the MTA bounces) for an unknown tenant, 78 (`EX_CONFIG`)
    /// for a tenant without the e-mail channel, 1 for everything else.
    pub fn exit_code(&self) -> u8 {
        match self {
            Self::Ingest(e) if e.is_temporary() => 75,
            Self::Core(e) if e.is_temporary() => 75,
            Self::UnknownMailTenant(_) => 67,
            Self::Ingest(helpdesk_mail::IngestError::UnknownTenant { .. }) => 67,
            Self::Ingest(
                helpdesk_mail::IngestError::ChannelOff { .. }
                | helpdesk_mail::IngestError::BadAddress { .. },
            ) => 78,
            _ => 1,
        }
    }
}

/// The result of a `helpdesk` command.
pub type CliResult<T> = Result<T, CliError>;

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;
    use helpdesk_mail::IngestError;

    #[test]
    fn exit_codes_follow_sysexits_for_the_mta() {
        let off = CliError::Ingest(IngestError::ChannelOff {
            slug: "acme".into(),
        });
        assert_eq!(off.exit_code(), 78);
        let unknown = CliError::Ingest(IngestError::UnknownTenant {
            tenant: helpdesk_core::TenantId::new(),
        });
        assert_eq!(unknown.exit_code(), 67);
        assert_eq!(CliError::UnknownMailTenant("x".into()).exit_code(), 67);
        assert_eq!(CliError::UnknownTenant("x".into()).exit_code(), 1);
        let down = CliError::Core(helpdesk_core::Error::Backend {
            backend: "sqlite",
            temporary: true,
            source: "connection refused".into(),
        });
        assert_eq!(down.exit_code(), 75);
        assert_eq!(CliError::NoKnowledgeBase.exit_code(), 1);
    }
}
