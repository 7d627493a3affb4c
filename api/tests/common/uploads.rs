//! Multipart uploads and downloads for the attachment tests: sample files, a multipart
//! body builder, and calls that post one or fetch a file's bytes.

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tower::ServiceExt;

use super::TestApi;

/// A 1x1 PNG.
pub const PNG: &[u8] = &[
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x02, 0x00, 0x00, 0x00, 0x90, 0x77, 0x53,
    0xde, 0x00, 0x00, 0x00, 0x0c, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9c, 0x63, 0xf8, 0xcf, 0xc0, 0x00,
    0x00, 0x03, 0x01, 0x01, 0x00, 0xc9, 0xfe, 0x92, 0xef, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4e,
    0x44, 0xae, 0x42, 0x60, 0x82,
];
pub const HTML: &[u8] =
    b"<!doctype html><html><body><script>document.title='pwned'</script></body></html>";
pub const SVG: &[u8] = b"<svg xmlns=\"http://www.w3.org/2000/svg\"><script>alert(1)</script></svg>";
pub const BOUNDARY: &str = "----helpdesk-test-boundary";

/// One part of a multipart body: (name, file name, bytes).
pub type Part<'a> = (&'a str, Option<&'a str>, &'a [u8]);

pub fn multipart(parts: &[Part<'_>]) -> Vec<u8> {
    let mut body = Vec::new();
    for (name, file_name, bytes) in parts {
        body.extend_from_slice(format!("--{BOUNDARY}\r\n").as_bytes());
        match file_name {
            Some(f) => body.extend_from_slice(
                format!(
                    "Content-Disposition: form-data; name=\"{name}\"; filename=\"{f}\"\r\n\
                     Content-Type: application/octet-stream\r\n\r\n"
                )
                .as_bytes(),
            ),
            None => body.extend_from_slice(
                format!(
                    "Content-Disposition: form-data; name=\"{name}\"\r\n\
                     Content-Type: application/json\r\n\r\n"
                )
                .as_bytes(),
            ),
        }
        body.extend_from_slice(bytes);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
    body
}

/// A JSON part and file parts.
pub fn upload(json: &Value, files: &[(&str, &[u8])]) -> Vec<u8> {
    let json = json.to_string();
    let mut parts: Vec<Part<'_>> = vec![("json", None, json.as_bytes())];
    parts.extend(files.iter().map(|(n, b)| ("attachments", Some(*n), *b)));
    multipart(&parts)
}

pub async fn post_multipart(api: &TestApi, path: &str, token: &str, body: Vec<u8>) -> super::Reply {
    let request = Request::post(path)
        .header("authorization", format!("Bearer {token}"))
        .header(
            "content-type",
            format!("multipart/form-data; boundary={BOUNDARY}"),
        )
        .body(Body::from(body))
        .unwrap();
    api.send(request).await
}

pub struct Download {
    pub status: StatusCode,
    pub headers: axum::http::HeaderMap,
    pub bytes: Vec<u8>,
}

impl Download {
    pub fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .map(|v| v.to_str().unwrap())
            .unwrap_or_default()
    }
}

pub async fn download(api: &TestApi, id: &str, token: &str) -> Download {
    let request = Request::get(format!("/attachments/{id}"))
        .header("authorization", format!("Bearer {token}"))
        .body(Body::empty())
        .unwrap();
    let response = api.router.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    Download {
        status,
        headers,
        bytes: bytes.to_vec(),
    }
}

pub async fn list(api: &TestApi, ticket: &str, token: &str) -> Vec<Value> {
    let reply = api
        .call(
            Method::GET,
            &format!("/tickets/{ticket}/attachments"),
            Some(token),
            None,
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.json);
    reply.json.as_array().unwrap().clone()
}

pub fn names(files: &[Value]) -> Vec<&str> {
    files
        .iter()
        .map(|f| f["file_name"].as_str().unwrap())
        .collect()
}

pub fn id_of<'a>(files: &'a [Value], name: &str) -> &'a str {
    files
        .iter()
        .find(|f| f["file_name"] == name)
        .unwrap_or_else(|| panic!("no {name} in {files:?}"))["id"]
        .as_str()
        .unwrap()
}

/// Opens a ticket with `files` as the customer; returns its id.
pub async fn open_with(api: &TestApi, files: &[(&str, &[u8])]) -> String {
    let body = upload(
        &json!({"subject": "Export fails", "description": "See the screenshot."}),
        files,
    );
    let reply = post_multipart(api, "/tickets", &api.customer, body).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.json);
    reply.json["id"].as_str().unwrap().to_string()
}
