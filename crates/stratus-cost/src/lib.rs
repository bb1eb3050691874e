//! Cost arithmetic, with no IO: what serverless invocations and S3 storage cost under a price
//! catalog (`prices.rs`, `bill.rs`), and what an always-on fleet sized for the same traffic
//! would cost (`compare/`). Like the planner, it depends on no other Stratus crate.

pub mod bill;
pub mod compare;
pub mod prices;

pub use bill::{InvocationUsage, S3Usage, invocation_cost, s3_cost};
pub use prices::{InstancePrice, LambdaPrices, PriceCatalog, S3Prices};
