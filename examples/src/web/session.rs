//! Sessions, CSRF and role checks.
//!
//! The session cookie holds the bearer token from `Helpdesk::login` (only its hash is
//! stored by core). It is `HttpOnly; SameSite=Strict`. Every POST goes through
//! [`session_layer`], which rejects it with 403 unless its `csrf` form field matches the
//! token derived from the session (or, before sign-in, from a random pre-session cookie).
//! A `multipart/form-data` form (one with files) must carry `csrf` as its first part, as
//! every form of the app does (browsers send the fields in document order): the layer reads
//! only that part before the request goes on, so files stream to the handler unbuffered
//! and a forged upload is refused before anything of it is read ([`super::upload`]).
//! A session unused for the idle timeout ends ([`super::idle`]); every response that sets
//! no caching of its own is `Cache-Control: no-store`.

use axum::body::{Body, to_bytes};
use axum::extract::{FromRequestParts, Request, State};
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE, COOKIE, SET_COOKIE};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use helpdesk_core::Error as CoreError;
use helpdesk_core::ai::AiStatus;
use helpdesk_core::domain::{Actor, Role};

use super::app::AppState;
use super::error::{WebError, WebResult, error_page};
use super::idle::{self, SEEN_COOKIE};
use super::secret::WebSecret;
use super::upload::{self, FileLimits};
use super::views::{Markup, Page, Time};

/// Name of the session cookie.
pub const SESSION_COOKIE: &str = "hd_session";
/// Name of the pre-session cookie that anchors CSRF tokens before sign-in.
pub const PRESESSION_COOKIE: &str = "hd_pre";
/// Largest form body accepted (the markdown import is the biggest form); also the largest
/// text field of a form with files.
pub(crate) const MAX_FORM_BYTES: usize = 1 << 20;

/// Who is asking, resolved once per request by [`session_layer`].
#[derive(Debug, Clone)]
pub(crate) struct Session {
    /// The CSRF token every form on the page must carry.
    pub(crate) csrf: String,
    /// The signed-in user, if any.
    pub(crate) signed_in: Option<SignedIn>,
    /// The request path (the layout marks the current section in the navigation).
    pub(crate) path: String,
    /// The confirmation of what the previous request did (`?done=` after a redirect).
    pub(crate) notice: Option<&'static str>,
}

/// A signed-in user.
#[derive(Debug, Clone)]
pub(crate) struct SignedIn {
    pub(crate) actor: Actor,
    pub(crate) name: String,
    pub(crate) tenant_name: String,
    /// The tenant's limits on files, for the forms that take them.
    pub(crate) file_limits: FileLimits,
}

impl Session {
    /// The page context for a page with this title.
    pub(crate) fn page(&self, state: &AppState, title: &str) -> Page {
        Page {
            title: title.to_string(),
            csrf: self.csrf.clone(),
            user_name: self.signed_in.as_ref().map(|s| s.name.clone()),
            role: self
                .signed_in
                .as_ref()
                .map(|s| s.actor.role.as_str())
                .unwrap_or(""),
            tenant_name: self
                .signed_in
                .as_ref()
                .map(|s| s.tenant_name.clone())
                .unwrap_or_default(),
            // The banner names server settings (GEMINI_API_KEY, the demo store): it is for
            // whoever runs the helpdesk, not for its customers.
            mode_notice: match &self.signed_in {
                Some(s) if s.actor.role == Role::Customer => String::new(),
                _ => state.mode_notice().to_string(),
            },
            ai_notice: match &self.signed_in {
                Some(s) if s.actor.role != Role::Customer => {
                    ai_notice(state.helpdesk().ai_status())
                }
                _ => Markup::default(),
            },
            path: self.path.clone(),
            notice: self.notice,
            files_hint: self
                .signed_in
                .as_ref()
                .map(|s| s.file_limits.hint())
                .unwrap_or_default(),
        }
    }
}

/// The staff banner for a degraded model ("AI degraded since 14:02 UTC: rate limited
/// ..."), its times as [`Time`] elements (shown in the viewer's zone).
fn ai_notice(status: AiStatus) -> Markup {
    match status {
        AiStatus::Degraded {
            since,
            reason,
            retry_at,
        } => Markup(format!(
            // Fixed words, a fixed reason text and times: nothing to escape.
            "AI degraded since {}: {}. The chatbot answers from the knowledge base, \
             drafts are templates and summaries are extractive until the model answers \
             again (next try {}).",
            Time(since),
            reason.describe(),
            Time(retry_at),
        )),
        _ => Markup::default(),
    }
}

/// The value of cookie `name` from the request headers.
pub(crate) fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
        .filter(|v| !v.is_empty())
}

pub(crate) fn cookie_header(
    state: &AppState,
    name: &str,
    value: &str,
    max_age_secs: u64,
) -> Option<HeaderValue> {
    let secure = if state.secure_cookies() {
        "; Secure"
    } else {
        ""
    };
    HeaderValue::from_str(&format!(
        "{name}={value}; HttpOnly; SameSite=Strict; Path=/; Max-Age={max_age_secs}{secure}"
    ))
    .ok()
}

/// The `hd_seen` cookie with `stamp` ([`super::idle`]). It outlives any session, so an
/// idle browser still holds the stamp that ends its session.
pub(crate) fn seen_cookie(state: &AppState, stamp: &str) -> Option<HeaderValue> {
    let lifetime = state.helpdesk().config().session_ttl.as_secs();
    cookie_header(state, SEEN_COOKIE, stamp, lifetime.saturating_add(86_400))
}

/// The CSRF token bound to `anchor` (a session token or a pre-session value): signed with
/// the app's secret, so any instance sharing it accepts the forms another served.
pub(crate) fn csrf_token(secret: &WebSecret, anchor: &str) -> String {
    secret.sign("csrf", anchor.as_bytes())
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Resolves the session, checks the CSRF token of every POST and sets security headers.
pub(crate) async fn session_layer(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let (mut parts, body) = request.into_parts();
    let token = cookie(&parts.headers, SESSION_COOKIE).map(str::to_owned);
    let now = idle::now_seconds();
    let seen = cookie(&parts.headers, SEEN_COOKIE);
    let signed_in = match &token {
        Some(t) => match resolve(&state, t).await {
            Ok(s) if state.idle_clock().still_active(t, seen, now) => Some(s),
            Ok(_) => {
                // Idle too long: the session ends for good, not just in this process.
                if let Err(e) = state.helpdesk().logout(t).await {
                    return WebError::from(e).into_response();
                }
                None
            }
            Err(WebError::Core(CoreError::Unauthenticated { .. })) => None,
            Err(e) => return e.into_response(),
        },
        None => None,
    };
    let mut new_presession = None;
    let anchor = match (&signed_in, &token) {
        (Some(_), Some(t)) => t.clone(),
        _ => match cookie(&parts.headers, PRESESSION_COOKIE) {
            Some(v) => v.to_owned(),
            None => match helpdesk_core::auth::new_token() {
                Ok(v) => {
                    new_presession = Some(v.clone());
                    v
                }
                Err(e) => return WebError::from(e).into_response(),
            },
        },
    };
    let csrf = csrf_token(state.secret(), &anchor);
    let stamp = match (&signed_in, &token) {
        (Some(_), Some(t)) => Some(state.idle_clock().stamp(t, now)),
        _ => None,
    };
    let body = if parts.method == Method::POST && upload::is_multipart(&parts.headers) {
        match upload::csrf_first(&parts.headers, body).await {
            Some((sent, body))
                if new_presession.is_none()
                    && constant_time_eq(sent.as_bytes(), csrf.as_bytes()) =>
            {
                body
            }
            _ => return WebError::Csrf.into_response(),
        }
    } else if parts.method == Method::POST {
        let Ok(bytes) = to_bytes(body, MAX_FORM_BYTES).await else {
            return error_page(StatusCode::PAYLOAD_TOO_LARGE, "The form is too large.");
        };
        let fields: Vec<(String, String)> =
            serde_urlencoded::from_bytes(&bytes).unwrap_or_default();
        let sent = fields.iter().find(|(k, _)| k == "csrf").map(|(_, v)| v);
        let valid = new_presession.is_none()
            && sent.is_some_and(|s| constant_time_eq(s.as_bytes(), csrf.as_bytes()));
        if !valid {
            return WebError::Csrf.into_response();
        }
        match unix_line_breaks(&fields) {
            Some(normalized) if is_urlencoded(&parts.headers) => Body::from(normalized),
            _ => Body::from(bytes),
        }
    } else {
        body
    };
    let path = parts.uri.path().to_string();
    let notice = parts.uri.query().and_then(confirmation);
    parts.extensions.insert(Session {
        csrf,
        signed_in,
        path,
        notice,
    });
    let mut response = next.run(Request::from_parts(parts, body)).await;
    let headers = response.headers_mut();
    if let Some(v) = stamp.and_then(|v| seen_cookie(&state, &v)) {
        headers.append(SET_COOKIE, v);
    }
    if let Some(v) =
        new_presession.and_then(|v| cookie_header(&state, PRESESSION_COOKIE, &v, 86_400))
    {
        headers.append(SET_COOKIE, v);
    }
    // A download sets its own, stricter policy (`default-src 'none'; sandbox`).
    if !headers.contains_key("content-security-policy") {
        headers.insert(
            "content-security-policy",
            HeaderValue::from_static(
                "default-src 'self'; img-src 'self' data:; style-src 'self'; \
                 script-src 'self'; form-action 'self'; frame-ancestors 'none'; \
                 base-uri 'none'",
            ),
        );
    }
    headers.insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
    headers.insert("referrer-policy", HeaderValue::from_static("same-origin"));
    // Pages carry personal data (tickets, names, e-mail addresses): no cache, shared or
    // the browser's, keeps them. Static assets set their own caching.
    if !headers.contains_key(CACHE_CONTROL) {
        headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    headers.insert("x-frame-options", HeaderValue::from_static("DENY"));
    response
}

/// The confirmation named by a `done=` query field after a redirect. Only these fixed texts
/// are shown: the query never puts its own words on the page.
fn confirmation(query: &str) -> Option<&'static str> {
    let fields: Vec<(String, String)> = serde_urlencoded::from_str(query).ok()?;
    let done = fields.iter().find(|(k, _)| k == "done").map(|(_, v)| v)?;
    Some(match done.as_str() {
        "ticket-created" => "Your ticket was created. We will answer here and by e-mail.",
        "settings-saved" => "Settings saved.",
        "user-added" => "User added.",
        "user-saved" => "User saved.",
        "customer-erased" => "The customer's personal data was erased.",
        "articles-imported" => "Articles imported.",
        "article-saved" => "Article saved.",
        "article-deleted" => "Article deleted.",
        "canned-saved" => "Canned response saved.",
        "canned-deleted" => "Canned response deleted.",
        "view-deleted" => "View deleted.",
        "fields-saved" => "Fields saved.",
        "field-saved" => "Custom field saved.",
        "field-deleted" => "Custom field deleted.",
        "automation-saved" => "Rule saved.",
        "automation-deleted" => "Rule deleted.",
        "team-saved" => "Team saved.",
        "team-deleted" => "Team deleted.",
        "mail-taken-in" => "The e-mail was taken in: it is on this ticket.",
        "mail-discarded" => "The e-mail was discarded.",
        _ => return None,
    })
}

/// Whether the request body is a urlencoded form (the only kind of form the app takes).
fn is_urlencoded(headers: &HeaderMap) -> bool {
    headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.trim_start()
                .to_ascii_lowercase()
                .starts_with("application/x-www-form-urlencoded")
        })
}

/// The form re-encoded with every line break as `\n`, or `None` when it has no `\r`.
///
/// Browsers submit each line break of a `<textarea>` as CR LF (the HTML form submission
/// algorithm normalises them so), but the core rejects CR as a control character: without
/// this, any reply or description of more than one line typed in a browser failed with 400.
fn unix_line_breaks(fields: &[(String, String)]) -> Option<String> {
    if !fields.iter().any(|(_, v)| v.contains('\r')) {
        return None;
    }
    let normalized: Vec<(&str, String)> = fields
        .iter()
        .map(|(k, v)| (k.as_str(), v.replace("\r\n", "\n").replace('\r', "\n")))
        .collect();
    serde_urlencoded::to_string(normalized).ok()
}

async fn resolve(state: &AppState, token: &str) -> WebResult<SignedIn> {
    let helpdesk = state.helpdesk();
    let actor = helpdesk.authenticate(token).await?;
    let user = helpdesk
        .store()
        .get_user(actor.tenant_id, actor.user_id)
        .await?
        .ok_or(CoreError::Unauthenticated {
            reason: "unknown user",
        })?;
    let tenant = helpdesk.get_tenant(&actor).await?;
    Ok(SignedIn {
        actor,
        name: user.name,
        file_limits: FileLimits::of(&tenant.settings),
        tenant_name: tenant.name,
    })
}

impl FromRequestParts<AppState> for Session {
    type Rejection = WebError;

    async fn from_request_parts(parts: &mut Parts, _: &AppState) -> WebResult<Self> {
        parts
            .extensions
            .get::<Session>()
            .cloned()
            .ok_or(WebError::NotSignedIn)
    }
}

/// A signed-in user whose role is allowed on the route.
#[derive(Debug, Clone)]
pub(crate) struct Ctx {
    pub(crate) actor: Actor,
    pub(crate) session: Session,
}

impl Ctx {
    /// The page context.
    pub(crate) fn page(&self, state: &AppState, title: &str) -> Page {
        self.session.page(state, title)
    }
}

fn require(parts: &Parts, allowed: &[Role]) -> WebResult<Ctx> {
    let session = parts
        .extensions
        .get::<Session>()
        .cloned()
        .ok_or(WebError::NotSignedIn)?;
    let actor = session
        .signed_in
        .as_ref()
        .map(|s| s.actor.clone())
        .ok_or(WebError::NotSignedIn)?;
    if !allowed.contains(&actor.role) {
        return Err(WebError::WrongRole);
    }
    Ok(Ctx { actor, session })
}

macro_rules! role_extractor {
    ($(#[$doc:meta])* $name:ident, $roles:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone)]
        pub(crate) struct $name(pub(crate) Ctx);

        impl FromRequestParts<AppState> for $name {
            type Rejection = WebError;

            async fn from_request_parts(parts: &mut Parts, _: &AppState) -> WebResult<Self> {
                require(parts, $roles).map($name)
            }
        }
    };
}

role_extractor!(
    /// Any signed-in user.
    AnyUser,
    &[Role::Customer, Role::Agent, Role::Admin]
);
role_extractor!(
    /// A customer (the portal and the chat).
    CustomerUser,
    &[Role::Customer]
);
role_extractor!(
    /// An agent or an admin (the queue and ticket work).
    StaffUser,
    &[Role::Agent, Role::Admin]
);
role_extractor!(
    /// An admin (users, knowledge base, analytics).
    AdminUser,
    &[Role::Admin]
);

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    fn pairs(fields: &[(&str, &str)]) -> Vec<(String, String)> {
        fields
            .iter()
            .map(|(k, v)| ((*k).to_string(), (*v).to_string()))
            .collect()
    }

    #[test]
    fn browser_line_breaks_become_newlines() {
        let form = pairs(&[("csrf", "abc"), ("body", "Hello,\r\n\r\nthanks\rbye")]);
        let encoded = unix_line_breaks(&form).unwrap();
        let back: Vec<(String, String)> = serde_urlencoded::from_str(&encoded).unwrap();
        assert_eq!(
            back,
            pairs(&[("csrf", "abc"), ("body", "Hello,\n\nthanks\nbye")])
        );
    }

    #[test]
    fn forms_without_carriage_returns_are_left_alone() {
        assert_eq!(unix_line_breaks(&pairs(&[("body", "one\ntwo")])), None);
    }
}
