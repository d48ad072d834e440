"""``scratchnet predict``: the digit in image files.

Expected digits are MNIST's labels; expected probabilities come from tests/reference.py
(the network's function written plainly from its weights) on the input the reader makes.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import threading
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import scratchnet as sn
from scratchnet.app import models, run_folder
from scratchnet.app.commands.predict import PREVIEW_SUFFIX
from scratchnet.app.models import STARTER, STARTER_FOLDER

from .. import reference
from ..pictures import block_picture, encode, save_renderings
from .cli_helpers import assert_one_line_error, invoke

LINE = re.compile(r"^(.+): (\d) \(([<>]?\d+\.\d)%\), runner-up (\d) \(([<>]?\d+\.\d)%\)$")


def assert_shows(shown: str, probability: float) -> None:
    """One decimal of the percentage, or '>99.9' / '<0.1' where rounding would claim
    certainty."""
    if shown.startswith(">"):
        assert 99.9 < 100 * probability < 100
    elif shown.startswith("<"):
        assert 0 < 100 * probability < 0.1
    else:
        assert float(shown) == pytest.approx(100 * probability, abs=0.051)


@pytest.fixture(scope="module")
def mnist_test(mnist_dir):
    data = sn.load_mnist(range(10), mnist_dir, relabel=False)
    return data.x_test, data.y_test


@pytest.fixture
def drawings(mnist_test, tmp_path):
    """Twenty MNIST test digits drawn as users' images (PNG and JPEG) in a folder."""
    folder = tmp_path / "drawings"
    folder.mkdir()
    return save_renderings(mnist_test[0][:20], folder), mnist_test[1][:20]


def reference_probabilities(model_path, files) -> np.ndarray:
    net = sn.NeuralNet.load(model_path)
    return reference.probabilities(net, np.stack([sn.load_image(file) for file in files]))


def test_each_file_gets_its_digit_probability_and_runner_up(digits_model, drawings):
    files, labels = drawings
    outcome = invoke("predict", "--model", digits_model, *files)
    assert outcome.code == 0 and outcome.err == "", outcome
    lines = [LINE.match(line) for line in outcome.out.splitlines()]
    assert all(lines) and [line[1] for line in lines] == [str(file) for file in files]
    expected = reference_probabilities(digits_model, files)
    order = np.argsort(-expected, axis=1, kind="stable")
    for line, probabilities, ranked in zip(lines, expected, order, strict=True):
        assert (int(line[2]), int(line[4])) == (ranked[0], ranked[1])
        assert_shows(line[3], probabilities[ranked[0]])
        assert_shows(line[5], probabilities[ranked[1]])
    assert np.mean([int(line[2]) for line in lines] == labels) >= 0.9


def test_json_gives_every_class_probability(digits_model, drawings):
    files, _ = drawings
    outcome = invoke("predict", "--model", digits_model, "--json", files[0].parent)
    assert outcome.code == 0, outcome
    records = [json.loads(line) for line in outcome.out.splitlines()]
    assert [record["file"] for record in records] == [str(file) for file in files]
    expected = reference_probabilities(digits_model, files)
    for record, probabilities in zip(records, expected, strict=True):
        assert sorted(record["probabilities"]) == [str(digit) for digit in range(10)]
        given = np.array([record["probabilities"][str(digit)] for digit in range(10)])
        np.testing.assert_allclose(given, probabilities, atol=1e-6)
        assert given.sum() == pytest.approx(1, abs=1e-6)
        best, second = np.argsort(-probabilities, kind="stable")[:2]
        assert (record["prediction"], record["runner_up"]) == (best, second)
        assert record["probability"] == given[best]
        assert record["runner_up_probability"] == given[second]


def test_rendered_digits_score_within_a_point_of_the_arrays(digits_model, mnist_test, tmp_path):
    """The issue's measure: 1,000 MNIST test digits drawn black on white 280x280 canvases,
    moved and scaled, saved as PNG and JPEG, read by `scratchnet predict`: the accuracy is
    within one point of the same model's on the original arrays."""
    digits, labels = mnist_test[0][:1000], mnist_test[1][:1000]
    files = save_renderings(digits, tmp_path)
    outcome = invoke("predict", "--model", digits_model, "--json", tmp_path)
    assert outcome.code == 0, outcome.err
    records = [json.loads(line) for line in outcome.out.splitlines()]
    assert [record["file"] for record in records] == [str(file) for file in files]
    predicted = np.array([record["prediction"] for record in records])
    on_arrays = reference.accuracy(
        sn.NeuralNet.load(digits_model), digits.reshape(-1, 784) / 255, labels
    )
    on_images = np.mean(predicted == labels)
    on_png, on_jpeg = (
        np.mean(predicted[::2] == labels[::2]),
        np.mean(predicted[1::2] == labels[1::2]),
    )
    summary = (
        f"arrays {on_arrays:.2%}, images {on_images:.2%} (PNG {on_png:.2%}, JPEG {on_jpeg:.2%})"
    )
    assert on_arrays > 0.95, summary
    assert abs(on_images - on_arrays) <= 0.01, summary
    assert abs(on_png - on_arrays) <= 0.02 and abs(on_jpeg - on_arrays) <= 0.02, summary


def test_preview_writes_what_the_network_saw(digits_model, tmp_path):
    picture = tmp_path / "seven.png"
    picture.write_bytes(encode(block_picture(100, 60, (30, 20, 40, 10)), "PNG"))
    (tmp_path / "seven.jpg").write_bytes(encode(block_picture(100, 60, (30, 20, 40, 10)), "JPEG"))
    outcome = invoke("predict", "--model", digits_model, "--preview", tmp_path, tmp_path)
    assert outcome.code == 0, outcome
    written = sorted(path.name for path in tmp_path.iterdir())
    assert written == ["seven-2-28x28.png", "seven-28x28.png", "seven.jpg", "seven.png"]
    said = [line.split("; preview ") for line in outcome.out.splitlines()]  # which is whose
    assert [(LINE.match(line)[1], preview) for line, preview in said] == [
        (str(tmp_path / "seven.jpg"), str(tmp_path / "seven-28x28.png")),
        (str(tmp_path / "seven.png"), str(tmp_path / "seven-2-28x28.png")),
    ]
    with Image.open(tmp_path / "seven-2-28x28.png") as image:  # the second input, seven.png
        seen = np.asarray(image)
    np.testing.assert_array_equal(seen.ravel(), np.round(sn.load_image(picture) * 255))
    block = np.zeros((28, 28), dtype=np.uint8)
    block[5:25, 12:17] = 255  # a 40x10 block: 20x5, centred by mass (tests/data/test_images.py)
    np.testing.assert_array_equal(seen, block)


def test_a_preview_that_cannot_be_written_costs_no_reading(digits_model, tmp_path):
    """A folder where one preview goes: that file's error is said, every file is read."""
    for name in ("one.png", "two.png"):
        (tmp_path / name).write_bytes(encode(block_picture(100, 60, (30, 20, 40, 10)), "PNG"))
    (tmp_path / "previews" / "one-28x28.png").mkdir(parents=True)
    outcome = invoke("predict", "--model", digits_model, "--preview", tmp_path / "previews",
                     tmp_path / "one.png", tmp_path / "two.png")  # fmt: skip
    assert outcome.code == 2
    assert [line.split(":")[0] for line in outcome.out.splitlines()] == [
        str(tmp_path / "one.png"),
        str(tmp_path / "two.png"),
    ]
    blocked = tmp_path / "previews" / "one-28x28.png"
    assert outcome.err == f"scratchnet: error: cannot write {blocked} (it is a folder)\n"
    assert (tmp_path / "previews" / "two-28x28.png").is_file()


def test_preview_never_overwrites_an_input(digits_model, tmp_path):
    """An input named like a preview gets a numbered preview instead."""
    taken = tmp_path / "digit-28x28.png"
    original = encode(block_picture(100, 60, (30, 20, 40, 10)), "PNG")
    (tmp_path / "digit.png").write_bytes(original)
    taken.write_bytes(original)
    outcome = invoke(
        "predict", "--model", digits_model, "--preview", tmp_path, tmp_path / "digit.png", taken
    )
    assert outcome.code == 0, outcome
    assert taken.read_bytes() == original
    assert sorted(path.name for path in tmp_path.iterdir()) == [
        "digit-2-28x28.png", "digit-28x28-28x28.png", "digit-28x28.png", "digit.png",
    ]  # fmt: skip


def test_a_preview_name_held_by_a_link_is_refused_force_or_not(digits_model, tmp_path):
    """--force wrote the preview through the link, into the file it pointed to."""
    (tmp_path / "one.png").write_bytes(encode(block_picture(100, 60, (30, 20, 40, 10)), "PNG"))
    precious = tmp_path / "precious.txt"
    precious.write_text("precious\n")
    (tmp_path / "previews").mkdir()
    link = tmp_path / "previews" / "one-28x28.png"
    link.symlink_to(precious)
    for force in ([], ["--force"]):
        outcome = invoke("predict", "--model", digits_model, "--preview", tmp_path / "previews",
                         tmp_path / "one.png", *force)  # fmt: skip
        assert_one_line_error(outcome, f"--preview: {link} is a link")
        assert link.is_symlink() and precious.read_text() == "precious\n"


def test_a_preview_never_replaces_the_model_it_reads(digits_model, tmp_path):
    """A model named like a preview was replaced by the preview with --force (export
    already refused its model as --out)."""
    (tmp_path / "d0.png").write_bytes(encode(block_picture(100, 60, (30, 20, 40, 10)), "PNG"))
    model = tmp_path / "d0-28x28.png"
    model.write_bytes(digits_model.read_bytes())
    outcome = invoke("predict", "--model", model, "--preview", tmp_path, tmp_path / "d0.png",
                     "--force")  # fmt: skip
    assert outcome.code == 0, outcome
    assert model.read_bytes() == digits_model.read_bytes()
    assert (tmp_path / "d0-2-28x28.png").is_file()


def test_show_draws_the_input_in_the_terminal(digits_model, tmp_path):
    picture = tmp_path / "one.png"
    picture.write_bytes(encode(block_picture(100, 60, (30, 20, 40, 10)), "PNG"))
    outcome = invoke("predict", "--model", digits_model, "--show", picture)
    assert outcome.code == 0, outcome
    first, *drawing = outcome.out.splitlines()
    assert LINE.match(first)
    assert len(drawing) == 28 and {len(row) for row in drawing} == {56}
    inked_rows = [index for index, row in enumerate(drawing) if row.strip()]
    inked_columns = {index // 2 for row in drawing for index, char in enumerate(row) if char != " "}
    assert inked_rows == list(range(5, 25)) and inked_columns == set(range(12, 17))
    assert {row[24:34] for row in drawing[5:25]} == {"@" * 10}


def test_bad_files_get_one_line_each_and_the_rest_an_answer(digits_model, tmp_path):
    good = tmp_path / "good.png"
    good.write_bytes(encode(block_picture(100, 60, (30, 20, 40, 10)), "PNG"))
    (tmp_path / "text.png").write_bytes(b"not an image")
    (tmp_path / "empty.jpg").write_bytes(b"")
    (tmp_path / "blank.png").write_bytes(encode(np.full((30, 30), 255, np.uint8), "PNG"))
    (tmp_path / "notes.txt").write_text("not read, and named: not an image name")
    (tmp_path / ".hidden.png").write_bytes(b"not read: hidden, and named")
    empty_folder = tmp_path / "nothing"
    empty_folder.mkdir()
    outcome = invoke(
        "predict", "--model", digits_model, tmp_path, empty_folder, tmp_path / "gone.png"
    )
    assert outcome.code == 2
    assert [LINE.match(line)[1] for line in outcome.out.splitlines()] == [str(good)]
    assert "Traceback" not in outcome.err
    assert sorted(outcome.err.splitlines()) == sorted([
        f"scratchnet: error: {tmp_path / 'blank.png'}: the image is blank: no ink stands out "
        "from its background (contrast 0.000, lone specks left out as dirt; at least 0.1 of "
        "the full range is needed)",
        f"scratchnet: error: {tmp_path / 'empty.jpg'}: the file is empty (0 bytes), not an image",
        f"scratchnet: error: {tmp_path / 'text.png'}: not a PNG, JPEG, BMP, GIF or WebP image",
        f"scratchnet: error: {empty_folder}: a folder without PNG, JPEG, BMP, GIF or WebP images",
        f"scratchnet: error: {tmp_path / 'gone.png'}: cannot read it (No such file or directory)",
        f"scratchnet: {tmp_path}: 1 subfolder(s) not searched (nothing): --recursive reads them",
        f"scratchnet: {tmp_path}: 1 file(s) not read, their names not those of PNG, JPEG, BMP, "
        "GIF or WebP images (notes.txt)",
        f"scratchnet: {tmp_path}: 1 hidden file(s) not read (.hidden.png); name one to read it",
    ])  # fmt: skip


def test_with_json_a_file_that_fails_has_its_object_too_in_its_place(digits_model, tmp_path):
    """One JSON object per file, as the README says: a failure's names the file and the
    problem (the stderr line says the same)."""
    good = tmp_path / "b-good.png"
    good.write_bytes(encode(block_picture(100, 60, (30, 20, 40, 10)), "PNG"))
    (tmp_path / "a-text.png").write_bytes(b"not an image")
    empty_folder = tmp_path / "nothing"
    empty_folder.mkdir()
    outcome = invoke("predict", "--model", digits_model, "--json", tmp_path / "a-text.png", good,
                     empty_folder)  # fmt: skip
    assert outcome.code == 2
    records = [json.loads(line) for line in outcome.out.splitlines()]
    assert [record["file"] for record in records] == [
        str(tmp_path / "a-text.png"), str(good), str(empty_folder)
    ]  # fmt: skip
    problems = [f"{tmp_path / 'a-text.png'}: not a PNG, JPEG, BMP, GIF or WebP image",
                f"{empty_folder}: a folder without PNG, JPEG, BMP, GIF or WebP images"]  # fmt: skip
    assert [records[0], records[2]] == [
        {"file": str(tmp_path / "a-text.png"), "error": problems[0]},
        {"file": str(empty_folder), "error": problems[1]},
    ]
    assert "prediction" in records[1] and "error" not in records[1]
    assert outcome.err.splitlines() == [f"scratchnet: error: {problem}" for problem in problems]


@pytest.mark.parametrize(
    ("name", "shown"),
    [
        ("new\nline.png", "new\\nline.png"),
        ("esc\x1b[31mred.png", "esc\\x1b[31mred.png"),
        ("bell\x07.png", "bell\\x07.png"),
    ],
    ids=["line break", "escape sequence", "bell"],
)
def test_file_names_cannot_break_lines_or_drive_the_terminal(name, shown, digits_model, tmp_path):
    """Control characters of a file's name are written out, in answers and errors alike."""
    picture = encode(block_picture(100, 60, (30, 20, 40, 10)), "PNG")
    (tmp_path / name).write_bytes(picture)
    (tmp_path / f"bad-{name}").write_bytes(b"not an image")
    outcome = invoke("predict", "--model", digits_model, tmp_path / name, tmp_path / f"bad-{name}")
    assert outcome.code == 2
    assert outcome.out.startswith(f"{tmp_path}/{shown}: 1 (") and outcome.out.count("\n") == 1
    assert outcome.err == (
        f"scratchnet: error: {tmp_path}/bad-{shown}: not a PNG, JPEG, BMP, GIF or WebP image\n"
    )


def test_a_file_name_that_is_not_utf8_is_shown_with_its_bytes(digits_model, tmp_path):
    folder = os.fsencode(tmp_path)
    with open(folder + b"/caf\xe9.png", "wb") as file:  # Latin-1, as older systems name
        file.write(encode(block_picture(100, 60, (30, 20, 40, 10)), "PNG"))
    outcome = invoke("predict", "--model", digits_model, tmp_path)
    assert outcome.code == 0, outcome.err
    assert outcome.out.startswith(f"{tmp_path}/caf\\xe9.png: 1 (")
    as_json = invoke("predict", "--model", digits_model, "--json", tmp_path)
    assert as_json.code == 0, as_json.err
    # not a lone surrogate ("caf\udce9.png"), which strict JSON parsers refuse
    assert json.loads(as_json.out)["file"] == f"{tmp_path}/caf\\xe9.png"


def write_model_of_three_features(path):
    rng = np.random.default_rng(0)
    net = sn.NeuralNet([2], random_state=0)
    net.fit(rng.normal(size=(30, 3)), rng.integers(0, 2, 30), n_iterations=1)
    net.save(path)


@pytest.mark.parametrize(
    ("argv", "fragments"),
    [
        (["--json", "--show"], ["--show", "not allowed with argument --json"]),
        (["--model", "{tmp}/missing.npz"], ["missing.npz", "no such model file"]),
        (["--model", "{tmp}/three.npz"], ["three.npz reads 3 inputs, not the 28x28 = 784"]),
        (["--model", "{tmp}/regressor.npz"], ["regressor.npz: a regression model (identity"]),
        (
            ["--model", "{tmp}/not-digits.npz"],  # it answered '7000 (>99.9%)'
            ["not-digits.npz: its classes are not MNIST digits"],
        ),
        (["--preview", "{tmp}/file.txt"], ["--preview", "file.txt is a file, not a folder"]),
        (
            ["--preview", "{tmp}/file.txt/inside"],
            ["cannot create the folder", "for --preview (a part of its path is a file"],
        ),
    ],
    ids=[
        "json and show",
        "missing model",
        "model of 3 features",
        "regression model",
        "classes not digits",
        "preview is a file",
        "preview under a file",
    ],
)
def test_bad_options_are_one_line_errors(argv, fragments, digits_model, tmp_path):
    write_model_of_three_features(tmp_path / "three.npz")
    rng = np.random.default_rng(0)
    sn.NeuralNetRegressor([1]).fit(rng.random((20, 784)), rng.random(20), n_iterations=1).save(
        tmp_path / "regressor.npz"
    )
    sn.NeuralNet([2]).fit(rng.random((20, 784)), np.repeat([7, 7000], 10), n_iterations=1).save(
        tmp_path / "not-digits.npz"
    )
    (tmp_path / "file.txt").write_text("a file")
    picture = tmp_path / "digit.png"
    picture.write_bytes(encode(block_picture(100, 60, (30, 20, 40, 10)), "PNG"))
    argv = [arg.format(tmp=tmp_path) for arg in argv]
    model = [] if "--model" in argv else ["--model", digits_model]
    outcome = invoke("predict", *model, *argv, picture)
    assert_one_line_error(outcome, *fragments)
    assert outcome.out == ""


def test_without_a_model_the_newest_run_is_used(digits_model, tmp_path, monkeypatch):
    for name, age in (("old", 100), ("new", 10)):
        (tmp_path / "runs" / name).mkdir(parents=True)
        (tmp_path / "runs" / name / "model.npz").write_bytes(digits_model.read_bytes())
        stamp = os.path.getmtime(digits_model) - age
        os.utime(tmp_path / "runs" / name / "model.npz", (stamp, stamp))
    picture = tmp_path / "digit.png"
    picture.write_bytes(encode(block_picture(100, 60, (30, 20, 40, 10)), "PNG"))
    monkeypatch.chdir(tmp_path)
    outcome = invoke("predict", "digit.png")
    assert outcome.code == 0, outcome
    used = os.path.join("runs", "new", "model.npz")
    assert outcome.err == f"scratchnet: using the model {used} (digits 0 1 2 3 4 5 6 7 8 9)\n"
    assert LINE.match(outcome.out.strip())


def test_without_any_model_a_starter_is_trained_once_and_cached(mnist_dir, tmp_path, monkeypatch):
    """With the starter recipe cut to one epoch of a smaller network, to keep the test short."""
    short = replace(STARTER, hidden=(32,), epochs=1)
    monkeypatch.setattr(models, "STARTER", short)
    monkeypatch.chdir(tmp_path)
    picture = tmp_path / "digit.png"
    picture.write_bytes(encode(block_picture(100, 60, (30, 20, 40, 10)), "PNG"))
    first = invoke("predict", "--data-dir", mnist_dir, "digit.png")
    assert first.code == 0, first
    cached = sn.data.mnist.cache_dir() / STARTER_FOLDER / "model.npz"
    used = f"using the model {cached} (digits 0 1 2 3 4 5 6 7 8 9)"
    assert "training the starter model" in first.err and used in first.err
    second = invoke("predict", "--data-dir", mnist_dir, "digit.png")
    assert second.err == f"scratchnet: {used}\n" and second.out == first.out
    metrics = json.loads((cached.parent / "metrics.json").read_text())
    net = sn.NeuralNet.load(cached)
    assert net.layer_sizes == (32, 10) and net.classes.tolist() == list(range(10))
    data = sn.load_mnist(range(10), mnist_dir, relabel=False)
    X_test = data.x_test.reshape(-1, 784) / 255
    assert metrics["test_accuracy"] == pytest.approx(reference.accuracy(net, X_test, data.y_test))
    assert metrics["test_accuracy"] > 0.9
    assert metrics["config"] == json.loads(json.dumps(short.to_dict()))
    report = invoke("report", cached.parent, "--data-dir", mnist_dir)  # a run like any other
    assert report.code == 0, report
    assert (
        "scratchnet train --preset starter --hidden 32 --epochs 1"
        in (cached.parent / "report.html").read_text()
    )
    cached.write_bytes(cached.read_bytes()[:1000])  # a disk that filled, say
    again = invoke("predict", "--data-dir", mnist_dir, "digit.png")  # it said so each time
    assert again.code == 0 and again.out == first.out, again
    assert again.err.startswith(f"scratchnet: {cached}: not a scratchnet model (")
    assert "; training the starter model again, a few seconds\n" in again.err
    assert sn.NeuralNet.load(cached).layer_sizes == (32, 10)
    other = sn.NeuralNet([4, 10], random_state=0).fit(np.eye(100)[:20], np.arange(20) % 10 + 10)
    other.save(cached)  # reads 100 inputs into classes 10..19: failed every time as well
    again = invoke("predict", "--data-dir", mnist_dir, "digit.png")
    assert again.code == 0 and again.out == first.out, again
    assert again.err.startswith(f"scratchnet: {cached} reads 100 inputs, not the 28")
    assert "; training the starter model again, a few seconds\n" in again.err


def test_commands_wait_for_the_starter_the_first_is_training(digits_model):
    """The first command holds the starter's folder while it trains; three more say whom
    they wait for, then use the model it published (one after another: each finds the
    lock file the one before removed, which costs no try)."""
    folder = sn.data.mnist.cache_dir() / STARTER_FOLDER
    folder.mkdir(parents=True)
    training = run_folder.FolderLock(folder)
    training.acquire()
    said, chosen = [], []

    def wait_for_the_starter():
        chosen.append(models.starter_model(None, said.append))

    waiting = [threading.Thread(target=wait_for_the_starter, daemon=True) for _ in range(3)]
    for thread in waiting:
        thread.start()
    deadline = time.monotonic() + 30
    while len(said) < 3 and time.monotonic() < deadline:
        time.sleep(0.01)
    shutil.copyfile(digits_model, folder / "model.npz")  # what the first one publishes
    training.release()
    for thread in waiting:
        thread.join(30)
    assert chosen == [folder / "model.npz"] * 3
    who = f"scratchnet process {os.getpid()} on {socket.gethostname()}"
    assert said == [f"waiting for {who}, which is training the starter model"] * 3
    assert sorted(path.name for path in folder.iterdir()) == ["model.npz"]  # no lock, no staging


def test_a_file_name_with_a_line_break_keeps_its_error_on_one_line(digits_model, tmp_path):
    odd = tmp_path / "two\nlines.png"
    odd.write_text("not an image")
    outcome = invoke("predict", "--model", digits_model, odd)
    assert outcome.code == 2
    assert outcome.err.splitlines() == [
        f"scratchnet: error: {tmp_path}/two\\nlines.png: not a PNG, JPEG, BMP, GIF or WebP image"
    ]
    missing = invoke("evaluate", "--model", tmp_path / "gone\nmodel.npz")
    assert_one_line_error(missing, "gone\\nmodel.npz: no such model file")


def test_a_probability_rounded_to_one_is_not_printed_as_certainty(capsys):
    """float32's softmax of a wide logit gap is exactly 1.0: printed '>99.9%', not 100%."""
    from argparse import Namespace

    from scratchnet.app.commands.predict import print_reading
    from scratchnet.app.readings import Reading

    reading = Reading((7, 3), (1.0, 0.0))
    print_reading(Path("seven.png"), np.zeros(784), reading, Namespace(json=False, show=False),
                  None)  # fmt: skip
    assert capsys.readouterr().out == "seven.png: 7 (>99.9%), runner-up 3 (<0.1%)\n"


def seven(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(encode(block_picture(100, 60, (30, 20, 40, 10)), "PNG"))
    return path


def test_a_folders_subfolders_are_read_with_recursive_and_named_without(digits_model, tmp_path):
    """Digits sorted into a folder per label, as people keep them: without --recursive
    the answer says which subfolders it did not search; with it, every image, in order."""
    files = [seven(tmp_path / name) for name in ("a.png", "0/b.png", "0/deep/c.png", "1/d.png")]
    seven(tmp_path / ".hidden/e.png")
    outcome = invoke("predict", "--model", digits_model, tmp_path)
    assert outcome.code == 0
    assert [LINE.match(line)[1] for line in outcome.out.splitlines()] == [str(files[0])]
    assert outcome.err == (
        f"scratchnet: {tmp_path}: 2 subfolder(s) not searched (0, 1): --recursive reads them\n"
    )
    outcome = invoke("predict", "--model", digits_model, "--recursive", tmp_path)
    assert outcome.code == 0 and outcome.err == ""
    assert [LINE.match(line)[1] for line in outcome.out.splitlines()] == [
        str(file) for file in files
    ]


def test_files_a_folders_search_leaves_out_by_their_names_are_named(digits_model, tmp_path):
    """A TIFF and a PNG without an extension were skipped without a word, and so were
    hidden files named as images; other hidden files are left out silently, as hidden
    subfolders are."""
    image = seven(tmp_path / "a.png")
    for name in ("scan.tiff", "noext", "notes.txt", "sub/b.bmp2"):
        (tmp_path / name).parent.mkdir(exist_ok=True)
        (tmp_path / name).write_bytes(image.read_bytes())
    (tmp_path / ".DS_Store").write_bytes(b"hidden")
    (tmp_path / "sub" / "._b.PNG").write_bytes(image.read_bytes())  # macOS's resource copy
    outcome = invoke("predict", "--model", digits_model, "--recursive", tmp_path)
    assert outcome.code == 0, outcome
    assert [LINE.match(line)[1] for line in outcome.out.splitlines()] == [str(image)]
    assert outcome.err == (
        f"scratchnet: {tmp_path}: 4 file(s) not read, their names not those of PNG, JPEG, "
        "BMP, GIF or WebP images (noext, notes.txt, scan.tiff, ...)\n"
        f"scratchnet: {tmp_path}: 1 hidden file(s) not read (sub/._b.PNG); name one to read it\n"
    )


def test_a_model_file_given_as_an_image_is_told_where_it_goes(digits_model):
    """'scratchnet predict model.npz digit.png' reads the model as a picture."""
    assert_one_line_error(
        invoke("predict", "--model", digits_model, digits_model),
        f"{digits_model}: not a PNG, JPEG, BMP, GIF or WebP image; a model file? give it with "
        "--model",
    )


def test_a_folder_with_images_only_in_subfolders_says_so(digits_model, tmp_path):
    seven(tmp_path / "2024" / "batch1" / "a.png")
    assert_one_line_error(
        invoke("predict", "--model", digits_model, tmp_path),
        f"{tmp_path}: a folder without PNG, JPEG, BMP, GIF or WebP images directly in it; "
        "1 subfolder(s) not searched (2024): --recursive reads them",
    )


def test_each_answer_is_given_before_the_next_file_is_read(digits_model, tmp_path, monkeypatch):
    """A Ctrl-C while the third file is read keeps the first two answers."""
    files = [seven(tmp_path / f"{name}.png") for name in "abc"]
    from scratchnet.app.commands import predict

    read = predict.load_image

    def interrupted_at_the_third(path):
        if path == files[2]:
            raise KeyboardInterrupt
        return read(path)

    monkeypatch.setattr(predict, "load_image", interrupted_at_the_third)
    outcome = invoke("predict", "--model", digits_model, *files)
    assert outcome.code == 130
    assert [LINE.match(line)[1] for line in outcome.out.splitlines()] == [
        str(files[0]),
        str(files[1]),
    ]


def test_an_empty_file_name_is_refused_not_read_as_the_current_folder(tmp_path):
    outcome = invoke("predict", "")
    assert outcome.code == 2
    assert "argument FILE: an empty path (is a shell variable unset?)" in outcome.err


def test_preview_refuses_a_file_of_the_users_before_reading_any_image(digits_model, tmp_path):
    """A file named like a preview that scratchnet did not write is kept: refused before
    any answer, unless --force; a preview of an earlier run is replaced."""
    picture = seven(tmp_path / "seven.png")
    previews = tmp_path / "previews"
    previews.mkdir()
    mine = previews / "seven-28x28.png"
    mine.write_bytes(encode(block_picture(28, 28, (4, 4, 20, 4)), "PNG"))
    kept = mine.read_bytes()
    outcome = invoke("predict", "--model", digits_model, "--preview", previews, picture)
    assert_one_line_error(
        outcome,
        f"--preview: {mine} already exists and is not a preview scratchnet wrote",
        "--force",
    )
    assert outcome.out == "" and mine.read_bytes() == kept
    assert invoke("predict", "--model", digits_model, "--preview", previews, "--force",
                  picture).code == 0  # fmt: skip
    assert mine.read_bytes() != kept
    again = invoke("predict", "--model", digits_model, "--preview", previews, picture)
    assert again.code == 0, again


def test_a_folder_that_cannot_be_read_is_a_failure_in_its_place(
    digits_model, tmp_path, monkeypatch
):
    """A subfolder the system refuses (no permission) gets its line and its JSON object,
    and the exit status says something failed; the other images are answered."""
    good = seven(tmp_path / "a.png")
    refused = tmp_path / "sub"
    seven(refused / "b.png")
    scandir = os.scandir

    def refusing(path="."):
        if Path(path) == refused:
            raise PermissionError(13, "Permission denied", str(path))
        return scandir(path)

    monkeypatch.setattr(os, "scandir", refusing)
    outcome = invoke("predict", "--model", digits_model, "--json", "--recursive", tmp_path)
    assert outcome.code == 2
    records = [json.loads(line) for line in outcome.out.splitlines()]
    assert [record["file"] for record in records] == [str(good), str(refused)]
    assert records[1]["error"] == f"{refused}: cannot read the folder (Permission denied)"


def test_a_link_to_a_folder_is_not_named_as_a_subfolder_recursive_would_read(
    digits_model, tmp_path
):
    """os.walk does not follow links to folders, so the note must not promise them."""
    picture = seven(tmp_path / "digits" / "a.png")
    seven(tmp_path / "elsewhere" / "b.png")
    (tmp_path / "digits" / "linked").symlink_to(tmp_path / "elsewhere")
    for options in ([], ["--recursive"]):
        outcome = invoke("predict", "--model", digits_model, *options, tmp_path / "digits")
        assert outcome.code == 0 and outcome.err == "", outcome
        assert [LINE.match(line)[1] for line in outcome.out.splitlines()] == [str(picture)]


def test_force_without_preview_is_refused(digits_model, tmp_path):
    """It replaces preview files; without --preview it did nothing, silently."""
    outcome = invoke("predict", "--model", digits_model, "--force", seven(tmp_path / "7.png"))
    assert_one_line_error(outcome, "--force replaces preview files: it only works with --preview")
    assert outcome.out == ""


def test_a_refused_start_leaves_no_preview_folder_and_folders_get_no_preview_name(
    digits_model, tmp_path
):
    """A missing model stops predict before the preview folder is made; a folder without
    images takes no preview name, so a file of the user's named like it is no obstacle."""
    picture = seven(tmp_path / "a.png")
    previews = tmp_path / "previews"
    outcome = invoke("predict", "--model", tmp_path / "none.npz", "--preview", previews, picture)
    assert outcome.code == 2 and not previews.exists()
    (tmp_path / "empty").mkdir()
    previews.mkdir()
    (previews / f"empty{PREVIEW_SUFFIX}").write_bytes(b"the user's")
    outcome = invoke("predict", "--model", digits_model, "--preview", previews, tmp_path / "empty",
                     picture)  # fmt: skip
    assert outcome.code == 2 and "a folder without" in outcome.err  # the empty folder
    assert (previews / f"a{PREVIEW_SUFFIX}").is_file()
    assert (previews / f"empty{PREVIEW_SUFFIX}").read_bytes() == b"the user's"
