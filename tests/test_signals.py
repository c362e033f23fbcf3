"""Signals stop everything: SIGTERM, SIGHUP and Ctrl-C stop a build's worker processes and leave
no temporary file behind, and workers stop when their parent dies, command line or not."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil
import pytest

from conftest import REPO, write


def add_cards(project: Path, files: int = 60, per_file: int = 100) -> None:
    """Enough work that the worker processes are busy for a while."""
    for i in range(files):
        cards = "\n".join(f"  - id: sig-{i}-{j}\n    question: \"File {i}, card {j}: *which* area of the cortex?\"\n"
                          f"    answer: \"Area **{j}** with `code` and more words to render in the answer.\""
                          for j in range(per_file))
        write(project / "cards" / f"sig-{i:02d}.yaml", f"subtopic: Signals {i % 4}\ncards:\n{cards}\n")


def env() -> dict[str, str]:
    return dict(os.environ, PYTHONPATH=str(REPO / "generator"))


def workers_of(proc: subprocess.Popen, timeout: float = 60) -> list[psutil.Process]:
    """The worker processes of `proc`, once two are running."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and proc.poll() is None:
        children = psutil.Process(proc.pid).children(recursive=True)
        if len(children) >= 2:
            return children
        time.sleep(0.02)
    raise AssertionError(f"no workers seen (exit code {proc.poll()})")


def survivors(processes: list[psutil.Process], timeout: float = 15) -> list[psutil.Process]:
    deadline = time.monotonic() + timeout
    alive = processes
    while alive and time.monotonic() < deadline:
        alive = [p for p in alive if _running(p)]
        time.sleep(0.05)
    return alive


def _running(process: psutil.Process) -> bool:
    try:
        return process.is_running() and process.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def leftovers(project: Path, cache: Path) -> list[Path]:
    return sorted([*project.rglob(".neurodeck-*"), *cache.rglob("*.tmp"),
                   *Path(tempfile.gettempdir()).glob(".neurodeck-*")])


EXPECTED = {  # the exit code of each command after each signal
    ("build", signal.SIGTERM): 128 + signal.SIGTERM, ("build", signal.SIGHUP): 128 + signal.SIGHUP,
    ("build", signal.SIGINT): 1,  # Click's "Aborted!"
    ("build --watch", signal.SIGTERM): 128 + signal.SIGTERM, ("build --watch", signal.SIGHUP): 128 + signal.SIGHUP,
    ("build --watch", signal.SIGINT): 0,  # "Stopped watching."
}


@pytest.mark.parametrize("command", ["build", "build --watch"])
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP, signal.SIGINT], ids=lambda s: s.name)
def test_a_signal_stops_the_workers_and_leaves_nothing_behind(project, cache_folder, command, signum):
    add_cards(project)
    log = project.parent / "stderr.log"  # a file: surviving workers would hold a pipe open for ever
    with open(log, "w") as err:
        proc = subprocess.Popen([sys.executable, "-m", "neurodeck", *command.split()], cwd=project, env=env(),
                                stdout=subprocess.DEVNULL, stderr=err)
    try:
        workers = workers_of(proc)
        time.sleep(0.05)  # into the work: entries are being written
        assert proc.poll() is None and all(map(_running, workers)), "the workers were done before the signal"
        proc.send_signal(signum)
        code = proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    errors = log.read_text()
    assert code == EXPECTED[command, signum], errors
    assert "Traceback" not in errors
    assert survivors(workers) == []
    assert leftovers(project, cache_folder) == []
    assert not (project / "dist" / "test-deck.apkg").exists()  # stopped before the package was written


@pytest.mark.parametrize("signum", [signal.SIGKILL, signal.SIGTERM], ids=lambda s: s.name)
def test_workers_stop_when_a_library_caller_dies(project, signum):
    """No handler of ours is installed here: the workers must notice the death themselves."""
    add_cards(project)
    code = "from pathlib import Path; from neurodeck.pipeline.build import compile_deck; " \
           "compile_deck(Path('decks/test-deck.yaml'))"
    proc = subprocess.Popen([sys.executable, "-c", code], cwd=project, env=env(), stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        workers = workers_of(proc)
        assert proc.poll() is None
        proc.send_signal(signum)
        proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert survivors(workers) == []
