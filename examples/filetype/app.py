"""File type detection on upload: each object named by the S3 event is classified by Magika,
and a JSON verdict is written to OUTPUT_PREFIX (files/report.pdf -> magika/report.pdf.json).

Magika looks only at the first and last few KiB of a file, so the object is read through
ranged GETs: a multi-gigabyte upload costs two small reads, not a download.
"""

import io
import json
import os
import urllib.parse

import boto3
from magika import Magika

INPUT_PREFIX = os.environ.get("INPUT_PREFIX", "files/")
OUTPUT_PREFIX = os.environ.get("OUTPUT_PREFIX", "magika/")

MAGIKA = Magika()  # loaded once per worker
s3 = boto3.client("s3")


class S3Object(io.BufferedIOBase):
    """A read-only, seekable view of one object; every read is a ranged GET."""

    def __init__(self, bucket: str, key: str):
        self.bucket, self.key = bucket, key
        self.size = s3.head_object(Bucket=bucket, Key=key)["ContentLength"]
        self.position = 0

    def readable(self):
        return True

    def seekable(self):
        return True

    def tell(self):
        return self.position

    def seek(self, offset, whence=io.SEEK_SET):
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self.position, io.SEEK_END: self.size}[whence]
        self.position = max(0, base + offset)
        return self.position

    def read(self, size=-1):
        end = self.size if size is None or size < 0 else min(self.size, self.position + size)
        if end <= self.position:
            return b""
        body = s3.get_object(Bucket=self.bucket, Key=self.key,
                             Range=f"bytes={self.position}-{end - 1}")["Body"].read()
        self.position += len(body)
        return body


def verdict(bucket: str, key: str) -> dict:
    result = MAGIKA.identify_stream(S3Object(bucket, key))
    if not result.ok:
        return {"source": f"s3://{bucket}/{key}", "error": str(result.status)}
    output = result.prediction.output
    return {
        "source": f"s3://{bucket}/{key}",
        "label": str(output.label),
        "score": round(result.prediction.score, 4),
        "mime_type": output.mime_type,
        "group": output.group,
        "description": output.description,
        "is_text": output.is_text,
        # The model's own answer, before Magika's low-confidence fallbacks (e.g. to "txt").
        "model_label": str(result.prediction.dl.label),
        "model": MAGIKA.get_model_name(),
        "magika_version": MAGIKA.get_module_version(),
    }


def handler(event, context):
    verdicts = []
    for record in event["Records"]:
        bucket = record["s3"]["bucket"]["name"]
        key = urllib.parse.unquote_plus(record["s3"]["object"]["key"])  # '+' is a space
        if key.startswith(OUTPUT_PREFIX):
            # A trigger wider than INPUT_PREFIX would otherwise classify its own verdicts forever.
            print(f"skipping s3://{bucket}/{key}: it is a verdict")
            continue
        found = verdict(bucket, key)
        stem = key[len(INPUT_PREFIX):] if key.startswith(INPUT_PREFIX) else key
        target = f"{OUTPUT_PREFIX}{stem}.json"
        s3.put_object(Bucket=bucket, Key=target, Body=json.dumps(found, indent=2).encode(),
                      ContentType="application/json")
        print(f"s3://{bucket}/{key} -> {found.get('label')} ({found.get('score')})")
        verdicts.append(found)
    return {"verdicts": verdicts}
