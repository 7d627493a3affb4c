//! Admin pages for knowledge-base articles: list, create, edit, delete, import markdown
//! and reindex. Every write is a `Helpdesk` use case (role check, validation, audit event,
//! knowledge-base index).

use askama::Template;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use helpdesk_core::ArticleId;
use helpdesk_core::domain::Article;
use helpdesk_core::roles::{Action, authorize};
use helpdesk_core::service::{ArticleInput, check_import_size};
use serde::Deserialize;

use super::admin::skill_list;
use super::app::AppState;
use super::error::{WebError, WebResult};
use super::form::{FormError, refused};
use super::reindex::ReindexProgress;
use super::seed::parse_markdown_article;
use super::session::{AdminUser, AnyUser, Ctx};
use super::views::{Page, Time, fmt_time, html};

/// The knowledge-base routes.
pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin/kb", get(articles).post(create_article))
        .route("/admin/kb/new", get(new_article_page))
        .route("/admin/kb/import", post(import_articles))
        .route("/admin/kb/reindex", post(reindex))
        .route("/admin/kb/{id}", get(edit_article_page).post(save_article))
        .route(
            "/admin/kb/{id}/delete",
            get(confirm_delete_page).post(delete_article),
        )
        .route("/help/{id}", get(help_article))
}

#[derive(Template)]
#[template(path = "help_article.html")]
struct HelpArticlePage {
    page: Page,
    body: String,
    tags: String,
}

/// `GET /help/{id}`: a knowledge-base article, for any signed-in user of the tenant (the
/// chatbot's citations link here).
async fn help_article(
    State(state): State<AppState>,
    AnyUser(ctx): AnyUser,
    Path(id): Path<String>,
) -> WebResult<Response> {
    let article = load_article(&state, &ctx, article_id(&id)?).await?;
    html(&HelpArticlePage {
        page: ctx.page(&state, &article.title),
        body: article.body,
        tags: article.tags.join(", "),
    })
}

/// An article row.
#[derive(Debug, Clone)]
struct ArticleRow {
    id: String,
    title: String,
    tags: String,
    updated: Time,
}

#[derive(Template)]
#[template(path = "admin_kb.html")]
struct ArticlesPage {
    page: Page,
    articles: Vec<ArticleRow>,
    indexed: bool,
    /// The latest reindex job of the tenant.
    reindex: Option<ReindexProgress>,
    /// Why the last import was refused (field `markdown`) and what was pasted.
    error: FormError,
    markdown: String,
}

fn manage(ctx: &Ctx) -> WebResult<()> {
    authorize(&ctx.actor, Action::ManageArticles)?;
    Ok(())
}

async fn articles(State(state): State<AppState>, AdminUser(ctx): AdminUser) -> WebResult<Response> {
    render_articles(&state, &ctx, FormError::default(), String::new()).await
}

/// The article list with the import form; after a refused import, its error and text.
async fn render_articles(
    state: &AppState,
    ctx: &Ctx,
    error: FormError,
    markdown: String,
) -> WebResult<Response> {
    manage(ctx)?;
    let mut list = state.helpdesk().list_articles(&ctx.actor).await?;
    list.sort_by_key(|a| a.title.to_lowercase());
    html(&ArticlesPage {
        page: ctx.page(state, "Knowledge base"),
        articles: list
            .into_iter()
            .map(|a| ArticleRow {
                id: a.id.to_string(),
                title: a.title,
                tags: a.tags.join(", "),
                updated: fmt_time(a.updated_at),
            })
            .collect(),
        indexed: state.knowledge_base().is_some(),
        reindex: state.reindex_jobs().progress(ctx.actor.tenant_id),
        error,
        markdown,
    })
}

#[derive(Template)]
#[template(path = "admin_article.html")]
struct ArticlePage {
    page: Page,
    /// Empty for a new article.
    id: String,
    title: String,
    tags: String,
    body: String,
    /// Why the last save was refused, at its field (`title`, `tags`, `body`).
    error: FormError,
}

async fn new_article_page(
    State(state): State<AppState>,
    AdminUser(ctx): AdminUser,
) -> WebResult<Response> {
    manage(&ctx)?;
    html(&ArticlePage {
        page: ctx.page(&state, "New article"),
        id: String::new(),
        title: String::new(),
        tags: String::new(),
        body: String::new(),
        error: FormError::default(),
    })
}

fn article_id(raw: &str) -> WebResult<ArticleId> {
    raw.parse()
        .map_err(|_| WebError::bad_input("article id", "not an article id"))
}

async fn edit_article_page(
    State(state): State<AppState>,
    AdminUser(ctx): AdminUser,
    Path(id): Path<String>,
) -> WebResult<Response> {
    manage(&ctx)?;
    let article = load_article(&state, &ctx, article_id(&id)?).await?;
    html(&ArticlePage {
        page: ctx.page(&state, "Edit article"),
        id: article.id.to_string(),
        title: article.title,
        tags: article.tags.join(", "),
        body: article.body,
        error: FormError::default(),
    })
}

async fn load_article(state: &AppState, ctx: &Ctx, id: ArticleId) -> WebResult<Article> {
    Ok(state.helpdesk().get_article(&ctx.actor, id).await?)
}

/// The article form (a missing field is refused on the form like an empty one).
#[derive(Default, Deserialize)]
#[serde(default)]
struct ArticleForm {
    title: String,
    tags: String,
    body: String,
}

/// The form as a use-case input; the helpdesk validates it (title, body, tags).
fn input(form: &ArticleForm) -> ArticleInput {
    ArticleInput {
        title: form.title.clone(),
        body: form.body.clone(),
        tags: skill_list(&form.tags),
    }
}

/// The outcome of an article save: the list with a confirmation, or the form again with
/// what was typed and the refusal at its field.
fn saved_or_refused(
    state: &AppState,
    ctx: &Ctx,
    id: String,
    form: ArticleForm,
    result: helpdesk_core::Result<Article>,
) -> WebResult<Response> {
    let e = match result {
        Ok(_) => return Ok(Redirect::to("/admin/kb?done=article-saved").into_response()),
        Err(e) => e,
    };
    let labels = [("title", "Title"), ("tags", "Tags"), ("body", "Body")];
    let Some(error) = FormError::from_core(&e, &labels) else {
        return Err(e.into());
    };
    let title = if id.is_empty() {
        "New article"
    } else {
        "Edit article"
    };
    refused(html(&ArticlePage {
        page: ctx.page(state, title),
        id,
        title: form.title,
        tags: form.tags,
        body: form.body,
        error,
    }))
}

async fn create_article(
    State(state): State<AppState>,
    AdminUser(ctx): AdminUser,
    Form(form): Form<ArticleForm>,
) -> WebResult<Response> {
    manage(&ctx)?;
    let result = state
        .helpdesk()
        .create_article(&ctx.actor, input(&form))
        .await;
    saved_or_refused(&state, &ctx, String::new(), form, result)
}

async fn save_article(
    State(state): State<AppState>,
    AdminUser(ctx): AdminUser,
    Path(id): Path<String>,
    Form(form): Form<ArticleForm>,
) -> WebResult<Response> {
    manage(&ctx)?;
    let article = load_article(&state, &ctx, article_id(&id)?).await?;
    let result = state
        .helpdesk()
        .update_article(&ctx.actor, article.id, article.version, input(&form))
        .await;
    saved_or_refused(&state, &ctx, article.id.to_string(), form, result)
}

#[derive(Template)]
#[template(path = "admin_kb_delete.html")]
struct ConfirmDeletePage {
    page: Page,
    id: String,
    title: String,
}

/// `GET /admin/kb/{id}/delete`: asks before deleting (the list's Delete button leads here).
async fn confirm_delete_page(
    State(state): State<AppState>,
    AdminUser(ctx): AdminUser,
    Path(id): Path<String>,
) -> WebResult<Response> {
    manage(&ctx)?;
    let article = load_article(&state, &ctx, article_id(&id)?).await?;
    html(&ConfirmDeletePage {
        page: ctx.page(&state, "Delete article?"),
        id: article.id.to_string(),
        title: article.title,
    })
}

/// The delete confirmation.
#[derive(Deserialize)]
struct DeleteForm {
    #[serde(default)]
    confirm: String,
}

/// `POST /admin/kb/{id}/delete`: deletes only with `confirm=yes` (from the question page);
/// anything else goes to the question.
async fn delete_article(
    State(state): State<AppState>,
    AdminUser(ctx): AdminUser,
    Path(id): Path<String>,
    Form(form): Form<DeleteForm>,
) -> WebResult<Redirect> {
    manage(&ctx)?;
    let article = article_id(&id)?;
    if form.confirm != "yes" {
        return Ok(Redirect::to(&format!("/admin/kb/{article}/delete")));
    }
    state.helpdesk().delete_article(&ctx.actor, article).await?;
    Ok(Redirect::to("/admin/kb?done=article-deleted"))
}

/// The markdown import form: one or more articles separated by a line `---`.
#[derive(Default, Deserialize)]
#[serde(default)]
struct ImportForm {
    markdown: String,
}

async fn import_articles(
    State(state): State<AppState>,
    AdminUser(ctx): AdminUser,
    Form(form): Form<ImportForm>,
) -> WebResult<Response> {
    manage(&ctx)?;
    let error = match import(&state, &ctx, &form.markdown).await {
        Ok(()) => return Ok(Redirect::to("/admin/kb?done=articles-imported").into_response()),
        Err(error) => error?,
    };
    // A text over the limit is not sent back (it would make the page as large).
    let markdown = if check_import_size("markdown", &form.markdown).is_ok() {
        form.markdown
    } else {
        String::new()
    };
    refused(render_articles(&state, &ctx, error, markdown).await)
}

/// Imports `markdown`; `Err(Ok(_))` is a refusal to show on the form, `Err(Err(_))` a
/// failure.
async fn import(state: &AppState, ctx: &Ctx, markdown: &str) -> Result<(), WebResult<FormError>> {
    let refusal = |e: helpdesk_core::Error, article: Option<usize>| {
        let what = article.map_or_else(String::new, |n| format!("article {n}: "));
        match FormError::from_core(&e, &[]) {
            Some(_) => Ok(FormError::new(
                "markdown",
                match &e {
                    helpdesk_core::Error::Validation { field, message } => {
                        format!("Articles in markdown: {what}{field} {message}")
                    }
                    other => format!("Articles in markdown: {what}{other}"),
                },
            )),
            None => Err(WebError::from(e)),
        }
    };
    // Documented limit (core `MAX_IMPORT_BYTES`): indexing is what an import costs.
    check_import_size("markdown", markdown).map_err(|e| refusal(e, None))?;
    let normalized = markdown.replace("\r\n", "\n");
    let mut parsed = Vec::new();
    for (i, part) in normalized
        .split("\n---\n")
        .filter(|p| !p.trim().is_empty())
        .enumerate()
    {
        parsed.push(parse_markdown_article(part).map_err(|e| refusal(e, Some(i + 1)))?);
    }
    if parsed.is_empty() {
        return Err(Ok(FormError::new(
            "markdown",
            "Articles in markdown: paste at least one article",
        )));
    }
    for (i, (title, tags, body)) in parsed.into_iter().enumerate() {
        let input = ArticleInput { title, body, tags };
        state
            .helpdesk()
            .create_article(&ctx.actor, input)
            .await
            .map_err(|e| refusal(e, Some(i + 1)))?;
    }
    Ok(())
}

async fn reindex(State(state): State<AppState>, AdminUser(ctx): AdminUser) -> WebResult<Redirect> {
    manage(&ctx)?;
    if state.helpdesk().knowledge_base().is_none() {
        return Err(WebError::bad_input("knowledge base", "none is configured"));
    }
    let articles = state.helpdesk().list_articles(&ctx.actor).await?;
    // A second click while a job runs just shows its progress.
    state
        .reindex_jobs()
        .start(state.helpdesk().clone(), ctx.actor.clone(), articles.len());
    Ok(Redirect::to("/admin/kb"))
}
