//! The sign-in, company sign-up and sign-out pages (customer sign-up: [`super::signup`]).

use std::time::Duration;

use askama::Template;
use axum::Form;
use axum::extract::{Query, State};
use axum::http::header::{RETRY_AFTER, SET_COOKIE};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{AppendHeaders, IntoResponse, Redirect, Response};
use helpdesk_core::DuplicateKind;
use helpdesk_core::Error as CoreError;
use helpdesk_core::domain::Role;
use helpdesk_core::service::{NewTenant, NewUser};
use helpdesk_core::validate;
use serde::Deserialize;

use super::app::AppState;
use super::error::{WebResult, error_page};
use super::form::{FormError, refused};
use super::session::{SESSION_COOKIE, Session, cookie, cookie_header};
use super::throttle::{ClientAddress, wait_secs};
use super::views::{Page, html};

/// Where a role lands after sign-in.
pub(crate) fn home_of(role: Role) -> &'static str {
    match role {
        Role::Customer => "/portal",
        _ => "/agent",
    }
}

/// `/`: the role's home page, or the sign-in page.
pub(crate) async fn root(session: Session) -> Redirect {
    match session.signed_in {
        Some(s) => Redirect::to(home_of(s.actor.role)),
        None => Redirect::to("/login"),
    }
}

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    page: Page,
    /// Where to go after sign-in (already checked by [`safe_next`]), empty for home.
    next: String,
    company: String,
    email: String,
    /// Why the last try was refused (a missing field at its field, wrong credentials
    /// above the form).
    error: FormError,
    demo_hint: String,
}

#[derive(Template)]
#[template(path = "register_company.html")]
struct RegisterCompanyPage {
    page: Page,
    company_name: String,
    slug: String,
    name: String,
    email: String,
    error: FormError,
}

/// The longest `next` path kept; longer ones are dropped rather than cut.
const MAX_NEXT: usize = 2048;

/// `next` if it is a path on this site, `None` otherwise. It must start with a single `/`
/// (not `//` or `/\`, which browsers read as another host), carry no backslash, control
/// character or whitespace, and be short: anything else could send a signed-in user to
/// another site (an open redirect), so it is dropped, not repaired.
pub(crate) fn safe_next(next: &str) -> Option<&str> {
    let rest = next.strip_prefix('/')?;
    let acceptable = next.len() <= MAX_NEXT
        && !rest.starts_with('/')
        && !next.contains('\\')
        && !next.chars().any(|c| c.is_control() || c.is_whitespace());
    acceptable.then_some(next)
}

/// The query of `GET /login`.
#[derive(Deserialize)]
pub(crate) struct LoginQuery {
    /// The page the user asked for before being sent to sign in.
    #[serde(default)]
    next: String,
}

/// `GET /login`. The company field starts empty: one app serves many companies, so no
/// company's name is a sensible default.
pub(crate) async fn login_page(
    State(state): State<AppState>,
    session: Session,
    Query(query): Query<LoginQuery>,
) -> WebResult<Response> {
    html(&LoginPage {
        page: session.page(&state, "Sign in"),
        next: safe_next(&query.next).unwrap_or_default().to_string(),
        company: String::new(),
        email: String::new(),
        error: FormError::default(),
        demo_hint: state.demo_hint().to_string(),
    })
}

/// The sign-in form (missing fields are refused on the form, see [`super::form`]).
#[derive(Default, Deserialize)]
#[serde(default)]
pub(crate) struct LoginForm {
    /// The page to return to (see [`safe_next`]).
    next: String,
    company: String,
    email: String,
    password: String,
}

/// The first of `fields` (name, label, value) left empty, as a refusal at that field.
pub(crate) fn first_missing(fields: &[(&str, &str, &str)]) -> Option<FormError> {
    fields
        .iter()
        .find(|(_, _, value)| value.trim().is_empty())
        .map(|(field, label, _)| FormError::new(*field, format!("Enter {label}.")))
}

pub(crate) fn signed_in_redirect(state: &AppState, token: &str, to: &str) -> Response {
    let ttl = state.helpdesk().config().session_ttl.as_secs();
    let stamp = state.idle_clock().stamp(token, super::idle::now_seconds());
    match (
        cookie_header(state, SESSION_COOKIE, token, ttl),
        super::session::seen_cookie(state, &stamp),
    ) {
        (Some(session), Some(seen)) => (
            AppendHeaders([(SET_COOKIE, session), (SET_COOKIE, seen)]),
            Redirect::to(to),
        )
            .into_response(),
        _ => error_page(StatusCode::INTERNAL_SERVER_ERROR, "Sign-in failed."),
    }
}

/// The key of an account for the sign-in limit: company and e-mail as the user typed them,
/// normalised, whether or not such an account exists.
fn account_key(company: &str, email: &str) -> String {
    format!(
        "{}\n{}",
        company.trim().to_lowercase(),
        email.trim().to_lowercase()
    )
}

/// A page answering a refused try with 429 and `Retry-After`.
pub(crate) fn too_many(mut response: Response, wait: Duration) -> Response {
    *response.status_mut() = StatusCode::TOO_MANY_REQUESTS;
    response
        .headers_mut()
        .insert(RETRY_AFTER, HeaderValue::from(wait_secs(wait)));
    response
}

/// The message of a refused try.
pub(crate) fn wait_message(what: &str, wait: Duration) -> String {
    format!(
        "Too many {what} from here. Please wait {} seconds and try again.",
        wait_secs(wait)
    )
}

/// `POST /login`. Tries are limited per account and per client address (see
/// [`super::throttle`]); a wrong company, e-mail or password gets one answer, whichever it
/// was, and is logged.
pub(crate) async fn login_submit(
    State(state): State<AppState>,
    session: Session,
    ClientAddress(address): ClientAddress,
    Form(form): Form<LoginForm>,
) -> WebResult<Response> {
    let login_page = |error: FormError| {
        html(&LoginPage {
            page: session.page(&state, "Sign in"),
            next: safe_next(&form.next).unwrap_or_default().to_string(),
            company: form.company.clone(),
            email: form.email.clone(),
            error,
            demo_hint: state.demo_hint().to_string(),
        })
    };
    // A form with an empty field is not a try: nothing to check, nothing to count.
    if let Some(error) = first_missing(&[
        ("company", "your company", &form.company),
        ("email", "your e-mail address", &form.email),
        ("password", "your password", &form.password),
    ]) {
        return refused(login_page(error));
    }
    let throttles = state.throttles();
    let by_address = throttles.login_address.check(&address);
    let by_account = throttles
        .login_account
        .check(&account_key(&form.company, &form.email));
    if let Err(wait) = by_address.and(by_account) {
        tracing::warn!(
            company = form.company.trim(),
            email = form.email.trim(),
            address,
            wait_secs = wait_secs(wait),
            "sign-in throttled"
        );
        return Ok(too_many(
            login_page(FormError::general(wait_message("sign-in attempts", wait)))?,
            wait,
        ));
    }
    match state
        .helpdesk()
        .login(form.company.trim(), form.email.trim(), &form.password)
        .await
    {
        Ok(outcome) => Ok(signed_in_redirect(
            &state,
            &outcome.token,
            safe_next(&form.next).unwrap_or(home_of(outcome.actor.role)),
        )),
        Err(CoreError::Unauthenticated { .. }) => {
            // Why it failed (no such company or user, wrong password, inactive) is logged
            // for the operator but never told to the client.
            tracing::warn!(
                company = form.company.trim(),
                email = form.email.trim(),
                address,
                "sign-in failed"
            );
            let mut response =
                login_page(FormError::general("Wrong company, e-mail or password."))?;
            *response.status_mut() = StatusCode::UNAUTHORIZED;
            Ok(response)
        }
        Err(e) => Err(e.into()),
    }
}

/// `POST /logout`.
pub(crate) async fn logout(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> WebResult<Response> {
    if let Some(token) = cookie(&headers, SESSION_COOKIE) {
        state.helpdesk().logout(token).await?;
    }
    Ok(
        match (
            cookie_header(&state, SESSION_COOKIE, "", 0),
            cookie_header(&state, super::idle::SEEN_COOKIE, "", 0),
        ) {
            (Some(session), Some(seen)) => (
                AppendHeaders([(SET_COOKIE, session), (SET_COOKIE, seen)]),
                Redirect::to("/login"),
            )
                .into_response(),
            _ => Redirect::to("/login").into_response(),
        },
    )
}

/// The message a sign-up form shows for a refusal meant for the user, `None` for failures.
/// A taken e-mail gets the same words as any account that cannot be made, so that the form
/// does not confirm it belongs to someone (the per-address limit bounds how many a visitor
/// can probe; only an e-mail check before the account exists would close that fully).
pub(crate) fn user_facing(e: &CoreError, labels: &[(&str, &str)]) -> Option<FormError> {
    match e {
        CoreError::Duplicate {
            kind: DuplicateKind::Email,
            ..
        } => Some(FormError::general(
            "We could not create an account with these details. If you already have one, \
             sign in instead.",
        )),
        CoreError::Duplicate { .. } => Some(FormError::new("slug", e.to_string())),
        CoreError::NotFound { .. } => Some(FormError::new("company", e.to_string())),
        _ => FormError::from_core(e, labels),
    }
}

/// `GET /register-company`: a company signs up and gets a tenant and its admin.
pub(crate) async fn register_company_page(
    State(state): State<AppState>,
    session: Session,
) -> WebResult<Response> {
    html(&RegisterCompanyPage {
        page: session.page(&state, "Register your company"),
        company_name: String::new(),
        slug: String::new(),
        name: String::new(),
        email: String::new(),
        error: FormError::default(),
    })
}

/// The company sign-up form.
#[derive(Default, Deserialize)]
#[serde(default)]
pub(crate) struct RegisterCompanyForm {
    company_name: String,
    slug: String,
    name: String,
    email: String,
    password: String,
}

/// `POST /register-company`.
pub(crate) async fn register_company_submit(
    State(state): State<AppState>,
    session: Session,
    ClientAddress(address): ClientAddress,
    Form(form): Form<RegisterCompanyForm>,
) -> WebResult<Response> {
    let company_page = |error: FormError| {
        html(&RegisterCompanyPage {
            page: session.page(&state, "Register your company"),
            company_name: form.company_name.clone(),
            slug: form.slug.clone(),
            name: form.name.clone(),
            email: form.email.clone(),
            error,
        })
    };
    if let Err(wait) = state.throttles().register_company.check(&address) {
        tracing::warn!(address, "company sign-up throttled");
        return Ok(too_many(
            company_page(FormError::general(wait_message("company sign-ups", wait)))?,
            wait,
        ));
    }
    // The company's name is checked here: core calls it and the admin's name both `name`.
    if let Err(e) =
        validate::required_line("company_name", &form.company_name, validate::MAX_NAME_CHARS)
    {
        let error = FormError::from_core(&e, &[("company_name", "Company name")]);
        return refused(company_page(error.unwrap_or_default()));
    }
    let helpdesk = state.helpdesk();
    let new = NewTenant {
        name: form.company_name.trim().to_string(),
        slug: form.slug.trim().to_string(),
        settings: None,
        admin: NewUser::new(form.email.trim(), form.name.trim(), Role::Admin)
            .with_password(&form.password),
    };
    let result = match helpdesk.register_tenant(new).await {
        Ok(_) => {
            helpdesk
                .login(form.slug.trim(), form.email.trim(), &form.password)
                .await
        }
        Err(e) => Err(e),
    };
    match result {
        Ok(outcome) => Ok(signed_in_redirect(
            &state,
            &outcome.token,
            home_of(outcome.actor.role),
        )),
        Err(e) => match user_facing(
            &e,
            &[
                ("slug", "Short name"),
                ("name", "Your name"),
                ("email", "E-mail"),
                ("password", "Password"),
            ],
        ) {
            Some(error) => refused(company_page(error)),
            None => Err(e.into()),
        },
    }
}
