//! The mock's HTTP handler: routing, validation, scripted or default replies, recording.

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, Uri};
use axum::response::Response;
use helpdesk_llm_http::mock::{
    ContentTypes, Outcome, fake_embedding, halves, render, value_for_schema,
};
use serde_json::{Value, json};

use super::script::{MockReply, MockStream, answer_body, error_body, stream_pieces};
use super::validate::{
    check_embed_body, check_generate_body, check_input_tokens, check_key, model_not_found,
};
use super::{Endpoint, MOCK_API_KEY, ReceivedRequest, SharedState, lock};
use crate::transport::API_KEY_HEADER;

/// The default text answer.
const DEFAULT_TEXT: &str = "This is a mock Gemini answer.";

/// What the real API sends.
const CONTENT_TYPES: ContentTypes = ContentTypes {
    json: "application/json; charset=UTF-8",
    event_stream: "text/event-stream",
};

/// The requested schema of a generate body, if any.
fn requested_schema(body: &Value) -> Option<&Value> {
    let config = body
        .get("generationConfig")
        .or_else(|| body.get("generation_config"))?;
    [
        "responseJsonSchema",
        "response_json_schema",
        "responseSchema",
        "response_schema",
    ]
    .iter()
    .find_map(|k| config.get(*k))
}

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
    let query = uri.query().unwrap_or("");
    let key_header = headers
        .get(API_KEY_HEADER)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let key_query = query
        .split('&')
        .find_map(|p| p.strip_prefix("key="))
        .map(str::to_owned);
    let (model, method_name) = uri
        .path()
        .strip_prefix("/v1beta/models/")
        .and_then(|rest| rest.split_once(':'))
        .unwrap_or(("", ""));
    let endpoint = match (method == Method::POST, method_name) {
        (true, "generateContent") => Endpoint::GenerateContent,
        (true, "streamGenerateContent") => Endpoint::StreamGenerateContent,
        (true, "batchEmbedContents") => Endpoint::BatchEmbedContents,
        (true, "embedContent") => Endpoint::EmbedContent,
        _ => Endpoint::Other,
    };
    let json_body: Option<Value> = serde_json::from_slice(&body).ok();
    let outcome = decide(
        &state,
        endpoint,
        model,
        method_name,
        key_header.as_deref().or(key_query.as_deref()),
        json_body.as_ref(),
    );
    {
        let mut guard = lock(&state);
        *guard.counts.entry(endpoint).or_insert(0) += 1;
        guard.requests.push(ReceivedRequest {
            endpoint,
            model: model.to_owned(),
            path_and_query: uri
                .path_and_query()
                .map(ToString::to_string)
                .unwrap_or_default(),
            api_key_header: key_header,
            key_in_query: key_query.is_some(),
            body: json_body.unwrap_or(Value::Null),
            status: outcome.status(),
        });
    }
    render(outcome, CONTENT_TYPES).await
}

fn decide(
    state: &SharedState,
    endpoint: Endpoint,
    model: &str,
    method_name: &str,
    key: Option<&str>,
    body: Option<&Value>,
) -> Outcome {
    if endpoint == Endpoint::Other {
        return (
            404,
            error_body(404, "NOT_FOUND", "Requested entity was not found.", vec![]),
        )
            .into();
    }
    if let Err(rejection) = check_key(key, MOCK_API_KEY) {
        return rejection.into();
    }
    if !lock(state).models.contains(model) {
        return model_not_found(model, method_name).into();
    }
    let Some(body) = body else {
        return (
            400,
            error_body(
                400,
                "INVALID_ARGUMENT",
                "Invalid JSON payload received. Unexpected token.",
                vec![],
            ),
        )
            .into();
    };
    match endpoint {
        Endpoint::GenerateContent => {
            if let Err(rejection) = check_generate_body(body)
                .and_then(|()| check_input_tokens(body, lock(state).input_token_limit))
            {
                return rejection.into();
            }
            let scripted = lock(state).generate.pop_front();
            let reply = scripted.unwrap_or_else(|| default_reply(body));
            reply_outcome(&reply)
        }
        Endpoint::StreamGenerateContent => {
            if let Err(rejection) = check_generate_body(body)
                .and_then(|()| check_input_tokens(body, lock(state).input_token_limit))
            {
                return rejection.into();
            }
            let scripted = lock(state).streams.pop_front();
            let stream = scripted.unwrap_or_else(|| default_stream(body));
            match (&stream, stream_pieces(&stream)) {
                (_, Some(pieces)) => Outcome::Sse(pieces, None),
                (MockStream::Reply(reply), None) => reply_outcome(reply),
                (_, None) => Outcome::Sse(Vec::new(), None),
            }
        }
        Endpoint::BatchEmbedContents => match check_embed_body(body, model) {
            Err(rejection) => rejection.into(),
            Ok((_, dims)) => {
                let texts: Vec<String> = body["requests"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|r| {
                        r["content"]["parts"][0]["text"]
                            .as_str()
                            .unwrap_or("")
                            .to_owned()
                    })
                    .collect();
                let scripted = lock(state).embeds.pop_front();
                embed_outcome(scripted.as_ref(), &texts, dims.unwrap_or(3072))
            }
        },
        Endpoint::EmbedContent | Endpoint::Other => {
            let text = body["content"]["parts"][0]["text"].as_str().unwrap_or("");
            let dims = body["outputDimensionality"].as_u64().unwrap_or(3072) as usize;
            Outcome::Json(
                200,
                json!({"embedding": {"values": fake_embedding(text, dims)}}),
                vec![],
            )
        }
    }
}

fn default_reply(body: &Value) -> MockReply {
    match requested_schema(body) {
        Some(schema) => MockReply::Json(value_for_schema(schema)),
        None => MockReply::Text(DEFAULT_TEXT.to_owned()),
    }
}

fn default_stream(body: &Value) -> MockStream {
    let text = match requested_schema(body) {
        Some(schema) => value_for_schema(schema).to_string(),
        None => DEFAULT_TEXT.to_owned(),
    };
    MockStream::text(halves(&text))
}

fn reply_outcome(reply: &MockReply) -> Outcome {
    match reply {
        MockReply::Error { status, body } => Outcome::Json(*status, body.clone(), vec![]),
        MockReply::Raw {
            status,
            content_type,
            body,
        } => Outcome::Raw(*status, content_type.clone(), body.clone()),
        MockReply::Delay(delay, inner) => Outcome::Delay(*delay, Box::new(reply_outcome(inner))),
        answer => Outcome::Json(200, answer_body(answer).unwrap_or(Value::Null), vec![]),
    }
}

fn embed_outcome(reply: Option<&MockReply>, texts: &[String], dims: usize) -> Outcome {
    match reply {
        Some(MockReply::Delay(delay, inner)) => {
            Outcome::Delay(*delay, Box::new(embed_outcome(Some(inner), texts, dims)))
        }
        Some(reply @ (MockReply::Error { .. } | MockReply::Raw { .. })) => reply_outcome(reply),
        _ => {
            let embeddings: Vec<Value> = texts
                .iter()
                .map(|t| json!({"values": fake_embedding(t, dims)}))
                .collect();
            Outcome::Json(200, json!({ "embeddings": embeddings }), vec![])
        }
    }
}
