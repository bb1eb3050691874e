"""The OCR itself, shared by the warm handler (app.py) and the per-file script form.

As a script, `python3 ocr.py INPUT.png OUTPUT.txt` loads the model, reads one image and exits:
the one-process-per-file model the benchmark (scripts/bench_ocr.py) compares against.
"""

import os
import sys

from rapidocr_onnxruntime import RapidOCR


def load_engine() -> RapidOCR:
    threads = int(os.environ.get("OCR_THREADS", "1"))
    # RapidOCR's default detector input scales every image up until its *shortest* side is
    # 736 px: a 500x120 scan becomes 3000x736 and detection takes a second. "max" only shrinks
    # images larger than 2000 px (its own upper bound), which keeps scans at their resolution.
    return RapidOCR(intra_op_num_threads=threads, inter_op_num_threads=1,
                    det_limit_type="max", det_limit_side_len=2000)


def recognise(engine: RapidOCR, image) -> str:
    """The text of `image` (a path or encoded bytes), one detected line per line."""
    result, _elapsed = engine(image)
    return "\n".join(text for _box, text, _score in result or [])


if __name__ == "__main__":
    source, target = sys.argv[1:3]
    text = recognise(load_engine(), source)
    with open(target, "w", encoding="utf-8") as out:
        out.write(text + "\n")
