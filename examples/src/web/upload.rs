//! Forms with files: the new ticket, the replies and the internal note send
//! `multipart/form-data` with a file input named `attachments`.
//!
//! - CSRF: [`csrf_first`] reads the form's first part, which must be `csrf` (every form of
//!   the app has its token as its first field), and hands the body on unbuffered; the
//!   session layer refuses the post when it is missing or wrong, before a handler reads
//!   anything of it.
//! - Limits: [`UploadForm`] reads the body with the signed-in user's tenant limits (files
//!   per message, bytes per file), text fields up to the app's form limit, and the whole
//!   body capped at what those allow. Only the routes that take files lift axum's default
//!   body limit. A file past a limit is not kept (its bytes are read and dropped), but the
//!   rest of the form still is, so the page comes back with what was typed and the reason.
//! - Browsers send each line break of a text area as CR LF; text fields arrive with `\n`
//!   as in urlencoded forms (see `session::unix_line_breaks`).

use axum::Form;
use axum::body::{Body, Bytes};
use axum::extract::multipart::{Field, MultipartError};
use axum::extract::{FromRequest, Multipart, Request};
use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderMap, StatusCode};
use futures_util::StreamExt;
use helpdesk_core::domain::TenantSettings;
use helpdesk_core::service::NewAttachment;
use serde::de::DeserializeOwned;

use super::app::AppState;
use super::error::{WebError, WebResult};
use super::session::{MAX_FORM_BYTES, Session};

/// The name of the file inputs.
pub(crate) const FILE_FIELD: &str = "attachments";
/// How far into a form's body its first part (the CSRF token) must have ended.
const CSRF_PREFIX_MAX: usize = 16 * 1024;
/// What the framing of one part (its boundary and headers) may add to the body.
const PART_OVERHEAD: u64 = 16 * 1024;

/// Whether the request body is `multipart/form-data`.
pub(crate) fn is_multipart(headers: &HeaderMap) -> bool {
    content_type(headers).is_some_and(|v| {
        v.trim_start()
            .to_ascii_lowercase()
            .starts_with("multipart/form-data")
    })
}

fn content_type(headers: &HeaderMap) -> Option<&str> {
    headers.get(CONTENT_TYPE)?.to_str().ok()
}

/// The `boundary` parameter of a multipart content type.
fn boundary(content_type: &str) -> Option<String> {
    content_type
        .split(';')
        .skip(1)
        .find_map(|param| {
            let (key, value) = param.trim().split_once('=')?;
            key.trim()
                .eq_ignore_ascii_case("boundary")
                .then(|| value.trim().trim_matches('"').to_string())
        })
        .filter(|b| !b.is_empty())
}

/// How often `needle` occurs in `haystack` (a few kilobytes at most here).
fn occurrences(haystack: &[u8], needle: &[u8]) -> usize {
    haystack
        .windows(needle.len())
        .filter(|w| *w == needle)
        .count()
}

/// The value of a multipart form's first part when it is named `csrf`, and the body to
/// hand on (the bytes read, then the rest of the stream); `None` when the first part is
/// anything else or does not end within the first 16 KiB.
pub(crate) async fn csrf_first(headers: &HeaderMap, body: Body) -> Option<(String, Body)> {
    let content_type = content_type(headers)?.to_string();
    let delimiter = format!("--{}", boundary(&content_type)?).into_bytes();
    let mut stream = body.into_data_stream();
    let mut prefix = Vec::new();
    // The first part has ended once the delimiter that opens the second one arrived.
    while occurrences(&prefix, &delimiter) < 2 {
        if prefix.len() > CSRF_PREFIX_MAX {
            return None;
        }
        prefix.extend_from_slice(&stream.next().await?.ok()?);
    }
    let head = Request::builder()
        .header(CONTENT_TYPE, &content_type)
        .body(Body::from(prefix.clone()))
        .ok()?;
    let mut multipart = Multipart::from_request(head, &()).await.ok()?;
    let field = multipart.next_field().await.ok()??;
    if field.name() != Some("csrf") {
        return None;
    }
    let token = field.text().await.ok()?;
    let read = futures_util::stream::once(async move { Ok(Bytes::from(prefix)) });
    Some((token, Body::from_stream(read.chain(stream))))
}

/// A tenant's limits on the files of one message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct FileLimits {
    /// Bytes per file.
    pub(crate) max_bytes: u64,
    /// Files per message.
    pub(crate) max_count: usize,
}

impl FileLimits {
    /// The limits of `settings`.
    pub(crate) fn of(settings: &TenantSettings) -> Self {
        Self {
            max_bytes: settings.attachment_max_bytes,
            max_count: usize::try_from(settings.attachments_per_message).unwrap_or(usize::MAX),
        }
    }

    /// The limits in words, for the file inputs.
    pub(crate) fn hint(&self) -> String {
        let files = if self.max_count == 1 { "file" } else { "files" };
        format!(
            "Up to {} {files}, {} each.",
            self.max_count,
            human_size(self.max_bytes)
        )
    }

    /// The largest body a form with files may have: every file at its largest, one more
    /// file's worth to name the refusal of one too many, the text fields, the framing.
    fn body_cap(self) -> usize {
        let files = u64::try_from(self.max_count)
            .unwrap_or(u64::MAX)
            .saturating_add(1);
        let text = u64::try_from(MAX_FORM_BYTES).unwrap_or(u64::MAX);
        let cap = self
            .max_bytes
            .saturating_mul(files)
            .saturating_add(text)
            .saturating_add(PART_OVERHEAD.saturating_mul(files.saturating_add(8)));
        usize::try_from(cap).unwrap_or(usize::MAX)
    }
}

/// A size for people: `512 bytes`, `3.4 KB`, `12 MB` (binary multiples, as file managers
/// show them).
pub(crate) fn human_size(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["KB", "MB", "GB", "TB"];
    if bytes < 1024 {
        return if bytes == 1 {
            "1 byte".into()
        } else {
            format!("{bytes} bytes")
        };
    }
    #[allow(clippy::cast_precision_loss)] // a size to read, not to compute with
    let mut value = bytes as f64 / 1024.0;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    let digits = if value < 10.0 && value.fract() >= 0.05 {
        1
    } else {
        0
    };
    format!("{value:.digits$} {}", UNITS[unit])
}

/// A form that may carry files: its fields as `T`, the files, and why the files (or the
/// body) were refused, if they were. A urlencoded form (no file input) is taken too.
pub(crate) struct UploadForm<T> {
    /// The text fields.
    pub(crate) form: T,
    /// The files that were chosen, within the limits.
    pub(crate) files: Vec<NewAttachment>,
    /// Why files were refused (shown at the file input, with the text kept).
    pub(crate) refusal: Option<String>,
}

/// One part as read: whole, or past its limit (then its bytes were dropped).
enum Part {
    Whole(Vec<u8>),
    TooLarge,
}

/// Reads a part, keeping at most `limit` bytes and draining the rest.
async fn read_part(mut field: Field<'_>, limit: u64) -> Result<Part, MultipartError> {
    let mut bytes = Vec::new();
    let mut too_large = false;
    while let Some(chunk) = field.chunk().await? {
        let size = u64::try_from(bytes.len() + chunk.len()).unwrap_or(u64::MAX);
        if too_large || size > limit {
            too_large = true;
            bytes = Vec::new();
            continue;
        }
        bytes.extend_from_slice(&chunk);
    }
    Ok(if too_large {
        Part::TooLarge
    } else {
        Part::Whole(bytes)
    })
}

/// The refusal of a body that could not be read to its end.
fn unreadable(e: &MultipartError, limits: FileLimits) -> String {
    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        format!(
            "the form is larger than it may be ({}); choose fewer or smaller files.",
            limits.hint().trim_end_matches('.')
        )
    } else {
        "the form could not be read to its end; choose the files and send it again.".into()
    }
}

impl<T> FromRequest<AppState> for UploadForm<T>
where
    T: DeserializeOwned + Send,
{
    type Rejection = WebError;

    async fn from_request(req: Request, state: &AppState) -> WebResult<Self> {
        if !is_multipart(req.headers()) {
            // The session layer read and bounded a urlencoded form already.
            let Form(form) = Form::<T>::from_request(req, state)
                .await
                .map_err(|e| WebError::bad_input("form", e.body_text()))?;
            return Ok(Self {
                form,
                files: Vec::new(),
                refusal: None,
            });
        }
        let limits = req
            .extensions()
            .get::<Session>()
            .and_then(|s| s.signed_in.as_ref())
            .map(|s| s.file_limits)
            .ok_or(WebError::NotSignedIn)?;
        let req = req.map(|b| Body::new(http_body_util::Limited::new(b, limits.body_cap())));
        let mut multipart = Multipart::from_request(req, state)
            .await
            .map_err(|e| WebError::bad_input("form", e.body_text()))?;
        let mut fields: Vec<(String, String)> = Vec::new();
        let mut files = Vec::new();
        let mut refusal = None;
        loop {
            let field = match multipart.next_field().await {
                Ok(Some(field)) => field,
                Ok(None) => break,
                Err(e) => {
                    refusal.get_or_insert(unreadable(&e, limits));
                    break;
                }
            };
            let name = field.name().unwrap_or_default().to_string();
            let file_name = field.file_name().unwrap_or_default().to_string();
            let limit = if name == FILE_FIELD {
                limits.max_bytes
            } else {
                u64::try_from(MAX_FORM_BYTES).unwrap_or(u64::MAX)
            };
            let part = match read_part(field, limit).await {
                Ok(part) => part,
                Err(e) => {
                    refusal.get_or_insert(unreadable(&e, limits));
                    break;
                }
            };
            match (name == FILE_FIELD, part) {
                (true, Part::Whole(bytes)) if bytes.is_empty() && file_name.is_empty() => {
                    // A file input with nothing chosen.
                }
                (true, Part::Whole(bytes)) if bytes.is_empty() => {
                    refusal.get_or_insert(format!("“{file_name}” is empty."));
                }
                (true, Part::Whole(_)) if files.len() >= limits.max_count => {
                    refusal
                        .get_or_insert(format!("at most {} files per message.", limits.max_count));
                }
                (true, Part::Whole(bytes)) => files.push(NewAttachment::new(file_name, bytes)),
                (true, Part::TooLarge) => {
                    refusal.get_or_insert(format!(
                        "“{file_name}” is larger than the limit of {}.",
                        human_size(limits.max_bytes)
                    ));
                }
                (false, Part::Whole(bytes)) => {
                    let text = String::from_utf8_lossy(&bytes)
                        .replace("\r\n", "\n")
                        .replace('\r', "\n");
                    fields.push((name, text));
                }
                (false, Part::TooLarge) => {
                    return Err(WebError::bad_input("form", "a text field is too long"));
                }
            }
        }
        let encoded = serde_urlencoded::to_string(&fields)
            .map_err(|e| WebError::bad_input("form", e.to_string()))?;
        let form = serde_urlencoded::from_str(&encoded)
            .map_err(|e| WebError::bad_input("form", e.to_string()))?;
        if refusal.is_some() {
            // None of the files is kept when one is refused: the form comes back whole.
            files.clear();
        }
        Ok(Self {
            form,
            files,
            refusal,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_like_a_file_manager() {
        assert_eq!(human_size(0), "0 bytes");
        assert_eq!(human_size(1), "1 byte");
        assert_eq!(human_size(1023), "1023 bytes");
        assert_eq!(human_size(1024), "1 KB");
        assert_eq!(human_size(3500), "3.4 KB");
        assert_eq!(human_size(10 * 1024 * 1024), "10 MB");
        assert_eq!(human_size(1536 * 1024 * 1024), "1.5 GB");
        assert_eq!(human_size(u64::MAX), "16777216 TB");
    }

    #[test]
    fn the_boundary_is_read_quoted_or_not() {
        assert_eq!(
            boundary("multipart/form-data; boundary=----abc").as_deref(),
            Some("----abc")
        );
        assert_eq!(
            boundary("multipart/form-data; charset=utf-8; BOUNDARY=\"x y\"").as_deref(),
            Some("x y")
        );
        assert_eq!(boundary("multipart/form-data"), None);
        assert_eq!(boundary("multipart/form-data; boundary="), None);
    }

    #[test]
    fn the_hint_names_both_limits() {
        let limits = FileLimits {
            max_bytes: 10 * 1024 * 1024,
            max_count: 10,
        };
        assert_eq!(limits.hint(), "Up to 10 files, 10 MB each.");
        assert!(limits.body_cap() > 11 * 10 * 1024 * 1024);
    }
}
