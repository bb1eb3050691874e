"""Renders the demo's sample images with Pillow (nothing is downloaded: Pillow's built-in font).

    python3 examples/samples/make_samples.py      # rewrites scan.png and poster.jpg here

The tests import `render_text` to make images whose text they know.
"""

from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

HERE = Path(__file__).resolve().parent
SCAN_LINES = ["INVOICE 2024-117", "Total due 381.50 EUR"]
POSTER_LINES = ["STRATUS", "Warm models win"]


def render_text(lines, size=40, background=255, ink=0, mode="L", margin=40):
    """`lines` of text in Pillow's built-in font (`size` px), on a plain background."""
    font = ImageFont.load_default(size=size)
    measure = ImageDraw.Draw(Image.new(mode, (1, 1)))
    width = max(measure.textbbox((0, 0), line, font=font)[2] for line in lines)
    line_height = int(size * 1.6)
    image = Image.new(mode, (width + 2 * margin, line_height * len(lines) + 2 * margin), background)
    draw = ImageDraw.Draw(image)
    for number, line in enumerate(lines):
        draw.text((margin, margin + number * line_height), line, fill=ink, font=font)
    return image


def render_poster(lines, width=1800, height=1000):
    """A colour "photo": a gradient with large dark text, bigger than the thumbnail stage's
    MAX_SIDE, so the pipeline has to shrink and grey it before OCR."""
    gradient = Image.linear_gradient("L").resize((width, height))
    photo = Image.merge("RGB", (gradient.point(lambda v: 255 - v // 3),
                                gradient.point(lambda v: 200 + v // 5),
                                Image.new("L", (width, height), 170)))
    text = render_text(lines, size=140, mode="L", margin=0)
    mask = text.point(lambda v: 255 - v)  # ink where the text is dark
    photo.paste((20, 30, 90), ((width - text.width) // 2, (height - text.height) // 2), mask)
    return photo


if __name__ == "__main__":
    render_text(SCAN_LINES, size=72).save(HERE / "scan.png", optimize=True)
    render_poster(POSTER_LINES).save(HERE / "poster.jpg", quality=85)
    print("wrote", HERE / "scan.png", "and", HERE / "poster.jpg")
