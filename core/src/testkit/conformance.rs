//! The storage conformance suite. Every backend runs every case, each in its own test with
//! its own fresh store, through [`store_conformance_tests!`](crate::store_conformance_tests):
//!
//! ```text
//! async fn fresh_store() -> std::sync::Arc<dyn helpdesk_core::Store> { /* new database */ }
//! helpdesk_core::store_conformance_tests!(setup = fresh_store);
//! ```
//!
//! Attributes before `setup` are put on every generated test (for example a `cfg_attr`
//! that ignores the tests when a server is not configured). The calling crate needs
//! `tokio` with the `macros` and `rt-multi-thread` features as a dev-dependency.

mod accounts;
mod api_keys;
mod articles_and_chat;
mod attachments;
mod audit;
mod canned;
mod chat_activity;
mod credentials;
mod email;
mod erasure;
mod event_feed;
mod fields;
mod isolation;
mod kb_index;
mod listing;
mod model_usage;
mod multi_ticket;
mod outbox_and_leases;
mod previous;
mod round_trips;
mod routing;
mod search;
mod service_concurrency;
mod session_changes;
mod sla_and_analytics;
mod teams;
mod ticket_writes;
mod triage_models;
mod views;
mod visible_messages;
mod webhooks;

use std::sync::Arc;
use std::time::Duration;

pub use accounts::*;
pub use api_keys::{
    api_key_revocation_and_use_are_tenant_scoped, api_keys_are_found_by_hash_and_listed_per_tenant,
};
pub use articles_and_chat::*;
pub use attachments::{
    a_failed_write_stores_no_attachment, attachments_are_tenant_scoped,
    attachments_commit_with_their_message,
};
pub use audit::{
    a_tenant_registers_with_its_admin_in_one_commit, admin_changes_commit_with_their_audit_events,
    audit_events_are_per_tenant_newest_first_and_paged, failed_admin_changes_write_no_audit_event,
};
pub use canned::{
    canned_response_usage_counts_applied_events,
    canned_responses_commit_with_audit_events_and_unique_names,
};
pub use chat_activity::{
    chat_activity_links_a_session_once, chat_activity_of_another_tenant_writes_nothing,
    chat_activity_touches_the_session, chat_session_reads_with_its_ticket,
};
pub use credentials::{
    credentials_of_another_tenant_are_not_found, password_hashes_round_trip_outside_users,
};
pub use email::{messages_keep_their_email_headers, quarantined_mail_round_trips_per_tenant};
pub use erasure::{
    an_invalid_erasure_writes_nothing, erasing_a_customer_removes_their_data_everywhere,
    retention_closes_and_erases_old_tickets_only,
};
pub use event_feed::{
    event_feed_pages_through_the_store, tenant_events_are_ordered_limited_and_isolated,
};
pub use fields::{custom_field_filters_and_search, custom_fields_round_trip_and_replay};
pub use isolation::*;
pub use kb_index::{
    invalid_kb_chunks_write_nothing, kb_chunks_follow_article_versions_through_the_feed,
    kb_feed_readers_miss_no_change_under_concurrent_writers,
};
pub use listing::*;
pub use model_usage::{
    a_failed_write_records_no_model_usage, model_usage_commits_with_writes_and_adds_up_per_day,
};
pub use multi_ticket::{
    crossed_concurrent_merges_leave_exactly_one,
    racing_merges_of_one_duplicate_leave_no_trace_on_the_losers_target,
    update_tickets_lands_every_ticket, update_tickets_refuses_mixed_tenants_and_repeated_tickets,
    update_tickets_with_a_stale_version_writes_nothing,
};
pub use outbox_and_leases::*;
pub use previous::{
    update_with_a_mismatched_previous_is_refused, update_without_previous_checks_the_stored_ticket,
    updates_planned_on_the_last_write_store_every_change,
};
pub use round_trips::use_cases_stay_within_their_round_trips;
pub use routing::{
    a_claim_beyond_the_assignees_capacity_conflicts, a_claimed_update_routes_an_existing_ticket,
    a_routing_claim_stamps_its_assignee_once, claims_on_unroutable_users_are_refused,
    concurrent_claims_never_exceed_the_capacity,
};
pub use search::{
    search_filters_and_pages_by_cursor, search_finds_every_source_by_word_start,
    search_follows_every_change,
};
pub use service_concurrency::{
    concurrent_first_chat_messages_share_one_ticket,
    sixty_four_concurrent_replies_and_notes_all_land,
};
pub use session_changes::{
    a_session_changed_meanwhile_fails_the_whole_write, session_transitions_commit_with_the_ticket,
};
pub use sla_and_analytics::*;
pub use teams::teams_round_trip_and_filter;
pub use ticket_writes::*;
pub use triage_models::{
    invalid_triage_models_write_nothing, racing_triage_model_puts_keep_one_record_per_version,
    retiring_triage_models_is_per_tenant_and_idempotent, triage_models_are_versioned_per_tenant,
};
pub use views::{
    count_tickets_matches_the_listing, saved_views_commit_with_audit_events_and_unique_names,
};
pub use visible_messages::customer_visible_messages_are_replies_and_chat_turns;
pub use webhooks::{
    webhook_changes_commit_with_their_audit_events,
    webhook_deliveries_are_recorded_and_due_endpoints_listed,
};

use crate::analytics::Analytics;
use crate::domain::AuthorKind;
use crate::domain::{
    Article, AuthSession, Channel, ChatSession, ChatState, Citation, Csat, DraftInfo, DraftSource,
    DraftState, EventKind, Message, MessageKind, NotificationKind, Priority, Role, SlaState,
    Tenant, Ticket, TicketStatus, User,
};
use crate::store::{
    AssigneeFilter, MessageFilter, TicketQuery, TicketSort, TicketWrite, TimeRange,
};
use crate::testkit::fixtures::{at, change, new_ticket, outbox_entry, t0, tenant, user};
use crate::{
    ArticleId, ChatSessionId, DuplicateKind, Error, MessageId, Store, TenantId, TicketId, UserId,
};

/// Generates one `#[tokio::test]` per conformance case, each calling `setup` for a fresh
/// store. See the [module docs](crate::testkit::conformance).
#[macro_export]
macro_rules! store_conformance_tests {
    ($(#[$attr:meta])* setup = $setup:path) => {
        $crate::store_conformance_tests!(@cases [$(#[$attr])*] $setup;
            tenants_crud_and_unique_slug,
            users_crud_and_unique_email_per_tenant,
            password_hashes_round_trip_outside_users,
            credentials_of_another_tenant_are_not_found,
            sessions_lifecycle,
            ticket_numbers_per_tenant,
            concurrent_creates_get_distinct_numbers,
            create_ticket_numbers_everything,
            create_ticket_round_trips_everything,
            duplicate_idempotency_key_writes_nothing,
            stale_update_conflicts_and_writes_nothing,
            update_in_another_tenant_is_not_found,
            updates_planned_on_the_last_write_store_every_change,
            update_without_previous_checks_the_stored_ticket,
            update_with_a_mismatched_previous_is_refused,
            update_replaces_messages_by_id,
            update_tickets_lands_every_ticket,
            update_tickets_with_a_stale_version_writes_nothing,
            update_tickets_refuses_mixed_tenants_and_repeated_tickets,
            crossed_concurrent_merges_leave_exactly_one,
            racing_merges_of_one_duplicate_leave_no_trace_on_the_losers_target,
            customer_visible_messages_are_replies_and_chat_turns,
            list_filters,
            list_text_filter_is_plain_text,
            list_orders_and_pages,
            list_queue_of_several_statuses_pages,
            list_agent_queue_escalated_first_without_bot_chats,
            tenant_isolation,
            open_ticket_counts_per_assignee,
            routing_staff_lists_active_staff_with_open_loads,
            a_routing_claim_stamps_its_assignee_once,
            a_claim_beyond_the_assignees_capacity_conflicts,
            claims_on_unroutable_users_are_refused,
            concurrent_claims_never_exceed_the_capacity,
            a_claimed_update_routes_an_existing_ticket,
            user_with_tenant_is_scoped,
            sla_due_tickets_selection,
            events_replay_to_stored_ticket,
            analytics_matches_reference,
            articles_crud_and_conflict,
            admin_changes_commit_with_their_audit_events,
            failed_admin_changes_write_no_audit_event,
            audit_events_are_per_tenant_newest_first_and_paged,
            chat_sessions_crud_conflict_and_idle,
            chat_activity_touches_the_session,
            chat_activity_of_another_tenant_writes_nothing,
            chat_activity_links_a_session_once,
            chat_session_reads_with_its_ticket,
            session_transitions_commit_with_the_ticket,
            a_session_changed_meanwhile_fails_the_whole_write,
            outbox_due_and_marking,
            leases_exclusive_and_expiring,
            concurrent_writers_lose_no_update,
            sixty_four_concurrent_replies_and_notes_all_land,
            concurrent_first_chat_messages_share_one_ticket,
            a_tenant_registers_with_its_admin_in_one_commit,
            use_cases_stay_within_their_round_trips,
            api_keys_are_found_by_hash_and_listed_per_tenant,
            api_key_revocation_and_use_are_tenant_scoped,
            tenant_events_are_ordered_limited_and_isolated,
            event_feed_pages_through_the_store,
            webhook_changes_commit_with_their_audit_events,
            webhook_deliveries_are_recorded_and_due_endpoints_listed,
            attachments_commit_with_their_message,
            attachments_are_tenant_scoped,
            a_failed_write_stores_no_attachment,
            messages_keep_their_email_headers,
            quarantined_mail_round_trips_per_tenant,
            canned_responses_commit_with_audit_events_and_unique_names,
            canned_response_usage_counts_applied_events,
            saved_views_commit_with_audit_events_and_unique_names,
            count_tickets_matches_the_listing,
            search_finds_every_source_by_word_start,
            search_filters_and_pages_by_cursor,
            search_follows_every_change,
            custom_fields_round_trip_and_replay,
            erasing_a_customer_removes_their_data_everywhere,
            an_invalid_erasure_writes_nothing,
            retention_closes_and_erases_old_tickets_only,
            custom_field_filters_and_search,
            teams_round_trip_and_filter,
            model_usage_commits_with_writes_and_adds_up_per_day,
            a_failed_write_records_no_model_usage,
            kb_chunks_follow_article_versions_through_the_feed,
            invalid_kb_chunks_write_nothing,
            kb_feed_readers_miss_no_change_under_concurrent_writers,
            triage_models_are_versioned_per_tenant,
            invalid_triage_models_write_nothing,
            racing_triage_model_puts_keep_one_record_per_version,
            retiring_triage_models_is_per_tenant_and_idempotent,
        );
    };
    (@cases [$($attrs:tt)*] $setup:path; $case:ident, $($rest:ident,)*) => {
        $($attrs)*
        #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
        async fn $case() {
            let store = $setup().await;
            $crate::testkit::conformance::$case(store).await;
        }
        $crate::store_conformance_tests!(@cases [$($attrs)*] $setup; $($rest,)*);
    };
    (@cases [$($attrs:tt)*] $setup:path;) => {};
}

type S = Arc<dyn Store>;

async fn seed_tenant(store: &S, slug: &str) -> (Tenant, User, User) {
    let t = tenant(slug);
    store.create_tenant(&t).await.unwrap();
    let customer = user(&t, Role::Customer, &format!("customer@{slug}.test"));
    let agent = user(&t, Role::Agent, &format!("agent@{slug}.test"));
    store.create_user(&customer).await.unwrap();
    store.create_user(&agent).await.unwrap();
    (t, customer, agent)
}

async fn create(
    store: &S,
    tenant: TenantId,
    requester: UserId,
    subject: &str,
    p: Priority,
    minutes: i64,
) -> TicketWrite {
    let w = new_ticket(tenant, requester, 0, subject, p, at(minutes));
    store.create_ticket(w).await.unwrap()
}

fn assert_duplicate<T: std::fmt::Debug>(result: Result<T, Error>, kind: DuplicateKind) {
    match result {
        Err(Error::Duplicate { kind: k, .. }) if k == kind => {}
        other => panic!("expected Duplicate {{ kind: {kind:?} }}, got {other:?}"),
    }
}
