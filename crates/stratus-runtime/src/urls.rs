//! Function URLs: a function's own HTTP endpoint at `/fn/NAME/`, invoked without the Lambda API.
//! The edge turns HTTP requests into API Gateway v2 events and back; this module owns the
//! settings (who may call, which version) and the invocation.

use bytes::Bytes;
use stratus_core::Action;
use stratus_identity::Principal;
use stratus_meta::{FunctionUrlRecord, MetaError};

use crate::functions::{Functions, LATEST, not_found, require};
use crate::invoke::{InvokeResponse, OnThrottle, Run};
use crate::{RuntimeError, RuntimeResult, now_ms};

/// Who may call a URL: anyone, or callers authenticated as members of the function's project.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UrlAuth {
    None,
    /// Lambda's `AWS_IAM`: a SigV4 signature, or (our addition, for curl) a bearer token.
    AwsIam,
}

impl UrlAuth {
    /// Parses Lambda's `AuthType`.
    ///
    /// # Errors
    /// Invalid for anything but `NONE` and `AWS_IAM`.
    pub fn parse(text: &str) -> RuntimeResult<Self> {
        match text {
            "NONE" => Ok(Self::None),
            "AWS_IAM" => Ok(Self::AwsIam),
            other => Err(RuntimeError::Invalid {
                field: "AuthType",
                message: format!("{other:?} must be NONE or AWS_IAM"),
            }),
        }
    }

    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::None => "NONE",
            Self::AwsIam => "AWS_IAM",
        }
    }
}

/// The settings a create or update gives; `None` keeps the current value on update.
#[derive(Debug, Clone, Default)]
pub struct UrlSettings {
    pub auth: Option<UrlAuth>,
    /// `$LATEST` (the default) or a published version number.
    pub qualifier: Option<String>,
    /// Lambda's `Cors` object as JSON; `Some(None)` removes it.
    pub cors: Option<Option<String>>,
}

fn qualifier_of(settings: &UrlSettings) -> RuntimeResult<String> {
    match settings.qualifier.as_deref() {
        None | Some("" | LATEST) => Ok(LATEST.to_owned()),
        Some(q) if q.bytes().all(|b| b.is_ascii_digit()) => Ok(q.to_owned()),
        Some(q) => Err(RuntimeError::Invalid {
            field: "Qualifier",
            message: format!(
                "{q:?}: a URL invokes $LATEST or a published version (aliases are not supported)"
            ),
        }),
    }
}

fn no_url(name: &str) -> RuntimeError {
    RuntimeError::NotFound(format!(
        "The resource you requested does not exist. (function URL of {name})"
    ))
}

impl Functions {
    /// Gives a function its URL.
    ///
    /// # Errors
    /// Forbidden, NotFound (function or version), AlreadyExists (the function has a URL, or
    /// another project's function of the same name holds `/fn/NAME/`), Invalid.
    pub async fn create_url(
        &self,
        caller: &Principal,
        name: &str,
        settings: UrlSettings,
    ) -> RuntimeResult<FunctionUrlRecord> {
        require(caller, Action::Write)?;
        let qualifier = qualifier_of(&settings)?;
        // The version must exist now; a URL to nothing would only fail at its first request.
        self.resolve(&caller.project, name, Some(&qualifier))
            .await?;
        let now = now_ms();
        let record = FunctionUrlRecord {
            project: caller.project.clone(),
            function: name.to_owned(),
            qualifier,
            auth_type: settings.auth.unwrap_or(UrlAuth::AwsIam).as_str().to_owned(),
            cors: settings.cors.flatten(),
            created_ms: now,
            modified_ms: now,
        };
        match self.meta.create_function_url(record.clone()).await {
            Ok(()) => Ok(record),
            Err(MetaError::AlreadyExists(_)) => {
                let taken_by_other = self
                    .meta
                    .function_url_by_name(name)
                    .await?
                    .is_some_and(|url| url.project != caller.project);
                Err(RuntimeError::AlreadyExists(if taken_by_other {
                    format!("the URL /fn/{name}/ is taken by a function of another project")
                } else {
                    format!(
                        "Failed to create function url config for [functionArn = {name}]. Error message:  FunctionUrlConfig exists for this Lambda function"
                    )
                }))
            }
            Err(error) => Err(error.into()),
        }
    }

    /// Changes who may call a URL, its version or its CORS settings.
    ///
    /// # Errors
    /// Forbidden, NotFound, Invalid.
    pub async fn update_url(
        &self,
        caller: &Principal,
        name: &str,
        settings: UrlSettings,
    ) -> RuntimeResult<FunctionUrlRecord> {
        require(caller, Action::Write)?;
        let mut record = self.url(caller, name).await?;
        if settings.qualifier.is_some() {
            record.qualifier = qualifier_of(&settings)?;
            self.resolve(&caller.project, name, Some(&record.qualifier))
                .await?;
        }
        if let Some(auth) = settings.auth {
            record.auth_type = auth.as_str().to_owned();
        }
        if let Some(cors) = settings.cors {
            record.cors = cors;
        }
        record.modified_ms = now_ms();
        match self.meta.update_function_url(record.clone()).await {
            Ok(()) => Ok(record),
            Err(MetaError::NotFound(_)) => Err(no_url(name)),
            Err(error) => Err(error.into()),
        }
    }

    /// # Errors
    /// Forbidden, NotFound.
    pub async fn delete_url(&self, caller: &Principal, name: &str) -> RuntimeResult<()> {
        require(caller, Action::Write)?;
        match self.meta.delete_function_url(&caller.project, name).await {
            Ok(()) => Ok(()),
            Err(MetaError::NotFound(_)) => Err(no_url(name)),
            Err(error) => Err(error.into()),
        }
    }

    /// A function's URL settings.
    ///
    /// # Errors
    /// Forbidden, NotFound (no such function, or it has no URL).
    pub async fn url(&self, caller: &Principal, name: &str) -> RuntimeResult<FunctionUrlRecord> {
        require(caller, Action::Read)?;
        if self
            .meta
            .get_function(&caller.project, name)
            .await?
            .is_none()
        {
            return Err(not_found(name, None));
        }
        self.meta
            .get_function_url(&caller.project, name)
            .await?
            .ok_or_else(|| no_url(name))
    }

    /// The URL served at `/fn/NAME/`, before any authentication: the edge decides from its
    /// `auth_type` whether the request may invoke it.
    ///
    /// # Errors
    /// Storage failures.
    pub async fn url_by_name(&self, function: &str) -> RuntimeResult<Option<FunctionUrlRecord>> {
        Ok(self.meta.function_url_by_name(function).await?)
    }

    /// Invokes the version behind a URL with an HTTP event; throttled like any synchronous call.
    ///
    /// # Errors
    /// NotFound (the version went away), TooLarge, Throttled, Unavailable, worker start failures.
    pub async fn invoke_url(
        &self,
        url: &FunctionUrlRecord,
        request_id: String,
        event: Bytes,
    ) -> RuntimeResult<InvokeResponse> {
        if event.len() > crate::MAX_SYNC_PAYLOAD {
            return Err(RuntimeError::TooLarge(format!(
                "{} byte event is larger than Lambda's {} byte limit",
                event.len(),
                crate::MAX_SYNC_PAYLOAD
            )));
        }
        let view = self
            .resolve(&url.project, &url.function, Some(&url.qualifier))
            .await?;
        let run = Run {
            request_id,
            payload: event,
            client_context: None,
            tail_log: false,
            chain_depth: 0,
        };
        self.run(&view, run, OnThrottle::Fail).await
    }
}
