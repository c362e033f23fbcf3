"""Worker processes that stop with their parent, and leave the parent's process settings alone.

Fork is fast but only safe in a process with a single thread (a thread holding a lock at the
fork would leave the child's copy locked for ever) and never on macOS, where system libraries
break in forked children: elsewhere the workers are spawned. The start method is chosen per pool,
never set for the process. Workers die with their parent, even a parent killed without any chance
to clean up, and leave the parent to decide about Ctrl-C.
"""
from __future__ import annotations

import gc
import multiprocessing
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Generator, Iterable
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")

_PR_SET_PDEATHSIG = 1


def start_method() -> str:
    """'fork' on Linux in a process with no other thread alive, else 'spawn'."""
    if sys.platform.startswith("linux") and _threads() == 1:
        return "fork"
    return "spawn"


def _threads() -> int:
    # /proc also counts threads that Python did not start (watchfiles' Rust watcher, for one).
    try:
        return len(os.listdir("/proc/self/task"))
    except OSError:
        return threading.active_count()


def imap(function: Callable[[T], R], tasks: Iterable[T], workers: int) -> Generator[R, None, None]:
    """`function` over `tasks` in `workers` processes; results in order, each as it is ready.

    However the iteration ends (exhausted, closed early, or interrupted by an exception such as
    the one a signal handler raises), the workers are stopped before this returns (SIGTERM,
    which kills them where they are: the caller removes what they were writing)."""
    context = multiprocessing.get_context(start_method())
    pool = context.Pool(workers, initializer=_start_worker, initargs=(os.getpid(),))
    try:
        yield from pool.imap(function, tasks)
    finally:
        pool.terminate()
        pool.join()


def _start_worker(parent: int) -> None:
    gc.disable()  # a worker's objects are short-lived and acyclic; collecting them only costs time
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the whole group: the parent decides
    # A forked worker inherits the parent's handlers; a Python-level handler can be delayed or its
    # exception lost (raised inside a finaliser), and Pool.terminate() then waits for ever.
    for signum in (signal.SIGTERM, getattr(signal, "SIGHUP", None)):
        if signum is not None:
            signal.signal(signum, signal.SIG_DFL)
    _die_with(parent)


def _die_with(parent: int) -> None:
    """Have this process receive SIGTERM when `parent` dies: through the kernel on Linux,
    elsewhere from a thread that watches for the parent to change."""
    if sys.platform.startswith("linux"):
        try:
            import ctypes

            libc = ctypes.CDLL(None, use_errno=True)
            if libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0) == 0:
                if os.getppid() != parent:  # it died before the request took effect
                    os._exit(1)
                return
        except (OSError, AttributeError):
            pass
    threading.Thread(target=_watch_parent, args=(parent,), daemon=True).start()


def _watch_parent(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(0.5)
    os.kill(os.getpid(), signal.SIGTERM)
