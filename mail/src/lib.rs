#![doc = include_str!("../README.md")]
#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod address;
mod error;
#[cfg(feature = "imap")]
#[cfg_attr(docsrs, doc(cfg(feature = "imap")))]
pub mod imap;
mod inbound;
mod noise;
pub mod outbound;
pub mod quote;
mod threading;
mod token;

pub use address::{Mailbox, OurMailboxes};
pub use error::{BuildError, ParseError};
pub use inbound::{
    BodySource, HeaderSignals, InboundAttachment, InboundMail, MailBody, ParseLimits,
};
pub use noise::{NoiseReason, classify};
pub use outbound::{
    AcknowledgementBuilder, OurMessageId, OutboundAttachment, OutboundMail, QuotedMessage,
    ReplyMailBuilder, TenantSender, parse_our_message_id,
};
pub use quote::{FoldMarker, QuoteSplit, split_quoted};
pub use threading::{
    PrefetchedLookup, ThreadDecision, ThreadKeys, ThreadLookup, ThreadMatch, ThreadTicket, decide,
    subject_tags,
};
pub use token::ReplyTokenKey;
