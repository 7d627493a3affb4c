//! Live events as Server-Sent Events: what happens to the tickets the caller may see, as it
//! happens, resumable with `Last-Event-ID`.
//!
//! Events come from the store's event log (`Helpdesk::event_feed`), not from this
//! process's memory, so several app instances on one store serve the same stream and a
//! client may reconnect to any of them. Staff see every event of their tenant (new tickets,
//! messages, assignments, SLA breaches, ...); a customer sees the public events of their own
//! tickets and chats (never notes, drafts or internals).
//!
//! A stream waits for new events on the helpdesk's commit signal
//! ([`Helpdesk::commit_waiter`](helpdesk_core::Helpdesk::commit_waiter)): at once for this
//! instance's writes and, on a store that relays them (PostgreSQL's `LISTEN`/`NOTIFY`), for
//! other instances' writes; it also reads the store every poll interval, which is what
//! brings other instances' events on a store that does not relay.
//!
//! Delivery is at least once: every page of events ends with an `id:` (a cursor), and a
//! client reconnecting with it as `Last-Event-ID` gets everything after that page, so
//! events after the last id it saw may come again; the event's own `id` in the data tells
//! duplicates apart.

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use futures_util::Stream;
use futures_util::stream::{self, StreamExt};
use helpdesk_core::Error;
use helpdesk_core::domain::Actor;
use helpdesk_core::service::{FeedCursor, FeedPage};
use helpdesk_core::store::CommitWaiter;
use serde::Deserialize;
use utoipa::IntoParams;

use crate::ApiState;
use crate::auth::Caller;
use crate::extract::Query;
use crate::problem::ApiResult;
use crate::resources::LiveEvent;

/// Events read from the store per page.
const PAGE: u32 = 100;
/// What clients are told to wait before reconnecting.
const RECONNECT: Duration = Duration::from_secs(2);

/// Where to start.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct StreamParams {
    /// Resume after this cursor (an `id` of this stream), for clients that cannot send
    /// `Last-Event-ID`. Without either, the stream starts now.
    cursor: Option<String>,
}

/// The caller's live events, as `text/event-stream`.
///
/// Each event's `event:` is its type and its `data:` a JSON [`LiveEvent`]. Every page ends
/// with an `id:`; reconnect with it as `Last-Event-ID` (or `?cursor=`) to resume. A comment
/// line every 15 s keeps idle connections open.
#[utoipa::path(get, path = "/events", tag = "events",
    params(StreamParams,
        ("Last-Event-ID" = Option<String>, Header, description = "Resume after this id")),
    responses(
        (status = 200, content_type = "text/event-stream", body = LiveEvent,
         description = "A stream of events; each `data:` line is one LiveEvent"),
        (status = 422, description = "Invalid input (the problem names the field)"),
    ))]
pub(crate) async fn stream(
    State(state): State<ApiState>,
    Caller(actor): Caller,
    headers: HeaderMap,
    Query(params): Query<StreamParams>,
) -> ApiResult<Sse<impl Stream<Item = Result<SseEvent, Infallible>>>> {
    let resume = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
        .or(params.cursor)
        .filter(|c| !c.trim().is_empty());
    let start = match resume {
        Some(text) => FeedCursor::decode(text.trim())?,
        None => FeedCursor::from_time(state.helpdesk().now()),
    };
    // Waiting starts before the first read, so a commit right after it is not missed.
    let waiter = state.helpdesk().commit_waiter().await;
    // The first page is read before answering, so a caller who may not read events gets a
    // problem document instead of an empty stream.
    let first = state
        .helpdesk()
        .event_feed(&actor, Some(&start), PAGE)
        .await?;
    let opening = SseEvent::default()
        .id(start.encode())
        .retry(RECONNECT)
        .comment("connected");
    let poll = state.event_poll_interval();
    let feed = Feed {
        state,
        waiter,
        actor,
        cursor: start,
        pending: Some(first),
        wait: false,
        poll,
    };
    let events = stream::once(async move { vec![opening] })
        .chain(stream::unfold(feed, Feed::next_batch))
        .flat_map(stream::iter)
        .map(Ok);
    Ok(Sse::new(events).keep_alive(KeepAlive::new().interval(Duration::from_secs(15))))
}

/// The state of one client's stream.
struct Feed {
    state: ApiState,
    waiter: CommitWaiter,
    actor: Actor,
    cursor: FeedCursor,
    pending: Option<FeedPage>,
    wait: bool,
    poll: Duration,
}

impl Feed {
    /// The next non-empty batch of SSE events; `None` ends the stream (the caller's
    /// session or key stopped working).
    async fn next_batch(mut self) -> Option<(Vec<SseEvent>, Self)> {
        loop {
            if self.wait {
                self.waiter.wait_for(self.actor.tenant_id, self.poll).await;
            }
            let page = match self.pending.take() {
                Some(page) => page,
                None => match self
                    .state
                    .helpdesk()
                    .event_feed(&self.actor, Some(&self.cursor), PAGE)
                    .await
                {
                    Ok(page) => page,
                    Err(Error::Unauthenticated { .. } | Error::Forbidden { .. }) => return None,
                    Err(error) => {
                        tracing::warn!(%error, "reading the event feed failed; retrying");
                        self.wait = true;
                        continue;
                    }
                },
            };
            self.wait = !page.more;
            self.cursor = page.cursor.clone();
            if page.items.is_empty() {
                continue;
            }
            return Some((self.to_sse(page), self));
        }
    }

    fn to_sse(&self, page: FeedPage) -> Vec<SseEvent> {
        let staff = self.actor.is_staff();
        let last = page.items.len().saturating_sub(1);
        let cursor = page.cursor.encode();
        page.items
            .into_iter()
            .enumerate()
            .map(|(i, item)| {
                let kind = item.kind;
                let data = serde_json::to_string(&LiveEvent::new(item, staff))
                    .unwrap_or_else(|_| "{}".into());
                let event = SseEvent::default().event(kind).data(data);
                if i == last {
                    event.id(cursor.clone())
                } else {
                    event
                }
            })
            .collect()
    }
}
