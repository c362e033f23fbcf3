"""Deterministic, atomic output and the --locked contract."""
from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

from neurodeck.pipeline.build import build

MANIFEST = Path("decks/test-deck.yaml")


def _run_build(project: Path, tz: str, epoch: str) -> bytes:
    env = dict(os.environ, TZ=tz, SOURCE_DATE_EPOCH=epoch)
    subprocess.run([sys.executable, "-m", "neurodeck", "build", "--out", "dist"], cwd=project, env=env,
                   check=True, capture_output=True)
    return (project / "dist" / "test-deck.apkg").read_bytes()


def test_same_sources_and_lock_give_the_same_bytes_in_other_folders_and_time_zones(project, tmp_path):
    assert build(MANIFEST, project / "dist", now=1_700_000_000).ok  # commit a lock
    shutil.rmtree(project / "dist")
    copy = tmp_path / "elsewhere" / "deep" / "copy"
    shutil.copytree(project, copy)
    os.utime(copy / "cards" / "media" / "insula.png", (1, 1))  # file times must not matter
    first = _run_build(project, "UTC", "1800000000")
    second = _run_build(copy, "Pacific/Kiritimati", "1750000000")
    assert first == second
    with zipfile.ZipFile(project / "dist" / "test-deck.apkg") as zf:
        infos = zf.infolist()
        assert [i.filename for i in infos] == ["collection.anki2", "0", "media"]
        assert {i.date_time for i in infos} == {(1980, 1, 1, 0, 0, 0)}
        assert {i.compress_type for i in infos} == {zipfile.ZIP_DEFLATED}


def test_new_lock_with_a_fixed_epoch_is_reproducible(project, tmp_path):
    copy = tmp_path / "copy"
    shutil.copytree(project, copy)
    assert _run_build(project, "UTC", "1700000000") == _run_build(copy, "Asia/Tokyo", "1700000000")
    assert (project / "decks" / "test-deck.lock").read_bytes() == (copy / "decks" / "test-deck.lock").read_bytes()


def test_locked_with_stale_or_missing_lock_fails_and_writes_nothing(project):
    result = build(MANIFEST, project / "dist", locked=True, now=1_700_000_000)
    assert not result.ok and "lock file is missing" in result.problems[0].message
    assert not (project / "dist").exists() and not (project / "decks" / "test-deck.lock").exists()

    assert build(MANIFEST, project / "dist", now=1_700_000_000).ok
    lock_before = (project / "decks" / "test-deck.lock").read_bytes()
    apkg_before = (project / "dist" / "test-deck.apkg").read_bytes()
    assert build(MANIFEST, project / "dist", locked=True, now=1_700_000_500).ok  # current lock: fine

    cards = project / "cards" / "a.yaml"
    cards.write_text(cards.read_text().replace("Single-unit recordings.", "Edited."))
    result = build(MANIFEST, project / "dist", locked=True, now=1_700_001_000)
    assert not result.ok and "lock file is out of date (--locked)" in result.problems[0].message
    assert (project / "decks" / "test-deck.lock").read_bytes() == lock_before
    assert (project / "dist" / "test-deck.apkg").read_bytes() == apkg_before


def test_failed_build_keeps_the_previous_package(project):
    assert build(MANIFEST, project / "dist", now=1_700_000_000).ok
    good = (project / "dist" / "test-deck.apkg").read_bytes()
    (project / "cards" / "a.yaml").write_text("subtopic: [broken\n")
    result = build(MANIFEST, project / "dist", now=1_700_000_100)
    assert not result.ok
    assert (project / "dist" / "test-deck.apkg").read_bytes() == good
    assert sorted(p.name for p in (project / "dist").iterdir()) == ["test-deck.apkg"]


def test_unchanged_rebuild_keeps_lock_and_bytes(project):
    first = build(MANIFEST, project / "dist", now=1_700_000_000)
    second = build(MANIFEST, project / "dist", now=1_800_000_000)
    assert first.sha256 == second.sha256 and not second.lock_written
    assert second.sha256 == hashlib.sha256((project / "dist" / "test-deck.apkg").read_bytes()).hexdigest()


def test_parallel_deflate_is_one_valid_stream_whatever_the_feeding(tmp_path):
    import random
    import zlib

    from neurodeck.apkg.deflate import PIECE, ParallelDeflate

    rng = random.Random(7)
    text = " ".join(rng.choice(["insula", "cortex", "oxytocin", "<p>", "\x1f"]) for _ in range(700_000)).encode()
    for data in (b"", b"x", text[:PIECE - 1], text[:PIECE], text[:PIECE + 1], text + os.urandom(PIECE)):
        outputs = set()
        for feed in (len(data) or 1, 4096, PIECE // 3 + 7):
            deflate = ParallelDeflate(1, threads=2)
            out = b"".join(deflate.compress(data[i:i + feed]) for i in range(0, len(data), feed)) + deflate.flush()
            assert zlib.decompress(out, -15) == data
            outputs.add(out)
        assert len(outputs) == 1  # the bytes depend on the input only


def test_the_collection_is_deflated_on_all_cores(project):
    # zipfile offers no parameter for the compressor; this fails if the hook stops working.
    import zlib

    from neurodeck.apkg.deflate import ParallelDeflate

    result = build(MANIFEST, Path("dist"))
    with zipfile.ZipFile(result.output) as zf, open(result.output, "rb") as raw:
        info = zf.getinfo("collection.anki2")
        raw.seek(info.header_offset + 26)
        name_length, extra_length = int.from_bytes(raw.read(2), "little"), int.from_bytes(raw.read(2), "little")
        raw.seek(info.header_offset + 30 + name_length + extra_length)
        stored = raw.read(info.compress_size)
        data = zf.read("collection.anki2")
    deflate = ParallelDeflate(1)
    assert stored == deflate.compress(data) + deflate.flush()
    assert stored != zlib.compress(data, 1)[2:-4]


def test_a_streamed_build_gives_the_package_written_in_one_go(project):
    # build() inserts each file's notes while the others render; package_deck() all at once.
    import io

    from neurodeck.pipeline.build import compile_deck, package_deck

    result = build(MANIFEST, Path("dist"), now=1_700_000_000)
    at_once = io.BytesIO()
    package_deck(compile_deck(MANIFEST, now=1_700_000_000), at_once, project)
    assert at_once.getvalue() == result.output.read_bytes()


def test_a_failed_build_leaves_no_output_folder_behind(project):
    cards = project / "cards" / "a.yaml"
    cards.write_text(cards.read_text().replace("id: ", "id: Bad Id ", 1))
    result = build(MANIFEST, project / "out" / "nested")
    assert not result.ok
    assert not (project / "out").exists()
