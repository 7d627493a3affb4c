//! The sign-in, sign-up (customer and company) and sign-out pages.

use askama::Template;
use axum::Form;
use axum::extract::State;
use axum::http::header::SET_COOKIE;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use helpdesk_core::Error as CoreError;
use helpdesk_core::domain::Role;
use helpdesk_core::service::{NewTenant, NewUser};
use serde::Deserialize;

use super::app::AppState;
use super::error::{WebResult, error_page};
use super::session::{SESSION_COOKIE, Session, cookie, cookie_header};
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
    company: String,
    email: String,
    error: Option<String>,
    demo_hint: String,
}

#[derive(Template)]
#[template(path = "register.html")]
struct RegisterPage {
    page: Page,
    company: String,
    name: String,
    email: String,
    error: Option<String>,
}

#[derive(Template)]
#[template(path = "register_company.html")]
struct RegisterCompanyPage {
    page: Page,
    company_name: String,
    slug: String,
    name: String,
    email: String,
    error: Option<String>,
}

/// `GET /login`.
pub(crate) async fn login_page(
    State(state): State<AppState>,
    session: Session,
) -> WebResult<Response> {
    html(&LoginPage {
        page: session.page(&state, "Sign in"),
        company: state.default_tenant().to_string(),
        email: String::new(),
        error: None,
        demo_hint: state.demo_hint().to_string(),
    })
}

/// The sign-in form.
#[derive(Deserialize)]
pub(crate) struct LoginForm {
    company: String,
    email: String,
    password: String,
}

fn signed_in_redirect(state: &AppState, token: &str, role: Role) -> Response {
    let ttl = state.helpdesk().config().session_ttl.as_secs();
    match cookie_header(state, SESSION_COOKIE, token, ttl) {
        Some(v) => ([(SET_COOKIE, v)], Redirect::to(home_of(role))).into_response(),
        None => error_page(StatusCode::INTERNAL_SERVER_ERROR, "Sign-in failed."),
    }
}

/// `POST /login`.
pub(crate) async fn login_submit(
    State(state): State<AppState>,
    session: Session,
    Form(form): Form<LoginForm>,
) -> WebResult<Response> {
    match state
        .helpdesk()
        .login(form.company.trim(), form.email.trim(), &form.password)
        .await
    {
        Ok(outcome) => Ok(signed_in_redirect(
            &state,
            &outcome.token,
            outcome.actor.role,
        )),
        Err(CoreError::Unauthenticated { .. }) => {
            let mut response = html(&LoginPage {
                page: session.page(&state, "Sign in"),
                company: form.company,
                email: form.email,
                error: Some("Wrong company, e-mail or password.".into()),
                demo_hint: state.demo_hint().to_string(),
            })?;
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
    Ok(match cookie_header(&state, SESSION_COOKIE, "", 0) {
        Some(v) => ([(SET_COOKIE, v)], Redirect::to("/login")).into_response(),
        None => Redirect::to("/login").into_response(),
    })
}

/// `GET /register`: customer sign-up.
pub(crate) async fn register_page(
    State(state): State<AppState>,
    session: Session,
) -> WebResult<Response> {
    html(&RegisterPage {
        page: session.page(&state, "Create an account"),
        company: state.default_tenant().to_string(),
        name: String::new(),
        email: String::new(),
        error: None,
    })
}

/// The customer sign-up form.
#[derive(Deserialize)]
pub(crate) struct RegisterForm {
    company: String,
    name: String,
    email: String,
    password: String,
}

fn user_facing(e: &CoreError) -> Option<String> {
    matches!(
        e,
        CoreError::Validation { .. } | CoreError::Duplicate { .. } | CoreError::NotFound { .. }
    )
    .then(|| e.to_string())
}

/// `POST /register`.
pub(crate) async fn register_submit(
    State(state): State<AppState>,
    session: Session,
    Form(form): Form<RegisterForm>,
) -> WebResult<Response> {
    let helpdesk = state.helpdesk();
    let new = NewUser::new(form.email.trim(), form.name.trim(), Role::Customer)
        .with_password(&form.password);
    let result = match helpdesk.register_customer(form.company.trim(), new).await {
        Ok(_) => {
            helpdesk
                .login(form.company.trim(), form.email.trim(), &form.password)
                .await
        }
        Err(e) => Err(e),
    };
    match result {
        Ok(outcome) => Ok(signed_in_redirect(
            &state,
            &outcome.token,
            outcome.actor.role,
        )),
        Err(e) => match user_facing(&e) {
            Some(message) => {
                let mut response = html(&RegisterPage {
                    page: session.page(&state, "Create an account"),
                    company: form.company,
                    name: form.name,
                    email: form.email,
                    error: Some(message),
                })?;
                *response.status_mut() = StatusCode::BAD_REQUEST;
                Ok(response)
            }
            None => Err(e.into()),
        },
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
        error: None,
    })
}

/// The company sign-up form.
#[derive(Deserialize)]
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
    Form(form): Form<RegisterCompanyForm>,
) -> WebResult<Response> {
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
            outcome.actor.role,
        )),
        Err(e) => match user_facing(&e) {
            Some(message) => {
                let mut response = html(&RegisterCompanyPage {
                    page: session.page(&state, "Register your company"),
                    company_name: form.company_name,
                    slug: form.slug,
                    name: form.name,
                    email: form.email,
                    error: Some(message),
                })?;
                *response.status_mut() = StatusCode::BAD_REQUEST;
                Ok(response)
            }
            None => Err(e.into()),
        },
    }
}
