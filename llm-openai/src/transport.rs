//! The HTTP seam: one `POST {base}{path}` with the configured headers (the shared
//! [`JsonPoster`]), returning the status, the server's wait hint (`retry-after-ms`,
//! `retry-after`, `x-ratelimit-reset-*`) and the body as a byte stream.

use std::fmt;
use std::pin::Pin;
use std::time::Duration;

use bytes::Bytes;
use futures_core::Stream;
use futures_util::StreamExt;
use helpdesk_llm_http::JsonPoster;
use helpdesk_llm_http::http::collect_body;
use reqwest::header::HeaderMap;

/// Why a call did not produce a response.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub(crate) enum TransportError {
    /// reqwest failed (connect, TLS, reset, body read).
    #[error("HTTP request failed")]
    Http(#[source] reqwest::Error),
    /// A response body was larger than the limit.
    #[error("response body larger than {limit} bytes")]
    BodyTooLarge { limit: usize },
}

impl TransportError {
    /// Whether retrying may help (connection-level failures).
    pub(crate) fn is_temporary(&self) -> bool {
        match self {
            Self::Http(e) => helpdesk_llm_http::http::is_temporary(e),
            Self::BodyTooLarge { .. } => false,
        }
    }
}

pub(crate) type BodyStream = Pin<Box<dyn Stream<Item = Result<Bytes, TransportError>> + Send>>;

/// A response: status, wait hint, body.
pub(crate) struct WireResponse {
    pub(crate) status: u16,
    /// How long the server asks to wait before the next call, from its headers.
    pub(crate) retry_hint: Option<Duration>,
    pub(crate) body: BodyStream,
}

impl WireResponse {
    /// Reads the whole body, failing past `limit` bytes.
    pub(crate) async fn collect(self, limit: usize) -> Result<Bytes, TransportError> {
        collect_body(self.body, limit, |limit| TransportError::BodyTooLarge {
            limit,
        })
        .await
    }
}

/// The configured [`JsonPoster`] (authorization and extra headers, the base URL's query).
#[derive(Clone)]
pub(crate) struct Http {
    poster: JsonPoster,
}

impl fmt::Debug for Http {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.poster.fmt(f)
    }
}

impl Http {
    /// `headers` must already hold the authorization and extra headers (values marked
    /// sensitive where they are secrets).
    pub(crate) fn new(
        client: reqwest::Client,
        base_url: &str,
        query: Option<String>,
        headers: HeaderMap,
    ) -> Self {
        Self {
            poster: JsonPoster::new(client, base_url, query, headers),
        }
    }

    pub(crate) fn base_url(&self) -> &str {
        self.poster.base_url()
    }

    /// Posts `body` as JSON to `{base}{path}`.
    pub(crate) async fn post(
        &self,
        path: &str,
        body: &serde_json::Value,
    ) -> Result<WireResponse, TransportError> {
        let response = self
            .poster
            .post(path, None, body)
            .await
            .map_err(TransportError::Http)?;
        let status = response.status().as_u16();
        let retry_hint = retry_hint(response.headers());
        let body = response
            .bytes_stream()
            .map(|chunk| chunk.map_err(|e| TransportError::Http(e.without_url())));
        Ok(WireResponse {
            status,
            retry_hint,
            body: Box::pin(body),
        })
    }
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
}

/// The server's wait hint: `retry-after-ms` (OpenAI, Azure), else `retry-after` in seconds,
/// else the longest `x-ratelimit-reset-{requests,tokens}` of a limit whose
/// `x-ratelimit-remaining-*` is 0 (or of both when the remaining counts are not sent).
/// An HTTP-date `retry-after` is not read.
pub(crate) fn retry_hint(headers: &HeaderMap) -> Option<Duration> {
    if let Some(ms) = header(headers, "retry-after-ms").and_then(|v| v.parse::<f64>().ok())
        && let Ok(d) = Duration::try_from_secs_f64(ms / 1000.0)
    {
        return Some(d);
    }
    if let Some(s) = header(headers, "retry-after").and_then(|v| v.parse::<f64>().ok())
        && let Ok(d) = Duration::try_from_secs_f64(s)
    {
        return Some(d);
    }
    ["requests", "tokens"]
        .iter()
        .filter(|kind| {
            header(headers, &format!("x-ratelimit-remaining-{kind}"))
                .is_none_or(|remaining| remaining == "0")
        })
        .filter_map(|kind| header(headers, &format!("x-ratelimit-reset-{kind}")))
        .filter_map(parse_go_duration)
        .max()
}

/// Parses the duration format of `x-ratelimit-reset-*`: `"1s"`, `"6m0s"`, `"20ms"`,
/// `"1h2m3.5s"`, `"0.5s"`; a bare number is seconds.
pub(crate) fn parse_go_duration(text: &str) -> Option<Duration> {
    let text = text.trim();
    if let Ok(seconds) = text.parse::<f64>() {
        return Duration::try_from_secs_f64(seconds).ok();
    }
    let mut total = 0.0f64;
    let mut rest = text;
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        if digits == 0 {
            return None;
        }
        let value: f64 = rest[..digits].parse().ok()?;
        rest = &rest[digits..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let factor = match &rest[..unit_len] {
            "h" => 3600.0,
            "m" => 60.0,
            "s" => 1.0,
            "ms" => 0.001,
            "us" | "µs" => 0.000_001,
            "ns" => 0.000_000_001,
            _ => return None,
        };
        total += value * factor;
        rest = &rest[unit_len..];
    }
    Duration::try_from_secs_f64(total).ok()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;
    use reqwest::header::HeaderValue;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (k, v) in pairs {
            map.insert(*k, HeaderValue::from_static(v));
        }
        map
    }

    #[test]
    fn go_durations() {
        let ms = Duration::from_millis;
        assert_eq!(parse_go_duration("1s"), Some(ms(1000)));
        assert_eq!(parse_go_duration("6m0s"), Some(ms(360_000)));
        assert_eq!(parse_go_duration("20ms"), Some(ms(20)));
        assert_eq!(parse_go_duration("1h2m3.5s"), Some(ms(3_723_500)));
        assert_eq!(parse_go_duration("2"), Some(ms(2000)));
        assert_eq!(parse_go_duration("abc"), None);
        assert_eq!(parse_go_duration("5x"), None);
        assert_eq!(parse_go_duration("-1s"), None);
    }

    #[test]
    fn hint_prefers_retry_after_ms_then_seconds_then_exhausted_limits() {
        let ms = Duration::from_millis;
        let all = headers(&[
            ("retry-after-ms", "1500"),
            ("retry-after", "9"),
            ("x-ratelimit-reset-requests", "20s"),
        ]);
        assert_eq!(retry_hint(&all), Some(ms(1500)));
        assert_eq!(
            retry_hint(&headers(&[("retry-after", "2")])),
            Some(ms(2000))
        );
        let resets = headers(&[
            ("x-ratelimit-remaining-requests", "0"),
            ("x-ratelimit-reset-requests", "1s"),
            ("x-ratelimit-remaining-tokens", "5000"),
            ("x-ratelimit-reset-tokens", "6m0s"),
        ]);
        assert_eq!(retry_hint(&resets), Some(ms(1000)));
        let no_counts = headers(&[
            ("x-ratelimit-reset-requests", "1s"),
            ("x-ratelimit-reset-tokens", "3s"),
        ]);
        assert_eq!(retry_hint(&no_counts), Some(ms(3000)));
        let date = headers(&[("retry-after", "Wed, 21 Oct 2015 07:28:00 GMT")]);
        assert_eq!(retry_hint(&date), None);
    }
}
