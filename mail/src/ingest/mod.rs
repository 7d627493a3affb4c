//! Mail into the engine: the raw bytes of one message, from the MTA's pipe or an IMAP
//! mailbox, become a new ticket, a reply on its ticket, or an entry in the tenant's
//! quarantine. Nothing is dropped.
//!
//! ```text
//! raw bytes -> size check -> parse (blocking thread) -> noise -> threading lookups
//!   -> decide -> per-sender limit (new tickets) -> Helpdesk::receive_email
//! ```
//!
//! Every refusal on the way (too large, unreadable, automatic mail, a sender over the
//! limit or not allowed to register, a message the engine rejects) keeps the raw bytes in
//! the quarantine with the reason; an admin sees it there and can re-ingest it
//! ([`MailIngest::reingest`]) once the cause is gone. Only a temporary failure (the store
//! is down) is an error, so that the pipe's MTA or the IMAP poller tries again later; the
//! engine is idempotent on the Message-ID, so a message delivered twice (a crash between
//! the commit and the IMAP move, an MTA retry) is stored once.

mod convert;
mod lookup;
#[cfg(feature = "imap")]
mod sink;

#[cfg(feature = "imap")]
pub use sink::TenantMailbox;

use std::sync::Arc;

use helpdesk_core::domain::{Actor, Channel, Tenant, Ticket};
use helpdesk_core::service::{EmailDisposition, EmailRoute};
use helpdesk_core::store::{QuarantineReason, TicketQuery, TicketSort};
use helpdesk_core::{Error as CoreError, Helpdesk, QuarantineId, TenantId, TicketId};

use crate::address::OurMailboxes;
use crate::error::{ErrorChain, ParseError};
use crate::inbound::{InboundMail, ParseLimits};
use crate::noise::classify;
use crate::outbound::TenantSender;
use crate::threading::{ThreadDecision, ThreadMatch, decide_thread};
use crate::token::ReplyTokenKey;

/// Where a message ended up.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum IngestOutcome {
    /// In the engine: on this ticket.
    Delivered {
        /// The ticket the message is on (a new one, its thread, or a follow-up).
        ticket: TicketId,
        /// Its number.
        number: u64,
        /// What the engine did with it.
        disposition: EmailDisposition,
        /// How its ticket was found; `None` for a new ticket.
        matched_by: Option<ThreadMatch>,
    },
    /// Kept in the tenant's quarantine.
    Quarantined {
        /// The entry.
        id: QuarantineId,
        /// Why.
        reason: QuarantineReason,
    },
}

/// Why a message could not be taken at all. The caller keeps it and tries again (the MTA
/// defers, the IMAP poller leaves it in the mailbox), except for a configuration error,
/// which an operator must fix.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum IngestError {
    /// No tenant has this id.
    #[error("tenant {tenant} does not exist")]
    UnknownTenant {
        /// The id given.
        tenant: TenantId,
    },
    /// The tenant's e-mail channel is off (no `email.address` in its settings).
    #[error(
        "tenant {slug:?} has no support address (setting email.address): its e-mail channel is off"
    )]
    ChannelOff {
        /// The tenant.
        slug: String,
    },
    /// The tenant's support address cannot be used to recognise our own mail.
    #[error("tenant {slug:?} has an unusable support address (setting email.address)")]
    BadAddress {
        /// The tenant.
        slug: String,
        /// Why.
        #[source]
        source: crate::error::BuildError,
    },
    /// The engine failed; nothing was stored for this message (or only the idempotent part).
    #[error("the helpdesk could not take the message")]
    Engine(#[source] CoreError),
    /// A quarantined message re-ingested by an admin was refused again.
    #[error("the message is refused again ({}): {detail}", reason.name())]
    StillRefused {
        /// Why.
        reason: QuarantineReason,
        /// What exactly.
        detail: String,
    },
    /// Parsing was cut short (its blocking task panicked or was cancelled).
    #[error("parsing the message did not finish")]
    Parser(#[source] tokio::task::JoinError),
}

impl IngestError {
    /// Whether trying the same message again later may succeed (a store outage), as opposed
    /// to a configuration an operator must change first.
    pub fn is_temporary(&self) -> bool {
        match self {
            Self::Engine(e) => e.is_temporary(),
            Self::Parser(_) => true,
            _ => false,
        }
    }
}

/// A refusal on the way in: what the quarantine records.
#[derive(Clone, Debug)]
struct Refusal {
    reason: QuarantineReason,
    detail: String,
    from: Option<String>,
    subject: Option<String>,
}

impl Refusal {
    fn new(reason: QuarantineReason, detail: impl Into<String>) -> Self {
        Self {
            reason,
            detail: detail.into(),
            from: None,
            subject: None,
        }
    }

    fn about(mut self, mail: &InboundMail) -> Self {
        self.from = Some(mail.from.address.clone());
        self.subject = Some(mail.subject.clone());
        self
    }
}

/// Whether the message arrives fresh or an admin pushes it again out of quarantine (then
/// the noise filter and the per-sender limit, which put it there, are not applied again).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mode {
    Fresh,
    Reingest,
}

/// Takes inbound mail into a [`Helpdesk`]. Cheap to clone; share one per process.
#[derive(Clone, Debug)]
pub struct MailIngest {
    helpdesk: Helpdesk,
    token_key: Option<ReplyTokenKey>,
}

impl MailIngest {
    /// Ingests into `helpdesk`, which needs a blob store (attachments and the quarantine's
    /// raw bytes live there). Without a reply-token key, `support+<token>@` addresses are
    /// not honoured (Message-IDs and subject tags still thread).
    pub fn new(helpdesk: Helpdesk) -> Self {
        Self {
            helpdesk,
            token_key: None,
        }
    }

    /// Honours reply tokens made with `key` (the same key the outbound mail uses).
    #[must_use]
    pub fn with_reply_token_key(mut self, key: ReplyTokenKey) -> Self {
        self.token_key = Some(key);
        self
    }

    /// Ingests one raw message for `tenant`; `source` says where it came from (`pipe`,
    /// `imap:INBOX`) for the quarantine.
    pub async fn ingest(
        &self,
        tenant: TenantId,
        raw: Vec<u8>,
        source: &str,
    ) -> Result<IngestOutcome, IngestError> {
        let raw: Arc<[u8]> = raw.into();
        match self.route(tenant, &raw, Mode::Fresh).await? {
            Ok(outcome) => Ok(outcome),
            Err(refusal) => {
                tracing::info!(
                    tenant = %tenant,
                    reason = refusal.reason.name(),
                    detail = %refusal.detail,
                    "inbound mail quarantined"
                );
                let kept = self
                    .helpdesk
                    .quarantine_email(
                        tenant,
                        raw,
                        refusal.reason,
                        &refusal.detail,
                        source,
                        refusal.from.as_deref(),
                        refusal.subject.as_deref(),
                    )
                    .await
                    .map_err(IngestError::Engine)?;
                Ok(IngestOutcome::Quarantined {
                    id: kept.id,
                    reason: kept.reason,
                })
            }
        }
    }

    /// An admin re-ingests a quarantined message: it goes through the same door, without
    /// the noise filter and the per-sender limit; when it lands it is marked released with
    /// its ticket. Refused again: [`IngestError::StillRefused`], the entry stays held.
    pub async fn reingest(
        &self,
        actor: &Actor,
        id: QuarantineId,
    ) -> Result<IngestOutcome, IngestError> {
        let (entry, raw) = self
            .helpdesk
            .quarantined_mail(actor, id)
            .await
            .map_err(IngestError::Engine)?;
        let raw: Arc<[u8]> = raw.into();
        match self.route(entry.tenant_id, &raw, Mode::Reingest).await? {
            Ok(outcome) => {
                let ticket = match &outcome {
                    IngestOutcome::Delivered { ticket, .. } => Some(*ticket),
                    IngestOutcome::Quarantined { .. } => None,
                };
                self.helpdesk
                    .release_quarantined(actor, id, ticket)
                    .await
                    .map_err(IngestError::Engine)?;
                Ok(outcome)
            }
            Err(refusal) => Err(IngestError::StillRefused {
                reason: refusal.reason,
                detail: refusal.detail,
            }),
        }
    }

    /// Everything up to the engine's answer: `Ok(Err(refusal))` is a message to quarantine.
    async fn route(
        &self,
        tenant_id: TenantId,
        raw: &Arc<[u8]>,
        mode: Mode,
    ) -> Result<Result<IngestOutcome, Refusal>, IngestError> {
        let store = self.helpdesk.store();
        let tenant = store
            .get_tenant(tenant_id)
            .await
            .map_err(IngestError::Engine)?
            .ok_or(IngestError::UnknownTenant { tenant: tenant_id })?;
        let ours = our_mailboxes(&tenant)?;
        let limit = tenant.settings.email.max_message_bytes;
        if raw.len() as u64 > limit {
            return Ok(Err(Refusal::new(
                QuarantineReason::Oversized,
                format!("{} bytes, more than the limit of {limit}", raw.len()),
            )));
        }
        let limits = ParseLimits::default()
            .with_max_message_bytes(usize::try_from(limit).unwrap_or(usize::MAX));
        let bytes = Arc::clone(raw);
        let parsed = tokio::task::spawn_blocking(move || InboundMail::parse(&bytes, &limits))
            .await
            .map_err(IngestError::Parser)?;
        let mail = match parsed {
            Ok(mail) => mail,
            Err(e @ ParseError::TooLarge { .. }) => {
                return Ok(Err(Refusal::new(
                    QuarantineReason::Oversized,
                    e.to_string(),
                )));
            }
            Err(e) => {
                return Ok(Err(Refusal::new(
                    QuarantineReason::Malformed,
                    e.to_string(),
                )));
            }
        };
        if mode == Mode::Fresh
            && let Some(reason) = classify(&mail, &ours)
        {
            return Ok(Err(Refusal::new(
                QuarantineReason::Ignored,
                reason.to_string(),
            )
            .about(&mail)));
        }
        let now = self.helpdesk.now();
        let lookup = lookup::prefetch(store, &tenant, &mail, &ours, self.token_key.as_ref(), now)
            .await
            .map_err(IngestError::Engine)?;
        let (route, matched_by) = match decide_thread(&mail, &ours, &lookup) {
            ThreadDecision::Reply { ticket, matched_by }
            | ThreadDecision::FollowUp {
                closed: ticket,
                matched_by,
            } => (EmailRoute::Ticket(ticket.id), Some(matched_by)),
            ThreadDecision::NewTicket { ignored_tag } => {
                if let Some(number) = ignored_tag {
                    tracing::info!(
                        tenant = %tenant.slug,
                        number,
                        "a subject tag named a ticket the sender is not on: opening a new ticket"
                    );
                }
                (EmailRoute::New, None)
            }
            ThreadDecision::Ignore { reason } => {
                return Ok(Err(Refusal::new(
                    QuarantineReason::Ignored,
                    reason.to_string(),
                )
                .about(&mail)));
            }
        };
        if mode == Mode::Fresh
            && route == EmailRoute::New
            && let Some(refusal) = self.over_sender_limit(&tenant, &mail, now).await?
        {
            return Ok(Err(refusal.about(&mail)));
        }
        let email = convert::inbound_email(&mail, route);
        match self.helpdesk.receive_email(tenant.id, email).await {
            Ok(outcome) => Ok(Ok(IngestOutcome::Delivered {
                ticket: outcome.ticket.id,
                number: outcome.ticket.number,
                disposition: outcome.disposition,
                matched_by,
            })),
            Err(e) if e.is_temporary() => Err(IngestError::Engine(e)),
            Err(e @ CoreError::SenderRefused { .. }) => Ok(Err(Refusal::new(
                QuarantineReason::SenderRefused,
                e.to_string(),
            )
            .about(&mail))),
            Err(e) => Ok(Err(Refusal::new(
                QuarantineReason::Failed,
                ErrorChain(&e).to_string(),
            )
            .about(&mail))),
        }
    }

    /// A sender who opened `email.max_new_tickets_per_sender_per_hour` tickets in the last
    /// hour is held: one store query, the same on every instance, so a mail storm spread
    /// over several app instances is stopped as well.
    async fn over_sender_limit(
        &self,
        tenant: &Tenant,
        mail: &InboundMail,
        now: jiff::Timestamp,
    ) -> Result<Option<Refusal>, IngestError> {
        let store = self.helpdesk.store();
        let Some(sender) = store
            .get_user_by_email(tenant.id, &mail.from.address)
            .await
            .map_err(IngestError::Engine)?
        else {
            return Ok(None);
        };
        let max = tenant.settings.email.max_new_tickets_per_sender_per_hour;
        let query = TicketQuery {
            requester: Some(sender.id),
            sort: TicketSort::Newest,
            limit: max.saturating_add(1).min(TicketQuery::MAX_LIMIT),
            ..TicketQuery::default()
        };
        let recent = store
            .list_tickets(tenant.id, &query)
            .await
            .map_err(IngestError::Engine)?;
        let hour_ago = now
            .checked_sub(jiff::SignedDuration::from_hours(1))
            .unwrap_or(now);
        let opened = recent
            .items
            .iter()
            .filter(|t: &&Ticket| t.channel == Channel::Email && t.created_at > hour_ago)
            .count();
        Ok((opened as u64 >= u64::from(max)).then(|| {
            Refusal::new(
                QuarantineReason::RateLimited,
                format!(
                    "{} opened {opened} tickets in the last hour (limit {max}, setting email.max_new_tickets_per_sender_per_hour)",
                    mail.from.address
                ),
            )
        }))
    }
}

/// The tenant's own addresses and Message-ID domain, as the outbound mail uses them.
fn our_mailboxes(tenant: &Tenant) -> Result<OurMailboxes, IngestError> {
    let address =
        tenant
            .settings
            .email
            .address
            .as_deref()
            .ok_or_else(|| IngestError::ChannelOff {
                slug: tenant.slug.clone(),
            })?;
    let sender =
        TenantSender::new(address, &tenant.name).map_err(|source| IngestError::BadAddress {
            slug: tenant.slug.clone(),
            source,
        })?;
    Ok(sender.our_mailboxes())
}
