//! Collection names and the indexes created on start (idempotent: creating an index that
//! exists with the same options is a no-op).
//!
//! The names here are the logical ones: on the server each carries the store's collection
//! prefix ([`prefixed`]), which [`MongoStore::coll`](crate::MongoStore) puts in front.

use bson::{Document, doc};
use helpdesk_core::Result;
use mongodb::options::IndexOptions;
use mongodb::{Database, IndexModel};

use crate::error::driver;
use crate::fields::FIELD_TOKENS;
use crate::search::words::{BODY_WORDS, DETAILS_WORDS, REQUESTER_TEXT, SUBJECT_WORDS};

/// Tenants: `_id` = tenant id.
pub(crate) const TENANTS: &str = "tenants";
/// Users: `_id` = user id.
pub(crate) const USERS: &str = "users";
/// Login sessions: `_id` = token hash.
pub(crate) const SESSIONS: &str = "sessions";
/// Per-tenant ticket number counters: `_id` = tenant id.
pub(crate) const COUNTERS: &str = "counters";
/// Tickets: `_id` = ticket id; carries the idempotency key and the pending commit.
pub(crate) const TICKETS: &str = "tickets";
/// Ticket events: `_id` = event id.
pub(crate) const EVENTS: &str = "events";
/// Ticket messages: `_id` = message id.
pub(crate) const MESSAGES: &str = "messages";
/// Notification outbox: `_id` = outbox id.
pub(crate) const OUTBOX: &str = "outbox";
/// Knowledge-base articles: `_id` = article id.
pub(crate) const ARTICLES: &str = "articles";
/// Chatbot sessions: `_id` = session id.
pub(crate) const CHAT_SESSIONS: &str = "chat_sessions";
/// The audit trail of administrative changes: `_id` = audit event id.
pub(crate) const AUDIT_EVENTS: &str = "audit_events";
/// API keys with their secrets' hashes: `_id` = key id.
pub(crate) const API_KEYS: &str = "api_keys";
/// Webhook endpoints with their secrets and delivery state: `_id` = endpoint id.
pub(crate) const WEBHOOKS: &str = "webhooks";
/// Attachment metadata (the bytes are in the host's blob store): `_id` = attachment id.
pub(crate) const ATTACHMENTS: &str = "attachments";
/// The e-mail quarantine's rows (the raw mail is in the host's blob store): `_id` =
/// quarantine id.
pub(crate) const QUARANTINE: &str = "quarantine";
/// Canned responses (macros), with their names folded for the per-scope unique index:
/// `_id` = canned response id.
pub(crate) const CANNED_RESPONSES: &str = "canned_responses";
/// Saved views (queue filters), with their names folded for the per-scope unique index:
/// `_id` = saved view id.
pub(crate) const SAVED_VIEWS: &str = "saved_views";
/// Language-model usage, one document per answered call: `_id` = a fresh id (see
/// `model_usage::usage_doc`).
pub(crate) const MODEL_USAGE: &str = "model_usage";
/// Each tenant's last knowledge-base change number: `_id` = tenant id, `last_seq`.
pub(crate) const KB_SEQUENCES: &str = "kb_sequences";
/// Each article's latest knowledge-base change (its number, the version, title and model
/// of its chunks, or a tombstone once deleted): `_id` = article id.
pub(crate) const KB_ARTICLES: &str = "kb_articles";
/// The chunks of the live [`KB_ARTICLES`], one document each (an article's chunks may
/// exceed a document's 16 MB): `_id` = `<article id>:<ordinal>`.
pub(crate) const KB_CHUNKS: &str = "kb_chunks";
/// Each tenant's learned-triage models, one document per version: `_id` =
/// `<tenant id>/<version>`.
pub(crate) const TRIAGE_MODELS: &str = "triage_models";
/// Sweep leases: `_id` = lease name.
pub(crate) const LEASES: &str = "leases";
/// The store's own bookkeeping: `{_id: "schema", version}` (see [`crate::upgrade`]).
pub(crate) const META: &str = "meta";

/// Every collection of the version-1 layout that holds the helpdesk's data (all but
/// [`META`]): what an upgrade moves under the prefix. Collections added since
/// ([`API_KEYS`], [`WEBHOOKS`], [`ATTACHMENTS`], [`QUARANTINE`], [`CANNED_RESPONSES`],
/// [`SAVED_VIEWS`], [`MODEL_USAGE`], [`KB_SEQUENCES`], [`KB_ARTICLES`], [`KB_CHUNKS`],
/// [`TRIAGE_MODELS`]) had nothing to move, and an unprefixed collection of that name is the host's, never dropped.
pub(crate) const DATA: [&str; 12] = [
    TENANTS,
    USERS,
    SESSIONS,
    COUNTERS,
    TICKETS,
    EVENTS,
    MESSAGES,
    OUTBOX,
    ARTICLES,
    CHAT_SESSIONS,
    AUDIT_EVENTS,
    LEASES,
];

/// The server-side name of the logical collection `name` under `prefix`.
pub(crate) fn prefixed(prefix: &str, name: &str) -> String {
    format!("{prefix}{name}")
}

fn index(keys: Document, name: &str) -> IndexModel {
    IndexModel::builder()
        .keys(keys)
        .options(IndexOptions::builder().name(name.to_string()).build())
        .build()
}

fn unique(keys: Document, name: &str) -> IndexModel {
    IndexModel::builder()
        .keys(keys)
        .options(
            IndexOptions::builder()
                .name(name.to_string())
                .unique(true)
                .build(),
        )
        .build()
}

fn partial(keys: Document, name: &str, unique: bool, filter: Document) -> IndexModel {
    IndexModel::builder()
        .keys(keys)
        .options(
            IndexOptions::builder()
                .name(name.to_string())
                .unique(unique)
                .partial_filter_expression(filter)
                .build(),
        )
        .build()
}

/// Every index, per collection. Tenant-scoped indexes start with `tenant_id` (the
/// suggested shard-key prefix), so unique ones stay enforceable on a sharded cluster.
fn indexes() -> Vec<(&'static str, Vec<IndexModel>)> {
    vec![
        (TENANTS, vec![unique(doc! { "slug": 1 }, "slug_unique")]),
        (
            USERS,
            vec![
                unique(doc! { "tenant_id": 1, "email": 1 }, "tenant_email_unique"),
                index(
                    doc! { "tenant_id": 1, "created_at": 1, "_id": 1 },
                    "tenant_created",
                ),
                // Users of a role, oldest first: routing reads the staff on every intake.
                index(
                    doc! { "tenant_id": 1, "role": 1, "created_at": 1, "_id": 1 },
                    "tenant_role_created",
                ),
                // Search by requester: the lowercased "Name <email>" (a term anywhere in
                // it, so the tenant's keys are read, not its user documents).
                index(
                    doc! { "tenant_id": 1, REQUESTER_TEXT: 1 },
                    "tenant_search_requester",
                ),
            ],
        ),
        (
            SESSIONS,
            vec![
                index(doc! { "expires_at": 1 }, "expires_at"),
                // A customer's erasure deletes their sessions.
                index(doc! { "tenant_id": 1, "user_id": 1 }, "tenant_user"),
            ],
        ),
        (
            TICKETS,
            vec![
                unique(doc! { "tenant_id": 1, "number": 1 }, "tenant_number_unique"),
                partial(
                    doc! { "tenant_id": 1, "idempotency_key": 1 },
                    "tenant_idempotency_key_unique",
                    true,
                    doc! { "idempotency_key": { "$type": "string" } },
                ),
                index(
                    doc! { "tenant_id": 1, "priority_rank": -1, "created_at": 1, "_id": 1 },
                    "tenant_queue",
                ),
                index(
                    doc! { "tenant_id": 1, "created_at": -1, "_id": -1 },
                    "tenant_newest",
                ),
                index(
                    doc! { "tenant_id": 1, "status": 1, "assignee": 1 },
                    "tenant_status_assignee",
                ),
                // A team's queue and counts.
                index(
                    doc! { "tenant_id": 1, "team": 1, "status": 1 },
                    "tenant_team_status",
                ),
                // The retention policy's read: tickets not erased (null or absent),
                // oldest first.
                index(
                    doc! { "tenant_id": 1, "erased_at": 1, "created_at": 1 },
                    "tenant_retention",
                ),
                // Custom field filters (multikey: one key per `key=value` token).
                index(
                    doc! { "tenant_id": 1, FIELD_TOKENS: 1 },
                    "tenant_field_tokens",
                ),
                // Search (multikey: one key per word; a term is an anchored regex, which
                // MongoDB reads as a range of keys).
                index(
                    doc! { "tenant_id": 1, SUBJECT_WORDS: 1 },
                    "tenant_search_subject",
                ),
                index(
                    doc! { "tenant_id": 1, DETAILS_WORDS: 1 },
                    "tenant_search_details",
                ),
                // Only tickets with a commit not yet applied (normally none): keeps the
                // settle queries, tenant-scoped and global, cheap.
                partial(
                    doc! { "pending.commit": 1 },
                    "pending_commit",
                    false,
                    doc! { "pending.commit": { "$exists": true } },
                ),
            ],
        ),
        (
            EVENTS,
            vec![
                index(
                    doc! { "tenant_id": 1, "ticket_id": 1, "version": 1, "seq": 1 },
                    "tenant_ticket_order",
                ),
                // The event feed: a tenant's events from a time on, in (at, _id) order.
                index(doc! { "tenant_id": 1, "at": 1, "_id": 1 }, "tenant_feed"),
                // canned_response_usage: a tenant's events of one kind from a time on (the
                // feed's index would read every kind of event in the period).
                index(
                    doc! { "tenant_id": 1, "type": 1, "at": 1 },
                    "tenant_type_at",
                ),
            ],
        ),
        (
            WEBHOOKS,
            vec![
                index(
                    doc! { "tenant_id": 1, "created_at": 1, "_id": 1 },
                    "tenant_oldest",
                ),
                // due_webhooks: enabled endpoints by retry time (null first).
                index(doc! { "enabled": 1, "next_attempt_at": 1, "_id": 1 }, "due"),
            ],
        ),
        (
            CANNED_RESPONSES,
            vec![
                // A folded name once per scope: `owner` is null for the tenant's shared
                // responses, and a unique index treats null as one value, so they are one
                // scope, and each agent's own another.
                unique(
                    doc! { "tenant_id": 1, "owner": 1, "name_folded": 1 },
                    "tenant_owner_name_unique",
                ),
                // list_canned_responses: a tenant's responses by folded name, then id.
                index(
                    doc! { "tenant_id": 1, "name_folded": 1, "_id": 1 },
                    "tenant_name",
                ),
            ],
        ),
        (
            SAVED_VIEWS,
            vec![
                // A folded name once per scope, as for canned responses: `owner` is null
                // for the tenant's shared views (one scope), else one agent's own.
                unique(
                    doc! { "tenant_id": 1, "owner": 1, "name_folded": 1 },
                    "tenant_owner_name_unique",
                ),
                // list_saved_views: a tenant's views by folded name, then id.
                index(
                    doc! { "tenant_id": 1, "name_folded": 1, "_id": 1 },
                    "tenant_name",
                ),
            ],
        ),
        (
            ATTACHMENTS,
            // list_attachments: a ticket's files in creation order.
            vec![
                index(
                    doc! { "tenant_id": 1, "ticket_id": 1, "created_at": 1, "_id": 1 },
                    "tenant_ticket_order",
                ),
                // An erased file's bytes go when no other attachment has them.
                index(doc! { "tenant_id": 1, "sha256": 1 }, "tenant_sha256"),
            ],
        ),
        (
            MODEL_USAGE,
            // model_usage_per_day: a tenant's calls in a time range.
            vec![index(doc! { "tenant_id": 1, "at": 1 }, "tenant_at")],
        ),
        (
            QUARANTINE,
            vec![
                // list_quarantined: a tenant's mail newest first, all or held only.
                index(
                    doc! { "tenant_id": 1, "received_at": -1, "_id": -1 },
                    "tenant_newest",
                ),
                index(
                    doc! { "tenant_id": 1, "held": 1, "received_at": -1, "_id": -1 },
                    "tenant_held_newest",
                ),
            ],
        ),
        (
            API_KEYS,
            vec![
                unique(doc! { "secret_hash": 1 }, "secret_hash_unique"),
                index(
                    doc! { "tenant_id": 1, "created_at": -1, "_id": -1 },
                    "tenant_newest",
                ),
            ],
        ),
        (
            MESSAGES,
            vec![
                index(
                    doc! { "tenant_id": 1, "ticket_id": 1, "created_at": 1, "_id": 1 },
                    "tenant_ticket_order",
                ),
                index(
                    doc! { "tenant_id": 1, "kind": 1, "created_at": 1 },
                    "tenant_kind_created",
                ),
                // Search of replies, chat turns and notes (drafts have no words).
                index(doc! { "tenant_id": 1, BODY_WORDS: 1 }, "tenant_search_body"),
            ],
        ),
        (
            OUTBOX,
            vec![
                index(
                    doc! { "delivered_at": 1, "next_attempt_at": 1, "_id": 1 },
                    "due",
                ),
                index(
                    doc! { "tenant_id": 1, "created_at": -1, "_id": -1 },
                    "tenant_newest",
                ),
                // An erasure deletes a ticket's entries.
                index(doc! { "tenant_id": 1, "ticket_id": 1 }, "tenant_ticket"),
            ],
        ),
        (
            ARTICLES,
            vec![
                index(
                    doc! { "tenant_id": 1, "title": 1, "_id": 1 },
                    "tenant_title",
                ),
                // articles_to_index: least recently updated first.
                index(
                    doc! { "tenant_id": 1, "updated_at": 1, "_id": 1 },
                    "tenant_updated",
                ),
            ],
        ),
        (
            KB_ARTICLES,
            // The change feed: a tenant's changes in number order, one per number.
            vec![unique(
                doc! { "tenant_id": 1, "seq": 1 },
                "tenant_seq_unique",
            )],
        ),
        (
            KB_CHUNKS,
            // An article's chunks in order (read by the feed, deleted by the next put).
            vec![index(
                doc! { "tenant_id": 1, "article_id": 1, "ordinal": 1 },
                "tenant_article_ordinal",
            )],
        ),
        (
            TRIAGE_MODELS,
            // One record per version of a tenant; read backwards, the listing (highest
            // version first) and the latest model.
            vec![unique(
                doc! { "tenant_id": 1, "version": 1 },
                "tenant_version_unique",
            )],
        ),
        (
            AUDIT_EVENTS,
            vec![index(
                doc! { "tenant_id": 1, "at": -1, "_id": -1 },
                "tenant_newest",
            )],
        ),
        (
            CHAT_SESSIONS,
            vec![
                index(
                    doc! { "tenant_id": 1, "created_at": -1, "_id": -1 },
                    "tenant_newest",
                ),
                index(
                    doc! { "tenant_id": 1, "state": 1, "last_activity_at": 1 },
                    "tenant_state_activity",
                ),
            ],
        ),
    ]
}

/// Creates the collections under `prefix` (implicitly, with their first index) and every
/// index.
pub(crate) async fn ensure(db: &Database, prefix: &str) -> Result<()> {
    for (collection, models) in indexes() {
        db.collection::<Document>(&prefixed(prefix, collection))
            .create_indexes(models)
            .await
            .map_err(driver)?;
    }
    // Collections without secondary indexes are created explicitly so that a fresh
    // database shows the whole schema; an existing collection is fine.
    let existing = db.list_collection_names().await.map_err(driver)?;
    for name in [COUNTERS, LEASES, KB_SEQUENCES].map(|c| prefixed(prefix, c)) {
        if !existing.contains(&name) {
            match db.create_collection(&name).await {
                Ok(()) => {}
                // NamespaceExists (48): another instance created it concurrently.
                Err(e) if matches!(e.kind.as_ref(), mongodb::error::ErrorKind::Command(c) if c.code == 48) =>
                    {}
                Err(e) => return Err(driver(e)),
            }
        }
    }
    Ok(())
}
