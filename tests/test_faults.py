"""Faults: killed builds, full and read-only disks, concurrent builds.

The tests run as root, which ignores file permissions, so they use real mounts: a tiny tmpfs
for a full disk and read-only mounts for unwritable folders (skipped without root; .ci/run is root).
"""
from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import textwrap
import time
import zipfile
from contextlib import contextmanager
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import REPO, write
from neurodeck.cli import main
from neurodeck.lockfile import read_lock
from neurodeck.pipeline.store import cache_root

BUILD = [sys.executable, "-m", "neurodeck", "build", "--out", "dist"]


@contextmanager
def mounted(target: Path, *options: str):
    target.mkdir(parents=True, exist_ok=True)
    subprocess.run(["mount", *options, str(target)], check=True, capture_output=True)
    try:
        yield target
    finally:
        subprocess.run(["umount", "-l", str(target)], check=False, capture_output=True)


def env() -> dict:
    return dict(os.environ, PYTHONPATH=str(REPO))


def add_cards(project: Path, count: int) -> None:
    """Make the deck big enough that a build takes a noticeable time."""
    lines = ["subtopic: Bulk", "cards:"]
    for i in range(count):
        lines += [f"  - id: bulk-{i}", f'    question: "Bulk question number {i} about *the* insula?"',
                  f'    answer: "Answer {i} with **bold** text and more words to render."']
    write(project / "cards" / "bulk.yaml", "\n".join(lines) + "\n")


def edit(project: Path, marker: str) -> None:
    path = project / "cards" / "a.yaml"
    path.write_text(path.read_text().replace("Single-unit recordings", f"Single-unit recordings {marker}"))


def assert_valid_state(project: Path) -> None:
    apkg = project / "dist" / "test-deck.apkg"
    with zipfile.ZipFile(apkg) as zf:
        assert zf.testzip() is None
        assert list(json.loads(zf.read("media"))) == ["0"]  # the fixture's one image
    lock, problems = read_lock(project / "decks" / "test-deck.lock", "lock")
    assert problems == [] and lock is not None and len(lock.notes) >= 5


def leftovers(project: Path) -> list[Path]:
    """Temporary files of neurodeck's, in the project and in the cache folder."""
    found = list(project.rglob(".neurodeck-*"))
    return sorted(found + list(cache_root().rglob("*.tmp")))


def test_sigkill_at_random_moments_never_corrupts(project):
    add_cards(project, 3000)
    subprocess.run(BUILD, cwd=project, env=env(), check=True, capture_output=True)
    start = time.monotonic()
    subprocess.run(BUILD, cwd=project, env=env(), check=True, capture_output=True)
    duration = time.monotonic() - start
    rng = random.Random(7)
    for attempt in range(8):
        edit(project, f"v{attempt}")
        before = (project / "dist" / "test-deck.apkg").read_bytes()
        proc = subprocess.Popen(BUILD, cwd=project, env=env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(0.05, duration * 1.2))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        assert_valid_state(project)  # the old package or the complete new one, never a part
        after = (project / "dist" / "test-deck.apkg").read_bytes()
        assert after == before or zipfile.ZipFile(project / "dist" / "test-deck.apkg").testzip() is None
    done = subprocess.run(BUILD, cwd=project, env=env(), capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert_valid_state(project)
    assert leftovers(project) == []


def test_sigkill_during_the_package_write_keeps_the_old_package(project):
    subprocess.run(BUILD, cwd=project, env=env(), check=True, capture_output=True)
    good_apkg = (project / "dist" / "test-deck.apkg").read_bytes()
    good_lock = (project / "decks" / "test-deck.lock").read_bytes()
    edit(project, "edited")
    marker = project / "writing"
    script = textwrap.dedent(f"""
        import time, pathlib
        from neurodeck.apkg import files as package
        from neurodeck import cli
        real = package.commit
        def slow_commit(tmp, target):
            pathlib.Path({str(marker)!r}).write_text(str(tmp))
            time.sleep(60)
            real(tmp, target)
        package.commit = slow_commit
        cli.main(["build", "--out", "dist"])
    """)
    proc = subprocess.Popen([sys.executable, "-c", script], cwd=project, env=env())
    deadline = time.monotonic() + 60
    while not marker.exists() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert marker.exists()
    assert Path(marker.read_text()).exists()  # the new package is fully written, not yet in place
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert (project / "dist" / "test-deck.apkg").read_bytes() == good_apkg
    assert (project / "decks" / "test-deck.lock").read_bytes() == good_lock
    assert leftovers(project) != []
    done = subprocess.run(BUILD, cwd=project, env=env(), capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert leftovers(project) == []
    assert (project / "dist" / "test-deck.apkg").read_bytes() != good_apkg


@pytest.mark.usefixtures("mounts")
def test_full_disk_is_a_clear_error_and_keeps_the_previous_package(project):
    with mounted(project / "dist", "-t", "tmpfs", "-o", "size=256k", "tmpfs"):
        assert CliRunner().invoke(main, ["build"]).exit_code == 0
        good = (project / "dist" / "test-deck.apkg").read_bytes()
        big = project / "cards" / "media" / "big.png"
        big.write_bytes(b"\x89PNG\r\n\x1a\n" + os.urandom(400_000))
        write(project / "cards" / "c.yaml", 'subtopic: Big\ncards:\n  - id: big\n    question: "![x](media/big.png)"\n'
                                            "    answer: A big image.\n")
        result = CliRunner().invoke(main, ["build"])
        assert result.exit_code == 1
        assert "error: cannot write: No space left on device" in result.stderr
        assert "hint: the disk is full" in result.stderr
        assert (project / "dist" / "test-deck.apkg").read_bytes() == good
        assert sorted(p.name for p in (project / "dist").iterdir()) == ["test-deck.apkg"]


@pytest.mark.usefixtures("mounts")
def test_read_only_output_folder_is_a_clear_error(project):
    with mounted(project / "ro", "-t", "tmpfs", "-o", "ro,size=1m", "tmpfs"):
        result = CliRunner().invoke(main, ["build", "--out", "ro/dist"])
        assert result.exit_code == 1
        assert "cannot write: Read-only file system" in result.stderr
        assert "hint: the file system is read-only" in result.stderr
        assert "Traceback" not in result.output


@pytest.mark.usefixtures("mounts")
def test_read_only_lock_fails_without_replacing_the_package(project):
    assert CliRunner().invoke(main, ["build"]).exit_code == 0
    good = (project / "dist" / "test-deck.apkg").read_bytes()
    decks = project / "decks"
    edit(project, "edited")
    subprocess.run(["mount", "--bind", str(decks), str(decks)], check=True)
    try:
        subprocess.run(["mount", "-o", "remount,ro,bind", str(decks)], check=True)
        result = CliRunner().invoke(main, ["build"])
    finally:
        subprocess.run(["umount", "-l", str(decks)], check=False)
    assert result.exit_code == 1
    assert "decks" in result.stderr and "Read-only file system" in result.stderr
    assert (project / "dist" / "test-deck.apkg").read_bytes() == good
    assert leftovers(project) == []


def test_two_builds_at_once_both_succeed_and_agree(project):
    add_cards(project, 1500)
    procs = [subprocess.Popen(BUILD, cwd=project, env=env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
             for _ in range(2)]
    assert [p.wait() for p in procs] == [0, 0]
    assert_valid_state(project)
    built = (project / "dist" / "test-deck.apkg").read_bytes()
    check = subprocess.run(BUILD + ["--locked"], cwd=project, env=env(), capture_output=True, text=True)
    assert check.returncode == 0, check.stderr  # the lock is consistent with the sources
    assert (project / "dist" / "test-deck.apkg").read_bytes() == built
    assert leftovers(project) == []
