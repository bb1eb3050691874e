"""RapidOCR, as examples/ocr/ocr.py builds it, plus each line's confidence (a function's package
is its own directory, so the few lines are copied rather than imported from there)."""

import os

from rapidocr_onnxruntime import RapidOCR


def load_engine() -> RapidOCR:
    threads = int(os.environ.get("OCR_THREADS", "1"))
    # "max" only shrinks images over 2000 px; the default scales scans *up* to 736 px on their
    # shortest side, which makes detection several times slower (see examples/ocr/ocr.py).
    return RapidOCR(intra_op_num_threads=threads, inter_op_num_threads=1,
                    det_limit_type="max", det_limit_side_len=2000)


def recognise_lines(engine: RapidOCR, image: bytes) -> list[dict]:
    """Each detected line of `image` (encoded bytes), top to bottom: its text and confidence."""
    result, _elapsed = engine(image)
    return [{"text": text, "confidence": round(float(score), 4)} for _box, text, score in result or []]
