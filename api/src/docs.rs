//! The OpenAPI document at `openapi.json` and the interactive page at `docs/`.
//!
//! Links stay relative so the API works under any prefix: the page at `docs/` loads
//! `../openapi.json`, and `docs` redirects to `docs/` with a relative `Location`.

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use crate::ApiState;

pub(crate) fn router(page: bool) -> Router<ApiState> {
    let router = Router::new().route("/openapi.json", get(openapi_json));
    if page { with_page(router) } else { router }
}

async fn openapi_json(State(state): State<ApiState>) -> Response {
    axum::Json(state.openapi()).into_response()
}

#[cfg(feature = "swagger-ui")]
fn with_page(router: Router<ApiState>) -> Router<ApiState> {
    router
        .route("/docs", get(redirect_to_page))
        .route("/docs/", get(page_file))
        .route("/docs/{*file}", get(page_file))
}

#[cfg(not(feature = "swagger-ui"))]
fn with_page(router: Router<ApiState>) -> Router<ApiState> {
    router
}

#[cfg(feature = "swagger-ui")]
async fn redirect_to_page() -> Response {
    (
        StatusCode::MOVED_PERMANENTLY,
        [(header::LOCATION, HeaderValue::from_static("docs/"))],
    )
        .into_response()
}

#[cfg(feature = "swagger-ui")]
async fn page_file(file: Option<axum::extract::Path<String>>) -> Response {
    use std::sync::{Arc, LazyLock};
    static CONFIG: LazyLock<Arc<utoipa_swagger_ui::Config<'static>>> =
        LazyLock::new(|| Arc::new(utoipa_swagger_ui::Config::from("../openapi.json")));
    let path = file.map(|axum::extract::Path(p)| p).unwrap_or_default();
    match utoipa_swagger_ui::serve(&path, Arc::clone(&CONFIG)) {
        Ok(Some(file)) => (
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_str(&file.content_type)
                    .unwrap_or(HeaderValue::from_static("application/octet-stream")),
            )],
            file.bytes.into_owned(),
        )
            .into_response(),
        Ok(None) => StatusCode::NOT_FOUND.into_response(),
        Err(error) => {
            tracing::error!(%error, "serving the API docs page failed");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}
