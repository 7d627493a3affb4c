//! Latency samples: medians and nearest-rank percentiles of sorted samples.

use std::time::Duration;

/// Latency samples in milliseconds.
#[derive(Debug, Clone, Default)]
pub struct Samples {
    ms: Vec<f64>,
}

impl Samples {
    /// No samples yet, room for `n`.
    pub fn with_capacity(n: usize) -> Self {
        Self {
            ms: Vec::with_capacity(n),
        }
    }

    /// Adds one sample.
    pub fn push(&mut self, d: Duration) {
        self.ms.push(d.as_secs_f64() * 1000.0);
    }

    /// Adds one sample given in milliseconds.
    pub fn push_ms(&mut self, ms: f64) {
        self.ms.push(ms);
    }

    /// How many samples.
    pub fn len(&self) -> usize {
        self.ms.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.ms.is_empty()
    }

    fn sorted(&self) -> Vec<f64> {
        let mut v = self.ms.clone();
        v.sort_by(f64::total_cmp);
        v
    }

    /// The median (the mean of the two middle samples for an even count; 0 when empty).
    pub fn median(&self) -> f64 {
        let v = self.sorted();
        match v.len() {
            0 => 0.0,
            n if n % 2 == 1 => v[n / 2],
            n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
        }
    }

    /// The nearest-rank percentile `q` in `0..=1` (the smallest sample with at least
    /// `q` of the samples at or below it; 0 when empty).
    pub fn percentile(&self, q: f64) -> f64 {
        let v = self.sorted();
        if v.is_empty() {
            return 0.0;
        }
        let rank = (q.clamp(0.0, 1.0) * v.len() as f64).ceil() as usize;
        v[rank.clamp(1, v.len()) - 1]
    }

    /// The sum of all samples in milliseconds.
    pub fn total_ms(&self) -> f64 {
        self.ms.iter().sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_and_nearest_rank_percentiles() {
        let mut s = Samples::default();
        for ms in (1..=100).rev() {
            s.push_ms(f64::from(ms));
        }
        assert_eq!(s.median(), 50.5);
        assert_eq!(s.percentile(0.99), 99.0);
        assert_eq!(s.percentile(0.5), 50.0);
        assert_eq!(s.percentile(1.0), 100.0);
        assert_eq!(Samples::default().percentile(0.99), 0.0);
    }
}
