//! The `stratus` command. This crate alone knows command-line parsing and process signals.
//!
//! `main` parses `Cli` and runs one command; `stratus server` resolves its options into a
//! `stratus_server::Config`, calls `Server::start` and serves until SIGINT/SIGTERM (SIGHUP
//! reloads the TLS certificate). Every other networked command is a client of the native `/v1`
//! API (`Target`: flags, then `STRATUS_*` variables, then the data directory).
//!
//! Files:
//! - `main.rs` — the commands, the runtime, signals, `stratus env`.
//! - `exit.rs` — expected errors as one line and the exit statuses of `docs/cli.md`;
//!   `logging.rs` (`RUST_LOG`/`STRATUS_LOG`, `--log-format`); `readiness.rs` (`--ready-file`,
//!   sd_notify); `manual.rs` (`stratus man`; `stratus completions` is clap_complete).
//! - `server_args.rs` — `stratus server` options: flags over `STRATUS_*` over the `--config`
//!   file over the defaults.
//! - `client.rs` — the native API client and `Target`.
//! - `keys.rs`, `quota.rs` — `stratus keys`; `stratus quota set|show` and `stratus projects`.
//! - `functions.rs`, `environments.rs` — `deploy`, `invoke`, `functions`, `logs`; the
//!   `requirements.txt` environment a deploy names.
//! - `buckets.rs` — `stratus buckets` and `cp`, and the bucket/object calls others reuse.
//! - `apply/` — `stratus apply FILE`, by the document's shape: `app.rs` with `app/` (manifest
//!   parsing, graph and cycle check, server state, the plan; `docs/applications.md`) and
//!   `stratus delete app`/`apps ls`; `fdl.rs` and `oscar.rs` OSCAR FDL files, with
//!   `stratus_oscar.py` the shim every script service runs (`docs/oscar.md`).
//! - `plan/` — `stratus plan`: arguments and exit codes, table/JSON rendering, `--bench`.
//! - `profile/` — `stratus profile`: the open-loop load generator (`load.rs`), percentiles
//!   (`stats.rs`), the fitted FaaS model (`fit.rs`) and the spec it writes (`spec.rs`;
//!   `docs/profiling.md`).
//! - `cost.rs`, `cost_compare/` — `stratus cost` (`GET /v1/cost`); `stratus cost compare`
//!   offline, with its table and SVG chart.
//! - `demo.rs` — `stratus demo`: deploys `examples/` and prints what the models make of samples.
//!
//! `tests/e2e` is the workspace's one Rust end-to-end test binary: aws-sdk-s3, -lambda, -sqs and
//! -sns against the real binary, plus the layering test (`architecture.rs`).

mod apply;
mod buckets;
mod client;
mod cost;
mod cost_compare;
mod demo;
mod environments;
mod exit;
mod functions;
mod keys;
mod logging;
mod manual;
mod plan;
mod profile;
mod quota;
mod readiness;
mod server_args;

use std::path::PathBuf;
use std::process::ExitCode;

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
        /// Print the deployed function as JSON (as `functions show --json` does).
        #[arg(long)]
        json: bool,
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
        /// Print what was planned and done as one JSON document (progress goes to stderr).
        #[arg(long)]
        json: bool,
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
    #[command(visible_alias = "rm")]
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
    /// Print a shell completion script: `source <(stratus completions bash)`.
    Completions {
        /// bash, zsh, fish, elvish or powershell.
        shell: clap_complete::Shell,
    },
    /// Print the manual page (roff: `stratus man | man -l -`), or with --out one page per
    /// command into a directory.
    Man {
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
    },
}

#[derive(Subcommand)]
enum CostCommand {
    /// Price the same traffic on serverless billing and on the cheapest always-on fleet that
    /// keeps the p95 bound (M/M/c), with the break-even utilisation. Offline.
    Compare(cost_compare::CompareArgs),
}

/// Expected errors end as one line and a documented exit status (see `exit`), whatever
/// `RUST_BACKTRACE` says; panics keep Rust's hook and its backtrace. Usage errors are clap's
/// (status 2).
fn main() -> ExitCode {
    let cli = Cli::parse();
    logging::init(match &cli.command {
        Command::Server(args) => args.log_format,
        _ => logging::LogFormat::default(),
    });
    run(cli.command).unwrap_or_else(|error| exit::report(&error))
}

fn run(command: Command) -> anyhow::Result<ExitCode> {
    match command {
        // Pure computation: no async runtime; its exit code says solved, bad input or infeasible.
        Command::Plan(args) => plan::run(args),
        Command::Env { data_dir } => print_env(&data_dir).map(|()| ExitCode::SUCCESS),
        Command::Server(args) => block_on(run_server(args)).map(|()| ExitCode::SUCCESS),
        Command::Keys { target, command } => {
            block_on(keys::run(&target, command)).map(|()| ExitCode::SUCCESS)
        }
        Command::Profile(args) => block_on_code(profile::run(args)),
        Command::Deploy { target, dir, json } => {
            block_on_code(functions::deploy(&target, &dir, json))
        }
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
            json,
        } => block_on(apply::run(&target, &file, dry_run, json)).map(|()| ExitCode::SUCCESS),
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
        Command::Completions { shell } => {
            let mut command = <Cli as clap::CommandFactory>::command();
            // Into a buffer first: clap_complete panics on a write error (`| head`).
            let mut script = Vec::new();
            clap_complete::generate(shell, &mut command, "stratus", &mut script);
            std::io::Write::write_all(&mut std::io::stdout(), &script)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Man { out } => {
            let command = <Cli as clap::CommandFactory>::command();
            match out {
                Some(dir) => manual::write_pages(command, &dir),
                None => manual::render(command, &mut std::io::stdout().lock()),
            }
            .map(|()| ExitCode::SUCCESS)
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

async fn run_server(args: server_args::ServerArgs) -> anyhow::Result<()> {
    let refused = |error| exit::mark(error, exit::Failure::ServerStart, "the server cannot start");
    let ready_file = args.ready_file.clone();
    if let Some(path) = &ready_file {
        readiness::check_ready_file_place(path).map_err(refused)?;
    }
    let config = args.resolve().map_err(refused)?;
    let data_dir = config.data_dir.clone();
    let mut server = stratus_server::Server::start(config)
        .await
        .map_err(refused)?;
    if let Some(key) = server.created_admin_key() {
        println!(
            "created the operator key (saved to {}):",
            data_dir.join("credentials").display()
        );
        println!("  access key id:     {}", key.access_key_id);
        println!("  secret access key: {}", key.secret);
    }
    println!("stratus listening on {}", server.endpoint());
    println!(
        "point your tools at it with: eval \"$(stratus env --data-dir {})\"",
        data_dir.display()
    );
    // SIGHUP is handled before the port accepts: its default would end the server, and
    // `systemctl reload` sends it.
    let hangup = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup());
    tokio::spawn(reload_tls_on_sighup(hangup, server.tls_reloader()));
    // Ready only now: everything clients read (server.json, credentials) is written, and
    // connections are accepted from here on.
    server.listen().map_err(refused)?;
    if let Some(path) = &ready_file {
        readiness::write_ready_file(path, &format!("{}\n", server.endpoint())).map_err(refused)?;
    }
    readiness::notify_systemd(&server.endpoint());
    let served = server.serve(shutdown_signal()).await;
    // A ready file outliving the server would announce one that is gone.
    if let Some(path) = &ready_file {
        let _ = std::fs::remove_file(path);
    }
    served
}

/// Re-reads the TLS certificate and key on every SIGHUP; a bad file keeps the old certificate.
/// Open connections are not touched: only new handshakes see the new certificate. Without a
/// certificate of its own (`resolver` is `None`) there is nothing to reload: the signal is
/// logged and ignored.
async fn reload_tls_on_sighup(
    hangup: std::io::Result<tokio::signal::unix::Signal>,
    resolver: Option<std::sync::Arc<stratus_server::CertResolver>>,
) {
    let mut hangup = match hangup {
        Ok(signal) => signal,
        Err(error) => {
            tracing::warn!(%error, "cannot listen for SIGHUP: TLS certificates will not reload");
            return;
        }
    };
    while hangup.recv().await.is_some() {
        let Some(resolver) = resolver.as_ref().map(std::sync::Arc::clone) else {
            tracing::info!("SIGHUP: nothing to reload (no --tls-cert)");
            continue;
        };
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
    let info = stratus_server::read_server_info(data_dir).map_err(|error| {
        exit::mark(
            error,
            exit::Failure::Unreachable,
            "start the server first: stratus server",
        )
    })?;
    let credentials = stratus_server::read_credentials(data_dir)?;
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
        ("AWS_DEFAULT_REGION", info.region.as_str()),
        ("AWS_REGION", info.region.as_str()),
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
