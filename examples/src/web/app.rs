//! Application state, the backends it runs on, and the router.

use helpdesk_mail::{MailIngest, ReplyTokenKey};
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::Request;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE, LOCATION};
use axum::http::{HeaderValue, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use helpdesk_core::blob::DynBlobStore;
use helpdesk_core::service::HelpdeskConfig;
use helpdesk_core::store::MemoryStore;
use helpdesk_core::testkit::{FakeEmbedder, InMemoryKnowledgeBase, MemoryBlobStore};
use helpdesk_core::{DynStore, Embedder, Helpdesk, KnowledgeBase, LanguageModel, Notifier};
use helpdesk_kb_search::classifier::LearnedClassifier;

use super::error::{WebResult, error_page};
use super::idle::IdleClock;
use super::mail::{LogMailer, Mailer};
use super::reindex::ReindexJobs;
use super::secret::WebSecret;
use super::signup::DEFAULT_VERIFICATION_TTL;
use super::throttle::{AbuseLimits, Throttles};
use super::{
    admin, agent, attachments, auth, automations, bulk, canned, chat, fields, fields_admin, kb,
    mail_admin, portal, privacy, saved_views, search, session, settings, signup, teams_admin,
};

/// The parts a helpdesk is built from. `main` picks them (demo store and fake embedder
/// today; SQLite, MiniLM and Gemini once wired); the app only sees the traits.
#[derive(Debug, Clone)]
pub struct Backends {
    /// Where everything is stored.
    pub store: DynStore,
    /// The knowledge base the chatbot and the copilot search.
    pub knowledge_base: Option<Arc<dyn KnowledgeBase>>,
    /// The language model (none: offline mode).
    pub model: Option<Arc<dyn LanguageModel>>,
    /// The embedder for similar-ticket drafts and learned triage.
    pub embedder: Option<Arc<dyn Embedder>>,
    /// True when the store keeps nothing across restarts.
    pub demo_store: bool,
    /// Set when the embedder is the deterministic fake because the MiniLM model is not
    /// prepared; says how to prepare it.
    pub embedder_note: Option<String>,
    /// Where attachment bytes live (none: the forms take no files).
    pub blob_store: Option<DynBlobStore>,
}

impl Backends {
    /// Offline demo: in-memory store, deterministic fake embedder, in-memory knowledge base,
    /// no language model.
    pub fn offline_demo() -> Self {
        let embedder: Arc<dyn Embedder> = Arc::new(FakeEmbedder::new());
        Self {
            store: Arc::new(MemoryStore::new()),
            knowledge_base: Some(Arc::new(InMemoryKnowledgeBase::new(embedder.clone()))),
            model: None,
            embedder: Some(embedder),
            demo_store: true,
            embedder_note: None,
            // Kept in memory like the demo store.
            blob_store: Some(Arc::new(MemoryBlobStore::new())),
        }
    }

    /// Builds the helpdesk on these backends (notifications are only logged).
    pub fn build(&self) -> helpdesk_core::Result<Helpdesk> {
        self.build_with_notifier(None)
    }

    /// Builds the helpdesk on these backends, delivering notifications through `notifier`
    /// when given (e.g. [`super::smtp::SmtpNotifier`]).
    pub fn build_with_notifier(
        &self,
        notifier: Option<Arc<dyn Notifier>>,
    ) -> helpdesk_core::Result<Helpdesk> {
        self.build_with_config(notifier, HelpdeskConfig::default())
    }

    /// [`Backends::build_with_notifier`] with the service's tunables `config` (the web
    /// binary's `--lease-seconds` sets its lease time).
    pub fn build_with_config(
        &self,
        notifier: Option<Arc<dyn Notifier>>,
        config: HelpdeskConfig,
    ) -> helpdesk_core::Result<Helpdesk> {
        let mut builder = Helpdesk::builder(self.store.clone()).config(config);
        if let Some(notifier) = notifier {
            builder = builder.notifier(notifier);
        }
        if let Some(kb) = &self.knowledge_base {
            builder = builder.knowledge_base(kb.clone());
        }
        if let Some(model) = &self.model {
            builder = builder.language_model(model.clone());
        }
        if let Some(embedder) = &self.embedder {
            builder = builder.embedder(embedder.clone());
        }
        if let Some(blobs) = &self.blob_store {
            builder = builder.blob_store(blobs.clone());
            // Learned triage keeps its models in the blob store, and embeds with the
            // knowledge base's embedder: trained per tenant by the sweeps once enough
            // tickets are resolved, between the language model and the rules.
            if let Some(embedder) = &self.embedder {
                builder =
                    builder.learned_triage(Arc::new(LearnedClassifier::new(embedder.clone())));
            }
        }
        builder.build()
    }

    /// The banner shown on every page: what runs offline or is not kept.
    pub fn mode_notice(&self) -> String {
        let mut parts = Vec::new();
        if self.model.is_none() {
            parts.push(
                "Offline mode: no language model is configured (set GEMINI_API_KEY, or \
                 OPENAI_BASE_URL for an OpenAI-compatible server). Triage uses \
                 rules, the chatbot answers with knowledge-base passages and drafts are templates \
                 that quote the knowledge base.",
            );
        }
        if let Some(note) = &self.embedder_note {
            parts.push(note.as_str());
        }
        if self.demo_store {
            parts.push("Demo store: data lives in memory and is lost when the server stops.");
        }
        parts.join(" ")
    }
}

/// Options of the web app.
#[derive(Debug, Clone)]
pub struct WebOptions {
    /// The banner shown on every page (see [`Backends::mode_notice`]).
    pub mode_notice: String,
    /// A hint shown on the sign-in page (e.g. where the demo credentials are printed).
    pub demo_hint: String,
    /// Adds `Secure` to cookies; set it when the app is served over HTTPS (see
    /// [`WebOptions::secure_cookies_for`]).
    pub secure_cookies: bool,
    /// A session unused this long ends (besides the helpdesk's session lifetime).
    pub idle_timeout: Duration,
    /// Sign-in, sign-up and ticket rate limits.
    pub limits: AbuseLimits,
    /// Sends the sign-up e-mails (none: [`LogMailer`] writes them to the log).
    pub mailer: Option<Arc<dyn Mailer>>,
    /// The address people reach the app at, for links in e-mails (e.g.
    /// `https://help.example.com`).
    pub public_url: String,
    /// How long a sign-up link works.
    pub verification_ttl: Duration,
    /// The key reply tokens (`support+<token>@`) are signed and checked with; without one,
    /// mail threads by Message-ID and subject tag only.
    pub mail_token_key: Option<ReplyTokenKey>,
    /// What form tokens (CSRF), sign-up links and the idle-session stamp are signed with.
    /// Instances behind one load balancer need the same (`helpdesk-web` derives it from
    /// `MAIL_TOKEN_KEY` or its key file: [`super::smtp::app_secret`]); without one, a random
    /// secret of this process is used, and forms served before a restart are refused after
    /// it.
    pub secret: Option<WebSecret>,
}

/// Default [`WebOptions::idle_timeout`]: half an hour.
pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(30 * 60);

impl Default for WebOptions {
    fn default() -> Self {
        Self {
            mode_notice: String::new(),
            demo_hint: String::new(),
            secure_cookies: false,
            idle_timeout: DEFAULT_IDLE_TIMEOUT,
            limits: AbuseLimits::default(),
            mailer: None,
            public_url: "http://127.0.0.1:8080".into(),
            verification_ttl: DEFAULT_VERIFICATION_TTL,
            mail_token_key: None,
            secret: None,
        }
    }
}

impl WebOptions {
    /// Whether cookies must be `Secure` for a site reached at `public_url`: true for
    /// `https://` addresses.
    pub fn secure_cookies_for(public_url: &str) -> bool {
        public_url
            .trim()
            .get(..8)
            .is_some_and(|scheme| scheme.eq_ignore_ascii_case("https://"))
    }
}

/// Shared state of the web app. Cheap to clone.
#[derive(Clone)]
pub struct AppState {
    inner: Arc<StateInner>,
}

struct StateInner {
    helpdesk: Helpdesk,
    knowledge_base: Option<Arc<dyn KnowledgeBase>>,
    secret: WebSecret,
    options: WebOptions,
    reindex_jobs: Arc<ReindexJobs>,
    throttles: Throttles,
    idle: IdleClock,
    mailer: Arc<dyn Mailer>,
    mail_ingest: MailIngest,
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState")
            .field("helpdesk", &self.inner.helpdesk)
            .field("options", &self.inner.options)
            .finish_non_exhaustive()
    }
}

impl AppState {
    /// State for `helpdesk`, signing with `options.secret` (a fresh random one without).
    /// `knowledge_base` is the one the helpdesk searches; the admin pages index articles
    /// into it.
    pub fn new(
        helpdesk: Helpdesk,
        knowledge_base: Option<Arc<dyn KnowledgeBase>>,
        options: WebOptions,
    ) -> helpdesk_core::Result<Self> {
        let secret = match &options.secret {
            Some(secret) => secret.clone(),
            None => WebSecret::random()?,
        };
        let mut mail_ingest = MailIngest::new(helpdesk.clone());
        if let Some(key) = &options.mail_token_key {
            mail_ingest = mail_ingest.with_reply_token_key(key.clone());
        }
        Ok(Self {
            inner: Arc::new(StateInner {
                mail_ingest,
                helpdesk,
                knowledge_base,
                idle: IdleClock::new(options.idle_timeout, secret.clone()),
                secret,
                throttles: Throttles::new(&options.limits),
                mailer: options
                    .mailer
                    .clone()
                    .unwrap_or_else(|| Arc::new(LogMailer)),
                options,
                reindex_jobs: Arc::default(),
            }),
        })
    }

    /// The helpdesk.
    pub fn helpdesk(&self) -> &Helpdesk {
        &self.inner.helpdesk
    }

    /// The door inbound e-mail comes through (the quarantine page re-ingests with it).
    pub(crate) fn mail_ingest(&self) -> &MailIngest {
        &self.inner.mail_ingest
    }

    pub(crate) fn knowledge_base(&self) -> Option<&Arc<dyn KnowledgeBase>> {
        self.inner.knowledge_base.as_ref()
    }

    pub(crate) fn reindex_jobs(&self) -> &Arc<ReindexJobs> {
        &self.inner.reindex_jobs
    }

    pub(crate) fn secret(&self) -> &WebSecret {
        &self.inner.secret
    }

    pub(crate) fn mode_notice(&self) -> &str {
        &self.inner.options.mode_notice
    }

    pub(crate) fn secure_cookies(&self) -> bool {
        self.inner.options.secure_cookies
    }

    pub(crate) fn demo_hint(&self) -> &str {
        &self.inner.options.demo_hint
    }

    pub(crate) fn throttles(&self) -> &Throttles {
        &self.inner.throttles
    }

    pub(crate) fn idle_clock(&self) -> &IdleClock {
        &self.inner.idle
    }

    pub(crate) fn mailer(&self) -> Arc<dyn Mailer> {
        self.inner.mailer.clone()
    }

    pub(crate) fn public_url(&self) -> &str {
        &self.inner.options.public_url
    }

    pub(crate) fn verification_ttl(&self) -> Duration {
        self.inner.options.verification_ttl
    }
}

const APP_CSS: &str = include_str!("../../static/app.css");
const CHAT_JS: &str = include_str!("../../static/chat.js");
const TIME_JS: &str = include_str!("../../static/time.js");
const LIVE_JS: &str = include_str!("../../static/live.js");
const ATTACH_JS: &str = include_str!("../../static/attach.js");

fn script(source: &'static str) -> Response {
    (
        [
            (CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (CACHE_CONTROL, "max-age=3600"),
        ],
        source,
    )
        .into_response()
}

async fn chat_script() -> Response {
    script(CHAT_JS)
}

/// Times in the viewer's zone, with relative times (see `static/time.js`).
async fn time_script() -> Response {
    script(TIME_JS)
}

/// Files dropped on a form join its file input (see `static/attach.js`).
async fn attach_script() -> Response {
    script(ATTACH_JS)
}

/// Live pages refreshed from the event stream (see `static/live.js`).
async fn live_script() -> Response {
    script(LIVE_JS)
}

async fn stylesheet() -> Response {
    (
        [
            (CONTENT_TYPE, "text/css; charset=utf-8"),
            (CACHE_CONTROL, "max-age=3600"),
        ],
        APP_CSS,
    )
        .into_response()
}

/// Sends a signed-out visitor of a page to sign in with `?next=` set to that page, so that
/// the sign-in form can bring them back to it (a link in an e-mail, a bookmark) instead of
/// to their home page. Only `GET`s are remembered: a form post cannot be replayed by a
/// redirect, and `/` has nothing to remember.
async fn remember_deep_link(request: Request, next: Next) -> Response {
    let wanted = (request.method() == Method::GET)
        .then(|| {
            request
                .uri()
                .path_and_query()
                .map(|p| p.as_str().to_string())
        })
        .flatten()
        .filter(|p| p != "/" && auth::safe_next(p).is_some());
    let mut response = next.run(request).await;
    let to_login = response.status() == StatusCode::SEE_OTHER
        && response
            .headers()
            .get(LOCATION)
            .is_some_and(|l| l == "/login");
    if let Some(wanted) = wanted.filter(|_| to_login) {
        let query = serde_urlencoded::to_string([("next", wanted.as_str())]).ok();
        if let Some(value) = query.and_then(|q| HeaderValue::from_str(&format!("/login?{q}")).ok())
        {
            response.headers_mut().insert(LOCATION, value);
        }
    }
    response
}

async fn not_found() -> Response {
    error_page(StatusCode::NOT_FOUND, "That page does not exist.")
}

/// `GET /health`.
async fn health() -> WebResult<&'static str> {
    Ok("ok")
}

/// The whole app: the JSON API at `/api/v1` (bearer tokens and API keys; the session
/// cookie for reads; see `web/api_mount.rs`) and every page, behind the session/CSRF
/// layer.
pub fn router(state: AppState) -> Router {
    let api = super::api_mount::api_router(&state);
    Router::new()
        .nest(super::api_mount::API_PREFIX, api)
        .merge(pages(state))
}

fn pages(state: AppState) -> Router {
    Router::new()
        .route("/", get(auth::root))
        .route("/health", get(health))
        .route("/static/app.css", get(stylesheet))
        .route("/static/chat.js", get(chat_script))
        .route("/static/time.js", get(time_script))
        .route("/static/live.js", get(live_script))
        .route("/static/attach.js", get(attach_script))
        .route("/login", get(auth::login_page).post(auth::login_submit))
        .route("/logout", post(auth::logout))
        .route(
            "/register",
            get(signup::register_page).post(signup::register_submit),
        )
        .route(
            "/register/verify",
            get(signup::verify_link).post(signup::verify_submit),
        )
        .route(
            "/register-company",
            get(auth::register_company_page).post(auth::register_company_submit),
        )
        .merge(portal::routes())
        .merge(attachments::routes())
        .merge(chat::routes())
        .merge(agent::routes())
        .merge(canned::routes())
        .merge(bulk::routes())
        .merge(search::routes())
        .merge(fields::routes())
        .merge(fields_admin::routes())
        .merge(automations::routes())
        .merge(teams_admin::routes())
        .merge(privacy::routes())
        .merge(saved_views::routes())
        .merge(admin::routes())
        .merge(kb::routes())
        .merge(settings::routes())
        .merge(mail_admin::routes())
        .fallback(not_found)
        .layer(middleware::from_fn(remember_deep_link))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            session::session_layer,
        ))
        .with_state(state)
}
