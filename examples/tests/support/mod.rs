//! Drives the web app in-process through its router: a signed-in "browser" (cookie and
//! CSRF token), GET and POST helpers and the demo company. Shared by the web test files.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use axum::Router;
use axum::body::Body;
use axum::http::header::{CONTENT_TYPE, COOKIE, LOCATION, SET_COOKIE};
use axum::http::{HeaderMap, Request, StatusCode};
use helpdesk_examples::web::seed::{DemoCredentials, DemoLogin, seed_demo};
use helpdesk_examples::web::{
    AppState, Backends, PRESESSION_COOKIE, SEEN_COOKIE, SESSION_COOKIE, WebOptions, router,
};
use http_body_util::BodyExt;
use tower::ServiceExt;

pub(crate) struct Reply {
    pub(crate) status: StatusCode,
    pub(crate) headers: HeaderMap,
    pub(crate) set_cookies: Vec<String>,
    pub(crate) location: Option<String>,
    pub(crate) body: String,
}

pub(crate) async fn app() -> (Router, DemoCredentials) {
    app_with(|_| {}).await
}

/// The demo app with its options changed by `adjust`.
pub(crate) async fn app_with(adjust: impl FnOnce(&mut WebOptions)) -> (Router, DemoCredentials) {
    let backends = Backends::offline_demo();
    let helpdesk = backends.build().unwrap();
    let creds = seed_demo(&helpdesk, backends.knowledge_base.as_ref())
        .await
        .unwrap();
    let mut options = WebOptions {
        mode_notice: backends.mode_notice(),
        ..WebOptions::default()
    };
    adjust(&mut options);
    let state = AppState::new(helpdesk, backends.knowledge_base.clone(), options).unwrap();
    (router(state), creds)
}

pub(crate) async fn send(app: &Router, request: Request<Body>) -> Reply {
    let response = app.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let set_cookies = response
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .collect();
    let location = response
        .headers()
        .get(LOCATION)
        .map(|v| v.to_str().unwrap().to_string());
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    Reply {
        status,
        headers,
        set_cookies,
        location,
        body: String::from_utf8(bytes.to_vec()).unwrap(),
    }
}

pub(crate) async fn get(app: &Router, path: &str, cookie: &str) -> Reply {
    let request = Request::get(path)
        .header(COOKIE, cookie)
        .body(Body::empty())
        .unwrap();
    send(app, request).await
}

pub(crate) async fn post(app: &Router, path: &str, cookie: &str, form: &[(&str, &str)]) -> Reply {
    let request = Request::post(path)
        .header(COOKIE, cookie)
        .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(serde_urlencoded::to_string(form).unwrap()))
        .unwrap();
    send(app, request).await
}

pub(crate) fn csrf_of(body: &str) -> String {
    let marker = r#"name="csrf" value=""#;
    let start = body.find(marker).expect("page has a CSRF field") + marker.len();
    body[start..].split('"').next().unwrap().to_string()
}

pub(crate) fn cookie_value(set_cookies: &[String], name: &str) -> Option<String> {
    set_cookies
        .iter()
        .filter_map(|c| c.split(';').next())
        .filter_map(|kv| kv.split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_string())
}

/// The cookie header a browser sends after signing in with `reply`: the session and its
/// idle stamp.
pub(crate) fn signed_in_cookie(reply: &Reply, token: &str) -> String {
    let seen = cookie_value(&reply.set_cookies, SEEN_COOKIE).expect("idle stamp at sign-in");
    format!("{SESSION_COOKIE}={token}; {SEEN_COOKIE}={seen}")
}

/// A signed-in browser: its cookie header and the CSRF token of its pages.
pub(crate) struct Browser {
    pub(crate) cookie: String,
    pub(crate) csrf: String,
}

impl Browser {
    /// Keeps the idle stamp `reply` set, as a browser stores the cookies it is given.
    pub(crate) fn keep_stamp(&mut self, reply: &Reply) {
        if let Some(seen) = cookie_value(&reply.set_cookies, SEEN_COOKIE) {
            let session = self
                .cookie
                .split("; ")
                .find(|c| c.starts_with(SESSION_COOKIE))
                .unwrap()
                .to_string();
            self.cookie = format!("{session}; {SEEN_COOKIE}={seen}");
        }
    }
}

pub(crate) async fn sign_in(
    app: &Router,
    company: &str,
    login: &DemoLogin,
) -> (Reply, Option<Browser>) {
    let page = get(app, "/login", "").await;
    assert_eq!(page.status, StatusCode::OK);
    let pre = cookie_value(&page.set_cookies, PRESESSION_COOKIE).expect("pre-session cookie");
    let pre_cookie = format!("{PRESESSION_COOKIE}={pre}");
    let reply = post(
        app,
        "/login",
        &pre_cookie,
        &[
            ("csrf", &csrf_of(&page.body)),
            ("company", company),
            ("email", &login.email),
            ("password", &login.password),
        ],
    )
    .await;
    let Some(token) = cookie_value(&reply.set_cookies, SESSION_COOKIE) else {
        return (reply, None);
    };
    let cookie = signed_in_cookie(&reply, &token);
    let home = get(app, reply.location.as_deref().unwrap(), &cookie).await;
    assert_eq!(home.status, StatusCode::OK, "{}", home.body);
    let csrf = csrf_of(&home.body);
    (reply, Some(Browser { cookie, csrf }))
}

pub(crate) async fn browser(app: &Router, creds: &DemoCredentials, login: &DemoLogin) -> Browser {
    sign_in(app, &creds.tenant_slug, login)
        .await
        .1
        .expect("signed in")
}

/// Opens a ticket as `b` and returns the ticket page path it redirects to.
pub(crate) async fn open_ticket(
    app: &Router,
    b: &Browser,
    subject: &str,
    description: &str,
) -> String {
    let reply = post(
        app,
        "/portal/tickets",
        &b.cookie,
        &[
            ("csrf", &b.csrf),
            ("subject", subject),
            ("description", description),
            ("priority", ""),
        ],
    )
    .await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    // Without the `?done=` confirmation of the redirect.
    let location = reply.location.unwrap();
    location.split('?').next().unwrap().to_string()
}

/// POSTs `form` as if from the client at `address` (the server's connection info).
pub(crate) async fn post_from(
    app: &Router,
    address: [u8; 4],
    path: &str,
    cookie: &str,
    form: &[(&str, &str)],
) -> Reply {
    let mut request = Request::post(path)
        .header(COOKIE, cookie)
        .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(serde_urlencoded::to_string(form).unwrap()))
        .unwrap();
    let peer = std::net::SocketAddr::from((address, 40_000));
    request
        .extensions_mut()
        .insert(axum::extract::ConnectInfo(peer));
    send(app, request).await
}

/// A signed-out browser: its pre-session cookie header and the CSRF token of `page`.
pub(crate) async fn signed_out(app: &Router, page: &str) -> Browser {
    let reply = get(app, page, "").await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let pre = cookie_value(&reply.set_cookies, PRESESSION_COOKIE).expect("pre-session cookie");
    Browser {
        cookie: format!("{PRESESSION_COOKIE}={pre}"),
        csrf: csrf_of(&reply.body),
    }
}

/// The e-mail the app sent, kept for the test to read (a [`Mailer`]).
#[derive(Debug, Default)]
pub(crate) struct Outbox {
    sent: std::sync::Mutex<Vec<(String, String, String)>>,
}

#[async_trait::async_trait]
impl helpdesk_examples::web::mail::Mailer for Outbox {
    async fn send(
        &self,
        to: &str,
        subject: &str,
        body: String,
    ) -> Result<(), helpdesk_core::BoxError> {
        self.sent
            .lock()
            .unwrap()
            .push((to.to_string(), subject.to_string(), body));
        Ok(())
    }
}

impl Outbox {
    /// All messages to `to` so far, as (subject, body).
    pub(crate) fn to(&self, to: &str) -> Vec<(String, String)> {
        self.sent
            .lock()
            .unwrap()
            .iter()
            .filter(|(t, _, _)| t == to)
            .map(|(_, s, b)| (s.clone(), b.clone()))
            .collect()
    }

    /// Waits (up to 5 s: mail goes out in the background) for the `n`th message to `to`.
    pub(crate) async fn wait_for(&self, to: &str, n: usize) -> (String, String) {
        for _ in 0..100 {
            if let Some(m) = self.to(to).get(n - 1) {
                return m.clone();
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        panic!("no message {n} to {to}");
    }
}

/// The demo app sending its e-mail to the returned [`Outbox`].
pub(crate) async fn app_with_mail(
    adjust: impl FnOnce(&mut WebOptions),
) -> (Router, DemoCredentials, std::sync::Arc<Outbox>) {
    let outbox = std::sync::Arc::new(Outbox::default());
    let mailer = outbox.clone();
    let (app, creds) = app_with(move |o| {
        o.mailer = Some(mailer);
        adjust(o);
    })
    .await;
    (app, creds, outbox)
}

/// The path of the sign-up link in an e-mail body.
pub(crate) fn verify_link(body: &str) -> String {
    let start = body
        .find("/register/verify?token=")
        .expect("a sign-up link");
    body[start..].split_whitespace().next().unwrap().to_string()
}

/// Registers `email` with the demo company, follows the e-mailed link and chooses a
/// password: the signed-in customer.
pub(crate) async fn register_customer(app: &Router, outbox: &Outbox, email: &str) -> Browser {
    let b = signed_out(app, "/register").await;
    let sent = post(
        app,
        "/register",
        &b.cookie,
        &[
            ("csrf", &b.csrf),
            ("company", "nimbus"),
            ("name", "New Customer"),
            ("email", email),
        ],
    )
    .await;
    assert_eq!(sent.status, StatusCode::OK, "{}", sent.body);
    let n = outbox.to(email).len() + 1;
    let (_, body) = outbox.wait_for(email, n).await;
    let link = verify_link(&body);
    let page = get(app, &link, &b.cookie).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let token = link.split("token=").nth(1).unwrap();
    let token: String = serde_urlencoded::from_str::<Vec<(String, String)>>(&format!("t={token}"))
        .unwrap()
        .remove(0)
        .1;
    let done = post(
        app,
        "/register/verify",
        &b.cookie,
        &[
            ("csrf", &csrf_of(&page.body)),
            ("token", &token),
            ("password", "a long password"),
        ],
    )
    .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    let session = cookie_value(&done.set_cookies, SESSION_COOKIE).expect("signed in");
    let cookie = signed_in_cookie(&done, &session);
    let home = get(app, done.location.as_deref().unwrap(), &cookie).await;
    assert_eq!(home.status, StatusCode::OK);
    Browser {
        csrf: csrf_of(&home.body),
        cookie,
    }
}

/// The login of an account a test created.
pub(crate) fn login_of(email: &str, password: &str) -> DemoLogin {
    DemoLogin {
        name: "Test".into(),
        email: email.into(),
        password: password.into(),
    }
}
