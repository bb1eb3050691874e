//! Logs on stderr: the filter from `RUST_LOG`, else `STRATUS_LOG`, else `info`; text or JSON
//! lines; ANSI colours only when stderr is a terminal.

use std::io::IsTerminal as _;

use tracing_subscriber::EnvFilter;

/// How log lines are written (`stratus server --log-format`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum LogFormat {
    /// Human-readable lines.
    #[default]
    Text,
    /// One JSON object per line (for journald, Loki, jq).
    Json,
}

/// The filter: the first of `RUST_LOG` and `STRATUS_LOG` that is set and not empty. A filter
/// that does not parse is reported and the default used: logging must not stop the program.
fn filter() -> EnvFilter {
    for name in ["RUST_LOG", "STRATUS_LOG"] {
        let Ok(directives) = std::env::var(name) else {
            continue;
        };
        if directives.trim().is_empty() {
            continue;
        }
        match EnvFilter::try_new(&directives) {
            Ok(filter) => return filter,
            Err(error) => {
                eprintln!("warning: ignoring {name}={directives:?}: {error}");
                break;
            }
        }
    }
    EnvFilter::new("info")
}

/// Installs the global subscriber.
pub(crate) fn init(format: LogFormat) {
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter())
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal());
    match format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder.json().init(),
    }
}
