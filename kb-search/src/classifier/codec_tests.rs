//! Unit tests of the model bytes: round trips, and hand-made inconsistent models that
//! decode (a correct checksum over a forged payload) but must be refused.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::borrow::Cow;

use helpdesk_core::Error;

use super::super::model::{LabelledText, TextClassifierModel, TrainOptions};
use super::*;

const EMBEDDER: &str = "test-embedder";

fn model() -> TextClassifierModel {
    let data: [(&str, [f32; 4], &str); 6] = [
        ("refund my invoice", [1.0, 0.0, 0.0, 0.0], "billing"),
        ("charged twice", [0.9, 0.1, 0.0, 0.0], "billing"),
        ("app crashes", [0.0, 1.0, 0.0, 0.0], "technical"),
        ("upload error", [0.1, 0.9, 0.0, 0.0], "technical"),
        ("reset password", [0.0, 0.0, 1.0, 0.0], "account"),
        ("locked account", [0.0, 0.0, 0.9, 0.1], "account"),
    ];
    let rows: Vec<LabelledText<'_>> = data
        .iter()
        .map(|(text, embedding, category)| LabelledText {
            text,
            embedding,
            category,
        })
        .collect();
    let options = TrainOptions {
        threads: 1,
        ..TrainOptions::default()
    };
    TextClassifierModel::train(&rows, &options).unwrap()
}

/// Header and checksum around a payload, as `to_bytes` writes them, without the checks.
fn seal(payload: &[u8]) -> Vec<u8> {
    let mut out = MODEL_MAGIC.to_vec();
    out.extend_from_slice(&MODEL_FORMAT_VERSION.to_le_bytes());
    out.extend_from_slice(&Sha256::digest(payload));
    out.extend_from_slice(payload);
    out
}

/// The bytes of `model` after `forge` changed its wire form.
fn forged(model: &TextClassifierModel, forge: impl FnOnce(&mut Wire<'_>)) -> Vec<u8> {
    let mut wire = Wire::of(model, EMBEDDER).unwrap();
    forge(&mut wire);
    seal(&postcard::to_stdvec(&wire).unwrap())
}

fn refused_field(bytes: &[u8]) -> String {
    match TextClassifierModel::from_bytes(bytes, EMBEDDER) {
        Err(Error::Validation { field, .. }) => field.into_owned(),
        Err(other) => panic!("not a validation error: {other}"),
        Ok(_) => panic!("an inconsistent model was accepted"),
    }
}

fn predictions(model: &TextClassifierModel) -> Vec<(String, u32)> {
    let probes: [(&str, [f32; 4]); 4] = [
        ("refund please", [1.0, 0.0, 0.0, 0.0]),
        ("the app crashes", [0.0, 1.0, 0.0, 0.0]),
        ("password", [0.0, 0.0, 1.0, 0.0]),
        ("", [0.5, 0.5, 0.0, 0.0]),
    ];
    probes
        .iter()
        .map(|(text, e)| {
            let p = model.predict(text, e).unwrap();
            (p.category, p.confidence.to_bits())
        })
        .collect()
}

#[test]
fn bytes_round_trip_to_the_same_predictions_and_the_same_bytes() {
    let model = model();
    let bytes = model.to_bytes(EMBEDDER).unwrap();
    assert_eq!(&bytes[..8], b"hdkb-svm");
    assert_eq!(bytes, model.to_bytes(EMBEDDER).unwrap(), "deterministic");
    let back = TextClassifierModel::from_bytes(&bytes, EMBEDDER).unwrap();
    assert_eq!(back.categories(), model.categories());
    assert_eq!(predictions(&back), predictions(&model));
    assert_eq!(back.to_bytes(EMBEDDER).unwrap(), bytes);
    assert!(MODEL_FORMAT.ends_with(&format!("-v{MODEL_FORMAT_VERSION}")));
}

#[test]
fn forged_bytes_with_a_sound_seal_decode_as_they_were_written() {
    // The helpers above write what `to_bytes` writes.
    let model = model();
    assert_eq!(forged(&model, |_| {}), model.to_bytes(EMBEDDER).unwrap());
}

#[test]
fn inconsistent_models_are_refused_with_the_field_named() {
    let m = model();
    type Forge = Box<dyn Fn(&mut Wire<'_>)>;
    let cases: Vec<(&str, Forge)> = vec![
        (
            "model.weights",
            Box::new(|w| {
                w.weights.pop();
            }),
        ),
        ("model.weights[1]", Box::new(|w| w.weights[1].len -= 1)),
        (
            "model.weights[1]",
            Box::new(|w| {
                w.weights[1].gaps.pop();
            }),
        ),
        (
            "model.weights[1]",
            Box::new(|w| {
                let last = w.weights[1].gaps.len() - 1;
                w.weights[1].gaps[last] += w.weights[1].len;
            }),
        ),
        (
            "model.weights[1]",
            Box::new(|w| {
                w.weights[1].gaps.push(u32::MAX);
                w.weights[1].values.push(1.0);
            }),
        ),
        (
            "model.weights[2].values[0]",
            Box::new(|w| w.weights[2].values[0] = f32::NAN),
        ),
        (
            "model.idf",
            Box::new(|w| {
                w.idf.to_mut().pop();
            }),
        ),
        (
            "model.idf[0]",
            Box::new(|w| w.idf.to_mut()[0] = f32::INFINITY),
        ),
        (
            "model.neighbour_labels[0]",
            Box::new(|w| w.neighbour_labels[0] = 3),
        ),
        (
            "model.neighbours",
            Box::new(|w| {
                w.neighbours.to_mut().pop();
            }),
        ),
        (
            "model.neighbours",
            Box::new(|w| {
                w.neighbour_labels.pop();
            }),
        ),
        (
            "model.neighbours[5]",
            Box::new(|w| w.neighbours.to_mut()[5] = f32::NEG_INFINITY),
        ),
        ("model.categories[1]", Box::new(|w| w.categories.swap(0, 1))),
        (
            "model.categories[2]",
            Box::new(|w| w.categories[2] = w.categories[1].clone()),
        ),
        (
            "model.categories[0]",
            Box::new(|w| w.categories[0] = Cow::Borrowed(" ")),
        ),
        ("model.categories", Box::new(|w| w.categories.truncate(1))),
        (
            "model.weights",
            Box::new(|w| {
                // A few megabytes that would ask for more than a gibibyte of zero weights.
                let categories = MAX_TRIAGE_CATEGORIES;
                let per_class = MAX_MODEL_WEIGHTS / categories + 1;
                let sparse = per_class - w.dimensions as usize - 1;
                let extra = sparse - w.idf.len();
                w.char_vocab
                    .extend((0..extra).map(|i| Cow::Owned(format!("~{i}"))));
                w.idf.to_mut().resize(sparse, 1.0);
                w.categories = (0..categories)
                    .map(|c| Cow::Owned(format!("c{c:04}")))
                    .collect();
                w.neighbour_labels.iter_mut().for_each(|l| *l = 0);
                w.weights = (0..categories)
                    .map(|_| WireWeights {
                        len: per_class as u32,
                        gaps: Vec::new(),
                        values: Vec::new(),
                    })
                    .collect();
            }),
        ),
        ("model.dimensions", Box::new(|w| w.dimensions = 0)),
        ("model.dimensions", Box::new(|w| w.dimensions = u32::MAX)),
        (
            "model.features.char_ngrams",
            Box::new(|w| w.features.char_ngrams = (0, 3)),
        ),
        (
            "model.features.max_word_ngram",
            Box::new(|w| w.features.max_word_ngram = u32::MAX),
        ),
        (
            "model.features.word_weight",
            Box::new(|w| w.features.word_weight = f32::NAN),
        ),
        (
            "model.word_vocab[1]",
            Box::new(|w| w.word_vocab[1] = w.word_vocab[0].clone()),
        ),
        (
            "model.confidence_scale",
            Box::new(|w| w.confidence_scale = f32::INFINITY),
        ),
        (
            "model.neighbour_weight",
            Box::new(|w| w.neighbour_weight = -1.0),
        ),
        (
            "model.embedder",
            Box::new(|w| w.embedder = Cow::Borrowed("another-model")),
        ),
    ];
    for (field, forge) in cases {
        assert_eq!(refused_field(&forged(&m, forge)), field);
    }
}

#[test]
fn models_without_neighbours_are_consistent() {
    let m = model();
    let bytes = forged(&m, |w| {
        w.neighbours = Cow::Owned(Vec::new());
        w.neighbour_labels.clear();
        w.neighbour_weight = 0.0;
    });
    let back = TextClassifierModel::from_bytes(&bytes, EMBEDDER).unwrap();
    assert_eq!(
        back.predict("refund", &[1.0, 0.0, 0.0, 0.0])
            .unwrap()
            .category,
        "billing"
    );
}

#[test]
fn header_payload_and_tail_errors_name_the_bytes() {
    let m = model();
    let bytes = m.to_bytes(EMBEDDER).unwrap();
    let mut tail = postcard::to_stdvec(&Wire::of(&m, EMBEDDER).unwrap()).unwrap();
    tail.push(0);
    assert_eq!(refused_field(&seal(&tail)), "bytes");
    assert_eq!(refused_field(&seal(&[0xFF; 40])), "bytes");
    assert_eq!(refused_field(&bytes[..MODEL_HEADER_LEN - 1]), "bytes");
    let mut version = bytes.clone();
    version[8] = 2;
    let err = TextClassifierModel::from_bytes(&version, EMBEDDER).unwrap_err();
    assert!(err.to_string().contains("version 2"), "{err}");
}

#[test]
fn every_single_byte_forgery_is_refused_or_predicts_without_panicking() {
    // A forger who recomputes the checksum: whatever decodes must be usable.
    let m = model();
    let payload = postcard::to_stdvec(&Wire::of(&m, EMBEDDER).unwrap()).unwrap();
    let (mut accepted, mut refused) = (0, 0);
    for i in 0..payload.len() {
        // One change a byte (sealing is slow in a debug build): low bit, high bit, all bits.
        for flip in [[0x01u8, 0x80, 0xFF][i % 3]] {
            let mut p = payload.clone();
            p[i] ^= flip;
            match TextClassifierModel::from_bytes(&seal(&p), EMBEDDER) {
                Ok(model) => {
                    accepted += 1;
                    for e in [[1.0f32, 0.0, 0.0, 0.0], [0.0; 4]] {
                        let p = model.predict("refund the crash password", &e).unwrap();
                        assert!((0.0..=1.0).contains(&p.confidence));
                        assert!(model.categories().contains(&p.category));
                    }
                }
                Err(Error::Validation { .. }) => refused += 1,
                Err(other) => panic!("byte {i}: not a validation error: {other}"),
            }
        }
    }
    assert!(
        accepted > 0 && refused > 0,
        "{accepted} accepted, {refused} refused"
    );
}

#[test]
fn models_that_could_not_be_read_back_are_not_written() {
    let mut m = model();
    m.neighbours[0] = f32::NAN;
    let err = m.to_bytes(EMBEDDER).unwrap_err();
    assert!(
        matches!(err, Error::Validation { ref field, .. } if field == "model.neighbours[0]"),
        "{err}"
    );
}
