#![doc = include_str!("../README.md")]
#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod call;
pub mod embed;
pub mod http;
#[cfg(feature = "mock-server")]
#[cfg_attr(docsrs, doc(cfg(feature = "mock-server")))]
pub mod mock;
pub mod retry;
pub mod sse;
pub mod stream;
#[cfg(feature = "testing")]
#[cfg_attr(docsrs, doc(cfg(feature = "testing")))]
pub mod testing;

pub use call::{CallPolicy, DEFAULT_TIMEOUT, Failure};
pub use http::{JsonPoster, MAX_BODY_BYTES, MAX_ERROR_BODY, Secret};
pub use retry::{RecordingSleeper, RetryPolicy, Sleeper, TokioSleeper};
