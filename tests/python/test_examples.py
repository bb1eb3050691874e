"""The AI examples with their real models: examples/ocr (RapidOCR), examples/filetype (Magika)
and the examples/thumbnail -> ocr pipeline, deployed with `stratus deploy`, their packages
installed by the server's pip from PyPI (network needed; a few minutes, once per module).

Images are rendered here with Pillow, so the text the OCR must find is known.
"""

from __future__ import annotations

import io
import json
import sys

import pytest
from PIL import Image

from lambda_helpers import lambda_client
from stratus_testlib import REPO_ROOT, StratusServer, run_stratus

sys.path.insert(0, str(REPO_ROOT / "examples" / "samples"))
from make_samples import render_poster, render_text  # noqa: E402

EXAMPLES = REPO_ROOT / "examples"
BUCKET = "demo"  # the bucket the examples' triggers name

# Installing rapidocr-onnxruntime (430 MB) and magika (220 MB) dominates the first test.
pytestmark = [pytest.mark.slow, pytest.mark.pypi, pytest.mark.timeout(900)]


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """One server with the three examples deployed and the bucket they watch: pip runs once."""
    root = tmp_path_factory.mktemp("examples")
    server = StratusServer(root / "data", root / "server.log").start()
    server.client().create_bucket(Bucket=BUCKET)
    for example in ("ocr", "filetype", "thumbnail"):
        run_stratus("deploy", str(EXAMPLES / example), env=server.cli_env(), timeout=600)
    yield server
    server.kill()


def s3_event(key: str, size: int) -> dict:
    """What an upload sends: AWS's S3 event, the key URL-encoded with '+' for a space."""
    from urllib.parse import quote_plus
    return {"Records": [{
        "eventVersion": "2.1", "eventSource": "aws:s3", "eventName": "ObjectCreated:Put",
        "s3": {"bucket": {"name": BUCKET, "arn": f"arn:aws:s3:::{BUCKET}"},
               "object": {"key": quote_plus(key, safe="/"), "size": size}},
    }]}


def upload(server: StratusServer, function: str, key: str, body: bytes) -> dict:
    """Uploads `body` and runs `function` on it, as its bucket trigger would; returns its result."""
    server.client().put_object(Bucket=BUCKET, Key=key, Body=body)
    answer = lambda_client(server).invoke(FunctionName=function,
                                          Payload=json.dumps(s3_event(key, len(body))))
    result = json.loads(answer["Payload"].read())
    assert "FunctionError" not in answer, result
    return result


def read(server: StratusServer, key: str) -> bytes:
    return server.client().get_object(Bucket=BUCKET, Key=key)["Body"].read()


def png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def assert_read(text: str, expected_lines: list[str]) -> None:
    # The recogniser sometimes drops a space between words (PP-OCR's recognition model is
    # trained mostly on Chinese, which has none), so compare without whitespace.
    squeezed = "".join(text.split()).lower()
    for line in expected_lines:
        assert "".join(line.split()).lower() in squeezed, f"{line!r} not in OCR text {text!r}"


def test_ocr_reads_the_text_of_an_uploaded_png(demo):
    lines = ["Stratus reads scans", "Invoice 7731 paid"]
    result = upload(demo, "ocr", "scans/receipt one.png", png(render_text(lines, size=48)))
    assert [r["output"] for r in result["results"]] == ["text/receipt one.txt"]
    text = read(demo, "text/receipt one.txt").decode()
    assert_read(text, lines)
    assert text.count("\n") == 2, "one line of text per detected line"


def test_magika_classifies_uploads_and_skips_its_verdicts(demo):
    source = (EXAMPLES / "filetype" / "app.py").read_bytes()
    upload(demo, "filetype", "files/app.py", source)
    upload(demo, "filetype", "files/picture", png(render_text(["no extension"])))
    python = json.loads(read(demo, "magika/app.py.json"))
    picture = json.loads(read(demo, "magika/picture.json"))
    assert (python["label"], python["mime_type"], python["group"]) == ("python", "text/x-python", "code")
    assert (picture["label"], picture["mime_type"], picture["group"]) == ("png", "image/png", "image")
    for verdict in (python, picture):
        assert verdict["score"] > 0.9 and verdict["model"].startswith("standard_v")
        assert verdict["magika_version"]
    assert python["source"] == f"s3://{BUCKET}/files/app.py"

    # A verdict is never classified: that would loop if a trigger covered the whole bucket.
    skipped = upload(demo, "filetype", "magika/app.py.json", read(demo, "magika/app.py.json"))
    assert skipped == {"verdicts": []}


def test_thumbnail_then_ocr_pipeline(demo):
    lines = ["PIPELINE", "two stages"]
    result = upload(demo, "thumbnail", "photos/poster.jpg", _jpeg(render_poster(lines)))
    assert [r["output"] for r in result["results"]] == ["scans/poster.png"]
    scan = read(demo, "scans/poster.png")
    with Image.open(io.BytesIO(scan)) as image:
        assert image.format == "PNG" and image.mode == "L", "a grayscale PNG"
        assert max(image.size) == 1280, "shrunk to the stage's MAX_SIDE"

    # Stage two is the OCR function, on what stage one wrote.
    lambda_result = lambda_client(demo).invoke(FunctionName="ocr",
                                               Payload=json.dumps(s3_event("scans/poster.png", len(scan))))
    assert "FunctionError" not in lambda_result
    assert_read(read(demo, "text/poster.txt").decode(), lines)


def test_thumbnail_skips_what_is_not_an_image(demo):
    result = upload(demo, "thumbnail", "photos/notes.txt", b"not a picture\n")
    assert result == {"results": []}


def _jpeg(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=85)
    return buffer.getvalue()
