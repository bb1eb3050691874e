//! Fixed placements, as written by the current SPACE4AI tool (`solution*.json`).
//!
//! The file lists, per component, the chosen partitions, each under its computational layer
//! and resource with the cluster size as `number`. It has no deployment level, so the
//! deployment is the one whose partitions are exactly the listed ones. The older tool's
//! `best_sol_*.json` adds that level (`c1 → s2 → h2 → layer → resource`); both are accepted.

use std::collections::BTreeSet;

use crate::error::ParseError;
use crate::json::{Obj, as_obj, num_or, obj, parse_root};
use crate::model::{System, count};

/// Where one partition runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Assignment {
    pub resource: usize,
    /// Cluster size of the resource (1 for FaaS).
    pub cluster: u32,
}

/// The placement of one component: its deployment and, per partition in execution order,
/// where it runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ComponentPlacement {
    pub deployment: usize,
    pub partitions: Vec<Assignment>,
}

/// A complete placement, indexed like [`System::components`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Placement {
    pub components: Vec<ComponentPlacement>,
}

impl Placement {
    /// Parses a current-tool solution file against the system it solves.
    pub fn parse(text: &str, system: &System) -> Result<Self, ParseError> {
        let root = parse_root(text)?;
        let comps = obj(&root, &["components", "Components"], "solution")?;
        let components = system
            .components
            .iter()
            .map(|c| {
                let entry = obj(comps, &[&c.name], "solution components")?;
                parse_component(system, &c.name, entry)
            })
            .collect::<Result<_, _>>()?;
        Ok(Self { components })
    }
}

fn parse_component(
    system: &System,
    name: &str,
    entry: &Obj,
) -> Result<ComponentPlacement, ParseError> {
    let err = |message: String| ParseError::Component {
        component: name.to_owned(),
        message,
    };
    let entry = deployment_level(system, name, entry).unwrap_or(entry);
    // Partition entries are the objects; `response_time` and thresholds are scalars.
    let chosen: BTreeSet<&str> = entry
        .iter()
        .filter(|(_, v)| v.is_object())
        .map(|(k, _)| k.as_str())
        .collect();
    let component = system
        .components
        .iter()
        .find(|c| c.name == name)
        .ok_or_else(|| err("not in the system".to_owned()))?;
    let deployment = component
        .deployments
        .iter()
        .position(|d| {
            d.partitions.len() == chosen.len()
                && d.partitions
                    .iter()
                    .all(|p| chosen.contains(p.name.as_str()))
        })
        .ok_or_else(|| {
            err(format!(
                "no deployment has exactly the partitions {chosen:?}"
            ))
        })?;
    let partitions = component.deployments[deployment]
        .partitions
        .iter()
        .map(|p| parse_assignment(system, name, &p.name, obj(entry, &[&p.name], name)?))
        .collect::<Result<_, _>>()?;
    Ok(ComponentPlacement {
        deployment,
        partitions,
    })
}

/// The older format's single deployment object, when `entry` has one.
fn deployment_level<'a>(system: &System, name: &str, entry: &'a Obj) -> Option<&'a Obj> {
    let component = system.components.iter().find(|c| c.name == name)?;
    component
        .deployments
        .iter()
        .find_map(|d| entry.get(&d.name))
        .and_then(|v| v.as_object())
}

fn parse_assignment(
    system: &System,
    component: &str,
    partition: &str,
    entry: &Obj,
) -> Result<Assignment, ParseError> {
    let ctx = format!("solution component {component} partition {partition}");
    // Exactly one layer object holding exactly one resource object.
    let (_, layer) =
        entry
            .iter()
            .find(|(_, v)| v.is_object())
            .ok_or_else(|| ParseError::Missing {
                field: "computationallayer".to_owned(),
                context: ctx.clone(),
            })?;
    let layer = as_obj(layer, "computationallayer", &ctx)?;
    let (rname, res) = layer.iter().next().ok_or_else(|| ParseError::Missing {
        field: "resource".to_owned(),
        context: ctx.clone(),
    })?;
    let resource = system
        .resource_index(rname)
        .ok_or_else(|| ParseError::UnknownResource {
            resource: rname.clone(),
            context: ctx.clone(),
        })?;
    let res = as_obj(res, rname, &ctx)?;
    Ok(Assignment {
        resource,
        cluster: count(num_or(res, &["number"], &ctx, 1.0)?),
    })
}
