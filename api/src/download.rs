//! Attachment downloads, served so that an uploaded file never runs in the origin that
//! serves it: whatever its bytes, a browser saves it rather than renders it, does not
//! sniff another type from it, and would run nothing in it if it did render it.
//!
//! - `Content-Type` is the sniffed type only for the raster images a browser shows
//!   without running anything (PNG, JPEG, GIF, WebP: `Attachment::is_safe_image`); every
//!   other file, HTML and SVG included, is `application/octet-stream`.
//! - `Content-Disposition: attachment` with the sanitised name (RFC 6266, the UTF-8 name
//!   in `filename*` as RFC 8187 spells it); `inline` only when asked for a safe image.
//! - `X-Content-Type-Options: nosniff`, `Content-Security-Policy: default-src 'none';
//!   sandbox` (no scripts, no plugins, no same-origin rights even if rendered),
//!   `Cross-Origin-Resource-Policy: same-origin` and `Cache-Control: private, no-store`.

use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use helpdesk_core::domain::Attachment;
use helpdesk_core::service::AttachmentDownload;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

/// The content type of every file that is not a safe image.
pub(crate) const OCTET_STREAM: &str = "application/octet-stream";

/// The `Content-Security-Policy` of a download.
pub(crate) const DOWNLOAD_CSP: &str = "default-src 'none'; sandbox";

/// RFC 8187 `attr-char`: what `filename*` may carry unencoded.
const ATTR_CHAR: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'!')
    .remove(b'#')
    .remove(b'$')
    .remove(b'&')
    .remove(b'+')
    .remove(b'-')
    .remove(b'.')
    .remove(b'^')
    .remove(b'_')
    .remove(b'`')
    .remove(b'|')
    .remove(b'~');

/// How a download asks the browser to treat the file.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Disposition {
    /// Save it (`Content-Disposition: attachment`), whatever it is.
    #[default]
    Attachment,
    /// Show it (`inline`) when it is a safe raster image; any other file is still an
    /// `attachment` of type `application/octet-stream`.
    InlineImage,
}

/// The response serving `download` (see the module's rules). The web helpdesk serves its
/// downloads with this too, so the API and the pages send the same headers.
pub fn attachment_response(download: AttachmentDownload, disposition: Disposition) -> Response {
    let AttachmentDownload { attachment, bytes } = download;
    let image = attachment.is_safe_image();
    let content_type = if image {
        HeaderValue::from_str(&attachment.content_type)
            .unwrap_or(HeaderValue::from_static(OCTET_STREAM))
    } else {
        HeaderValue::from_static(OCTET_STREAM)
    };
    let inline = image && disposition == Disposition::InlineImage;
    let disposition = content_disposition(&attachment, inline);
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CONTENT_DISPOSITION, disposition),
            (
                header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            ),
            (
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static(DOWNLOAD_CSP),
            ),
            (
                header::CACHE_CONTROL,
                HeaderValue::from_static("private, no-store"),
            ),
            (
                header::HeaderName::from_static("cross-origin-resource-policy"),
                HeaderValue::from_static("same-origin"),
            ),
        ],
        bytes,
    )
        .into_response()
}

/// `attachment; filename="report_.pdf"; filename*=UTF-8''report%E2%80%93.pdf`: an ASCII
/// `filename` for old clients, the exact UTF-8 name in `filename*`.
fn content_disposition(attachment: &Attachment, inline: bool) -> HeaderValue {
    let kind = if inline { "inline" } else { "attachment" };
    let name = &attachment.file_name;
    let ascii: String = name
        .chars()
        .map(|c| {
            if (c.is_ascii_graphic() || c == ' ') && !matches!(c, '"' | '\\' | '%' | ';') {
                c
            } else {
                '_'
            }
        })
        .collect();
    let encoded = utf8_percent_encode(name, ATTR_CHAR);
    let value = format!("{kind}; filename=\"{ascii}\"; filename*=UTF-8''{encoded}");
    // Only visible ASCII is left in `value`; the fallback keeps the download a download.
    HeaderValue::from_str(&value).unwrap_or(HeaderValue::from_static("attachment"))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use helpdesk_core::domain::Sha256;

    fn attachment(name: &str, content_type: &str) -> Attachment {
        Attachment {
            id: helpdesk_core::AttachmentId::new(),
            tenant_id: helpdesk_core::TenantId::new(),
            ticket_id: helpdesk_core::TicketId::new(),
            message_id: None,
            file_name: name.into(),
            content_type: content_type.into(),
            size: 3,
            sha256: Sha256::digest(b"abc"),
            uploaded_by: None,
            created_at: jiff::Timestamp::UNIX_EPOCH,
        }
    }

    fn response(name: &str, content_type: &str, disposition: Disposition) -> Response {
        attachment_response(
            AttachmentDownload {
                attachment: attachment(name, content_type),
                bytes: b"abc".to_vec(),
            },
            disposition,
        )
    }

    fn header<'a>(r: &'a Response, name: &str) -> &'a str {
        r.headers().get(name).unwrap().to_str().unwrap()
    }

    #[test]
    fn a_utf8_name_is_percent_encoded_with_an_ascii_fallback() {
        let r = response(
            "Rechnung – März 100%.pdf",
            OCTET_STREAM,
            Disposition::Attachment,
        );
        assert_eq!(
            header(&r, "content-disposition"),
            "attachment; filename=\"Rechnung _ M_rz 100_.pdf\"; \
             filename*=UTF-8''Rechnung%20%E2%80%93%20M%C3%A4rz%20100%25.pdf"
        );
    }

    #[test]
    fn only_safe_images_keep_their_type_or_go_inline() {
        let html = response("page.html", "text/html", Disposition::InlineImage);
        assert_eq!(header(&html, "content-type"), OCTET_STREAM);
        assert!(header(&html, "content-disposition").starts_with("attachment;"));
        let svg = response("logo.svg", "image/svg+xml", Disposition::InlineImage);
        assert_eq!(header(&svg, "content-type"), OCTET_STREAM);
        assert!(header(&svg, "content-disposition").starts_with("attachment;"));
        let png = response("shot.png", "image/png", Disposition::Attachment);
        assert_eq!(header(&png, "content-type"), "image/png");
        assert!(header(&png, "content-disposition").starts_with("attachment;"));
        let png = response("shot.png", "image/png", Disposition::InlineImage);
        assert!(header(&png, "content-disposition").starts_with("inline;"));
        for r in [&html, &svg, &png] {
            assert_eq!(header(r, "x-content-type-options"), "nosniff");
            assert_eq!(header(r, "content-security-policy"), DOWNLOAD_CSP);
            assert_eq!(header(r, "cache-control"), "private, no-store");
        }
    }
}
