"""The worker pool gives the same package, byte for byte, as processing every file in the build's
own process, whichever way the workers are started."""
from __future__ import annotations

import os
import sys
import threading
from pathlib import Path

import pytest

from conftest import write
from neurodeck.pipeline import cache, workers
from neurodeck.pipeline.build import build
from neurodeck.pipeline.cache import _process_remote as original_remote

MANIFEST = Path("decks/test-deck.yaml")


def add_files(project: Path, count: int) -> None:
    for i in range(count):
        cards = "\n".join(f"  - id: par-{i}-{j}\n    question: \"File {i}, card {j}: *which* area?\"\n"
                          f"    answer: \"Area **{j}**, see ![insula](media/insula.png)\"" for j in range(5))
        write(project / "cards" / f"par-{i:02d}.yaml", f"subtopic: Part {i % 3}\ntags: [t{i}]\ncards:\n{cards}\n")


def recording_remote(batch, deck, store):
    """`_process_remote`, noting which process did the work (spawned workers import this module)."""
    folder = deck.root.parent / "worker-pids"
    folder.mkdir(exist_ok=True)
    (folder / str(os.getpid())).touch()
    return original_remote(batch, deck, store)


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
