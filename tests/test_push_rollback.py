"""A failed `push` leaves the profile exactly as it was: the collection, its media database and
its media folder (same files, same bytes; a media file of the same name as one in the package is
never overwritten or deleted), with the official `anki` engine on real collection files."""
from __future__ import annotations

import json
import re
import struct
import subprocess
import zipfile
import zlib
from pathlib import Path

import pytest
from anki.collection import Collection
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import neurodeck as nd
from conftest import release, write
from test_push import T0, make_profile


def png(width: int, height: int, seed: int) -> bytes:
    """A real RGB PNG of noise, which does not compress: its size is about width*height*3."""
    import random

    rows = random.Random(seed)
    raw = b"".join(b"\x00" + rows.randbytes(width * 3) for _ in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw, 0)) + chunk(b"IEND", b"")


def profile_state(col_path: Path) -> dict[str, bytes]:
    """Every file under the profile folder but its backups, by path, with its bytes."""
    profile = col_path.parent
    return {str(p.relative_to(profile)): p.read_bytes() for p in sorted(profile.rglob("*"))
            if p.is_file() and "backups" not in p.relative_to(profile).parts}


def package_media(package: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(package) as z:
        return {name: z.read(number) for number, name in json.loads(z.read("media")).items()}


def with_media(col_path: Path, files: dict[str, bytes]) -> None:
    """Media files in the profile's folder, registered in its media database as Anki would."""
    folder = col_path.with_suffix(".media")
    for name, data in files.items():
        (folder / name).write_bytes(data)
    col = Collection(str(col_path))
    try:
        col.media.check()
    finally:
        col.close()


def test_an_import_that_fails_after_writing_leaves_collection_media_database_and_folder_as_they_were(
        project, tmp_path, monkeypatch):
    col_path = make_profile(tmp_path / "Anki2")
    package = release(project, "v1", T0)
    [incoming] = package_media(package)
    # The user's own file under the very name the package's image has, with other bytes, and another.
    with_media(col_path, {incoming: b"the user's own file", "mine.mp3": b"ID3 not really"})
    before = profile_state(col_path)
    assert {"collection.anki2", "collection.media.db2", f"collection.media/{incoming}"} <= set(before)
    real = Collection.import_anki_package
    written = {}

    def import_then_fail(self, request):
        real(self, request)  # the notes and the image are written...
        written.update(profile_state(col_path))
        raise RuntimeError("disk full")  # ...then something goes wrong

    monkeypatch.setattr(Collection, "import_anki_package", import_then_fail)
    report, problems = nd.push(package, collection=col_path)
    assert report is None and "disk full" in problems[0].message and "restored" in problems[0].message
    # The failure came after the import wrote: a new media file sat beside the user's.
    assert len([name for name in written if name.startswith("collection.media/")]) == 3
    assert profile_state(col_path) == before
    monkeypatch.undo()
    report, problems = nd.push(package, collection=col_path)  # and a later push works
    assert problems == [] and len(report.new) == 5
    assert (col_path.parent / f"collection.media/{incoming}").read_bytes() == b"the user's own file"
    col = Collection(str(col_path))
    try:
        check = col.media.check()
        assert list(check.missing) == [] and sorted(check.unused) == [incoming, "mine.mp3"]
    finally:
        col.close()


def test_a_push_interrupted_during_the_import_is_put_back_and_the_interrupt_goes_on(project, tmp_path, monkeypatch):
    col_path = make_profile(tmp_path / "Anki2")
    package = release(project, "v1", T0)
    before = profile_state(col_path)
    real = Collection.import_anki_package

    def import_then_interrupt(self, request):
        real(self, request)
        raise KeyboardInterrupt  # Ctrl-C (or SIGTERM, which cli.run turns into it) right after

    monkeypatch.setattr(Collection, "import_anki_package", import_then_interrupt)
    with pytest.raises(KeyboardInterrupt):
        nd.push(package, collection=col_path)
    monkeypatch.undo()  # before the package checks that follow every test, which import too
    assert profile_state(col_path) == before


def test_a_profile_without_a_media_folder_or_database_gets_none_back(project, tmp_path, monkeypatch):
    col_path = make_profile(tmp_path / "Anki2")
    (col_path.parent / "collection.media").rmdir()
    before = profile_state(col_path)
    assert set(before) == {"collection.anki2"}

    def fail(self, request):
        raise RuntimeError("refused")

    monkeypatch.setattr(Collection, "import_anki_package", fail)
    assert "refused" in nd.push(release(project, "v1", T0), collection=col_path)[1][0].message
    monkeypatch.undo()
    assert profile_state(col_path) == before and not (col_path.parent / "collection.media").exists()


# ---- a full disk: a real file system of a chosen size (tmpfs, root only) -------------------------

BIG = {f"slice-{n}.png": png(160, 160, n) for n in range(3)}  # about 77 kB each


@pytest.fixture(scope="module")
def big_deck(tmp_path_factory):
    """A deck whose three images are large beside its collection, and the package it builds."""
    root = tmp_path_factory.mktemp("big")
    cards = "subtopic: Slices\ncards:\n" + "".join(
        f"  - id: slice-{n}\n    question: \"Which slice? ![s](media/{name})\"\n    answer: Number {n}.\n"
        f"    source: Test 2024\n" for n, name in enumerate(BIG))
    write(root / "decks" / "big.yaml", "name: Big\nnamespace: big-test\ncards: [cards/*.yaml]\n")
    write(root / "cards" / "a.yaml", cards)
    for name, data in BIG.items():
        (root / "cards" / "media" / name).parent.mkdir(exist_ok=True)
        (root / "cards" / "media" / name).write_bytes(data)
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(root)
        patch.setenv("NEURODECK_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))
        from neurodeck.pipeline.build import build

        result = build(Path("decks/big.yaml"), root / "dist", now=T0)
    assert result.ok, [p.format() for p in result.problems]
    return result.output


def used_bytes(folder: Path) -> int:
    import os

    stat = os.statvfs(folder)
    return (stat.f_blocks - stat.f_bfree) * stat.f_frsize


@pytest.fixture
def small_disk(mounts, tmp_path):
    """A tmpfs that can be shrunk to leave a chosen amount of free space."""
    disk = tmp_path / "disk"
    disk.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", str(disk)], check=True)
    yield disk
    subprocess.run(["umount", "-l", str(disk)], check=True)


@settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck))
@given(free=st.integers(0, 140))
@example(free=0)
@example(free=40)
@example(free=75)
@example(free=140)
def test_a_full_disk_at_any_point_of_a_push_leaves_the_profile_as_it_was_or_pushes_it_all(small_disk, big_deck, free):
    """`free` is the free space in 4 kB pages left on the disk holding the profile: from none (the
    copy before importing fails) through some (the backup, then the media copies fail) to enough."""
    import shutil

    for child in small_disk.iterdir():
        shutil.rmtree(child)
    subprocess.run(["mount", "-o", "remount,size=8m", str(small_disk)], check=True)
    col_path = make_profile(small_disk / "Anki2")
    with_media(col_path, {"mine.png": png(8, 8, 99)})
    before = profile_state(col_path)
    size = used_bytes(small_disk) + free * 4096
    subprocess.run(["mount", "-o", f"remount,size={size}", str(small_disk)], check=True)
    report, problems = nd.push(big_deck, collection=col_path)
    subprocess.run(["mount", "-o", "remount,size=8m", str(small_disk)], check=True)
    if problems:
        assert report is None, report
        # Python's sqlite3 only says "disk I/O error" for a full disk: push adds the free space.
        assert re.search(r"No space left on device|\(\d+ bytes free on its disk\)", problems[0].message), \
            problems[0].format()
        assert profile_state(col_path) == before
        assert [p.name for p in (col_path.parent / "backups").glob(".*")] == []
        return
    assert sorted(report.new) == ["slice-0", "slice-1", "slice-2"]
    col = Collection(str(col_path))
    try:
        check = col.media.check()
        assert list(check.missing) == [] and list(check.unused) == ["mine.png"]
        stored = {p.name for p in col_path.with_suffix(".media").iterdir()}
        assert set(package_media(big_deck)) <= stored
    finally:
        col.close()


# ---- a signal at any moment of a real `neurodeck push` process ------------------------------------

def _complete(backup: Path) -> bool:
    try:
        with zipfile.ZipFile(backup) as z:
            return z.testzip() is None and {"meta", "collection.anki21b", "media"} <= set(z.namelist())
    except zipfile.BadZipFile:
        return False


# Measured for the bundled deck on this machine: the collection is open (importing) from about
# 0.02 s to 0.6 s after the copy starts, so these land in the copy and across the import.
@pytest.mark.parametrize("signum, delay", [("SIGTERM", 0.0), ("SIGINT", 0.05), ("SIGTERM", 0.2), ("SIGINT", 0.4)])
def test_a_signal_during_push_leaves_the_profile_as_it_was_or_pushed_whole(bundled, tmp_path, signum, delay):
    """The command, in its own process, is signalled `delay` seconds after it starts copying the
    collection: it ends with the profile exactly as before, or with the whole deck pushed; never
    a rollback copy or a partial backup left behind, never a traceback."""
    import os
    import signal
    import subprocess
    import sys
    import time

    assert nd.build(Path("decks/neurobiology-of-intimacy.yaml"), "dist").ok  # push reuses this build
    col_path = make_profile(tmp_path / "Anki2")
    with_media(col_path, {"mine.png": png(8, 8, 1)})
    before = profile_state(col_path)
    copy = col_path.with_name(".collection.anki2.neurodeck-rollback")
    proc = subprocess.Popen([sys.executable, "-m", "neurodeck", "push", "--collection", str(col_path)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=dict(os.environ))
    try:
        deadline = time.monotonic() + 60
        while not copy.exists() and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.001)
        time.sleep(delay)
        proc.send_signal(getattr(signal, signum))
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert "Traceback" not in err, err
    assert not copy.exists() and list(col_path.parent.glob(".*neurodeck-rollback")) == []
    assert all(_complete(b) for b in (col_path.parent / "backups").glob("*.colpkg"))
    if profile_state(col_path) == before:
        assert proc.returncode != 0, out
        return
    # Pushed whole: the signal came after the import (before or after the report was printed,
    # so the exit code may be the signal's).
    [package] = Path("dist").glob("*.apkg")
    col = Collection(str(col_path))
    try:
        from neurodeck.apkg.reader import read_package

        assert col.note_count() == len(read_package(package)[0].notes) > 100
        check = col.media.check()
        assert list(check.missing) == [] and list(check.unused) == ["mine.png"]
        assert set(package_media(package)) <= {p.name for p in col_path.with_suffix(".media").iterdir()}
    finally:
        col.close()
