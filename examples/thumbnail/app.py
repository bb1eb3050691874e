"""Stage one of photos/ -> scans/ -> text/: each image named by the S3 event becomes a grayscale
PNG no larger than MAX_SIDE pixels, written to OUTPUT_PREFIX (photos/a.jpg -> scans/a.png),
the prefix the `ocr` function watches.
"""

import io
import os
import urllib.parse

import boto3
from PIL import Image, ImageOps, UnidentifiedImageError

INPUT_PREFIX = os.environ.get("INPUT_PREFIX", "photos/")
OUTPUT_PREFIX = os.environ.get("OUTPUT_PREFIX", "scans/")
MAX_SIDE = int(os.environ.get("MAX_SIDE", "1280"))

s3 = boto3.client("s3")


def to_scan(data: bytes) -> bytes:
    with Image.open(io.BytesIO(data)) as image:
        # A JPEG can decode at 1/2, 1/4 or 1/8 scale directly: much less work for big photos.
        image.draft("L", (MAX_SIDE, MAX_SIDE))
        image = ImageOps.exif_transpose(image)  # phones store rotation as a tag
        gray = ImageOps.grayscale(image)
    gray.thumbnail((MAX_SIDE, MAX_SIDE))  # keeps the aspect ratio, never enlarges
    out = io.BytesIO()
    gray.save(out, format="PNG", optimize=True)
    return out.getvalue()


def handler(event, context):
    done = []
    for record in event["Records"]:
        bucket = record["s3"]["bucket"]["name"]
        key = urllib.parse.unquote_plus(record["s3"]["object"]["key"])  # '+' is a space
        try:
            scan = to_scan(s3.get_object(Bucket=bucket, Key=key)["Body"].read())
        except UnidentifiedImageError:
            # Not an image: retrying would not help, so skip it rather than fail.
            print(f"skipping s3://{bucket}/{key}: not an image Pillow can read")
            continue
        stem = key[len(INPUT_PREFIX):] if key.startswith(INPUT_PREFIX) else key
        target = OUTPUT_PREFIX + os.path.splitext(stem)[0] + ".png"
        s3.put_object(Bucket=bucket, Key=target, Body=scan, ContentType="image/png")
        print(f"s3://{bucket}/{key} -> s3://{bucket}/{target} ({len(scan)} bytes)")
        done.append({"source": key, "output": target, "bytes": len(scan)})
    return {"results": done}
