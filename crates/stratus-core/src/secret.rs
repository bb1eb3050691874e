//! Comparing secrets (signatures, tokens, session and CSRF values) in constant time.

use subtle::ConstantTimeEq as _;

/// Whether two secrets are equal, taking the same time wherever they first differ, so a caller
/// cannot recover a secret byte by byte from response times. Only the lengths may leak; every
/// secret Stratus compares has a public, fixed length (hex digests, 256-bit tokens).
#[must_use]
pub fn eq(given: &[u8], expected: &[u8]) -> bool {
    given.ct_eq(expected).into()
}

#[cfg(test)]
mod tests {
    use super::eq;

    #[test]
    fn equal_only_when_every_byte_and_the_length_match() {
        assert!(eq(b"", b""));
        assert!(eq(b"3f1c", b"3f1c"));
        assert!(!eq(b"3f1c", b"3f1d"));
        assert!(!eq(b"3f1c", b"3f1"));
        assert!(!eq(b"3f1", b"3f1c"));
        assert!(!eq(b"", b"x"));
    }
}
