//! The S3 workload, the same for every server: 4 KiB PUT and GET at each concurrency level,
//! then sequential 64 MiB PUT and GET.

use std::sync::Arc;

use anyhow::Context;
use aws_sdk_s3::Client;
use aws_sdk_s3::primitives::ByteStream;
use bytes::Bytes;

use crate::client;
use crate::level::{self, LevelResult};
use crate::plan::{self, CONCURRENCY, LARGE_SIZE, Limits, Plan, SMALL_SIZE};
use crate::report::{Figure, Measured};
use crate::servers::Endpoint;

const BUCKET: &str = "stratus-bench";

/// Everything a request needs, cheap to clone into each worker task.
#[derive(Clone)]
struct Target {
    client: Client,
    name: &'static str,
}

pub async fn run(name: &'static str, endpoint: &Endpoint, plan: &Plan) -> anyhow::Result<Measured> {
    let target = Target {
        client: client::new(endpoint),
        name,
    };
    target
        .client
        .create_bucket()
        .bucket(BUCKET)
        .send()
        .await
        .context("CreateBucket")?;
    let mut measured = Measured::default();
    let keys = small_puts(&target, plan, &mut measured).await?;
    small_gets(&target, plan, keys, &mut measured).await?;
    large_transfers(&target, plan, &mut measured).await?;
    Ok(measured)
}

/// Each PUT writes a new key. Returns every key written, for the GET levels to read.
async fn small_puts(
    target: &Target,
    plan: &Plan,
    measured: &mut Measured,
) -> anyhow::Result<Vec<String>> {
    let body = plan::random_bytes(SMALL_SIZE);
    let mut written = Vec::new();
    for concurrency in CONCURRENCY {
        // Builds the level's op: request `index` writes `{prefix}/{index}`.
        let puts_under = |prefix: String| {
            let (target, body) = (target.clone(), body.clone());
            move |index| {
                let (target, body) = (target.clone(), body.clone());
                let key = format!("{prefix}/{index:08}");
                async move { put(&target.client, &key, body).await }
            }
        };
        level::run_async(
            concurrency,
            warmup(plan, concurrency),
            puts_under(format!("warmup/c{concurrency}")),
        )
        .await?;
        let prefix = format!("small/c{concurrency}");
        let result = level::run_async(concurrency, plan.small, puts_under(prefix.clone())).await?;
        report(target, "4 KiB PUT", concurrency, result);
        measured.insert(Figure::SmallPut { concurrency }, result.ops_per_sec());
        // A level that succeeded completed exactly the indices 0..ops.
        written.extend((0..result.ops).map(|index| format!("{prefix}/{index:08}")));
    }
    Ok(written)
}

/// GETs cycle through the keys the PUT levels wrote.
async fn small_gets(
    target: &Target,
    plan: &Plan,
    keys: Vec<String>,
    measured: &mut Measured,
) -> anyhow::Result<()> {
    anyhow::ensure!(
        !keys.is_empty(),
        "{}: the PUT levels wrote nothing to read back",
        target.name
    );
    let keys = Arc::new(keys);
    let get = {
        let target = target.clone();
        move |index: u64| {
            let (client, keys) = (target.client.clone(), keys.clone());
            async move {
                let key = &keys[(index % keys.len() as u64) as usize];
                let len = get(&client, key).await?;
                anyhow::ensure!(
                    len == SMALL_SIZE,
                    "GET {key} returned {len} bytes, expected {SMALL_SIZE}"
                );
                Ok(())
            }
        }
    };
    for concurrency in CONCURRENCY {
        level::run_async(concurrency, warmup(plan, concurrency), get.clone()).await?;
        let result = level::run_async(concurrency, plan.small, get.clone()).await?;
        report(target, "4 KiB GET", concurrency, result);
        measured.insert(Figure::SmallGet { concurrency }, result.ops_per_sec());
    }
    Ok(())
}

/// Sequential 64 MiB PUTs, then GETs of what they wrote, each the median over the repetitions.
async fn large_transfers(
    target: &Target,
    plan: &Plan,
    measured: &mut Measured,
) -> anyhow::Result<()> {
    let body = plan::random_bytes(LARGE_SIZE);
    let client = &target.client;
    let puts = level::repetitions_async(plan, async |rep| {
        let key = format!("large/{rep}");
        put(client, &key, body.clone()).await?;
        Ok(key)
    })
    .await?;
    let put_rate = level::summarize_reps(&format!("{}: 64 MiB PUT", target.name), &puts);
    measured.insert(Figure::LargePut, put_rate);

    let gets = level::repetitions_async(plan, async |rep| {
        let key = &puts[rep % puts.len()].0;
        let len = get(client, key).await?;
        anyhow::ensure!(
            len == LARGE_SIZE,
            "GET {key} returned {len} bytes, expected {LARGE_SIZE}"
        );
        Ok(())
    })
    .await?;
    let get_rate = level::summarize_reps(&format!("{}: 64 MiB GET", target.name), &gets);
    measured.insert(Figure::LargeGet, get_rate);
    Ok(())
}

async fn put(client: &Client, key: &str, body: Bytes) -> anyhow::Result<()> {
    client
        .put_object()
        .bucket(BUCKET)
        .key(key)
        .body(ByteStream::from(body))
        .customize()
        // Signing the payload means SHA-256 over every body on the client (and verifying it on
        // the server): send UNSIGNED-PAYLOAD, as S3 clients commonly do, to measure the server.
        .disable_payload_signing()
        .send()
        .await
        .with_context(|| format!("PUT {key}"))?;
    Ok(())
}

/// Streams the body and discards it, returning its length: the client should not add a copy.
async fn get(client: &Client, key: &str) -> anyhow::Result<usize> {
    let output = client
        .get_object()
        .bucket(BUCKET)
        .key(key)
        .send()
        .await
        .with_context(|| format!("GET {key}"))?;
    let mut body = output.body;
    let mut len = 0;
    while let Some(chunk) = body.next().await {
        len += chunk
            .with_context(|| format!("reading the body of {key}"))?
            .len();
    }
    Ok(len)
}

/// Limits for the untimed warm-up before a level: a few requests per worker.
fn warmup(plan: &Plan, concurrency: usize) -> Limits {
    Limits {
        max_ops: plan.warmup_per_worker * concurrency as u64,
        ..plan.small
    }
}

fn report(target: &Target, what: &str, concurrency: usize, result: LevelResult) {
    eprintln!(
        "{}: {what} c={concurrency}: {:.0} ops/s ({} ops in {:.1} s)",
        target.name,
        result.ops_per_sec(),
        result.ops,
        result.elapsed.as_secs_f64()
    );
}
