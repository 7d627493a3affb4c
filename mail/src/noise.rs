//! Loops and noise: mail that must never open a ticket nor be answered.
//!
//! Answering an auto-reply with an acknowledgement that is itself auto-replied to is how
//! helpdesks fill a mailbox overnight. Every signal here comes from a standard or a
//! de-facto convention; the first one found is the reason reported.

use std::fmt;

use crate::address::OurMailboxes;
use crate::inbound::InboundMail;

/// Why a message is automatic or our own, and so neither opens a ticket nor gets a reply.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum NoiseReason {
    /// Our own Message-ID came back (a forwarding loop, or our mail delivered to ourselves).
    OwnMessage {
        /// The Message-ID.
        message_id: String,
    },
    /// The sender is one of our own support addresses.
    OwnSender {
        /// The sender's address.
        address: String,
    },
    /// An `X-Loop` header names one of our addresses: we already handled this message.
    Loop {
        /// The `X-Loop` value.
        value: String,
    },
    /// A delivery status notification (bounce), a read receipt, or any other report.
    DeliveryReport {
        /// What showed it (`multipart/report; report-type=delivery-status`,
        /// `X-Failed-Recipients`, the null sender `<>`).
        evidence: String,
    },
    /// The null sender (`Return-Path: <>`): bounces and RFC 3834 auto-replies send from it so
    /// that nothing answers them; a person's mail never does.
    NullSender,
    /// Sent by a mail system rather than a person (`MAILER-DAEMON@`, `postmaster@`).
    DaemonSender {
        /// The sender's address.
        address: String,
    },
    /// `Auto-Submitted` other than `no` (RFC 3834): vacation replies, robots.
    AutoSubmitted {
        /// The header's value.
        value: String,
    },
    /// `X-Autoreply` or `X-Autorespond`: an auto-responder that predates RFC 3834.
    AutoReplyHeader {
        /// The header's name.
        header: &'static str,
        /// Its value.
        value: String,
    },
    /// `Precedence: bulk`, `junk` or `list`.
    Precedence {
        /// The header's value.
        value: String,
    },
    /// Mailing-list or bulk mail (`List-Id`, `List-Unsubscribe`).
    MailingList {
        /// The header that showed it.
        header: &'static str,
        /// Its value.
        value: String,
    },
}

impl NoiseReason {
    /// A short stable name for logs, metrics and the corpus (`"auto_submitted"`).
    pub fn code(&self) -> &'static str {
        match self {
            Self::OwnMessage { .. } => "own_message",
            Self::OwnSender { .. } => "own_sender",
            Self::Loop { .. } => "loop",
            Self::DeliveryReport { .. } => "delivery_report",
            Self::NullSender => "null_sender",
            Self::DaemonSender { .. } => "daemon_sender",
            Self::AutoSubmitted { .. } => "auto_submitted",
            Self::AutoReplyHeader { .. } => "auto_reply_header",
            Self::Precedence { .. } => "precedence",
            Self::MailingList { .. } => "mailing_list",
        }
    }
}

impl fmt::Display for NoiseReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::OwnMessage { message_id } => {
                write!(f, "our own message came back (Message-ID {message_id})")
            }
            Self::OwnSender { address } => write!(f, "sent from our own address {address}"),
            Self::Loop { value } => write!(f, "mail loop (X-Loop: {value})"),
            Self::DeliveryReport { evidence } => write!(f, "delivery report ({evidence})"),
            Self::NullSender => f.write_str("sent from the null sender <>"),
            Self::DaemonSender { address } => write!(f, "sent by a mail system ({address})"),
            Self::AutoSubmitted { value } => write!(f, "automatic mail (Auto-Submitted: {value})"),
            Self::AutoReplyHeader { header, value } => {
                write!(f, "auto-reply ({header}: {value})")
            }
            Self::Precedence { value } => write!(f, "bulk mail (Precedence: {value})"),
            Self::MailingList { header, value } => write!(f, "list mail ({header}: {value})"),
        }
    }
}

/// Local parts that only mail systems send from.
const DAEMON_LOCAL_PARTS: &[&str] = &["mailer-daemon", "postmaster", "mail-daemon"];

/// Classifies a message: `Some(reason)` when it is automatic, a bounce, list mail or our
/// own, `None` when a person wrote it. Our own mail is checked first (the strongest and
/// cheapest signal), then bounces, then auto-replies, then bulk and list mail.
pub fn classify(mail: &InboundMail, ours: &OurMailboxes) -> Option<NoiseReason> {
    let signals = &mail.signals;
    if let Some(id) = mail
        .message_id
        .as_ref()
        .filter(|id| ours.is_our_message_id(id))
    {
        return Some(NoiseReason::OwnMessage {
            message_id: id.clone(),
        });
    }
    if ours.is_ours(&mail.from.address) {
        return Some(NoiseReason::OwnSender {
            address: mail.from.address.clone(),
        });
    }
    let names_us = |value: &str| {
        value
            .split(|c: char| c.is_whitespace() || matches!(c, '<' | '>' | ',' | ';'))
            .filter(|word| word.contains('@'))
            .any(|address| ours.is_ours(address))
    };
    if let Some(value) = signals.x_loop.iter().find(|value| names_us(value)) {
        return Some(NoiseReason::Loop {
            value: value.clone(),
        });
    }
    if signals.content_type.as_deref() == Some("multipart/report") {
        let evidence = match &signals.report_type {
            Some(kind) => format!("multipart/report; report-type={kind}"),
            None => "multipart/report".to_string(),
        };
        return Some(NoiseReason::DeliveryReport { evidence });
    }
    if let Some(value) = &signals.failed_recipients {
        return Some(NoiseReason::DeliveryReport {
            evidence: format!("X-Failed-Recipients: {value}"),
        });
    }
    let local = mail
        .from
        .address
        .rsplit_once('@')
        .map_or("", |(local, _)| local)
        .to_ascii_lowercase();
    if DAEMON_LOCAL_PARTS.contains(&local.as_str()) {
        return Some(NoiseReason::DaemonSender {
            address: mail.from.address.clone(),
        });
    }
    if let Some(value) = signals
        .auto_submitted
        .as_ref()
        .filter(|value| !first_word(value).eq_ignore_ascii_case("no"))
    {
        return Some(NoiseReason::AutoSubmitted {
            value: value.clone(),
        });
    }
    for (header, value) in [
        ("X-Autoreply", &signals.x_autoreply),
        ("X-Autorespond", &signals.x_autorespond),
    ] {
        if let Some(value) = value.as_ref().filter(|v| !is_negative(v)) {
            return Some(NoiseReason::AutoReplyHeader {
                header,
                value: value.clone(),
            });
        }
    }
    if signals.return_path.as_deref() == Some("") {
        return Some(NoiseReason::NullSender);
    }
    if let Some(value) = signals.precedence.as_ref().filter(|value| {
        ["bulk", "junk", "list"]
            .iter()
            .any(|p| first_word(value).eq_ignore_ascii_case(p))
    }) {
        return Some(NoiseReason::Precedence {
            value: value.clone(),
        });
    }
    for (header, value) in [
        ("List-Id", &signals.list_id),
        ("List-Unsubscribe", &signals.list_unsubscribe),
    ] {
        if let Some(value) = value {
            return Some(NoiseReason::MailingList {
                header,
                value: value.clone(),
            });
        }
    }
    None
}

/// The value before any parameter or comment (`auto-replied; owner=...` -> `auto-replied`).
fn first_word(value: &str) -> &str {
    value
        .split([';', '(', ' ', '\t'])
        .next()
        .unwrap_or_default()
        .trim()
}

/// `X-Autoreply: no` / `false` / `0` says the opposite.
fn is_negative(value: &str) -> bool {
    ["no", "false", "0"]
        .iter()
        .any(|n| first_word(value).eq_ignore_ascii_case(n))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;
    use crate::ParseLimits;

    fn code(headers: &str) -> Option<&'static str> {
        let raw = format!("From: Jane <jane@example.com>\r\n{headers}\r\n\r\nbody\r\n");
        let mail = InboundMail::parse(raw.as_bytes(), &ParseLimits::default()).unwrap();
        let ours = OurMailboxes::new()
            .with_address("support@acme.example")
            .with_message_id_domain("acme.example");
        classify(&mail, &ours).map(|reason| {
            assert!(!reason.to_string().is_empty());
            reason.code()
        })
    }

    #[test]
    fn each_signal_and_its_negative() {
        assert_eq!(code("Subject: hi"), None);
        assert_eq!(
            code("Auto-Submitted: auto-generated"),
            Some("auto_submitted")
        );
        assert_eq!(code("Auto-Submitted: No (a person)"), None);
        assert_eq!(code("X-Autoreply: no"), None);
        assert_eq!(code("X-Autoreply: YES"), Some("auto_reply_header"));
        assert_eq!(code("Precedence: junk"), Some("precedence"));
        assert_eq!(code("Precedence: first-class"), None);
        assert_eq!(code("List-Unsubscribe: <mailto:u@x>"), Some("mailing_list"));
        assert_eq!(code("Return-Path: <jane@example.com>"), None);
        assert_eq!(code("Return-Path: < >"), Some("null_sender"));
        assert_eq!(
            code("X-Loop: Acme Support <SUPPORT@acme.example>"),
            Some("loop")
        );
        assert_eq!(code("X-Loop: support@acme.example.evil.test"), None);
        assert_eq!(code("X-Loop: list@lists.example.org"), None);
        assert_eq!(code("Message-ID: <x@acme.example>"), Some("own_message"));
        assert_eq!(code("Message-ID: <x@notacme.example>"), None);
        assert_eq!(
            code("Content-Type: multipart/report; report-type=delivery-status; boundary=b"),
            Some("delivery_report")
        );
    }

    #[test]
    fn our_own_mail_wins_over_other_signals() {
        assert_eq!(
            code(
                "Message-ID: <x@acme.example>\r\nAuto-Submitted: auto-replied\r\nPrecedence: bulk"
            ),
            Some("own_message")
        );
        assert_eq!(
            code("Auto-Submitted: auto-replied\r\nPrecedence: bulk"),
            Some("auto_submitted")
        );
    }
}
