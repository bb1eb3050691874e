//! SPACE4AI-compatible placement planner.
//!
//! [`model`] parses a SPACE4AI system description, [`solution`] parses a fixed placement written
//! by the reference tool, [`faas`] is the Mahmoudi–Khazaei serverless response-time model and
//! [`evaluate`](mod@evaluate) computes cost, response times and feasibility of a placement exactly as the
//! reference tool does, so results are comparable with its published numbers.
//!
//! Files:
//! - `model.rs` — typed SPACE4AI system descriptions (both generations' key spellings);
//!   `json.rs` field helpers whose errors name the field; `error.rs` parse errors.
//! - `solution.rs`, `report.rs` — the reference tools' solution files, read and written.
//! - `faas.rs` — the Mahmoudi–Khazaei FaaS model as `pacsltk` 0.2 computes it.
//! - `evaluate.rs` — the single source of truth for cost, response times and feasibility
//!   (`tests/evaluations.rs` reproduces the published evaluations within 1e-9).
//! - `solve/` — exact branch and bound (`search.rs`), its lower bound (`bound.rs`), what is
//!   computed once (`prepared.rs`), the anytime heuristic (`heuristic.rs`), run-time re-planning
//!   (`runtime.rs`, `limits.rs`) and infeasibility explanations (`infeasible.rs`).
//! - `spec/` — the YAML application spec and its exact conversions to and from SPACE4AI JSON
//!   (`convert.rs`, `space4ai.rs`; `docs/planner-spec.md`).
//! - `summary.rs` — a plan as JSON, one shape for `stratus plan --json` and `POST /v1/plan`.
//!
//! See `docs/planner.md`.

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
