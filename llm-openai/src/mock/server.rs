//! The mock's HTTP handler: routing, validation, scripted or default replies, recording.

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, Uri, header};
use axum::response::Response;
use helpdesk_llm_http::mock::{
    ContentTypes, Outcome, fake_embedding, halves, render, value_for_schema,
};
use serde_json::{Value, json};

use super::defaults::{DEFAULT_TEXT, requested_schema};
use super::script::{MockReply, MockStream, answer_body, completion, error_body, stream_pieces};
use super::validate::{check_chat_body, check_embed_body, check_key, model_not_found};
use super::{Endpoint, MOCK_API_KEY, MOCK_EMBEDDING_MODELS, ReceivedRequest, SharedState, lock};

/// What OpenAI sends.
const CONTENT_TYPES: ContentTypes = ContentTypes {
    json: "application/json",
    event_stream: "text/event-stream; charset=utf-8",
};

pub(crate) fn router(state: SharedState) -> Router {
    Router::new().fallback(handle).with_state(state)
}

async fn handle(
    State(state): State<SharedState>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let endpoint = match (method.clone(), uri.path().trim_end_matches('/')) {
        (Method::POST, "/v1/chat/completions") => Endpoint::ChatCompletions,
        (Method::POST, "/v1/embeddings") => Endpoint::Embeddings,
        (Method::GET, "/v1/models") => Endpoint::Models,
        _ => Endpoint::Other,
    };
    let key = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .or_else(|| headers.get("api-key").and_then(|v| v.to_str().ok()));
    let json_body: Option<Value> = serde_json::from_slice(&body).ok();
    let outcome = decide(&state, endpoint, &method, &uri, key, json_body.as_ref());
    {
        let mut guard = lock(&state);
        *guard.counts.entry(endpoint).or_insert(0) += 1;
        guard.requests.push(ReceivedRequest {
            endpoint,
            path_and_query: uri
                .path_and_query()
                .map(ToString::to_string)
                .unwrap_or_default(),
            headers: headers
                .iter()
                .map(|(n, v)| (n.as_str().to_owned(), v.to_str().unwrap_or("").to_owned()))
                .collect(),
            body: json_body.unwrap_or(Value::Null),
            status: outcome.status(),
        });
    }
    render(outcome, CONTENT_TYPES).await
}

fn decide(
    state: &SharedState,
    endpoint: Endpoint,
    method: &Method,
    uri: &Uri,
    key: Option<&str>,
    body: Option<&Value>,
) -> Outcome {
    if endpoint == Endpoint::Other {
        let message = format!("Invalid URL ({method} {})", uri.path());
        return Outcome::Json(
            404,
            error_body("invalid_request_error", None, None, &message),
            vec![],
        );
    }
    if lock(state).require_key
        && let Err(rejection) = check_key(key, MOCK_API_KEY)
    {
        return rejection.into();
    }
    if endpoint == Endpoint::Models {
        let state = lock(state);
        let mut ids: Vec<&str> = state.models.iter().map(String::as_str).collect();
        ids.extend(MOCK_EMBEDDING_MODELS.iter().map(|(m, _)| *m));
        ids.sort_unstable();
        let data: Vec<Value> = ids
            .iter()
            .map(|id| json!({"id": id, "object": "model", "created": 1_700_000_000, "owned_by": "mock"}))
            .collect();
        return Outcome::Json(200, json!({"object": "list", "data": data}), vec![]);
    }
    let Some(body) = body else {
        return Outcome::Json(
            400,
            error_body(
                "invalid_request_error",
                None,
                None,
                "We could not parse the JSON body of your request. (HINT: This likely means you aren't using your HTTP library correctly. The OpenAI API expects a JSON payload, but what was sent was not valid JSON.)",
            ),
            vec![],
        );
    };
    let model = body.get("model").and_then(Value::as_str).unwrap_or("");
    if model.is_empty() {
        return Outcome::Json(
            400,
            error_body(
                "invalid_request_error",
                None,
                Some("model"),
                "you must provide a model parameter",
            ),
            vec![],
        );
    }
    match endpoint {
        Endpoint::ChatCompletions => chat(state, model, body),
        _ => embeddings(state, model, body),
    }
}

fn chat(state: &SharedState, model: &str, body: &Value) -> Outcome {
    let (known, schema_ok, window) = {
        let s = lock(state);
        (
            s.models.contains(model),
            s.json_schema_supported,
            s.context_window,
        )
    };
    if !known {
        return model_not_found(model).into();
    }
    if model.starts_with('o') && body.get("max_tokens").is_some() {
        return Outcome::Json(
            400,
            error_body(
                "invalid_request_error",
                Some("unsupported_parameter"),
                Some("max_tokens"),
                "Unsupported parameter: 'max_tokens' is not supported with this model. Use 'max_completion_tokens' instead.",
            ),
            vec![],
        );
    }
    let prompt_tokens = match check_chat_body(body, schema_ok, window) {
        Ok(tokens) => tokens,
        Err(rejection) => return rejection.into(),
    };
    let cap = body
        .get("max_completion_tokens")
        .or_else(|| body.get("max_tokens"))
        .and_then(Value::as_u64);
    if body.get("stream") == Some(&json!(true)) {
        let include_usage = body["stream_options"]["include_usage"] == json!(true);
        let scripted = lock(state).streams.pop_front();
        let stream = scripted.unwrap_or_else(|| default_stream(body, cap));
        return match (
            &stream,
            stream_pieces(&stream, model, prompt_tokens, include_usage),
        ) {
            (_, Some((pieces, pause))) => Outcome::Sse(pieces, pause),
            (MockStream::Reply(reply), None) => reply_outcome(reply, model, prompt_tokens),
            (_, None) => Outcome::Sse(Vec::new(), None),
        };
    }
    let scripted = lock(state).chat.pop_front();
    match scripted {
        Some(reply) => reply_outcome(&reply, model, prompt_tokens),
        None => {
            let (text, finish) = capped(default_text(body), cap);
            Outcome::Json(
                200,
                completion(model, Some(&text), None, finish, prompt_tokens),
                vec![],
            )
        }
    }
}

fn default_text(body: &Value) -> String {
    match requested_schema(body) {
        Some(schema) => value_for_schema(&schema).to_string(),
        None => DEFAULT_TEXT.to_owned(),
    }
}

/// The answer cut to `cap` words, and its finish reason.
fn capped(text: String, cap: Option<u64>) -> (String, &'static str) {
    match cap {
        Some(cap) if text.split_whitespace().count() as u64 > cap => {
            let cut: Vec<&str> = text.split_whitespace().take(cap as usize).collect();
            (cut.join(" "), "length")
        }
        _ => (text, "stop"),
    }
}

fn default_stream(body: &Value, cap: Option<u64>) -> MockStream {
    let (text, finish) = capped(default_text(body), cap);
    MockStream::Chunks {
        texts: halves(&text).to_vec(),
        finish_reason: finish.to_owned(),
    }
}

fn reply_outcome(reply: &MockReply, model: &str, prompt_tokens: u64) -> Outcome {
    match reply {
        MockReply::Error {
            status,
            body,
            headers,
        } => Outcome::Json(*status, body.clone(), headers.clone()),
        MockReply::Raw {
            status,
            content_type,
            body,
        } => Outcome::Raw(*status, content_type.clone(), body.clone()),
        MockReply::Delay(delay, inner) => {
            Outcome::Delay(*delay, Box::new(reply_outcome(inner, model, prompt_tokens)))
        }
        answer => Outcome::Json(
            200,
            answer_body(answer, model, prompt_tokens).unwrap_or(Value::Null),
            vec![],
        ),
    }
}

fn embeddings(state: &SharedState, model: &str, body: &Value) -> Outcome {
    let Some((_, dims)) = MOCK_EMBEDDING_MODELS.iter().find(|(m, _)| *m == model) else {
        return model_not_found(model).into();
    };
    let (texts, dims) = match check_embed_body(body, *dims, model) {
        Ok(checked) => checked,
        Err(rejection) => return rejection.into(),
    };
    let scripted = lock(state).embeds.pop_front();
    embed_outcome(scripted.as_ref(), model, &texts, dims)
}

fn embed_outcome(reply: Option<&MockReply>, model: &str, texts: &[String], dims: usize) -> Outcome {
    match reply {
        Some(MockReply::Delay(delay, inner)) => Outcome::Delay(
            *delay,
            Box::new(embed_outcome(Some(inner), model, texts, dims)),
        ),
        Some(reply @ (MockReply::Error { .. } | MockReply::Raw { .. })) => {
            reply_outcome(reply, model, 0)
        }
        _ => {
            let data: Vec<Value> = texts
                .iter()
                .enumerate()
                .map(|(i, t)| json!({"object": "embedding", "index": i, "embedding": fake_embedding(t, dims)}))
                .collect();
            let tokens: usize = texts.iter().map(|t| t.split_whitespace().count()).sum();
            Outcome::Json(
                200,
                json!({"object": "list", "data": data, "model": model,
                       "usage": {"prompt_tokens": tokens, "total_tokens": tokens}}),
                vec![],
            )
        }
    }
}
