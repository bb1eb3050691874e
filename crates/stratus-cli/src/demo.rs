//! `stratus demo`: the AI examples end to end on a running server. Deploys `examples/ocr`,
//! `examples/filetype` and `examples/thumbnail`, uploads sample files to the bucket their
//! triggers watch, waits for what the models write and prints it.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use bytes::Bytes;

use crate::client::{NativeClient, Target};

/// The bucket the examples' triggers name (see their `function.yaml`).
const BUCKET: &str = "demo";
const EXAMPLES: [&str; 3] = ["ocr", "filetype", "thumbnail"];
/// Where the examples write: OCR text and Magika verdicts.
const OUTPUT_PREFIXES: [&str; 2] = ["text/", "magika/"];
/// From the uploads to the last result. The pip installs happen before, during the deploys.
const WAIT: Duration = Duration::from_secs(180);
const POLL: Duration = Duration::from_millis(250);

/// A sample file (relative to the examples directory), where it is uploaded, and the object
/// the examples write from it.
struct Sample {
    file: &'static str,
    key: &'static str,
    content_type: &'static str,
    result: &'static str,
    stages: &'static str,
}

/// The files under `files/` have no extension and no content type: Magika judges the bytes.
const SAMPLES: [Sample; 5] = [
    Sample {
        file: "samples/scan.png",
        key: "scans/invoice.png",
        content_type: "image/png",
        result: "text/invoice.txt",
        stages: "ocr",
    },
    Sample {
        file: "samples/poster.jpg",
        key: "photos/poster.jpg",
        content_type: "image/jpeg",
        result: "text/poster.txt",
        stages: "thumbnail -> ocr",
    },
    Sample {
        file: "ocr/ocr.py",
        key: "files/script",
        content_type: "application/octet-stream",
        result: "magika/script.json",
        stages: "filetype",
    },
    Sample {
        file: "samples/poster.jpg",
        key: "files/picture",
        content_type: "application/octet-stream",
        result: "magika/picture.json",
        stages: "filetype",
    },
    Sample {
        file: "ocr/README.md",
        key: "files/notes",
        content_type: "application/octet-stream",
        result: "magika/notes.json",
        stages: "filetype",
    },
];

pub(crate) async fn run(target: &Target, examples: Option<PathBuf>) -> anyhow::Result<ExitCode> {
    let dir = examples_dir(examples)?;
    let dir = dir.canonicalize().unwrap_or(dir);
    let client = NativeClient::new(target)?;
    // Before the deploys: a trigger naming a bucket that does not exist fails the deploy.
    client.ensure_bucket(BUCKET).await?;
    eprintln!(
        "deploying {} from {}; the first run has the server install rapidocr-onnxruntime \
         (about 430 MB) and magika (about 220 MB) from PyPI, a minute or two; later runs reuse them",
        EXAMPLES.join(", "),
        dir.display()
    );
    for example in EXAMPLES {
        crate::functions::deploy(target, &dir.join(example), false).await?;
    }

    // Results of an earlier run stay in the bucket: only newer ones count.
    let earlier = output_stamps(&client).await?;
    let uploaded = Instant::now();
    for sample in &SAMPLES {
        let path = dir.join(sample.file);
        let body =
            std::fs::read(&path).with_context(|| format!("cannot read {}", path.display()))?;
        client
            .put_object(BUCKET, sample.key, Bytes::from(body), sample.content_type)
            .await?;
        println!("uploaded s3://{BUCKET}/{}", sample.key);
    }
    println!();

    let mut pending: Vec<&Sample> = SAMPLES.iter().collect();
    while !pending.is_empty() {
        if uploaded.elapsed() > WAIT {
            let missing: Vec<&str> = pending.iter().map(|s| s.result).collect();
            bail!(
                "no {} after {} s: see `stratus logs ocr` (or filetype, thumbnail) and \
                 /v1/functions/NAME/dead-letters",
                missing.join(", "),
                WAIT.as_secs()
            );
        }
        tokio::time::sleep(POLL).await;
        let stamps = output_stamps(&client).await?;
        let mut still = Vec::new();
        for sample in pending {
            let fresh = stamps.get(sample.result) > earlier.get(sample.result);
            if fresh {
                let body = client.get_object(BUCKET, sample.result).await?;
                show(sample, &body, uploaded.elapsed());
            } else {
                still.push(sample);
            }
        }
        pending = still;
    }
    println!("done: the outputs are in s3://{BUCKET}/text/ and s3://{BUCKET}/magika/");
    Ok(ExitCode::SUCCESS)
}

/// `given`, or `examples/` under the current directory, or the source tree this binary was
/// built from (so `target/debug/stratus demo` works from anywhere on the build machine).
fn examples_dir(given: Option<PathBuf>) -> anyhow::Result<PathBuf> {
    let usable = |dir: &Path| dir.join("ocr").join("function.yaml").is_file();
    if let Some(dir) = given {
        if !usable(&dir) {
            bail!("{} has no ocr/function.yaml", dir.display());
        }
        return Ok(dir);
    }
    let built_from = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples");
    [PathBuf::from("examples"), built_from]
        .into_iter()
        .find(|dir| usable(dir))
        .context("cannot find the examples: run from the repository or pass --examples DIR")
}

/// Last-modified time of every object under the output prefixes.
async fn output_stamps(client: &NativeClient) -> anyhow::Result<HashMap<String, i64>> {
    let mut stamps = HashMap::new();
    for prefix in OUTPUT_PREFIXES {
        for object in client.list_objects(BUCKET, prefix).await? {
            stamps.insert(object.key, object.last_modified_ms);
        }
    }
    Ok(stamps)
}

/// What the Magika example writes for each file (examples/magika); `?` where it is silent.
#[derive(serde::Deserialize)]
#[serde(default)]
struct MagikaVerdict {
    label: String,
    description: String,
    mime_type: String,
    score: f64,
    magika_version: String,
    model: String,
}

impl Default for MagikaVerdict {
    fn default() -> Self {
        let unknown = || "?".to_owned();
        Self {
            label: unknown(),
            description: unknown(),
            mime_type: unknown(),
            score: 0.0,
            magika_version: unknown(),
            model: unknown(),
        }
    }
}

fn show(sample: &Sample, body: &[u8], after: Duration) {
    println!(
        "{:<16} s3://{BUCKET}/{} -> {}  ({:.1} s after the upload)",
        sample.stages,
        sample.key,
        sample.result,
        after.as_secs_f64()
    );
    let text = String::from_utf8_lossy(body);
    if sample.result.ends_with(".json") {
        let verdict: MagikaVerdict = serde_json::from_str(&text).unwrap_or_default();
        println!(
            "    {} ({}, {}), score {:.2}, Magika {} model {}",
            verdict.label,
            verdict.description,
            verdict.mime_type,
            verdict.score,
            verdict.magika_version,
            verdict.model,
        );
    } else {
        for line in text.lines().filter(|line| !line.trim().is_empty()) {
            println!("    {line}");
        }
    }
}
