"""OCR on upload: each PNG named by the S3 event is read with RapidOCR and its text written to
OUTPUT_PREFIX (scans/invoice.png -> text/invoice.txt), in the same bucket.

The engine is built when the worker imports this module, once: later events in a warm worker
pay only for inference, not for loading onnxruntime and the models.
"""

import os
import urllib.parse

import boto3

import ocr

INPUT_PREFIX = os.environ.get("INPUT_PREFIX", "scans/")
OUTPUT_PREFIX = os.environ.get("OUTPUT_PREFIX", "text/")

ENGINE = ocr.load_engine()
s3 = boto3.client("s3")


def output_key(key: str) -> str:
    stem = key[len(INPUT_PREFIX):] if key.startswith(INPUT_PREFIX) else key
    return OUTPUT_PREFIX + stem.removesuffix(".png") + ".txt"


def handler(event, context):
    done = []
    for record in event["Records"]:
        bucket = record["s3"]["bucket"]["name"]
        # Keys in S3 events are URL-encoded, with '+' for a space.
        key = urllib.parse.unquote_plus(record["s3"]["object"]["key"])
        image = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
        text = ocr.recognise(ENGINE, image)
        target = output_key(key)
        s3.put_object(Bucket=bucket, Key=target, Body=text.encode() + b"\n",
                      ContentType="text/plain; charset=utf-8")
        print(f"s3://{bucket}/{key} -> s3://{bucket}/{target}: {len(text)} characters")
        done.append({"source": key, "output": target, "text": text})
    return {"results": done}
