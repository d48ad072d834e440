"""Ctrl-C and SIGTERM: both stop a command through KeyboardInterrupt (Terminated for
SIGTERM), so that a run writes its checkpoint and removes what it created before the
process ends. A signal that arrives while such cleaning up runs (``uninterrupted``), or
within STOP_GRACE seconds of the one that stopped the command (a key pressed twice, a
burst of signals), is ignored, so that a second Ctrl-C cannot cut short what the first
one started (removing what the run created, keeping its checkpoint, saying how to go
on).

A signal that arrives while a module is imported (``deferred``) stops the command once
the import is done: raised inside an extension module's initialisation or a class's
``__set_name__``, KeyboardInterrupt comes out as an ImportError or a RuntimeError with a
traceback, or aborts the interpreter as it shuts down.

A stop raised where Python cannot pass it on, in a weakref callback or a ``__del__``
(matplotlib's caches run them), would be printed as "Exception ignored in ..." and lost,
the command going on to end with status 0: ``sys.unraisablehook`` catches it there, and
the signal is sent again, to stop the command as the code around goes on (or, if the
command ends first, ``raise_lost_stop`` stops it there).

The handlers stay Python functions while the command runs: one switched to SIG_IGN
with a signal still pending makes CPython print "Signal 15 ignored due to race
condition".
"""

from __future__ import annotations

import _thread
import math
import os
import signal
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

EXIT_INTERRUPTED = 128 + signal.SIGINT  # 130, as a shell reports Ctrl-C
EXIT_TERMINATED = 128 + signal.SIGTERM  # 143
EXIT_BROKEN_PIPE = 128 + signal.SIGPIPE  # 141: the reader of the output left
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
STOP_GRACE = 1.0  # seconds after a stop in which another stop signal is the same request
RESEND_AFTER = 0.01  # seconds after a stop was lost before it is sent again
_cleanups = 0  # cleanups running now, in the main thread: a stop signal waits for them
_last_stop = -math.inf  # when a stop signal last raised (time.monotonic())
_deferring = 0  # deferred blocks running now, in the main thread
_pending: int | None = None  # the stop signal that came during them
_lost: int | None = None  # a stop Python swallowed, not raised again yet
_sending = _thread.allocate_lock()  # held while a sending checks its generation and sends
_generation = 0  # of the one sending that may still send: cancelling moves it on


class Terminated(KeyboardInterrupt):
    """The process received SIGTERM."""


def exit_status(interruption: KeyboardInterrupt) -> int:
    return EXIT_TERMINATED if isinstance(interruption, Terminated) else EXIT_INTERRUPTED


def stopped_by(interruption: KeyboardInterrupt) -> str:
    """How the command says it was stopped: 'terminated' (SIGTERM) or 'interrupted'."""
    return "terminated" if isinstance(interruption, Terminated) else "interrupted"


def _stop(signum, frame) -> None:
    global _pending
    if _cleanups or time.monotonic() - _last_stop < STOP_GRACE:
        return  # the cleanup a first signal (or an error) started goes on
    if _deferring:
        _pending = _pending or signum  # raised when the deferred blocks are done
        return
    _raise(signum)


def _raise(signum: int) -> None:
    global _last_stop, _lost
    _last_stop, _lost = time.monotonic(), None  # (a lost stop is raised now, or overtaken)
    raise Terminated if signum == signal.SIGTERM else KeyboardInterrupt


def _stop_again_if_swallowed(unraisable) -> None:
    """sys.unraisablehook: a stop that Python could not raise past a weakref callback or
    a ``__del__`` is kept as lost and sent again (``_send_lost_stop``); the grace of the
    stop that was lost does not apply, and a signal that comes while this runs is
    ignored (the sending again stands for it). Anything else goes to the hook there was."""
    global _cleanups, _last_stop, _lost
    if not (isinstance(unraisable.exc_value, KeyboardInterrupt) and _in_main_thread()):
        _previous_unraisablehook(unraisable)
        return
    _cleanups += 1
    try:
        _lost = signal.SIGTERM if isinstance(unraisable.exc_value, Terminated) else signal.SIGINT
        _last_stop = -math.inf
        _send_lost_stop()
    finally:
        _cleanups -= 1


def _send_lost_stop() -> None:
    """Send the lost stop again RESEND_AFTER seconds from now, from a thread of its own,
    once the code that lost it (the hook, a cleanup that ignored it) has returned:
    raised there, it would be lost again. The thread is started with ``_thread`` and
    never waited for (this runs in finalizers, which may run while ``threading`` holds
    its own locks); a later sending, or a cancelling, makes it send nothing."""
    global _generation
    with _sending:
        _generation += 1
        generation = _generation
    _thread.start_new_thread(_send_later, (generation, _lost))


def _send_later(generation: int, signum: int) -> None:
    time.sleep(RESEND_AFTER)
    with _sending:  # (checked and sent at once: a cancelling waits for the sending)
        if generation == _generation:
            os.kill(os.getpid(), signum)


def _forget_in_child() -> None:
    """A forked child starts without its parent's lost stop or sending (whose lock it
    may have copied taken)."""
    global _sending, _generation, _lost
    _sending, _generation, _lost = _thread.allocate_lock(), 0, None


os.register_at_fork(after_in_child=_forget_in_child)


def raise_lost_stop() -> None:
    """As a command ends: a stop that was lost and has not been raised again since
    stops it now (and is not sent again)."""
    signum = forget_lost_stop()
    if signum is not None:
        _raise(signum)


def decided() -> None:
    """The command's end is decided (an error, an interruption, said next): a lost stop
    is forgotten, and every stop from now on ignored, until ``stopping_on_signals``
    ends (a second line from a stop that came as the command ended would contradict
    the first)."""
    global _cleanups
    forget_lost_stop()
    _cleanups += 1


def forget_lost_stop() -> int | None:
    """No lost stop is sent again any more (one sent already is taken now, as a
    cleanup's, and ignored), nor raised. The stop there was, if any."""
    global _cleanups, _generation, _lost
    _cleanups += 1
    try:
        with _sending:
            _generation += 1
        _take_pending_signals()
    finally:
        _cleanups -= 1
    signum, _lost = _lost, None
    return signum


def _take_pending_signals() -> None:
    """A Python call: CPython runs the handlers of signals that came meanwhile as it
    enters one."""


_previous_unraisablehook = sys.unraisablehook


def _in_main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()


def stop_on_signals() -> dict:
    """Make Ctrl-C and SIGTERM raise in the main thread, except during a cleanup, and
    never be lost where Python cannot raise them. A signal the process was started
    ignoring (a background job of a script) stays ignored. Returns the handlers replaced."""
    global _previous_unraisablehook
    replaced = {}
    for stopping in STOP_SIGNALS:
        if signal.getsignal(stopping) is not signal.SIG_IGN:
            replaced[stopping] = signal.signal(stopping, _stop)
    if sys.unraisablehook is not _stop_again_if_swallowed:
        _previous_unraisablehook, sys.unraisablehook = sys.unraisablehook, _stop_again_if_swallowed
    return replaced


def ignore_stop_signals() -> None:
    """For the interpreter's shutdown, once the command has said its last line."""
    for stopping in STOP_SIGNALS:
        signal.signal(stopping, signal.SIG_IGN)


@contextmanager
def stopping_on_signals() -> Iterator[None]:
    """``stop_on_signals`` while inside, the earlier handlers back after: for
    ``cli.main`` called in a process of its caller's (in its main thread; a signal
    reaches no other)."""
    if not _in_main_thread():
        yield
        return
    global _cleanups
    hook, cleanups = sys.unraisablehook, _cleanups
    replaced = stop_on_signals()
    try:
        yield
    finally:  # everything put back, a stop coming meanwhile ignored (not raised halfway)
        _cleanups += 1
        sys.unraisablehook = hook  # (a stop lost from now on is the caller's)
        forget_lost_stop()  # and none of ours reaches the caller's handlers
        for stopping, handler in replaced.items():
            signal.signal(stopping, handler)
        _cleanups = cleanups


@contextmanager
def uninterrupted() -> Iterator[None]:
    """A cleanup that no Ctrl-C or SIGTERM cuts short: one that arrives meanwhile is
    ignored (in the main thread; elsewhere nothing is raised anyway), but for a lost
    one, which is sent again once the cleanup is done."""
    global _cleanups
    if not _in_main_thread():
        yield
        return
    _cleanups += 1
    try:
        yield
    finally:
        _cleanups -= 1
        if _cleanups == 0 and _lost is not None:  # ignored in here: sent again, to come
            _send_lost_stop()  # once the cleanup is done


@contextmanager
def deferred() -> Iterator[None]:
    """A block, an import, that a Ctrl-C or SIGTERM does not cut in the middle: one that
    arrives meanwhile stops the command as the block ends (in the main thread; elsewhere
    nothing is raised anyway)."""
    global _deferring, _pending
    if not _in_main_thread():
        yield
        return
    _deferring += 1
    try:
        yield
    finally:  # the stop is raised even if the block failed (its error chained to it)
        _deferring -= 1
        signum, _pending = (_pending, None) if _deferring == 0 else (None, _pending)
        if signum is not None:
            _raise(signum)
