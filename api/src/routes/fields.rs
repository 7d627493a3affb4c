//! Custom field values of a ticket (definitions are part of the tenant's settings,
//! `PUT /tenant/settings`), and the spread of tickets over dropdown fields.

use std::collections::BTreeMap;

use axum::extract::State;
use axum::response::Response;
use helpdesk_core::TicketId;
use helpdesk_core::domain::FieldValue;
use serde::Serialize;
use utoipa::ToSchema;

use crate::ApiState;
use crate::auth::Caller;
use crate::extract::{Json, Path};
use crate::headers::IfMatch;
use crate::problem::ApiResult;

use super::ticket_actions::{conditionally, ticket_response};

/// Field changes: each key a field of the tenant, each value the field's value (text,
/// number, `true`/`false`, a `YYYY-MM-DD` date, an option, a list of options) or `null` to
/// empty it. Customers may change only the fields editable by customers.
#[derive(Debug, serde::Deserialize, ToSchema)]
#[schema(value_type = Object)]
pub(crate) struct FieldChangesRequest(BTreeMap<String, Option<FieldValue>>);

/// Set or empty custom fields of a ticket.
#[utoipa::path(put, path = "/tickets/{id}/fields", tag = "tickets",
    params(("id" = TicketId, Path, description = "Ticket id"),
           ("If-Match" = Option<String>, Header, description = "The ETag the change expects")),
    request_body = FieldChangesRequest,
    responses(
        (status = 200, body = crate::resources::TicketResource),
        (status = 404, description = "Not found (another tenant's ids too)"),
        (status = 412, description = "The `If-Match` version no longer holds"),
        (status = 422, description = "Invalid input (the problem names the field, `fields.<key>`)"),
    ))]
pub(crate) async fn set_fields(
    State(state): State<ApiState>,
    Caller(actor): Caller,
    Path(id): Path<TicketId>,
    if_match: IfMatch,
    Json(FieldChangesRequest(changes)): Json<FieldChangesRequest>,
) -> ApiResult<Response> {
    let change = state.helpdesk().set_custom_fields(&actor, id, changes);
    let ticket = conditionally(&state, id, if_match, change).await?;
    Ok(ticket_response(ticket, &actor))
}

/// Tickets per option of one dropdown field.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct FieldBreakdownResource {
    /// The field's key.
    key: String,
    /// Its label.
    label: String,
    /// Per option, in the field's order.
    options: Vec<OptionCount>,
    /// Tickets without a value.
    unset: OptionCount,
}

/// How many tickets hold one option.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct OptionCount {
    /// The option (empty for "no value").
    option: String,
    /// Open tickets (not resolved or closed).
    open: u64,
    /// All tickets.
    total: u64,
}

/// The spread of tickets over each dropdown custom field (admins).
#[utoipa::path(get, path = "/analytics/fields", tag = "admin",
    responses(
        (status = 200, body = Vec<FieldBreakdownResource>),
        (status = 403, description = "Not allowed for the caller's role"),
    ))]
pub(crate) async fn field_breakdown(
    State(state): State<ApiState>,
    Caller(actor): Caller,
) -> ApiResult<axum::Json<Vec<FieldBreakdownResource>>> {
    let report = state.helpdesk().custom_field_breakdown(&actor).await?;
    Ok(axum::Json(
        report
            .into_iter()
            .map(|b| FieldBreakdownResource {
                key: b.key,
                label: b.label,
                options: b
                    .options
                    .into_iter()
                    .map(|(option, open, total)| OptionCount {
                        option,
                        open,
                        total,
                    })
                    .collect(),
                unset: OptionCount {
                    option: String::new(),
                    open: b.unset.0,
                    total: b.unset.1,
                },
            })
            .collect(),
    ))
}
