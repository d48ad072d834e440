"""Driving the draw-a-digit page in headless Chromium with Playwright for Python.

The browser is Debian's chromium (/usr/bin/chromium), launched with the flags that let it
run as root and keep it off the network, on a fresh profile; ``playwright install`` is
never needed. ``python -m tests.app.page_driver --model M --out docs/serve-page.png``
serves M, draws a 7 on the page with the mouse (or ``--index N``: MNIST test digit N) and
saves the screenshot shown in the README.
"""

from __future__ import annotations

import argparse
import io
import os
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from itertools import pairwise
from pathlib import Path

import numpy as np
from PIL import Image

CHROMIUM = Path("/usr/bin/chromium")


def browser_missing() -> str | None:
    """Why the browser tests cannot run here, or None."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Playwright for Python is not installed (pip install '.[test]')"
    if not CHROMIUM.is_file():
        return f"no Chromium at {CHROMIUM} (apt-get install -y chromium)"
    return None


def require_browser() -> None:
    """Skip the calling test when the browser is missing, except in CI (the CI variable
    set), where that fails it: .ci/run installs both."""
    import pytest

    reason = browser_missing()
    if reason and os.environ.get("CI"):
        pytest.fail(f"{reason}; CI must provide it")
    if reason:
        pytest.skip(reason)


CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
VIEWPORT = {"width": 1200, "height": 720}
# A 7 as a hand draws it: the bar, then the stem with a slight curve.
HAND_DRAWN_SEVEN = [
    [(78.0, 72.0), (120.0, 68.0), (165.0, 66.0), (204.0, 68.0)],
    [(204.0, 68.0), (185.0, 110.0), (165.0, 152.0), (148.0, 194.0), (138.0, 232.0)],
]
PAD_SIZE = 280  # the drawing pad is 280x280 pixels (shown smaller on a narrow screen)
PAD_SCALE = PAD_SIZE // 28  # ten pad pixels per MNIST pixel
TIMEOUT_MS = 30_000


@contextmanager
def served(model_path: Path) -> Iterator[str]:
    """The page's server for a model on a free port of 127.0.0.1, in a thread: its URL."""
    from scratchnet.app.api import DigitApi
    from scratchnet.app.models import load_chosen
    from scratchnet.app.server import DigitServer

    server = DigitServer(("127.0.0.1", 0), DigitApi(load_chosen(model_path)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.url
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


@contextmanager
def chromium() -> Iterator:
    """A headless Chromium context on a fresh profile folder."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright, tempfile.TemporaryDirectory() as profile:
        context = playwright.chromium.launch_persistent_context(
            profile,
            executable_path=str(CHROMIUM),
            headless=True,
            args=CHROMIUM_ARGS,
            viewport=VIEWPORT,
            has_touch=True,
        )
        context.set_default_timeout(TIMEOUT_MS)
        try:
            yield context
        finally:
            context.close()


def open_page(context, url: str):
    """A new tab on the page, once the model has loaded (its bars are there)."""
    page = context.new_page()
    page.goto(url)
    page.wait_for_selector(".bar", state="attached")
    return page


def draw(page, strokes: list[list[tuple[float, float]]], wait: bool = True) -> None:
    """Draw each stroke (points in pad pixels, 0..280, however large the pad is shown)
    with the mouse, then (``wait``) wait until the page has the answer to the finished
    drawing."""
    on_screen = _on_screen(page)
    for stroke in strokes:
        first, *rest = map(on_screen, stroke)
        page.mouse.move(*first)
        page.mouse.down()
        for point in rest:
            page.mouse.move(*point, steps=3)
        page.mouse.up()
    if wait:
        settle(page)


def _on_screen(page):
    """Pad pixels (0..280) -> the page's coordinates of that point of the pad."""
    box = page.locator("#pad").bounding_box()
    scale = box["width"] / PAD_SIZE
    return lambda point: (box["x"] + point[0] * scale, box["y"] + point[1] * scale)


def draw_with(page, pointer: str, strokes: list[list[tuple[float, float]]]) -> None:
    """Draw like ``draw`` with a "mouse", a "pen" or a "touch" (a finger), as the browser's
    own input events (Chrome DevTools Protocol), then wait for the answer."""
    if pointer == "mouse":
        draw(page, strokes)
        return
    on_screen = _on_screen(page)
    session = page.context.new_cdp_session(page)
    for stroke in strokes:
        points = [dict(zip("xy", on_screen(point), strict=True)) for point in _densified(stroke)]
        if pointer == "pen":
            pen = {"pointerType": "pen", "button": "left", "clickCount": 1}
            session.send("Input.dispatchMouseEvent", {"type": "mousePressed", **points[0], **pen})
            for point in points[1:]:
                session.send("Input.dispatchMouseEvent", {"type": "mouseMoved", **point, **pen})
            session.send("Input.dispatchMouseEvent", {"type": "mouseReleased", **points[-1], **pen})
        else:
            session.send(
                "Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": points[:1]}
            )
            for point in points[1:]:
                session.send(
                    "Input.dispatchTouchEvent", {"type": "touchMove", "touchPoints": [point]}
                )
            session.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
    session.detach()
    settle(page)


def _densified(stroke: list[tuple[float, float]], step: float = 8.0) -> list[tuple[float, float]]:
    """The stroke's points with points every ``step`` pixels in between."""
    dense = [stroke[0]]
    for (x0, y0), (x1, y1) in pairwise(stroke):
        count = max(1, int(np.hypot(x1 - x0, y1 - y0) // step))
        dense += [
            (x0 + (x1 - x0) * i / count, y0 + (y1 - y0) * i / count) for i in range(1, count + 1)
        ]
    return dense


def settle(page) -> None:
    """Wait until no question to the server is open or waiting."""
    page.wait_for_selector('body[data-busy="false"]', state="attached")


def upload(page, path: Path) -> None:
    """Choose a file in the upload field and wait for its one answer (or its error)."""
    before = page.get_attribute("body", "data-readings")
    page.set_input_files("#file", str(path))
    answered = f'body[data-busy="false"]:not([data-readings="{before}"])'
    page.wait_for_selector(f"{answered}, #status.error", state="attached")
    settle(page)


def digit_as_strokes(digit: np.ndarray, level: int = 128) -> list[list[tuple[float, float]]]:
    """An MNIST digit (28x28 uint8) replayed as a pen would draw it: along each row, one
    stroke over every run of pixels at ``level`` or more, scaled to the pad."""
    strokes = []
    for row, pixels in enumerate(digit >= level):
        edges = np.flatnonzero(np.diff(np.concatenate([[0], pixels.astype(int), [0]])))
        for start, stop in zip(edges[::2], edges[1::2], strict=True):
            y = (row + 0.5) * PAD_SCALE
            strokes.append([(start * PAD_SCALE + 5.0, y), ((stop - 1) * PAD_SCALE + 5.0, y)])
    return strokes


def shown(page) -> dict:
    """What the page shows: the digit, every bar's probability and the text beside it,
    the confidence line, the input preview's 784 grey levels, and each hidden layer's
    caption and how many cells are lit."""
    return page.evaluate(
        """() => {
        const bars = [...document.querySelectorAll('.bar')];
        const view = document.getElementById('input-view');
        const input = view.getContext('2d').getImageData(0, 0, 28, 28).data;
        const layers = [...document.querySelectorAll('canvas.hidden-layer')].map((canvas) => {
            const { width, height } = canvas;
            const data = canvas.getContext('2d').getImageData(0, 0, width, height).data;
            let lit = 0;
            for (let i = 0; i < data.length; i += 4) {
                if (data[i] + data[i + 1] + data[i + 2] > 0) lit++;
            }
            return { lit, cells: canvas.width * canvas.height,
                     caption: canvas.previousElementSibling.textContent };
        });
        return {
            digit: document.getElementById('digit').textContent,
            probabilities: Object.fromEntries(bars.map((bar) => [bar.dataset.class,
                bar.dataset.probability === undefined ? null : Number(bar.dataset.probability)])),
            values: Object.fromEntries(bars.map((bar) => [bar.dataset.class,
                bar.querySelector('.value').textContent])),
            confidence: document.getElementById('confidence').textContent,
            best: bars.filter((bar) => bar.classList.contains('best'))
                .map((bar) => bar.dataset.class),
            input: Array.from({ length: 784 }, (_, i) => input[4 * i]),
            layers,
            status: document.getElementById('status').textContent,
        };
    }"""
    )


def pad_png(page) -> bytes:
    """The drawing pad's picture as PNG bytes, as the page sends it."""
    import base64

    url = page.evaluate("() => document.getElementById('pad').toDataURL('image/png')")
    return base64.b64decode(url.split(",", 1)[1])


def main() -> None:
    import scratchnet as sn

    parser = argparse.ArgumentParser(description="Save a screenshot of the draw-a-digit page.")
    parser.add_argument("--model", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--index", type=int, help="MNIST test digit to draw instead of a 7")
    parser.add_argument("--data-dir", type=Path)
    args = parser.parse_args()
    strokes = HAND_DRAWN_SEVEN
    if args.index is not None:
        digits = sn.load_mnist(range(10), args.data_dir, relabel=False).x_test
        strokes = digit_as_strokes(digits[args.index])
    with served(args.model) as url, chromium() as context:
        page = open_page(context, url)
        draw(page, strokes)
        print(f"the page reads {shown(page)['digit']}")
        screenshot = Image.open(io.BytesIO(page.screenshot()))
    screenshot.quantize(colors=64).save(args.out, optimize=True)  # small enough to commit
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
