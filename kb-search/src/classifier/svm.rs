//! One-vs-rest linear SVM (L2-regularised, squared hinge loss) trained by dual coordinate
//! descent, as LIBLINEAR's default solver (Hsieh et al., ICML 2008), over sparse-plus-dense
//! rows. Classes train in parallel on scoped threads.

use super::features::Row;

/// Solver settings.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SvmOptions {
    /// Inverse regularisation strength.
    pub(crate) c: f32,
    /// Stop when the projected-gradient spread falls below this.
    pub(crate) tolerance: f32,
    /// Passes over the data at most.
    pub(crate) max_epochs: usize,
    /// Worker threads.
    pub(crate) threads: usize,
}

/// One weight vector per class: sparse part, dense part, bias.
#[derive(Debug, Clone)]
pub(crate) struct LinearModel {
    pub(super) sparse_len: usize,
    pub(super) dense_len: usize,
    /// Per class: `sparse_len + dense_len + 1` weights (the last is the bias).
    pub(super) weights: Vec<Vec<f32>>,
}

/// Bias feature value (LIBLINEAR's `-B 1`).
const BIAS: f32 = 1.0;

fn dot(w: &[f32], row: &Row, sparse_len: usize) -> f32 {
    let mut s = 0.0;
    for (&i, &v) in row.indices.iter().zip(&row.values) {
        s += w[i as usize] * v;
    }
    let dense = &w[sparse_len..sparse_len + row.dense.len()];
    s += dense
        .iter()
        .zip(&row.dense)
        .map(|(a, b)| a * b)
        .sum::<f32>();
    s + w[w.len() - 1] * BIAS
}

fn axpy(w: &mut [f32], a: f32, row: &Row, sparse_len: usize) {
    for (&i, &v) in row.indices.iter().zip(&row.values) {
        w[i as usize] += a * v;
    }
    let n = w.len();
    for (x, d) in w[sparse_len..sparse_len + row.dense.len()]
        .iter_mut()
        .zip(&row.dense)
    {
        *x += a * d;
    }
    w[n - 1] += a * BIAS;
}

/// A small deterministic generator for the coordinate order (xorshift64*).
struct Shuffle(u64);

impl Shuffle {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn shuffle(&mut self, v: &mut [usize]) {
        for i in (1..v.len()).rev() {
            let j = (self.next() % (i as u64 + 1)) as usize;
            v.swap(i, j);
        }
    }
}

/// Dual coordinate descent with LIBLINEAR's shrinking: examples whose dual variable sits at
/// zero with a gradient past the last pass's extremes drop out of the active set until the
/// active problem converges, then one full pass checks the whole set.
fn train_binary(
    rows: &[Row],
    norms: &[f32],
    positive: &[bool],
    sparse_len: usize,
    dense_len: usize,
    o: SvmOptions,
    seed: u64,
) -> Vec<f32> {
    let n = rows.len();
    let mut w = vec![0f32; sparse_len + dense_len + 1];
    let mut alpha = vec![0f32; n];
    let diag = 0.5 / o.c;
    let mut active: Vec<usize> = (0..n).collect();
    let mut rng = Shuffle(seed | 1);
    // The squared hinge has no upper bound on alpha, so only the upper extreme shrinks.
    let mut pg_max_old = f32::INFINITY;
    let mut epoch = 0;
    while epoch < o.max_epochs {
        epoch += 1;
        rng.shuffle(&mut active);
        let (mut pg_max, mut pg_min) = (f32::NEG_INFINITY, f32::INFINITY);
        let mut s = 0;
        while s < active.len() {
            let i = active[s];
            let y = if positive[i] { 1.0 } else { -1.0 };
            let g = y * dot(&w, &rows[i], sparse_len) - 1.0 + diag * alpha[i];
            let pg = if alpha[i] == 0.0 {
                if g > pg_max_old {
                    active.swap_remove(s);
                    continue;
                }
                g.min(0.0)
            } else {
                g
            };
            pg_max = pg_max.max(pg);
            pg_min = pg_min.min(pg);
            if pg.abs() > 1e-12 {
                let old = alpha[i];
                let q = norms[i] + BIAS * BIAS + diag;
                alpha[i] = (old - g / q).max(0.0);
                let delta = (alpha[i] - old) * y;
                if delta != 0.0 {
                    axpy(&mut w, delta, &rows[i], sparse_len);
                }
            }
            s += 1;
        }
        if pg_max - pg_min <= o.tolerance {
            if active.len() == n {
                break;
            }
            active = (0..n).collect();
            pg_max_old = f32::INFINITY;
            continue;
        }
        pg_max_old = if pg_max > 0.0 { pg_max } else { f32::INFINITY };
    }
    w
}

impl LinearModel {
    /// Trains one binary classifier per class (`labels[i]` in `0..classes`).
    pub(crate) fn train(
        rows: &[Row],
        labels: &[usize],
        classes: usize,
        sparse_len: usize,
        o: SvmOptions,
    ) -> Self {
        let dense_len = rows.first().map_or(0, |r| r.dense.len());
        let norms: Vec<f32> = rows.iter().map(Row::norm2).collect();
        let threads = o.threads.clamp(1, classes.max(1));
        let mut weights: Vec<Vec<f32>> = vec![Vec::new(); classes];
        std::thread::scope(|scope| {
            let norms = &norms;
            let handles: Vec<_> = (0..threads)
                .map(|t| {
                    scope.spawn(move || {
                        (t..classes)
                            .step_by(threads)
                            .map(|c| {
                                let positive: Vec<bool> = labels.iter().map(|&l| l == c).collect();
                                (
                                    c,
                                    train_binary(
                                        rows,
                                        norms,
                                        &positive,
                                        sparse_len,
                                        dense_len,
                                        o,
                                        0x9E37_79B9 + c as u64,
                                    ),
                                )
                            })
                            .collect::<Vec<_>>()
                    })
                })
                .collect();
            for h in handles {
                // A panicking worker leaves its classes with empty weights (scored 0).
                if let Ok(done) = h.join() {
                    for (c, w) in done {
                        weights[c] = w;
                    }
                }
            }
        });
        Self {
            sparse_len,
            dense_len,
            weights,
        }
    }

    /// Decision values, one per class.
    pub(crate) fn scores(&self, row: &Row) -> Vec<f32> {
        self.weights
            .iter()
            .map(|w| {
                if w.len() == self.sparse_len + self.dense_len + 1
                    && row.dense.len() == self.dense_len
                {
                    dot(w, row, self.sparse_len)
                } else {
                    f32::NEG_INFINITY
                }
            })
            .collect()
    }
}
