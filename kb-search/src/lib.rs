#![doc = include_str!("../README.md")]

mod bm25;
pub mod chunk;
pub mod classifier;
mod embedder;
mod error;
pub mod index;
mod onnx_runtime;
pub mod progress;

pub use classifier::{LearnedClassifier, TrainingExample, TrainingReport};
pub use embedder::{EmbedderOptions, FastembedEmbedder, HELPDESK_MODEL_DIR, MODEL_FILES};
pub use index::{IndexStats, KbIndex, KbIndexOptions};
pub use onnx_runtime::{MIN_ONNX_RUNTIME, ORT_DYLIB_PATH};
pub use progress::{IndexProgress, NoProgress};
