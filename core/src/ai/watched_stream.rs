//! A streamed model answer whose end is reported to the circuit breaker: an error part-way
//! through, or a stream dropped before its last delta (its caller's deadline passed), is a
//! failed call like one that never started; a stream read to its end is a success.

use std::pin::Pin;
use std::task::{Context, Poll};

use futures_core::Stream;

use super::breaker::Permit;
use crate::ModelError;
use crate::llm::{DeltaStream, StreamDelta};

/// A model's delta stream holding the breaker permit of its call until it ends.
pub(crate) struct WatchedStream {
    inner: DeltaStream,
    /// Taken when the outcome is known; dropped unfinished, it records a timeout.
    permit: Option<Permit>,
}

impl WatchedStream {
    pub(crate) fn new(inner: DeltaStream, permit: Permit) -> Self {
        Self {
            inner,
            permit: Some(permit),
        }
    }

    fn settle(&mut self, error: Option<&ModelError>) {
        if let Some(permit) = self.permit.take() {
            permit.finish(error);
        }
    }
}

impl Stream for WatchedStream {
    type Item = Result<StreamDelta, ModelError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let polled = self.inner.as_mut().poll_next(cx);
        match &polled {
            Poll::Ready(Some(Err(e))) => self.settle(Some(e)),
            Poll::Ready(Some(Ok(delta))) if delta.finish_reason.is_some() => self.settle(None),
            Poll::Ready(None) => self.settle(None),
            _ => {}
        }
        polled
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::panic)]

    use std::sync::Arc;
    use std::time::Duration;

    use futures_util::StreamExt;

    use super::super::breaker::{Breaker, BreakerSettings};
    use super::*;
    use crate::SystemClock;
    use crate::ai::{AiStatus, DegradedReason};
    use crate::llm::FinishReason;

    fn breaker() -> Arc<Breaker> {
        Arc::new(Breaker::new(
            BreakerSettings {
                failure_threshold: 2,
                cool_down: Duration::from_secs(30),
            },
            Arc::new(SystemClock),
        ))
    }

    fn delta(text: &str, last: bool) -> Result<StreamDelta, ModelError> {
        Ok(StreamDelta {
            text: text.into(),
            finish_reason: last.then_some(FinishReason::Stop),
            usage: None,
        })
    }

    fn watched(b: &Arc<Breaker>, items: Vec<Result<StreamDelta, ModelError>>) -> WatchedStream {
        let permit = b.permit_for_test();
        WatchedStream::new(Box::pin(futures_util::stream::iter(items)), permit)
    }

    fn unavailable() -> ModelError {
        ModelError::Unavailable {
            status: 503,
            message: "overloaded".into(),
        }
    }

    fn degraded(b: &Breaker) -> Option<DegradedReason> {
        match b.status() {
            AiStatus::Degraded { reason, .. } => Some(reason),
            _ => None,
        }
    }

    #[tokio::test]
    async fn failures_half_way_through_open_the_breaker() {
        let b = breaker();
        for _ in 0..2 {
            let items = vec![delta("Sure, ", false), Err(unavailable())];
            let got: Vec<_> = watched(&b, items).collect().await;
            assert!(got[1].is_err());
        }
        assert_eq!(degraded(&b), Some(DegradedReason::Unavailable));
    }

    #[tokio::test]
    async fn streams_dropped_before_their_end_count_as_timeouts() {
        let b = breaker();
        for _ in 0..2 {
            let mut stream = watched(&b, vec![delta("Sure, ", false), delta("done", true)]);
            assert!(stream.next().await.is_some());
            drop(stream);
        }
        assert_eq!(degraded(&b), Some(DegradedReason::Timeout));
    }

    #[tokio::test]
    async fn streams_read_to_the_end_are_successes() {
        let b = breaker();
        b.permit_for_test().finish(Some(&unavailable()));
        let got: Vec<_> = watched(&b, vec![delta("All ", false), delta("good", true)])
            .collect()
            .await;
        assert_eq!(got.len(), 2);
        // The success reset the count: one more failure does not open the breaker.
        b.permit_for_test().finish(Some(&unavailable()));
        assert_eq!(degraded(&b), None);
    }
}
