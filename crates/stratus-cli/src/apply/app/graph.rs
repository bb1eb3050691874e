//! The application's graph: buckets feed functions (inputs), functions feed buckets (outputs).
//! A cycle would make one upload invoke the chain forever, so it is refused before anything
//! changes. The check is static and conservative: prefixes and suffixes are not considered,
//! since an output names only a bucket, not the keys written to it.

use std::collections::BTreeMap;

use stratus_core::BucketTrigger;

use super::manifest::Stage;

/// One function's edges, borrowed from the manifest.
pub(crate) struct Edges<'a> {
    pub(crate) function: &'a str,
    pub(crate) inputs: Vec<&'a BucketTrigger>,
    pub(crate) outputs: Vec<&'a str>,
}

fn edges(stages: &[Stage]) -> Vec<Edges<'_>> {
    stages
        .iter()
        .map(|s| Edges {
            function: s.name(),
            inputs: s.inputs.iter().collect(),
            outputs: s.outputs.iter().map(String::as_str).collect(),
        })
        .collect()
}

/// The first cycle found, written `bucket a → function f → bucket b → … → bucket a`.
pub(crate) fn find_cycle(stages: &[Stage]) -> Option<String> {
    cycle_in(&edges(stages))
}

/// Indices of the functions each bucket feeds, in manifest order.
fn consumers<'a>(graph: &[Edges<'a>]) -> BTreeMap<&'a str, Vec<usize>> {
    let mut fed: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (index, function) in graph.iter().enumerate() {
        for input in &function.inputs {
            let list = fed.entry(input.bucket.as_str()).or_default();
            if !list.contains(&index) {
                list.push(index);
            }
        }
    }
    fed
}

pub(crate) fn cycle_in(graph: &[Edges<'_>]) -> Option<String> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        New,
        OnPath,
        Done,
    }
    /// Depth-first over functions; `path` holds (function, bucket it wrote to) pairs.
    fn visit<'a>(
        at: usize,
        graph: &[Edges<'a>],
        fed: &BTreeMap<&'a str, Vec<usize>>,
        marks: &mut [Mark],
        path: &mut Vec<(usize, &'a str)>,
    ) -> Option<String> {
        marks[at] = Mark::OnPath;
        for &bucket in &graph[at].outputs {
            path.push((at, bucket));
            for &next in fed.get(bucket).map_or(&[][..], Vec::as_slice) {
                match marks[next] {
                    Mark::OnPath => return Some(describe(graph, path, next)),
                    Mark::New => {
                        if let Some(found) = visit(next, graph, fed, marks, path) {
                            return Some(found);
                        }
                    }
                    Mark::Done => {}
                }
            }
            path.pop();
        }
        marks[at] = Mark::Done;
        None
    }
    /// The cycle is the part of the path from `start`'s entry, closed by the bucket feeding it.
    fn describe(graph: &[Edges<'_>], path: &[(usize, &str)], start: usize) -> String {
        let from = path.iter().position(|(f, _)| *f == start).unwrap_or(0);
        let closing = path.last().map_or("", |(_, b)| *b);
        let mut text = format!("bucket {closing}");
        for (function, bucket) in &path[from..] {
            text.push_str(&format!(
                " → function {} → bucket {bucket}",
                graph[*function].function
            ));
        }
        text
    }
    let fed = consumers(graph);
    let mut marks = vec![Mark::New; graph.len()];
    for start in 0..graph.len() {
        if marks[start] == Mark::New
            && let Some(found) = visit(start, graph, &fed, &mut marks, &mut Vec::new())
        {
            return Some(found);
        }
    }
    None
}

fn describe_input(input: &BucketTrigger) -> String {
    let mut filters = Vec::new();
    if let Some(prefix) = &input.prefix {
        filters.push(format!("prefix {prefix}"));
    }
    if let Some(suffix) = &input.suffix {
        filters.push(format!("suffix {suffix}"));
    }
    if input.events != ["s3:ObjectCreated:*"] {
        filters.push(input.events.join(" "));
    }
    if filters.is_empty() {
        input.bucket.clone()
    } else {
        format!("{} ({})", input.bucket, filters.join(", "))
    }
}

/// One line per function, upstream stages first: `scans (suffix .png) → thumbnail → thumbs`.
pub(crate) fn dag_lines(stages: &[Stage]) -> Vec<String> {
    lines_of(&edges(stages))
}

pub(crate) fn lines_of(graph: &[Edges<'_>]) -> Vec<String> {
    // Kahn's order: a function comes after every function writing to one of its inputs; ties
    // keep the manifest's order. The graph is acyclic by the time this runs.
    let fed = consumers(graph);
    let mut waiting = vec![0usize; graph.len()];
    for function in graph {
        for bucket in &function.outputs {
            for &next in fed.get(bucket).map_or(&[][..], Vec::as_slice) {
                waiting[next] += 1;
            }
        }
    }
    let mut done = vec![false; graph.len()];
    let mut lines = Vec::new();
    while let Some(at) = (0..graph.len()).find(|&i| !done[i] && waiting[i] == 0) {
        done[at] = true;
        let function = &graph[at];
        for bucket in &function.outputs {
            for &next in fed.get(bucket).map_or(&[][..], Vec::as_slice) {
                waiting[next] = waiting[next].saturating_sub(1);
            }
        }
        let inputs = if function.inputs.is_empty() {
            "(invoked directly)".to_owned()
        } else {
            let described: Vec<String> =
                function.inputs.iter().map(|i| describe_input(i)).collect();
            described.join(", ")
        };
        let mut line = format!("{inputs} → {}", function.function);
        if !function.outputs.is_empty() {
            line.push_str(&format!(" → {}", function.outputs.join(", ")));
        }
        lines.push(line);
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    fn trigger(bucket: &str) -> BucketTrigger {
        BucketTrigger {
            bucket: bucket.into(),
            prefix: None,
            suffix: None,
            events: vec!["s3:ObjectCreated:*".into()],
        }
    }

    #[test]
    fn a_chain_is_acyclic_and_printed_upstream_first() {
        let (scans, thumbs) = (trigger("scans"), trigger("thumbs"));
        let mut filtered = trigger("scans");
        filtered.suffix = Some(".png".into());
        let graph = [
            Edges {
                function: "ocr",
                inputs: vec![&thumbs],
                outputs: vec!["text"],
            },
            Edges {
                function: "thumbnail",
                inputs: vec![&filtered],
                outputs: vec!["thumbs"],
            },
            Edges {
                function: "audit",
                inputs: vec![&scans],
                outputs: vec![],
            },
        ];
        assert_eq!(cycle_in(&graph), None);
        assert_eq!(
            lines_of(&graph),
            [
                "scans (suffix .png) → thumbnail → thumbs",
                "thumbs → ocr → text",
                "scans → audit",
            ]
        );
    }

    #[test]
    fn cycles_are_reported_as_a_path() {
        let (a, b, c) = (trigger("aaa"), trigger("bbb"), trigger("ccc"));
        let graph = [
            Edges {
                function: "f",
                inputs: vec![&a],
                outputs: vec!["bbb"],
            },
            Edges {
                function: "g",
                inputs: vec![&b],
                outputs: vec!["ccc"],
            },
            Edges {
                function: "h",
                inputs: vec![&c],
                outputs: vec!["aaa"],
            },
        ];
        assert_eq!(
            cycle_in(&graph).as_deref(),
            Some(
                "bucket aaa → function f → bucket bbb → function g → bucket ccc → function h → bucket aaa"
            )
        );
        let own = [Edges {
            function: "loop",
            inputs: vec![&a],
            outputs: vec!["aaa"],
        }];
        assert_eq!(
            cycle_in(&own).as_deref(),
            Some("bucket aaa → function loop → bucket aaa")
        );
    }
}
