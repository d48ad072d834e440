"""The output folder of a run, kept so that nothing in it is ever lost.

- A run takes the folder with a lock (``.scratchnet.lock``, held with flock, naming its
  process), and so does ``scratchnet report`` while it builds; a second run into a
  folder a live process holds is refused (the starter model's is waited for instead);
  the lock of a process that was killed is free again, taken over and reported.
- A run writes its files into a staging folder inside the output folder (same file
  system, same permissions), then moves each into place with an atomic rename: all of
  them or none. Publishing first checks that no folder stands where a file goes, and
  keeps each file it replaces or moves out until the last is in; a failure (or Ctrl-C)
  midway puts them back. A failure before publishing leaves the folder as it was. Should
  putting one back fail too, its kept copy stays where it is, in the staging folder's
  ``.replaced``: the error says so, and neither this run nor a later one removes it.
- A run removes only what it created: its staging folder, its lock, its checkpoint (one
  it wrote or resumed), and the output folder itself if it created it and it is empty
  (and, with ``force``, the earlier run's files, below).
  Leftovers of a killed run (staging folders, temporary files of an atomic write whose
  process is gone, not those of a ``figures`` writing there now) are removed by the
  next run that goes ahead in the folder, or ``report``, which say so; a staging folder whose
  ``.replaced`` holds an earlier run's files is no leftover: it is left, and said.
- A folder that already holds files is refused unless ``force`` or it is the folder of
  the run being resumed. With ``force``, publishing replaces the earlier run's files:
  those the new run writes, and it removes those it does not (of the ``files`` a run may
  write, those that carry scratchnet's mark, ``overwrite.carries_mark``; it returns their
  names), so the folder never mixes two runs; nothing else is touched: a file the run
  does not write and without the mark (a user's own) stays. Even with
  ``force``, the checkpoint of an interrupted run is not replaced: that run can still be
  resumed. A resumed run has the ``force`` it was started with: without it, files of
  the names it publishes (which the interrupted run never wrote) are refused. A link of
  such a name is refused, ``force`` or not: the run would write or remove its target.
- Write permission, free space (a resumed run's checkpoint already holds its share) and
  folders standing where the run's files go are checked when the folder is taken, before
  training.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import shutil
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from ..atomic import is_leftover_temporary, system_reason
from .arguments import add_note, check_not_a_file, pasteable
from .folder_lock import LOCK, FolderLock, RunFolderError
from .interrupts import uninterrupted
from .overwrite import carries_mark

STAGING_PREFIX = ".staging-"
STAGING_HEX = 4  # random bytes in a staging folder's name, after the process id
STAGING = re.compile(rf"^{re.escape(STAGING_PREFIX)}\d+-[0-9a-f]{{{2 * STAGING_HEX}}}$")
REPLACED = ".replaced"  # inside the staging folder: the files publishing replaces, kept
CHECKPOINT = "checkpoint.npz"
NOTHING_REPLACED = "nothing was replaced"  # what a publication undone in full says


class RunFolder:
    """A claimed output folder; ``publish`` moves staged files in, ``release`` lets go
    after success, ``abandon`` after a failure. Use ``claim``."""

    def __init__(
        self, path: Path, created: list[Path], notes: list[str], lock: FolderLock, files=()
    ):
        self.path = path
        self.files = tuple(files)  # every file a run may write: an earlier run's are replaced
        self.lock = lock
        self.created = created  # folders this run made, deepest last
        self.notes = notes  # what the claim found and did (stale locks, leftovers)
        self.staging = path / f"{STAGING_PREFIX}{os.getpid()}-{secrets.token_hex(STAGING_HEX)}"
        self.staging.mkdir()

    @classmethod
    def claim(
        cls,
        out: Path | None,
        force: bool = False,
        resume: bool = False,
        need_bytes: int = 0,
        files: tuple[str, ...] = (),
        on_busy: Callable[[str], object] | None = None,
    ) -> RunFolder:
        """Take ``out`` (default: a new timestamped folder under ./runs) for a run that
        will write about ``need_bytes`` into the ``files`` it names; a folder another run
        holds is refused, or with ``on_busy`` (told who holds it) waited for."""
        out, created = _make_folder(out)
        lock = FolderLock(out)
        try:
            notes = lock.acquire(on_busy)
            leftovers = _leftovers(out)
            _refuse_links_named(out, (*files, CHECKPOINT))
            if not resume:
                _refuse_a_run_that_can_go_on(out)
            if not (force or resume):
                _refuse_results(out, leftovers)
            if resume and not force:  # (force: the interrupted run was started with it)
                _refuse_results_not_its_own(out, files)
            _refuse_folders_named(
                out, (*files, CHECKPOINT), "move them away or choose another --out"
            )
            held = _file_bytes(out / CHECKPOINT) if resume else 0  # replaced, not added
            _check_space(out, need_bytes - held)
            notes += _remove_leftovers(leftovers) + _notes_on_kept_files(out)
            return cls(out, created, notes, lock, files)
        except BaseException:
            lock.release()
            _remove_empty(created)
            raise

    @property
    def checkpoint(self) -> Path:
        return self.path / CHECKPOINT

    @contextlib.contextmanager
    def staged(self):
        """The staging folder to write the run's files into; a system error while
        writing them names the run's folder (not the staging folder)."""
        try:
            yield self.staging
        except OSError as error:
            if error.errno is None:
                raise
            raise RunFolderError(
                f"cannot write the run's files into {self.path} "
                f"({os.strerror(error.errno).lower()})"
            ) from error

    def publish(self) -> list[str]:
        """Move every staged file into the folder, each with an atomic rename, and an
        earlier run's files it does not replace out of it: all or none (see the module's
        text). Returns the names of the files removed so."""
        names = sorted(entry.name for entry in self.staging.iterdir())
        _refuse_folders_named(self.path, names, NOTHING_REPLACED)
        stale = [n for n in self.files if n not in names and carries_mark(self.path / n)]
        replaced = self.staging / REPLACED
        replaced.mkdir()
        touched: list[str] = []  # each name listed before its file is moved: a Ctrl-C
        try:  # between the move and the listing cannot hide the move
            for name in stale:
                touched.append(name)
                os.replace(self.path / name, replaced / name)
            for name in names:
                touched.append(name)
                target = self.path / name
                if target.exists():
                    _keep(target, replaced / name)
                os.replace(self.staging / name, target)
        except BaseException as error:
            with uninterrupted():
                outcome = self._put_back(touched, set(names), replaced)
            if isinstance(error, OSError):
                raise RunFolderError(
                    f"cannot write the run's files into {self.path} "
                    f"({system_reason(error)}, at {touched[-1]}); {outcome}"
                ) from error
            if outcome != NOTHING_REPLACED:
                add_note(error, outcome)
            raise
        return stale

    def _put_back(self, touched: list[str], new: set[str], replaced: Path) -> str:
        """Undo a publication cut short: the files it replaced or moved out back, its
        own new files removed. What it could not undo is said (in the words returned)
        and, for the earlier files, kept in ``replaced``."""
        stranded, unremoved = [], []
        for name in reversed(touched):
            kept = replaced / name  # an earlier file, moved out or kept as a second name
            never_moved = (self.staging / name).exists() if name in new else not kept.exists()
            if never_moved:  # the folder's file of that name is as it was; a second name
                kept.unlink(missing_ok=True)  # kept for it is no earlier file to keep
                continue
            try:
                if kept.exists():
                    os.replace(kept, self.path / name)
                else:
                    (self.path / name).unlink(missing_ok=True)
            except OSError:
                (stranded if kept.exists() else unremoved).append(name)
        said = []
        if stranded:
            kept_names = ", ".join(sorted(stranded))
            verb = "is" if len(stranded) == 1 else "are"
            said.append(f"the earlier run's {kept_names} could not be put back and {verb} kept "
                        f"in {replaced}")  # fmt: skip
        if unremoved:
            said.append(f"this run's {', '.join(sorted(unremoved))} could not be taken out again")
        return "; ".join(said) or NOTHING_REPLACED

    def discard_checkpoint(self) -> None:
        """Once the run's files are published: its checkpoint has nothing left to give."""
        with uninterrupted():
            self.checkpoint.unlink(missing_ok=True)

    def release(self) -> None:
        """After success: remove the staging folder and the lock."""
        with uninterrupted():
            shutil.rmtree(self.staging, ignore_errors=True)
            self.lock.release()

    def abandon(self, remove_checkpoint: bool) -> None:
        """After a failure: remove what this run made (its checkpoint only when asked:
        a checkpoint lets the run be resumed) and nothing else; a staging folder holding
        earlier files that could not be put back stays."""
        with uninterrupted():
            if not _keeps_files(self.staging):  # (an undo cut short keeps them too)
                shutil.rmtree(self.staging, ignore_errors=True)
            if remove_checkpoint:
                self.checkpoint.unlink(missing_ok=True)
            self.lock.release()
            _remove_empty(self.created)


def _make_folder(out: Path | None) -> tuple[Path, list[Path]]:
    """The output folder, created with any missing parents, one by one: the folders
    made are listed, to undo (a ``..`` names a folder that is there once its parent
    is, made by the run or not; one that appears meanwhile is not the run's)."""
    if out is None:
        stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
        out, suffix = Path("runs") / stamp, 1
        while out.exists():
            suffix += 1
            out = Path("runs") / f"{stamp}-{suffix}"
    check_not_a_file(out, "--out")
    out = _without_folders_left_at_once(out)
    made: list[Path] = []
    try:
        for folder in [*reversed(out.parents), out]:
            if folder.name not in ("", "..") and not folder.is_dir():
                with contextlib.suppress(FileExistsError):
                    folder.mkdir()
                    made.append(folder)
    except OSError as error:
        _remove_empty(made)
        raise RunFolderError(
            f"cannot create the output folder {out} ({error.strerror or error})"
        ) from None
    return out, made


def _without_folders_left_at_once(out: Path) -> Path:
    """``out`` without each ``name/..`` whose ``name`` is not there (not even as a link):
    a folder the run would make only to step back out of. ``a/b/..`` made ``a/b``, and
    the run then refused ``a`` as holding files (``b``)."""
    parts: list[str] = []
    for part in out.parts:
        if part == ".." and parts and parts[-1] != ".." and not os.path.lexists(Path(*parts)):
            parts.pop()
        else:
            parts.append(part)
    return Path(*parts) if parts else Path(".")


def _keep(target: Path, kept: Path) -> None:
    """Keep the file ``target`` as ``kept`` (a second name for it, or else a copy)."""
    try:
        os.link(target, kept)
    except OSError:
        shutil.copy2(target, kept)


def _refuse_folders_named(out: Path, names, what_to_do: str) -> None:
    """A folder where the run writes a file of the same name would stop it midway."""
    in_the_way = [name for name in names if (out / name).is_dir()]
    if in_the_way:
        raise RunFolderError(
            f"cannot write the run's files into {out}: a folder there has the name of "
            f"{', '.join(in_the_way)}; {what_to_do}"
        )


def _refuse_links_named(out: Path, names) -> None:
    """A link where the run writes a file would have it write (or remove) the file the
    link points to, outside the folder; refused, --force or not."""
    links = [name for name in names if (out / name).is_symlink()]
    if links:
        raise RunFolderError(
            f"{out} holds links named as the run's files ({', '.join(links)}); a run "
            "writes plain files into its folder only: remove the links"
        )


def _refuse_results_not_its_own(out: Path, files) -> None:
    """An interrupted run has written only its checkpoint: files of the names it
    publishes are someone else's, which resuming would replace or remove."""
    present = [name for name in files if name != CHECKPOINT and os.path.lexists(out / name)]
    if present:
        raise RunFolderError(
            f"{out} holds {', '.join(present)}, which the interrupted run did not write "
            "and resuming would replace; move them away, then resume"
        )


def clear_leftovers(out: Path) -> list[str]:
    """With the folder's lock held (no live run owns anything in it): remove what killed
    runs left and say so, and name what a failed publication kept (``scratchnet report``
    does this too, as it takes the lock)."""
    return _remove_leftovers(_leftovers(out)) + _notes_on_kept_files(out)


def _leftovers(out: Path) -> list[Path]:
    """The staging folders and temporary files of runs that were killed (the lock is
    ours, so no live run owns them); not a staging folder that keeps earlier files."""
    return sorted(
        entry for entry in out.iterdir()
        if (_is_staging(entry) and not _keeps_files(entry))
        or is_leftover_temporary(entry)
    )  # fmt: skip


def _notes_on_kept_files(out: Path) -> list[str]:
    return [
        f"left {entry / REPLACED}: files of an earlier run that a failed publication could "
        "not put back (move them back, then remove the folder)"
        for entry in sorted(out.iterdir())
        if _is_staging(entry) and _keeps_files(entry)
    ]


def _is_staging(entry: Path) -> bool:
    """A staging folder a run made (not a user's folder whose name starts the same)."""
    return entry.is_dir() and not entry.is_symlink() and STAGING.match(entry.name) is not None


def _keeps_files(staging: Path) -> bool:
    """Whether a failed publication left earlier files in the staging folder's .replaced."""
    with contextlib.suppress(OSError):
        return any((staging / REPLACED).iterdir())
    return False


def _remove_leftovers(leftovers: list[Path]) -> list[str]:
    """Remove them; the note that says so."""
    for entry in leftovers:
        if entry.is_dir():
            shutil.rmtree(entry, ignore_errors=True)
        else:
            entry.unlink(missing_ok=True)
    if not leftovers:
        return []
    names = ", ".join(entry.name for entry in leftovers)
    return [f"removed what an interrupted run left behind: {names}"]


def _refuse_results(out: Path, leftovers: list[Path]) -> None:
    """A folder holding anything but this run's lock (and a killed run's leftovers,
    which the run removes) is someone's work."""
    ignored = {LOCK, *(entry.name for entry in leftovers)}
    present = sorted(entry.name for entry in out.iterdir() if entry.name not in ignored)
    if present:
        shown = ", ".join(present[:5]) + (", ..." if len(present) > 5 else "")
        raise RunFolderError(
            f"--out {out} already holds files ({shown}); choose an empty or new folder, "
            "or add --force to replace the run files in it"
        )


def _refuse_a_run_that_can_go_on(out: Path) -> None:
    """A new run, even with --force, does not take the folder of an interrupted run
    that can go on (its checkpoint: a later --resume would go on with it over this run's
    results)."""
    checkpoint = out / CHECKPOINT
    if not checkpoint.is_file():
        return
    if checkpoint.stat().st_size == 0:
        raise RunFolderError(
            f"--out {out} holds an empty {CHECKPOINT}, which no run wrote (a run writes "
            "each checkpoint whole); delete it to start a new run there"
        )
    raise RunFolderError(
        f"--out {out} holds {CHECKPOINT} of an interrupted run; continue it with "
        f"scratchnet train --resume {pasteable(out)}, or delete that file to start a new "
        "run there"
    )


def _file_bytes(path: Path) -> int:
    return path.stat().st_size if path.is_file() else 0


def _check_space(out: Path, need_bytes: int) -> None:
    free = shutil.disk_usage(out).free
    if need_bytes > free:
        raise RunFolderError(
            f"{out} has {free / 2**20:.1f} MiB free, the run needs about "
            f"{need_bytes / 2**20:.1f} MiB"
        )


def _remove_empty(folders: list[Path]) -> None:
    """Remove the folders (deepest first) that are empty; keep any that hold anything."""
    for folder in reversed(folders):
        try:
            folder.rmdir()
        except OSError:
            return
