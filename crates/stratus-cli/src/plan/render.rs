//! Human and JSON views of a plan.

use serde_json::{Value, json};
use stratus_planner::model::ResourceKind;
use stratus_planner::{Plan, System};

/// The `--json` summary: the planner's, plus how long the search took.
pub fn summary(system: &System, plan: &Plan, seconds: f64) -> Value {
    let mut summary = stratus_planner::summary(system, plan);
    if let Some(fields) = summary.as_object_mut() {
        fields.insert("seconds".to_owned(), json!(seconds));
    }
    summary
}

/// The default table.
/// Deterministic: timings go to stderr, not into the table.
pub fn table(system: &System, plan: &Plan) -> String {
    let mut rows = vec![[
        "component".to_owned(),
        "deployment".to_owned(),
        "partition".to_owned(),
        "resource".to_owned(),
        "kind".to_owned(),
        "nodes".to_owned(),
        "resp. time (s)".to_owned(),
        "limit (s)".to_owned(),
    ]];
    for (i, cp) in plan.placement.components.iter().enumerate() {
        let comp = &system.components[i];
        let dep = &comp.deployments[cp.deployment];
        for (h, (a, p)) in cp.partitions.iter().zip(&dep.partitions).enumerate() {
            let r = &system.resources[a.resource];
            let first = h == 0;
            rows.push([
                if first {
                    comp.name.clone()
                } else {
                    String::new()
                },
                if first {
                    dep.name.clone()
                } else {
                    String::new()
                },
                p.name.clone(),
                r.name.clone(),
                r.kind.name().to_owned(),
                if r.kind == ResourceKind::Faas {
                    "-".to_owned()
                } else {
                    a.cluster.to_string()
                },
                if first {
                    format!("{:.4}", plan.evaluation.component_response_times[i])
                } else {
                    String::new()
                },
                match (first, comp.local_threshold) {
                    (true, Some(t)) => format!("{t:.4}"),
                    _ => String::new(),
                },
            ]);
        }
    }
    let mut out = render_rows(&rows);
    if !system.paths.is_empty() {
        out.push('\n');
        let mut prow = vec![[
            "path".to_owned(),
            "components".to_owned(),
            "resp. time (s)".to_owned(),
            "limit (s)".to_owned(),
        ]];
        for (p, r) in system
            .paths
            .iter()
            .zip(&plan.evaluation.path_response_times)
        {
            let names: Vec<&str> = p
                .components
                .iter()
                .map(|&c| system.components[c].name.as_str())
                .collect();
            prow.push([
                p.name.clone(),
                names.join(" → "),
                format!("{r:.4}"),
                format!("{:.4}", p.threshold),
            ]);
        }
        out += &render_rows(&prow);
    }
    out += &format!(
        "\ntotal cost {:.4}   lower bound {:.4}   {}   λ = {} req/s, Time = {}\n",
        plan.total_cost,
        plan.lower_bound,
        if plan.optimal {
            "proven optimal".to_owned()
        } else {
            format!("gap {:.2} %", 100.0 * plan.gap())
        },
        system.lambda,
        system.time,
    );
    out
}

fn render_rows<const N: usize>(rows: &[[String; N]]) -> String {
    let widths: Vec<usize> = (0..N)
        .map(|c| rows.iter().map(|r| r[c].chars().count()).max().unwrap_or(0))
        .collect();
    let mut out = String::new();
    for row in rows {
        let cells: Vec<String> = row
            .iter()
            .zip(&widths)
            .map(|(cell, w)| format!("{cell:<w$}"))
            .collect();
        out += cells.join("  ").trim_end();
        out.push('\n');
    }
    out
}
