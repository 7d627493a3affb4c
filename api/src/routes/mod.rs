//! The resources, one module per area; each handler's `#[utoipa::path]` is its entry in
//! the OpenAPI document, so the document cannot drift from the routes.

mod admin;
mod articles;
mod attachments;
mod automations;
mod canned;
mod chat;
mod drafts;
mod events;
mod fields;
mod keys;
mod search;
mod session;
mod teams;
mod ticket_actions;
mod tickets;
mod views;
mod webhooks;

use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use axum::extract::DefaultBodyLimit;

use crate::ApiState;
use crate::problem::PROBLEM_JSON;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "helpdesk-rs API",
        description = "Multi-tenant ticketing with a validated lifecycle, SLA clocks, routing, \
                       AI triage and drafts, a knowledge-base chatbot with human handoff, and \
                       analytics. Errors are RFC 9457 problem documents.",
    ),
    // Relative to the document: wherever the API is mounted, clients and tools resolve
    // the operations next to the `openapi.json` they read.
    servers((url = ".", description = "Where this document is served")),
    components(schemas(crate::problem::Problem)),
    modifiers(&BearerAuth),
    security(("bearer" = [])),
    tags(
        (name = "session", description = "Log in and out, tenant sign-up"),
        (name = "tickets", description = "Tickets and their threads"),
        (name = "ai", description = "AI drafts and copilot"),
        (name = "chat", description = "Chat sessions with the bot and agents"),
        (name = "kb", description = "Knowledge-base articles"),
        (name = "admin", description = "Tenant, users, API keys, audit log and analytics"),
        (name = "events", description = "Live events (Server-Sent Events)"),
    )
)]
struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "A session token from `POST /auth/login`, or an API key.",
                    ))
                    .build(),
            ),
        );
    }
}

/// Every error answer is a problem document: the handlers' annotations name the statuses
/// they return and why, and this gives each the `application/problem+json` body, plus the
/// answers every operation may give (401 for an authenticated one, 503 when the store or
/// the model is unavailable).
struct ProblemResponses;

impl Modify for ProblemResponses {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::{Content, Ref, RefOr, ResponseBuilder};
        let problem = || Content::new(Some(Ref::from_schema_name("Problem")));
        let answer = |description: &str| {
            RefOr::T(
                ResponseBuilder::new()
                    .description(description)
                    .content(PROBLEM_JSON, problem())
                    .build(),
            )
        };
        let anonymous = Some(vec![SecurityRequirement::default()]);
        for item in openapi.paths.paths.values_mut() {
            let operations = [
                &mut item.get,
                &mut item.put,
                &mut item.post,
                &mut item.delete,
                &mut item.patch,
            ];
            for operation in operations.into_iter().flatten() {
                let responses = &mut operation.responses.responses;
                if operation.security != anonymous {
                    responses
                        .entry("401".into())
                        .or_insert_with(|| answer("Not authenticated"));
                }
                responses
                    .entry("503".into())
                    .or_insert_with(|| answer("The store or the model is unavailable; retry"));
                for (status, response) in responses.iter_mut() {
                    if let RefOr::T(response) = response
                        && (status.starts_with('4') || status.starts_with('5'))
                        && response.content.is_empty()
                    {
                        response.content.insert(PROBLEM_JSON.into(), problem());
                    }
                }
            }
        }
    }
}

/// The routes and their document (with every operation's problem answers filled in, which
/// needs the operations, so it runs after the routes are added).
pub(crate) fn split() -> (axum::Router<ApiState>, utoipa::openapi::OpenApi) {
    let (router, mut openapi) = api().split_for_parts();
    ProblemResponses.modify(&mut openapi);
    (router, openapi)
}

/// Every route with its OpenAPI entry.
fn api() -> OpenApiRouter<ApiState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(session::login))
        .routes(routes!(session::logout))
        .routes(routes!(session::me))
        .routes(routes!(session::sign_up_tenant))
        .routes(routes!(tickets::get_ticket, ticket_actions::update_ticket))
        .routes(routes!(tickets::get_ticket_by_number))
        .routes(routes!(tickets::list_events))
        .routes(routes!(attachments::list_attachments))
        .routes(routes!(attachments::download))
        .routes(routes!(ticket_actions::transition))
        .routes(routes!(ticket_actions::assign))
        .routes(routes!(ticket_actions::merge))
        .routes(routes!(ticket_actions::rate))
        .routes(routes!(drafts::suggest_reply))
        .routes(routes!(drafts::decide_draft))
        .routes(routes!(drafts::summarize))
        .routes(routes!(drafts::related_articles))
        .routes(routes!(chat::list_sessions, chat::start_session))
        .routes(routes!(chat::get_session))
        .routes(routes!(chat::request_human))
        .routes(routes!(chat::hand_back))
        .routes(routes!(articles::list_articles, articles::create_article))
        .routes(routes!(
            articles::get_article,
            articles::update_article,
            articles::delete_article
        ))
        .routes(routes!(articles::search_articles))
        .routes(routes!(admin::get_tenant))
        .routes(routes!(admin::update_settings))
        .routes(routes!(admin::list_users, admin::add_user))
        .routes(routes!(admin::update_user))
        .routes(routes!(admin::set_password))
        .routes(routes!(admin::list_audit))
        .routes(routes!(admin::analytics))
        .routes(routes!(keys::list_api_keys, keys::create_api_key))
        .routes(routes!(keys::revoke_api_key))
        .routes(routes!(events::stream))
        .routes(routes!(webhooks::list_webhooks, webhooks::create_webhook))
        .routes(routes!(
            webhooks::get_webhook,
            webhooks::update_webhook,
            webhooks::delete_webhook
        ))
        .routes(routes!(webhooks::rotate_secret))
        .routes(routes!(
            canned::list_canned_responses,
            canned::create_canned_response
        ))
        .routes(routes!(
            canned::get_canned_response,
            canned::update_canned_response,
            canned::delete_canned_response
        ))
        .routes(routes!(
            canned::preview_canned_response,
            canned::apply_canned_response
        ))
        .routes(routes!(canned::bulk_change))
        .routes(routes!(views::list_views, views::create_view))
        .routes(routes!(
            views::get_view,
            views::update_view,
            views::delete_view
        ))
        .routes(routes!(search::search))
        .routes(routes!(fields::set_fields))
        .routes(routes!(fields::field_breakdown))
        .routes(routes!(teams::set_team))
        .routes(routes!(admin::export_customer))
        .routes(routes!(admin::erase_customer))
        .routes(routes!(teams::team_breakdown))
        .routes(routes!(automations::test_rule))
        .routes(routes!(webhooks::set_enabled))
        .merge(uploads())
}

/// The routes whose bodies may carry files. They lift the router's body limit, and
/// their body extractor (`crate::upload::WithFiles`) applies the usual limit to JSON and
/// the caller's tenant limits to files instead: raising the limit for every route would
/// let any endpoint buffer bodies as large as the largest upload.
fn uploads() -> OpenApiRouter<ApiState> {
    OpenApiRouter::new()
        // `GET /tickets` shares the path; it reads no body.
        .routes(routes!(tickets::list_tickets, tickets::open_ticket))
        .routes(routes!(ticket_actions::reply))
        .routes(routes!(ticket_actions::add_note))
        .routes(routes!(chat::send_message))
        .routes(routes!(chat::agent_message))
        .layer(DefaultBodyLimit::disable())
}
