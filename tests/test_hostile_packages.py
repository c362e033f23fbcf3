"""Hostile packages given to `diff` and `check-upgrade`: each is a located Problem and exit 1, never
a traceback, in bounded time and temporary disk space. The reader (apkg/reader.py) bounds
extraction, opens SQLite read-only with a progress handler, reads only real tables and measures
JSON nesting before parsing it."""
from __future__ import annotations

import functools
import io
import os
import sqlite3
import struct
import threading
import time
import zipfile
import zlib
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import release
from neurodeck.apkg.reader import Limits, check_package, json_depth, read_package
from neurodeck.cli import main

GIB = 1 << 30


def stored_zip(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return path


def deflate_bomb(path: Path, member: str, size: int) -> Path:
    """A zip whose `member` inflates to `size` zeros from about size/1000 bytes, written by hand:
    a 1 MiB block of zeros, deflated once and ended by a full flush (so it stands alone), repeated."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = compressor.compress(bytes(1 << 20)) + compressor.flush(zlib.Z_FULL_FLUSH)
    count = size >> 20
    data = block * count + zlib.compressobj(9, zlib.DEFLATED, -15).flush()
    crc = 0
    zeros = bytes(1 << 20)
    for _ in range(count):
        crc = zlib.crc32(zeros, crc)
    name = member.encode()
    # zip64 extra fields: the sizes do not fit in 32 bits.
    local_extra = struct.pack("<HHQQ", 1, 16, size, len(data))
    local = struct.pack("<IHHHHHIIIHH", 0x04034B50, 45, 0, 8, 0, 0x21, crc, 0xFFFFFFFF, 0xFFFFFFFF,
                        len(name), len(local_extra)) + name + local_extra
    central_extra = struct.pack("<HHQQQ", 1, 24, size, len(data), 0)
    central = struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 45, 45, 0, 8, 0, 0x21, crc, 0xFFFFFFFF, 0xFFFFFFFF,
                          len(name), len(central_extra), 0, 0, 0, 0, 0xFFFFFFFF) + name + central_extra
    offset = len(local) + len(data)
    zip64_end = struct.pack("<IQHHIIQQQQ", 0x06064B50, 44, 45, 45, 0, 0, 1, 1, len(central), offset)
    locator = struct.pack("<IIQI", 0x07064B50, 0, offset + len(central), 1)
    end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, 1, 1, len(central), offset, 0)
    path.write_bytes(local + data + central + zip64_end + locator + end)
    return path


def zstd_bomb(path: Path, size: int) -> Path:
    """A current-format package whose collection.anki21b is a zstd frame of `size` zeros."""
    import zstandard

    out = io.BytesIO()
    compressor = zstandard.ZstdCompressor(level=1).compressobj()
    chunk = bytes(8 << 20)
    for _ in range(size // len(chunk)):
        out.write(compressor.compress(chunk))
    out.write(compressor.flush())
    return stored_zip(path, {"meta": b"\x08\x03", "collection.anki21b": out.getvalue(), "media": b""})


def collection_with(path: Path, sql: str) -> Path:
    """A package holding a schema-11 collection made by `sql`."""
    db = path.with_suffix(".db")
    conn = sqlite3.connect(db)
    conn.executescript(sql)
    conn.commit()
    conn.close()
    return stored_zip(path, {"collection.anki2": db.read_bytes(), "media": b"{}"})


TABLES = """
CREATE TABLE col (id integer primary key, crt integer, mod integer, scm integer, ver integer, dty integer,
                  usn integer, ls integer, conf text, models text, decks text, dconf text, tags text);
CREATE TABLE cards (id integer primary key, nid integer, did integer, ord integer);
INSERT INTO col VALUES (1, 0, 0, 0, 11, 0, 0, 0, '{}', '{}', '{"1": {"name": "Default"}}', '{}', '{}');
"""
NOTES = "CREATE TABLE notes (id integer primary key, guid text, mid integer, mod integer, flds text, tags text);"


class DiskWatch:
    """The peak size of everything under a folder, sampled every few milliseconds."""

    def __init__(self, folder: Path):
        self.folder, self.peak, self._stop = folder, 0, threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            total = 0
            for root, _, files in os.walk(self.folder):
                for name in files:
                    try:
                        total += os.stat(os.path.join(root, name)).st_size
                    except OSError:
                        pass
            self.peak = max(self.peak, total)
            time.sleep(0.005)

    def __enter__(self) -> DiskWatch:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()


@pytest.fixture
def good(project) -> Path:
    return release(project, "good", 1_700_000_000)


@pytest.fixture
def tmpdir_watched(tmp_path, monkeypatch):
    """TMPDIR pointed at a fresh folder, so that what the commands extract can be measured."""
    import tempfile

    folder = tmp_path / "tmp"
    folder.mkdir()
    monkeypatch.setenv("TMPDIR", str(folder))
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return folder


def run_both(good: Path, bad: Path) -> list:
    """diff and check-upgrade on a hostile NEW: each result, with its time."""
    results = []
    for command in (["diff", str(good), str(bad)], ["check-upgrade", str(good), str(bad)]):
        start = time.monotonic()
        result = CliRunner().invoke(main, command)
        results.append((result, time.monotonic() - start))
    return results


def assert_refused(results, bad: Path, words: str, seconds: float = 15) -> None:
    for result, elapsed in results:
        assert result.exit_code == 1, result.output
        assert f"{bad}: error: " in result.stderr and words in result.stderr, result.stderr
        assert "Traceback" not in result.output
        assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
        assert elapsed < seconds


def test_a_2_mb_zip_that_expands_to_2_gib_is_refused_before_extracting(good, tmp_path, tmpdir_watched):
    bomb = deflate_bomb(tmp_path / "bomb.apkg", "collection.anki2", 2 * GIB)
    assert bomb.stat().st_size < 3 << 20
    with zipfile.ZipFile(bomb) as zf:  # a real zip: Python's own reader would expand it whole
        assert zf.getinfo("collection.anki2").file_size == 2 * GIB
    with DiskWatch(tmpdir_watched) as disk:
        results = run_both(good, bomb)
    assert_refused(results, bomb, "zip bomb")
    assert disk.peak < 64 << 20  # the good package's collection, extracted for the comparison


def test_a_zstd_collection_that_expands_to_2_gib_stops_at_the_cap(good, tmp_path, tmpdir_watched):
    bomb = zstd_bomb(tmp_path / "zbomb.apkg", 2 * GIB)
    assert bomb.stat().st_size < 1 << 20
    with DiskWatch(tmpdir_watched) as disk:
        results = run_both(good, bomb)
    assert_refused(results, bomb, "zip bomb", seconds=30)
    assert disk.peak <= Limits().ratio_floor + (8 << 20)
    assert list(tmpdir_watched.iterdir()) == []  # nothing left behind


def test_a_notes_view_that_recurses_for_ever_is_refused(good, tmp_path):
    bad = collection_with(tmp_path / "view.apkg", TABLES + """
        CREATE VIEW notes AS WITH RECURSIVE r(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM r)
        SELECT x AS id, 'g' AS guid, 1 AS mid, 0 AS mod, 'a' AS flds, '' AS tags FROM r;""")
    assert_refused(run_both(good, bad), bad, "holds a view 'notes'")


def test_a_runaway_query_is_stopped_by_the_progress_handler(tmp_path):
    """Real tables, but reading them costs more than the budget allows (a tiny budget here)."""
    bad = collection_with(tmp_path / "slow.apkg", TABLES + NOTES + """
        WITH RECURSIVE r(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM r LIMIT 20000)
        INSERT INTO notes SELECT x, 'g' || x, 1, 0, 'a', '' FROM r;""")
    contents, problems = read_package(bad, limits=Limits(ops_per_byte=0, min_ops=10_000))
    assert contents is None and "takes far too long" in problems[0].message
    contents, problems = read_package(bad)
    assert problems == [] and len(contents.notes) == 20000


@pytest.mark.parametrize("depth", [33, 100_000])
def test_deeply_nested_json_in_col_models_is_refused(good, tmp_path, depth):
    bad = collection_with(tmp_path / "deep.apkg", TABLES + NOTES + f"""
        UPDATE col SET models = '{{"1": {"[" * depth}{"]" * depth}}}';""")
    assert_refused(run_both(good, bad), bad, "nests deeper than 32 levels")


@pytest.mark.parametrize("sql, words", [
    (TABLES, "has no table 'notes'"),
    (TABLES + "CREATE VIRTUAL TABLE notes USING fts5(guid);", "virtual table"),
    (TABLES + NOTES + "CREATE TRIGGER t AFTER INSERT ON cards BEGIN SELECT 1; END;", "holds a trigger"),
    (TABLES.replace("cards (id integer primary key,", "cards (id integer primary key, x AS (nid * 2),")
     + NOTES, "generated columns"),
    (TABLES + NOTES + "INSERT INTO notes VALUES (1, 'g', 1, 0, x'00ff', '');", ""),
    (TABLES + NOTES + "INSERT INTO notes VALUES (1, 'g', 1, 'soon', 'a', '');", "instead of an integer"),
    (TABLES + NOTES + "UPDATE col SET models = '[1, 2]';", "not a JSON object"),
    (TABLES + NOTES + """UPDATE col SET models = '{"1": {"id": 1}}';""", "unexpected note type data"),
])
def test_collections_that_are_not_what_anki_writes_are_problems(good, tmp_path, sql, words):
    bad = collection_with(tmp_path / "odd.apkg", sql)
    if words:
        assert_refused(run_both(good, bad), bad, words)
    else:  # a blob where text belongs reads as text: a package, if an odd one
        contents, problems = read_package(bad)
        assert problems == [] and contents.notes[0].fields == ("\x00\ufffd",)


def test_json_depth_ignores_brackets_in_strings():
    assert json_depth('{"a": "[[[[{{{{", "b": [1, {"c": "\\"]]"}]}') == 3
    assert json_depth("[]") == 1 and json_depth('"x"') == 0


# ---- generated corruption -------------------------------------------------------------------

@functools.cache
def pristine() -> tuple[bytes, bytes]:
    """A package built by neurodeck and its collection, to corrupt (made once; not a fixture, so
    that hypothesis does not print its bytes with every failing example)."""
    import shutil
    import tempfile

    from conftest import CARDS_A, CARDS_B, MANIFEST, PNG, write
    from neurodeck.pipeline.build import build

    root = Path(tempfile.mkdtemp(prefix="pristine-"))
    write(root / "decks" / "test-deck.yaml", MANIFEST)
    write(root / "cards" / "a.yaml", CARDS_A)
    write(root / "cards" / "b.yaml", CARDS_B)
    (root / "cards" / "media").mkdir()
    (root / "cards" / "media" / "insula.png").write_bytes(PNG)
    result = build(root / "decks" / "test-deck.yaml", root / "dist", now=1_700_000_000)
    data = result.output.read_bytes()
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        collection = zf.read("collection.anki2")
    shutil.rmtree(root)
    return data, collection


MUTATION = st.lists(st.tuples(st.integers(0, 1 << 30), st.integers(0, 255)), min_size=1, max_size=8)


def mutate(data: bytes, changes, cut: int | None) -> bytes:
    out = bytearray(data)
    for position, value in changes:
        out[position % len(out)] = value
    return bytes(out[:cut % len(out)] if cut is not None else out)


@pytest.mark.fuzz
@settings(max_examples=600, deadline=None, suppress_health_check=list(HealthCheck))
@given(changes=MUTATION, cut=st.none() | st.integers(0, 1 << 30), inside=st.booleans())
def test_corrupt_packages_and_collections_never_raise(tmp_path_factory, changes, cut, inside):
    """Bytes changed or cut off anywhere, in the zip or in the SQLite file inside it: the reader
    returns contents or a Problem, never raises, and finishes quickly."""
    package, collection = pristine()
    folder = tmp_path_factory.mktemp("corrupt")
    if inside:
        data = stored_zip(folder / "c.apkg", {"collection.anki2": mutate(collection, changes, cut), "media": b"{}"})
    else:
        data = folder / "c.apkg"
        data.write_bytes(mutate(package, changes, cut))
    start = time.monotonic()
    contents, problems = read_package(data)
    assert (contents is None) == bool(problems)
    assert all(p.location.path == str(data) and p.message for p in problems)
    assert all(p.location.path == str(data) and p.message for p in check_package(data))
    assert time.monotonic() - start < 10


@pytest.mark.fuzz
@settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck))
@given(changes=MUTATION, inside=st.booleans())
def test_corrupt_packages_through_both_commands(tmp_path_factory, changes, inside):
    """A sample through the command line, check-upgrade's Anki engine included: exit 0 or 1,
    never a traceback."""
    package, collection = pristine()
    folder = tmp_path_factory.mktemp("corrupt-cli")
    good = folder / "good.apkg"
    good.write_bytes(package)
    if inside:
        bad = stored_zip(folder / "bad.apkg", {"collection.anki2": mutate(collection, changes, None), "media": b"{}"})
    else:
        bad = folder / "bad.apkg"
        bad.write_bytes(mutate(package, changes, None))
    for result, elapsed in run_both(good, bad):
        assert result.exit_code in (0, 1), result.output
        assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
        assert "Traceback" not in result.output and elapsed < 60
        if result.exit_code == 1 and "error:" in result.stderr:
            assert f"{bad}: error: " in result.stderr or f"{good}" in result.stderr
