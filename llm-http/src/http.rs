//! The HTTP side of a provider: secrets, body size caps, one JSON `POST` over reqwest, and
//! the checks a provider's builder makes before it sends anything.

use std::borrow::Cow;
use std::fmt;

use bytes::Bytes;
use futures_core::Stream;
use futures_util::StreamExt;
use helpdesk_core::Error;
use reqwest::header::{CONTENT_TYPE, HeaderMap, HeaderValue};

/// The largest response body read into memory (32 MiB); a larger one is an error.
pub const MAX_BODY_BYTES: usize = 32 * 1024 * 1024;

/// The most of an error body that is read as its message (64 KiB).
pub const MAX_ERROR_BODY: usize = 64 * 1024;

/// A secret (an API key, a header value that may be one): kept out of `Debug`, logs and
/// URLs.
#[derive(Clone)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The secret itself (for the header, and for scrubbing recordings).
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

/// Reads a whole body; `too_large` makes the error once it grows past `limit` bytes.
pub async fn collect_body<S, E>(
    mut body: S,
    limit: usize,
    too_large: impl FnOnce(usize) -> E,
) -> Result<Bytes, E>
where
    S: Stream<Item = Result<Bytes, E>> + Unpin,
{
    let mut all = Vec::new();
    while let Some(chunk) = body.next().await {
        let chunk = chunk?;
        if all.len() + chunk.len() > limit {
            return Err(too_large(limit));
        }
        all.extend_from_slice(&chunk);
    }
    Ok(Bytes::from(all))
}

/// The start of an error body as text (at most [`MAX_ERROR_BODY`] bytes, invalid UTF-8
/// replaced).
pub fn error_text(body: &[u8]) -> Cow<'_, str> {
    String::from_utf8_lossy(&body[..body.len().min(MAX_ERROR_BODY)])
}

/// Whether retrying may help after reqwest failed: connection-level failures (connect,
/// timeout, request, body read).
pub fn is_temporary(error: &reqwest::Error) -> bool {
    error.is_connect() || error.is_timeout() || error.is_request() || error.is_body()
}

/// reqwest with rustls and the provider's headers (credentials marked sensitive), posting
/// JSON to `{base}{path}`.
#[derive(Clone)]
pub struct JsonPoster {
    client: reqwest::Client,
    base_url: String,
    query: Option<String>,
    headers: HeaderMap,
}

impl fmt::Debug for JsonPoster {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JsonPoster")
            .field("base_url", &self.base_url)
            .field("headers", &self.headers.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

impl JsonPoster {
    /// Posts to `base_url` (a trailing slash is dropped) with `headers` on every call and
    /// `query` (without `?`) on every URL; `Content-Type: application/json` is added.
    pub fn new(
        client: reqwest::Client,
        base_url: &str,
        query: Option<String>,
        mut headers: HeaderMap,
    ) -> Self {
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        Self {
            client,
            base_url: base_url.trim_end_matches('/').to_owned(),
            query,
            headers,
        }
    }

    /// The base URL calls go to (without its query).
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// Posts `body` to `{base}{path}`, with the client's query and then `query`. The error
    /// carries no URL (it could carry a query a server logs).
    pub async fn post(
        &self,
        path: &str,
        query: Option<&str>,
        body: &serde_json::Value,
    ) -> Result<reqwest::Response, reqwest::Error> {
        let mut url = format!("{}{path}", self.base_url);
        let queries = self.query.as_deref().into_iter().chain(query);
        for (i, part) in queries.enumerate() {
            url.push(if i == 0 { '?' } else { '&' });
            url.push_str(part);
        }
        self.client
            .post(url)
            .headers(self.headers.clone())
            .body(body.to_string())
            .send()
            .await
            .map_err(reqwest::Error::without_url)
    }
}

/// A configuration error naming `field`.
pub fn config_error(field: &'static str, message: impl Into<String>) -> Error {
    Error::Configuration {
        field: field.into(),
        message: message.into(),
    }
}

/// The value of environment variable `name`, trimmed, when it is set and not empty.
pub fn env_var(name: &str) -> Option<String> {
    std::env::var(name)
        .ok()
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty())
}

/// Checks that a key can travel in a header: not empty, no whitespace, ASCII only.
pub fn check_key(key: &Secret) -> Result<(), Error> {
    let k = key.expose();
    if k.trim().is_empty() {
        return Err(config_error("api_key", "is empty"));
    }
    if !k.chars().all(|c| c.is_ascii_graphic()) {
        return Err(config_error(
            "api_key",
            "contains whitespace or non-ASCII characters",
        ));
    }
    Ok(())
}

/// Parses a base URL: `http` or `https`, without a fragment or credentials (the provider
/// checks its query).
pub fn parse_base_url(url: &str) -> Result<reqwest::Url, Error> {
    let parsed = reqwest::Url::parse(url.trim())
        .map_err(|e| config_error("base_url", format!("not a URL ({e})")))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(config_error("base_url", "scheme must be http or https"));
    }
    if parsed.fragment().is_some() {
        return Err(config_error("base_url", "must not carry a fragment"));
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(config_error("base_url", "must not carry credentials"));
    }
    Ok(parsed)
}

/// The host's HTTP client, or a new one (rustls, no proxy settings of its own).
pub fn http_client(given: Option<reqwest::Client>) -> Result<reqwest::Client, Error> {
    match given {
        Some(client) => Ok(client),
        None => reqwest::Client::builder()
            .build()
            .map_err(|e| Error::backend("reqwest", false, e)),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    fn field_of(result: Result<impl fmt::Debug, Error>) -> String {
        match result {
            Err(Error::Configuration { field, .. }) => field.into_owned(),
            other => panic!("expected a configuration error, got {other:?}"),
        }
    }

    #[test]
    fn secrets_stay_out_of_debug() {
        let key = Secret::new("sk-TopSecret");
        assert_eq!(format!("{key:?}"), "<redacted>");
        let mut headers = HeaderMap::new();
        let mut value = HeaderValue::from_static("Bearer sk-TopSecret");
        value.set_sensitive(true);
        headers.insert("authorization", value);
        let poster = JsonPoster::new(reqwest::Client::new(), "http://x/v1/", None, headers);
        let debug = format!("{poster:?}");
        assert!(
            !debug.contains("TopSecret") && debug.contains("http://x/v1\""),
            "{debug}"
        );
    }

    #[test]
    fn builder_checks_name_their_field() {
        assert_eq!(field_of(check_key(&Secret::new(" "))), "api_key");
        assert_eq!(field_of(check_key(&Secret::new("a b"))), "api_key");
        assert!(check_key(&Secret::new("AIza-key_1")).is_ok());
        for bad in ["ftp://x", "not a url", "http://x/#f", "http://u:p@x/"] {
            assert_eq!(field_of(parse_base_url(bad)), "base_url", "{bad}");
        }
        assert!(parse_base_url(" http://127.0.0.1:9/v1?api-version=1 ").is_ok());
    }

    #[tokio::test]
    async fn bodies_are_capped() {
        let chunks = || {
            futures_util::stream::iter(
                [Bytes::from_static(b"abc"), Bytes::from_static(b"def")].map(Ok::<_, usize>),
            )
        };
        assert_eq!(
            collect_body(chunks(), 6, |l| l).await,
            Ok(Bytes::from_static(b"abcdef"))
        );
        assert_eq!(collect_body(chunks(), 5, |l| l).await, Err(5));
        assert_eq!(
            error_text(&[b'x'; MAX_ERROR_BODY + 9]).len(),
            MAX_ERROR_BODY
        );
    }
}
