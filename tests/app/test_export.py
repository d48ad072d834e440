"""``scratchnet export``: a saved model as an ONNX file that onnxruntime runs, and its
user errors as one line with exit status 2."""

from __future__ import annotations

import os
import stat
import subprocess
import sys

import numpy as np
import onnx
import onnxruntime
import pytest

import scratchnet as sn

from .cli_helpers import assert_one_line_error, invoke


def saved(tmp_path, blobs, kind="classifier"):
    X, y = blobs
    if kind == "classifier":
        net = sn.NeuralNet([6, 1], activation="relu", random_state=0).fit(X, y, n_iterations=5)
    else:
        net = sn.NeuralNetRegressor([6, 1], random_state=0).fit(X, X[:, 0], n_iterations=5)
    net.save(tmp_path / "model.npz")
    return net, tmp_path / "model.npz"


def outputs_of(path, X):
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return session.run(None, {"X": X})


def test_export_writes_an_onnx_file_that_computes_the_models_probabilities(blobs, tmp_path):
    net, model = saved(tmp_path, blobs)
    outcome = invoke("export", "--model", model, "--out", tmp_path / "model.onnx")
    assert outcome.code == 0, outcome
    assert outcome.out == (
        f"wrote {tmp_path / 'model.onnx'}: ONNX opset 17, input X (batch, 6) float64, "
        "outputs probabilities and label\n"
    )
    probabilities, labels = outputs_of(tmp_path / "model.onnx", blobs[0])
    np.testing.assert_allclose(probabilities, net.predict_proba(blobs[0]), rtol=1e-12)
    np.testing.assert_array_equal(labels, net.predict(blobs[0]))


def test_export_of_a_regressor_in_float32(blobs, tmp_path):
    net, model = saved(tmp_path, blobs, "regressor")
    out = tmp_path / "regressor.onnx"
    outcome = invoke("export", "--model", model, "--out", out, "--dtype", "float32")
    assert outcome.code == 0, outcome
    assert "float32, outputs predictions" in outcome.out
    (predictions,) = outputs_of(out, blobs[0].astype(np.float32))
    np.testing.assert_allclose(predictions[:, 0], net.predict(blobs[0]), rtol=1e-5, atol=1e-5)


def test_export_writes_model_onnx_by_default(blobs, tmp_path, monkeypatch):
    _, model = saved(tmp_path, blobs)
    monkeypatch.chdir(tmp_path)
    assert invoke("export", "--model", model).code == 0
    assert (tmp_path / "model.onnx").is_file()


@pytest.mark.parametrize(
    ("command", "option"),
    [
        (["export", "--model", "{model}", "--out", "{folder}/e.onnx/"], "argument --out"),
        (["export", "--model", "{model}/", "--out", "{folder}/e.onnx"], "argument --model"),
        (["evaluate", "{model}/"], "argument model"),
        (["evaluate", "--model", "{model}/"], "argument --model"),
        (["predict", "--model", "{model}/", "{folder}/x.png"], "argument --model"),
        (["serve", "--model", "{model}/"], "argument --model"),
    ],
    ids=["export-out", "export-model", "evaluate", "evaluate-model", "predict", "serve"],
)
def test_a_file_option_ending_in_a_slash_is_refused_not_read_as_the_file(
    command, option, blobs, tmp_path
):
    """Path("e.onnx/") is Path("e.onnx"): export wrote the file e.onnx where the name
    asked for a folder, and the readers read model.npz given as model.npz/."""
    _, model = saved(tmp_path, blobs)
    words = [word.format(model=model, folder=tmp_path) for word in command]
    outcome = invoke(*words)
    slashed = next(word for word in words if word.endswith("/"))
    assert_one_line_error(
        outcome, f"{option}: {slashed} ends in '/', the name of a folder; give a file's name"
    )
    assert sorted(os.listdir(tmp_path)) == ["model.npz"]


def test_a_missing_model_is_one_line_error(tmp_path):
    outcome = invoke("export", "--model", tmp_path / "none.npz", "--out", tmp_path / "m.onnx")
    assert_one_line_error(outcome, "none.npz")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("out", "fragment"),
    [
        ("folder", "(it is a folder)"),
        ("nowhere/m.onnx", "(its folder {tmp}/nowhere does not exist)"),
    ],
    ids=["a folder", "a missing folder"],
)
def test_an_out_that_cannot_be_written_is_named_in_one_line(blobs, tmp_path, out, fragment):
    """The message names the user's path, never the temporary file beside it."""
    _, model = saved(tmp_path, blobs)
    (tmp_path / "folder").mkdir()
    outcome = invoke("export", "--model", model, "--out", tmp_path / out)
    line = assert_one_line_error(outcome, f"cannot write {tmp_path / out} ",
                                 fragment.format(tmp=tmp_path))  # fmt: skip
    assert ".tmp" not in line
    assert sorted(p.name for p in tmp_path.iterdir()) == ["folder", "model.npz"]


@pytest.mark.parametrize(
    ("out", "message"),
    [
        (".", "cannot write . (it is a folder)"),
        ("..", "cannot write .. (it is a folder)"),
        ("/", "argument --out: / ends in '/', the name of a folder"),
    ],
)
def test_an_out_that_names_no_file_is_a_folder_in_one_line(
    blobs, tmp_path, monkeypatch, out, message
):
    _, model = saved(tmp_path, blobs)
    monkeypatch.chdir(tmp_path)
    outcome = invoke("export", "--model", model, "--out", out)
    assert_one_line_error(outcome, message)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.npz"]


def test_without_the_model_option_argparse_says_so(tmp_path):
    assert_one_line_error(invoke("export"), "--model")


def test_without_onnx_the_error_names_the_extra(blobs, tmp_path, monkeypatch):
    _, model = saved(tmp_path, blobs)
    monkeypatch.setitem(sys.modules, "onnx", None)
    monkeypatch.delitem(sys.modules, "scratchnet.interop.onnx", raising=False)
    outcome = invoke("export", "--model", model, "--out", tmp_path / "model.onnx")
    assert_one_line_error(outcome, "pip install 'scratchnet[onnx]'")
    assert not (tmp_path / "model.onnx").exists()


@pytest.mark.parametrize("dtype", ["float16", "int8"])
def test_a_dtype_other_than_float32_or_float64_is_refused(blobs, tmp_path, dtype):
    _, model = saved(tmp_path, blobs)
    outcome = invoke("export", "--model", model, "--dtype", dtype)
    assert_one_line_error(outcome, "--dtype", dtype)


def test_an_out_that_is_the_model_itself_is_refused_and_the_model_kept(blobs, tmp_path):
    """It used to be replaced by the ONNX file: the run's model was gone."""
    _, model = saved(tmp_path, blobs)
    (tmp_path / "link.npz").symlink_to(model)
    before = model.read_bytes()
    for out in (model, tmp_path / "link.npz", tmp_path / "." / "model.npz"):
        outcome = invoke("export", "--model", model, "--out", out)
        assert_one_line_error(outcome, f"--out {out} is the model file itself")
    assert model.read_bytes() == before


def test_a_model_too_large_for_an_onnx_file_is_refused_in_one_line(blobs, tmp_path, monkeypatch):
    """An ONNX file is one protobuf message, at most 2 GiB: a model of 2**28 float64
    weights failed in protobuf with a traceback. Here the limit is lowered instead."""
    _, model = saved(tmp_path, blobs)  # 6 * 6 + 6 + 6 + 1 = 49 weights
    monkeypatch.setattr("scratchnet.interop.onnx.MAX_WEIGHT_BYTES", 48 * 8)
    outcome = invoke("export", "--model", model, "--out", tmp_path / "m.onnx")
    assert_one_line_error(outcome, "the model's 49 weights take 392 bytes in float64, more than "
                          "the 384 an ONNX file can hold (export it in float32)")  # fmt: skip
    assert invoke("export", "--model", model, "--out", tmp_path / "m.onnx",
                  "--dtype", "float32").code == 0  # fmt: skip
    assert sorted(path.name for path in tmp_path.iterdir()) == ["m.onnx", "model.npz"]


def test_a_reader_that_leaves_ends_the_command_quietly_with_sigpipes_status(blobs, tmp_path):
    """'scratchnet export ... | true' said 'error: Broken pipe' with status 2, though the
    file was written: now nothing is said and the status is SIGPIPE's, as for other tools."""
    net, model = saved(tmp_path, blobs)
    command = [sys.executable, "-m", "scratchnet", "export", "--model", str(model), "--out",
               str(tmp_path / "m.onnx")]  # fmt: skip
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    process.stdout.close()  # the reader leaves before the command prints its line
    assert (process.wait(timeout=120), process.stderr.read()) == (141, b"")
    probabilities, _ = outputs_of(tmp_path / "m.onnx", blobs[0])
    np.testing.assert_allclose(probabilities, net.predict_proba(blobs[0]), rtol=1e-12)


def test_export_never_replaces_a_file_scratchnet_did_not_write(blobs, tmp_path):
    """Another model given as --out by mistake is kept (refused, unless --force); an
    ONNX file scratchnet wrote is replaced by the next export."""
    _, model = saved(tmp_path, blobs)
    other = tmp_path / "other.npz"
    sn.NeuralNet([6, 1], random_state=1).fit(*blobs, n_iterations=2).save(other)
    kept = other.read_bytes()
    outcome = invoke("export", "--model", model, "--out", other)
    assert_one_line_error(
        outcome,
        f"--out: {other} already exists and is not an ONNX model scratchnet wrote",
        "--force",
    )
    assert other.read_bytes() == kept
    onnx_file = tmp_path / "model.onnx"
    assert invoke("export", "--model", model, "--out", onnx_file).code == 0
    assert invoke("export", "--model", model, "--out", onnx_file, "--dtype", "float32").code == 0
    assert outputs_of(onnx_file, blobs[0].astype(np.float32))[0].dtype == np.float32
    assert invoke("export", "--model", model, "--out", other, "--force").code == 0
    assert outputs_of(other, blobs[0])[0].shape == (len(blobs[0]), 2)


def test_an_onnx_file_of_another_producer_or_a_link_is_not_replaced(blobs, tmp_path):
    _, model = saved(tmp_path, blobs)
    theirs = tmp_path / "theirs.onnx"
    graph = onnx.helper.make_graph([], "g", [], [])
    onnx.save(onnx.helper.make_model(graph, producer_name="pytorch"), theirs)
    link = tmp_path / "link.onnx"
    link.symlink_to(tmp_path / "model.onnx")  # a name that points elsewhere
    assert invoke("export", "--model", model, "--out", tmp_path / "model.onnx").code == 0
    assert_one_line_error(
        invoke("export", "--model", model, "--out", theirs), "is not an ONNX model scratchnet wrote"
    )
    assert_one_line_error(invoke("export", "--model", model, "--out", link), "is a link")


def test_a_figure_scratchnet_wrote_is_not_an_onnx_model_to_replace(blobs, tmp_path):
    """It carries scratchnet's mark, of a figure: the refusal said it carried none."""
    _, model = saved(tmp_path, blobs)
    assert invoke("figures", "--out", tmp_path).code == 0
    figure = tmp_path / "sigmoid.png"
    kept = figure.read_bytes()
    assert_one_line_error(
        invoke("export", "--model", model, "--out", figure),
        f"--out: {figure} already exists and is not an ONNX model scratchnet wrote",
    )
    assert figure.read_bytes() == kept


@pytest.mark.parametrize("force", [[], ["--force"]], ids=["", "force"])
def test_force_never_replaces_a_fifo_with_a_file(blobs, tmp_path, force):
    """--force replaces files: a FIFO (or a device: --out /dev/full run as root) was
    replaced by the ONNX file. Without --force, the refusal does not suggest it."""
    _, model = saved(tmp_path, blobs)
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    outcome = invoke("export", "--model", model, "--out", fifo, *force)
    line = assert_one_line_error(
        outcome, f"--out: {fifo}: it is a device, a FIFO or a socket, not a regular file"
    )
    assert "--force" not in line
    assert stat.S_ISFIFO(fifo.lstat().st_mode)


def test_force_neither_writes_through_a_link_nor_removes_it(blobs, tmp_path):
    """--force wrote the ONNX file through the link: a trial's link to /etc/passwd
    replaced the system's user list. Removing the link instead lost it whenever the
    command failed after the check (a review)."""
    _, model = saved(tmp_path, blobs)
    precious = tmp_path / "precious.txt"
    precious.write_text("precious\n")
    (tmp_path / "folder").mkdir()
    for target in (precious, tmp_path / "folder", tmp_path / "nothing"):
        link = tmp_path / f"to-{target.name}.onnx"
        link.symlink_to(target)
        outcome = invoke("export", "--model", model, "--out", link, "--force")
        assert_one_line_error(outcome, f"--out: {link} is a link; scratchnet neither writes "
                              "through a link")  # fmt: skip
        assert link.is_symlink() and os.readlink(link) == str(target)
    assert precious.read_text() == "precious\n"
