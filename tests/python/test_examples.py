"""The AI examples with their real models: examples/ocr (RapidOCR), examples/filetype (Magika)
and the examples/thumbnail -> ocr pipeline, deployed with `stratus deploy`, their packages
installed by the server's pip from PyPI (network needed; a few minutes, once per module).

Images are rendered here with Pillow, so the text the OCR must find is known.
"""

from __future__ import annotations

import io
import json
import sys
import time
from urllib.parse import quote_plus

import pytest
from PIL import Image

from lambda_helpers import lambda_client
from stratus_testlib import REPO_ROOT, StratusServer, http_request, run_stratus
from trigger_helpers import keys, wait_for_object

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
    """What an upload delivers: AWS's S3 event, the key URL-encoded with '+' for a space."""
    return {"Records": [{
        "eventVersion": "2.1", "eventSource": "aws:s3", "eventName": "ObjectCreated:Put",
        "s3": {"bucket": {"name": BUCKET, "arn": f"arn:aws:s3:::{BUCKET}"},
               "object": {"key": quote_plus(key, safe="/"), "size": size}},
    }]}


def invoke(server: StratusServer, function: str, key: str, size: int) -> dict:
    """Runs `function` directly on an S3 event for `key`; returns its result."""
    answer = lambda_client(server).invoke(FunctionName=function, Payload=json.dumps(s3_event(key, size)))
    result = json.loads(answer["Payload"].read())
    assert "FunctionError" not in answer, result
    return result


def upload(server: StratusServer, key: str, body: bytes) -> None:
    server.client().put_object(Bucket=BUCKET, Key=key, Body=body)


def wait_for(server: StratusServer, key: str) -> bytes:
    """The object at `key` once a triggered function has written it (cold starts included)."""
    return wait_for_object(server.client(), BUCKET, key, timeout=120)


def test_ocr_reads_the_text_of_an_uploaded_png(demo):
    lines = ["Stratus reads scans", "Invoice 7731 paid"]
    upload(demo, "scans/receipt one.png", png(render_text(lines, size=48)))
    text = wait_for(demo, "text/receipt one.txt").decode()
    assert_read(text, lines)
    assert text.count("\n") == 2, "one line of text per detected line"


def test_magika_classifies_uploads_without_triggering_itself(demo):
    source = (EXAMPLES / "filetype" / "app.py").read_bytes()
    upload(demo, "files/app.py", source)
    upload(demo, "files/picture", png(render_text(["no extension"])))
    python = json.loads(wait_for(demo, "magika/app.py.json"))
    picture = json.loads(wait_for(demo, "magika/picture.json"))
    assert (python["label"], python["mime_type"], python["group"]) == ("python", "text/x-python", "code")
    assert (picture["label"], picture["mime_type"], picture["group"]) == ("png", "image/png", "image")
    for verdict in (python, picture):
        assert verdict["score"] > 0.9 and verdict["model"].startswith("standard_v")
        assert verdict["magika_version"]
    assert python["source"] == f"s3://{BUCKET}/files/app.py"

    # The verdicts lie outside the watched prefix, so they start nothing (no verdict of a verdict)...
    time.sleep(1)
    verdicts = keys(demo.client(), BUCKET, "magika/")
    assert {"magika/app.py.json", "magika/picture.json"} <= set(verdicts)
    assert not [key for key in verdicts if key.startswith("magika/magika/")], verdicts
    # ...and the handler refuses them anyway, should a trigger ever cover the whole bucket.
    verdict = wait_for(demo, "magika/app.py.json")
    assert invoke(demo, "filetype", "magika/app.py.json", len(verdict)) == {"verdicts": []}


def test_thumbnail_then_ocr_pipeline(demo):
    lines = ["PIPELINE", "two stages"]
    upload(demo, "photos/poster.jpg", jpeg(render_poster(lines)))
    # Stage one's output is stage two's trigger: one upload, two functions.
    text = wait_for(demo, "text/poster.txt").decode()
    assert_read(text, lines)
    with Image.open(io.BytesIO(wait_for(demo, "scans/poster.png"))) as image:
        assert image.format == "PNG" and image.mode == "L", "a grayscale PNG"
        assert max(image.size) == 1280, "shrunk to the stage's MAX_SIDE"


def test_thumbnail_skips_what_is_not_an_image(demo):
    upload(demo, "photos/notes.txt", b"not a picture\n")
    deadline = time.monotonic() + 60
    while "skipping s3://demo/photos/notes.txt" not in run_stratus("logs", "thumbnail",
                                                                   env=demo.cli_env()).stdout:
        assert time.monotonic() < deadline, "the thumbnail stage never saw notes.txt"
        time.sleep(0.2)
    assert not [k for k in keys(demo.client(), BUCKET, "scans/") if "notes" in k]
    # Skipped, not failed: no retries, no dead letter.
    dead = http_request(f"{demo.endpoint}/v1/functions/thumbnail/dead-letters",
                        headers={"Authorization": f"Bearer {demo.admin.token}"})
    assert dead.status == 200 and not dead.json()["dead_letters"], dead.body


def png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def jpeg(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=85)
    return buffer.getvalue()


def assert_read(text: str, expected_lines: list[str]) -> None:
    # The recogniser sometimes drops a space between words (PP-OCR's recognition model is
    # trained mostly on Chinese, which has none), so compare without whitespace.
    squeezed = "".join(text.split()).lower()
    for line in expected_lines:
        assert "".join(line.split()).lower() in squeezed, f"{line!r} not in OCR text {text!r}"


def test_stratus_demo_prints_what_the_models_made(demo):
    # Redeploys (environments cached), uploads the samples, waits for the triggered results.
    out = run_stratus("demo", "--examples", str(EXAMPLES), env=demo.cli_env(), timeout=600).stdout
    assert_read(section(out, "scans/invoice.png"), ["INVOICE 2024-117", "Total due 381.50 EUR"])
    assert_read(section(out, "photos/poster.jpg"), ["STRATUS", "Warm models win"])
    assert section(out, "files/script").split()[0] == "python"
    assert section(out, "files/picture").split()[0] == "jpeg"
    assert section(out, "files/notes").split()[0] == "markdown"
    # A second run waits for new results, not the first run's.
    again = run_stratus("demo", "--examples", str(EXAMPLES), env=demo.cli_env(), timeout=600)
    assert again.stdout.count("after the upload") == 5, again.stdout


def section(out: str, key: str) -> str:
    """The lines `stratus demo` printed under the result of uploading `key`."""
    lines = out.splitlines()
    start = next(i for i, line in enumerate(lines) if f"s3://demo/{key} ->" in line)
    body = []
    for line in lines[start + 1:]:
        if not line.startswith("    "):
            break
        body.append(line.strip())
    return "\n".join(body)
