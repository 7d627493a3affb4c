//! Domain values to and from stored documents. Every document carries `tenant_id`; times
//! are BSON dates; ids are UUID strings; counters are 64-bit integers; closed vocabularies
//! are their stable strings; nested values that are never queried (tenant settings, triage,
//! event payloads, notifications, citations) are embedded documents in their serde form.

mod thread;
mod ticket;

use bson::{Bson, Document, doc};
use helpdesk_core::Result;
use helpdesk_core::domain::{AuthSession, PasswordHash, Tenant, User};

use crate::codec::{Reader, date, to_bson};
use crate::schema::{SESSIONS, TENANTS, USERS};
use crate::search::words::{REQUESTER_TEXT, user_requester};

pub(crate) use thread::{
    article_doc, article_from, chat_doc, chat_from, event_doc, event_from, message_doc,
    message_from, outbox_doc, outbox_from,
};
pub(crate) use ticket::{ticket_body, ticket_from};

/// A tenant document (`tenant_id` repeats `_id`, so every document has one).
pub(crate) fn tenant_doc(t: &Tenant) -> Result<Document> {
    Ok(doc! {
        "_id": t.id.to_string(),
        "tenant_id": t.id.to_string(),
        "name": &t.name,
        "slug": &t.slug,
        "settings": to_bson(&t.settings, "tenant settings")?,
        "created_at": date(t.created_at),
    })
}

/// Reads a tenant document.
pub(crate) fn tenant_from(d: &Document) -> Result<Tenant> {
    let r = Reader::new(d, TENANTS);
    Ok(Tenant {
        id: r.parse("_id")?,
        name: r.str("name")?.to_string(),
        slug: r.str("slug")?.to_string(),
        settings: r.serde("settings")?,
        created_at: r.time("created_at")?,
    })
}

/// A user document with its password hash (null when it has none).
pub(crate) fn user_doc(u: &User, password: Option<&PasswordHash>) -> Document {
    let mut d = doc! { "_id": u.id.to_string() };
    d.extend(user_fields(u));
    d.insert(
        "password_hash",
        password.map_or(Bson::Null, |h| Bson::String(h.as_str().to_string())),
    );
    d
}

/// A user's fields without `_id` and the password hash: what `update_user` sets, so that it
/// keeps the hash. With them the text search matches the user as a requester, so a
/// renamed user is found by the new name at once.
pub(crate) fn user_fields(u: &User) -> Document {
    doc! {
        "tenant_id": u.tenant_id.to_string(),
        "email": &u.email,
        "name": &u.name,
        "role": u.role.as_str(),
        "skills": &u.skills,
        "capacity": i64::from(u.capacity),
        "active": u.active,
        "created_at": date(u.created_at),
        REQUESTER_TEXT: user_requester(u),
    }
}

/// Reads a user document's password hash (`None` when it has none).
pub(crate) fn password_from(d: &Document) -> Result<Option<PasswordHash>> {
    Ok(Reader::new(d, USERS)
        .opt_string("password_hash")?
        .map(PasswordHash::new))
}

/// Reads a user document (never its password hash).
pub(crate) fn user_from(d: &Document) -> Result<User> {
    let r = Reader::new(d, USERS);
    Ok(User {
        id: r.parse("_id")?,
        tenant_id: r.parse("tenant_id")?,
        email: r.str("email")?.to_string(),
        name: r.str("name")?.to_string(),
        role: r.parse("role")?,
        skills: r.strings("skills")?,
        capacity: r.u32("capacity")?,
        active: r.bool("active")?,
        created_at: r.time("created_at")?,
    })
}

/// A login-session document (`_id` = token hash).
pub(crate) fn session_doc(s: &AuthSession) -> Document {
    doc! {
        "_id": &s.token_hash,
        "tenant_id": s.tenant_id.to_string(),
        "user_id": s.user_id.to_string(),
        "created_at": date(s.created_at),
        "expires_at": date(s.expires_at),
    }
}

/// Reads a login-session document.
pub(crate) fn session_from(d: &Document) -> Result<AuthSession> {
    let r = Reader::new(d, SESSIONS);
    Ok(AuthSession {
        token_hash: r.str("_id")?.to_string(),
        tenant_id: r.parse("tenant_id")?,
        user_id: r.parse("user_id")?,
        created_at: r.time("created_at")?,
        expires_at: r.time("expires_at")?,
    })
}
