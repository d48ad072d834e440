"""Atomic writes: a reader never sees half a file, a failure keeps the old one."""

from __future__ import annotations

import errno
import os
import re
import socket
import time
from pathlib import Path

import pytest

import scratchnet.atomic
from scratchnet import NeuralNet
from scratchnet.atomic import atomic_write, is_leftover_temporary, open_regular
from scratchnet.data.idx import read_idx
from scratchnet.data.images import load_image
from scratchnet.errors import DataFileError, ImageFileError


def names_in(folder: Path) -> list[str]:
    return sorted(path.name for path in folder.iterdir())


def test_atomic_write_creates_the_file_and_nothing_else(tmp_path):
    with atomic_write(tmp_path / "out.bin") as file:
        file.write(b"complete")
    assert (tmp_path / "out.bin").read_bytes() == b"complete"
    assert names_in(tmp_path) == ["out.bin"]


def test_atomic_write_replaces_an_existing_file(tmp_path):
    (tmp_path / "out.bin").write_bytes(b"old content, longer than the new one")
    with atomic_write(str(tmp_path / "out.bin")) as file:
        file.write(b"new")
    assert (tmp_path / "out.bin").read_bytes() == b"new"
    assert names_in(tmp_path) == ["out.bin"]


def test_atomic_write_shows_nothing_before_the_block_ends(tmp_path):
    with atomic_write(tmp_path / "out.bin") as file:
        file.write(b"partial")
        file.flush()
        assert not (tmp_path / "out.bin").exists()


@pytest.mark.parametrize("interruption", [OSError("disk full"), KeyboardInterrupt("disk full")])
def test_interrupted_atomic_write_keeps_the_old_file(interruption, tmp_path):
    path = tmp_path / "out.bin"
    path.write_bytes(b"old")
    with pytest.raises(type(interruption), match="disk full"), atomic_write(path) as file:
        file.write(b"half of the new")
        raise interruption
    assert path.read_bytes() == b"old"
    assert names_in(tmp_path) == ["out.bin"]


def test_atomic_write_into_a_missing_folder_names_it(tmp_path):
    missing = re.escape(str(tmp_path / "nowhere"))
    with pytest.raises(FileNotFoundError, match=missing), atomic_write(tmp_path / "nowhere" / "x"):
        pass
    assert names_in(tmp_path) == []


def test_an_empty_path_is_refused_as_having_no_file_name(tmp_path, monkeypatch):
    """Path("") is the current folder: the message names what the user gave."""
    monkeypatch.chdir(tmp_path)
    with pytest.raises(FileNotFoundError) as raised, atomic_write(""):
        pass
    assert raised.value.strerror == "cannot write an empty path (no file name)"
    assert names_in(tmp_path) == []


def test_a_name_ending_in_a_separator_is_a_folders_not_the_file_before_it(tmp_path):
    """Path("e.onnx/") is Path("e.onnx"): the file e.onnx was written where the name
    asked for a folder."""
    with pytest.raises(IsADirectoryError) as raised, atomic_write(f"{tmp_path}/e.onnx/"):
        pass
    assert raised.value.strerror == (
        f"cannot write {tmp_path}/e.onnx/ (a name ending in a separator is a folder's)"
    )
    assert names_in(tmp_path) == []


def test_a_folder_that_exists_but_refuses_the_file_gives_the_systems_reason(tmp_path, monkeypatch):
    """Creating a file can fail with ENOENT in a folder that is there (/proc, say): the
    message gives the system's reason, not 'its folder does not exist'."""
    import scratchnet.atomic

    def no_such_entry(*args, **kwargs):
        raise FileNotFoundError(2, "No such file or directory")

    monkeypatch.setattr(scratchnet.atomic, "open", no_such_entry, raising=False)
    with pytest.raises(FileNotFoundError) as raised, atomic_write(tmp_path / "out.bin"):
        pass
    assert (
        raised.value.strerror == f"cannot write {tmp_path / 'out.bin'} (no such file or directory)"
    )


def test_atomic_write_over_a_folder_names_the_users_path_not_the_temporary(tmp_path):
    (tmp_path / "out.bin").mkdir()
    with pytest.raises(IsADirectoryError) as raised, atomic_write(tmp_path / "out.bin") as file:
        file.write(b"new")
    assert raised.value.strerror == f"cannot write {tmp_path / 'out.bin'} (it is a folder)"
    assert names_in(tmp_path) == ["out.bin"]


def test_a_path_holding_a_nul_character_is_an_os_error_of_its_own(tmp_path):
    """The system calls raise ValueError("embedded null byte"): not a file error."""
    path = tmp_path / "a\0b"
    with (
        pytest.raises(OSError, match="a path cannot hold a NUL character") as raised,
        atomic_write(path),
    ):
        pass
    assert raised.value.strerror == f"cannot write {path} (a path cannot hold a NUL character)"
    with pytest.raises(OSError, match="a path cannot hold a NUL character"):
        open_regular(tmp_path / "a\0b")
    assert names_in(tmp_path) == []


@pytest.mark.parametrize(
    ("read", "error"),
    [(read_idx, DataFileError), (load_image, ImageFileError), (NeuralNet.load, DataFileError)],
)
def test_readers_name_a_path_holding_a_nul_character(read, error, tmp_path):
    with pytest.raises(error, match=r"cannot .*read.*a path cannot hold a NUL character"):
        read(f"{tmp_path}/a\0b")


@pytest.mark.parametrize("given", [".", "..", "/"])  # "": its own test, above
def test_atomic_write_to_a_path_without_a_file_name_says_it_is_a_folder(
    given, tmp_path, monkeypatch
):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(IsADirectoryError) as raised, atomic_write(given) as file:
        file.write(b"new")
    assert raised.value.strerror == f"cannot write {Path(given)} (it is a folder)"
    assert names_in(tmp_path) == []


def test_atomic_write_on_a_read_only_file_system_says_so_of_the_users_path(tmp_path, monkeypatch):
    """There even removing the temporary file that was never made fails (EROFS, not
    ENOENT): that must not replace the error that says what happened."""
    import scratchnet.atomic

    def read_only(*args, **kwargs):
        raise OSError(30, "Read-only file system")

    monkeypatch.setattr(scratchnet.atomic, "open", read_only, raising=False)
    monkeypatch.setattr(Path, "unlink", read_only)
    with pytest.raises(OSError) as raised, atomic_write(tmp_path / "out.bin"):
        pass
    assert raised.value.strerror == f"cannot write {tmp_path / 'out.bin'} (read-only file system)"


def test_atomic_write_on_a_full_disk_says_which_file(tmp_path):
    """An error the system raises inside the block (errno set) is named too."""
    with pytest.raises(OSError) as raised, atomic_write(tmp_path / "out.bin"):
        raise OSError(28, "No space left on device")
    assert raised.value.errno == 28
    assert raised.value.strerror == f"cannot write {tmp_path / 'out.bin'} (no space left on device)"
    assert names_in(tmp_path) == []


def test_atomic_write_gives_the_file_ordinary_permissions(tmp_path):
    previous = os.umask(0o022)
    try:
        with atomic_write(tmp_path / "file") as file:
            file.write(b"x")
    finally:
        os.umask(previous)
    assert (tmp_path / "file").stat().st_mode & 0o777 == 0o644


def test_a_replaced_file_keeps_its_permissions(tmp_path):
    (tmp_path / "file").write_bytes(b"old")
    (tmp_path / "file").chmod(0o640)
    with atomic_write(tmp_path / "file") as file:
        file.write(b"new")
    assert (tmp_path / "file").read_bytes() == b"new"
    assert (tmp_path / "file").stat().st_mode & 0o777 == 0o640


def test_through_a_symbolic_link_the_file_it_points_to_is_replaced(tmp_path):
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "real.npz").write_bytes(b"old")
    (tmp_path / "latest.npz").symlink_to(tmp_path / "models" / "real.npz")
    with atomic_write(tmp_path / "latest.npz") as file:
        file.write(b"new")
    assert (tmp_path / "latest.npz").is_symlink()
    assert (tmp_path / "models" / "real.npz").read_bytes() == b"new"
    assert names_in(tmp_path / "models") == ["real.npz"] and names_in(tmp_path) == [
        "latest.npz", "models"
    ]  # fmt: skip


def test_a_link_to_a_missing_folder_names_that_folder(tmp_path):
    (tmp_path / "latest.npz").symlink_to(tmp_path / "gone" / "model.npz")
    with pytest.raises(FileNotFoundError) as raised, atomic_write(tmp_path / "latest.npz"):
        pass
    assert raised.value.strerror == (
        f"cannot write {tmp_path / 'latest.npz'} (its folder {tmp_path / 'gone'} does not exist)"
    )


def test_a_replaced_files_special_bits_are_not_copied(tmp_path):
    (tmp_path / "tool").write_bytes(b"old")
    (tmp_path / "tool").chmod(0o4755)  # set-user-ID
    with atomic_write(tmp_path / "tool") as file:
        file.write(b"new")
    assert (tmp_path / "tool").stat().st_mode & 0o7777 == 0o755


@pytest.mark.parametrize("through_a_link", [False, True], ids=["itself", "through a link"])
@pytest.mark.parametrize("kind", ["fifo", "socket"])
def test_a_fifo_or_a_socket_is_never_replaced_by_a_file(tmp_path, kind, through_a_link):
    """os.replace put a plain file in their place, as it would in place of a device:
    export --out /dev/full --force, run as root, replaced the system's /dev/full."""
    special = tmp_path / kind
    if kind == "fifo":
        os.mkfifo(special)
    else:
        listener = socket.socket(socket.AF_UNIX)
        listener.bind(str(special))
        listener.close()
    target = special
    if through_a_link:
        target = tmp_path / "link"
        target.symlink_to(special)
    with pytest.raises(OSError) as raised, atomic_write(target):
        pytest.fail("the block must not run")
    assert raised.value.strerror == (
        f"cannot write {target} (it is a device, a FIFO or a socket, not a regular file)"
    )
    assert not special.is_file() and not special.is_symlink() and special.exists()
    assert names_in(tmp_path) == sorted([kind, *(["link"] if through_a_link else [])])


def test_a_device_is_never_replaced_by_a_file():
    """Only checked, never written: the refusal comes before any file is made. (Every
    system scratchnet runs on has /dev/null: its folder lock needs POSIX's fcntl.)"""
    refused = r"^\[Errno 22\] cannot write /dev/null \(it is a device"
    with pytest.raises(OSError, match=refused), atomic_write("/dev/null"):
        pytest.fail("the block must not run")
    assert Path("/dev/null").is_char_device()


def test_a_write_that_fails_inside_another_is_named_by_its_own_path(tmp_path):
    """Writes nested to replace several files together: the inner one's failure was
    named again by the outer one, as 'cannot write outer (it is a folder)'."""
    (tmp_path / "inner").mkdir()
    with (
        pytest.raises(IsADirectoryError) as raised,
        atomic_write(tmp_path / "outer"),
        atomic_write(tmp_path / "inner"),
    ):
        pass
    assert raised.value.strerror == f"cannot write {tmp_path / 'inner'} (it is a folder)"
    assert names_in(tmp_path) == ["inner"]


def test_a_temporary_file_stays_locked_until_it_is_renamed(tmp_path, monkeypatch):
    """The file was closed, and so let go, before its rename: a run's sweep in between
    took it for a killed writer's leftover, removed it, and the rename failed."""
    judged = []
    rename = os.replace

    def judging_first(source, target):
        a_minute_ago = time.time() - 60  # as old as any leftover
        os.utime(source, (a_minute_ago, a_minute_ago))
        judged.append(is_leftover_temporary(Path(source)))
        rename(source, target)

    monkeypatch.setattr(scratchnet.atomic.os, "replace", judging_first)
    with atomic_write(tmp_path / "model.npz") as file:
        file.write(b"new")
    assert judged == [False]
    assert (tmp_path / "model.npz").read_bytes() == b"new"


def test_where_files_cannot_be_locked_writes_go_on_and_nothing_is_swept(tmp_path, monkeypatch):
    """flock fails with ENOLCK (or EBADF for a read-only descriptor) on some NFS mounts:
    atomic_write raised for every save, and the sweep's error stopped every run."""

    def no_locks(descriptor, operation):
        raise OSError(errno.ENOLCK, "No locks available")

    monkeypatch.setattr(scratchnet.atomic.fcntl, "flock", no_locks)
    with atomic_write(tmp_path / "model.npz") as file:
        file.write(b"new")
    assert (tmp_path / "model.npz").read_bytes() == b"new"
    left = tmp_path / ".model.npz.scratchnet-0a1b2c3d.tmp"
    left.write_bytes(b"half")
    os.utime(left, (time.time() - 60, time.time() - 60))
    assert not is_leftover_temporary(left)  # cannot be told: left alone


def test_a_close_that_fails_after_the_rename_is_no_failed_write(tmp_path, monkeypatch):
    """The rename moved inside the file's with block (to keep its lock): an error as the
    file closed after it (EIO on NFS) made a complete write read as 'cannot write'."""

    class ClosingFails:
        def __init__(self, file):
            self.file = file

        def __getattr__(self, name):
            return getattr(self.file, name)

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.file.close()
            raise OSError(errno.EIO, "Input/output error")

    # (no with here: atomic_write's own with closes the file this open gives it)
    monkeypatch.setattr(scratchnet.atomic, "open", lambda *a: ClosingFails(open(*a)),  # noqa: SIM115
                        raising=False)  # fmt: skip
    with atomic_write(tmp_path / "model.npz") as file:
        file.write(b"new")
    assert (tmp_path / "model.npz").read_bytes() == b"new"
    assert os.listdir(tmp_path) == ["model.npz"]
