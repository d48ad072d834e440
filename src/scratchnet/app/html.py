"""Small pieces of self-contained HTML: escaped text, tables, images as data URIs and
the page around them, with its own CSS. Nothing here refers to anything outside the
page: no scripts, no external styles, fonts or images, and a Content-Security-Policy
that lets the browser load nothing but the page's own data URIs.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Iterable
from html import escape

import numpy as np
from matplotlib.image import imsave

from .arguments import unicode_text

POLICY = (  # forms and base-uri are outside default-src: named, for a page that has neither
    "default-src 'none'; img-src data:; style-src 'unsafe-inline'; form-action 'none'; "
    "base-uri 'none'"
)
STYLE = """
:root { color-scheme: light; --ink: #1d2330; --muted: #5c6475; --line: #d9dde5;
        --panel: #f5f7fa; --accent: #1f77b4; }
* { box-sizing: border-box; }
body { margin: 0; font: 17px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
       color: var(--ink); background: #fff; }
main { max-width: 1180px; margin: 0 auto; padding: 1.2rem 1.2rem 3rem; }
h1 { font-size: 1.9rem; margin: 0.4rem 0 0.2rem; }
h2 { font-size: 1.45rem; margin: 2.4rem 0 0.6rem; padding-top: 0.6rem;
     border-top: 2px solid var(--line); }
h3 { font-size: 1.1rem; margin: 1.4rem 0 0.4rem; }
p, li { max-width: 75ch; }
.lead { font-size: 1.15rem; color: var(--muted); margin-top: 0; }
.headline { display: flex; flex-wrap: wrap; gap: 0.8rem; margin: 1rem 0; }
.headline div { background: var(--panel); border-radius: 8px; padding: 0.6rem 1rem; }
.headline b { display: block; font-size: 1.5rem; }
nav { display: flex; flex-wrap: wrap; gap: 0.3rem 1rem; font-size: 0.95rem; }
a { color: var(--accent); }
code, pre { font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace;
            font-size: 0.88em; }
pre { background: var(--panel); padding: 0.8rem; border-radius: 6px; overflow-x: auto; }
pre.command { white-space: pre-wrap; overflow-wrap: anywhere; }
code { overflow-wrap: anywhere; }  /* a long folder name breaks, not the page's width */
td small { display: block; }
.scroll { overflow-x: auto; max-width: 100%;  /* a shadow on a side with more to scroll to */
          background: linear-gradient(to right, #fff 40%, #fff0) left / 1.5rem 100% local,
                      linear-gradient(to left, #fff 40%, #fff0) right / 1.5rem 100% local,
                      radial-gradient(farthest-side at 0 50%, #0003, #0000) left / 0.7rem 100%,
                      radial-gradient(farthest-side at 100% 50%, #0003, #0000) right / 0.7rem 100%;
          background-repeat: no-repeat; }
table { border-collapse: collapse; margin: 0.4rem 0 1rem; font-variant-numeric: tabular-nums; }
th, td { padding: 0.25rem 0.6rem; border-bottom: 1px solid var(--line); text-align: right; }
th { font-weight: 600; }
th[scope="row"], th.left, td.left { text-align: left; }
table.settings td, table.settings th { text-align: left; }
caption { caption-side: bottom; text-align: left; color: var(--muted); font-size: 0.9rem;
          padding-top: 0.3rem; }
small, .muted { color: var(--muted); }
table.confusion td { min-width: 2.6rem; text-align: center; border: 1px solid #fff; }
table.confusion thead th { text-align: center; }
table.confusion td.zero { color: var(--muted); }
.figures { display: grid; gap: 1rem;
           grid-template-columns: repeat(auto-fit, minmax(min(100%, 460px), 1fr)); }
figure { margin: 0; }
figure.plot img { max-width: 100%; height: auto; border: 1px solid var(--line);
                  border-radius: 6px; }
.gallery { display: grid; gap: 0.5rem; list-style: none; padding: 0;
           grid-template-columns: repeat(auto-fill, minmax(86px, 1fr)); }
.digit { text-align: center; background: var(--panel); border-radius: 6px; padding: 0.4rem 0.2rem; }
.digit img { width: 56px; height: 56px; image-rendering: pixelated; display: block;
             margin: 0 auto 0.2rem; border: 1px solid var(--line); }
.digit figcaption { font-size: 0.85rem; line-height: 1.3; }
footer { margin-top: 3rem; color: var(--muted); font-size: 0.9rem; }
@media (max-width: 600px) {
  body { font-size: 16px; }
  main { padding: 0.8rem 0.7rem 2rem; }
  h1 { font-size: 1.5rem; }
  th, td { padding: 0.2rem 0.35rem; }
  table { font-size: 0.88rem; }
  table.confusion td { min-width: 1.9rem; }
  .gallery { grid-template-columns: repeat(auto-fill, minmax(76px, 1fr)); }
}
@media (max-width: 420px) {  /* a phone: the per-class table fits 375 pixels */
  th, td { padding: 0.2rem 0.22rem; }
  table { font-size: 0.8rem; }
  table.confusion td { min-width: 1.45rem; }
}
"""


def text(value: object) -> str:
    """Any value as HTML text, escaped; the bytes of a file name that are not UTF-8
    (Python's surrogate escapes, which no page can hold) written out as \\xNN."""
    return escape(unicode_text(str(value)))


def readable_on(background: np.ndarray) -> str:
    """'#000' or '#fff', whichever contrasts more with ``background`` (RGB, 0 to 255) by
    WCAG 2's ratio (L1 + 0.05) / (L2 + 0.05) of relative luminances
    L = 0.2126 R + 0.7152 G + 0.0722 B of the linearised channels: black and white meet
    at L = 0.179, where each is 4.58:1, so the text reads at AA's 4.5:1 on any background."""
    c = np.asarray(background, dtype=float) / 255
    linear = np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    luminance = float(linear @ [0.2126, 0.7152, 0.0722])
    return "#000" if (luminance + 0.05) / 0.05 >= 1.05 / (luminance + 0.05) else "#fff"


def png_uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def image(png: bytes, alt: str, width: int | None = None, height: int | None = None) -> str:
    size = "" if width is None else f' width="{width}" height="{height}"'
    return f'<img src="{png_uri(png)}" alt="{text(alt)}"{size}>'


def digit_png(pixels: np.ndarray) -> bytes:
    """A 28x28 uint8 MNIST image as a PNG, dark ink on white (255 - pixel in every
    channel, so the file holds exactly the image's values)."""
    ink = 255 - np.asarray(pixels, dtype=np.uint8)
    buffer = io.BytesIO()
    imsave(buffer, np.repeat(ink[:, :, None], 3, axis=2), format="png")
    return buffer.getvalue()


def table(header: Iterable[str], rows: Iterable[Iterable[str]], attributes: str = "") -> str:
    """A table of cells that are already HTML; the first column is a row header."""
    head = "".join(f'<th scope="col">{cell}</th>' for cell in header)
    body = "".join(
        f"<tr><th scope=\"row\">{first}</th>" + "".join(f"<td>{cell}</td>" for cell in rest)
        + "</tr>"
        for first, *rest in rows
    )  # fmt: skip
    return (f'<div class="scroll"><table {attributes}><thead><tr>{head}</tr></thead>'
            f"<tbody>{body}</tbody></table></div>")  # fmt: skip


def page(title: str, body: str) -> str:
    """A complete HTML document that needs nothing but itself."""
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="{POLICY}">
<title>{text(title)}</title>
<style>{STYLE}</style>
</head>
<body>
<main>
{body}
</main>
</body>
</html>
"""
