//! Record and replay: a [`Recorder`] transport saves each request/response pair (key
//! scrubbed) as one JSON file; a [`Replayer`] transport serves them back, so host apps can
//! write deterministic tests from real sessions.
//!
//! File format (`0001-generateContent.json`, ...):
//! `{"request":{"path","query","body"},"response":{"status","content_type","body"}}` where the
//! response body is kept as text (SSE framing included).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use async_trait::async_trait;
use bytes::Bytes;
use serde::{Deserialize, Serialize};

use crate::transport::{MAX_BODY_BYTES, Transport, TransportError, WireRequest, WireResponse};

const REDACTED: &str = "<redacted>";

/// One recorded exchange.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Recording {
    /// What was sent (never the key).
    pub request: WireRequest,
    /// What came back.
    pub response: RecordedResponse,
}

/// A recorded response.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecordedResponse {
    /// HTTP status.
    pub status: u16,
    /// `Content-Type`.
    pub content_type: Option<String>,
    /// The body as text.
    pub body: String,
}

/// Wraps a transport and writes every exchange to a directory. Responses are read whole
/// before they are handed on (a recorded stream arrives in one piece).
pub struct Recorder {
    inner: Arc<dyn Transport>,
    dir: PathBuf,
    next: AtomicUsize,
    secrets: Vec<String>,
}

impl std::fmt::Debug for Recorder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Recorder")
            .field("inner", &self.inner)
            .field("dir", &self.dir)
            .field(
                "secrets",
                &format_args!("<{} redacted>", self.secrets.len()),
            )
            .finish_non_exhaustive()
    }
}

impl Recorder {
    /// Records what `inner` exchanges into `dir` (created when needed; numbering continues
    /// after the files already there).
    pub fn new(inner: Arc<dyn Transport>, dir: impl Into<PathBuf>) -> Self {
        let dir = dir.into();
        let existing = std::fs::read_dir(&dir)
            .map(|entries| {
                entries
                    .filter(|e| e.as_ref().is_ok_and(|e| is_recording(&e.path())))
                    .count()
            })
            .unwrap_or(0);
        Self {
            inner,
            dir,
            next: AtomicUsize::new(existing + 1),
            secrets: Vec::new(),
        }
    }

    /// Replaces every occurrence of `secret` in the saved files with `<redacted>`.
    pub fn scrub(mut self, secret: impl Into<String>) -> Self {
        let secret = secret.into();
        if !secret.is_empty() {
            self.secrets.push(secret);
        }
        self
    }

    fn scrubbed(&self, text: &str) -> String {
        self.secrets
            .iter()
            .fold(text.to_owned(), |acc, s| acc.replace(s.as_str(), REDACTED))
    }

    async fn save(&self, recording: &Recording) -> Result<(), TransportError> {
        let n = self.next.fetch_add(1, Ordering::SeqCst);
        let name = format!("{n:04}-{}.json", recording.request.method_name());
        let path = self.dir.join(name);
        let text = serde_json::to_string_pretty(recording).map_err(|source| {
            TransportError::RecordingFormat {
                path: path.clone(),
                source,
            }
        })?;
        let io = |source| TransportError::Recording {
            path: path.clone(),
            source,
        };
        tokio::fs::create_dir_all(&self.dir).await.map_err(io)?;
        tokio::fs::write(&path, self.scrubbed(&text))
            .await
            .map_err(io)
    }
}

#[async_trait]
impl Transport for Recorder {
    async fn send(&self, request: WireRequest) -> Result<WireResponse, TransportError> {
        let response = self.inner.send(request.clone()).await?;
        let status = response.status;
        let content_type = response.content_type.clone();
        let body = response.collect(MAX_BODY_BYTES).await?;
        let recording = Recording {
            request,
            response: RecordedResponse {
                status,
                content_type: content_type.clone(),
                body: String::from_utf8_lossy(&body).into_owned(),
            },
        };
        self.save(&recording).await?;
        Ok(WireResponse::from_bytes(status, content_type, body))
    }
}

fn is_recording(path: &Path) -> bool {
    path.extension().is_some_and(|e| e == "json")
}

/// Serves recorded exchanges. A request gets the first unused recording with the same path,
/// query and (unless [`match_bodies(false)`](Self::match_bodies)) body; none is
/// [`TransportError::NoRecording`].
#[derive(Debug)]
pub struct Replayer {
    recordings: Mutex<Vec<(Recording, bool)>>,
    match_bodies: bool,
}

impl Replayer {
    /// A replayer over these recordings.
    pub fn new(recordings: impl IntoIterator<Item = Recording>) -> Self {
        Self {
            recordings: Mutex::new(recordings.into_iter().map(|r| (r, false)).collect()),
            match_bodies: true,
        }
    }

    /// Loads every `*.json` recording of `dir`, in file-name order (blocking file I/O: call
    /// it at set-up, not inside a hot async path).
    pub fn from_dir(dir: impl Into<PathBuf>) -> Result<Self, TransportError> {
        let dir = dir.into();
        let io = |source| TransportError::Recording {
            path: dir.clone(),
            source,
        };
        let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
            .map_err(io)?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| is_recording(p))
            .collect();
        paths.sort();
        let mut recordings = Vec::with_capacity(paths.len());
        for path in paths {
            let text =
                std::fs::read_to_string(&path).map_err(|source| TransportError::Recording {
                    path: path.clone(),
                    source,
                })?;
            let recording = serde_json::from_str(&text)
                .map_err(|source| TransportError::RecordingFormat { path, source })?;
            recordings.push(recording);
        }
        Ok(Self::new(recordings))
    }

    /// Whether request bodies must match exactly (default `true`).
    pub fn match_bodies(mut self, yes: bool) -> Self {
        self.match_bodies = yes;
        self
    }

    /// Recordings not served yet.
    pub fn remaining(&self) -> usize {
        self.recordings
            .lock()
            .map(|r| r.iter().filter(|(_, used)| !used).count())
            .unwrap_or(0)
    }
}

#[async_trait]
impl Transport for Replayer {
    async fn send(&self, request: WireRequest) -> Result<WireResponse, TransportError> {
        let no_recording = || TransportError::NoRecording {
            path: request.path.clone(),
        };
        let mut recordings = self.recordings.lock().map_err(|_| no_recording())?;
        let found = recordings.iter_mut().find(|(r, used)| {
            !*used
                && r.request.path == request.path
                && r.request.query == request.query
                && (!self.match_bodies || r.request.body == request.body)
        });
        let Some((recording, used)) = found else {
            return Err(no_recording());
        };
        *used = true;
        let response = &recording.response;
        Ok(WireResponse::from_bytes(
            response.status,
            response.content_type.clone(),
            Bytes::from(response.body.clone()),
        ))
    }
}
