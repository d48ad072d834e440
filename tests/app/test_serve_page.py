"""The draw-a-digit page in a real browser: headless Chromium draws with the mouse and
uploads files, under the page's own Content-Security-Policy.

Expected digits are MNIST's labels (and a vertical stroke is a 1); what the page shows is
checked against what the server computes from the pad's own picture, with the reader of
``scratchnet predict`` and tests/reference.py. Without Chromium or Playwright these tests
are skipped, except in CI (the CI variable set), where they fail: .ci/run installs both.
"""

from __future__ import annotations

import io
import re
import time

import numpy as np
import pytest
from PIL import Image

import scratchnet as sn
from scratchnet.app.api import MAX_BODY_BYTES, DigitApi
from scratchnet.metrics import probability

from .. import reference
from ..pictures import in_light_ink, render_like_a_user
from .page_driver import (
    VIEWPORT,
    chromium,
    digit_as_strokes,
    draw,
    draw_with,
    open_page,
    pad_png,
    require_browser,
    served,
    settle,
    shown,
    upload,
)

VERTICAL_STROKE = [[(140.0, 45.0), (140.0, 140.0), (140.0, 235.0)]]
NO_DIGIT = "\N{EN DASH}"  # what the page shows before it has an answer
MNIST_SEVEN, MNIST_ZERO = 0, 3  # indices in the MNIST test set (labels 7 and 0)


@pytest.fixture(scope="module")
def browser():
    require_browser()
    with chromium() as context:
        yield context


@pytest.fixture(scope="module")
def url(digits_model):
    with served(digits_model) as address:
        yield address


@pytest.fixture
def page(browser, url):
    tab = open_page(browser, url)
    yield tab
    tab.close()


@pytest.fixture(scope="module")
def mnist_test(mnist_dir):
    data = sn.load_mnist(range(10), mnist_dir, relabel=False)
    return data.x_test, data.y_test


def expected_from_pad(page, model_path) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """What the network sees of the pad's picture, its probabilities and its hidden layer,
    by the reader and the reference."""
    net = sn.NeuralNet.load(model_path)
    x = sn.load_image(pad_png(page))
    (hidden,) = reference.hidden_activations(net, x)
    return x, reference.probabilities(net, x[np.newaxis])[0], hidden


def assert_shows_a_reading(seen: dict, probabilities: np.ndarray) -> None:
    """The page's numbers are the network's, and each percentage is written by the
    console's rule (one decimal; never 100.0% or 0.0% for what is not certain)."""
    given = np.array([seen["probabilities"][str(digit)] for digit in range(10)])
    assert given.sum() == pytest.approx(1, abs=1e-6)
    np.testing.assert_allclose(given, probabilities, atol=1e-6)
    assert seen["digit"] == str(int(np.argmax(given))) and seen["best"] == [seen["digit"]]
    for digit, p in enumerate(given):
        assert seen["values"][str(digit)] == probability(p, 1)
    best, runner_up = np.argsort(-given, kind="stable")[:2]
    assert seen["confidence"] == (
        f"{probability(given[best], 1)} sure; next best {runner_up} "
        f"({probability(given[runner_up], 1)})"
    )


def test_a_vertical_stroke_reads_as_one(page, digits_model):
    draw(page, VERTICAL_STROKE)
    seen = shown(page)
    assert seen["digit"] == "1", seen["status"]
    x, probabilities, hidden = expected_from_pad(page, digits_model)
    assert_shows_a_reading(seen, probabilities)
    np.testing.assert_allclose(np.array(seen["input"]) / 255, x, atol=0.51 / 255)
    (layer,) = seen["layers"]
    active = int(np.sum(hidden > 0))
    assert layer["caption"].startswith(f"hidden layer 1: 64 units, {active} active")
    assert layer["cells"] >= 64 and layer["lit"] == active


def test_percentages_never_claim_certainty(page):
    shown_texts = page.evaluate("() => [0.99996, 0.00004, 0.5, 1, 0, 0.12345].map(percent)")
    # 1 and 0 themselves too: a float32 softmax rounds to them, a softmax never reaches them
    assert shown_texts == [">99.9%", "<0.1%", "50.0%", ">99.9%", "<0.1%", "12.3%"]


@pytest.mark.parametrize("pointer", ["pen", "touch"])
def test_a_pen_and_a_finger_draw_too(page, pointer):
    draw_with(page, pointer, VERTICAL_STROKE)
    seen = shown(page)
    assert seen["digit"] == "1", seen["status"]
    input_rows = np.array(seen["input"]).reshape(28, 28).any(axis=1)
    assert input_rows.sum() >= 18  # a stroke down the pad, not a dot


@pytest.mark.parametrize("index", [MNIST_SEVEN, MNIST_ZERO], ids=["seven", "zero"])
def test_an_mnist_digit_replayed_as_strokes_reads_right(page, mnist_test, digits_model, index):
    digits, labels = mnist_test
    draw(page, digit_as_strokes(digits[index]))
    seen = shown(page)
    assert seen["digit"] == str(labels[index]), seen["status"]
    assert_shows_a_reading(seen, expected_from_pad(page, digits_model)[1])


@pytest.mark.parametrize("index", [MNIST_SEVEN, MNIST_ZERO], ids=["seven", "zero"])
def test_an_uploaded_mnist_digit_reads_right(page, mnist_test, digits_model, index, tmp_path):
    digits, labels = mnist_test
    path = tmp_path / "digit.jpg"
    render_like_a_user(digits[index], np.random.default_rng(index)).save(path)
    upload(page, path)
    seen = shown(page)
    assert seen["digit"] == str(labels[index]), seen["status"]
    net = sn.NeuralNet.load(digits_model)
    x = sn.load_image(path)  # what `scratchnet predict` reads
    assert_shows_a_reading(seen, reference.probabilities(net, x[np.newaxis])[0])
    np.testing.assert_allclose(np.array(seen["input"]) / 255, x, atol=0.51 / 255)


@pytest.mark.parametrize("transparent", [True, False], ids=["transparent", "black"])
def test_strokes_over_light_ink_are_drawn_and_read_as_its_ink(page, mnist_test, digits_model,
                                                              tmp_path, transparent):  # fmt: skip
    """The pad showed every upload on white and drew in black: white ink on a transparent
    canvas vanished, a bar drawn across a white 7 on black was no ink to the reader, and
    one beside white ink on a transparent canvas was the only ink. Now the pad lays the
    picture on the ground the reader gives it and draws in its ink's colour: the bar
    reads as it does across the same 7 in dark ink on white."""
    seven = render_like_a_user(mnist_test[0][MNIST_SEVEN], np.random.default_rng(3))
    bar = [[(30.0, 150.0), (250.0, 150.0)]]
    seen = {}
    for name, picture in (("dark", seven), ("light", in_light_ink(seven, transparent))):
        path = tmp_path / f"{name}.png"
        picture.save(path)
        upload(page, path)
        draw(page, bar)
        seen[name] = shown(page)
        pad = np.asarray(Image.open(io.BytesIO(pad_png(page))).convert("L"))
        if name == "light":
            assert pad[5, 5] == 0 and pad[150, 140] >= 200  # black ground, a light bar
        assert_shows_a_reading(seen[name], expected_from_pad(page, digits_model)[1])
        assert seen[name]["status"] == (
            f"Read from the pad: your strokes over {name}.png as the pad shows it "
            "(undo them to read the file itself)."
        )
        page.click("#clear")
    dark, light = (np.array(seen[name]["input"], float) for name in ("dark", "light"))
    assert np.corrcoef(dark, light)[0, 1] > 0.95
    assert seen["light"]["digit"] == seen["dark"]["digit"]


def assert_shows_no_reading(seen: dict) -> None:
    assert seen["digit"] == NO_DIGIT and seen["confidence"] == ""
    assert set(seen["probabilities"].values()) == {None} and seen["best"] == []
    assert seen["layers"] == [] and max(seen["input"]) == 0


def test_an_upload_that_is_no_image_shows_the_servers_error_and_no_earlier_reading(page, tmp_path):
    draw(page, VERTICAL_STROKE)
    assert shown(page)["digit"] == "1"
    path = tmp_path / "notes.png"
    path.write_text("not an image")
    upload(page, path)
    seen = shown(page)
    assert seen["status"] == "notes.png: not a PNG, JPEG, BMP, GIF or WebP image"
    assert_shows_no_reading(seen)


def test_strokes_over_an_upload_before_its_own_reading_take_its_look(
    page, mnist_test, digits_model, tmp_path, monkeypatch
):
    """Chosen while the pad's last question was out and drawn over before the file was
    read, an upload was never read itself: the pad kept its plain look, a dark pen over
    white ink on a transparent canvas shown on white."""
    path = tmp_path / "light.png"
    seven = render_like_a_user(mnist_test[0][MNIST_SEVEN], np.random.default_rng(3))
    in_light_ink(seven, transparent=True).save(path)
    answered, asked = DigitApi.predict, []

    def slow_first(api, content_type, body):
        asked.append(content_type)
        if len(asked) == 1:
            time.sleep(2)
        return answered(api, content_type, body)

    monkeypatch.setattr(DigitApi, "predict", slow_first)
    draw(page, VERTICAL_STROKE, wait=False)  # its answer comes 2 s later
    page.set_input_files("#file", str(path))
    page.wait_for_selector("#clear:not([disabled])")  # the picture is on the pad
    draw(page, [[(30.0, 150.0), (250.0, 150.0)]], wait=False)
    page.wait_for_timeout(2100)
    settle(page)
    assert "application/octet-stream" in asked  # the file itself, for its look
    pad = np.asarray(Image.open(io.BytesIO(pad_png(page))).convert("L"))
    assert pad[5, 5] == 0 and pad[150, 140] == 255  # the file's ground, a light pen
    seen = shown(page)
    assert_shows_a_reading(seen, expected_from_pad(page, digits_model)[1])
    assert seen["status"].startswith("Read from the pad: your strokes over light.png")


def test_an_upload_the_browser_cannot_show_leaves_the_pad_as_it_is(
    page, mnist_test, digits_model, tmp_path
):
    """A file the server reads but the browser cannot draw (a format it lacks) is not on
    the pad: the pad took its look anyway, all black, and Clear could not undo it."""
    path = tmp_path / "light.png"
    seven = render_like_a_user(mnist_test[0][MNIST_SEVEN], np.random.default_rng(3))
    in_light_ink(seven, transparent=True).save(path)
    page.evaluate("() => { window.createImageBitmap = () => Promise.reject(new Error('no')); }")
    upload(page, path)
    net = sn.NeuralNet.load(digits_model)
    assert_shows_a_reading(shown(page), reference.probabilities(net, sn.load_image(path)[None])[0])
    pad = np.asarray(Image.open(io.BytesIO(pad_png(page))).convert("L"))
    assert (pad == 255).all()


@pytest.mark.parametrize(
    ("status", "error"),
    [(503, "the server is busy: try again in a moment"), (500, "internal error (see the log)")],
)
def test_a_refusal_not_of_the_picture_is_not_put_on_it(page, tmp_path, status, error):
    """Only the refusals of the picture itself (too large, unreadable) name it."""
    page.route("**/predict", lambda route: route.fulfill(status=status, json={"error": error}))
    draw(page, VERTICAL_STROKE)
    assert shown(page)["status"] == error


def test_an_upload_over_the_servers_limit_is_named_in_its_refusal(page, tmp_path):
    """Every refusal of an upload begins with the file's name, but the refusal of its
    size, which the server makes before it knows the body is an image."""
    path = tmp_path / "huge photo.jpg"
    size = MAX_BODY_BYTES + 1
    path.write_bytes(b"\xff\xd8\xff" + bytes(size - 3))
    upload(page, path)
    seen = shown(page)
    assert seen["status"] == (
        f"huge photo.jpg: the upload has {size:,} bytes, more than the {MAX_BODY_BYTES:,} "
        f"accepted ({MAX_BODY_BYTES / 2**20:g} MiB)"
    )
    assert_shows_no_reading(seen)


def test_a_server_that_is_gone_is_said_and_leaves_no_reading_standing(page):
    draw(page, VERTICAL_STROKE)
    assert shown(page)["digit"] == "1"
    page.route("**/predict", lambda route: route.abort("connectionrefused"))
    draw(page, [[(60.0, 60.0), (220.0, 60.0)]])
    seen = shown(page)
    assert seen["status"] == "Cannot reach the scratchnet server: is it still running?"
    assert_shows_no_reading(seen)


def test_an_answer_for_a_drawing_no_longer_on_the_pad_is_not_shown(page):
    """A stroke is drawn while the server holds its question, then undone and the pad
    cleared: when the held answer comes, the empty pad shows none."""
    draw(page, VERTICAL_STROKE)
    held, asked_later = [], []

    def hold_the_first(route):
        if held:  # later questions go through, counted
            asked_later.append(route.request.url)
            route.continue_()
        else:
            held.append(route)

    page.route("**/predict", hold_the_first)
    draw(page, [[(60.0, 60.0), (220.0, 60.0)]], wait=False)
    while not held:
        page.wait_for_timeout(10)
    page.click("#undo")
    page.click("#clear")
    held[0].continue_()
    settle(page)
    seen = shown(page)
    assert seen["status"] == "Waiting for a digit."
    assert_shows_no_reading(seen)
    assert asked_later == []  # the empty pad was not sent


def test_the_upload_is_reached_and_opened_with_the_keyboard(page):
    # waiting for the chooser from the start: Playwright must be watching for it before
    # the key that opens it is pressed
    with page.expect_file_chooser() as chooser:
        page.keyboard.press("Tab")  # Undo and Clear wait, disabled, for a drawing
        assert page.evaluate("() => document.activeElement.id") == "file"
        page.keyboard.press("Enter")
    assert not chooser.value.is_multiple()


@pytest.mark.parametrize("width", [320, 360])
def test_a_narrow_phone_shows_every_card_whole_without_sideways_scrolling(
    browser, url, width, tmp_path
):
    page = open_page(browser, url)
    try:
        page.set_viewport_size({"width": width, "height": 700})
        draw(page, VERTICAL_STROKE)
        assert shown(page)["digit"] == "1"  # the smaller pad still draws where the finger is
        widths = page.evaluate(
            "() => [document.documentElement.scrollWidth, ...[...document.querySelectorAll("
            "'section, canvas, table')].map((shown) => shown.getBoundingClientRect().right)]"
        )
        assert widths[0] == width and max(widths[1:]) <= width - 8  # cards, and what is in them
        page.screenshot(path=str(tmp_path / f"phone-{width}.png"), full_page=True)
    finally:
        page.close()


def test_a_model_of_some_digits_invites_only_those(browser, tmp_path):
    pictures = np.random.default_rng(0).uniform(size=(20, 784))
    ones_and_twos = sn.NeuralNet([8, 1], random_state=0).fit(
        pictures, np.arange(20) % 2 + 1, n_iterations=1
    )
    ones_and_twos.save(tmp_path / "model.npz")
    with served(tmp_path / "model.npz") as address:
        page = open_page(browser, address)
        try:
            assert page.text_content("#invitation").startswith(
                "Draw one of the digits 1, 2 (the only ones this network knows)"
            )
        finally:
            page.close()


def test_hidden_layer_captions_count_one_unit_and_give_small_activations(browser, tmp_path):
    """A layer of one unit was '1 units'; one whose largest activation was 0.002 said
    '(brightest 0.00)' over a fully bright cell, and one of zeros '(brightest 1)'."""
    pictures = np.random.default_rng(0).uniform(size=(20, 784))
    net = sn.NeuralNet([1, 4, 2, 1], activation="relu", random_state=0)
    net.fit(pictures, np.arange(20) % 2 + 1, n_iterations=1)
    for layer, scale in zip(net.layers[:3], (1, 1e-3, -1), strict=True):
        layer.weight[...] = scale * np.abs(layer.weight)  # on, faint, off
        layer.bias[...] = 0
    net.save(tmp_path / "model.npz")
    with served(tmp_path / "model.npz") as address:
        page = open_page(browser, address)
        try:
            draw(page, VERTICAL_STROKE)
            captions = [layer["caption"] for layer in shown(page)["layers"]]
            hidden = reference.hidden_activations(net, sn.load_image(pad_png(page)))
        finally:
            page.close()
    assert captions[0].startswith("hidden layer 1: 1 unit, 1 active")
    assert captions[1].startswith("hidden layer 2: 4 units, 4 active")
    assert captions[2] == "hidden layer 3: 2 units, 0 active (above 0) (brightest 0)"
    for caption, values in zip(captions, hidden, strict=True):
        brightest = float(re.search(r"\(brightest (.+)\)$", caption)[1])
        assert brightest == pytest.approx(np.abs(values).max(), rel=5e-3)
    assert 0 < np.abs(hidden[1]).max() < 0.01 and np.abs(hidden[2]).max() == 0


def test_undo_and_clear(page, mnist_test):
    draw(page, VERTICAL_STROKE)
    one = shown(page)
    draw(page, [[(60.0, 60.0), (220.0, 60.0)]])  # a bar across the top: a 7 now
    assert shown(page)["probabilities"] != one["probabilities"]
    page.click("#undo")
    page.wait_for_selector('body[data-busy="false"]', state="attached")
    assert shown(page)["probabilities"] == one["probabilities"]
    page.click("#clear")
    seen = shown(page)
    assert seen["digit"] == NO_DIGIT and set(seen["probabilities"].values()) == {None}
    assert seen["layers"] == [] and max(seen["input"]) == 0
    assert page.is_disabled("#undo") and page.is_disabled("#clear")


def test_undo_back_to_an_upload_shows_the_files_own_reading(page, mnist_test, digits_model,
                                                             tmp_path):  # fmt: skip
    """Ctrl+Z with nothing to undo asked about the pad's copy of the upload (another
    reading of the same picture, or 'blank' for light ink on a transparent ground); so
    did undoing the last stroke over it."""
    path = tmp_path / "seven.png"
    render_like_a_user(mnist_test[0][MNIST_SEVEN], np.random.default_rng(3)).save(path)
    net = sn.NeuralNet.load(digits_model)
    own = reference.probabilities(net, sn.load_image(path)[np.newaxis])[0]
    upload(page, path)
    assert_shows_a_reading(shown(page), own)
    asked = []
    page.on("request", lambda request: asked.append(request.headers.get("content-type")))
    page.locator("#pad").focus()
    page.keyboard.press("Control+z")
    settle(page)
    assert asked == [] and page.is_disabled("#undo")
    assert_shows_a_reading(shown(page), own)
    draw(page, VERTICAL_STROKE)
    assert_shows_a_reading(shown(page), expected_from_pad(page, digits_model)[1])
    page.keyboard.press("Control+z")
    settle(page)
    assert_shows_a_reading(shown(page), own)
    assert set(asked[:-1]) == {"image/png"} and asked[-1] == "application/octet-stream"


def test_undo_reads_the_upload_as_it_was_chosen_though_the_file_changed_or_went(
    page, mnist_test, digits_model, tmp_path
):
    """The page sent the File again, which Chromium cannot read once it changed on
    disk: 'Cannot reach the scratchnet server', with the server up."""
    path = tmp_path / "seven.png"
    render_like_a_user(mnist_test[0][MNIST_SEVEN], np.random.default_rng(3)).save(path)
    net = sn.NeuralNet.load(digits_model)
    own = reference.probabilities(net, sn.load_image(path)[np.newaxis])[0]
    upload(page, path)
    page.locator("#pad").focus()
    zero = render_like_a_user(mnist_test[0][MNIST_ZERO], np.random.default_rng(4))
    for change in (lambda: zero.save(path), path.unlink):
        draw(page, VERTICAL_STROKE)
        change()
        page.keyboard.press("Control+z")
        settle(page)
        seen = shown(page)
        assert seen["status"] == "", seen["status"]
        assert_shows_a_reading(seen, own)


def test_while_an_upload_is_read_the_pad_takes_no_stroke_and_asks_nothing_of_its_own(
    page, mnist_test, digits_model, tmp_path
):
    """A stroke drawn while a large upload was decoded landed on the previous picture,
    whose reading then stayed; a question about the pad still pending was asked of the
    cleared pad ('Your drawing: the image is blank'). Now the upload's own reading is
    the only one, and the status never speaks of a drawing."""
    seven, zero = tmp_path / "seven.png", tmp_path / "zero.png"
    render_like_a_user(mnist_test[0][MNIST_SEVEN], np.random.default_rng(3)).save(seven)
    render_like_a_user(mnist_test[0][MNIST_ZERO], np.random.default_rng(3)).save(zero)
    net = sn.NeuralNet.load(digits_model)
    own = reference.probabilities(net, sn.load_image(zero)[np.newaxis])[0]
    upload(page, seven)
    page.evaluate("""() => {
        window.said = [];
        new MutationObserver(() => window.said.push(document.getElementById("status")
            .textContent)).observe(document.getElementById("status"), { childList: true });
        const decode = window.createImageBitmap;
        window.createImageBitmap = (file) => new Promise((done, fail) =>
            setTimeout(() => decode(file).then(done, fail), 1000)); }""")
    page.route("**/predict", lambda route: (time.sleep(0.3), route.continue_()))
    draw(page, [[(60.0, 60.0), (220.0, 60.0)]], wait=False)  # in flight, one more waiting
    draw(page, [[(60.0, 200.0), (220.0, 200.0)]], wait=False)
    page.set_input_files("#file", str(zero))
    draw(page, VERTICAL_STROKE, wait=False)  # while the upload is decoded
    page.wait_for_timeout(1300)
    settle(page)
    seen = shown(page)
    assert seen["status"] == "" and not any("drawing" in said for said in
                                            page.evaluate("window.said"))  # fmt: skip
    assert_shows_a_reading(seen, own)
    assert page.is_disabled("#undo")  # no stroke was taken


def test_a_hidden_layer_grid_leaves_the_cells_past_its_last_unit_blank(page):
    """100 units fill 7 rows of 16 cells: the 12 cells after them were painted black,
    as a unit that is off is."""
    page.evaluate("() => layers([Array(100).fill(0)])")
    grid = np.asarray(Image.open(io.BytesIO(page.locator("canvas.hidden-layer").screenshot())))
    cell = grid.shape[1] / 16

    def colour(row: int, column: int) -> np.ndarray:
        return grid[int((row + 0.5) * cell), int((column + 0.5) * cell), :3]

    assert colour(6, 3).tolist() == [0, 0, 0]  # unit 100, off
    assert colour(6, 4).tolist() == [255, 255, 255] == colour(6, 15).tolist()  # the paper


def test_the_model_summary_and_a_screenshot(page, digits_model, tmp_path):
    rows = page.locator("#layers tbody tr").all_inner_texts()
    assert [row.split("\t") for row in rows] == [
        ["dense_1", "784 → 64", "relu", "50,240"],
        ["dense_2", "64 → 10", "softmax", "650"],
    ]
    facts = page.text_content("#model-facts")
    assert facts.splitlines() == [
        "50,890 parameters",
        "digits 0 1 2 3 4 5 6 7 8 9",
        "test accuracy unknown (no metrics.json beside the model describes its run)",
        str(digits_model),
    ]
    draw(page, VERTICAL_STROKE)
    page.screenshot(path=str(tmp_path / "page.png"))
    with Image.open(tmp_path / "page.png") as screenshot:
        assert screenshot.size == (VIEWPORT["width"], VIEWPORT["height"])
        assert np.asarray(screenshot.convert("L")).std() > 10  # not a blank page


def ones_and_twos_model(folder) -> str:
    pictures = np.random.default_rng(0).uniform(size=(20, 784))
    net = sn.NeuralNet([8, 1], random_state=0).fit(pictures, np.arange(20) % 2 + 1, n_iterations=1)
    net.save(folder / "model.npz")
    return folder / "model.npz"


def forwarded_to(url: str):
    return lambda route: route.continue_(url=url)


def test_a_server_restarted_with_another_model_is_followed_without_a_reload(browser, url, tmp_path):
    """The page was left open while the server came back with a model of the digits 1
    and 2: the next answer names another model, and the page describes that one (its
    bars, digits and invitation), never NaN for the digits it no longer has."""
    page = open_page(browser, url)
    try:
        draw(page, VERTICAL_STROKE)
        with served(ones_and_twos_model(tmp_path)) as other:
            for path in ("predict", "model"):
                page.route(f"**/{path}", forwarded_to(other + path))
            draw(page, [[(60.0, 60.0), (220.0, 60.0)]])
            seen = shown(page)
            assert sorted(seen["probabilities"]) == ["1", "2"], seen
            assert None not in seen["probabilities"].values()
            assert sum(seen["probabilities"].values()) == pytest.approx(1, abs=1e-6)
            assert "NaN" not in page.text_content("#bars")
            assert "digits 1 2" in page.text_content("#model-facts")
            assert page.text_content("#invitation").startswith("Draw one of the digits 1, 2")
            assert "mean activation" in seen["layers"][0]["caption"]  # sigmoid units
    finally:
        page.close()


def test_only_the_first_pointer_draws(page):
    """A second finger (or a palm) resting on the pad while the first draws adds nothing
    to the stroke; nor does a drag with the right mouse button."""
    on_screen = page.locator("#pad").bounding_box()
    page.mouse.move(on_screen["x"] + 140, on_screen["y"] + 45)
    page.mouse.down()
    page.evaluate(
        """([x, y]) => {
        for (const type of ["pointerdown", "pointermove", "pointermove", "pointerup"]) {
            pad.dispatchEvent(new PointerEvent(type, { pointerId: 7, clientX: x, clientY: y,
                                                       bubbles: true, button: 0 }));
        }
    }""",
        [on_screen["x"] + 20, on_screen["y"] + 240],
    )
    page.mouse.move(on_screen["x"] + 140, on_screen["y"] + 235, steps=4)
    page.mouse.up()
    settle(page)
    strokes = page.evaluate("() => state.strokes")
    assert len(strokes) == 1 and all(abs(x - 140) < 1 for x, _ in strokes[0])
    assert shown(page)["digit"] == "1"
    page.mouse.move(on_screen["x"] + 60, on_screen["y"] + 60)
    page.mouse.down(button="right")
    page.mouse.move(on_screen["x"] + 220, on_screen["y"] + 60, steps=4)
    page.mouse.up(button="right")
    assert len(page.evaluate("() => state.strokes")) == 1


def test_a_slow_answer_says_it_is_coming_and_a_proxys_error_page_is_named(page):
    held = []
    page.route("**/predict", lambda route: route.continue_() if held else held.append(route))
    draw(page, VERTICAL_STROKE, wait=False)
    page.wait_for_function("() => document.getElementById('status').textContent === 'Reading…'")
    held[0].continue_()
    settle(page)
    assert shown(page)["digit"] == "1"
    page.unroute("**/predict")
    page.route(
        "**/predict",
        lambda route: route.fulfill(status=502, body="<html><body>Bad Gateway</body></html>"),
    )
    draw(page, [[(60.0, 60.0), (220.0, 60.0)]])
    seen = shown(page)
    assert seen["status"].startswith("The server answered 502"), seen["status"]
    assert_shows_no_reading(seen)


def test_the_answer_reaches_a_screen_reader_and_focus_stays_on_the_pad(page):
    """The answer is a live region read whole, each bar names its digit and probability,
    the pictures are images, and Clear pressed from the keyboard leaves focus on the pad
    (not on the page's body, where Tab starts over)."""
    draw(page, VERTICAL_STROKE)
    seen = shown(page)
    answer = page.locator("#answer")
    assert (answer.get_attribute("aria-live"), answer.get_attribute("aria-atomic")) == (
        "polite",
        "true",
    )
    labels = page.eval_on_selector_all(
        ".bar", "bars => bars.map(bar => bar.getAttribute('aria-label'))"
    )
    assert labels == [f"{digit}: {seen['values'][str(digit)]}" for digit in range(10)]
    assert page.get_attribute("#bars", "role") == "list"
    roles = page.eval_on_selector_all(
        "canvas", "all => all.map(canvas => canvas.getAttribute('role'))"
    )
    assert roles == ["img"] * len(roles) and len(roles) == 3  # pad, input, one hidden layer
    page.focus("#clear")
    page.keyboard.press("Enter")
    assert page.evaluate("() => document.activeElement.id") == "pad"


def contrast(first: list[int], second: list[int]) -> float:
    """WCAG's contrast ratio of two sRGB colours (0..255 channels)."""

    def luminance(rgb):
        c = np.asarray(rgb, dtype=float) / 255
        linear = np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
        return float(linear @ [0.2126, 0.7152, 0.0722])

    high, low = sorted([luminance(first), luminance(second)], reverse=True)
    return (high + 0.05) / (low + 0.05)


def test_bars_and_the_pad_edge_stand_out_at_three_to_one(page):
    """WCAG 1.4.11: graphical objects need 3:1 against what is next to them."""
    draw(page, VERTICAL_STROKE)
    colours = page.evaluate(
        """() => {
        const rgb = (element, property) => getComputedStyle(element)[property]
            .match(/\\d+/g).slice(0, 3).map(Number);
        const other = document.querySelector('.bar:not(.best)');
        const best = document.querySelector('.bar.best');
        return {
            fill: rgb(other.querySelector('.fill'), 'backgroundColor'),
            best: rgb(best.querySelector('.fill'), 'backgroundColor'),
            track: rgb(other.querySelector('.track'), 'backgroundColor'),
            edge: rgb(pad, 'borderTopColor'),
            paper: rgb(pad.parentElement, 'backgroundColor'),
        };
    }"""
    )
    assert contrast(colours["fill"], colours["track"]) >= 3
    assert contrast(colours["best"], colours["track"]) >= 3
    assert contrast(colours["edge"], colours["paper"]) >= 3


def test_a_model_that_cannot_be_loaded_after_a_restart_is_said_and_asked_for_sparingly(
    browser, url, tmp_path
):
    """The server came back with another model but /model fails: the error stays on
    the page (an answer does not wipe it), the bars are the answer's own, and two
    drawings ask for /model once, not at every answer."""
    page = open_page(browser, url)
    asked = []

    def failing(route):
        asked.append(route.request.url)
        route.fulfill(status=502, body="<html>Bad Gateway</html>")

    try:
        draw(page, VERTICAL_STROKE)
        with served(ones_and_twos_model(tmp_path)) as other:
            page.route("**/predict", forwarded_to(other + "predict"))
            page.route("**/model", failing)
            draw(page, [[(60.0, 60.0), (220.0, 60.0)]])
            draw(page, [[(60.0, 200.0), (220.0, 200.0)]])
            seen = shown(page)
            assert seen["status"].startswith("Cannot load the model: The server answered 502")
            assert sorted(seen["probabilities"]) == ["1", "2"]
            assert None not in seen["probabilities"].values()
            assert len(asked) == 1
            # a slow answer said "Reading…", which then stood beside the answer for good
            page.route("**/predict", lambda route: (time.sleep(0.7), route.continue_(
                url=other + "predict")))  # fmt: skip
            draw(page, [[(60.0, 130.0), (220.0, 130.0)]])
            assert shown(page)["status"] == seen["status"]
    finally:
        page.close()


def test_a_late_first_model_answer_does_not_wipe_a_reading_shown_since(browser, url):
    """The first /model is held until an answer has been shown (which asked for the
    model again): the held one, when it comes, is dropped, the bars keep their values."""
    page = browser.new_page()
    held = []
    page.route("**/model", lambda route: route.continue_() if held else held.append(route))
    try:
        page.goto(url)
        while not held:
            page.wait_for_timeout(10)
        draw(page, VERTICAL_STROKE)
        assert shown(page)["digit"] == "1"
        with page.expect_response("**/model"):
            held[0].continue_()
        page.wait_for_timeout(200)  # the held answer has had its turn
        seen = shown(page)
        assert None not in seen["probabilities"].values() and "" not in seen["values"].values()
    finally:
        page.close()


def test_a_slow_upload_keeps_its_name_and_a_browser_without_abort_signal_timeout_works(
    browser, url, mnist_test, tmp_path
):
    page = browser.new_page()
    page.add_init_script("delete AbortSignal.timeout;")  # as Safari before 16
    try:
        page.goto(url)
        page.wait_for_selector(".bar", state="attached")
        held = []
        page.route("**/predict", lambda route: route.continue_() if held else held.append(route))
        path = tmp_path / "my seven.png"
        render_like_a_user(mnist_test[0][MNIST_SEVEN], np.random.default_rng(0)).save(path)
        page.set_input_files("#file", str(path))
        while not held:
            page.wait_for_timeout(10)
        page.wait_for_timeout(600)  # past the moment a drawing's status says "Reading…"
        assert page.text_content("#status") == "Reading my seven.png…"
        held[0].continue_()
        settle(page)
        assert shown(page)["digit"] == "7"
    finally:
        page.close()
