"""Worker processes that stop with their parent, and leave the parent's process settings alone.

Fork is fast but only safe in a process with a single thread (a thread holding a lock at the
fork would leave the child's copy locked for ever) and never on macOS, where system libraries
break in forked children: elsewhere the workers are spawned. The start method is chosen per pool,
never set for the process. Workers die with their parent, even a parent killed without any chance
to clean up, and leave the parent to decide about Ctrl-C.

A worker that dies itself (killed by the kernel when memory runs out, or by anyone else) is
noticed, with the task it was on: multiprocessing.Pool would replace it and wait for ever for
its task's result. Each worker has its own pipe, receives a batch of tasks when idle, and sends
one result per task, so the parent always knows which task each worker is on.
"""
from __future__ import annotations

import gc
import multiprocessing
import os
import signal
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Generator, Iterable, Iterator
from dataclasses import dataclass, field
from multiprocessing.connection import Connection, wait
from typing import Any, Generic, TypeVar

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


class WorkerDied(Exception):
    """A worker process ended while it worked on `task`: killed (by the kernel when memory ran
    out, or by anyone else) or exited. The pool is stopped; `how` says which."""

    def __init__(self, task: Any, exitcode: int | None):
        self.task, self.exitcode = task, exitcode
        super().__init__(f"a worker process died while working on {task!r} ({self.how})")

    @property
    def how(self) -> str:
        if self.exitcode is not None and self.exitcode < 0:
            try:
                return f"killed by signal {signal.Signals(-self.exitcode).name}"
            except ValueError:
                return f"killed by signal {-self.exitcode}"
        return f"exit code {self.exitcode}"


def imap(function: Callable[[T], R], batches: Iterable[list[T]], workers: int) -> Generator[R, None, None]:
    """`function` over every task of `batches` in `workers` processes: the results in task
    order, each as soon as it and those before it are ready. Each batch goes whole to a worker
    that is idle; an exception `function` raises is raised here, and a worker that dies raises
    WorkerDied with its task.

    However the iteration ends (exhausted, closed early, or interrupted by an exception such as
    the one a signal handler raises), the workers are stopped before this returns (SIGTERM,
    which kills them where they are: the caller removes what they were writing)."""
    context = multiprocessing.get_context(start_method())
    pool: list[_Worker[T]] = []
    try:
        for _ in range(workers):
            mine, theirs = context.Pipe()
            process = context.Process(  # type: ignore[attr-defined]  # every concrete context has one
                target=_serve, args=(theirs, function, os.getpid()), daemon=True)
            process.start()
            theirs.close()  # the worker's end lives in the worker alone: its death closes the pipe
            pool.append(_Worker(process, mine))
        yield from _results(pool, iter(batches))
    finally:
        for worker in pool:
            worker.process.terminate()
        for worker in pool:
            worker.process.join()
            worker.conn.close()


@dataclass(eq=False)
class _Worker(Generic[T]):
    process: Any  # a multiprocessing Process of the chosen context
    conn: Connection
    batch: _Batch[T] | None = None  # what it works on; None when idle


@dataclass(eq=False)
class _Batch(Generic[T]):
    tasks: list[T]
    results: list[Any] = field(default_factory=list)  # as received, the first `given` already yielded
    given: int = 0


def _results(pool: list[_Worker[T]], batches: Iterator[list[T]]) -> Iterator[Any]:
    ordered: deque[_Batch[T]] = deque()  # handed out, in the order their results are given
    for worker in pool:
        _hand_out(worker, batches, ordered)
    while ordered:
        head = ordered[0]
        while head.given < len(head.results):
            result, head.results[head.given] = head.results[head.given], None
            head.given += 1
            yield result
        if head.given == len(head.tasks):
            ordered.popleft()
            continue
        busy = [w for w in pool if w.batch is not None]
        ready = wait([w.conn for w in busy] + [w.process.sentinel for w in busy])
        for worker in busy:
            if worker.conn in ready or worker.process.sentinel in ready:
                _receive(worker, batches, ordered)


def _hand_out(worker: _Worker[T], batches: Iterator[list[T]], ordered: deque[_Batch[T]]) -> None:
    tasks = next(batches, None)
    while tasks is not None and not tasks:
        tasks = next(batches, None)
    if tasks is None:
        worker.batch = None
        return
    worker.batch = _Batch(list(tasks))
    ordered.append(worker.batch)
    try:
        worker.conn.send(worker.batch.tasks)
    except OSError:  # it died: waiting for it finds out, and names its first task
        pass


def _receive(worker: _Worker[T], batches: Iterator[list[T]], ordered: deque[_Batch[T]]) -> None:
    """Take every result `worker` has sent; if it has died, raise WorkerDied with its task."""
    batch = worker.batch
    assert batch is not None
    while worker.conn.poll():
        try:
            ok, value = worker.conn.recv()
        except EOFError:  # its end closed: it died (any result it sent was taken before)
            break
        if not ok:
            raise value
        batch.results.append(value)
        if len(batch.results) == len(batch.tasks):
            _hand_out(worker, batches, ordered)
            return
    if not worker.process.is_alive():
        worker.process.join()
        raise WorkerDied(batch.tasks[len(batch.results)], worker.process.exitcode)


def _serve(conn: Connection, function: Callable[[T], R], parent: int) -> None:
    """A worker: batches of tasks in, one (ok, result or exception) message per task out, until
    the parent closes its end."""
    _start_worker(parent)
    while True:
        try:
            tasks = conn.recv()
        except EOFError:
            return
        for task in tasks:
            try:
                reply: tuple[bool, Any] = (True, function(task))
            except Exception as exc:  # noqa: BLE001 - raised again in the parent, as Pool did
                reply = (False, exc)
            try:
                conn.send(reply)
            except Exception as exc:  # noqa: BLE001 - a result or an exception that cannot be pickled
                conn.send((False, RuntimeError(f"{type(exc).__name__}: {exc}")))


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
