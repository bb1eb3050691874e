//! Cost arithmetic, with no IO: what serverless invocations and S3 storage cost under a price
//! catalog (`prices.rs`, `bill.rs`), and what an always-on fleet sized for the same traffic
//! would cost (`compare/`). Like the planner, it depends on no other Stratus crate.
//!
//! Files:
//! - `prices.rs` — the price catalog: AWS's public Lambda, S3 and EC2 on-demand prices by
//!   default, overridden by the server's `[prices]` or `--catalog`.
//! - `bill.rs` — Lambda's and S3's billing formulas.
//! - `compare/` — one trace priced two ways (`stratus cost compare`): `trace.rs` CSV traces,
//!   `synthetic.rs` generated shapes, `queueing.rs` Erlang C and the M/M/c p95, `fleet.rs` the
//!   fewest instances meeting the bound at the peak, `mod.rs` serverless price, cheapest fleet
//!   and break-even. See `docs/cost-compare.md`.

pub mod bill;
pub mod compare;
pub mod prices;

pub use bill::{InvocationUsage, S3Usage, invocation_cost, s3_cost};
pub use prices::{InstancePrice, LambdaPrices, PriceCatalog, S3Prices};
