//! `stratus quota set|show` and `stratus projects ls`: project quotas and usage, through
//! `/v1/projects` (docs/tenancy.md).

use std::collections::BTreeMap;

use anyhow::bail;
use clap::{Args, Subcommand};
use stratus_client::projects::{Project, ProjectList, QuotaChangeRequest};

use crate::client::{NativeClient, Target};

/// The limits, as the API names them; the CLI also accepts `-` for `_` and no `max_` prefix.
const LIMITS: [&str; 5] = [
    "max_storage_bytes",
    "max_objects",
    "max_functions",
    "max_worker_memory_mb",
    "max_concurrent_invocations",
];

#[derive(Subcommand)]
pub(crate) enum QuotaCommand {
    /// Set a project's limits (operators only); limits not named keep their value.
    Set(SetArgs),
    /// A project's usage against its limits; without PROJECT, every project you can see
    /// (operators: all; others: their own), and `--json` prints an array.
    #[command(visible_aliases = ["get", "describe"])]
    Show {
        project: Option<String>,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Args)]
pub(crate) struct SetArgs {
    project: String,
    /// Print the project's new limits and usage as JSON.
    #[arg(long)]
    json: bool,
    /// Bytes of object data; accepts suffixes: 10GiB, 500MB, 4k.
    #[arg(long, value_parser = parse_size)]
    max_storage_bytes: Option<u64>,
    #[arg(long)]
    max_objects: Option<u64>,
    #[arg(long)]
    max_functions: Option<u64>,
    /// Total memory of the project's live workers, in MB.
    #[arg(long)]
    max_worker_memory_mb: Option<u64>,
    #[arg(long)]
    max_concurrent_invocations: Option<u64>,
    /// Remove a limit (repeatable), e.g. --unset max-objects.
    #[arg(long, value_name = "NAME", value_parser = parse_limit_name)]
    unset: Vec<&'static str>,
}

#[derive(Subcommand)]
pub(crate) enum ProjectsCommand {
    /// Projects with their usage and limits (all for operators, your own otherwise).
    #[command(visible_alias = "list")]
    Ls {
        #[arg(long)]
        json: bool,
    },
}

/// `10GiB` → 10·2³⁰, `500MB` → 500·10⁶, `4k` → 4000, `123` → 123.
fn parse_size(text: &str) -> Result<u64, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (digits, suffix) = text.split_at(split);
    let number: u64 = digits
        .parse()
        .map_err(|_| format!("{text:?} is not a size (e.g. 1048576, 10GiB, 500MB)"))?;
    let multiplier: u64 = match suffix.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kb" => 1_000,
        "m" | "mb" => 1_000_000,
        "g" | "gb" => 1_000_000_000,
        "t" | "tb" => 1_000_000_000_000,
        "ki" | "kib" => 1 << 10,
        "mi" | "mib" => 1 << 20,
        "gi" | "gib" => 1 << 30,
        "ti" | "tib" => 1 << 40,
        other => {
            return Err(format!(
                "unknown size suffix {other:?} (B, KB, MiB, GiB, ...)"
            ));
        }
    };
    number
        .checked_mul(multiplier)
        .ok_or_else(|| format!("{text:?} is too large"))
}

fn parse_limit_name(text: &str) -> Result<&'static str, String> {
    let normal = text.trim().to_ascii_lowercase().replace('-', "_");
    LIMITS
        .iter()
        .find(|name| **name == normal || name.strip_prefix("max_") == Some(normal.as_str()))
        .copied()
        .ok_or_else(|| {
            format!(
                "unknown limit {text:?}; the limits are {}",
                LIMITS.join(", ")
            )
        })
}

impl SetArgs {
    fn body(&self) -> anyhow::Result<QuotaChangeRequest> {
        let mut limits = BTreeMap::new();
        for (name, value) in LIMITS.iter().zip([
            self.max_storage_bytes,
            self.max_objects,
            self.max_functions,
            self.max_worker_memory_mb,
            self.max_concurrent_invocations,
        ]) {
            if let Some(value) = value {
                limits.insert((*name).to_owned(), Some(value));
            }
        }
        for name in &self.unset {
            if limits.contains_key(*name) {
                bail!("{name} is both set and unset");
            }
            limits.insert((*name).to_owned(), None);
        }
        if limits.is_empty() {
            bail!("name at least one limit to set (--max-objects N, ...) or --unset NAME");
        }
        Ok(QuotaChangeRequest { limits })
    }
}

pub(crate) async fn run(target: &Target, command: QuotaCommand) -> anyhow::Result<()> {
    let client = NativeClient::new(target)?;
    match command {
        QuotaCommand::Set(args) => {
            let body = args.body()?;
            let path = format!("/v1/projects/{}/quota", args.project);
            let document: Project = client
                .request(http::Method::PUT, &path, Some(&body))
                .await?;
            if args.json {
                println!("{}", serde_json::to_string_pretty(&document)?);
            } else {
                print_table(std::slice::from_ref(&document));
            }
        }
        QuotaCommand::Show { project, json } => {
            // One project's document (an object), or every visible project's (an array).
            match project {
                Some(project) => {
                    let path = format!("/v1/projects/{project}/quota");
                    let document: Project = client.get(&path).await?;
                    if json {
                        println!("{}", serde_json::to_string(&document)?);
                    } else {
                        print_table(std::slice::from_ref(&document));
                    }
                }
                None => {
                    let documents = projects(&client).await?;
                    if json {
                        println!("{}", serde_json::to_string(&documents)?);
                    } else {
                        print_table(&documents);
                    }
                }
            }
        }
    }
    Ok(())
}

pub(crate) async fn run_projects(target: &Target, command: ProjectsCommand) -> anyhow::Result<()> {
    let client = NativeClient::new(target)?;
    let ProjectsCommand::Ls { json } = command;
    let documents = projects(&client).await?;
    if json {
        println!("{}", serde_json::to_string(&documents)?);
    } else {
        println!(
            "{:<24} {:>14} {:>9} {:>9} {:>10} {:>9}",
            "PROJECT", "STORAGE", "OBJECTS", "FUNCTIONS", "MEMORY MB", "RUNNING"
        );
        for doc in &documents {
            let usage = &doc.usage;
            println!(
                "{:<24} {:>14} {:>9} {:>9} {:>10} {:>9}",
                doc.project,
                usage.storage_bytes,
                usage.objects,
                usage.functions,
                usage.worker_memory_mb,
                usage.concurrent_invocations
            );
        }
    }
    Ok(())
}

async fn projects(client: &NativeClient) -> anyhow::Result<Vec<Project>> {
    let listing: ProjectList = client.get("/v1/projects").await?;
    Ok(listing.projects)
}

/// Usage against limits, a row per limit, for each project.
fn print_table(documents: &[Project]) {
    for doc in documents {
        let (limits, usage) = (&doc.limits, &doc.usage);
        println!("project {}", doc.project);
        println!("  {:<28} {:>16} {:>16}", "LIMIT", "USAGE", "MAXIMUM");
        let rows = [
            (
                "max_storage_bytes",
                usage.storage_bytes,
                limits.max_storage_bytes,
            ),
            ("max_objects", usage.objects, limits.max_objects),
            ("max_functions", usage.functions, limits.max_functions),
            (
                "max_worker_memory_mb",
                usage.worker_memory_mb,
                limits.max_worker_memory_mb,
            ),
            (
                "max_concurrent_invocations",
                usage.concurrent_invocations,
                limits.max_concurrent_invocations,
            ),
        ];
        for (limit, used, max) in rows {
            let max = max.map_or_else(|| "unlimited".to_owned(), |n| n.to_string());
            println!("  {limit:<28} {used:>16} {max:>16}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{parse_limit_name, parse_size};

    #[test]
    fn sizes_and_names() {
        assert_eq!(parse_size("10GiB"), Ok(10 << 30));
        assert_eq!(parse_size("500MB"), Ok(500_000_000));
        assert_eq!(parse_size("4k"), Ok(4000));
        assert_eq!(parse_size("123"), Ok(123));
        assert!(parse_size("-1").is_err());
        assert!(parse_size("12parsecs").is_err());
        assert!(parse_size("99999999999TiB").is_err());
        assert_eq!(parse_limit_name("max-objects"), Ok("max_objects"));
        assert_eq!(parse_limit_name("storage-bytes"), Ok("max_storage_bytes"));
        assert!(parse_limit_name("buckets").is_err());
    }
}
