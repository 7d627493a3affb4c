//! `open` and `list`: tickets as a given user.

use helpdesk_core::domain::{Priority, Ticket, TicketStatus};
use helpdesk_core::service::NewTicket;
use helpdesk_core::store::TicketQuery;

use super::context::Context;
use super::error::{CliError, CliResult};

/// Opens a ticket as `email` of the tenant `slug`.
pub(super) async fn open(
    ctx: &Context,
    slug: &str,
    email: &str,
    subject: &str,
    description: &str,
    priority: Option<Priority>,
) -> CliResult<Ticket> {
    let actor = ctx.actor(slug, email).await?;
    let mut new = NewTicket::new(subject, description);
    new.priority = priority;
    Ok(ctx.helpdesk.open_ticket(&actor, new).await?.ticket)
}

/// The tickets `email` of the tenant `slug` may see, newest first.
pub(super) async fn list(
    ctx: &Context,
    slug: &str,
    email: &str,
    statuses: Vec<TicketStatus>,
    limit: u32,
) -> CliResult<Vec<Ticket>> {
    if !(1..=TicketQuery::MAX_LIMIT).contains(&limit) {
        return Err(CliError::Argument {
            field: "limit",
            message: format!("must be 1..={}", TicketQuery::MAX_LIMIT),
        });
    }
    let actor = ctx.actor(slug, email).await?;
    let query = TicketQuery {
        statuses,
        limit,
        ..TicketQuery::default()
    };
    Ok(ctx.helpdesk.list_tickets(&actor, query).await?.items)
}

/// A ticket as printed by `open`.
pub(super) fn describe(ticket: &Ticket, assignee: Option<&str>) -> String {
    format!(
        "ticket #{}\ncategory: {}\npriority: {}\nassignee: {}\n",
        ticket.number,
        ticket.category.as_deref().unwrap_or("-"),
        ticket.priority,
        assignee.unwrap_or("-"),
    )
}

/// Tickets as a plain-text table.
pub(super) fn table(tickets: &[Ticket]) -> String {
    let mut out = format!(
        "{:>6}  {:<10}  {:<8}  {:<14}  {}\n",
        "NUMBER", "STATUS", "PRIORITY", "CATEGORY", "SUBJECT"
    );
    for t in tickets {
        out.push_str(&format!(
            "{:>6}  {:<10}  {:<8}  {:<14}  {}\n",
            t.number,
            t.status,
            t.priority,
            t.category.as_deref().unwrap_or("-"),
            t.subject.replace(['\n', '\r'], " "),
        ));
    }
    out
}
