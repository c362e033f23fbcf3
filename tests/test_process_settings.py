"""Process settings (the GC, signal handlers, the start method) belong to `cli.run()` alone:
the library and the Click commands leave them as they found them."""
from __future__ import annotations

import gc
import multiprocessing
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from click.testing import CliRunner

import neurodeck as nd
from conftest import REPO, write
from neurodeck.cli import main
from neurodeck.pipeline import workers
from neurodeck.pipeline.build import build, compile_deck

MANIFEST = Path("decks/test-deck.yaml")
SIGNALS = [signal.SIGINT, signal.SIGTERM, signal.SIGHUP]


def settings() -> tuple:
    return (gc.isenabled(), [signal.getsignal(s) for s in SIGNALS], multiprocessing.get_start_method(allow_none=True))


def add_files(project: Path, count: int) -> None:
    """Enough card files that the build uses worker processes."""
    for i in range(count):
        write(project / "cards" / f"extra-{i:02d}.yaml",
              f"subtopic: Extra {i}\ncards:\n  - id: extra-{i}\n    question: Question {i}?\n    answer: Answer {i}\n")


@pytest.mark.parametrize("gc_enabled", [True, False])
def test_library_calls_and_commands_leave_gc_signals_and_start_method_alone(project, monkeypatch, gc_enabled):
    add_files(project, 24)
    monkeypatch.setattr(os, "cpu_count", lambda: 2)  # the worker pool runs
    was_enabled = gc.isenabled()
    (gc.enable if gc_enabled else gc.disable)()
    try:
        before = settings()
        assert compile_deck(MANIFEST).ok
        assert settings() == before
        assert build(MANIFEST, project / "dist").ok
        assert settings() == before
        assert nd.validate(MANIFEST).ok and nd.build(MANIFEST, project / "dist").ok and nd.stats(MANIFEST)[0]
        assert settings() == before
        runner = CliRunner()
        for args in (["validate"], ["build"], ["build"], ["stats"], ["lint"]):
            runner.invoke(main, args)
            assert settings() == before, args
    finally:
        (gc.enable if was_enabled else gc.disable)()


def test_fork_only_on_linux_without_other_threads(monkeypatch):
    alone = subprocess.run([sys.executable, "-c", "from neurodeck.pipeline.workers import start_method; "
                            "print(start_method())"], capture_output=True, text=True, check=True,
                           env=dict(os.environ, PYTHONPATH=str(REPO / "generator")))
    assert alone.stdout.strip() == ("fork" if sys.platform.startswith("linux") else "spawn")

    stop = threading.Event()
    thread = threading.Thread(target=stop.wait)
    thread.start()
    try:
        assert workers.start_method() == "spawn"
    finally:
        stop.set()
        thread.join()

    monkeypatch.setattr(workers, "_threads", lambda: 1)
    for platform in ("darwin", "win32"):
        monkeypatch.setattr(sys, "platform", platform)
        assert workers.start_method() == "spawn"


def test_the_entry_point_exits_through_the_interpreter(tmp_path):
    # os._exit would skip atexit handlers (and the flush of every other open file)
    marker = tmp_path / "atexit-ran"
    code = (f"import atexit, sys; atexit.register(lambda: open({str(marker)!r}, 'w').close()); "
            "sys.argv = ['neurodeck', '--version']; from neurodeck.cli import run; run()")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env=dict(os.environ, PYTHONPATH=str(REPO / "generator")))
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("neurodeck ") and marker.exists()


def test_a_closed_pipe_is_no_error():
    proc = subprocess.Popen([sys.executable, "-m", "neurodeck", "--version"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=dict(os.environ, PYTHONPATH=str(REPO / "generator")))
    proc.stdout.close()  # like `neurodeck ... | head` once head has had enough
    assert proc.wait(timeout=60) == 1  # Click's answer to a closed pipe; not Python's 120
    assert proc.stderr.read() == b""  # no "Exception ignored ... BrokenPipeError" from the exit's flush
    proc.stderr.close()
