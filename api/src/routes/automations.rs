//! Testing an automation rule against a ticket without applying it. The rules themselves
//! are part of the tenant's settings (`PUT /tenant/settings`, `automations`).

use axum::extract::State;
use helpdesk_core::TicketId;
use helpdesk_core::domain::AutomationRule;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::ApiState;
use crate::auth::Caller;
use crate::extract::Json;
use crate::problem::ApiResult;

/// A rule (saved or not) and the ticket to try it on.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct AutomationTestRequest {
    /// The rule, as in the settings' `automations`.
    #[schema(value_type = Object)]
    rule: AutomationRule,
    /// The ticket.
    ticket: TicketId,
}

/// What the rule would do to the ticket now.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct AutomationTestResponse {
    /// Whether the ticket meets every condition.
    matches: bool,
    /// The first condition it does not meet, in words.
    unmet: Option<String>,
    /// The events the rule's actions would add, by name.
    would_add: Vec<String>,
    /// Actions it would skip, and why.
    skipped: Vec<String>,
}

/// Test an automation rule against a ticket; nothing is written (admins).
#[utoipa::path(post, path = "/automations/test", tag = "admin",
    request_body = AutomationTestRequest,
    responses(
        (status = 200, body = AutomationTestResponse),
        (status = 403, description = "Not allowed for the caller's role"),
        (status = 404, description = "Not found (another tenant's ids too)"),
        (status = 422, description = "Invalid input (the problem names the field, `rule.<part>`)"),
    ))]
pub(crate) async fn test_rule(
    State(state): State<ApiState>,
    Caller(actor): Caller,
    Json(request): Json<AutomationTestRequest>,
) -> ApiResult<axum::Json<AutomationTestResponse>> {
    let p = state
        .helpdesk()
        .test_automation(&actor, request.rule, request.ticket)
        .await?;
    Ok(axum::Json(AutomationTestResponse {
        matches: p.matches,
        unmet: p.unmet,
        would_add: p.would_add,
        skipped: p.skipped,
    }))
}
