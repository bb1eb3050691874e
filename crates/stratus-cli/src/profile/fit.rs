//! The performance model a profile fits, per memory size (OSCAR-P's measured demands).
//!
//! - warm demand: the mean server-side duration of warm invocations;
//! - cold demand: the mean init + duration of cold ones;
//! - the M/G/1 figures of the warm service time (mean and second moment), which is what a
//!   single always-on server would see (Pollaczek–Khinchine);
//! - the client-observed overhead: latency − server time (edge, network, runtime API).
//!
//! A function scales out (one request per worker), so the predicted mean response time at rate
//! λ is the planner's own FaaS model (Mahmoudi–Khazaei, `stratus_planner::faas`) with the
//! fitted warm/cold demands and the server's idle timeout, plus the overhead. That model
//! describes the steady state, in which a worker idles for minutes before it is stopped and cold
//! starts are rare; a few-second profiling run always has its transient ones (the first request
//! after a memory change, scale-out). Those are counted and fitted as the cold demand, and the
//! prediction is compared with the mean latency of the run's warm requests.

use serde::Serialize;

use super::load::Outcome;
use super::stats::moments;

/// What one run at one rate contributes to the fit.
#[derive(Debug, Clone, Default)]
pub(crate) struct Observation {
    pub rate: f64,
    /// Server-side duration of each successful warm invocation, s.
    pub warm_service: Vec<f64>,
    /// Init + duration of each successful cold invocation, s.
    pub cold_service: Vec<f64>,
    /// Latency − server time of each successful invocation, s.
    pub overhead: Vec<f64>,
    /// Client latency of each successful warm invocation, s.
    pub warm_latency: Vec<f64>,
}

impl Observation {
    pub(crate) fn from_outcome(rate: f64, outcome: &Outcome) -> Self {
        let mut observation = Self {
            rate,
            ..Self::default()
        };
        for sample in outcome.samples.iter().filter(|s| !s.error) {
            let Some(duration) = sample.duration else {
                continue;
            };
            let server = duration + sample.init.unwrap_or(0.0);
            observation
                .overhead
                .push((sample.latency - server).max(0.0));
            if sample.cold() {
                observation.cold_service.push(server);
            } else {
                observation.warm_service.push(duration);
                observation.warm_latency.push(sample.latency);
            }
        }
        observation
    }

    fn measured(&self) -> Option<f64> {
        (!self.warm_latency.is_empty()).then(|| moments(&self.warm_latency).0)
    }
}

/// A fitted model of one memory size.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub(crate) struct Model {
    /// Mean warm service time, s.
    pub warm_s: f64,
    /// E[S²] of the warm service time, s² (the M/G/1 second moment).
    pub warm_second_moment_s2: f64,
    /// Mean cold service time (init + duration), s; none when no cold start was seen.
    pub cold_s: Option<f64>,
    /// Mean latency − server time, s.
    pub overhead_s: f64,
    pub warm_samples: usize,
    pub cold_samples: usize,
    /// Seconds an idle worker lives (the server's keep-warm period).
    pub idle_timeout_s: f64,
}

impl Model {
    /// Fits the model to runs; none when they hold no successful warm invocation.
    pub(crate) fn fit<'a>(
        runs: impl IntoIterator<Item = &'a Observation>,
        idle_timeout_s: f64,
    ) -> Option<Self> {
        let (mut warm, mut cold, mut overhead) = (Vec::new(), Vec::new(), Vec::new());
        for run in runs {
            warm.extend_from_slice(&run.warm_service);
            cold.extend_from_slice(&run.cold_service);
            overhead.extend_from_slice(&run.overhead);
        }
        if warm.is_empty() {
            return None;
        }
        let (warm_s, warm_second_moment_s2) = moments(&warm);
        Some(Self {
            warm_s,
            warm_second_moment_s2,
            cold_s: (!cold.is_empty()).then(|| moments(&cold).0),
            overhead_s: moments(&overhead).0,
            warm_samples: warm.len(),
            cold_samples: cold.len(),
            idle_timeout_s,
        })
    }

    /// Predicted mean response time at `rate` requests/s as a scale-out function, s.
    pub(crate) fn predict(&self, rate: f64) -> f64 {
        let cold = self.cold_s.unwrap_or(self.warm_s);
        stratus_planner::faas::response_time(rate, self.warm_s, cold, self.idle_timeout_s)
            + self.overhead_s
    }

    /// Mean response time of the same work on one always-on server (M/G/1,
    /// Pollaczek–Khinchine), s; none when that server would be saturated.
    pub(crate) fn mg1(&self, rate: f64) -> Option<f64> {
        let utilisation = rate * self.warm_s;
        (utilisation < 1.0).then(|| {
            self.warm_s
                + rate * self.warm_second_moment_s2 / (2.0 * (1.0 - utilisation))
                + self.overhead_s
        })
    }
}

/// One rate predicted by a model fitted without it.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub(crate) struct Prediction {
    pub rate: f64,
    /// Mean latency of the run's warm requests, s.
    pub measured_s: f64,
    /// What the model fitted on the other rates predicts, s.
    pub predicted_s: f64,
    /// |predicted − measured| / measured, %.
    pub error_pct: f64,
    /// The M/G/1 (one always-on server) prediction, s.
    pub mg1_s: Option<f64>,
}

/// Leave-one-out validation: each rate is predicted by the model fitted on all the others.
/// Returns the predictions and their mean absolute percentage error (none with fewer than two
/// rates, or when no rate could be predicted).
pub(crate) fn cross_validate(
    runs: &[Observation],
    idle_timeout_s: f64,
) -> (Vec<Prediction>, Option<f64>) {
    let mut predictions = Vec::new();
    if runs.len() < 2 {
        return (predictions, None);
    }
    for (held_out, run) in runs.iter().enumerate() {
        let others = runs
            .iter()
            .enumerate()
            .filter(|(i, _)| *i != held_out)
            .map(|(_, r)| r);
        let (Some(model), Some(measured)) = (Model::fit(others, idle_timeout_s), run.measured())
        else {
            continue;
        };
        let predicted = model.predict(run.rate);
        predictions.push(Prediction {
            rate: run.rate,
            measured_s: measured,
            predicted_s: predicted,
            error_pct: (predicted - measured).abs() / measured * 100.0,
            mg1_s: model.mg1(run.rate),
        });
    }
    let mape = (!predictions.is_empty())
        .then(|| predictions.iter().map(|p| p.error_pct).sum::<f64>() / predictions.len() as f64);
    (predictions, mape)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile::load::{Outcome, Plan, Sample};
    use std::time::Duration;

    fn run(rate: f64, warm: &[f64], cold: &[f64], overhead: f64) -> Observation {
        Observation {
            rate,
            warm_service: warm.to_vec(),
            cold_service: cold.to_vec(),
            overhead: vec![overhead; warm.len() + cold.len()],
            warm_latency: warm.iter().map(|w| w + overhead).collect(),
        }
    }

    #[test]
    fn fit_takes_means_and_the_second_moment() {
        let runs = [
            run(5.0, &[0.04, 0.06], &[0.5], 0.002),
            run(10.0, &[0.05], &[], 0.004),
        ];
        let model = Model::fit(&runs, 300.0).expect("warm samples");
        assert!((model.warm_s - 0.05).abs() < 1e-12);
        // (0.0016 + 0.0036 + 0.0025) / 3
        assert!((model.warm_second_moment_s2 - 0.0077 / 3.0).abs() < 1e-12);
        assert_eq!(model.cold_s, Some(0.5));
        // Overheads: 3 × 0.002 and 1 × 0.004.
        assert!((model.overhead_s - 0.0025).abs() < 1e-12);
        assert_eq!((model.warm_samples, model.cold_samples), (3, 1));
        assert!(Model::fit(&[run(1.0, &[], &[0.5], 0.0)], 300.0).is_none());
    }

    #[test]
    fn prediction_is_the_faas_model_plus_overhead_and_mg1_is_pollaczek_khinchine() {
        let model = Model::fit(&[run(5.0, &[0.05; 4], &[0.3], 0.01)], 300.0).expect("fit");
        let faas = stratus_planner::faas::response_time(10.0, 0.05, 0.3, 300.0);
        assert!((model.predict(10.0) - (faas + 0.01)).abs() < 1e-12);
        // Steady state at 10 req/s with a 300 s idle timeout: practically never cold.
        assert!((model.predict(10.0) - 0.06).abs() < 0.005);
        // Deterministic service: E[S²] = 0.0025; W = λE[S²] / 2(1−ρ) = 10·0.0025 / 1 = 0.025.
        let mg1 = model.mg1(10.0).expect("stable");
        assert!((mg1 - (0.05 + 0.025 + 0.01)).abs() < 1e-12);
        assert_eq!(model.mg1(20.0), None);
    }

    #[test]
    fn leave_one_out_predicts_each_rate_from_the_others() {
        let runs = [
            run(5.0, &[0.05; 10], &[0.3], 0.002),
            run(10.0, &[0.05; 20], &[], 0.002),
            run(20.0, &[0.06; 40], &[], 0.002),
        ];
        let (predictions, mape) = cross_validate(&runs, 300.0);
        assert_eq!(predictions.len(), 3);
        // Held out the 0.06 s run, the others say 0.05 s: about 1/6 too low.
        let last = predictions[2];
        assert!((last.measured_s - 0.062).abs() < 1e-9);
        assert!(last.predicted_s < last.measured_s);
        assert!((last.error_pct - 100.0 * 0.01 / 0.062).abs() < 1.0);
        let mean = predictions.iter().map(|p| p.error_pct).sum::<f64>() / 3.0;
        assert_eq!(mape, Some(mean));
        assert_eq!(cross_validate(&runs[..1], 300.0), (Vec::new(), None));
    }

    #[test]
    fn observations_split_warm_and_cold_and_skip_errors() {
        let sample = |latency, duration, init, error| Sample {
            latency,
            duration: Some(duration),
            init,
            error,
            status: 200,
            ..Sample::default()
        };
        let outcome = Outcome {
            plan: Plan {
                rate: 3.0,
                duration: Duration::from_secs(1),
                max_in_flight: 10,
                timeout: Duration::from_secs(1),
            },
            scheduled: 3,
            late: 0,
            samples: vec![
                sample(0.5, 0.05, Some(0.4), false),
                sample(0.06, 0.05, None, false),
                sample(0.06, 0.05, None, true),
            ],
            elapsed: Duration::from_secs(1),
        };
        let obs = Observation::from_outcome(3.0, &outcome);
        assert_eq!(obs.warm_service, vec![0.05]);
        assert!((obs.cold_service[0] - 0.45).abs() < 1e-12);
        assert_eq!(obs.overhead.len(), 2);
        assert!((obs.overhead[1] - 0.01).abs() < 1e-12);
    }
}
