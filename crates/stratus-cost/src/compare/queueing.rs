//! M/M/c queueing: the probability that a request waits (Erlang C) and the distribution of its
//! response time (wait + exponential service), from which the fleet is sized to a p95 bound.

/// The tail probability the bound is about: p95 means 5 % of requests take longer.
const TAIL: f64 = 0.05;

/// Erlang C: the probability that an arriving request finds all `servers` busy, for offered
/// load `offered` = λ/μ Erlangs. `None` when the queue is unstable (offered ≥ servers).
///
/// Computed through the Erlang B recursion B(k) = a·B(k−1) / (k + a·B(k−1)), which never
/// forms a factorial or a power and so stays exact for thousands of servers; then
/// C = B / (1 − ρ·(1 − B)) with ρ = a/c.
#[must_use]
pub fn erlang_c(servers: u64, offered: f64) -> Option<f64> {
    // Server counts are far below 2^52: exact as f64.
    let capacity = servers as f64;
    // A NaN load is refused like a negative one.
    if servers == 0 || offered.is_nan() || offered < 0.0 || offered >= capacity {
        return None;
    }
    let mut blocking = 1.0;
    for k in 1..=servers {
        let k = k as f64;
        blocking = offered * blocking / (k + offered * blocking);
    }
    let utilisation = offered / capacity;
    Some(blocking / (1.0 - utilisation * (1.0 - blocking)))
}

/// P(T > t) for an M/M/c queue's response time T = W + S: with probability 1 − C the request
/// does not wait and T ~ Exp(μ); otherwise W ~ Exp(θ), θ = cμ − λ, and T is the sum of two
/// exponentials (hypoexponential): P = (θ·e^(−μt) − μ·e^(−θt)) / (θ − μ), or (1 + μt)·e^(−μt)
/// in the limit θ = μ.
fn response_tail(t: f64, service_rate: f64, drain_rate: f64, wait_probability: f64) -> f64 {
    let (mu, theta) = (service_rate, drain_rate);
    let no_wait = (-mu * t).exp();
    // Close to θ = μ the general form cancels catastrophically; the limit is exact to O(Δ).
    let waited = if ((theta - mu) / mu).abs() < 1e-6 {
        (1.0 + mu * t) * (-mu * t).exp()
    } else {
        (theta * (-mu * t).exp() - mu * (-theta * t).exp()) / (theta - mu)
    };
    (1.0 - wait_probability) * no_wait + wait_probability * waited
}

/// The 95th percentile of the response time (seconds) of an M/M/c queue with arrival rate
/// `arrivals` (1/s), mean service time `service_seconds` and `servers` servers; `None` when
/// the queue is unstable. P(T > t) decreases in t, so bisection finds it to 1e-12 relative.
#[must_use]
pub fn p95_response(arrivals: f64, service_seconds: f64, servers: u64) -> Option<f64> {
    let service_rate = 1.0 / service_seconds;
    let wait_probability = erlang_c(servers, arrivals * service_seconds)?;
    let drain_rate = servers as f64 * service_rate - arrivals;
    let tail = |t| response_tail(t, service_rate, drain_rate, wait_probability);
    // Without waiting the p95 is ln 20 / μ; waiting only adds, so start there and double.
    let mut high = service_seconds * 20f64.ln();
    while tail(high) > TAIL {
        high *= 2.0;
    }
    let mut low = 0.0;
    while high - low > high * 1e-12 {
        let middle = 0.5 * (low + high);
        if tail(middle) > TAIL {
            low = middle;
        } else {
            high = middle;
        }
    }
    Some(high)
}

/// The p95 an unbounded fleet approaches: no request waits, so only the exponential service
/// time's own p95, ln 20 × the mean (≈ 3.0 ×). A bound at or below it is unreachable.
#[must_use]
pub fn p95_floor(service_seconds: f64) -> f64 {
    service_seconds * 20f64.ln()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn erlang_c_with_one_server_is_the_utilisation() {
        for rho in [0.0, 0.1, 0.5, 0.9, 0.999] {
            let c = erlang_c(1, rho).expect("stable");
            assert!((c - rho).abs() < 1e-12, "ρ={rho}: C={c}");
        }
        assert_eq!(erlang_c(1, 1.0), None);
        assert_eq!(erlang_c(0, 0.5), None);
    }

    #[test]
    fn erlang_c_matches_table_values() {
        // Hand-computed from the textbook formula C = (a^c/c!)(c/(c−a)) / (Σ_{k<c} a^k/k! +
        // (a^c/c!)(c/(c−a))): c = 2, a = 1: (1/2·2) / (1 + 1 + 1) = 1/3.
        assert!((erlang_c(2, 1.0).expect("stable") - 1.0 / 3.0).abs() < 1e-12);
        // c = 10, a = 8 Erlangs: 0.4092 in published Erlang C tables (call-centre sizing).
        let c = erlang_c(10, 8.0).expect("stable");
        assert!((c - 0.4092).abs() < 5e-4, "{c}");
        // Thousands of servers neither overflow nor underflow.
        let big = erlang_c(5000, 4900.0).expect("stable");
        assert!(big > 0.0 && big < 1.0, "{big}");
    }

    #[test]
    fn mm1_p95_matches_the_closed_form() {
        let service = 0.1;
        for arrivals in [0.0, 1.0, 5.0, 9.0, 9.9] {
            let numeric = p95_response(arrivals, service, 1).expect("stable");
            let closed = 20f64.ln() / (1.0 / service - arrivals);
            assert!(
                ((numeric - closed) / closed).abs() < 1e-9,
                "λ={arrivals}: {numeric} vs {closed}"
            );
        }
        assert_eq!(p95_response(10.0, service, 1), None);
    }

    #[test]
    fn mmc_p95_is_the_percentile_of_its_distribution() {
        // c = 2, λ = 15/s, S = 100 ms: check P(T > p95) = 5 % directly, and that it decreases
        // with more servers towards the no-wait floor.
        let (arrivals, service) = (15.0, 0.1);
        let p95 = p95_response(arrivals, service, 2).expect("stable");
        let c = erlang_c(2, arrivals * service).expect("stable");
        let tail = response_tail(p95, 10.0, 20.0 - arrivals, c);
        assert!((tail - 0.05).abs() < 1e-9, "{tail}");
        let p95_3 = p95_response(arrivals, service, 3).expect("stable");
        let p95_50 = p95_response(arrivals, service, 50).expect("stable");
        assert!(p95 > p95_3 && p95_3 > p95_50, "{p95} {p95_3} {p95_50}");
        assert!((p95_50 - p95_floor(service)).abs() < 1e-6, "{p95_50}");
    }

    #[test]
    fn the_equal_rates_limit_is_continuous() {
        // θ = cμ − λ = μ exactly: c = 2, μ = 10, λ = 10.
        let at = p95_response(10.0, 0.1, 2).expect("stable");
        let near = p95_response(10.0 + 1e-3, 0.1, 2).expect("stable");
        assert!((at - near).abs() < 1e-4, "{at} vs {near}");
    }
}
