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
//! same time. Pending sign-ups live in this process's memory (only the hash of each
//! token): a restart forgets them, and the visitor registers again.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use askama::Template;
use axum::Form;
use axum::extract::{Query, State};
use axum::response::Response;
use helpdesk_core::domain::Role;
use helpdesk_core::service::NewUser;
use helpdesk_core::{DuplicateKind, Error as CoreError, auth, validate};
use serde::Deserialize;
use sha2::{Digest, Sha256};

use super::app::AppState;
use super::auth::{first_missing, home_of, signed_in_redirect, too_many, wait_message};
use super::error::WebResult;
use super::form::{FormError, refused};
use super::mail::Mailer;
use super::session::Session;
use super::throttle::ClientAddress;
use super::views::{Page, html};

/// Default [`super::WebOptions::verification_ttl`]: a day.
pub const DEFAULT_VERIFICATION_TTL: Duration = Duration::from_secs(24 * 60 * 60);

/// Most sign-ups waiting for their link at once (older ones are dropped first when full).
const MAX_PENDING: usize = 10_000;

/// A sign-up waiting for its e-mail link.
#[derive(Debug, Clone)]
struct Pending {
    tenant_slug: String,
    name: String,
    email: String,
    expires: Instant,
}

/// Sign-ups waiting for their link, by the SHA-256 of the link's token.
#[derive(Debug, Default)]
pub(crate) struct PendingSignups {
    by_hash: Mutex<HashMap<String, Pending>>,
}

fn token_hash(token: &str) -> String {
    Sha256::digest(token.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

impl PendingSignups {
    fn add(&self, token: &str, pending: Pending) {
        let mut map = self.by_hash.lock().unwrap_or_else(PoisonError::into_inner);
        let now = Instant::now();
        map.retain(|_, p| p.expires > now);
        if map.len() >= MAX_PENDING
            && let Some(oldest) = map
                .iter()
                .min_by_key(|(_, p)| p.expires)
                .map(|(k, _)| k.clone())
        {
            map.remove(&oldest);
        }
        map.insert(token_hash(token), pending);
    }

    /// The sign-up of a live `token` (left in place).
    fn peek(&self, token: &str) -> Option<Pending> {
        let map = self.by_hash.lock().unwrap_or_else(PoisonError::into_inner);
        map.get(&token_hash(token))
            .filter(|p| p.expires > Instant::now())
            .cloned()
    }

    /// The sign-up of a live `token`, removed: a link works once.
    fn take(&self, token: &str) -> Option<Pending> {
        let mut map = self.by_hash.lock().unwrap_or_else(PoisonError::into_inner);
        map.remove(&token_hash(token))
            .filter(|p| p.expires > Instant::now())
    }
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
            let token = auth::new_token()?;
            let ttl = state.verification_ttl();
            state.pending_signups().add(
                &token,
                Pending {
                    tenant_slug: tenant.slug.clone(),
                    name,
                    email: email.clone(),
                    expires: Instant::now() + ttl,
                },
            );
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
    let pending = state.pending_signups().peek(&query.token);
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
    let signups = state.pending_signups();
    let Some(pending) = signups.peek(&form.token) else {
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
    // Used now, whatever happens next: a link works once.
    let Some(pending) = signups.take(&form.token) else {
        return verify_page(&state, &session, "", None, FormError::default());
    };
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
