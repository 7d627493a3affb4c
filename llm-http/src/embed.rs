//! The checks every provider makes on the embeddings it gets back, and the batch loop.
//!
//! Providers normalise vectors themselves: Gemini does it only at 3072 dimensions, and
//! OpenAI-compatible servers each do as they please, while the knowledge base compares
//! vectors by dot product.

use helpdesk_core::ModelError;

use crate::call::CallPolicy;

/// Checks that the server returned one embedding per text.
pub fn check_count(returned: usize, texts: usize) -> Result<(), ModelError> {
    if returned == texts {
        return Ok(());
    }
    Err(ModelError::MalformedOutput {
        message: format!("{returned} embeddings returned for {texts} texts"),
    })
}

/// Checks that embedding `index` has `dimensions` finite values, not all zero, and
/// returns it L2-normalised.
pub fn checked_vector(
    index: usize,
    values: Vec<f32>,
    dimensions: usize,
) -> Result<Vec<f32>, ModelError> {
    if values.len() != dimensions {
        return Err(ModelError::MalformedOutput {
            message: format!(
                "embedding {index} has {} values, expected {dimensions}",
                values.len()
            ),
        });
    }
    normalised(values).ok_or_else(|| ModelError::MalformedOutput {
        message: format!("embedding {index} is zero or not finite"),
    })
}

fn normalised(mut values: Vec<f32>) -> Option<Vec<f32>> {
    let norm = values
        .iter()
        .map(|v| f64::from(*v) * f64::from(*v))
        .sum::<f64>()
        .sqrt();
    if !norm.is_finite() || norm == 0.0 {
        return None;
    }
    for v in &mut values {
        *v = (f64::from(*v) / norm) as f32;
    }
    Some(values)
}

/// Embeds `texts` in batches of at most `batch` (at least 1) texts, one call after the
/// other, each under the client's deadline; the vectors come back in the texts' order.
pub async fn in_batches<'a, F, Fut>(
    calls: &CallPolicy,
    texts: &'a [String],
    batch: usize,
    mut embed: F,
) -> Result<Vec<Vec<f32>>, ModelError>
where
    F: FnMut(&'a [String]) -> Fut,
    Fut: Future<Output = Result<Vec<Vec<f32>>, ModelError>>,
{
    let mut vectors = Vec::with_capacity(texts.len());
    for chunk in texts.chunks(batch.max(1)) {
        vectors.extend(calls.with_deadline(None, embed(chunk)).await?);
    }
    Ok(vectors)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    #[test]
    fn vectors_are_checked_and_normalised() {
        assert_eq!(checked_vector(0, vec![3.0, 4.0], 2).unwrap(), [0.6, 0.8]);
        for (values, dims) in [
            (vec![1.0], 2),
            (vec![0.0, 0.0], 2),
            (vec![f32::NAN, 1.0], 2),
            (vec![f32::INFINITY, 1.0], 2),
        ] {
            assert!(matches!(
                checked_vector(3, values, dims),
                Err(ModelError::MalformedOutput { message }) if message.contains("embedding 3")
            ));
        }
        assert!(check_count(2, 2).is_ok());
        assert!(check_count(1, 2).is_err());
    }

    #[tokio::test]
    async fn batches_keep_the_order() {
        let texts: Vec<String> = (0..5).map(|i| i.to_string()).collect();
        let mut sizes = Vec::new();
        let vectors = in_batches(&CallPolicy::default(), &texts, 2, |chunk| {
            sizes.push(chunk.len());
            let out = chunk
                .iter()
                .map(|t| vec![t.parse::<f32>().unwrap_or_default()])
                .collect();
            std::future::ready(Ok(out))
        })
        .await
        .unwrap();
        assert_eq!(sizes, [2, 2, 1]);
        assert_eq!(vectors, [[0.0], [1.0], [2.0], [3.0], [4.0]]);
    }
}
