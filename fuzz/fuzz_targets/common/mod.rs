//! Shared by the Gemini fuzz targets: a scripted transport (the client's public HTTP seam)
//! that answers with fuzzer-chosen status and body chunks, a sleeper that does not sleep,
//! and one tokio runtime for all iterations.
#![allow(dead_code)]

use std::collections::VecDeque;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use helpdesk_llm_gemini::transport::{Transport, TransportError, WireRequest, WireResponse};
use helpdesk_llm_gemini::{GeminiClient, RetryPolicy, Sleeper};

/// Attempts per call (retries on, so random statuses reach the retry path too).
pub const ATTEMPTS: u32 = 2;

#[derive(Debug, Default)]
pub struct ScriptedTransport {
    responses: Mutex<VecDeque<(u16, Vec<Vec<u8>>)>>,
    calls: AtomicUsize,
}

impl ScriptedTransport {
    pub fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }
}

#[async_trait]
impl Transport for ScriptedTransport {
    async fn send(&self, _request: WireRequest) -> Result<WireResponse, TransportError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        let (status, chunks) = self
            .responses
            .lock()
            .unwrap()
            .pop_front()
            .unwrap_or((503, vec![]));
        let body = futures_util::stream::iter(chunks.into_iter().map(|c| Ok(Bytes::from(c))));
        Ok(WireResponse {
            status,
            content_type: None,
            body: Box::pin(body),
        })
    }
}

#[derive(Debug, Default)]
struct NoSleep;

#[async_trait]
impl Sleeper for NoSleep {
    async fn sleep(&self, _duration: Duration) {}
}

/// A client whose every call is answered by the scripted responses, in order.
pub fn scripted_client(
    responses: Vec<(u16, Vec<Vec<u8>>)>,
) -> (GeminiClient, Arc<ScriptedTransport>) {
    let transport = Arc::new(ScriptedTransport {
        responses: Mutex::new(responses.into()),
        calls: AtomicUsize::new(0),
    });
    let client = GeminiClient::builder()
        .transport(transport.clone())
        .timeout(None)
        .sleeper(Arc::new(NoSleep))
        .retry_policy(
            RetryPolicy::default()
                .with_jitter(0.0)
                .with_max_attempts(ATTEMPTS)
                .with_initial_backoff(Duration::ZERO),
        )
        .build()
        .unwrap();
    (client, transport)
}

/// The runtime all iterations share.
pub fn runtime() -> &'static tokio::runtime::Runtime {
    static RT: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RT.get_or_init(|| {
        tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .unwrap()
    })
}

/// Splits `bytes` at the given cut points (taken modulo the length).
pub fn split(bytes: &[u8], cuts: &[u16]) -> Vec<Vec<u8>> {
    let mut points: Vec<usize> = cuts
        .iter()
        .map(|c| {
            if bytes.is_empty() {
                0
            } else {
                usize::from(*c) % bytes.len()
            }
        })
        .collect();
    points.sort_unstable();
    points.dedup();
    let mut out = Vec::new();
    let mut start = 0;
    for p in points {
        if p > start {
            out.push(bytes[start..p].to_vec());
            start = p;
        }
    }
    out.push(bytes[start..].to_vec());
    out
}

/// A status: mostly 200, sometimes an error the client maps or retries.
pub fn status(selector: u8) -> u16 {
    const OTHERS: [u16; 11] = [400, 401, 403, 404, 408, 429, 500, 502, 503, 504, 302];
    if selector < 200 {
        200
    } else {
        OTHERS[usize::from(selector) % OTHERS.len()]
    }
}
