#![doc = include_str!("../README.md")]
#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod address;
mod error;
#[cfg(feature = "imap")]
#[cfg_attr(docsrs, doc(cfg(feature = "imap")))]
pub mod imap;
mod inbound;
mod ingest;
mod noise;
#[cfg(feature = "smtp")]
#[cfg_attr(docsrs, doc(cfg(feature = "smtp")))]
mod notify;
pub mod outbound;
pub mod quote;
mod threading;
mod token;

pub use address::{Mailbox, OurMailboxes};
pub use error::{BuildError, ParseError};
pub use inbound::{
    BodySource, HeaderSignals, InboundAttachment, InboundMail, MailBody, ParseLimits,
};
#[cfg(feature = "imap")]
pub use ingest::TenantMailbox;
pub use ingest::{IngestError, IngestOutcome, MailIngest};
pub use noise::{NoiseReason, classify};
#[cfg(feature = "smtp")]
pub use notify::{DEFAULT_ATTACHMENT_BUDGET, MailNotifier, MailNotifyError};
pub use outbound::{
    AcknowledgementBuilder, OurMessageId, OutboundAttachment, OutboundMail, QuotedMessage,
    ReplyMailBuilder, TenantSender, parse_our_message_id,
};
pub use quote::{FoldMarker, QuoteSplit, split_quoted};
pub use threading::{
    PrefetchedLookup, ThreadDecision, ThreadKeys, ThreadLookup, ThreadMatch, ThreadTicket, decide,
    decide_thread, subject_tags,
};
pub use token::ReplyTokenKey;
