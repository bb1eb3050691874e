//! Latency statistics: nearest-rank percentiles over the exact samples (a profiling run holds
//! at most a few hundred thousand, so sorting them is cheaper than a histogram's error).

use serde::Serialize;

use super::load::Sample;

/// Percentiles of a set of values (seconds), all zero when there are none.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub(crate) struct Summary {
    pub count: usize,
    pub mean: f64,
    pub p50: f64,
    pub p90: f64,
    pub p99: f64,
    pub max: f64,
}

impl Summary {
    pub(crate) fn of(values: impl IntoIterator<Item = f64>) -> Self {
        let mut sorted: Vec<f64> = values.into_iter().filter(|v| v.is_finite()).collect();
        if sorted.is_empty() {
            return Self::default();
        }
        sorted.sort_by(f64::total_cmp);
        Self {
            count: sorted.len(),
            mean: sorted.iter().sum::<f64>() / sorted.len() as f64,
            p50: percentile(&sorted, 0.50),
            p90: percentile(&sorted, 0.90),
            p99: percentile(&sorted, 0.99),
            max: sorted[sorted.len() - 1],
        }
    }

    /// The median latency of the successful samples so far (for progress lines).
    pub(crate) fn median_of(samples: &[Sample]) -> Option<f64> {
        let mut ok: Vec<f64> = samples
            .iter()
            .filter(|s| !s.error)
            .map(|s| s.latency)
            .collect();
        if ok.is_empty() {
            return None;
        }
        let rank = nearest_rank(ok.len(), 0.5);
        let (_, median, _) = ok.select_nth_unstable_by(rank, f64::total_cmp);
        Some(*median)
    }
}

/// The nearest-rank percentile `q` (0..=1) of ascending `sorted`: the smallest value with at
/// least `q` of the values at or below it.
pub(crate) fn percentile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    sorted[nearest_rank(sorted.len(), q)]
}

fn nearest_rank(len: usize, q: f64) -> usize {
    let rank = (q.clamp(0.0, 1.0) * len as f64).ceil() as usize;
    rank.clamp(1, len) - 1
}

/// Mean and second moment (E[x], E[x²]) of the values; zeros when there are none.
pub(crate) fn moments(values: &[f64]) -> (f64, f64) {
    if values.is_empty() {
        return (0.0, 0.0);
    }
    let n = values.len() as f64;
    (
        values.iter().sum::<f64>() / n,
        values.iter().map(|v| v * v).sum::<f64>() / n,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles_of_one_to_hundred() {
        let values: Vec<f64> = (1..=100).map(f64::from).collect();
        let s = Summary::of(values.iter().rev().copied());
        assert_eq!((s.p50, s.p90, s.p99, s.max), (50.0, 90.0, 99.0, 100.0));
        assert_eq!(s.count, 100);
        assert!((s.mean - 50.5).abs() < 1e-12);
    }

    #[test]
    fn percentiles_of_few_values_and_of_none() {
        let s = Summary::of([3.0, 1.0, 2.0]);
        // ceil(0.5 * 3) = 2nd value; ceil(0.9 * 3) = 3rd.
        assert_eq!((s.p50, s.p90, s.p99, s.max), (2.0, 3.0, 3.0, 3.0));
        assert_eq!(Summary::of([]), Summary::default());
        assert_eq!(percentile(&[7.0], 0.0), 7.0);
    }

    #[test]
    fn median_ignores_failed_samples() {
        let sample = |latency, error| Sample {
            latency,
            error,
            ..Sample::default()
        };
        let samples = [sample(1.0, false), sample(9.0, true), sample(3.0, false)];
        assert_eq!(Summary::median_of(&samples), Some(1.0));
        assert_eq!(Summary::median_of(&samples[1..2]), None);
    }

    #[test]
    fn moments_of_a_two_point_distribution() {
        let (mean, second) = moments(&[1.0, 3.0]);
        assert_eq!((mean, second), (2.0, 5.0));
        assert_eq!(moments(&[]), (0.0, 0.0));
    }
}
