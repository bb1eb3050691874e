//! Wall-clock instants as the API and the metadata store keep them: milliseconds since the Unix
//! epoch, UTC. One definition, so every crate reads "now" the same way.

use time::OffsetDateTime;

/// Milliseconds since the Unix epoch (saturating far in the future).
#[must_use]
pub fn now_ms() -> i64 {
    i64::try_from(OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX)
}

/// The instant `ms` milliseconds after the epoch; the epoch itself for a value out of range.
#[must_use]
pub fn at_ms(ms: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn milliseconds_round_trip() {
        let at = at_ms(1_796_659_423_771);
        assert_eq!(at.unix_timestamp(), 1_796_659_423);
        assert_eq!(at.millisecond(), 771);
        assert_eq!(at_ms(i64::MAX), OffsetDateTime::UNIX_EPOCH);
        assert!(now_ms() > 1_700_000_000_000);
    }
}
