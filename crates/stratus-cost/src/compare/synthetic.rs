//! Deterministic synthetic traces, one count per minute, scaled so that the mean rate over the
//! whole period is exactly the one asked for. Shapes (t = minutes since the trace began):
//!
//! - `constant`: the same rate every minute.
//! - `diurnal`: a sinusoidal day, 1 + 0.8·sin(2π·t/1440 − π/2): lowest at midnight (0.2 × the
//!   mean), highest at noon (1.8 ×).
//! - `bursty`: a low base with a spike of 20 × the base for the first 3 minutes of every hour
//!   (the peak is 20/1.95 ≈ 10.3 × the mean).
//! - `intermittent`: on for the first `active_minutes` (default 5) of every hour, idle for the
//!   rest; the duty cycle is active_minutes/60 and the peak is 60/active_minutes × the mean.

use std::f64::consts::PI;
use std::fmt;
use std::str::FromStr;

use super::{CompareError, Trace};

/// The interval of every synthetic trace.
pub const SYNTHETIC_INTERVAL_SECONDS: f64 = 60.0;
const MINUTES_PER_DAY: f64 = 1440.0;
const DIURNAL_AMPLITUDE: f64 = 0.8;
const BURST_MINUTES: u64 = 3;
const BURST_FACTOR: f64 = 20.0;
/// The longest synthetic trace (a leap year): bounds memory and time.
pub const MAX_DAYS: f64 = 366.0;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SyntheticKind {
    Constant,
    Diurnal,
    Bursty,
    Intermittent,
}

impl SyntheticKind {
    pub const ALL: [Self; 4] = [
        Self::Constant,
        Self::Diurnal,
        Self::Bursty,
        Self::Intermittent,
    ];

    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Self::Constant => "constant",
            Self::Diurnal => "diurnal",
            Self::Bursty => "bursty",
            Self::Intermittent => "intermittent",
        }
    }
}

impl fmt::Display for SyntheticKind {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.name())
    }
}

impl FromStr for SyntheticKind {
    type Err = CompareError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|kind| kind.name() == text)
            .ok_or_else(|| {
                CompareError::InvalidInput(format!(
                    "unknown synthetic trace {text:?}; expected constant, diurnal, bursty or \
                     intermittent"
                ))
            })
    }
}

/// The parameters of a synthetic trace.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Synthetic {
    pub kind: SyntheticKind,
    /// Mean requests per second over the whole period.
    pub mean_rate: f64,
    /// Length of the trace in days (whole minutes; fractions allowed).
    pub days: f64,
    /// Minutes on per hour, for `intermittent` (1..=60).
    pub active_minutes: u32,
}

impl Synthetic {
    /// Generates the trace.
    ///
    /// # Errors
    /// `InvalidInput` for a rate that is negative or not finite, a length outside (0, 366]
    /// days or under a minute, or active minutes outside 1..=60.
    pub fn generate(&self) -> Result<Trace, CompareError> {
        let invalid = |message: String| Err(CompareError::InvalidInput(message));
        if !(self.mean_rate.is_finite() && self.mean_rate >= 0.0) {
            return invalid(format!(
                "the rate must be a non-negative number of requests per second, not {}",
                self.mean_rate
            ));
        }
        if !(self.days.is_finite() && self.days > 0.0 && self.days <= MAX_DAYS) {
            return invalid(format!(
                "days must be more than 0 and at most {MAX_DAYS}, not {}",
                self.days
            ));
        }
        if !(1..=60).contains(&self.active_minutes) {
            return invalid(format!(
                "active minutes per hour must be 1 to 60, not {}",
                self.active_minutes
            ));
        }
        // At most 527,040 minutes: the cast is exact.
        let minutes = (self.days * MINUTES_PER_DAY).round() as u64;
        if minutes == 0 {
            return invalid("the trace must last at least a minute".to_owned());
        }
        let shape: Vec<f64> = (0..minutes).map(|minute| self.shape(minute)).collect();
        let total_shape: f64 = shape.iter().sum();
        let wanted = self.mean_rate * SYNTHETIC_INTERVAL_SECONDS * minutes as f64;
        let scale = if total_shape > 0.0 {
            wanted / total_shape
        } else {
            0.0
        };
        Trace::new(
            SYNTHETIC_INTERVAL_SECONDS,
            shape.into_iter().map(|weight| weight * scale).collect(),
        )
    }

    /// The relative load in `minute` before scaling to the mean.
    fn shape(&self, minute: u64) -> f64 {
        let minute_of_hour = minute % 60;
        match self.kind {
            SyntheticKind::Constant => 1.0,
            SyntheticKind::Diurnal => {
                // The middle of the minute, so a whole day's samples sum the sine to zero.
                let day_fraction = (minute as f64 + 0.5) / MINUTES_PER_DAY;
                1.0 + DIURNAL_AMPLITUDE * (2.0 * PI * day_fraction - PI / 2.0).sin()
            }
            SyntheticKind::Bursty if minute_of_hour < BURST_MINUTES => BURST_FACTOR,
            SyntheticKind::Bursty => 1.0,
            SyntheticKind::Intermittent if minute_of_hour < u64::from(self.active_minutes) => 1.0,
            SyntheticKind::Intermittent => 0.0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn generate(kind: SyntheticKind, mean_rate: f64, days: f64) -> Trace {
        Synthetic {
            kind,
            mean_rate,
            days,
            active_minutes: 5,
        }
        .generate()
        .expect("valid")
    }

    #[test]
    fn every_kind_has_the_requested_mean_rate() {
        for kind in SyntheticKind::ALL {
            for (rate, days) in [(1.0, 1.0), (37.5, 7.0), (0.01, 0.5)] {
                let summary = generate(kind, rate, days).summary();
                assert!(
                    ((summary.mean_rate - rate) / rate).abs() < 1e-9,
                    "{kind} {rate}/s over {days} d: {}",
                    summary.mean_rate
                );
            }
        }
    }

    #[test]
    fn peaks_follow_the_documented_shapes() {
        let peak = |kind| generate(kind, 10.0, 1.0).summary().peak_rate;
        assert!((peak(SyntheticKind::Constant) - 10.0).abs() < 1e-9);
        // The sampled sine at minute midpoints peaks within 1e-5 of 1.8 × the mean.
        assert!((peak(SyntheticKind::Diurnal) - 18.0).abs() < 1e-3);
        assert!((peak(SyntheticKind::Bursty) - 10.0 * 20.0 / 1.95).abs() < 1e-9);
        assert!((peak(SyntheticKind::Intermittent) - 10.0 * 12.0).abs() < 1e-9);
        let trace = generate(SyntheticKind::Intermittent, 1.0, 1.0);
        let active = trace
            .requests()
            .iter()
            .filter(|count| **count > 0.0)
            .count();
        assert_eq!(active, 24 * 5);
    }

    #[test]
    fn bad_parameters_are_refused() {
        assert!("sometimes".parse::<SyntheticKind>().is_err());
        let base = Synthetic {
            kind: SyntheticKind::Constant,
            mean_rate: 1.0,
            days: 1.0,
            active_minutes: 5,
        };
        for bad in [
            Synthetic {
                mean_rate: -1.0,
                ..base
            },
            Synthetic { days: 0.0, ..base },
            Synthetic {
                days: 400.0,
                ..base
            },
            Synthetic {
                active_minutes: 0,
                ..base
            },
        ] {
            assert!(bad.generate().is_err(), "{bad:?}");
        }
    }
}
