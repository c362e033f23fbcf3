"""Writes are atomic and name the file they could not write (issue 12, rule 6), and readers
never see half a release (rule 11).

The tests run as root, which ignores file permissions, so unwritable places are real mounts
(a tiny tmpfs for a full disk, read-only bind mounts) or injected errors."""
from __future__ import annotations

import errno
import json
import os
import re
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from neurodeck.cli import main
from test_faults import add_cards, leftovers, mounted


def env() -> dict:
    """The environment of a subprocess that imports this very neurodeck."""
    import neurodeck

    return dict(os.environ, PYTHONPATH=str(Path(neurodeck.__file__).resolve().parents[1]))

MANIFEST = Path("decks/test-deck.yaml")
LOCK = Path("decks/test-deck.lock")


def run(*args: str):
    return CliRunner().invoke(main, list(args))


def snapshot(root: Path) -> dict[str, bytes]:
    """Every file of the project but the cache: what a failed command must leave as it was."""
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file() and ".neurodeck-cache" not in p.parts}


def released(root: Path) -> tuple[str | None, str | None]:
    """(the manifest's version, the lock's release version)."""
    found = re.search(r"^version: (.*)$", (root / MANIFEST).read_text(), re.MULTILINE)
    lock = json.loads((root / LOCK).read_text()) if (root / LOCK).exists() else {}
    return found.group(1) if found else None, (lock.get("release") or {}).get("version")


# ---- rule 6: full disk, read-only files and folders --------------------------------------------

@pytest.mark.usefixtures("mounts")
def test_release_on_a_full_disk_leaves_manifest_and_lock_whole(tmp_path, monkeypatch):
    """The reported case: `release` rewrote the manifest in place and left it truncated. Here the
    project lives on a tiny tmpfs, filled so that k bytes stay free, for many k: whichever write
    fails first, every file is as it was and the message names it; or the release is complete."""
    from conftest import CARDS_A, CARDS_B, PNG
    from conftest import MANIFEST as MANIFEST_TEXT

    root = tmp_path / "disk"
    with mounted(root, "-t", "tmpfs", "-o", "size=1m", "tmpfs"):
        for rel, text in (("decks/test-deck.yaml", MANIFEST_TEXT + "# " + "padding " * 2000 + "\n"),
                          ("cards/a.yaml", CARDS_A), ("cards/b.yaml", CARDS_B)):
            (root / rel).parent.mkdir(parents=True, exist_ok=True)
            (root / rel).write_text(textwrap.dedent(text))
        (root / "cards" / "media").mkdir()
        (root / "cards" / "media" / "insula.png").write_bytes(PNG)
        monkeypatch.chdir(root)
        monkeypatch.setenv("NEURODECK_CACHE_DIR", str(tmp_path / "cache"))
        assert run("release", "1.0.0", "--out", str(tmp_path / "dist")).exit_code == 0
        filler = root / "filler"
        outcomes = set()
        for version, free_pages in enumerate(range(0, 12), start=1):
            before = snapshot(root)
            filler.unlink(missing_ok=True)
            free = os.statvfs(root).f_bavail * os.statvfs(root).f_frsize
            filler.write_bytes(b"\0" * max(0, free - free_pages * 4096))
            before = snapshot(root)
            result = run("release", f"1.{version}.0", "--out", str(tmp_path / "dist"))
            assert "Traceback" not in result.output and result.exception is None or isinstance(
                result.exception, SystemExit), result.output
            after = snapshot(root)
            manifest_version, lock_version = released(root)
            if result.exit_code == 0:
                assert manifest_version == lock_version == f"1.{version}.0"
                outcomes.add("released")
            else:
                assert result.exit_code == 1, result.output
                assert after == before, result.output  # every file as it was, none truncated
                assert "cannot write: No space left on device" in result.stderr
                named = re.findall(r"^(\S+): error: cannot write", result.stderr, re.MULTILINE)
                assert named and all(n in ("decks/test-deck.yaml", "decks/test-deck.lock") for n in named), \
                    result.stderr  # the file that could not be written, not `dist`
                outcomes.add("refused")
            assert leftovers(root) == []
            filler.unlink()
        assert outcomes == {"released", "refused"}


def test_read_only_manifest_and_lock_are_refused_by_name(project):
    assert run("release", "1.0.0").exit_code == 0
    for path in (MANIFEST, LOCK):
        before = snapshot(project)
        os.chmod(path, 0o444)
        try:
            result = run("release", "2.0.0")
        finally:
            os.chmod(path, 0o644)
        assert result.exit_code == 1 and "Traceback" not in result.output
        assert f"{path}: error: cannot write: the file is read-only" in result.stderr, result.stderr
        assert snapshot(project) == before


@pytest.mark.usefixtures("mounts")
def test_read_only_folders_are_refused_by_name(project):
    manifest = project / MANIFEST  # globs that `new` must extend
    manifest.write_text(manifest.read_text().replace("[cards/*.yaml]", "[cards/a.yaml, cards/b.yaml]"))
    assert run("build").exit_code == 0
    decks = project / "decks"
    before = snapshot(project)
    subprocess.run(["mount", "--bind", str(decks), str(decks)], check=True)
    try:
        subprocess.run(["mount", "-o", "remount,ro,bind", str(decks)], check=True)
        results = {"release": run("release", "1.0.0"),
                   "new": run("new", "Fresh Topic", "--manifest", str(MANIFEST))}
        # the lock, not the output folder, is what could not be written
        (project / "cards" / "a.yaml").write_text((project / "cards" / "a.yaml").read_text().replace(
            "Single-unit recordings", "Single-unit recordings, edited"))
        results["build"] = run("build")
    finally:
        subprocess.run(["umount", "-l", str(decks)], check=False)
    assert "decks/test-deck.yaml: error: cannot write: Read-only file system" in results["release"].stderr
    assert "decks/test-deck.yaml: error: cannot write: Read-only file system" in results["new"].stderr
    assert "decks/test-deck.lock: error: cannot write: Read-only file system" in results["build"].stderr
    for result in results.values():
        assert result.exit_code == 1 and "Traceback" not in result.output
    after = snapshot(project)
    after.pop("cards/a.yaml"), before.pop("cards/a.yaml")
    assert after == before  # the new card file was taken back, the package kept
    assert leftovers(project) == []


FAULTS = {errno.ENOSPC: "No space left on device", errno.EROFS: "Read-only file system",
          errno.EACCES: "Permission denied", errno.EDQUOT: "Disk quota exceeded"}
COMMANDS = [("release", "3.0.0"), ("build",), ("new", "Fresh Topic", "--manifest", str(MANIFEST)),
            ("preview",)]


@pytest.mark.fuzz  # thousands of packages: Anki's checks run in the other tests
@settings(max_examples=40, deadline=None, derandomize=True, database=None,
          suppress_health_check=list(HealthCheck))
@given(command=st.sampled_from(COMMANDS), error=st.sampled_from(sorted(FAULTS)),
       call=st.sampled_from(["mkstemp", "fsync", "replace"]), nth=st.integers(0, 4))
def test_any_failing_write_leaves_every_file_and_names_it(project_factory, command, error, call, nth):
    """Property: inject an OS error into the nth temporary file, flush or rename of any command.
    Either the command succeeds (the fault hit nothing it needs), or it exits 1 naming the file
    whose write failed, and every project file is as it was."""
    root = project_factory()
    before = snapshot(root)
    calls: list[str] = []
    targets: list[str] = []
    failed: list[str | None] = []
    real = {"mkstemp": tempfile.mkstemp, "fsync": os.fsync, "replace": os.replace}

    def faulty(name):
        def call_it(*args, **kwargs):
            if name == "mkstemp":  # prefix ".neurodeck-<target>." in folder dir
                prefix, folder = kwargs.get("prefix", ""), kwargs.get("dir")
                if prefix.startswith(".neurodeck-"):
                    targets.append(os.path.join(folder, prefix[len(".neurodeck-"):-1]))
            if name == "replace":
                targets.append(str(args[1]))
            if name == call:
                calls.append(name)
                if len(calls) - 1 == nth:
                    failed.append(targets[-1] if targets else None)
                    raise OSError(error, os.strerror(error))
            return real[name](*args, **kwargs)
        return call_it

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(tempfile, "mkstemp", faulty("mkstemp"))
        mp.setattr(os, "fsync", faulty("fsync"))
        mp.setattr(os, "replace", faulty("replace"))
        result = run(*command)
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    if result.exit_code == 0:
        return
    assert result.exit_code == 1, result.output
    assert f"cannot write: {FAULTS[error]}" in result.stderr, result.stderr
    named = re.findall(r"^(\S+): error: cannot write", result.stderr, re.MULTILINE)
    assert len(named) == 1 and failed and failed[0], (result.stderr, failed)
    assert named[0] == os.path.relpath(failed[0]), (result.stderr, failed)
    assert snapshot(root) == before
    assert leftovers(root) == []


@pytest.fixture
def project_factory(tmp_path_factory, monkeypatch):
    """A fresh copy of the fixture project, built and released once, as the working folder."""
    from conftest import CARDS_A, CARDS_B, PNG, write
    from conftest import MANIFEST as MANIFEST_TEXT

    def make() -> Path:
        root = tmp_path_factory.mktemp("proj")
        write(root / "decks" / "test-deck.yaml", MANIFEST_TEXT)
        write(root / "cards" / "a.yaml", CARDS_A)
        write(root / "cards" / "b.yaml", CARDS_B)
        (root / "cards" / "media").mkdir()
        (root / "cards" / "media" / "insula.png").write_bytes(PNG)
        monkeypatch.chdir(root)
        assert run("release", "1.0.0").exit_code == 0
        assert run("preview").exit_code == 0
        write(root / "cards" / "a.yaml", CARDS_A.replace("Single-unit recordings", "Edited recordings"))
        return root

    return make


# ---- rule 11: readers never see half a release -------------------------------------------------

READER = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from neurodeck.pipeline.build import compile_deck
    deadline = time.monotonic() + float(sys.argv[1])
    runs = torn = 0
    while time.monotonic() < deadline:
        problems = compile_deck(Path("decks/test-deck.yaml")).problems
        runs += 1
        torn += any("has not been released" in p.message for p in problems)
    print(runs, torn)
""")


def test_validate_during_releases_sees_whole_releases(project):
    """A reader loop in other processes while releases run: every validation sees the old
    manifest and lock or the new ones (5 of 400 saw one of each before)."""
    add_cards(project, 1500)  # a release's build takes long enough for readers to run meanwhile
    assert run("release", "1.0.0").exit_code == 0
    readers = [subprocess.Popen([sys.executable, "-c", READER, "12"], cwd=project, env=env(),
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    versions = 0
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        versions += 1
        result = subprocess.run([sys.executable, "-m", "neurodeck", "release", f"1.{versions}.0"], cwd=project,
                                env=env(), capture_output=True, text=True)
        assert result.returncode == 0, result.stderr
    counts = [tuple(map(int, r.communicate()[0].split())) for r in readers]
    assert sum(runs for runs, _ in counts) >= 20, counts
    assert [torn for _, torn in counts] == [0, 0], counts
    assert versions >= 3 and released(project) == (f"1.{versions}.0",) * 2
