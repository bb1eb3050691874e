//! Recursion detection for event chains, the way Lambda does it: every invocation started by an
//! event carries a chain depth in its trace header (`Lambda-Runtime-Trace-Id`, which runtime
//! clients export as `_X_AMZN_TRACE_ID` and AWS SDKs send back as `X-Amzn-Trace-Id` on every
//! request the function makes). A write that arrives with depth N causes invocations of depth
//! N + 1; one deeper than [`MAX_CHAIN_DEPTH`] is not run.

/// Lambda stops a recursive loop after about 16 invocations.
pub const MAX_CHAIN_DEPTH: u32 = 16;

/// The trace header given to an invocation: an X-Ray style root made from the request id, and
/// the chain depth as the `Lineage` field (`Lineage=<8 hex digits>:<depth>`, AWS's shape).
#[must_use]
pub fn trace_header(request_id: &str, chain_depth: u32) -> String {
    let compact: String = request_id
        .chars()
        .filter(char::is_ascii_hexdigit)
        .take(32)
        .collect();
    let (time_part, rest) = compact.split_at(compact.len().min(8));
    format!("Root=1-{time_part:0>8}-{rest:0>24};Sampled=0;Lineage=5374726c:{chain_depth}")
}

/// The chain depth named by a trace header's `Lineage` field; 0 when it has none (a request a
/// person made, or a client that does not propagate the header). Malformed fields count as 0:
/// the header is advisory and a caller gains nothing by forging a lower depth than the truth
/// except its own loop running longer.
#[must_use]
pub fn chain_depth(trace_header: &str) -> u32 {
    trace_header
        .split(';')
        .filter_map(|field| field.trim().strip_prefix("Lineage="))
        .filter_map(|lineage| lineage.rsplit(':').next()?.parse::<u32>().ok())
        .max()
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_depth_survives_a_round_trip() {
        let header = trace_header("6f1d3c2e-8a4b-4c2d-9e1f-0a1b2c3d4e5f", 3);
        assert!(header.starts_with("Root=1-6f1d3c2e-8a4b4c2d9e1f0a1b2c3d4e5f;"));
        assert_eq!(chain_depth(&header), 3);
        assert_eq!(chain_depth(&trace_header("0000000000000001-0", 16)), 16);
    }

    #[test]
    fn headers_without_lineage_are_depth_zero() {
        assert_eq!(chain_depth(""), 0);
        assert_eq!(
            chain_depth("Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1"),
            0
        );
        assert_eq!(chain_depth("Root=1-a;Lineage=abcd:x"), 0);
        assert_eq!(chain_depth("Root=1-a; Lineage=a87bd80c:7"), 7);
    }
}
