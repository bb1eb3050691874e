//! Stratus's own application spec (YAML): components with candidate deployments, edge/VM/FaaS
//! resources with prices, network domains, constraints and measured demands — the same problem
//! as a SPACE4AI system description, in names a user reads. Converts both ways, exactly:
//! `Spec::from_system(s).to_system() == s` and `System::parse(to_space4ai_json(s)) == s`.
//! The format is documented in `docs/planner-spec.md`.

mod convert;
mod space4ai;

use serde::{Deserialize, Serialize};

pub use space4ai::to_space4ai_json;

/// Why a spec could not be read or turned into a system.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SpecError {
    #[error("invalid spec: {0}")]
    Yaml(String),
    #[error("{context}: `{field}` {message}")]
    Invalid {
        field: String,
        context: String,
        message: String,
    },
}

fn one() -> f64 {
    1.0
}

fn is_zero(x: &f64) -> bool {
    *x == 0.0
}

/// An application: what runs, where it may run, and the limits it must meet.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Spec {
    /// Requests per second entering the application (the entry components' arrival rate).
    pub lambda: f64,
    /// Hours the costs cover.
    #[serde(default = "one")]
    pub time: f64,
    pub components: Vec<ComponentSpec>,
    pub resources: Resources,
    #[serde(default)]
    pub networks: Vec<NetworkSpec>,
    /// End-to-end response-time limits along chains of components.
    #[serde(default)]
    pub paths: Vec<PathSpec>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ComponentSpec {
    pub name: String,
    /// Components that receive this one's output, with the share of requests each gets.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub successors: Vec<Successor>,
    /// Local response-time limit, seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_response_time: Option<f64>,
    /// Alternative ways to run it; the planner picks one.
    pub deployments: Vec<DeploymentSpec>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Successor {
    pub component: String,
    pub probability: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeploymentSpec {
    pub name: String,
    /// Partitions in execution order.
    pub partitions: Vec<PartitionSpec>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PartitionSpec {
    pub name: String,
    /// Probability a request finishes here (an early exit) instead of going on.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub early_exit: f64,
    /// Data sent on: to the next partition, or (from the last) to successor components, MB.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sends: Vec<Send>,
    /// Where it may run, with the measured demand there.
    pub candidates: Vec<Candidate>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Send {
    pub to: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<f64>,
}

/// A resource a partition may run on: `demand` (seconds per request) for an edge node or VM,
/// `warm` and `cold` (seconds) for a function.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Candidate {
    pub resource: String,
    /// Memory it needs there, MB.
    pub memory: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub demand: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub warm: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cold: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct Resources {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub edge: Vec<NodeSpec>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub vm: Vec<NodeSpec>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub faas: Vec<FunctionSpec>,
}

/// An edge device or VM type. One type per layer is used, on 1..=`max_nodes` nodes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NodeSpec {
    pub name: String,
    pub layer: String,
    /// Price of one node over one unit of `time`.
    pub cost: f64,
    /// Memory of one node, MB.
    pub memory: f64,
    pub max_nodes: u32,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub transition_cost: f64,
}

/// A function configuration, billed per request-second of warm demand.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FunctionSpec {
    pub name: String,
    pub layer: String,
    pub cost: f64,
    pub memory: f64,
    /// Seconds an idle instance lives before it is killed.
    pub idle_timeout: f64,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub transition_cost: f64,
}

/// A network domain joining computational layers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NetworkSpec {
    pub name: String,
    pub layers: Vec<String>,
    /// Seconds.
    pub access_delay: f64,
    /// MB per second.
    pub bandwidth: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PathSpec {
    pub name: String,
    pub components: Vec<String>,
    /// Seconds.
    pub max_response_time: f64,
}

impl Spec {
    pub fn from_yaml(text: &str) -> Result<Self, SpecError> {
        serde_norway::from_str(text).map_err(|e| SpecError::Yaml(e.to_string()))
    }

    /// Deterministic: the same spec always gives the same text.
    pub fn to_yaml(&self) -> String {
        serde_norway::to_string(self).unwrap_or_else(|e| format!("# cannot serialise: {e}\n"))
    }
}
