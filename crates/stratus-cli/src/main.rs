//! The `stratus` command. This crate alone knows command-line parsing and process signals.

mod apply;
mod buckets;
mod client;
mod cost;
mod cost_compare;
mod demo;
mod environments;
mod functions;
mod keys;
mod plan;
mod profile;
mod quota;
mod server_args;

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "stratus",
    version,
    about = "A self-hostable cloud for AI applications, in one binary"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the server: S3 API, native API and (later) the dashboard on one port.
    Server(server_args::ServerArgs),
    /// Print `export` lines that point AWS tools and the stratus CLI at a running server.
    Env {
        #[arg(long, env = "STRATUS_DATA_DIR", default_value = ".stratus")]
        data_dir: PathBuf,
    },
    /// Manage access keys (admin only).
    Keys {
        #[command(flatten)]
        target: client::Target,
        #[command(subcommand)]
        command: keys::KeysCommand,
    },
    /// Place an application's components on edge, VM or FaaS at the proven lowest cost.
    Plan(plan::PlanArgs),
    /// Load a function (or any URL) at constant rates, report latency and fit its
    /// performance model for the planner (docs/profiling.md).
    Profile(profile::ProfileArgs),
    /// Create or update a function from DIR/function.yaml and the code in DIR.
    Deploy {
        #[command(flatten)]
        target: client::Target,
        dir: PathBuf,
    },
    /// Invoke a function; its result goes to stdout, its log to stderr.
    Invoke {
        #[command(flatten)]
        target: client::Target,
        name: String,
        /// The event: JSON text, or @FILE.
        #[arg(long)]
        payload: Option<String>,
        /// Queue the invocation durably and print its id instead of waiting.
        #[arg(long = "async")]
        asynchronous: bool,
        /// A published version number (default $LATEST).
        #[arg(long)]
        qualifier: Option<String>,
    },
    /// List or remove functions.
    Functions {
        #[command(flatten)]
        target: client::Target,
        #[command(subcommand)]
        command: functions::FunctionsCommand,
    },
    /// Make the server match a file: an application manifest (docs/applications.md) or an
    /// OSCAR FDL file (docs/oscar.md). Applying the same file again changes nothing.
    Apply {
        #[command(flatten)]
        target: client::Target,
        file: PathBuf,
        /// Print the plan and change nothing (application manifests).
        #[arg(long)]
        dry_run: bool,
    },
    /// List, create or delete buckets (`ls BUCKET/PREFIX` lists objects).
    Buckets {
        #[command(flatten)]
        target: client::Target,
        #[command(subcommand)]
        command: buckets::BucketsCommand,
    },
    /// Copy a local file to BUCKET/KEY, or BUCKET/KEY to a local file (`-` for stdout).
    Cp {
        #[command(flatten)]
        target: client::Target,
        from: String,
        to: String,
    },
    /// Delete what `stratus apply` created.
    Delete {
        #[command(flatten)]
        target: client::Target,
        #[command(subcommand)]
        command: apply::app::DeleteCommand,
    },
    /// List the project's applications.
    Apps {
        #[command(flatten)]
        target: client::Target,
        #[command(subcommand)]
        command: apply::app::AppsCommand,
    },
    /// Deploy the AI examples (OCR, Magika, thumbnail -> OCR) to a running server, upload
    /// sample files and print what the models make of them.
    Demo {
        #[command(flatten)]
        target: client::Target,
        /// The examples directory (default: ./examples, else the source tree's).
        #[arg(long)]
        examples: Option<PathBuf>,
    },
    /// What the project's functions and storage cost over a period (metered usage × prices);
    /// `stratus cost compare` prices traffic on serverless and on always-on instances instead.
    Cost {
        #[command(flatten)]
        target: client::Target,
        #[command(flatten)]
        args: cost::CostArgs,
        #[command(subcommand)]
        command: Option<CostCommand>,
    },
    /// Project quotas: `set` (operators) and `show` (usage against limits).
    Quota {
        #[command(flatten)]
        target: client::Target,
        #[command(subcommand)]
        command: quota::QuotaCommand,
    },
    /// Projects and their usage.
    Projects {
        #[command(flatten)]
        target: client::Target,
        #[command(subcommand)]
        command: quota::ProjectsCommand,
    },
    /// Print a function's log (START/END/REPORT lines and its output).
    Logs {
        #[command(flatten)]
        target: client::Target,
        name: String,
        /// Keep printing new lines as they arrive.
        #[arg(long, short)]
        follow: bool,
        /// Print the log events as JSON (one object a line with --follow).
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
enum CostCommand {
    /// Price the same traffic on serverless billing and on the cheapest always-on fleet that
    /// keeps the p95 bound (M/M/c), with the break-even utilisation. Offline.
    Compare(cost_compare::CompareArgs),
}

fn main() -> anyhow::Result<ExitCode> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("STRATUS_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    match Cli::parse().command {
        // Pure computation: no async runtime; its exit code says solved, bad input or infeasible.
        Command::Plan(args) => plan::run(args),
        Command::Env { data_dir } => print_env(&data_dir).map(|()| ExitCode::SUCCESS),
        Command::Server(args) => block_on(run_server(args.resolve()?)).map(|()| ExitCode::SUCCESS),
        Command::Keys { target, command } => {
            block_on(keys::run(&target, command)).map(|()| ExitCode::SUCCESS)
        }
        Command::Profile(args) => block_on_code(profile::run(args)),
        Command::Deploy { target, dir } => block_on_code(functions::deploy(&target, &dir)),
        Command::Invoke {
            target,
            name,
            payload,
            asynchronous,
            qualifier,
        } => block_on_code(functions::invoke(
            &target,
            &name,
            payload.as_deref(),
            asynchronous,
            qualifier.as_deref(),
        )),
        Command::Functions { target, command } => block_on_code(functions::run(&target, command)),
        Command::Demo { target, examples } => block_on_code(demo::run(&target, examples)),
        Command::Apply {
            target,
            file,
            dry_run,
        } => block_on(apply::run(&target, &file, dry_run)).map(|()| ExitCode::SUCCESS),
        Command::Buckets { target, command } => {
            block_on(buckets::run(&target, command)).map(|()| ExitCode::SUCCESS)
        }
        Command::Cp { target, from, to } => {
            block_on(buckets::cp(&target, &from, &to)).map(|()| ExitCode::SUCCESS)
        }
        Command::Delete { target, command } => block_on_code(apply::app::delete(&target, command)),
        Command::Apps { target, command } => block_on_code(apply::app::run(&target, command)),
        Command::Cost {
            command: Some(CostCommand::Compare(args)),
            ..
        } => cost_compare::run(args).map(|()| ExitCode::SUCCESS),
        Command::Cost {
            target,
            args,
            command: None,
        } => block_on(cost::run(&target, args)).map(|()| ExitCode::SUCCESS),
        Command::Logs {
            target,
            name,
            follow,
            json,
        } => block_on_code(functions::logs(&target, &name, follow, json)),
        Command::Quota { target, command } => {
            block_on(quota::run(&target, command)).map(|()| ExitCode::SUCCESS)
        }
        Command::Projects { target, command } => {
            block_on(quota::run_projects(&target, command)).map(|()| ExitCode::SUCCESS)
        }
    }
}

/// Runs a networked command on a multi-threaded runtime.
fn block_on<T>(work: impl Future<Output = anyhow::Result<T>>) -> anyhow::Result<T> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(work)
}

/// Runs a networked command whose exit code carries meaning (a function error is 1).
fn block_on_code(work: impl Future<Output = anyhow::Result<ExitCode>>) -> anyhow::Result<ExitCode> {
    block_on(work)
}

/// Resolves on the first SIGINT or SIGTERM.
async fn shutdown_signal() {
    let mut terminate =
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(signal) => signal,
            Err(error) => {
                tracing::warn!(%error, "cannot listen for SIGTERM");
                let _ = tokio::signal::ctrl_c().await;
                return;
            }
        };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = terminate.recv() => {}
    }
    tracing::info!("shutdown requested");
}

async fn run_server(config: stratus_server::Config) -> anyhow::Result<()> {
    let data_dir = config.data_dir.clone();
    let server = stratus_server::Server::start(config).await?;
    if let Some(key) = server.created_admin_key() {
        println!(
            "created the operator key (saved to {}):",
            data_dir.join("credentials").display()
        );
        println!("  access key id:     {}", key.access_key_id);
        println!("  secret access key: {}", key.secret);
    }
    println!("stratus listening on {}", server.endpoint());
    if let Some(resolver) = server.tls_reloader() {
        tokio::spawn(reload_tls_on_sighup(resolver));
    }
    println!(
        "point your tools at it with: eval \"$(stratus env --data-dir {})\"",
        data_dir.display()
    );
    server.serve(shutdown_signal()).await
}

/// Re-reads the TLS certificate and key on every SIGHUP; a bad file keeps the old certificate.
/// Open connections are not touched: only new handshakes see the new certificate.
async fn reload_tls_on_sighup(resolver: std::sync::Arc<stratus_server::CertResolver>) {
    let mut hangup = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()) {
        Ok(signal) => signal,
        Err(error) => {
            tracing::warn!(%error, "cannot listen for SIGHUP: TLS certificates will not reload");
            return;
        }
    };
    while hangup.recv().await.is_some() {
        let resolver = std::sync::Arc::clone(&resolver);
        match tokio::task::spawn_blocking(move || resolver.reload()).await {
            Ok(Ok(())) => tracing::info!("SIGHUP: reloaded the TLS certificate"),
            Ok(Err(error)) => {
                tracing::error!("SIGHUP: keeping the current TLS certificate: {error:#}");
            }
            Err(error) => tracing::error!(%error, "SIGHUP: TLS reload failed"),
        }
    }
}

/// Quotes a value for POSIX shells.
fn shell_quote(value: &str) -> String {
    format!("'{}'", value.replace('\'', "'\\''"))
}

fn print_env(data_dir: &std::path::Path) -> anyhow::Result<()> {
    let credentials = stratus_server::read_credentials(data_dir)?;
    let info = stratus_server::read_server_info(data_dir)
        .context("start the server first: stratus server")?;
    let ca_file = info
        .ca_file
        .as_ref()
        .map(|path| path.to_string_lossy().into_owned());
    let mut lines = vec![
        ("AWS_ACCESS_KEY_ID", credentials.access_key_id.as_str()),
        (
            "AWS_SECRET_ACCESS_KEY",
            credentials.secret_access_key.as_str(),
        ),
        ("AWS_DEFAULT_REGION", "us-east-1"),
        ("AWS_REGION", "us-east-1"),
        ("AWS_ENDPOINT_URL", info.endpoint.as_str()),
        ("STRATUS_ENDPOINT", info.endpoint.as_str()),
        ("STRATUS_TOKEN", credentials.token.as_str()),
    ];
    // The server's own CA (self-signed TLS): boto3, the aws CLI and `stratus` all read this.
    if let Some(ca_file) = &ca_file {
        lines.push(("AWS_CA_BUNDLE", ca_file.as_str()));
    }
    for (name, value) in lines {
        println!("export {name}={}", shell_quote(value));
    }
    Ok(())
}
