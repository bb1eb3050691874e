//! Expected failures end in one line on stderr (`error: ` and the cause chain) and an exit
//! status that says which kind of failure it was; only bugs (panics) print a backtrace.
//! Commands mark a failure's kind by adding a [`Failure`] to the error chain.

use std::process::ExitCode;

/// The exit statuses, as documented in the man page's EXIT STATUS and docs/cli.md. The
/// numbers above 2 follow `sysexits.h`, so they do not collide with a command's own codes
/// (`stratus plan` uses 1-3, a failed `stratus invoke` 1).
pub(crate) const TABLE: &[(u8, &str)] = &[
    (0, "success"),
    (
        1,
        "any other error (and a function that returned an error, for `invoke`)",
    ),
    (
        2,
        "bad usage: an unknown command or flag, a malformed value",
    ),
    (66, "not found: the named resource does not exist"),
    (
        69,
        "the server cannot be reached: it is not running, or --endpoint is wrong",
    ),
    (
        77,
        "refused: the token or key is missing, unknown or lacks the permission",
    ),
    (
        78,
        "the server cannot start: bad configuration, data directory in use, address taken",
    ),
];

/// A kind of expected failure, with its exit status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Failure {
    NotFound,
    Unreachable,
    Refused,
    ServerStart,
}

impl Failure {
    fn code(self) -> u8 {
        match self {
            Self::NotFound => 66,
            Self::Unreachable => 69,
            Self::Refused => 77,
            Self::ServerStart => 78,
        }
    }

    /// The kind of an HTTP error status from the server, when it has one of its own.
    pub(crate) fn of_status(status: http::StatusCode) -> Option<Self> {
        match status {
            http::StatusCode::NOT_FOUND => Some(Self::NotFound),
            http::StatusCode::UNAUTHORIZED | http::StatusCode::FORBIDDEN => Some(Self::Refused),
            _ => None,
        }
    }
}

/// Marks an error with its kind; the message is the context line it adds to the chain.
#[derive(Debug)]
pub(crate) struct Marked {
    pub(crate) failure: Failure,
    pub(crate) message: String,
}

impl std::fmt::Display for Marked {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

/// An error answer of the server: its problem detail and status.
#[derive(Debug)]
pub(crate) struct ApiError {
    pub(crate) status: http::StatusCode,
    pub(crate) detail: String,
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({})", self.detail, self.status)
    }
}

impl std::error::Error for ApiError {}

/// `error` with `message` added to its chain and marked as `failure`.
pub(crate) fn mark(
    error: anyhow::Error,
    failure: Failure,
    message: impl Into<String>,
) -> anyhow::Error {
    error.context(Marked {
        failure,
        message: message.into(),
    })
}

/// The kind of `error`: the outermost mark, else the server's status.
fn classify(error: &anyhow::Error) -> Option<Failure> {
    if let Some(marked) = error.downcast_ref::<Marked>() {
        return Some(marked.failure);
    }
    error
        .chain()
        .find_map(|cause| cause.downcast_ref::<ApiError>())
        .and_then(|api| Failure::of_status(api.status))
}

/// Prints `error` as one line and returns its exit status. A reader that went away (`| head`)
/// is no error worth a line.
pub(crate) fn report(error: &anyhow::Error) -> ExitCode {
    let broken_pipe = error
        .root_cause()
        .downcast_ref::<std::io::Error>()
        .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe);
    if !broken_pipe {
        eprintln!("error: {error:#}");
    }
    ExitCode::from(classify(error).map_or(1, Failure::code))
}

/// The EXIT STATUS section of the man page, in roff.
pub(crate) fn man_section() -> String {
    let mut roff = String::from(".SH \"EXIT STATUS\"\n");
    for (code, meaning) in TABLE {
        roff.push_str(&format!(
            ".TP\n\\fB{code}\\fR\n{}\n",
            meaning.replace('-', "\\-")
        ));
    }
    roff
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_come_from_marks_then_statuses() {
        let refused = anyhow::Error::new(ApiError {
            status: http::StatusCode::FORBIDDEN,
            detail: "members may not".into(),
        })
        .context("cannot delete the key");
        assert_eq!(classify(&refused), Some(Failure::Refused));
        assert_eq!(
            format!("{refused:#}"),
            "cannot delete the key: members may not (403 Forbidden)"
        );
        let conflict = anyhow::Error::new(ApiError {
            status: http::StatusCode::CONFLICT,
            detail: "exists".into(),
        });
        assert_eq!(classify(&conflict), None);
        let unreachable = mark(
            anyhow::anyhow!("connection refused"),
            Failure::Unreachable,
            "cannot reach http://x",
        );
        assert_eq!(classify(&unreachable), Some(Failure::Unreachable));
        assert_eq!(
            format!("{unreachable:#}"),
            "cannot reach http://x: connection refused"
        );
        // A mark deeper in the chain still counts.
        assert_eq!(
            classify(&unreachable.context("deploy failed")),
            Some(Failure::Unreachable)
        );
    }

    #[test]
    fn every_kind_is_in_the_documented_table() {
        for failure in [
            Failure::NotFound,
            Failure::Unreachable,
            Failure::Refused,
            Failure::ServerStart,
        ] {
            assert!(
                TABLE.iter().any(|(code, _)| *code == failure.code()),
                "{failure:?}"
            );
        }
    }
}
