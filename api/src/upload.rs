//! Request bodies that may carry files: JSON as everywhere else, or `multipart/form-data`
//! with a `json` part (the same JSON object) and one `attachments` part per file.
//!
//! Limits. The API's body limit (2 MiB by default) holds for a JSON body and for the
//! `json` part. Files are held to the caller's tenant limits instead: at most
//! `attachments_per_message` parts of at most `attachment_max_bytes` each, checked while
//! the body streams in, so a file past the limit is refused one chunk after it crosses it,
//! never buffered whole; the whole body is capped at what those limits allow plus the JSON
//! part and the multipart framing. Only the routes that take files lift the router's
//! global body limit (`routes::uploads`), and this extractor puts its own in its place.

use axum::body::Body;
use axum::extract::multipart::{Field, MultipartError};
use axum::extract::{FromRequest, FromRequestParts, Multipart, Request};
use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderMap, StatusCode};
use helpdesk_core::domain::TenantSettings;
use helpdesk_core::service::NewAttachment;
use http_body_util::Limited;
use serde::de::DeserializeOwned;

use crate::ApiState;
use crate::auth::Caller;
use crate::extract::{Json, parse_json};
use crate::problem::Problem;

/// The name of the multipart part that holds the request's JSON object.
pub(crate) const JSON_PART: &str = "json";
/// The name of each multipart part that holds a file (also the field a problem about a
/// file names: `attachments[2]`, as the engine's own checks do).
pub(crate) const FILE_PART: &str = "attachments";
/// What the framing of one part (its boundary and headers) may add to the body.
const PART_OVERHEAD: u64 = 16 * 1024;

/// A request body with the files that came with it (none for a JSON body).
#[derive(Debug)]
pub(crate) struct WithFiles<T> {
    /// The request's JSON object.
    pub(crate) request: T,
    /// The files, in the order they were sent.
    pub(crate) files: Vec<NewAttachment>,
}

/// The media type of a request, lowercase, without parameters.
fn media_type(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(CONTENT_TYPE)?.to_str().ok()?;
    Some(value.split(';').next()?.trim().to_ascii_lowercase())
}

impl<T> FromRequest<ApiState> for WithFiles<T>
where
    T: DeserializeOwned + Send,
{
    type Rejection = Problem;

    async fn from_request(req: Request, state: &ApiState) -> Result<Self, Problem> {
        let media = media_type(req.headers()).unwrap_or_default();
        if media == "multipart/form-data" {
            return read_multipart(req, state).await;
        }
        if media != "application/json" && !media.ends_with("+json") {
            return Err(Problem::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "Unsupported media type",
            )
            .detail(
                "send the body as application/json, or as multipart/form-data with a `json` \
                 part and `attachments` parts",
            ));
        }
        // The route lifted the router's limit for files; JSON keeps the usual one.
        let limit = state.body_limit();
        let req = req.map(|body| Body::new(Limited::new(body, limit)));
        let Json(request) = Json::<T>::from_request(req, state).await?;
        Ok(Self {
            request,
            files: Vec::new(),
        })
    }
}

/// The tenant's limits on files, as this body reader applies them.
#[derive(Debug, Clone, Copy)]
struct FileLimits {
    max_bytes: u64,
    max_count: usize,
}

impl FileLimits {
    fn of(settings: &TenantSettings) -> Self {
        Self {
            max_bytes: settings.attachment_max_bytes,
            max_count: usize::try_from(settings.attachments_per_message).unwrap_or(usize::MAX),
        }
    }

    /// The largest body these limits let through: every file at its largest, the JSON
    /// part at its largest, and the framing of each part (one more file part than
    /// allowed is read far enough to be refused by name).
    fn body_cap(self, json_limit: u64) -> usize {
        let parts = u64::try_from(self.max_count).unwrap_or(u64::MAX);
        let cap = self
            .max_bytes
            .saturating_mul(parts)
            .saturating_add(json_limit)
            .saturating_add(PART_OVERHEAD.saturating_mul(parts.saturating_add(2)));
        usize::try_from(cap).unwrap_or(usize::MAX)
    }
}

async fn read_multipart<T: DeserializeOwned>(
    req: Request,
    state: &ApiState,
) -> Result<WithFiles<T>, Problem> {
    let (mut parts, body) = req.into_parts();
    // The handler's `Caller` ran first; this reads the actor it left (or refuses, 401).
    let Caller(actor) = Caller::from_request_parts(&mut parts, state).await?;
    let settings = state.helpdesk().get_tenant(&actor).await?.settings;
    let limits = FileLimits::of(&settings);
    let json_limit = u64::try_from(state.body_limit()).unwrap_or(u64::MAX);
    let body = Body::new(Limited::new(body, limits.body_cap(json_limit)));
    let mut multipart = Multipart::from_request(Request::from_parts(parts, body), state)
        .await
        .map_err(|e| Problem::bad_request(e.body_text()))?;
    let mut json = None;
    let mut files = Vec::new();
    while let Some(mut field) = multipart
        .next_field()
        .await
        .map_err(|e| multipart_problem(&e, None))?
    {
        let name = field.name().unwrap_or_default().to_string();
        match name.as_str() {
            JSON_PART => {
                if json.is_some() {
                    return Err(Problem::validation(JSON_PART, "sent more than once"));
                }
                json = Some(read_part(&mut field, json_limit, JSON_PART).await?);
            }
            FILE_PART => {
                let file_name = field.file_name().unwrap_or_default().to_string();
                let index = files.len();
                let at = format!("{FILE_PART}[{index}]");
                let bytes = read_part(&mut field, limits.max_bytes, &at).await?;
                if bytes.is_empty() && file_name.is_empty() {
                    // A form's file input with nothing chosen: no file.
                    continue;
                }
                if index >= limits.max_count {
                    return Err(Problem::validation(
                        FILE_PART,
                        format!("at most {} files per message", limits.max_count),
                    ));
                }
                files.push(NewAttachment::new(file_name, bytes));
            }
            "" => return Err(Problem::bad_request("a multipart part has no name")),
            other => {
                return Err(Problem::validation(
                    other,
                    "unknown part: send a `json` part and `attachments` parts",
                ));
            }
        }
    }
    let json = json.ok_or_else(|| {
        Problem::validation(
            JSON_PART,
            "missing: send the request object as a `json` part",
        )
    })?;
    Ok(WithFiles {
        request: parse_json(&json)?,
        files,
    })
}

/// The bytes of one part, refused as too large (naming `field`) once they pass `limit`.
async fn read_part(field: &mut Field<'_>, limit: u64, name: &str) -> Result<Vec<u8>, Problem> {
    let mut bytes = Vec::new();
    while let Some(chunk) = field
        .chunk()
        .await
        .map_err(|e| multipart_problem(&e, Some(name)))?
    {
        let size = u64::try_from(bytes.len() + chunk.len()).unwrap_or(u64::MAX);
        if size > limit {
            return Err(too_large(
                Some(name),
                format!("is larger than the limit of {limit} bytes"),
            ));
        }
        bytes.extend_from_slice(&chunk);
    }
    Ok(bytes)
}

fn too_large(field: Option<&str>, detail: String) -> Problem {
    let problem = Problem::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "too_large",
        "Request body too large",
    )
    .detail(detail);
    match field {
        Some(field) => problem.field(field),
        None => problem,
    }
}

/// A multipart body that cannot be read: too large for the limits (413, naming the part
/// being read), or malformed (400).
fn multipart_problem(e: &MultipartError, field: Option<&str>) -> Problem {
    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        too_large(
            field,
            "the request body is larger than the tenant's attachment limits allow".into(),
        )
    } else {
        Problem::bad_request(format!("malformed multipart body: {}", e.body_text()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_body_cap_covers_every_file_and_the_json_part() {
        let limits = FileLimits {
            max_bytes: 1000,
            max_count: 3,
        };
        let cap = limits.body_cap(500);
        assert!(cap >= 3 * 1000 + 500, "{cap}");
        assert!(cap < 3 * 1000 + 500 + 6 * PART_OVERHEAD as usize, "{cap}");
        let huge = FileLimits {
            max_bytes: u64::MAX,
            max_count: usize::MAX,
        };
        assert_eq!(huge.body_cap(u64::MAX), usize::MAX);
    }
}
