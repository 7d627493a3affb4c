//! Custom field values on tickets: set and cleared by staff, and by customers on their own
//! tickets for the fields editable by customers; what customers see of them.

use std::collections::BTreeMap;

use super::Helpdesk;
use super::change::Change;
use crate::domain::{Actor, EventKind, FieldValue, Tenant, Ticket};
use crate::roles::Action;
use crate::{Result, TicketId, fields};

/// Field changes by key: a value sets the field, `None` empties it.
pub type FieldChanges = BTreeMap<String, Option<FieldValue>>;

/// `ticket` as `actor` may see it: for a customer, without the fields that are not
/// visible to customers.
pub(crate) fn for_viewer(actor: &Actor, tenant: &Tenant, mut ticket: Ticket) -> Ticket {
    if !actor.is_staff() {
        if !ticket.custom_fields.is_empty() {
            ticket.custom_fields =
                fields::customer_visible(&tenant.settings.custom_fields, &ticket.custom_fields);
        }
        // Which team works it is the desk's business.
        ticket.team = None;
    }
    ticket
}

/// Most field values one listing or search may filter on.
pub const MAX_FIELD_FILTERS: usize = 10;

/// Checks field filter tokens (`key=value`): at most [`MAX_FIELD_FILTERS`], each naming a
/// field of the tenant, one line of at most 600 characters.
pub(crate) fn check_field_filters(tenant: &Tenant, tokens: &[String]) -> Result<()> {
    if tokens.len() > MAX_FIELD_FILTERS {
        return Err(crate::Error::validation(
            "fields",
            format!("at most {MAX_FIELD_FILTERS} field filters"),
        ));
    }
    for (i, token) in tokens.iter().enumerate() {
        let at = format!("fields[{i}]");
        crate::validate::no_control_chars(&at, token)?;
        let known = token
            .split_once('=')
            .is_some_and(|(key, _)| tenant.settings.custom_fields.iter().any(|d| d.key == key));
        if !known || token.chars().count() > 600 {
            return Err(crate::Error::validation(
                at,
                format!("{token:?} is not `field=value` of one of the tenant's fields"),
            ));
        }
    }
    Ok(())
}

impl Helpdesk {
    /// Sets and clears custom fields of a ticket in one change with a
    /// `custom_fields_changed` event (none when nothing changes). Staff change any field of
    /// the tenant; a customer only the fields editable by customers, on their own tickets.
    /// Returns the ticket as the actor sees it.
    ///
    /// # Errors
    /// [`Error::Validation`](crate::Error::Validation) naming `fields.<key>`: no such field,
    /// a value of the wrong kind or not among the options, a field the customer may not
    /// change. [`Error::NotFound`](crate::Error::NotFound) for a ticket the actor may not see.
    pub async fn set_custom_fields(
        &self,
        actor: &Actor,
        id: TicketId,
        changes: FieldChanges,
    ) -> Result<Ticket> {
        let (tenant, user, ticket) = self
            .checked_ticket(actor, Action::SetCustomFields, id)
            .await?;
        let defs = &tenant.settings.custom_fields;
        // Checked before the write so a refusal names the field without a retry loop.
        fields::apply_changes(defs, &ticket.custom_fields, &changes, actor.role)?;
        if changes.is_empty() {
            return Ok(for_viewer(actor, &tenant, ticket));
        }
        let now = self.now();
        let write = self
            .mutate_ticket_from(&tenant, id, Some(ticket), |current| {
                let next =
                    fields::apply_changes(defs, &current.custom_fields, &changes, actor.role)?;
                let mut change = Change::of(current, now, Some(user.id));
                if next != current.custom_fields {
                    change.push(EventKind::CustomFieldsChanged { fields: next });
                }
                Ok(change.finish())
            })
            .await?;
        Ok(for_viewer(actor, &tenant, write.ticket))
    }
}
