//! Writes fitted demands into a planner application spec (`docs/planner-spec.md`), so
//! `stratus plan` places the function with measured figures.
//!
//! A profiled memory size matches the component's FaaS candidates whose resource (a
//! `resources.faas` entry) has that memory; their `warm`/`cold` are replaced. Candidates are
//! never added: a FaaS resource carries a price, a layer and an idle timeout that profiling
//! cannot know. So every profiled size must match at least one candidate, which is checked
//! before any load is sent. The file goes through the spec types (comments and layout are not
//! kept; the meaning is) and is checked to still convert to a planner system; the original is
//! kept as FILE.bak and the new text replaces it atomically (written beside it, then renamed).

use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};
use serde::Serialize;
use stratus_planner::Spec;

/// A spec file and the component whose candidates a profile fills.
pub(crate) struct SpecTarget {
    path: PathBuf,
    spec: Spec,
    component: String,
}

/// One candidate the profile changed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct Updated {
    pub deployment: String,
    pub partition: String,
    pub resource: String,
    pub memory_mb: u32,
    pub warm: f64,
    pub cold: f64,
}

impl SpecTarget {
    /// Reads the spec and checks the component exists.
    pub(crate) fn load(path: &Path, component: &str) -> anyhow::Result<Self> {
        let yaml = path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("yaml") || e.eq_ignore_ascii_case("yml"));
        if !yaml {
            bail!(
                "{}: --spec takes a Stratus application spec (.yaml/.yml)",
                path.display()
            );
        }
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        let spec = Spec::from_yaml(&text).with_context(|| path.display().to_string())?;
        if !spec.components.iter().any(|c| c.name == component) {
            let names: Vec<&str> = spec.components.iter().map(|c| c.name.as_str()).collect();
            bail!(
                "{}: no component `{component}` (it has: {})",
                path.display(),
                names.join(", ")
            );
        }
        Ok(Self {
            path: path.to_owned(),
            spec,
            component: component.to_owned(),
        })
    }

    /// The memory (MB) of the FaaS resource called `resource`, if it is one.
    fn faas_memory(&self, resource: &str) -> Option<f64> {
        self.spec
            .resources
            .faas
            .iter()
            .find(|f| f.name == resource)
            .map(|f| f.memory)
    }

    /// Memory sizes of the component's FaaS candidates, ascending, without repeats.
    fn candidate_memories(&self) -> Vec<u32> {
        let mut sizes: Vec<u32> = self
            .candidates()
            .filter_map(|(_, _, c)| self.faas_memory(&c.resource))
            .map(|m| m.round() as u32)
            .collect();
        sizes.sort_unstable();
        sizes.dedup();
        sizes
    }

    fn candidates(&self) -> impl Iterator<Item = (&str, &str, &stratus_planner::spec::Candidate)> {
        self.spec
            .components
            .iter()
            .filter(|c| c.name == self.component)
            .flat_map(|c| &c.deployments)
            .flat_map(|d| d.partitions.iter().map(move |p| (d, p)))
            .flat_map(|(d, p)| {
                p.candidates
                    .iter()
                    .map(move |c| (d.name.as_str(), p.name.as_str(), c))
            })
    }

    /// Fails unless every memory size has a FaaS candidate to receive its demands.
    pub(crate) fn check_covers(&self, memories: &[u32]) -> anyhow::Result<()> {
        let known = self.candidate_memories();
        let missing: Vec<String> = memories
            .iter()
            .filter(|m| !known.contains(m))
            .map(u32::to_string)
            .collect();
        if missing.is_empty() {
            return Ok(());
        }
        let known: Vec<String> = known.iter().map(u32::to_string).collect();
        bail!(
            "{}: component `{}` has no FaaS candidate with {} MB (its FaaS resources have: {}); \
             add one to resources.faas and the candidates first",
            self.path.display(),
            self.component,
            missing.join(", "),
            if known.is_empty() {
                "none".to_owned()
            } else {
                known.join(", ")
            }
        )
    }

    /// Sets warm/cold (seconds) of every candidate matching `memory_mb`.
    pub(crate) fn apply(&mut self, memory_mb: u32, warm: f64, cold: Option<f64>) -> Vec<Updated> {
        let faas: Vec<(String, f64)> = self
            .spec
            .resources
            .faas
            .iter()
            .map(|f| (f.name.clone(), f.memory))
            .collect();
        let matches = |resource: &str| {
            faas.iter()
                .any(|(name, memory)| name == resource && memory.round() as u32 == memory_mb)
        };
        let mut updated = Vec::new();
        let component = self
            .spec
            .components
            .iter_mut()
            .filter(|c| c.name == self.component);
        for deployment in component.flat_map(|c| c.deployments.iter_mut()) {
            for partition in &mut deployment.partitions {
                for candidate in &mut partition.candidates {
                    if !matches(&candidate.resource) {
                        continue;
                    }
                    candidate.warm = Some(warm);
                    // Without a cold start observed, the file's cold demand stands.
                    candidate.cold = cold.or(candidate.cold).or(Some(warm));
                    updated.push(Updated {
                        deployment: deployment.name.clone(),
                        partition: partition.name.clone(),
                        resource: candidate.resource.clone(),
                        memory_mb,
                        warm,
                        cold: candidate.cold.unwrap_or(warm),
                    });
                }
            }
        }
        updated
    }

    /// Checks the result is still a valid planner system, keeps FILE.bak and replaces FILE.
    pub(crate) fn write(&self) -> anyhow::Result<()> {
        self.spec
            .to_system()
            .context("the updated spec is not a valid planner system")?;
        let backup = with_suffix(&self.path, ".bak");
        std::fs::copy(&self.path, &backup)
            .with_context(|| format!("cannot back up {}", self.path.display()))?;
        let staging = with_suffix(&self.path, ".tmp");
        std::fs::write(&staging, self.spec.to_yaml())
            .with_context(|| format!("cannot write {}", staging.display()))?;
        std::fs::rename(&staging, &self.path)
            .with_context(|| format!("cannot replace {}", self.path.display()))
    }

    pub(crate) fn path(&self) -> &Path {
        &self.path
    }
}

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SPEC: &str = "lambda: 1.0
components:
  - name: work
    deployments:
      - name: whole
        partitions:
          - name: all
            candidates:
              - {resource: vm1, memory: 512, demand: 0.2}
              - {resource: fn-128, memory: 128, warm: 1.0, cold: 2.0}
              - {resource: fn-256, memory: 256, warm: 1.0, cold: 2.0}
resources:
  vm:
    - {name: vm1, layer: cloud, cost: 0.1, memory: 4096, max_nodes: 1}
  faas:
    - {name: fn-128, layer: functions, cost: 0.00001, memory: 128, idle_timeout: 300}
    - {name: fn-256, layer: functions, cost: 0.00002, memory: 256, idle_timeout: 300}
networks:
  - {name: net, layers: [cloud, functions], access_delay: 0.01, bandwidth: 100}
";

    fn target(dir: &Path) -> SpecTarget {
        let path = dir.join("app.yaml");
        std::fs::write(&path, SPEC).expect("write");
        SpecTarget::load(&path, "work").expect("load")
    }

    #[test]
    fn updates_matching_candidates_and_keeps_the_rest() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut target = target(dir.path());
        target.check_covers(&[128, 256]).expect("covered");
        let updated = target.apply(128, 0.05, Some(0.4));
        assert_eq!(updated.len(), 1);
        assert_eq!(updated[0].resource, "fn-128");
        // No cold start seen: the file's cold value stays.
        target.apply(256, 0.03, None);
        target.write().expect("write");
        let text = std::fs::read_to_string(dir.path().join("app.yaml")).expect("read");
        let spec = Spec::from_yaml(&text).expect("parse");
        let candidates = &spec.components[0].deployments[0].partitions[0].candidates;
        assert_eq!(candidates[0].demand, Some(0.2));
        assert_eq!(
            (candidates[1].warm, candidates[1].cold),
            (Some(0.05), Some(0.4))
        );
        assert_eq!(
            (candidates[2].warm, candidates[2].cold),
            (Some(0.03), Some(2.0))
        );
        let backup = std::fs::read_to_string(dir.path().join("app.yaml.bak")).expect("backup");
        assert_eq!(backup, SPEC);
    }

    #[test]
    fn refuses_unknown_components_and_uncovered_memory() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("app.yaml");
        std::fs::write(&path, SPEC).expect("write");
        let error = SpecTarget::load(&path, "nope").err().expect("unknown");
        assert!(error.to_string().contains("no component `nope`"));
        let error = target(dir.path())
            .check_covers(&[512])
            .expect_err("uncovered");
        assert!(error.to_string().contains("512 MB"), "{error}");
        assert!(error.to_string().contains("128, 256"), "{error}");
        let json = dir.path().join("app.json");
        std::fs::write(&json, "{}").expect("write");
        assert!(SpecTarget::load(&json, "work").is_err());
    }
}
