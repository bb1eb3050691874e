//! Receipt handles: opaque base64 of (project, queue, message sequence, receive nonce). The
//! nonce changes with every receive, so a handle from an earlier receive is recognisably stale.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use super::errors::{QueueError, QueueResult};

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Receipt {
    pub seq: i64,
    pub nonce: String,
}

pub(crate) fn encode(project: &str, queue: &str, seq: i64, nonce: &str) -> String {
    URL_SAFE_NO_PAD.encode(format!("{project}\n{queue}\n{seq}\n{nonce}"))
}

/// Decodes a handle issued for `project`'s `queue`; any other is `ReceiptHandleIsInvalid`.
pub(crate) fn decode(project: &str, queue: &str, handle: &str) -> QueueResult<Receipt> {
    let invalid = || QueueError::ReceiptHandleIsInvalid(handle.to_owned());
    let bytes = URL_SAFE_NO_PAD
        .decode(handle.trim())
        .map_err(|_| invalid())?;
    let text = String::from_utf8(bytes).map_err(|_| invalid())?;
    let mut parts = text.split('\n');
    let (p, q, seq, nonce) = (parts.next(), parts.next(), parts.next(), parts.next());
    match (p, q, seq.and_then(|s| s.parse().ok()), nonce) {
        (Some(p), Some(q), Some(seq), Some(nonce))
            if p == project && q == queue && parts.next().is_none() =>
        {
            Ok(Receipt {
                seq,
                nonce: nonce.to_owned(),
            })
        }
        _ => Err(invalid()),
    }
}

/// A fresh random nonce for one receive.
pub(crate) fn nonce() -> String {
    format!("{:016x}", rand::random::<u64>())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn handles_round_trip_only_for_their_queue() {
        let handle = encode("team", "jobs", 42, "abc");
        let receipt = decode("team", "jobs", &handle).expect("test step");
        assert_eq!(receipt.seq, 42);
        assert_eq!(receipt.nonce, "abc");
        assert!(decode("team", "other", &handle).is_err());
        assert!(decode("other", "jobs", &handle).is_err());
        assert!(decode("team", "jobs", "not a handle!").is_err());
    }
}
