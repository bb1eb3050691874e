//! SPACE4AI-compatible placement planner.
//!
//! [`model`] parses a SPACE4AI system description, [`solution`] parses a fixed placement written
//! by the reference tool, [`faas`] is the Mahmoudi–Khazaei serverless response-time model and
//! [`evaluate`](mod@evaluate) computes cost, response times and feasibility of a placement exactly as the
//! reference tool does, so results are comparable with its published numbers.

pub mod error;
pub mod evaluate;
pub mod faas;
mod json;
pub mod model;
pub mod report;
pub mod solution;
pub mod solve;
pub mod spec;
mod summary;

pub use error::ParseError;
pub use evaluate::{Evaluation, Violation, evaluate};
pub use model::System;
pub use solution::Placement;
pub use solve::{Infeasibility, Options, Plan, SolveError, explain, explain_replan, replan, solve};
pub use spec::{Spec, SpecError, to_space4ai_json};
pub use summary::summary;
