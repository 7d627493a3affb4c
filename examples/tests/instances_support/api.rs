//! The JSON API (`/api/v1`) of a running instance, as a client sees it: bearer tokens
//! (sessions live in the store, so a token from one instance works on every other),
//! tickets, articles, the knowledge-base search and the chatbot.

use std::net::IpAddr;
use std::time::Duration;

use serde_json::{Value, json};

/// One demo login printed by the first instance.
#[derive(Debug, Clone)]
pub(crate) struct Login {
    pub(crate) email: String,
    pub(crate) password: String,
}

/// The demo company's logins, from the ready block of the instance that seeded it.
#[derive(Debug, Clone)]
pub(crate) struct Logins {
    pub(crate) admin: Login,
    pub(crate) billing_agent: Login,
    pub(crate) technical_agent: Login,
    pub(crate) customer: Login,
}

impl Logins {
    pub(crate) fn parse(printed: &str) -> Self {
        let find = |role: &str| {
            let line = printed
                .lines()
                .map(str::trim)
                .find(|l| l.starts_with(role) && l.contains("password:"))
                .unwrap_or_else(|| panic!("no {role} login in {printed}"));
            let email = line
                .split_whitespace()
                .find(|w| w.contains('@'))
                .expect("an e-mail address")
                .to_owned();
            let password = line
                .rsplit_once("password:")
                .expect("a password")
                .1
                .trim()
                .to_owned();
            Login { email, password }
        };
        Self {
            admin: find("admin"),
            billing_agent: find("agent (billing)"),
            technical_agent: find("agent (tech)"),
            customer: find("customer"),
        }
    }
}

/// The demo company's slug.
pub(crate) const TENANT: &str = "nimbus";

/// An HTTP client of the API.
#[derive(Clone)]
pub(crate) struct Api {
    http: reqwest::Client,
}

/// A signed-in caller.
#[derive(Debug, Clone)]
pub(crate) struct Token(pub(crate) String);

impl Api {
    pub(crate) fn new() -> Self {
        Self::with(reqwest::Client::builder())
    }

    /// A client whose connections come from `address` (any 127.x.y.z on Linux): each has
    /// its own per-address rate limits on the server.
    pub(crate) fn from_address(address: IpAddr) -> Self {
        Self::with(reqwest::Client::builder().local_address(address))
    }

    fn with(builder: reqwest::ClientBuilder) -> Self {
        Self {
            http: builder
                .timeout(Duration::from_secs(60))
                .build()
                .expect("an HTTP client"),
        }
    }

    /// Sends `body` (JSON) or nothing with `method` to `base` + `/api/v1` + `path`; the
    /// status and the JSON answer (`Null` when there is none).
    pub(crate) async fn call(
        &self,
        method: reqwest::Method,
        base: &str,
        path: &str,
        token: Option<&Token>,
        body: Option<Value>,
    ) -> (u16, Value) {
        let mut request = self.http.request(method, format!("{base}/api/v1{path}"));
        if let Some(token) = token {
            request = request.bearer_auth(&token.0);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request
            .send()
            .await
            .unwrap_or_else(|e| panic!("{base}{path}: {e}"));
        let status = response.status().as_u16();
        let text = response.text().await.expect("a response body");
        let value = serde_json::from_str(&text).unwrap_or(Value::Null);
        (status, value)
    }

    pub(crate) async fn get(&self, base: &str, path: &str, token: &Token) -> (u16, Value) {
        self.call(reqwest::Method::GET, base, path, Some(token), None)
            .await
    }

    /// POSTs `body`, expecting `expected`; the answer.
    pub(crate) async fn post(
        &self,
        base: &str,
        path: &str,
        token: &Token,
        body: Value,
        expected: u16,
    ) -> Value {
        let (status, value) = self
            .call(reqwest::Method::POST, base, path, Some(token), Some(body))
            .await;
        assert_eq!(status, expected, "POST {base}{path}: {value}");
        value
    }

    pub(crate) async fn login(&self, base: &str, login: &Login) -> Token {
        let body = json!({"tenant": TENANT, "email": login.email, "password": login.password});
        let (status, value) = self
            .call(reqwest::Method::POST, base, "/auth/login", None, Some(body))
            .await;
        assert_eq!(status, 200, "sign-in of {} on {base}: {value}", login.email);
        Token(value["token"].as_str().expect("a token").to_owned())
    }

    /// Opens a ticket; the ticket as answered (`number`, `assignee`, ...).
    pub(crate) async fn open_ticket(&self, base: &str, token: &Token, subject: &str) -> Value {
        let body = json!({
            "subject": subject,
            "description": "The colour of my notebooks changed after I opened the app today.",
        });
        self.post(base, "/tickets", token, body, 201).await
    }

    /// Saves an article; its id.
    pub(crate) async fn create_article(
        &self,
        base: &str,
        token: &Token,
        title: &str,
        body: &str,
    ) -> String {
        let article = self
            .post(
                base,
                "/articles",
                token,
                json!({"title": title, "body": body, "tags": ["processes"]}),
                201,
            )
            .await;
        article["id"].as_str().expect("an article id").to_owned()
    }

    /// The article ids of the passages a knowledge-base search on `base` finds.
    pub(crate) async fn search(&self, base: &str, token: &Token, query: &str) -> Vec<String> {
        let query = serde_urlencoded::to_string([("k", "5"), ("q", query)]).expect("a query");
        let url = format!("/articles/search?{query}");
        let (status, value) = self.get(base, &url, token).await;
        assert_eq!(status, 200, "search on {base}: {value}");
        value
            .as_array()
            .expect("passages")
            .iter()
            .filter_map(|p| p["article_id"].as_str().map(str::to_owned))
            .collect()
    }

    /// Asks the chatbot of `base` one question in a new chat; the reply kind and the
    /// article ids its answer cites.
    pub(crate) async fn ask_chatbot(
        &self,
        base: &str,
        token: &Token,
        question: &str,
    ) -> (String, Vec<String>) {
        let session = self.post(base, "/chats", token, json!({}), 201).await;
        let id = session["id"].as_str().expect("a session id");
        let turn = self
            .post(
                base,
                &format!("/chats/{id}/messages"),
                token,
                json!({"text": question}),
                200,
            )
            .await;
        let kind = turn["reply"].as_str().unwrap_or_default().to_owned();
        let cited = turn["reply_message"]["citations"]
            .as_array()
            .map(|c| {
                c.iter()
                    .filter_map(|c| c["article_id"].as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default();
        (kind, cited)
    }

    /// The types of a ticket's events (`sla_breached`, ...), read through `base`.
    pub(crate) async fn event_types(&self, base: &str, staff: &Token, ticket: &str) -> Vec<String> {
        let (status, value) = self
            .get(base, &format!("/tickets/{ticket}/events"), staff)
            .await;
        assert_eq!(status, 200, "events of {ticket}: {value}");
        value
            .as_array()
            .expect("events")
            .iter()
            .filter_map(|e| e["type"].as_str().map(str::to_owned))
            .collect()
    }
}
