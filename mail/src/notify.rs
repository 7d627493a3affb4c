//! [`MailNotifier`] (feature `smtp`): the outbox's e-mail to customers. An agent's public
//! reply on an e-mail ticket goes to the requester as a threaded reply mail, a ticket
//! opened by e-mail gets its acknowledgement; everything else goes to a fallback notifier.

use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;
use helpdesk_core::blob::{BlobKey, DynBlobStore};
use helpdesk_core::domain::{
    AuthorKind, Channel, Message, MessageKind, NotificationKind, OutboxEntry, Tenant, Ticket, User,
};
use helpdesk_core::store::MessageFilter;
use helpdesk_core::{BoxError, DynStore, MessageId, Notifier, UserId};
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};

use crate::outbound::{MAX_REFERENCES, reply_message_id};
use crate::{
    AcknowledgementBuilder, BuildError, OutboundAttachment, QuotedMessage, ReplyMailBuilder,
    ReplyTokenKey, TenantSender, split_quoted,
};

/// Bytes of attachments put in one reply mail by default (10 MiB: most servers take 25 MiB
/// and base64 adds a third).
pub const DEFAULT_ATTACHMENT_BUDGET: u64 = 10 * 1024 * 1024;

/// Why a customer mail could not be sent; the outbox retries the entry.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MailNotifyError {
    /// The SMTP URL could not be used (the URL is not repeated: it may hold a password).
    #[error("SMTP_URL is not a usable SMTP URL")]
    Url(#[source] lettre::transport::smtp::Error),
    /// Reading what the mail is built from failed.
    #[error("could not read the {what} of ticket #{ticket}")]
    Store {
        /// `"ticket"`, `"message"`, `"requester"`, `"thread"`, `"attachments"`.
        what: &'static str,
        /// The ticket's number.
        ticket: u64,
        /// The store's error.
        #[source]
        source: helpdesk_core::Error,
    },
    /// An attachment's bytes could not be read from the blob store.
    #[error("could not read attachment {file_name:?} of ticket #{ticket}")]
    Blob {
        /// The file.
        file_name: String,
        /// The ticket's number.
        ticket: u64,
        /// The blob store's error.
        #[source]
        source: helpdesk_core::blob::BlobError,
    },
    /// The mail could not be built (a field named in the source).
    #[error("could not build the mail for ticket #{ticket}")]
    Build {
        /// The ticket's number.
        ticket: u64,
        /// The builder's error, naming the field.
        #[source]
        source: BuildError,
    },
    /// The SMTP server refused the mail or could not be reached.
    #[error("sending the mail for ticket #{ticket} failed")]
    Send {
        /// The ticket's number.
        ticket: u64,
        /// The transport's error.
        #[source]
        source: lettre::transport::smtp::Error,
    },
}

/// Sends the customer's e-mail for outbox entries through SMTP and hands every other
/// entry (and every recipient it does not mail) to a fallback notifier (staff
/// notifications).
///
/// What it sends, for a tenant with an `email.address` and a ticket of channel `Email`:
/// - `Replied { message_id: Some(id) }` to the requester: the reply mail
///   ([`ReplyMailBuilder`]): from the tenant's address and display name, `Reply-To` the
///   ticket's reply-token address, the reply text, a short quote of the customer's last
///   message, the signature, our deterministic `Message-ID` (`msg.<uuid>@domain`, so a retry
///   is the same mail), `In-Reply-To`/`References` from the customer's mails (their stored
///   headers) and our earlier replies (bounded to [`MAX_REFERENCES`]), `Re: ... [#N]`, the
///   CCs of the customer's last mail, and the reply's files. Only a public reply is ever
///   sent: a message that is not [`MessageKind::Reply`] (an internal note) is refused here
///   as well, even though the engine never queues one.
/// - `Received` to the requester: the acknowledgement ([`AcknowledgementBuilder`]),
///   threaded under the customer's first mail.
///
/// Attachments are read from the blob store given with [`Self::with_blob_store`], up to
/// [`Self::with_attachment_budget`] bytes per mail; a file that does not fit, or every
/// file when there is no blob store, is named in a line under the reply instead ("on the
/// ticket"): the notifier knows no public URL of the desk, so it cannot link them.
///
/// A send error returns `Err`, so the outbox keeps the entry and retries it (at least
/// once: a retry after a partial success may send the same mail again, with the same
/// Message-ID, which mail clients show once).
#[derive(Clone)]
pub struct MailNotifier {
    store: DynStore,
    transport: AsyncSmtpTransport<Tokio1Executor>,
    key: ReplyTokenKey,
    fallback: Arc<dyn Notifier>,
    blobs: Option<DynBlobStore>,
    attachment_budget: u64,
    server: String,
}

impl fmt::Debug for MailNotifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MailNotifier")
            .field("server", &self.server)
            .field("fallback", &self.fallback)
            .field("attachment_budget", &self.attachment_budget)
            .finish_non_exhaustive()
    }
}

enum Customer {
    Reply(MessageId),
    Acknowledgement,
}

impl MailNotifier {
    /// A notifier sending through `transport`, reading tickets from `store`, making reply
    /// tokens with `key`, and passing everything else to `fallback`.
    pub fn new(
        store: DynStore,
        transport: AsyncSmtpTransport<Tokio1Executor>,
        key: ReplyTokenKey,
        fallback: Arc<dyn Notifier>,
    ) -> Self {
        Self {
            store,
            transport,
            key,
            fallback,
            blobs: None,
            attachment_budget: DEFAULT_ATTACHMENT_BUDGET,
            server: "smtp".to_owned(),
        }
    }

    /// A notifier sending through the server at `url`: `smtp://host:port` (plain, for
    /// local relays and tests), `smtp://user:pass@host:587?tls=required` (STARTTLS) or
    /// `smtps://user:pass@host` (TLS).
    pub fn from_url(
        url: &str,
        store: DynStore,
        key: ReplyTokenKey,
        fallback: Arc<dyn Notifier>,
    ) -> Result<Self, MailNotifyError> {
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url.trim())
            .map_err(MailNotifyError::Url)?
            .build();
        let mut notifier = Self::new(store, transport, key, fallback);
        notifier.server = without_credentials(url.trim());
        Ok(notifier)
    }

    /// Attach replies' files from this blob store (the helpdesk's).
    #[must_use]
    pub fn with_blob_store(mut self, blobs: DynBlobStore) -> Self {
        self.blobs = Some(blobs);
        self
    }

    /// Bytes of files attached to one mail at most (default
    /// [`DEFAULT_ATTACHMENT_BUDGET`]).
    #[must_use]
    pub fn with_attachment_budget(mut self, bytes: u64) -> Self {
        self.attachment_budget = bytes;
        self
    }

    /// The server URL without user name or password (for logs).
    pub fn server(&self) -> &str {
        &self.server
    }

    /// The ticket when this entry is ours to mail (an e-mail ticket of a tenant with an
    /// address), else `None` (the fallback's).
    async fn email_ticket(
        &self,
        tenant: &Tenant,
        entry: &OutboxEntry,
    ) -> Result<Option<Ticket>, MailNotifyError> {
        let number = entry.notification.ticket_number;
        if tenant.settings.email.address.is_none() {
            return Ok(None);
        }
        let ticket = self
            .store
            .get_ticket(tenant.id, entry.notification.ticket_id)
            .await
            .map_err(store_error("ticket", number))?;
        Ok(ticket.filter(|t| t.channel == Channel::Email))
    }

    async fn send_to_requester(
        &self,
        tenant: &Tenant,
        ticket: &Ticket,
        what: &Customer,
        at: jiff::Timestamp,
    ) -> Result<(), MailNotifyError> {
        let number = ticket.number;
        let requester = self
            .store
            .get_user(tenant.id, ticket.requester)
            .await
            .map_err(store_error("requester", number))?;
        let Some(requester) = requester.filter(|u| u.active) else {
            tracing::info!(ticket = number, "requester inactive or gone: no mail sent");
            return Ok(());
        };
        let sender = tenant_sender(tenant).map_err(build_error(number))?;
        let token = self.key.token(tenant.id, number);
        let thread = self
            .store
            .list_messages(tenant.id, ticket.id, MessageFilter::CustomerVisible)
            .await
            .map_err(store_error("thread", number))?;
        let mail = match what {
            Customer::Acknowledgement => {
                let mut ack = AcknowledgementBuilder::new(&sender)
                    .ticket(ticket.id, number, &ticket.subject)
                    .to(&requester.email, Some(&requester.name))
                    .reply_token(&token)
                    .date(at);
                if let Some(first) = thread.iter().find_map(|m| m.email.as_ref()) {
                    ack = ack.in_reply_to(&first.message_id);
                }
                ack.build().map_err(build_error(number))?
            }
            Customer::Reply(id) => {
                let message = self
                    .store
                    .get_message(tenant.id, *id)
                    .await
                    .map_err(store_error("message", number))?;
                let Some(message) = message.filter(|m| m.ticket_id == ticket.id) else {
                    tracing::warn!(ticket = number, "the replied message is gone: no mail sent");
                    return Ok(());
                };
                if message.kind != MessageKind::Reply {
                    // Never mail anything but a public reply (an internal note stays inside).
                    tracing::warn!(
                        ticket = number,
                        kind = ?message.kind,
                        "a Replied entry names a message that is not a public reply: not sent"
                    );
                    return Ok(());
                }
                self.reply_mail(
                    tenant, ticket, &sender, &token, &requester, &message, &thread,
                )
                .await?
            }
        };
        self.transport
            .send(mail.message)
            .await
            .map_err(|source| MailNotifyError::Send {
                ticket: number,
                source,
            })?;
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    async fn reply_mail(
        &self,
        tenant: &Tenant,
        ticket: &Ticket,
        sender: &TenantSender,
        token: &str,
        requester: &User,
        reply: &Message,
        thread: &[Message],
    ) -> Result<crate::OutboundMail, MailNotifyError> {
        let number = ticket.number;
        let mut earlier: Vec<&Message> = thread
            .iter()
            .filter(|m| m.id != reply.id && m.created_at <= reply.created_at)
            .collect();
        earlier.sort_by_key(|m| m.created_at);
        let ids = bounded_thread(earlier.iter().filter_map(|m| {
            match (&m.email, m.author_kind, m.kind) {
                (Some(headers), _, _) => Some(headers.message_id.clone()),
                // Our earlier public replies went out as mail with this id.
                (None, AuthorKind::Agent, MessageKind::Reply) => {
                    Some(reply_message_id(m.id, sender.message_id_domain()))
                }
                _ => None,
            }
        }));
        let last_from_customer = earlier
            .iter()
            .rev()
            .find(|m| m.author_kind == AuthorKind::Customer);
        let (files, left_out) = self.attachments(tenant, ticket, reply).await?;
        let mut body = reply.body.clone();
        if !left_out.is_empty() {
            body.push_str(&format!(
                "\n\n(Not attached to this e-mail, on ticket #{number}: {})",
                left_out.join(", ")
            ));
        }
        let mut builder = ReplyMailBuilder::new(sender)
            .message(reply.id)
            .ticket(number, &ticket.subject)
            .to(&requester.email, Some(&requester.name))
            .body(&body)
            .thread(&ids)
            .reply_token(token)
            .date(reply.created_at);
        if let Some(last) = last_from_customer {
            builder = builder.quote(QuotedMessage {
                author: requester.name.clone(),
                sent_at: Some(last.created_at),
                text: split_quoted(&last.body).new_text,
            });
            if let Some(headers) = &last.email {
                for cc in &headers.cc {
                    builder = builder.cc(cc, None);
                }
            }
        }
        for file in files {
            builder = builder.attachment(file);
        }
        builder.build().map_err(build_error(number))
    }

    /// The reply's files within the budget, and the names of those left out.
    async fn attachments(
        &self,
        tenant: &Tenant,
        ticket: &Ticket,
        reply: &Message,
    ) -> Result<(Vec<OutboundAttachment>, Vec<String>), MailNotifyError> {
        let number = ticket.number;
        let listed = self
            .store
            .list_attachments(tenant.id, ticket.id)
            .await
            .map_err(store_error("attachments", number))?;
        let mut files = Vec::new();
        let mut left_out = Vec::new();
        let mut used = 0u64;
        for attachment in listed
            .into_iter()
            .filter(|a| a.message_id == Some(reply.id))
        {
            let fits = used.saturating_add(attachment.size) <= self.attachment_budget;
            let bytes = match (&self.blobs, fits) {
                (Some(blobs), true) => blobs
                    .get(BlobKey {
                        tenant: tenant.id,
                        sha256: attachment.sha256,
                    })
                    .await
                    .map_err(|source| MailNotifyError::Blob {
                        file_name: attachment.file_name.clone(),
                        ticket: number,
                        source,
                    })?,
                _ => None,
            };
            match bytes {
                Some(bytes) => {
                    used = used.saturating_add(attachment.size);
                    files.push(OutboundAttachment {
                        file_name: attachment.file_name,
                        content_type: attachment.content_type,
                        bytes,
                    });
                }
                None => left_out.push(attachment.file_name),
            }
        }
        Ok((files, left_out))
    }
}

#[async_trait]
impl Notifier for MailNotifier {
    async fn deliver(&self, tenant: &Tenant, entry: &OutboxEntry) -> Result<(), BoxError> {
        let what = match &entry.notification.kind {
            NotificationKind::Replied {
                message_id: Some(id),
            } => Customer::Reply(*id),
            NotificationKind::Received => Customer::Acknowledgement,
            _ => return self.fallback.deliver(tenant, entry).await,
        };
        let Some(ticket) = self.email_ticket(tenant, entry).await? else {
            return self.fallback.deliver(tenant, entry).await;
        };
        let (to_requester, others): (Vec<UserId>, Vec<UserId>) = entry
            .notification
            .recipients
            .iter()
            .partition(|&&user| user == ticket.requester);
        if to_requester.is_empty() {
            return self.fallback.deliver(tenant, entry).await;
        }
        // The acknowledgement's Date is the entry's (a retry builds the same mail); a
        // reply's is its message's.
        self.send_to_requester(tenant, &ticket, &what, entry.created_at)
            .await?;
        if !others.is_empty() {
            let mut rest = entry.clone();
            rest.notification.recipients = others;
            self.fallback.deliver(tenant, &rest).await?;
        }
        Ok(())
    }
}

/// The tenant's sender: its address, display name (the tenant's name when empty) and
/// signature.
fn tenant_sender(tenant: &Tenant) -> Result<TenantSender, BuildError> {
    let email = &tenant.settings.email;
    let address = email
        .address
        .as_deref()
        .ok_or(BuildError::Missing { field: "from" })?;
    let name = if email.display_name.trim().is_empty() {
        tenant.name.as_str()
    } else {
        email.display_name.as_str()
    };
    Ok(TenantSender::new(address, name)?.with_signature(&email.signature))
}

/// The first id and the most recent ones, at most [`MAX_REFERENCES`] (RFC 5322 §3.6.4
/// keeps the first when trimming), without repeats.
fn bounded_thread(ids: impl Iterator<Item = String>) -> Vec<String> {
    let mut all: Vec<String> = Vec::new();
    for id in ids {
        if !all.contains(&id) {
            all.push(id);
        }
    }
    if all.len() <= MAX_REFERENCES {
        return all;
    }
    let mut kept = vec![all[0].clone()];
    kept.extend_from_slice(&all[all.len() - (MAX_REFERENCES - 1)..]);
    kept
}

fn store_error(
    what: &'static str,
    ticket: u64,
) -> impl Fn(helpdesk_core::Error) -> MailNotifyError {
    move |source| MailNotifyError::Store {
        what,
        ticket,
        source,
    }
}

fn build_error(ticket: u64) -> impl Fn(BuildError) -> MailNotifyError {
    move |source| MailNotifyError::Build { ticket, source }
}

/// `scheme://host:port/...` without `user:pass@`.
fn without_credentials(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            format!("{}{}", &url[..scheme_end + 3], &url[at + 1..])
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    #[test]
    fn long_threads_keep_the_first_and_the_latest() {
        let ids = (0..30).map(|i| format!("id{i}@x"));
        let kept = bounded_thread(ids);
        assert_eq!(kept.len(), MAX_REFERENCES);
        assert_eq!(kept[0], "id0@x");
        assert_eq!(kept.last().unwrap(), "id29@x");
        assert_eq!(
            bounded_thread(["a@x".to_owned(), "a@x".to_owned()].into_iter()).len(),
            1
        );
    }

    #[test]
    fn credentials_are_dropped_from_the_server_name() {
        assert_eq!(
            without_credentials("smtps://u:p@mail.example:465"),
            "smtps://mail.example:465"
        );
        assert_eq!(
            without_credentials("smtp://127.0.0.1:25"),
            "smtp://127.0.0.1:25"
        );
    }
}
