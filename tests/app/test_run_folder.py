"""Run folders that cannot lose anything, checkpoints and resume from the command line,
and the checks made before training: each case of issue 8 as a test."""

from __future__ import annotations

import io
import json
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from PIL.PngImagePlugin import PngInfo

from scratchnet import NeuralNet
from scratchnet.app import run_folder
from scratchnet.app.arguments import error_message
from scratchnet.app.experiment import RUN_FILES
from scratchnet.training.callbacks import ProgressBar

from .cli_helpers import (
    MINI_BATCH_RUN_FILES,
    TUTORIAL_RUN_FILES,
    assert_one_line_error,
    invoke,
    read_metrics,
)

# a mini-batch run with dropout, a few seconds long
MINI_BATCH = ["--preset", "one-two", "--hidden", "32", "--epochs", "4", "--seed", "3"]
FULL_BATCH = ["--iterations", "12", "--seed", "3", "--learning-rate", "0.3"]


def train(mnist_dir, out, *options, quiet=True):
    return invoke(
        "train", "--data-dir", mnist_dir, "--out", out, *options, *(["--quiet"] if quiet else [])
    )


def names(folder: Path) -> list[str]:
    return sorted(entry.name for entry in folder.iterdir())


def interrupt_at_epoch(monkeypatch, epoch: int, action=None):
    """Ctrl-C at the end of ``epoch`` (the progress display runs its hooks), after
    ``action`` runs there."""

    def on_epoch_end(self, done, record):
        if done == epoch:
            if action:
                action()
            raise KeyboardInterrupt

    monkeypatch.setattr(ProgressBar, "on_epoch_end", on_epoch_end)


def interrupt(*args, **kwargs):
    """Stands for a function that meets a Ctrl-C."""
    raise KeyboardInterrupt


def stop_at_epoch_2(mnist_dir, out: Path, monkeypatch) -> None:
    """A MINI_BATCH run into ``out`` stopped by a Ctrl-C after its second epoch."""
    with monkeypatch.context() as patch:
        interrupt_at_epoch(patch, 2)
        assert train(mnist_dir, out, *MINI_BATCH, quiet=False).code == 130


def model_arrays(path: Path) -> dict[str, np.ndarray]:
    with np.load(path, allow_pickle=False) as archive:
        return {name: archive[name] for name in archive.files}


# -- interruptions and resume -----------------------------------------------------------------


def test_the_command_to_go_on_can_be_pasted_whatever_the_folder_is_called(
    mnist_dir, tmp_path, monkeypatch
):
    out = tmp_path / "Anne's run $HOME"
    with monkeypatch.context() as patch:
        interrupt_at_epoch(patch, 1)
        outcome = train(mnist_dir, out, *FULL_BATCH, "--checkpoint-every", "1", quiet=False)
    assert outcome.code == 130
    command = outcome.err.splitlines()[-1].split("; continue with: ")[1]
    assert shlex.split(command) == [
        "scratchnet", "train", "--resume", str(out), "--data-dir", str(mnist_dir)
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("options", "stop", "kept"),
    [
        (FULL_BATCH, 7, "7 iterations"),
        (MINI_BATCH, 2, "2 epochs"),
        ([*MINI_BATCH, "--batch-size", "20000", "--epochs", "9"], 7, "7 iterations"),
    ],
    ids=["full batch", "mini-batch", "a batch of every row"],  # (as its console counts)
)
def test_an_interrupted_run_resumes_to_the_uninterrupted_model(
    options, stop, kept, mnist_dir, tmp_path, monkeypatch
):
    """Checkpoints every 3 epochs; a Ctrl-C as epoch ``stop`` is shown (not a
    checkpoint's epoch) keeps the epoch shown: ``kept``."""
    assert train(mnist_dir, tmp_path / "whole", *options).code == 0
    with monkeypatch.context() as patch:
        interrupt_at_epoch(patch, stop)
        outcome = train(mnist_dir, tmp_path / "run", *options, "--checkpoint-every", "3",
                        quiet=False)  # fmt: skip
    assert outcome.code == 130
    assert outcome.err.splitlines()[-1] == (  # one line, after the progress display's
        f"scratchnet: interrupted; checkpoint.npz kept after {kept}; "
        f"continue with: scratchnet train --resume {tmp_path / 'run'} --data-dir {mnist_dir}"
    )
    assert names(tmp_path / "run") == ["checkpoint.npz"]  # no lock, staging or results
    resumed = invoke("train", "--resume", tmp_path / "run", "--quiet", "--data-dir", mnist_dir)
    assert resumed.code == 0, resumed
    run_files = TUTORIAL_RUN_FILES if options is FULL_BATCH else MINI_BATCH_RUN_FILES
    assert names(tmp_path / "run") == run_files  # the checkpoint is gone too
    whole, again = (
        model_arrays(tmp_path / "whole" / "model.npz"),
        model_arrays(tmp_path / "run" / "model.npz"),
    )
    assert whole.keys() == again.keys()
    for name in whole:
        np.testing.assert_array_equal(again[name], whole[name])
    history = read_metrics(tmp_path / "whole")["history"]
    assert read_metrics(tmp_path / "run")["history"] == history


def test_resume_refuses_options_that_would_change_the_run(tmp_path):
    outcome = invoke("train", "--resume", tmp_path, "--learning-rate", "0.5", "--force")
    assert_one_line_error(outcome, "--resume continues a run", "--learning-rate", "--force")


@pytest.mark.parametrize("option", [("--seed", "0"), ("--dropout", "0"), ("--weight-decay", "0")])
def test_resume_refuses_an_option_even_when_its_value_is_zero(tmp_path, option):
    outcome = invoke("train", "--resume", tmp_path, *option)
    assert_one_line_error(outcome, "--resume continues a run", option[0])


def test_resume_of_a_folder_without_a_checkpoint_says_so(tmp_path):
    outcome = invoke("train", "--resume", tmp_path)
    assert_one_line_error(outcome, f"{tmp_path} has no checkpoint.npz to resume from")


IN_PROCESS = "import sys; from scratchnet.app.cli import main; sys.exit(main(sys.argv[1:]))"


@pytest.mark.parametrize(
    "launch", [["-m", "scratchnet"], ["-c", IN_PROCESS]], ids=["the command", "cli.main called"]
)
def test_sigterm_stops_a_run_like_ctrl_c(mnist_dir, tmp_path, launch):
    """A real process: SIGTERM after the first checkpoint; exit 143, the checkpoint kept,
    nothing else of the run left. Also when a program of the user's calls cli.main."""
    out = tmp_path / "run"
    command = [sys.executable, *launch, "train", "--data-dir", str(mnist_dir),
               "--out", str(out), "--iterations", "2000", "--checkpoint-every", "1"]  # fmt: skip
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while not (out / "checkpoint.npz").exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    process.send_signal(signal.SIGTERM)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 143, err
    said = r"scratchnet: terminated; checkpoint\.npz kept after \d+ iterations?; continue with: "
    go_on = f"scratchnet train --resume {out} --data-dir {mnist_dir}"
    assert re.fullmatch(said + re.escape(go_on), err.splitlines()[-1])
    assert "Traceback" not in err
    assert names(out) == ["checkpoint.npz"]


# -- a folder is never lost ---------------------------------------------------------------------


def test_ctrl_c_never_deletes_what_someone_else_wrote_into_the_folder(
    mnist_dir, tmp_path, monkeypatch
):
    out = tmp_path / "run"

    def someone_writes():
        (out / "notes.txt").write_text("mine")

    interrupt_at_epoch(monkeypatch, 2, someone_writes)
    outcome = train(mnist_dir, out, *MINI_BATCH, quiet=False)
    assert outcome.code == 130
    assert names(out) == ["checkpoint.npz", "notes.txt"]
    assert (out / "notes.txt").read_text() == "mine"


def test_an_early_ctrl_c_leaves_nothing_behind(tmp_path, monkeypatch):
    monkeypatch.setattr("scratchnet.app.experiment.load_mnist", interrupt)
    outcome = invoke("train", "--quiet", "--out", tmp_path / "new" / "run")
    assert outcome.code == 130  # (its line: test_cli's test of an interrupted run)
    assert outcome.err.startswith("scratchnet: interrupted; stopped before its first iteration")
    assert names(tmp_path) == []  # the folders it made are gone, with its staging folder


def test_staging_happens_inside_the_output_folder(mnist_dir, tmp_path, monkeypatch):
    """Renames never cross a file system (a mount point as --out works) and nothing is
    written beside the output folder (its parent may be read-only)."""
    out = tmp_path / "run"
    seen = {}

    def look():
        seen["out"], seen["parent"] = names(out), names(tmp_path)

    interrupt_at_epoch(monkeypatch, 2, look)
    train(mnist_dir, out, *MINI_BATCH, quiet=False)
    assert seen["parent"] == ["run"]
    assert run_folder.LOCK in seen["out"]
    assert any(name.startswith(".staging-") for name in seen["out"])


HOLD_LOCK = """
import fcntl, os, socket, sys, time
descriptor = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT)
fcntl.flock(descriptor, fcntl.LOCK_EX)
os.write(descriptor, f"{os.getpid()} {socket.gethostname()}\\n".encode())
print("held", flush=True)
time.sleep(60)
"""


def test_a_second_run_into_a_folder_in_use_is_refused(mnist_dir, tmp_path):
    """Another process holds the folder's lock (as a running scratchnet does)."""
    out = tmp_path / "run"
    out.mkdir()
    command = [sys.executable, "-c", HOLD_LOCK, str(out / run_folder.LOCK)]
    with subprocess.Popen(command, stdout=subprocess.PIPE, text=True) as live:
        assert live.stdout.readline() == "held\n"
        outcome = train(mnist_dir, out, *FULL_BATCH)
        live.kill()
    assert_one_line_error(outcome, f"{out} is in use by scratchnet process {live.pid}")
    assert names(out) == [run_folder.LOCK]  # the other run's lock stays


def test_a_lock_file_nobody_holds_is_taken_over_even_if_its_process_lives(mnist_dir, tmp_path):
    """Only a held lock counts: a live process id in a lock file (a reused pid, a copy of
    the folder) does not keep a folder from a new run."""
    out = tmp_path / "run"
    out.mkdir()
    with subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"]) as live:
        (out / run_folder.LOCK).write_text(f"{live.pid} {socket.gethostname()}\n")
        outcome = train(mnist_dir, out, *FULL_BATCH)
        live.kill()
    assert outcome.code == 0, outcome
    assert f"took over the lock of a scratchnet that is gone (process {live.pid})" in outcome.err
    assert names(out) == TUTORIAL_RUN_FILES


def test_a_lock_that_is_a_link_is_refused_and_what_it_points_to_is_kept(mnist_dir, tmp_path):
    """The lock was opened through the link: its text overwrote the file it pointed to
    (outside the folder), and the run went ahead."""
    out = tmp_path / "run"
    out.mkdir()
    precious = tmp_path / "precious.txt"
    precious.write_text("precious data\n")
    (out / run_folder.LOCK).symlink_to("../precious.txt")
    outcome = train(mnist_dir, out, *FULL_BATCH)
    assert_one_line_error(outcome, f"{out / run_folder.LOCK} is a symbolic link, not scratchnet")
    assert precious.read_text() == "precious data\n"
    assert names(out) == [run_folder.LOCK] and (out / run_folder.LOCK).is_symlink()


def test_a_lock_that_is_a_fifo_is_refused(mnist_dir, tmp_path):
    out = tmp_path / "run"
    out.mkdir()
    os.mkfifo(out / run_folder.LOCK)
    outcome = train(mnist_dir, out, *FULL_BATCH)
    assert_one_line_error(outcome, "is not scratchnet's lock file (a fifo or other special file)")
    assert names(out) == [run_folder.LOCK]


def test_a_lock_that_is_a_hard_link_is_refused_and_the_file_kept(mnist_dir, tmp_path):
    out = tmp_path / "run"
    out.mkdir()
    precious = tmp_path / "precious.txt"
    precious.write_text("precious data\n")
    os.link(precious, out / run_folder.LOCK)
    outcome = train(mnist_dir, out, *FULL_BATCH)
    assert_one_line_error(outcome, "is not scratchnet's lock file (a file with other names")
    assert precious.read_text() == "precious data\n"


def test_a_lock_that_cannot_be_removed_does_not_hide_why_the_run_stopped(
    mnist_dir, tmp_path, monkeypatch
):
    """A folder made read-only during the run: the lock's removal failed, and its error
    ('Operation not permitted') replaced the interruption and its 'continue with'."""
    real_unlink = Path.unlink

    def unlink(path, missing_ok=False):
        if path.name == run_folder.LOCK:
            raise PermissionError(1, "Operation not permitted", str(path))
        real_unlink(path, missing_ok=missing_ok)

    monkeypatch.setattr(Path, "unlink", unlink)
    out = tmp_path / "run"
    with monkeypatch.context() as patch:
        interrupt_at_epoch(patch, 2)
        outcome = train(mnist_dir, out, *MINI_BATCH, quiet=False)
    assert outcome.code == 130, outcome
    assert "checkpoint.npz kept after 2 epochs; continue with:" in outcome.err
    assert "Operation not permitted" not in outcome.err
    monkeypatch.undo()
    again = invoke("train", "--resume", out, "--data-dir", mnist_dir)  # the left lock is free
    assert again.code == 0, again
    assert "took over the lock of a scratchnet that is gone" in again.err


def dead_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def left_behind(path: Path) -> None:
    """A temporary file as a writer killed a minute ago left it: half written, unlocked."""
    path.write_bytes(b"half")
    a_minute_ago = time.time() - 60
    os.utime(path, (a_minute_ago, a_minute_ago))


def test_leftovers_of_a_killed_run_are_removed_and_reported(mnist_dir, tmp_path):
    out = tmp_path / "run"
    (out / ".staging-123-0a1b2c3d").mkdir(parents=True)
    (out / ".staging-123-0a1b2c3d" / "model.npz").write_bytes(b"half")
    left_behind(out / ".metrics.json.scratchnet-0a1b2c3d.tmp")
    (out / run_folder.LOCK).write_text(f"{dead_pid()} {socket.gethostname()}\n")
    outcome = train(mnist_dir, out, *FULL_BATCH, "--force")
    assert outcome.code == 0, outcome
    assert "took over the lock of a scratchnet that is gone" in outcome.err
    assert (
        "removed what an interrupted run left behind: .metrics.json.scratchnet-0a1b2c3d.tmp, "
        ".staging-123-0a1b2c3d"
    ) in outcome.err
    assert names(out) == TUTORIAL_RUN_FILES


WRITING_FOREVER = """
import sys, time
from scratchnet.atomic import atomic_write

with atomic_write(sys.argv[1]) as file:
    file.write(b"half")
    print("writing", flush=True)
    time.sleep(60)
"""


def test_the_temporary_file_of_a_writer_still_running_is_no_leftover(mnist_dir, tmp_path):
    """A run removed, by its name alone, the temporary file of an export or figures
    writing into its folder at that moment; only an unlocked one is a leftover now (a
    process id in the name was tried first: a reused id, or pid 1 in a container, made a
    killed writer's file look alive for good)."""
    out = tmp_path / "run"
    out.mkdir()
    dead = ".f.png.scratchnet-0a1b2c3d.tmp"
    left_behind(out / dead)  # as a killed writer leaves it: not locked
    (out / ".g.png.scratchnet-0a1b2c3d.tmp").write_bytes(b"half")  # just made, not yet
    # locked, maybe: not judged (its writer may lock it now)
    writer = subprocess.Popen([sys.executable, "-c", WRITING_FOREVER, str(out / "e.onnx")],
                              stdout=subprocess.PIPE, text=True)  # fmt: skip
    try:
        assert writer.stdout.readline() == "writing\n"
        (live,) = [name for name in names(out) if name.startswith(".e.onnx.scratchnet-")]
        refused = train(mnist_dir, out, *FULL_BATCH)
        fresh = ".g.png.scratchnet-0a1b2c3d.tmp"
        held = ", ".join(sorted([live, fresh]))
        assert_one_line_error(refused, f"--out {out} already holds files ({held})")
        outcome = train(mnist_dir, out, *FULL_BATCH, "--force")
    finally:
        writer.kill()
        writer.wait()
    assert outcome.code == 0, outcome
    assert f"removed what an interrupted run left behind: {dead}\n" in outcome.err
    assert names(out) == sorted([*TUTORIAL_RUN_FILES, live, fresh])


def test_force_does_not_replace_an_interrupted_run_that_can_go_on(mnist_dir, tmp_path):
    out = tmp_path / "run"
    out.mkdir()
    (out / "checkpoint.npz").write_bytes(b"another run's")
    (out / "metrics.json").write_bytes(b"its results")
    outcome = train(mnist_dir, out, *FULL_BATCH, "--force")
    assert_one_line_error(
        outcome, "holds checkpoint.npz of an interrupted run", f"--resume {out}", "delete"
    )
    assert names(out) == ["checkpoint.npz", "metrics.json"]
    assert (out / "checkpoint.npz").read_bytes() == b"another run's"


def test_a_folder_holding_files_is_refused_unless_forced(mnist_dir, tmp_path):
    out = tmp_path / "run"
    out.mkdir()
    (out / "model.npz").write_bytes(b"an earlier run")
    (out / "notes.txt").write_text("mine")
    refused = train(mnist_dir, out, *FULL_BATCH)
    assert_one_line_error(refused, f"--out {out} already holds files (model.npz, notes.txt)",
                          "--force")  # fmt: skip
    assert (out / "model.npz").read_bytes() == b"an earlier run"
    forced = train(mnist_dir, out, *FULL_BATCH, "--force")
    assert forced.code == 0, forced
    assert names(out) == sorted([*TUTORIAL_RUN_FILES, "notes.txt"])
    assert NeuralNet.load(out / "model.npz").classes.tolist() == [1, 2]
    assert (out / "notes.txt").read_text() == "mine"


def earlier_runs(name: str) -> bytes:
    """A file an earlier run wrote, as its marks stand in it: a PNG with the text chunk
    Software=scratchnet (made by Pillow here), a report titled "scratchnet report: ..."."""
    if name.endswith(".html"):
        return b"<!doctype html>\n<html>\n<head>\n<title>scratchnet report: a run</title>"
    image, mark = io.BytesIO(), PngInfo()
    mark.add_text("Software", "scratchnet")
    Image.new("L", (4, 4)).save(image, "PNG", pnginfo=mark)
    return image.getvalue()


def forced_over(mnist_dir, tmp_path, *earlier: str, users: tuple[str, ...] = ()):
    """A run with --force into a folder holding an earlier run's ``earlier`` files and
    the user's own ``users``: the folder, the run."""
    out = tmp_path / "run"
    out.mkdir()
    for name in earlier:
        (out / name).write_bytes(earlier_runs(name))
    for name in users:
        (out / name).write_bytes(b"the user's own")
    return out, train(mnist_dir, out, *FULL_BATCH, "--force")


def force_removed(out, names: str) -> str:
    return (f"scratchnet: --force removed {names} from {out}: files of a run's names that "
            "this run does not write")  # fmt: skip


def test_force_names_the_files_it_removed_that_the_run_does_not_write(mnist_dir, tmp_path):
    """An augmented run's augmentation.png went without a word; the earlier
    report, which the new run writes again, is not named."""
    out, outcome = forced_over(mnist_dir, tmp_path, "augmentation.png", "report.html",
                               "notes.txt")  # fmt: skip
    assert outcome.code == 0, outcome
    assert outcome.err == force_removed(out, "augmentation.png") + "\n"
    assert names(out) == sorted([*TUTORIAL_RUN_FILES, "notes.txt"])
    again = train(mnist_dir, out, *FULL_BATCH, "--force")  # replaces all, removes none
    assert again.code == 0 and again.err == "", again


def test_force_leaves_a_users_file_of_a_run_files_name_that_the_run_does_not_write(
    mnist_dir, tmp_path
):
    """A user's own augmentation.png (a text file, or another program's PNG) was removed
    as an earlier run's; one of a name the report writes is replaced, as --force says,
    and both are named (it was replaced without a word)."""
    out, outcome = forced_over(mnist_dir, tmp_path, "report.html",
                               users=("augmentation.png", "reliability.png"))  # fmt: skip
    assert outcome.code == 0, outcome
    said = (f"scratchnet: --force replaced reliability.png and left augmentation.png in {out}: "
            "files of a run's names without scratchnet's mark (yours, or from a scratchnet "
            "older than the mark), replaced where this run writes the name")  # fmt: skip
    assert outcome.err == said + "\n"
    assert (out / "augmentation.png").read_bytes() == b"the user's own"
    assert (out / "reliability.png").read_bytes().startswith(b"\x89PNG")
    assert names(out) == sorted([*TUTORIAL_RUN_FILES, "augmentation.png"])


def test_force_leaves_a_failed_reports_files_to_the_failure_it_names(
    mnist_dir, tmp_path, monkeypatch
):
    """The report's files, removed as the earlier run's, were named as files "this run
    does not write" when the report then failed for a full disk."""

    def fail(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("scratchnet.app.report.png", fail)
    out, outcome = forced_over(mnist_dir, tmp_path, "augmentation.png", "report.html",
                               "reliability.png")  # fmt: skip
    assert outcome.code == 2, outcome
    removed, failure = outcome.err.splitlines()
    assert removed == force_removed(out, "augmentation.png")
    assert failure.startswith("scratchnet: error: report.html not written (")


def test_out_on_a_file_is_one_line_error(tmp_path):
    (tmp_path / "taken").write_text("x")
    outcome = invoke("train", "--out", tmp_path / "taken", "--quiet")
    assert_one_line_error(outcome, f"--out {tmp_path / 'taken'} is a file, not a folder")


@pytest.mark.parametrize("command", [["train", "--quiet"], ["figures"]])
def test_out_on_a_link_to_nothing_is_one_line_error(tmp_path, command):
    """It said 'cannot create the output folder ... (File exists)'."""
    (tmp_path / "gone").symlink_to("nowhere")
    outcome = invoke(*command, "--out", tmp_path / "gone")
    assert_one_line_error(
        outcome, f"--out {tmp_path / 'gone'} is a link to nowhere, which does not exist"
    )
    assert not (tmp_path / "nowhere").exists()


# -- checked before training ---------------------------------------------------------------------


def test_free_space_is_checked_before_the_data_is_loaded(tmp_path, monkeypatch):
    def must_not_load(*args, **kwargs):
        raise AssertionError("the data was loaded")

    monkeypatch.setattr("scratchnet.app.experiment.load_mnist", must_not_load)
    usage = type(run_folder.shutil.disk_usage(tmp_path))
    monkeypatch.setattr(run_folder.shutil, "disk_usage", lambda path: usage(10**9, 10**9, 1000))
    outcome = invoke("train", "--quiet", "--out", tmp_path / "run")
    assert_one_line_error(outcome, "0.0 MiB free, the run needs about")
    assert names(tmp_path) == []


def test_a_network_too_large_for_memory_is_refused_before_the_data_is_loaded(tmp_path, monkeypatch):
    def must_not_load(*args, **kwargs):
        raise AssertionError("the data was loaded")

    monkeypatch.setattr("scratchnet.app.experiment.load_mnist", must_not_load)
    outcome = invoke("train", "--quiet", "--hidden", "100000000", "--out", tmp_path / "run")
    line = assert_one_line_error(outcome, "needs about", "of memory, but only", "is available")
    # (784 + 1) x 1e8 + (1e8 + 1) parameters: 78,600,000,001; in float64 627 GB of weights
    assert line.startswith("scratchnet: error: training 78,600,000,001 parameters needs about ")
    assert "TiB" in line or "PiB" in line
    assert names(tmp_path) == []


# -- divergence ----------------------------------------------------------------------------------


def test_an_exploding_run_fails_and_writes_no_results(mnist_dir, tmp_path):
    out = tmp_path / "run"
    outcome = train(mnist_dir, out, "--learning-rate", "1e6", "--iterations", "21")
    line = assert_one_line_error(outcome, "training diverged: the cost exploded", "iteration")
    assert "smaller learning rate" in line
    assert not out.exists()


def test_metrics_json_is_strict_json(mnist_dir, tmp_path):
    train(mnist_dir, tmp_path / "run", *FULL_BATCH)
    text = (tmp_path / "run" / "metrics.json").read_text()

    def refuse(constant):
        raise AssertionError(f"metrics.json holds {constant}, which JSON does not allow")

    json.loads(text, parse_constant=refuse)


# -- publishing: all files or none -------------------------------------------------------------


def test_a_folder_named_like_a_run_file_is_refused_before_training(tmp_path, monkeypatch):
    def must_not_load(*args, **kwargs):
        raise AssertionError("the data was loaded")

    monkeypatch.setattr("scratchnet.app.experiment.load_mnist", must_not_load)
    out = tmp_path / "run"
    (out / "model.npz").mkdir(parents=True)
    outcome = invoke("train", "--quiet", "--out", out, "--force")
    assert_one_line_error(outcome, f"cannot write the run's files into {out}",
                          "a folder there has the name of model.npz", "move them away")  # fmt: skip
    assert names(out) == ["model.npz"]


def claimed_with_staged(out: Path, staged: dict[str, bytes]) -> run_folder.RunFolder:
    folder = run_folder.RunFolder.claim(out, force=True, files=RUN_FILES)
    for name, content in staged.items():
        (folder.staging / name).write_bytes(content)
    return folder


@pytest.mark.parametrize("failure", [OSError(5, "Input/output error"), KeyboardInterrupt()])
def test_a_publication_cut_short_puts_back_every_file_it_replaced(tmp_path, monkeypatch, failure):
    """The earlier run's report (the new run writes none yet) is moved out, accuracy.png
    and cost.png are in place when metrics.json fails: the old accuracy.png and report
    come back, the new cost.png (it replaced nothing) goes."""
    out = tmp_path / "run"
    out.mkdir()
    (out / "accuracy.png").write_bytes(b"old accuracy")
    (out / "report.html").write_bytes(earlier_runs("report.html"))
    (out / "notes.txt").write_bytes(b"mine")
    folder = claimed_with_staged(out, {"accuracy.png": b"new accuracy", "cost.png": b"new cost",
                                       "metrics.json": b"new metrics"})  # fmt: skip
    replace = run_folder.os.replace

    def failing(source, target):
        if Path(target).name == "metrics.json":
            raise failure
        replace(source, target)

    monkeypatch.setattr(run_folder.os, "replace", failing)
    expected = run_folder.RunFolderError if isinstance(failure, OSError) else KeyboardInterrupt
    with pytest.raises(expected) as raised:
        folder.publish()
    if isinstance(failure, OSError):
        assert str(raised.value) == (
            f"cannot write the run's files into {out} (input/output error, at metrics.json); "
            "nothing was replaced"
        )
    monkeypatch.undo()
    folder.abandon(remove_checkpoint=False)
    assert names(out) == ["accuracy.png", "notes.txt", "report.html"]
    assert (out / "accuracy.png").read_bytes() == b"old accuracy"
    assert (out / "report.html").read_bytes() == earlier_runs("report.html")


@pytest.mark.parametrize("failure", [OSError(5, "Input/output error"), KeyboardInterrupt()])
def test_an_earlier_file_that_cannot_be_put_back_is_kept_said_and_never_removed(
    tmp_path, monkeypatch, failure
):
    """metrics.json fails, and so does putting the old accuracy.png back: its kept copy
    stays in the staging folder, which neither this run nor the next removes."""
    out = tmp_path / "run"
    out.mkdir()
    (out / "accuracy.png").write_bytes(b"old accuracy")
    folder = claimed_with_staged(out, {"accuracy.png": b"new accuracy",
                                       "metrics.json": b"new metrics"})  # fmt: skip
    replace = run_folder.os.replace

    def failing(source, target):
        if Path(target).name == "metrics.json" or Path(source).parent.name == ".replaced":
            raise failure if Path(target).name == "metrics.json" else OSError(30, "Read-only")
        replace(source, target)

    monkeypatch.setattr(run_folder.os, "replace", failing)
    with pytest.raises((run_folder.RunFolderError, KeyboardInterrupt)) as raised:
        folder.publish()
    kept = folder.staging / ".replaced"
    said = f"the earlier run's accuracy.png could not be put back and is kept in {kept}"
    if isinstance(failure, OSError):
        assert str(raised.value) == (f"cannot write the run's files into {out} "
                                     f"(input/output error, at metrics.json); {said}")  # fmt: skip
    else:
        assert error_message(raised.value) == said
    monkeypatch.undo()
    folder.abandon(remove_checkpoint=False)
    assert (kept / "accuracy.png").read_bytes() == b"old accuracy"
    later = run_folder.RunFolder.claim(out, force=True, files=RUN_FILES)  # the next run
    assert (kept / "accuracy.png").read_bytes() == b"old accuracy"
    assert later.notes == [
        f"left {kept}: files of an earlier run that a failed publication could not put back "
        "(move them back, then remove the folder)"
    ]
    later.abandon(remove_checkpoint=False)
    with pytest.raises(run_folder.RunFolderError, match=r"already holds files \(.staging-"):
        run_folder.RunFolder.claim(out, files=RUN_FILES)  # it is someone's work


def interrupted_publication(out: Path, earlier: str, staged: str, replace) -> None:
    """A run folder holding the ``earlier`` run's file, publishing the ``staged`` one,
    with ``replace`` for os.replace (it raises KeyboardInterrupt), then abandoned: the
    earlier file must be there as it was, and nothing else."""
    out.mkdir()
    (out / earlier).write_bytes(earlier_runs(earlier))
    folder = claimed_with_staged(out, {staged: b"new"})
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(run_folder.os, "replace", replace)
        with pytest.raises(KeyboardInterrupt):
            folder.publish()
    folder.abandon(remove_checkpoint=False)
    assert names(out) == [earlier]
    assert (out / earlier).read_bytes() == earlier_runs(earlier)


def test_a_ctrl_c_right_after_a_move_still_puts_the_earlier_file_back(tmp_path):
    """The Ctrl-C lands as the rename of the new accuracy.png over the old one returns."""
    replace = run_folder.os.replace

    def interrupted_once_done(source, target):
        replace(source, target)
        raise KeyboardInterrupt

    interrupted_publication(tmp_path / "run", "accuracy.png", "accuracy.png", interrupted_once_done)


def test_an_earlier_file_whose_move_never_happened_is_left_in_place(tmp_path):
    """The Ctrl-C lands before the earlier run's report (which this run replaces with
    none yet) is moved out: it stays where it is."""

    def interrupted_first(source, target):
        raise KeyboardInterrupt

    interrupted_publication(tmp_path / "run", "report.html", "metrics.json", interrupted_first)


def test_a_ctrl_c_during_the_undo_loses_no_earlier_file(tmp_path, monkeypatch):
    """cost.png fails (a full disk), then a Ctrl-C lands as the old accuracy.png is being
    put back: that copy stays in the staging folder, which abandon() keeps."""
    out = tmp_path / "run"
    out.mkdir()
    for name in ("accuracy.png", "cost.png"):
        (out / name).write_bytes(b"old " + name.encode())
    folder = claimed_with_staged(out, {"accuracy.png": b"new", "cost.png": b"new"})
    replace, calls = run_folder.os.replace, []

    def full_then_interrupted(source, target):
        calls.append(target)
        if len(calls) == 2:
            raise OSError(28, "No space left on device")
        if len(calls) == 3:
            raise KeyboardInterrupt
        replace(source, target)

    monkeypatch.setattr(run_folder.os, "replace", full_then_interrupted)
    with pytest.raises(KeyboardInterrupt):
        folder.publish()
    monkeypatch.undo()
    folder.abandon(remove_checkpoint=False)
    kept = folder.staging / ".replaced"
    assert sorted(path.name for path in kept.iterdir()) == ["accuracy.png"]
    assert (kept / "accuracy.png").read_bytes() == b"old accuracy.png"
    assert (out / "cost.png").read_bytes() == b"old cost.png"


def test_a_new_file_that_cannot_be_taken_out_again_is_said(tmp_path, monkeypatch):
    out = tmp_path / "run"
    out.mkdir()
    folder = claimed_with_staged(out, {"cost.png": b"new cost", "metrics.json": b"new"})
    replace, unlink = run_folder.os.replace, Path.unlink

    def failing(source, target):
        if Path(target).name == "metrics.json":
            raise OSError(5, "Input/output error")
        replace(source, target)

    def refusing(path, missing_ok=False):
        if path.name == "cost.png":
            raise OSError(30, "Read-only file system")
        unlink(path, missing_ok=missing_ok)

    monkeypatch.setattr(run_folder.os, "replace", failing)
    monkeypatch.setattr(Path, "unlink", refusing)
    with pytest.raises(run_folder.RunFolderError) as raised:
        folder.publish()
    monkeypatch.undo()
    assert str(raised.value) == (
        f"cannot write the run's files into {out} (input/output error, at metrics.json); "
        "this run's cost.png "
        "could not be taken out again"
    )
    folder.abandon(remove_checkpoint=False)


def test_a_users_folder_named_like_a_staging_folder_is_not_a_leftover(tmp_path):
    out = tmp_path / "run"
    (out / ".staging-photos").mkdir(parents=True)
    (out / ".staging-photos" / "img1.jpg").write_bytes(b"holiday")
    with pytest.raises(run_folder.RunFolderError, match=r"already holds files \(.staging-photos\)"):
        run_folder.RunFolder.claim(out, files=RUN_FILES)
    forced = run_folder.RunFolder.claim(out, force=True, files=RUN_FILES)
    forced.abandon(remove_checkpoint=False)
    assert forced.notes == []
    assert (out / ".staging-photos" / "img1.jpg").read_bytes() == b"holiday"


def test_a_forced_publication_leaves_nothing_of_the_earlier_run(tmp_path):
    """Its files are replaced, or removed where the new run writes none (its
    augmentation figure, its report before the new one is built); a file no run writes
    stays."""
    out = tmp_path / "run"
    out.mkdir()
    for name in ("cost.png", "augmentation.png", "report.html", "reliability.png"):
        (out / name).write_bytes(earlier_runs(name))
    (out / "notes.txt").write_bytes(b"the user's")
    (out / "sigmoid.png").write_bytes(b"the user's")
    folder = claimed_with_staged(out, {"cost.png": b"new cost", "model.npz": b"new model"})
    assert sorted(folder.publish()) == ["augmentation.png", "reliability.png", "report.html"]
    folder.release()
    assert names(out) == ["cost.png", "model.npz", "notes.txt", "sigmoid.png"]
    assert (out / "cost.png").read_bytes() == b"new cost"


def test_a_failed_run_removes_every_folder_it_made_a_dotdot_in_its_path_too(tmp_path):
    """--out ep/new1/../new2: the run made ep, ep/new1 and ep/new2; a failure took out
    ep/new2 and left ep/new1, stopping at 'ep/new1/..' (which it never made)."""
    folder = run_folder.RunFolder.claim(tmp_path / "ep" / "new1" / ".." / "new2")
    assert names(tmp_path / "ep") == ["new2"]  # new1 only to step out of: not made
    folder.abandon(remove_checkpoint=False)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("steps", [["new", "sub", ".."], ["new", "a", "b", "..", ".."]])
def test_a_folder_named_only_to_step_out_of_is_not_made(tmp_path, steps):
    """--out new/sub/.. made new and new/sub, then refused new as holding files (sub)."""
    folder = run_folder.RunFolder.claim(tmp_path.joinpath(*steps))
    assert folder.path == tmp_path / "new" and not (tmp_path / "new" / steps[1]).exists()
    folder.abandon(remove_checkpoint=False)
    assert list(tmp_path.iterdir()) == []


def test_a_dotdot_after_a_link_is_left_to_the_system(tmp_path):
    """link/.. is the folder above the link's target, not the link's own folder."""
    (tmp_path / "elsewhere" / "inner").mkdir(parents=True)
    (tmp_path / "here").mkdir()
    (tmp_path / "here" / "link").symlink_to(tmp_path / "elsewhere" / "inner")
    folder = run_folder.RunFolder.claim(tmp_path / "here" / "link" / ".." / "run")
    assert (tmp_path / "elsewhere" / "run").is_dir() and not (tmp_path / "here" / "run").exists()
    folder.abandon(remove_checkpoint=False)


def test_a_failed_run_never_removes_a_folder_it_found_through_a_dotdot(tmp_path):
    """--out new1/../keep/sub, with the user's empty keep there: keep was listed as made
    (new1/../keep did not exist as new1 did not) and removed with the run's folders."""
    (tmp_path / "keep").mkdir()
    folder = run_folder.RunFolder.claim(tmp_path / "new1" / ".." / "keep" / "sub")
    folder.abandon(remove_checkpoint=False)
    assert names(tmp_path) == ["keep"] and names(tmp_path / "keep") == []


def test_a_resumed_run_needs_no_space_for_the_checkpoint_it_already_has(tmp_path, monkeypatch):
    """Its checkpoint is replaced, not added: 1500 bytes needed, 1000 of them held by the
    checkpoint, 600 free: a resumed run goes ahead, a new one would not."""
    out = tmp_path / "run"
    out.mkdir()
    (out / "checkpoint.npz").write_bytes(bytes(1000))
    usage = type(run_folder.shutil.disk_usage(tmp_path))
    monkeypatch.setattr(run_folder.shutil, "disk_usage", lambda path: usage(10**9, 10**9, 600))
    folder = run_folder.RunFolder.claim(out, resume=True, need_bytes=1500)
    folder.abandon(remove_checkpoint=False)
    (out / "checkpoint.npz").unlink()
    with pytest.raises(run_folder.RunFolderError, match=r"0\.0 MiB free, the run needs about"):
        run_folder.RunFolder.claim(out, need_bytes=1500)


@pytest.mark.parametrize(
    ("make", "said"),
    [
        (lambda out: None, "--resume {out}: no such folder"),
        (lambda out: out.write_text("x"), "--resume {out}: a file, not a run folder"),
        (lambda out: (out / "checkpoint.npz").mkdir(parents=True),
         "{out}/checkpoint.npz is a folder, not a checkpoint"),
    ],
    ids=["missing", "a file", "checkpoint is a folder"],
)  # fmt: skip
def test_resume_of_what_is_not_a_run_folder_says_what_it_is(tmp_path, make, said):
    out = tmp_path / "run"
    make(out)
    assert_one_line_error(invoke("train", "--resume", out), said.format(out=out))


def test_a_checkpoint_named_folder_is_refused_as_one_in_the_way(tmp_path):
    """Not taken for an interrupted run (which --resume would refuse): a folder where
    the run writes its checkpoint."""
    out = tmp_path / "run"
    (out / "checkpoint.npz").mkdir(parents=True)
    outcome = invoke("train", "--quiet", "--out", out, "--force")
    assert_one_line_error(outcome, "a folder there has the name of checkpoint.npz")


def test_a_killed_runs_folder_points_to_resume_and_keeps_its_leftovers_when_refused(tmp_path):
    """A new run without --force is told what --force would also refuse: go on with
    --resume (or delete the checkpoint); nothing is removed, so nothing goes unreported."""
    out = tmp_path / "run"
    (out / ".staging-123-0a1b2c3d").mkdir(parents=True)
    (out / "checkpoint.npz").write_bytes(b"a killed run's")
    outcome = invoke("train", "--quiet", "--out", out)
    line = assert_one_line_error(outcome, "holds checkpoint.npz of an interrupted run",
                                 f"scratchnet train --resume {out}")  # fmt: skip
    assert "--force" not in line
    assert names(out) == [".staging-123-0a1b2c3d", "checkpoint.npz"]


def test_a_folder_that_cannot_be_written_is_named_in_one_line(tmp_path, monkeypatch):
    """A read-only file system (which no chmod can simulate for root) refuses the lock."""

    def read_only(path, *args, **kwargs):
        raise OSError(30, "Read-only file system", str(path))

    monkeypatch.setattr(run_folder.os, "open", read_only)
    out = tmp_path / "run"
    out.mkdir()
    outcome = invoke("train", "--quiet", "--out", out)
    assert_one_line_error(outcome, f"cannot write into {out}: read-only file system")


def fail_checkpoint_write(monkeypatch, failure: BaseException, after_rename=False) -> None:
    """Checkpoint writes that raise ``failure``: the first once its file is in place
    (``after_rename``), else the second while it is written (the first stays)."""
    from scratchnet.atomic import atomic_write
    from scratchnet.training import checkpoint as checkpoints

    write, written = checkpoints.write_archive, []

    def failing_write(path, *args):
        if after_rename:
            write(path, *args)
            raise failure
        if written:
            with atomic_write(path):
                raise failure
        written.append(path)
        write(path, *args)

    monkeypatch.setattr(checkpoints, "write_archive", failing_write)


def assert_only_the_checkpoint_kept_and_resumed(out: Path, mnist_dir) -> None:
    """The stopped run's folder holds its checkpoint alone, and --resume goes on from it."""
    assert names(out) == ["checkpoint.npz"]
    resumed = invoke("train", "--resume", out, "--quiet", "--data-dir", mnist_dir)
    assert resumed.code == 0, resumed


@pytest.mark.parametrize(
    ("after_rename", "kept"),
    [(True, "1 epoch"), (False, "1 epoch")],
    ids=["just after the first checkpoint's rename", "while the second checkpoint is written"],
)
def test_a_ctrl_c_around_a_checkpoint_write_says_which_checkpoint_is_kept(
    after_rename, kept, mnist_dir, tmp_path, monkeypatch
):
    """The checkpoint in the folder is the run's own once it is renamed into place,
    whatever moment the Ctrl-C comes: the message says so and --resume goes on."""
    fail_checkpoint_write(monkeypatch, KeyboardInterrupt(), after_rename)
    out = tmp_path / "run"
    outcome = train(mnist_dir, out, *MINI_BATCH)
    assert (outcome.code, outcome.err) == (130, (
        f"scratchnet: interrupted; checkpoint.npz kept after {kept}; "
        f"continue with: scratchnet train --resume {out} --data-dir {mnist_dir}\n"
    ))  # fmt: skip
    monkeypatch.undo()
    assert_only_the_checkpoint_kept_and_resumed(out, mnist_dir)


def test_a_full_disk_while_training_names_the_file_and_keeps_the_checkpoint(
    mnist_dir, tmp_path, monkeypatch
):
    """The second checkpoint cannot be written: the first stays, and the message says
    how to go on from it."""
    fail_checkpoint_write(monkeypatch, OSError(28, "No space left on device"))
    out = tmp_path / "run"
    outcome = train(mnist_dir, out, *MINI_BATCH)
    assert_one_line_error(
        outcome, f"cannot write {out / 'checkpoint.npz'} (no space left on device)",
        f"checkpoint.npz kept after 1 epoch; continue with: scratchnet train --resume {out} "
        f"--data-dir {mnist_dir}",
    )  # fmt: skip
    monkeypatch.undo()
    assert_only_the_checkpoint_kept_and_resumed(out, mnist_dir)


def test_a_full_disk_while_writing_the_outputs_names_the_run_folder(
    mnist_dir, tmp_path, monkeypatch
):
    """Not the staging folder the files were being written into."""

    def fills_the_disk(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("scratchnet.app.plots.plot_accuracy", fills_the_disk)
    out = tmp_path / "run"
    outcome = train(mnist_dir, out, *MINI_BATCH)
    line = assert_one_line_error(
        outcome, f"cannot write the run's files into {out} (no space left on device)",
        f"checkpoint.npz kept after 4 epochs; continue with: scratchnet train --resume {out} "
        f"--data-dir {mnist_dir}",
    )  # fmt: skip
    assert ".staging" not in line
    assert names(out) == ["checkpoint.npz"]


def test_a_resumed_runs_fit_time_counts_the_training_before_it_stopped(
    mnist_dir, tmp_path, monkeypatch
):
    """The checkpoint stores the seconds that reached it: the resumed run's fit time is
    those plus its own, which the wall-clock time of resuming bounds."""
    from scratchnet.archive import open_archive

    out = tmp_path / "run"
    stop_at_epoch_2(mnist_dir, out, monkeypatch)
    with open_archive(out / "checkpoint.npz", "checkpoint") as archive:
        before = archive.meta()["seconds"]
    started = time.perf_counter()
    resumed = invoke("train", "--resume", out, "--data-dir", mnist_dir)
    wall = time.perf_counter() - started
    assert resumed.code == 0, resumed
    metrics = read_metrics(out)
    fit_seconds = metrics["fit_seconds"]
    assert 0 < before < fit_seconds < before + wall
    assert f"fit time: {fit_seconds:.1f} s ({before:.1f} s of it before resuming)" in resumed.out
    assert metrics["seconds_before_resuming"] == before  # the run folder says so too
    report = re.sub(r"\s+", " ", (out / "report.html").read_text())
    assert f"({before:.2f} s of it before the run was stopped and resumed)" in report


def test_a_waiter_takes_the_folder_its_holder_made_and_removed_as_it_gave_up(tmp_path):
    """As a command interrupted while training the starter model: it removes the folder
    it created; the command waiting for it makes the folder again and goes on."""
    folder = tmp_path / "starter"
    folder.mkdir()
    holder = run_folder.FolderLock(folder)
    holder.acquire()
    waiter, told, notes = run_folder.FolderLock(folder), [], []
    waiting = threading.Thread(target=lambda: notes.append(waiter.acquire(told.append)),
                               daemon=True)  # fmt: skip
    waiting.start()
    deadline = time.monotonic() + 30
    while not told and time.monotonic() < deadline:
        time.sleep(0.01)
    (folder / ".scratchnet.lock").unlink()  # as release() and _remove_empty() do, the
    folder.rmdir()  # folder gone before the waiter wakes: then the flock goes
    os.close(holder.descriptor)
    waiting.join(30)
    assert notes == [[]] and (folder / ".scratchnet.lock").is_file()
    waiter.release()


@pytest.mark.parametrize(
    ("options", "kept"),
    [(FULL_BATCH, "12 iterations"), ([*MINI_BATCH, "--checkpoint-every", "3"], "4 epochs")],
    ids=["full batch, no checkpoint written yet", "mini-batch, the last epoch not written"],
)
def test_a_ctrl_c_after_training_before_the_files_are_out_keeps_the_finished_training(
    options, kept, mnist_dir, tmp_path, monkeypatch
):
    """Training is over and the figures are being drawn: the state after the last epoch
    is kept (12 iterations where every 100 are written; 4 epochs where every 3 are),
    and --resume publishes the very model the uninterrupted run does."""
    assert train(mnist_dir, tmp_path / "whole", *options).code == 0

    out = tmp_path / "run"
    with monkeypatch.context() as patch:
        patch.setattr("scratchnet.app.plots.plot_accuracy", interrupt)
        outcome = train(mnist_dir, out, *options)
    assert (outcome.code, outcome.err) == (130, (
        f"scratchnet: interrupted; checkpoint.npz kept after {kept}; "
        f"continue with: scratchnet train --resume {out} --data-dir {mnist_dir}\n"
    ))  # fmt: skip
    assert_only_the_checkpoint_kept_and_resumed(out, mnist_dir)
    whole, again = model_arrays(tmp_path / "whole" / "model.npz"), model_arrays(out / "model.npz")
    assert whole.keys() == again.keys()
    for name in whole:
        np.testing.assert_array_equal(again[name], whole[name])
    assert read_metrics(out)["history"] == read_metrics(tmp_path / "whole")["history"]


def test_the_checkpoint_goes_as_soon_as_the_run_is_published(mnist_dir, tmp_path, monkeypatch):
    """Before the report is built: a run killed while building it leaves its complete
    files, not a checkpoint that would make its folder look unfinished."""
    from scratchnet.app.commands import train as train_command

    seen = []
    write_report = train_command._write_report
    monkeypatch.setattr(train_command, "_write_report", lambda out, *rest: (
        seen.append(names(out)), write_report(out, *rest))[1])  # fmt: skip
    out = tmp_path / "run"
    assert train(mnist_dir, out, *MINI_BATCH).code == 0
    assert "checkpoint.npz" not in seen[0] and "model.npz" in seen[0]


def test_a_resume_stopped_before_it_reads_its_checkpoint_says_how_to_go_on(
    mnist_dir, tmp_path, monkeypatch
):
    out = tmp_path / "run"
    stop_at_epoch_2(mnist_dir, out, monkeypatch)

    with monkeypatch.context() as patch:
        patch.setattr("scratchnet.app.experiment.load_mnist", interrupt)
        outcome = invoke("train", "--resume", out, "--quiet")
    assert (outcome.code, outcome.err) == (130, (
        f"scratchnet: interrupted; checkpoint.npz kept as it was; "
        f"continue with: scratchnet train --resume {out}\n"
    ))  # fmt: skip
    assert_only_the_checkpoint_kept_and_resumed(out, mnist_dir)


def test_a_resume_stopped_before_it_takes_its_folder_says_how_to_go_on(
    mnist_dir, tmp_path, monkeypatch
):
    """A SIGTERM while the network was built (or the modules imported) said only
    'scratchnet: terminated', though the checkpoint was there to resume from."""
    out = tmp_path / "run"
    stop_at_epoch_2(mnist_dir, out, monkeypatch)
    with monkeypatch.context() as patch:
        patch.setattr("scratchnet.app.commands.train.build_network", interrupt)
        outcome = invoke("train", "--resume", out, "--quiet", "--data-dir", mnist_dir)
    assert (outcome.code, outcome.err) == (130, (
        f"scratchnet: interrupted; checkpoint.npz kept as it was; "
        f"continue with: scratchnet train --resume {out} --data-dir {mnist_dir}\n"
    ))  # fmt: skip
    assert_only_the_checkpoint_kept_and_resumed(out, mnist_dir)


def test_a_ctrl_c_after_training_whose_only_state_cannot_be_written_says_just_that(
    mnist_dir, tmp_path, monkeypatch
):
    """5 iterations, checkpoints every 100: the state of the 5th, written on Ctrl-C, meets
    a full disk. The run did not stop before its first epoch, and must not say so."""

    def full_disk(path, *args):
        raise OSError(28, "No space left on device", str(path))

    monkeypatch.setattr("scratchnet.training.checkpoint.write_archive", full_disk)
    monkeypatch.setattr("scratchnet.app.plots.plot_accuracy", interrupt)
    out = tmp_path / "run"
    outcome = train(mnist_dir, out, "--iterations", "5", "--checkpoint-every", "100")
    assert outcome.code == 130
    assert outcome.err.startswith("scratchnet: interrupted; the last state was not written (")
    assert "no space left on device" in outcome.err.lower() and "stopped before" not in outcome.err
    assert not out.exists()


def test_a_ctrl_c_during_the_first_checkpoints_write_claims_no_epoch_unfinished(
    mnist_dir, tmp_path, monkeypatch
):
    """Iteration 1 ended; its write was cut short: nothing is kept, and the line must
    not say the run stopped before its first iteration ended."""

    def cut_short(path, *args):
        raise KeyboardInterrupt

    monkeypatch.setattr("scratchnet.training.checkpoint.write_archive", cut_short)
    out = tmp_path / "run"
    outcome = train(mnist_dir, out, "--iterations", "5", "--checkpoint-every", "1")
    assert (outcome.code, outcome.err) == (130, "scratchnet: interrupted\n")
    assert not out.exists()


def test_a_ctrl_c_whose_last_checkpoint_cannot_be_written_still_cleans_up_and_says_so(
    mnist_dir, tmp_path, monkeypatch
):
    """Checkpoints every 3 of 4 epochs; a Ctrl-C while the figures are drawn writes the
    4th, which meets a full disk: the run still stops as interrupted (130), removes its
    lock and staging folder, and says what is kept and how to go on."""

    fail_checkpoint_write(monkeypatch, OSError(28, "No space left on device"))
    monkeypatch.setattr("scratchnet.app.plots.plot_accuracy", interrupt)
    out = tmp_path / "run"
    outcome = train(mnist_dir, out, *MINI_BATCH, "--checkpoint-every", "3")
    assert (outcome.code, outcome.err) == (130, (
        f"scratchnet: interrupted; the last state was not written (cannot write "
        f"{out / 'checkpoint.npz'} (no space left on device)); checkpoint.npz kept after 3 "
        f"epochs; continue with: scratchnet train --resume {out} --data-dir {mnist_dir}\n"
    ))  # fmt: skip
    monkeypatch.undo()
    assert_only_the_checkpoint_kept_and_resumed(out, mnist_dir)


def test_a_resume_refused_for_its_checkpoint_does_not_say_to_run_it_again(
    mnist_dir, tmp_path, monkeypatch
):
    out = tmp_path / "run"
    stop_at_epoch_2(mnist_dir, out, monkeypatch)
    with np.load(out / "checkpoint.npz") as archive:
        members = {name: archive[name] for name in archive.files}
    members["parameters"] = np.full_like(members["parameters"], np.nan)
    np.savez(out / "checkpoint.npz", **members)
    outcome = invoke("train", "--resume", out, "--quiet", "--data-dir", mnist_dir)
    assert outcome.code == 2
    assert "not finite" in outcome.err and "continue with" not in outcome.err


def rewrite_checkpoint_meta(path: Path, change) -> None:
    with np.load(path) as archive:
        members = {name: archive[name] for name in archive.files}
    meta = json.loads(str(members.pop("meta")))
    change(meta)
    np.savez(path, meta=np.array(json.dumps(meta)), **members)


@pytest.mark.parametrize(
    ("change", "said"),
    [
        (lambda meta: meta["extra"]["recipe"].update(name="nonsense"),
         "its run's settings cannot be read (unknown preset 'nonsense'"),
        (lambda meta: meta["extra"].pop("recipe"),  # the Python API's: was "damaged"
         "not the checkpoint of a 'scratchnet train' run (it holds no run settings)"),
        (lambda meta: meta.update(extra=[1]), "extra must be an object"),
        (lambda meta: meta.update(first_loss=-1.0), "first_loss must be a cost"),
        (lambda meta: meta["history"]["records"][0].update(loss="x"),
         "the history is missing or damaged"),
    ],
    ids=["preset", "no recipe", "extra", "first-loss", "history"],
)  # fmt: skip
def test_a_resume_refuses_damaged_metadata_before_training_and_keeps_the_checkpoint(
    mnist_dir, tmp_path, monkeypatch, change, said
):
    """A traceback for most; a negative first cost made the first epoch look diverged and
    the checkpoint was removed; a damaged history or preset name was trained on and
    published, and the run's report then refused it."""
    out = tmp_path / "run"
    stop_at_epoch_2(mnist_dir, out, monkeypatch)
    rewrite_checkpoint_meta(out / "checkpoint.npz", change)
    damaged = (out / "checkpoint.npz").read_bytes()
    outcome = invoke("train", "--resume", out, "--quiet", "--data-dir", mnist_dir)
    assert_one_line_error(outcome, f"{out / 'checkpoint.npz'}: ", said)
    assert (out / "checkpoint.npz").read_bytes() == damaged
    assert names(out) == ["checkpoint.npz"]


@pytest.mark.parametrize("removed", ["folder", "checkpoint"])
def test_a_run_whose_checkpoint_was_removed_does_not_say_it_is_kept(
    mnist_dir, tmp_path, monkeypatch, removed
):
    """The folder (or the checkpoint) deleted during the run: the stopped run said
    'checkpoint.npz kept after 2 epochs; continue with: ...', of a file that is gone."""
    out = tmp_path / "run"
    remove = {"folder": lambda: shutil.rmtree(out),
              "checkpoint": lambda: (out / "checkpoint.npz").unlink()}[removed]  # fmt: skip
    interrupt_at_epoch(monkeypatch, 2, action=remove)
    outcome = train(mnist_dir, out, *MINI_BATCH, quiet=False)
    assert outcome.code == 130, outcome
    assert "kept after" not in outcome.err and "continue with" not in outcome.err
    assert outcome.err.endswith(  # (a folder the run made and left empty is removed)
        f"; {out} holds no checkpoint.npz (the folder is gone): nothing to continue from\n"
    )
    assert not out.exists()


def test_resuming_refuses_files_the_interrupted_run_did_not_write(mnist_dir, tmp_path, monkeypatch):
    """Files of the names a run publishes, put in the folder after the interruption,
    were replaced or removed by the resumed run without --force or a word."""
    out = tmp_path / "run"
    stop_at_epoch_2(mnist_dir, out, monkeypatch)
    (out / "report.html").write_text("my notes\n")
    (out / "sigmoid.png").write_text("my figure\n")
    outcome = invoke("train", "--resume", out, "--data-dir", mnist_dir, "--quiet")
    assert_one_line_error(outcome, f"{out} holds report.html, sigmoid.png, which the "
                          "interrupted run did not write and resuming would replace")  # fmt: skip
    assert (out / "report.html").read_text() == "my notes\n"
    assert (out / "sigmoid.png").read_text() == "my figure\n"
    (out / "report.html").unlink()
    (out / "sigmoid.png").unlink()
    assert invoke("train", "--resume", out, "--data-dir", mnist_dir, "--quiet").code == 0


def test_a_run_started_with_force_replaces_the_earlier_run_when_resumed(
    mnist_dir, tmp_path, monkeypatch
):
    out = tmp_path / "run"
    assert train(mnist_dir, out, *FULL_BATCH).code == 0
    earlier = (out / "model.npz").read_bytes()
    with monkeypatch.context() as patch:
        interrupt_at_epoch(patch, 2)
        assert train(mnist_dir, out, *MINI_BATCH, "--force", quiet=False).code == 130
    assert (out / "model.npz").read_bytes() == earlier  # nothing replaced yet
    assert invoke("train", "--resume", out, "--data-dir", mnist_dir, "--quiet").code == 0
    assert (out / "model.npz").read_bytes() != earlier
    assert "checkpoint.npz" not in names(out)


@pytest.mark.parametrize("name", ["checkpoint.npz", "model.npz", "sigmoid.png"])
def test_a_link_named_as_a_run_file_is_refused_force_or_not(mnist_dir, tmp_path, name):
    """A dangling checkpoint.npz link had the run write its checkpoint outside the
    folder (2.4 MB left there), and --force removed users' links silently."""
    out = tmp_path / "run"
    out.mkdir()
    target = tmp_path / "elsewhere.npz"
    (out / name).symlink_to(target)
    for force in ([], ["--force"]):
        outcome = train(mnist_dir, out, *FULL_BATCH, *force)
        assert_one_line_error(outcome, f"{out} holds links named as the run's files ({name})")
        assert (out / name).is_symlink() and not target.exists()


def test_a_link_named_like_a_staging_folder_is_left_and_not_said_removed(mnist_dir, tmp_path):
    """It was reported as 'removed what an interrupted run left behind' and stayed."""
    out = tmp_path / "run"
    out.mkdir()
    (tmp_path / "mine").mkdir()
    (out / ".staging-1-deadbeef").symlink_to(tmp_path / "mine")
    outcome = train(mnist_dir, out, *FULL_BATCH, "--force")
    assert outcome.code == 0 and "left behind" not in outcome.err, outcome
    assert (out / ".staging-1-deadbeef").is_symlink() and (tmp_path / "mine").is_dir()


def test_an_empty_checkpoint_or_a_fifo_in_its_place_is_named_as_such(mnist_dir, tmp_path):
    """An empty checkpoint.npz was called 'checkpoint.npz of an interrupted run', and a
    FIFO in its place 'no checkpoint.npz to resume from'."""
    empty, fifo = tmp_path / "empty", tmp_path / "fifo"
    empty.mkdir()
    (empty / "checkpoint.npz").write_bytes(b"")
    outcome = train(mnist_dir, empty, *FULL_BATCH, "--force")
    assert_one_line_error(outcome, f"--out {empty} holds an empty checkpoint.npz, which no run")
    fifo.mkdir()
    os.mkfifo(fifo / "checkpoint.npz")
    outcome = invoke("train", "--resume", fifo, "--data-dir", mnist_dir)
    assert_one_line_error(outcome, f"{fifo / 'checkpoint.npz'}: it is a device, a FIFO or a "
                          "socket, not a regular file")  # fmt: skip
