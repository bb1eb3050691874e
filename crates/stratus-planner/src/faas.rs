//! Mahmoudi & Khazaei's serverless performance model ("Performance Modeling of Serverless
//! Computing Platforms", IEEE TCC 2022), computed step for step as the `pacsltk` package
//! (version 0.2, the one on PyPI) `get_sls_warm_count_dist` does, because the reference tool takes its `avg_resp_time`.
//!
//! The state is the number of live function instances. Going from m−1 to m instances takes a
//! cold start of a request blocked by m−1 busy instances (Erlang-B), then the cold service; the m-th
//! instance dies after `idle_time_before_kill` without a request. The chain is truncated as
//! pacsltk's "faster solution" does: 30 states past the last one where births outpace deaths.

/// pacsltk's default `maximum_concurrency`.
const MAX_CONCURRENCY: usize = 1000;
/// States explored beyond the last state whose birth rate exceeds its death rate.
const LOOKAHEAD: usize = 30;

/// Erlang-B blocking probability of an M/G/m/m system with offered load `rho`, by the same
/// recurrence (and operation order) as pacsltk.
pub fn erlang_b(rho: f64, m: usize) -> f64 {
    let mut inv = 1.0;
    for j in 1..=m {
        inv = 1.0 + inv * (j as f64 / rho);
    }
    1.0 / inv
}

/// Per-state quantities of the birth–death chain.
struct Chain {
    block_rates: Vec<f64>,
    kill_rates: Vec<f64>,
    resp_times: Vec<f64>,
    cold_rate: f64,
}

impl Chain {
    /// Rate of going from state i to i+1: a blocked request must first finish its cold start
    /// (pacsltk 0.2's series composition of the two rates).
    fn birth_rate(&self, i: usize) -> f64 {
        let b = self.block_rates[i];
        (b * self.cold_rate) / (b + self.cold_rate)
    }
}

/// Expected response time of a FaaS function with arrival rate `arrival`, warm and cold
/// service times and idle timeout, as pacsltk's `avg_resp_time`. Zero load gives 0: nothing
/// is served (pacsltk itself divides by zero there).
pub fn response_time(arrival: f64, warm: f64, cold: f64, idle_time_before_kill: f64) -> f64 {
    if arrival <= 0.0 {
        return 0.0;
    }
    let chain = build_chain(arrival, warm, cold, idle_time_before_kill);
    let probs = steady_state(&chain);
    chain
        .resp_times
        .iter()
        .zip(&probs)
        .map(|(r, p)| r * p)
        .sum()
}

fn build_chain(arrival: f64, warm: f64, cold: f64, idle: f64) -> Chain {
    let rho = arrival / (1.0 / warm);
    let mut server_max = LOOKAHEAD.min(MAX_CONCURRENCY);
    let mut chain = Chain {
        block_rates: vec![arrival],
        kill_rates: vec![0.0],
        resp_times: vec![cold],
        cold_rate: 0.0,
    };
    let mut pblock_old = 1.0;
    let mut kill_rate = 0.0;
    let mut count = 0;
    while count < server_max {
        count += 1;
        let prob_block = erlang_b(rho, count);
        let block_rate = prob_block * arrival;
        let prob_mth = pblock_old - prob_block;
        pblock_old = prob_block;
        kill_rate += kill_rate_increment(arrival * prob_mth, warm, idle);
        let mut resp = prob_block * cold + (1.0 - prob_block) * warm;
        if count == MAX_CONCURRENCY {
            resp = warm;
        }
        chain.block_rates.push(block_rate);
        chain.kill_rates.push(kill_rate);
        chain.resp_times.push(resp);
        if block_rate > kill_rate {
            server_max = (count + LOOKAHEAD).min(MAX_CONCURRENCY);
        }
    }
    chain.cold_rate = 1.0 / cold;
    chain
}

/// Death rate contributed by the m-th instance, which receives requests at rate `rate`.
fn kill_rate_increment(rate: f64, warm: f64, idle: f64) -> f64 {
    if rate <= 0.0 {
        return 0.0;
    }
    // scipy's expon.cdf(idle, scale = 1/rate) is -expm1(-idle/scale).
    let scale = 1.0 / rate;
    let prob_kill = 1.0 - (-(-(idle / scale)).exp_m1());
    if prob_kill <= 0.0 {
        return 0.0;
    }
    let requests_before_kill = 1.0 / prob_kill;
    let t = idle + warm;
    // Mean gap between requests that arrive before the instance would be killed.
    let avg_inter_arrival = -t * (-rate * t).exp() + (1.0 - (-rate * t).exp()) / rate;
    let inter_kill_time = idle + (requests_before_kill - 1.0) * avg_inter_arrival;
    1.0 / inter_kill_time
}

/// Steady-state probabilities: solves πQ = 0 with the first balance equation replaced by
/// Σπ = 1, as pacsltk does, then clamps negative round-off to 0.
fn steady_state(chain: &Chain) -> Vec<f64> {
    let n = chain.resp_times.len();
    // a = Qᵀ with row 0 replaced by ones.
    let mut a = vec![vec![0.0; n]; n];
    for i in 0..n {
        let mut out = 0.0;
        if i > 0 {
            a[i - 1][i] = chain.kill_rates[i];
            out += chain.kill_rates[i];
        }
        if i + 1 < n {
            a[i + 1][i] = chain.birth_rate(i);
            out += chain.birth_rate(i);
        }
        a[i][i] = -out;
    }
    a[0].iter_mut().for_each(|x| *x = 1.0);
    let mut b = vec![0.0; n];
    b[0] = 1.0;
    let mut x = solve(a, b);
    x.iter_mut().filter(|v| **v < 0.0).for_each(|v| *v = 0.0);
    x
}

/// Gaussian elimination with partial pivoting (what LAPACK's `gesv` does).
fn solve(mut a: Vec<Vec<f64>>, mut b: Vec<f64>) -> Vec<f64> {
    let n = b.len();
    for col in 0..n {
        let pivot = (col..n)
            .max_by(|&i, &j| a[i][col].abs().total_cmp(&a[j][col].abs()))
            .unwrap_or(col);
        a.swap(col, pivot);
        b.swap(col, pivot);
        let (top, bottom) = a.split_at_mut(col + 1);
        let pivot_row = &top[col];
        let diag = pivot_row[col];
        for (offset, row) in bottom.iter_mut().enumerate() {
            let f = row[col] / diag;
            if f == 0.0 {
                continue;
            }
            for (x, p) in row[col..].iter_mut().zip(&pivot_row[col..]) {
                *x -= f * p;
            }
            b[col + 1 + offset] -= f * b[col];
        }
    }
    let mut x = vec![0.0; n];
    for row in (0..n).rev() {
        let s: f64 = (row + 1..n).map(|k| a[row][k] * x[k]).sum();
        x[row] = (b[row] - s) / a[row][row];
    }
    x
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn erlang_b_single_server() {
        // One server: B = rho / (1 + rho).
        assert!((erlang_b(0.5, 1) - 0.5 / 1.5).abs() < 1e-15);
    }

    #[test]
    fn response_time_lies_between_warm_and_cold() {
        let r = response_time(1.8, 0.5, 2.0, 600.0);
        assert!(r > 0.5 && r < 2.0, "{r}");
        // Long-lived instances at steady load almost never cold-start.
        assert!(r - 0.5 < 1e-3, "{r}");
    }
}
