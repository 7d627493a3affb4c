//! The pump behind a provider's streamed answer: reads the response body under the call's
//! deadline, decodes it with an [`SseParser`], hands every item to the provider's
//! [`SseHandler`], and yields the deltas and the error the handler queues in [`Deltas`].
//!
//! The stream ends after the final delta or after an error, which is then its last item;
//! nothing more is read from the body.

use std::collections::VecDeque;
use std::pin::Pin;
use std::time::Duration;

use bytes::Bytes;
use futures_core::Stream;
use futures_util::StreamExt;
use helpdesk_core::{DeltaStream, ModelError, StreamDelta};
use tokio::time::Instant;

use crate::sse::{SseError, SseItem, SseParser};

/// A response body whose read failures are already core errors.
pub type ByteStream = Pin<Box<dyn Stream<Item = Result<Bytes, ModelError>> + Send>>;

/// What a provider does with the items of its event stream.
pub trait SseHandler: Send + 'static {
    /// Reads one item: queues deltas, the final delta or an error in `out`.
    fn on_item(&mut self, item: SseItem, out: &mut Deltas);

    /// The body ended without a final delta or an error: queues the final delta, or why
    /// there is none (a stream closed early).
    fn on_end(&mut self, out: &mut Deltas);

    /// A malformed event stream (not UTF-8, an endless line) as a core error.
    fn format_error(&self, error: SseError) -> ModelError;
}

/// The deltas and the error a handler has queued, and whether the stream is complete.
#[derive(Debug, Default)]
pub struct Deltas {
    ready: VecDeque<Result<StreamDelta, ModelError>>,
    done: bool,
}

impl Deltas {
    /// Queues a delta of the answer.
    pub fn push(&mut self, delta: StreamDelta) {
        self.ready.push_back(Ok(delta));
    }

    /// Queues the final delta: nothing more is read.
    pub fn finish(&mut self, delta: StreamDelta) {
        self.ready.push_back(Ok(delta));
        self.done = true;
    }

    /// Queues the error that ends the stream: nothing more is read.
    pub fn fail(&mut self, error: ModelError) {
        self.ready.push_back(Err(error));
        self.done = true;
    }

    /// Whether the final delta or an error was queued.
    pub fn is_done(&self) -> bool {
        self.done
    }
}

struct Pump<H> {
    body: ByteStream,
    parser: SseParser,
    handler: H,
    out: Deltas,
    deadline: Option<(Instant, Duration)>,
}

impl<H: SseHandler> Pump<H> {
    fn dispatch(&mut self, items: Result<Vec<SseItem>, SseError>) {
        let items = match items {
            Ok(items) => items,
            Err(e) => return self.out.fail(self.handler.format_error(e)),
        };
        for item in items {
            if self.out.done {
                return;
            }
            self.handler.on_item(item, &mut self.out);
        }
    }

    /// Reads the next chunk of the body and hands its items to the handler.
    async fn read(&mut self) {
        let next = match self.deadline {
            Some((at, limit)) => match tokio::time::timeout_at(at, self.body.next()).await {
                Ok(next) => next,
                Err(_) => return self.out.fail(ModelError::Timeout(limit)),
            },
            None => self.body.next().await,
        };
        match next {
            Some(Ok(chunk)) => {
                let items = self.parser.push(&chunk);
                self.dispatch(items);
            }
            Some(Err(e)) => self.out.fail(e),
            None => {
                let items = self.parser.finish();
                self.dispatch(items);
                if !self.out.done {
                    self.handler.on_end(&mut self.out);
                }
                // A handler that queued nothing at the end still ends the stream.
                self.out.done = true;
            }
        }
    }
}

/// Turns an event-stream body into a stream of deltas read by `handler`, failing with
/// [`ModelError::Timeout`] (its limit) once `deadline` passes.
pub fn delta_stream<H: SseHandler>(
    body: ByteStream,
    parser: SseParser,
    deadline: Option<(Instant, Duration)>,
    handler: H,
) -> DeltaStream {
    let pump = Pump {
        body,
        parser,
        handler,
        out: Deltas::default(),
        deadline,
    };
    Box::pin(futures_util::stream::unfold(pump, |mut pump| async move {
        loop {
            if let Some(item) = pump.out.ready.pop_front() {
                return Some((item, pump));
            }
            if pump.out.done {
                return None;
            }
            pump.read().await;
        }
    }))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;
    use helpdesk_core::FinishReason;

    /// Data events are text; `end` finishes; a body without it is cut short.
    struct Echo;

    impl SseHandler for Echo {
        fn on_item(&mut self, item: SseItem, out: &mut Deltas) {
            let SseItem::Data(text) = item else { return };
            let delta = |finish_reason| StreamDelta {
                text: text.clone(),
                finish_reason,
                usage: None,
            };
            if text == "end" {
                out.finish(delta(Some(FinishReason::Stop)));
            } else {
                out.push(delta(None));
            }
        }

        fn on_end(&mut self, out: &mut Deltas) {
            out.fail(ModelError::Truncated);
        }

        fn format_error(&self, _: SseError) -> ModelError {
            ModelError::MalformedOutput {
                message: "bad stream".into(),
            }
        }
    }

    fn body(chunks: &[&'static str]) -> ByteStream {
        let chunks: Vec<_> = chunks.iter().map(|c| Ok(Bytes::from(*c))).collect();
        Box::pin(futures_util::stream::iter(chunks))
    }

    async fn texts(stream: DeltaStream) -> Vec<Result<String, String>> {
        stream
            .map(|d| d.map(|d| d.text).map_err(|e| e.kind_name().to_owned()))
            .collect()
            .await
    }

    #[tokio::test]
    async fn deltas_then_the_final_one_and_nothing_after_it() {
        let s = delta_stream(
            body(&["data: a\n\nda", "ta: end\n\ndata: never\n\n"]),
            SseParser::new(),
            None,
            Echo,
        );
        assert_eq!(texts(s).await, [Ok("a".into()), Ok("end".into())]);
    }

    #[tokio::test]
    async fn a_body_cut_short_and_a_bad_body_end_with_an_error() {
        let cut = delta_stream(body(&["data: a\n\n"]), SseParser::new(), None, Echo);
        assert_eq!(texts(cut).await, [Ok("a".into()), Err("truncated".into())]);
        let invalid: ByteStream = Box::pin(futures_util::stream::iter([Ok(Bytes::from_static(
            b"data: \xff\n\n",
        ))]));
        let bad = delta_stream(invalid, SseParser::new(), None, Echo);
        assert_eq!(texts(bad).await, [Err("malformed_output".into())]);
    }

    #[tokio::test(start_paused = true)]
    async fn the_deadline_ends_a_stalled_body() {
        let limit = Duration::from_millis(300);
        let stalled: ByteStream = Box::pin(
            futures_util::stream::iter([Ok(Bytes::from_static(b"data: a\n\n"))])
                .chain(futures_util::stream::pending()),
        );
        let s = delta_stream(
            stalled,
            SseParser::new(),
            Some((Instant::now() + limit, limit)),
            Echo,
        );
        let items: Vec<_> = s.collect().await;
        assert_eq!(items.len(), 2);
        assert!(matches!(items[1], Err(ModelError::Timeout(l)) if l == limit));
    }
}
