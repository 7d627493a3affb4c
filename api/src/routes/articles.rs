//! Knowledge-base articles: everyone of the tenant reads and searches them, admins and
//! agents with the right write them. Articles carry their version as the `ETag`.

use axum::extract::{OriginalUri, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use helpdesk_core::ArticleId;
use helpdesk_core::service::ArticleInput;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use super::drafts::ScoredPassage;
use crate::ApiState;
use crate::auth::Caller;
use crate::extract::{Json, Path, Query};
use crate::headers::{IfMatch, etag};
use crate::problem::{ApiResult, Problem};
use crate::resources::ArticleResource;

fn article_response(status: StatusCode, article: helpdesk_core::domain::Article) -> Response {
    let version = article.version;
    (
        status,
        etag(version),
        axum::Json(ArticleResource::from(article)),
    )
        .into_response()
}

/// The tenant's articles.
#[utoipa::path(get, path = "/articles", tag = "kb",
    responses(
        (status = 200, body = Vec<ArticleResource>),
    ))]
pub(crate) async fn list_articles(
    State(state): State<ApiState>,
    Caller(actor): Caller,
) -> ApiResult<axum::Json<Vec<ArticleResource>>> {
    let articles = state.helpdesk().list_articles(&actor).await?;
    Ok(axum::Json(articles.into_iter().map(Into::into).collect()))
}

/// An article's content.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ArticleRequest {
    /// Title.
    title: String,
    /// Markdown body.
    body: String,
    /// Tags.
    #[serde(default)]
    tags: Vec<String>,
}

impl From<ArticleRequest> for ArticleInput {
    fn from(r: ArticleRequest) -> Self {
        ArticleInput {
            title: r.title,
            body: r.body,
            tags: r.tags,
        }
    }
}

/// Write a new article (indexed for search and the chatbot in the background).
#[utoipa::path(post, path = "/articles", tag = "kb",
    request_body = ArticleRequest,
    responses(
        (status = 201, body = ArticleResource),
        (status = 403, description = "Not allowed for the caller's role"),
        (status = 422, description = "Invalid input (the problem names the field)"),
    ))]
pub(crate) async fn create_article(
    State(state): State<ApiState>,
    Caller(actor): Caller,
    OriginalUri(uri): OriginalUri,
    Json(request): Json<ArticleRequest>,
) -> ApiResult<Response> {
    let article = state
        .helpdesk()
        .create_article(&actor, request.into())
        .await?;
    let location = format!("{}/{}", uri.path().trim_end_matches('/'), article.id);
    let mut response = article_response(StatusCode::CREATED, article);
    if let Ok(location) = HeaderValue::from_str(&location) {
        response.headers_mut().insert(header::LOCATION, location);
    }
    Ok(response)
}

/// An article.
#[utoipa::path(get, path = "/articles/{id}", tag = "kb",
    params(("id" = ArticleId, Path, description = "Article id")),
    responses(
        (status = 200, body = ArticleResource),
        (status = 404, description = "Not found (another tenant's ids too)"),
    ))]
pub(crate) async fn get_article(
    State(state): State<ApiState>,
    Caller(actor): Caller,
    Path(id): Path<ArticleId>,
) -> ApiResult<Response> {
    let article = state.helpdesk().get_article(&actor, id).await?;
    Ok(article_response(StatusCode::OK, article))
}

/// Replace an article's content. With `If-Match`, only if it is still at that version;
/// without, over whatever version is current.
#[utoipa::path(put, path = "/articles/{id}", tag = "kb",
    params(("id" = ArticleId, Path, description = "Article id"),
           ("If-Match" = Option<String>, Header, description = "The ETag the change expects")),
    request_body = ArticleRequest,
    responses(
        (status = 200, body = ArticleResource),
        (status = 403, description = "Not allowed for the caller's role"),
        (status = 404, description = "Not found (another tenant's ids too)"),
        (status = 409, description = "Conflicts with the current state"),
        (status = 412, description = "The `If-Match` version no longer holds"),
        (status = 422, description = "Invalid input (the problem names the field)"),
    ))]
pub(crate) async fn update_article(
    State(state): State<ApiState>,
    Caller(actor): Caller,
    Path(id): Path<ArticleId>,
    IfMatch(expected): IfMatch,
    Json(request): Json<ArticleRequest>,
) -> ApiResult<Response> {
    let helpdesk = state.helpdesk();
    let current = helpdesk.get_article(&actor, id).await?;
    let version = match expected {
        Some(v) if v != current.version => {
            return Err(Problem::precondition_failed(format!(
                "article is at version {}, not {v}",
                current.version
            )));
        }
        Some(v) => v,
        None => current.version,
    };
    let article = helpdesk
        .update_article(&actor, id, version, request.into())
        .await
        .map_err(|e| match e {
            // The store compared the version in the write itself: someone changed it
            // between our read and the write.
            helpdesk_core::Error::Conflict { .. } if expected.is_some() => {
                Problem::precondition_failed("article changed while it was being saved")
            }
            other => Problem::from(other),
        })?;
    Ok(article_response(StatusCode::OK, article))
}

/// Delete an article (and its passages from search).
#[utoipa::path(delete, path = "/articles/{id}", tag = "kb",
    params(("id" = ArticleId, Path, description = "Article id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 403, description = "Not allowed for the caller's role"),
        (status = 404, description = "Not found (another tenant's ids too)"),
    ))]
pub(crate) async fn delete_article(
    State(state): State<ApiState>,
    Caller(actor): Caller,
    Path(id): Path<ArticleId>,
) -> ApiResult<StatusCode> {
    state.helpdesk().delete_article(&actor, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A search.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct SearchParams {
    /// What to look for (1 to 500 characters).
    q: String,
    /// How many passages, 1 to 20 (default 5).
    k: Option<usize>,
}

/// Search the knowledge base by meaning: the passages closest to the query.
#[utoipa::path(get, path = "/articles/search", tag = "kb", params(SearchParams),
    responses(
        (status = 200, body = Vec<ScoredPassage>),
        (status = 422, description = "Invalid input (the problem names the field)"),
    ))]
pub(crate) async fn search_articles(
    State(state): State<ApiState>,
    Caller(actor): Caller,
    Query(params): Query<SearchParams>,
) -> ApiResult<axum::Json<Vec<ScoredPassage>>> {
    let q = params.q.trim();
    let length = q.chars().count();
    if length == 0 || length > 500 || q.chars().any(char::is_control) {
        return Err(Problem::validation(
            "q",
            "must be 1 to 500 characters without control characters",
        ));
    }
    let k = params.k.unwrap_or(5);
    if !(1..=20).contains(&k) {
        return Err(Problem::validation("k", "must be 1 to 20"));
    }
    // Any member of the tenant may search; the helpdesk first catches this instance's index
    // up with the store when its last catch-up is older than `kb_sync_interval`.
    let passages = state.helpdesk().search_knowledge_base(&actor, q, k).await?;
    Ok(axum::Json(passages.into_iter().map(Into::into).collect()))
}
