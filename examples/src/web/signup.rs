//! Customer self-registration with an e-mail check (issue 16, item 14).
//!
//! `POST /register` takes the company, a name and an e-mail address and always answers
//! with the same "check your inbox" page, whether or not the address already has an
//! account, so the form cannot be used to find out who is a customer:
//!
//! - a new address gets a single-use link (`/register/verify?token=…`) that expires after
//!   [`super::WebOptions::verification_ttl`]; the account is created only when the link is
//!   followed and a password chosen there, and then it is signed in;
//! - an address that has an account gets a note that someone tried to register with it,
//!   pointing to the sign-in page instead.
//!
//! The mail is sent in the background (see [`super::mail`]) so that both answers take the
//! same time. The link carries the sign-up itself, signed with the app's secret
//! ([`super::secret`]) and with its expiry: no instance keeps a list of pending sign-ups,
//! so the link works on whichever instance it reaches, and after a restart. It works once
//! because the account it makes spends it.

use std::sync::Arc;
use std::time::Duration;

use askama::Template;
use axum::Form;
use axum::extract::{Query, State};
use axum::response::Response;
use helpdesk_core::domain::Role;
use helpdesk_core::service::NewUser;
use helpdesk_core::{DuplicateKind, Error as CoreError, auth, validate};
use serde::{Deserialize, Serialize};

use super::app::AppState;
use super::auth::{first_missing, home_of, signed_in_redirect, too_many, wait_message};
use super::error::WebResult;
use super::form::{FormError, refused};
use super::idle;
use super::mail::Mailer;
use super::secret::WebSecret;
use super::session::Session;
use super::throttle::ClientAddress;
use super::views::{Page, html};

/// Default [`super::WebOptions::verification_ttl`]: a day.
pub const DEFAULT_VERIFICATION_TTL: Duration = Duration::from_secs(24 * 60 * 60);

/// What the sign-up link's token is signed for.
const PURPOSE: &str = "signup-link";

/// A sign-up waiting for its e-mail link, carried in the link itself.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Pending {
    #[serde(rename = "t")]
    tenant_slug: String,
    #[serde(rename = "n")]
    name: String,
    #[serde(rename = "e")]
    email: String,
    /// Unix seconds after which the link no longer works.
    #[serde(rename = "x")]
    expires: i64,
}

impl Pending {
    /// The link's token: the sign-up as hex JSON and its signature, `<payload>.<tag>`.
    fn token(&self, secret: &WebSecret) -> String {
        let payload = hex::encode(serde_json::to_vec(self).unwrap_or_default());
        let tag = secret.sign(PURPOSE, payload.as_bytes());
        format!("{payload}.{tag}")
    }

    /// The sign-up of a genuine, unexpired `token`.
    fn from_token(secret: &WebSecret, token: &str, now: i64) -> Option<Self> {
        let (payload, tag) = token.split_once('.')?;
        if !secret.verify(PURPOSE, payload.as_bytes(), tag) {
            return None;
        }
        let pending: Self = serde_json::from_slice(&hex::decode(payload).ok()?).ok()?;
        (pending.expires > now).then_some(pending)
    }
}

/// The sign-up a link's `token` stands for, while it can still make an account: signed by
/// this app, unexpired, and its address without an account in the company yet (a link
/// works once: the account it made, or one made meanwhile, spends it). Any instance
/// sharing the app's secret answers the same, whichever one sent the mail.
async fn live_signup(state: &AppState, token: &str) -> WebResult<Option<Pending>> {
    let Some(pending) = Pending::from_token(state.secret(), token, idle::now_seconds()) else {
        return Ok(None);
    };
    let store = state.helpdesk().store();
    let Some(tenant) = store.get_tenant_by_slug(&pending.tenant_slug).await? else {
        return Ok(None);
    };
    if store
        .get_user_by_email(tenant.id, &pending.email)
        .await?
        .is_some()
    {
        return Ok(None);
    }
    Ok(Some(pending))
}

#[derive(Template)]
#[template(path = "register.html")]
struct RegisterPage {
    page: Page,
    company: String,
    name: String,
    email: String,
    error: FormError,
}

/// The answer to every accepted sign-up.
#[derive(Template)]
#[template(path = "register_sent.html")]
struct SentPage {
    page: Page,
}

#[derive(Template)]
#[template(path = "register_verify.html")]
struct VerifyPage {
    page: Page,
    /// Empty when the link is not (or no longer) valid.
    token: String,
    name: String,
    email: String,
    error: FormError,
}

/// `GET /register`: customer sign-up.
pub(crate) async fn register_page(
    State(state): State<AppState>,
    session: Session,
) -> WebResult<Response> {
    html(&RegisterPage {
        page: session.page(&state, "Create an account"),
        company: String::new(),
        name: String::new(),
        email: String::new(),
        error: FormError::default(),
    })
}

/// The customer sign-up form.
#[derive(Default, Deserialize)]
#[serde(default)]
pub(crate) struct RegisterForm {
    company: String,
    name: String,
    email: String,
}

/// `POST /register`: checks the form, then answers "check your inbox" whether or not the
/// address has an account, and sends the matching e-mail in the background.
pub(crate) async fn register_submit(
    State(state): State<AppState>,
    session: Session,
    ClientAddress(address): ClientAddress,
    Form(form): Form<RegisterForm>,
) -> WebResult<Response> {
    let register_page = |error: FormError| {
        html(&RegisterPage {
            page: session.page(&state, "Create an account"),
            company: form.company.clone(),
            name: form.name.clone(),
            email: form.email.clone(),
            error,
        })
    };
    if let Err(wait) = state.throttles().register.check(&address) {
        tracing::warn!(address, "customer sign-up throttled");
        return Ok(too_many(
            register_page(FormError::general(wait_message("sign-ups", wait)))?,
            wait,
        ));
    }
    if let Some(error) = first_missing(&[
        ("company", "your company", &form.company),
        ("name", "your name", &form.name),
        ("email", "your e-mail address", &form.email),
    ]) {
        return refused(register_page(error));
    }
    let name = match validate::required_line("name", &form.name, validate::MAX_NAME_CHARS) {
        Ok(name) => name,
        Err(e) => {
            return refused(register_page(
                FormError::from_core(&e, &[("name", "Your name")]).unwrap_or_default(),
            ));
        }
    };
    let email = match validate::email(&form.email) {
        Ok(email) => email,
        Err(e) => {
            return refused(register_page(
                FormError::from_core(&e, &[("email", "E-mail")]).unwrap_or_default(),
            ));
        }
    };
    // The company and whether it takes sign-ups are not secrets of any account.
    let store = state.helpdesk().store();
    let Some(tenant) = store.get_tenant_by_slug(form.company.trim()).await? else {
        let error = FormError::new("company", "Company: no such company; check its short name.");
        return refused(register_page(error));
    };
    if !tenant.settings.self_registration {
        let e = CoreError::from(helpdesk_core::StateError::RegistrationClosed);
        return refused(register_page(FormError::general(e.to_string())));
    }
    let sent_page = || {
        html(&SentPage {
            page: session.page(&state, "Check your inbox"),
        })
    };
    // One inbox gets only so many of these, whoever asks (the answer does not change).
    if let Err(wait) = state
        .throttles()
        .signup_mail
        .check(&format!("{}\n{email}", tenant.id))
    {
        tracing::warn!(
            address,
            wait_secs = wait.as_secs(),
            "sign-up e-mail to one address throttled; not sent"
        );
        return sent_page();
    }
    let existing = store.get_user_by_email(tenant.id, &email).await?;
    let base = state.public_url().trim_end_matches('/').to_string();
    let (subject, body) = match existing {
        Some(_) => (
            format!("Someone tried to register at {} support", tenant.name),
            format!(
                "Someone, maybe you, tried to create an account at {tenant} support with this \
                 e-mail address. You already have an account: sign in at {base}/login with \
                 the company name {slug}.\n\nIf you forgot your password, ask {tenant} \
                 support to reset it. If it was not you, you can ignore this message: \
                 nothing was changed.\n\n-- \n{tenant} helpdesk (automatic message)\n",
                tenant = tenant.name,
                slug = tenant.slug,
            ),
        ),
        None => {
            let ttl = state.verification_ttl();
            let expires = idle::now_seconds()
                .saturating_add(i64::try_from(ttl.as_secs()).unwrap_or(i64::MAX));
            let token = Pending {
                tenant_slug: tenant.slug.clone(),
                name,
                email: email.clone(),
                expires,
            }
            .token(state.secret());
            let query =
                serde_urlencoded::to_string([("token", token.as_str())]).unwrap_or_default();
            (
                format!("Confirm your e-mail address for {} support", tenant.name),
                format!(
                    "To finish creating your account at {tenant} support, open this link and \
                     choose a password:\n\n{base}/register/verify?{query}\n\nThe link works \
                     once and for {hours} hours. If you did not ask for an account, ignore \
                     this message.\n\n-- \n{tenant} helpdesk (automatic message)\n",
                    tenant = tenant.name,
                    hours = ttl.as_secs().div_ceil(3600),
                ),
            )
        }
    };
    send_in_background(state.mailer(), email, subject, body);
    sent_page()
}

/// Sends without making the visitor wait (and so without telling the two answers apart
/// by their time); a failure is logged.
fn send_in_background(mailer: Arc<dyn Mailer>, to: String, subject: String, body: String) {
    tokio::spawn(async move {
        if let Err(e) = mailer.send(&to, &subject, body).await {
            tracing::error!(error = %e, "the sign-up e-mail could not be sent");
        }
    });
}

/// The query of the link.
#[derive(Default, Deserialize)]
#[serde(default)]
pub(crate) struct VerifyQuery {
    token: String,
}

fn verify_page(
    state: &AppState,
    session: &Session,
    token: &str,
    pending: Option<&Pending>,
    error: FormError,
) -> WebResult<Response> {
    let failed = pending.is_none() || error.is_set();
    let page = html(&VerifyPage {
        page: session.page(state, "Finish creating your account"),
        token: pending.map(|_| token.to_string()).unwrap_or_default(),
        name: pending.map(|p| p.name.clone()).unwrap_or_default(),
        email: pending.map(|p| p.email.clone()).unwrap_or_default(),
        error,
    });
    if failed { refused(page) } else { page }
}

/// `GET /register/verify?token=…`: the link of the e-mail; asks for a password.
pub(crate) async fn verify_link(
    State(state): State<AppState>,
    session: Session,
    Query(query): Query<VerifyQuery>,
) -> WebResult<Response> {
    let pending = live_signup(&state, &query.token).await?;
    verify_page(
        &state,
        &session,
        &query.token,
        pending.as_ref(),
        FormError::default(),
    )
}

/// The password form of the link's page.
#[derive(Default, Deserialize)]
#[serde(default)]
pub(crate) struct VerifyForm {
    token: String,
    password: String,
}

/// `POST /register/verify`: creates the account (once per link) and signs it in.
pub(crate) async fn verify_submit(
    State(state): State<AppState>,
    session: Session,
    Form(form): Form<VerifyForm>,
) -> WebResult<Response> {
    let Some(pending) = live_signup(&state, &form.token).await? else {
        return verify_page(&state, &session, "", None, FormError::default());
    };
    let n = form.password.chars().count();
    if !(auth::MIN_PASSWORD_CHARS..=auth::MAX_PASSWORD_CHARS).contains(&n) {
        let error = FormError::new(
            "password",
            format!(
                "Password: {} to {} characters.",
                auth::MIN_PASSWORD_CHARS,
                auth::MAX_PASSWORD_CHARS
            ),
        );
        return verify_page(&state, &session, &form.token, Some(&pending), error);
    }
    let helpdesk = state.helpdesk();
    let new =
        NewUser::new(&pending.email, &pending.name, Role::Customer).with_password(&form.password);
    let created = match helpdesk.register_customer(&pending.tenant_slug, new).await {
        Ok(_) => {
            helpdesk
                .login(&pending.tenant_slug, &pending.email, &form.password)
                .await
        }
        Err(e) => Err(e),
    };
    match created {
        Ok(outcome) => Ok(signed_in_redirect(
            &state,
            &outcome.token,
            home_of(outcome.actor.role),
        )),
        // Registered meanwhile through another link: the link is spent like a used one.
        Err(CoreError::Duplicate {
            kind: DuplicateKind::Email,
            ..
        }) => verify_page(&state, &session, "", None, FormError::default()),
        Err(e) => match FormError::from_core(&e, &[]) {
            Some(error) => verify_page(&state, &session, "", None, error),
            None => Err(e.into()),
        },
    }
}
