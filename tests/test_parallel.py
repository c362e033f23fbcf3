"""The worker pool gives the same package, byte for byte, as processing every file in the build's
own process, whichever way the workers are started."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import psutil
import pytest

from conftest import REPO, write
from neurodeck.pipeline import cache, workers
from neurodeck.pipeline.build import build
from neurodeck.pipeline.cache import _process_remote as original_remote

MANIFEST = Path("decks/test-deck.yaml")


def add_files(project: Path, count: int) -> None:
    for i in range(count):
        cards = "\n".join(f"  - id: par-{i}-{j}\n    question: \"File {i}, card {j}: *which* area?\"\n"
                          f"    answer: \"Area **{j}**, see ![insula](media/insula.png)\"" for j in range(5))
        write(project / "cards" / f"par-{i:02d}.yaml", f"subtopic: Part {i % 3}\ntags: [t{i}]\ncards:\n{cards}\n")


def recording_remote(job, deck, store):
    """`_process_remote`, noting which process did the work (spawned workers import this module)."""
    folder = deck.root.parent / "worker-pids"
    folder.mkdir(exist_ok=True)
    (folder / str(os.getpid())).touch()
    return original_remote(job, deck, store)


def build_with(project: Path, cache_folder: Path, monkeypatch, cores: int) -> tuple[bytes, set[int]]:
    pids = project.parent / "worker-pids"
    for leftover in pids.glob("*") if pids.exists() else []:
        leftover.unlink()
    monkeypatch.setenv("NEURODECK_CACHE_DIR", str(cache_folder))  # a cold cache each time
    monkeypatch.setattr(os, "cpu_count", lambda: cores)
    (project / "decks" / "test-deck.lock").unlink(missing_ok=True)
    result = build(MANIFEST, project / "dist", now=1_700_000_000)
    assert result.ok, [p.format() for p in result.problems]
    return result.output.read_bytes(), {int(p.name) for p in pids.glob("*")} if pids.exists() else set()


@pytest.mark.parametrize("start", ["as chosen", "beside a live thread", "as on macOS"])
def test_two_workers_give_the_bytes_of_the_serial_path(project, tmp_path, monkeypatch, start):
    add_files(project, 22)  # 24 card files with the fixture's two
    monkeypatch.setattr(cache, "_process_remote", recording_remote)

    serial, serial_pids = build_with(project, tmp_path / "cache-serial", monkeypatch, cores=1)
    assert serial_pids == set()  # no worker: every file in this process

    stop = threading.Event()
    if start == "beside a live thread":
        threading.Thread(target=stop.wait, daemon=True).start()
    elif start == "as on macOS":
        monkeypatch.setattr(sys, "platform", "darwin")
    try:
        expected = "fork" if start == "as chosen" and workers.start_method() == "fork" else "spawn"
        assert workers.start_method() == expected
        parallel, parallel_pids = build_with(project, tmp_path / "cache-parallel", monkeypatch, cores=2)
    finally:
        stop.set()
    assert len(parallel_pids) == 2 and os.getpid() not in parallel_pids  # the pool ran, with two workers
    assert parallel == serial

    # and from the cache the workers filled, the same bytes again
    again, again_pids = build_with(project, tmp_path / "cache-parallel", monkeypatch, cores=2)
    assert again == serial and again_pids == set()


KILLABLE = '''
import os
import time

from neurodeck.pipeline import cache

original = cache._process_remote


def remote(job, deck, store):
    """Every file compiled as usual; on victim.yaml, wait to be killed."""
    if job[0].name == "victim.yaml":
        (deck.root.parent / "victim-pid").write_text(str(os.getpid()))
        time.sleep(600)
    return original(job, deck, store)
'''

BUILD = '''
import os
import sys

import killable
from neurodeck.pipeline import cache, workers

cache._process_remote = killable.remote
os.cpu_count = lambda: 2
if sys.argv[1] == "spawn":
    workers.start_method = lambda: "spawn"
sys.argv = ["neurodeck", "build"]
from neurodeck.cli import run

run()
'''


@pytest.mark.parametrize("method", ["fork", "spawn"])
def test_a_worker_killed_while_compiling_is_a_located_error_and_writes_nothing(project, tmp_path, method):
    """A worker killed with SIGKILL (as the kernel kills one when memory runs out): the build
    stops with an error naming the file that worker was compiling, exits 1, and leaves the
    package and the lock as they were; the other worker stops too. Before, it waited for ever."""
    add_files(project, 22)
    write(project / "cards" / "victim.yaml", "subtopic: Victim\ncards:\n  - id: victim-1\n"
          "    question: \"Which file is compiled when the worker dies?\"\n    answer: \"This one.\"\n")
    (tmp_path / "helpers").mkdir()
    (tmp_path / "helpers" / "killable.py").write_text(KILLABLE)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(tmp_path / "helpers"), str(REPO / "generator")]),
               NEURODECK_CACHE_DIR=str(tmp_path / "cache"), SOURCE_DATE_EPOCH="1700000000")
    first = build(MANIFEST, project / "dist", now=1_700_000_000)  # in this process, the cache elsewhere
    assert first.ok
    package, lock = first.output.read_bytes(), (project / "decks" / "test-deck.lock").read_bytes()
    edit = project / "cards" / "victim.yaml"
    edit.write_text(edit.read_text().replace("This one.", "This one, edited."))

    proc = subprocess.Popen([sys.executable, "-c", BUILD, method], cwd=project, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        victim = tmp_path / "victim-pid"
        deadline = time.monotonic() + 120
        while not (victim.exists() and victim.read_text()) and proc.poll() is None:
            assert time.monotonic() < deadline, "no worker reached victim.yaml"
            time.sleep(0.05)
        assert proc.poll() is None, proc.communicate()
        pids = {child.pid for child in psutil.Process(proc.pid).children()  # the workers
                if "resource_tracker" not in " ".join(child.cmdline())}  # (spawn's helper process)
        assert len(pids) == 2 and int(victim.read_text()) in pids
        os.kill(int(victim.read_text()), signal.SIGKILL)
        out, err = proc.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()
        pytest.fail("the build hung after one of its workers was killed")
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 1, (out, err)
    assert "Traceback" not in err
    [line] = [line for line in err.splitlines() if "victim.yaml" in line]
    assert line.startswith(os.path.join("cards", "victim.yaml")) and "killed by signal SIGKILL" in line, err
    assert first.output.read_bytes() == package
    assert (project / "decks" / "test-deck.lock").read_bytes() == lock
    deadline = time.monotonic() + 10
    while any(psutil.pid_exists(pid) and psutil.Process(pid).status() != psutil.STATUS_ZOMBIE for pid in pids):
        assert time.monotonic() < deadline, "a worker outlived the build"
        time.sleep(0.05)
