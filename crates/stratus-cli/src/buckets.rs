//! `stratus buckets ls|mk|rm` and `stratus cp`, and the native bucket/object client calls they
//! share with `stratus apply` and the examples (`NativeClient::ensure_bucket`, `put_object`,
//! `get_object`, ...).

use std::path::Path;

use anyhow::{Context as _, bail};
use bytes::Bytes;
use clap::Subcommand;
use http_body_util::BodyExt as _;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

use stratus_client::buckets::{Bucket, BucketList, ObjectList, ObjectSummary, StoredObject};

use crate::client::{NativeClient, Target, problem_detail, shown_time};

/// Everything but unreserved characters and `/` is escaped in an object key, so keys with
/// spaces, `?`, `#` or `%` reach the server intact while `a/b/c` stays readable.
const KEY: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~')
    .remove(b'/');

fn object_path(bucket: &str, key: &str) -> String {
    format!(
        "/v1/buckets/{}/objects/{}",
        utf8_percent_encode(bucket, KEY),
        utf8_percent_encode(key, KEY)
    )
}

/// Whether `ensure_bucket` made the bucket or found it already the project's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BucketState {
    Created,
    Existed,
}

impl NativeClient {
    /// The project's buckets, as the server lists them.
    pub(crate) async fn list_buckets(&self) -> anyhow::Result<Vec<Bucket>> {
        let listed: BucketList = self.get("/v1/buckets").await?;
        Ok(listed.buckets)
    }

    /// Creates the bucket unless the project already owns it; another project's name fails.
    pub(crate) async fn ensure_bucket(&self, bucket: &str) -> anyhow::Result<BucketState> {
        let path = format!("/v1/buckets/{}", utf8_percent_encode(bucket, KEY));
        let (status, _, body) = self
            .call_raw(http::Method::PUT, &path, Bytes::new())
            .await?;
        match status {
            http::StatusCode::CREATED => Ok(BucketState::Created),
            http::StatusCode::OK => Ok(BucketState::Existed),
            _ => bail!("bucket {bucket}: {} ({status})", problem_detail(&body)),
        }
    }

    pub(crate) async fn delete_bucket(&self, bucket: &str) -> anyhow::Result<()> {
        let path = format!("/v1/buckets/{}", utf8_percent_encode(bucket, KEY));
        self.call(http::Method::DELETE, &path, None).await?;
        Ok(())
    }

    /// Every key under `prefix`, following pages.
    pub(crate) async fn list_objects(
        &self,
        bucket: &str,
        prefix: &str,
    ) -> anyhow::Result<Vec<ObjectSummary>> {
        let mut objects = Vec::new();
        let mut after = String::new();
        loop {
            let path = format!(
                "/v1/buckets/{}/objects?prefix={}&after={}",
                utf8_percent_encode(bucket, KEY),
                utf8_percent_encode(prefix, NON_ALPHANUMERIC),
                utf8_percent_encode(&after, NON_ALPHANUMERIC)
            );
            let page: ObjectList = self.get(&path).await?;
            objects.extend(page.objects);
            match page.next_after {
                Some(next) => after = next,
                None => return Ok(objects),
            }
        }
    }

    /// Stores `body` as `bucket/key`; returns the server's description (etag, size).
    pub(crate) async fn put_object(
        &self,
        bucket: &str,
        key: &str,
        body: Bytes,
        content_type: &str,
    ) -> anyhow::Result<StoredObject> {
        let response = self
            .send(
                http::Method::PUT,
                &object_path(bucket, key),
                body,
                content_type,
            )
            .await?;
        let status = response.status();
        let bytes = response.into_body().collect().await?.to_bytes();
        if !status.is_success() {
            bail!("{bucket}/{key}: {} ({status})", problem_detail(&bytes));
        }
        Ok(serde_json::from_slice(&bytes)?)
    }

    /// The bytes of `bucket/key`.
    pub(crate) async fn get_object(&self, bucket: &str, key: &str) -> anyhow::Result<Bytes> {
        let (status, _, body) = self
            .call_raw(http::Method::GET, &object_path(bucket, key), Bytes::new())
            .await?;
        if !status.is_success() {
            bail!("{bucket}/{key}: {} ({status})", problem_detail(&body));
        }
        Ok(body)
    }
}

#[derive(Subcommand)]
pub(crate) enum BucketsCommand {
    /// List the project's buckets, or with BUCKET[/PREFIX] the objects in it.
    #[command(visible_alias = "list")]
    Ls {
        location: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Create a bucket (succeeds if the project already owns it).
    /// Show one of the project's buckets.
    #[command(visible_aliases = ["get", "describe"])]
    Show {
        bucket: String,
        #[arg(long)]
        json: bool,
    },
    #[command(visible_aliases = ["create", "mb"])]
    Mk { bucket: String },
    /// Delete an empty bucket.
    #[command(visible_aliases = ["delete", "remove", "rb"])]
    Rm { bucket: String },
}

pub(crate) async fn run(target: &Target, command: BucketsCommand) -> anyhow::Result<()> {
    let client = NativeClient::new(target)?;
    match command {
        BucketsCommand::Ls {
            location: None,
            json,
        } => {
            let buckets = client.list_buckets().await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&buckets)?);
            } else {
                for bucket in buckets {
                    println!("{}", bucket.name);
                }
            }
        }
        BucketsCommand::Ls {
            location: Some(location),
            json,
        } => {
            let (bucket, prefix) = location.split_once('/').unwrap_or((&location, ""));
            let objects = client.list_objects(bucket, prefix).await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&objects)?);
            } else {
                for object in objects {
                    println!("{:>12}  {}", object.size, object.key);
                }
            }
        }
        BucketsCommand::Show { bucket, json } => {
            let shown: Bucket = client.get(&format!("/v1/buckets/{bucket}")).await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&shown)?);
            } else {
                println!("bucket:  {}", shown.name);
                println!("project: {}", shown.project);
                println!("created: {}", shown_time(shown.created_ms));
            }
        }
        BucketsCommand::Mk { bucket } => match client.ensure_bucket(&bucket).await? {
            BucketState::Created => println!("created {bucket}"),
            BucketState::Existed => println!("{bucket} already exists (yours)"),
        },
        BucketsCommand::Rm { bucket } => {
            client.delete_bucket(&bucket).await?;
            println!("deleted {bucket}");
        }
    }
    Ok(())
}

/// `BUCKET/KEY`, optionally written `s3://BUCKET/KEY`.
fn split_remote(text: &str) -> anyhow::Result<(&str, &str)> {
    let text = text.strip_prefix("s3://").unwrap_or(text);
    match text.split_once('/') {
        Some((bucket, key)) if !bucket.is_empty() && !key.is_empty() => Ok((bucket, key)),
        _ => bail!("{text:?} is not BUCKET/KEY"),
    }
}

/// Copies a local file to `bucket/key` or `bucket/key` to a local file (`-` is stdout). The
/// remote side is the one that is not an existing local path; `s3://` marks it explicitly.
pub(crate) async fn cp(target: &Target, from: &str, to: &str) -> anyhow::Result<()> {
    let client = NativeClient::new(target)?;
    let upload =
        !from.starts_with("s3://") && (to.starts_with("s3://") || Path::new(from).exists());
    if upload {
        let (bucket, key) = split_remote(to)?;
        let body = std::fs::read(from).with_context(|| format!("cannot read {from}"))?;
        let stored = client
            .put_object(bucket, key, Bytes::from(body), "application/octet-stream")
            .await?;
        println!("{from} -> {bucket}/{key} ({} bytes)", stored.size);
    } else {
        let (bucket, key) = split_remote(from)?;
        let body = client.get_object(bucket, key).await?;
        if to == "-" {
            use std::io::Write as _;
            std::io::stdout().write_all(&body)?;
        } else {
            std::fs::write(to, &body).with_context(|| format!("cannot write {to}"))?;
            eprintln!("{bucket}/{key} -> {to} ({} bytes)", body.len());
        }
    }
    Ok(())
}
