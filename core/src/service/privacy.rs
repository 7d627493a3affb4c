//! A customer's data, exported for them (a data subject's access request): everything the
//! company holds about one customer, gathered in one document an admin hands over.

use jiff::Timestamp;
use serde::Serialize;

use super::Helpdesk;
use crate::domain::{Actor, Attachment, AuditKind, ChatSession, Message, Role, Ticket, User};
use crate::roles::Action;
use crate::store::{AdminChange, MessageFilter, TicketQuery, TicketSort};
use crate::{Error, Result, TenantId, UserId};

/// Everything the company holds about one customer.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CustomerExport {
    /// When it was made.
    pub exported_at: Timestamp,
    /// The company's name.
    pub company: String,
    /// The customer's profile (no password or session secrets).
    pub customer: User,
    /// Their tickets, newest first, each with its whole thread and files.
    pub tickets: Vec<TicketExport>,
    /// Their chatbot conversations (the turns are the messages of their tickets).
    pub chat_sessions: Vec<ChatSession>,
}

/// One of the customer's tickets.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TicketExport {
    /// The ticket (its rating included).
    pub ticket: Ticket,
    /// Every message, oldest first: public replies and chat turns, internal notes (kind
    /// `note`) and AI drafts (kind `draft`), which mention the customer too.
    pub messages: Vec<Message>,
    /// The files (names, types and sizes; the bytes are downloaded one by one).
    pub attachments: Vec<Attachment>,
}

impl Helpdesk {
    /// Every ticket `user` raised in `tenant`, newest first (read page by page).
    pub(crate) async fn requested_by(&self, tenant: TenantId, user: UserId) -> Result<Vec<Ticket>> {
        let mut query = TicketQuery {
            requester: Some(user),
            sort: TicketSort::Newest,
            limit: TicketQuery::MAX_LIMIT,
            ..TicketQuery::default()
        };
        let mut tickets = Vec::new();
        loop {
            let page = self.inner.store.list_tickets(tenant, &query).await?;
            tickets.extend(page.items);
            match page.next_cursor {
                Some(next) => query.cursor = Some(next),
                None => return Ok(tickets),
            }
        }
    }

    /// Gathers everything about the customer `user` (admins): their profile, every ticket
    /// they raised with all its messages and the list of its files, their ratings and
    /// chatbot conversations. The export itself is recorded in the audit log
    /// (`customer_data_exported`). Staff members are refused: the export is for customers.
    pub async fn export_customer(&self, actor: &Actor, user: UserId) -> Result<CustomerExport> {
        let (tenant, _) = self.check(actor, Action::ManageUsers).await?;
        let store = &self.inner.store;
        let customer = store
            .get_user(tenant.id, user)
            .await?
            .ok_or_else(|| Error::not_found("user", user))?;
        if customer.role != Role::Customer {
            return Err(Error::validation(
                "user",
                "only a customer's data is exported",
            ));
        }
        let mut tickets = Vec::new();
        for ticket in self.requested_by(tenant.id, user).await? {
            let (messages, attachments) = futures_util::future::try_join(
                store.list_messages(tenant.id, ticket.id, MessageFilter::All),
                store.list_attachments(tenant.id, ticket.id),
            )
            .await?;
            tickets.push(TicketExport {
                ticket,
                messages,
                attachments,
            });
        }
        let chat_sessions = store.list_chat_sessions(tenant.id, Some(user)).await?;
        let kind = AuditKind::CustomerDataExported {
            user,
            tickets: tickets.len() as u64,
        };
        self.commit_admin(Some(actor), tenant.id, AdminChange::RecordOnly, kind)
            .await?;
        Ok(CustomerExport {
            exported_at: self.now(),
            company: tenant.name,
            customer,
            tickets,
            chat_sessions,
        })
    }
}
