//! A helpdesk on its own SQLite file with two tenants, its API router, and a client that
//! drives the router in process.
#![allow(
    dead_code,
    unreachable_pub,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic
)]

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode};
use helpdesk_api::{ApiConfig, RateLimits};
use helpdesk_core::blob::FsBlobStore;
use helpdesk_core::domain::{Actor, Role};
use helpdesk_core::service::{NewTenant, NewUser};
use helpdesk_core::testkit::{FakeEmbedder, InMemoryKnowledgeBase};
use helpdesk_core::{Helpdesk, Store};
use helpdesk_store_sqlite::SqliteStore;
use http_body_util::BodyExt;
use serde_json::Value;
use tower::ServiceExt;

pub mod uploads;

pub const PASSWORD: &str = "correct horse battery";

pub struct TestApi {
    pub router: Router,
    pub hd: Helpdesk,
    pub admin: String,
    pub agent: String,
    pub customer: String,
    pub customer2: String,
    /// The admin of another tenant.
    pub other_admin: String,
    pub other_customer: String,
    pub customer_actor: Actor,
    pub agent_actor: Actor,
    pub admin_actor: Actor,
    _dir: tempfile::TempDir,
}

pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub json: Value,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    pub fn content_type(&self) -> &str {
        self.header("content-type").unwrap_or_default()
    }

    /// Asserts a problem document with this status and `type` suffix.
    pub fn assert_problem(&self, status: u16, kind: &str) -> &Self {
        assert_eq!(self.status.as_u16(), status, "{}", self.json);
        assert_eq!(self.content_type(), "application/problem+json");
        assert_eq!(
            self.json["type"],
            format!("urn:helpdesk:problem:{kind}"),
            "{}",
            self.json
        );
        assert_eq!(self.json["status"], status);
        self
    }
}

pub async fn api() -> TestApi {
    api_with(ApiConfig::default().rate_limits(RateLimits::unlimited())).await
}

pub async fn api_with(config: ApiConfig) -> TestApi {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(dir.path().join("helpdesk.db"))
        .await
        .unwrap();
    let store: Arc<dyn Store> = Arc::new(store);
    let kb = Arc::new(InMemoryKnowledgeBase::new(Arc::new(FakeEmbedder::new())));
    let blobs = Arc::new(FsBlobStore::new(dir.path().join("blobs")));
    let hd = Helpdesk::builder(store)
        .knowledge_base(kb)
        .blob_store(blobs)
        .build()
        .unwrap();
    let (_, admin) = hd
        .register_tenant(NewTenant {
            name: "Acme".into(),
            slug: "acme".into(),
            admin: NewUser::new("admin@acme.test", "Ada Admin", Role::Admin)
                .with_password(PASSWORD),
            settings: None,
        })
        .await
        .unwrap();
    let admin_actor = Actor::for_user(&admin);
    let add = |email: &'static str, role| {
        let hd = hd.clone();
        let admin = admin_actor.clone();
        async move {
            hd.add_user(
                &admin,
                NewUser::new(email, email, role).with_password(PASSWORD),
            )
            .await
            .unwrap()
        }
    };
    let agent = add("agent@acme.test", Role::Agent).await;
    add("customer@acme.test", Role::Customer).await;
    add("customer2@acme.test", Role::Customer).await;
    let (_, other) = hd
        .register_tenant(NewTenant {
            name: "Globex".into(),
            slug: "globex".into(),
            admin: NewUser::new("admin@globex.test", "Gus", Role::Admin).with_password(PASSWORD),
            settings: None,
        })
        .await
        .unwrap();
    hd.add_user(
        &Actor::for_user(&other),
        NewUser::new("customer@globex.test", "Gina", Role::Customer).with_password(PASSWORD),
    )
    .await
    .unwrap();
    let router: Router = helpdesk_api::router(hd.clone(), config);
    let mut api = TestApi {
        router,
        hd,
        admin: String::new(),
        agent: String::new(),
        customer: String::new(),
        customer2: String::new(),
        other_admin: String::new(),
        other_customer: String::new(),
        customer_actor: admin_actor.clone(),
        agent_actor: Actor::for_user(&agent),
        admin_actor: admin_actor.clone(),
        _dir: dir,
    };
    api.admin = api.login("acme", "admin@acme.test").await;
    api.agent = api.login("acme", "agent@acme.test").await;
    api.customer = api.login("acme", "customer@acme.test").await;
    api.customer2 = api.login("acme", "customer2@acme.test").await;
    api.other_admin = api.login("globex", "admin@globex.test").await;
    api.other_customer = api.login("globex", "customer@globex.test").await;
    api.customer_actor = api.hd.authenticate(&api.customer).await.unwrap();
    api
}

impl TestApi {
    pub async fn login(&self, tenant: &str, email: &str) -> String {
        let reply = self
            .call(
                Method::POST,
                "/auth/login",
                None,
                Some(serde_json::json!({"tenant": tenant, "email": email, "password": PASSWORD})),
            )
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.json);
        reply.json["token"].as_str().unwrap().to_string()
    }

    pub async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Reply {
        self.call_with(method, path, token, body, &[]).await
    }

    pub async fn call_with(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
        headers: &[(&str, &str)],
    ) -> Reply {
        let mut request = Request::builder().method(method).uri(path);
        if let Some(token) = token {
            request = request.header("authorization", format!("Bearer {token}"));
        }
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let request = match body {
            Some(body) => request
                .header("content-type", "application/json")
                .body(Body::from(body.to_string())),
            None => request.body(Body::empty()),
        }
        .unwrap();
        self.send(request).await
    }

    pub async fn send(&self, request: Request<Body>) -> Reply {
        let response = self.router.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        let json = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes)
                .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()))
        };
        Reply {
            status,
            headers,
            json,
        }
    }

    /// A customer's new ticket: (id, number, etag).
    pub async fn open_ticket(&self, token: &str, subject: &str) -> (String, u64) {
        let reply = self
            .call(
                Method::POST,
                "/tickets",
                Some(token),
                Some(serde_json::json!({"subject": subject, "description": "It does not work since this morning."})),
            )
            .await;
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.json);
        (
            reply.json["id"].as_str().unwrap().to_string(),
            reply.json["number"].as_u64().unwrap(),
        )
    }
}
