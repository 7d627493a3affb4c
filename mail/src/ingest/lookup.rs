//! The threading lookups of one message, answered from the store before [`decide`] runs.
//!
//! [`decide`]: crate::decide

use helpdesk_core::domain::{Tenant, Ticket};
use helpdesk_core::service::email_message_id;
use helpdesk_core::{DynStore, Result, TenantId};

use crate::address::OurMailboxes;
use crate::inbound::InboundMail;
use crate::outbound::{OurMessageId, parse_our_message_id};
use crate::threading::{PrefetchedLookup, ThreadKeys, ThreadTicket};
use crate::token::ReplyTokenKey;

/// How many `merged_into` links are followed: merges do not chain deeper in practice, and a
/// bound keeps a corrupt cycle from looping.
const MAX_MERGE_HOPS: usize = 8;

/// Fetches the tickets `mail`'s keys name, in the order [`decide`](crate::decide) tries
/// them, stopping at the first Message-ID or reply token that finds one (later keys of a
/// kind that already matched are never consulted). Subject tags are all fetched: which one
/// counts depends on the sender.
pub(crate) async fn prefetch(
    store: &DynStore,
    tenant: &Tenant,
    mail: &InboundMail,
    ours: &OurMailboxes,
    token_key: Option<&ReplyTokenKey>,
    now: jiff::Timestamp,
) -> Result<PrefetchedLookup> {
    let keys = ThreadKeys::extract(mail, ours);
    let mut lookup = PrefetchedLookup::new();
    for message_id in &keys.message_ids {
        if let Some(ticket) = ticket_of_message_id(store, tenant.id, message_id, ours).await?
            && let Some(ticket) = thread_ticket(store, tenant, ticket, now).await?
        {
            return Ok(lookup.with_message_id(message_id, ticket));
        }
    }
    if let Some(key) = token_key {
        for token in &keys.reply_tokens {
            let Some(number) = key.verify(tenant.id, token) else {
                continue;
            };
            if let Some(ticket) = store.get_ticket_by_number(tenant.id, number).await?
                && let Some(ticket) = thread_ticket(store, tenant, ticket, now).await?
            {
                return Ok(lookup.with_reply_token(token, ticket));
            }
        }
    }
    for number in &keys.ticket_numbers {
        if let Some(ticket) = store.get_ticket_by_number(tenant.id, *number).await?
            && let Some(mut found) = thread_ticket(store, tenant, ticket, now).await?
        {
            // The tag names this number; a merged ticket answers as its target.
            found.number = *number;
            lookup = lookup.with_ticket(found);
        }
    }
    Ok(lookup)
}

/// The ticket a Message-ID belongs to: one we sent (a reply's or an acknowledgement's id
/// carries its message or ticket), or one we received (its message has the id derived from
/// it), so a customer who answers their own earlier mail also lands on its ticket.
async fn ticket_of_message_id(
    store: &DynStore,
    tenant: TenantId,
    message_id: &str,
    ours: &OurMailboxes,
) -> Result<Option<Ticket>> {
    let ticket = match parse_our_message_id(message_id, ours) {
        Some(OurMessageId::Acknowledgement(ticket)) => Some(ticket),
        Some(OurMessageId::Reply(message)) => store
            .get_message(tenant, message)
            .await?
            .map(|m| m.ticket_id),
        None => store
            .get_message(tenant, email_message_id(tenant, message_id))
            .await?
            .map(|m| m.ticket_id),
    };
    match ticket {
        Some(id) => store.get_ticket(tenant, id).await,
        None => Ok(None),
    }
}

/// The ticket as threading sees it: a merged ticket is replaced by the one it was merged
/// into, `closed` follows [`Helpdesk::reply`](helpdesk_core::Helpdesk::reply)'s rule
/// (Closed, or Resolved past the reopen window), and the requester's address is looked up.
async fn thread_ticket(
    store: &DynStore,
    tenant: &Tenant,
    mut ticket: Ticket,
    now: jiff::Timestamp,
) -> Result<Option<ThreadTicket>> {
    for _ in 0..MAX_MERGE_HOPS {
        let Some(target) = ticket.merged_into else {
            break;
        };
        match store.get_ticket(tenant.id, target).await? {
            Some(next) => ticket = next,
            None => return Ok(None),
        }
    }
    let Some(requester) = store.get_user(tenant.id, ticket.requester).await? else {
        return Ok(None);
    };
    let closed = ticket.takes_follow_up(tenant.settings.reopen_window_hours, now);
    Ok(Some(
        ThreadTicket::new(ticket.id, ticket.number, requester.email).closed(closed),
    ))
}
