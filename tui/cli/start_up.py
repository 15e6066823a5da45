"""The console script's start-up without the cyclic garbage collector (issue 14).

Start-up allocates a few hundred thousand objects (modules, classes, pydantic schemas)
and frees almost none of them, yet every burst of allocations triggers collections that
traverse them all, and so does the last pass when the interpreter exits: together
about a fifth of `eventscope exec deposit`'s CPU time. The console script pauses the
collector until the command's start-up is over, then freezes what start-up built
(`gc.freeze`: later collections skip it) and collects as usual. A one-shot command
(`exec`) also skips the last pass at exit, and then the interpreter's teardown of
every module and object (`end_one_shot`: about 5 ms). `main()` called from Python
(tests, embedding) never pauses or ends anything.
"""

from __future__ import annotations

import atexit
import gc
import os
import sys

_paused = False
_one_shot = False


def pause_collector() -> None:
    """Pause collection for start-up (the console script calls this first)."""
    global _paused
    if gc.isenabled():
        gc.disable()
        _paused = True


def start_up_done(*, one_shot: bool = False) -> None:
    """Start-up is over: keep its objects out of later collections and collect again.

    Does nothing unless `pause_collector` paused the collector (and only once).
    `one_shot`: the command closes what it opened itself and then ends, so
    `before_exit` may skip the last pass."""
    global _paused, _one_shot
    _one_shot = _one_shot or one_shot
    if _paused:
        _paused = False
        gc.freeze()
        gc.enable()


def before_exit() -> None:
    """After a one-shot command the process ends now: skip the collector's last pass
    over every live object.

    What the interpreter does at exit still runs (atexit handlers, flushing and closing
    the standard streams); only cyclic garbage left at exit is not traversed. Other
    commands exit as Python always does (an object in a cycle may hold a file or a
    connection that only that pass closes)."""
    if _one_shot:
        gc.freeze()


def end_one_shot(code: int) -> None:
    """After a one-shot command, end the process with `code` now, without the
    interpreter's teardown (freeing every module, class and object one by one).

    What that teardown is for still happens: the exit handlers run (`atexit`, among
    them `weakref.finalize`'s, which closes a connection left open) and the standard
    streams are flushed; a file the command wrote it has closed itself. Returns (and
    Python exits as always) unless the command was one-shot, or while another thread
    runs (Python waits for it), or when flushing a stream fails (Python reports it).
    """
    if not _one_shot:
        return
    import threading

    if threading.active_count() > 1:
        return
    atexit._run_exitfuncs()
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (OSError, ValueError):
        return
    os._exit(code)
