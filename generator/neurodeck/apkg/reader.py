"""Reading an .apkg that someone else made: read-only, bounded in disk, memory and time.

`diff`, `check-upgrade` and the build's mod check read packages that may come from anywhere, so
the package is treated as hostile: its collection is extracted with a cap on the bytes written
(and on the ratio to the package's size, which is what a zip bomb breaks), SQLite opens the copy
read-only and immutable, a progress handler stops any query that runs away, only real tables are
read (a view or trigger named like Anki's tables is refused), and JSON is parsed only after its
nesting depth was measured. Every failure is a Problem located at the package, never an exception.

Anki writes three collection formats: `collection.anki2` (schema 11, what neurodeck and genanki
write), `collection.anki21` (the same schema, from Anki's legacy export) and `collection.anki21b`
(schema 18, compressed with zstd, from its current export). Packages with a newer collection
also hold a `collection.anki2` stub that only says "please update": the newest one is read.
"""
from __future__ import annotations

import json
import shutil
import sqlite3
import sys
import tempfile
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from itertools import accumulate
from pathlib import Path
from typing import IO, Any
from urllib.parse import quote

from neurodeck.model import Location, Problem

_RESERVE = 64 << 20  # free space left in the temporary folder after extracting
COLLECTIONS = ("collection.anki21b", "collection.anki21", "collection.anki2")  # newest first


@dataclass(frozen=True)
class Limits:
    """What a package may cost to read. The defaults admit every real deck (the largest shared
    decks have collections of a few hundred MB, compressed 3 to 10 times) and stop bombs early."""

    max_bytes: int = 4 << 30  # the whole package, decompressed
    max_ratio: int = 100  # decompressed bytes per package byte, beyond `ratio_floor`
    ratio_floor: int = 64 << 20  # any package may expand this far whatever its ratio
    max_json_depth: int = 32  # Anki's note type and deck JSON nests 4 levels
    max_json_bytes: int = 64 << 20
    ops_per_byte: int = 64  # SQLite VM steps per byte of database, per query...
    min_ops: int = 20_000_000  # ...and at least this many (a fraction of a second)
    max_value_bytes: int = 128 << 20  # the longest string or blob SQLite may build

    def cap(self, package_size: int) -> int:
        """The most bytes a package of this size may expand to."""
        return min(self.max_bytes, max(self.ratio_floor, self.max_ratio * package_size))


class PackageError(Exception):
    """Why a package cannot be read (becomes a Problem at the package)."""

    def __init__(self, message: str, hint: str | None = None):
        super().__init__(message)
        self.hint = hint


@dataclass(frozen=True)
class NoteTypeRecord:
    id: int
    name: str
    mod: int
    fields: tuple[tuple[str, int | None], ...]  # (name, id) in order; ids are absent in old exports
    templates: tuple[tuple[str, int | None], ...]
    cloze: bool
    css: str
    texts: tuple[tuple[str, str, str], ...]  # (template name, front, back)


@dataclass(frozen=True)
class NoteRecord:
    id: int
    guid: str
    notetype: int
    mod: int
    fields: tuple[str, ...]  # HTML, as stored
    tags: tuple[str, ...]  # in stored order


@dataclass
class PackageContents:
    """What a package holds, as plain data."""

    member: str  # the collection read: collection.anki2, .anki21 or .anki21b
    notes: list[NoteRecord] = field(default_factory=list)
    notetypes: dict[int, NoteTypeRecord] = field(default_factory=dict)
    decks: dict[int, str] = field(default_factory=dict)  # id -> "Parent::Child"
    cards: list[tuple[int, int]] = field(default_factory=list)  # (note id, deck id)


def read_package(path: Path, label: str | None = None, limits: Limits = Limits(),
                 cards: bool = True) -> tuple[PackageContents | None, list[Problem]]:
    """Everything `diff` and `check-upgrade` need from a package, or a located Problem."""
    where = Location(label or str(path))
    try:
        with open_collection(path, limits) as db:
            contents = PackageContents(db.member, notes=db.notes(), notetypes=db.notetypes(), decks=db.decks())
            if cards:
                contents.cards = db.cards()
            return contents, []
    except PackageError as exc:
        return None, [Problem(where, str(exc), exc.hint)]


def check_package(path: Path, label: str | None = None, limits: Limits = Limits()) -> list[Problem]:
    """Problems that make a package unsafe to hand to Anki's importer: every member is read
    (never written) within the caps, zstd media included, and its collection must be readable."""
    where = Location(label or str(path))
    try:
        with _zip(path) as zf:
            budget = _Budget(limits.cap(_size(path)))
            declared = sum(info.file_size for info in zf.infolist())
            if declared > budget.left:  # the headers admit it: no need to inflate anything
                raise PackageError(f"the package would expand to {declared:,} bytes, over the limit of "
                                   f"{budget.left:,} for a package of this size (a zip bomb?)")
            zstd_media = _meta_version(zf, budget) >= 3  # the current format compresses each media file
            for info in zf.infolist():
                with zf.open(info) as member:
                    stream: IO[bytes] = member
                    if info.filename == "collection.anki21b" or (zstd_media and info.filename not in COLLECTIONS
                                                                 and info.filename != "meta"):
                        stream = _zstd_reader(member, limits)
                    while budget.take(len(stream.read(1 << 20))):
                        pass
        with open_collection(path, limits) as db:
            db.notes()
            db.notetypes()
            db.decks()
    except PackageError as exc:
        return [Problem(where, str(exc), exc.hint)]
    return []


class CollectionReader:
    """A package's collection, extracted into a private folder and opened read-only."""

    def __init__(self, conn: sqlite3.Connection, member: str, limits: Limits, db_size: int):
        self.conn, self.member, self.limits = conn, member, limits
        self._ops = max(limits.min_ops, limits.ops_per_byte * db_size)
        self.schema = _check_schema(self)

    def query(self, sql: str, *args: object) -> list[tuple[Any, ...]]:
        """All rows of one query, stopped if it runs past its budget of VM steps."""
        steps = [0]

        def progress() -> int:
            steps[0] += 1000
            return steps[0] > self._ops  # non-zero interrupts the query

        self.conn.set_progress_handler(progress, 1000)
        try:
            return self.conn.execute(sql, args).fetchall()
        except sqlite3.OperationalError as exc:
            if "interrupted" in str(exc):
                raise PackageError("reading the collection takes far too long (a hostile or damaged package?)",
                                   "export the deck again from Anki, or rebuild it") from exc
            raise PackageError(f"not a readable Anki collection: {exc}") from exc
        except sqlite3.Error as exc:
            raise PackageError(f"not a readable Anki collection: {exc}") from exc
        finally:
            self.conn.set_progress_handler(None, 0)

    def note_mods(self) -> list[tuple[str, int]]:
        """(guid, mod) of every note: the cheap first look of the build's mod check."""
        return [(_text(g, "notes.guid"), _int(m, "notes.mod")) for g, m in self.query("select guid, mod from notes")]

    def notes(self, guids: list[str] | None = None) -> list[NoteRecord]:
        """Every note (or those with these GUIDs), in id order."""
        columns = "select id, guid, mid, mod, flds, tags from notes"
        if guids is None or len(guids) > 5000:
            rows = self.query(columns + " order by id")
        else:  # a few notes: looked up, not scanned
            batches = [guids[start:start + 500] for start in range(0, len(guids), 500)]
            rows = sorted(row for batch in batches
                          for row in self.query(f"{columns} where guid in ({','.join('?' * len(batch))})", *batch))
        wanted = None if guids is None else set(guids)
        out = []
        for nid, guid, mid, mod, flds, tags in rows:
            guid = _text(guid, "notes.guid")
            if wanted is not None and guid not in wanted:
                continue
            out.append(NoteRecord(_int(nid, "notes.id"), guid, _int(mid, "notes.mid"), _int(mod, "notes.mod"),
                                  tuple(_text(flds, "notes.flds").split("\x1f")),
                                  tuple(_text(tags, "notes.tags").split())))
        return out

    def card_ords(self) -> list[tuple[str, int]]:
        """(note GUID, template ordinal) of every card."""
        return [(_text(g, "notes.guid"), _int(o, "cards.ord"))
                for g, o in self.query("select n.guid, c.ord from cards c join notes n on n.id = c.nid")]

    def cards(self) -> list[tuple[int, int]]:
        return [(_int(n, "cards.nid"), _int(d, "cards.did")) for n, d in self.query("select nid, did from cards")]

    def decks(self) -> dict[int, str]:
        if self.schema >= 18:
            return {_int(i, "decks.id"): _text(n, "decks.name").replace("\x1f", "::")
                    for i, n in self.query("select id, name from decks")}
        data = self._col_json("decks")
        try:
            return {int(k): str(v["name"]) for k, v in data.items()}
        except (AttributeError, KeyError, TypeError, ValueError) as exc:
            raise PackageError(f"unexpected deck data in the collection ({exc.__class__.__name__}: {exc})") from exc

    def notetypes(self) -> dict[int, NoteTypeRecord]:
        try:
            return self._notetypes_18() if self.schema >= 18 else self._notetypes_11()
        except (AttributeError, KeyError, TypeError, ValueError, IndexError) as exc:
            raise PackageError(
                f"unexpected note type data in the collection ({exc.__class__.__name__}: {exc})") from exc

    def _notetypes_11(self) -> dict[int, NoteTypeRecord]:
        out = {}
        for model in self._col_json("models").values():
            flds = sorted(model["flds"], key=lambda f: int(f["ord"]))
            tmpls = sorted(model["tmpls"], key=lambda t: int(t["ord"]))
            out[int(model["id"])] = NoteTypeRecord(
                id=int(model["id"]), name=str(model["name"]), mod=int(model.get("mod", 0)),
                fields=tuple((str(f["name"]), _opt_int(f.get("id"))) for f in flds),
                templates=tuple((str(t["name"]), _opt_int(t.get("id"))) for t in tmpls),
                cloze=model.get("type") == 1, css=str(model.get("css", "")),
                texts=tuple((str(t["name"]), str(t.get("qfmt", "")), str(t.get("afmt", ""))) for t in tmpls))
        return out

    def _notetypes_18(self) -> dict[int, NoteTypeRecord]:
        # Schema 18 keeps note types in tables whose `config` columns are protocol buffers
        # (Anki's notetypes.proto); only a few scalar fields are needed, read by _proto_fields.
        fields: dict[int, list[tuple[int, str, int | None]]] = {}
        for ntid, ord_, name, config in self.query("select ntid, ord, name, config from fields"):
            fields.setdefault(_int(ntid, "fields.ntid"), []).append(
                (_int(ord_, "fields.ord"), _text(name, "fields.name"), _proto_int(_blob(config), 9)))
        templates: dict[int, list[tuple[int, str, int | None, str, str]]] = {}
        for ntid, ord_, name, config in self.query("select ntid, ord, name, config from templates"):
            values = _proto_fields(_blob(config))
            templates.setdefault(_int(ntid, "templates.ntid"), []).append(
                (_int(ord_, "templates.ord"), _text(name, "templates.name"), _proto_int_of(values, 8),
                 _proto_str(values, 1), _proto_str(values, 2)))
        out = {}
        for ntid, name, mtime, config in self.query("select id, name, mtime_secs, config from notetypes"):
            ntid = _int(ntid, "notetypes.id")
            values = _proto_fields(_blob(config))
            flds = sorted(fields.get(ntid, []))
            tmpls = sorted(templates.get(ntid, []))
            out[ntid] = NoteTypeRecord(
                id=ntid, name=_text(name, "notetypes.name"), mod=_int(mtime, "notetypes.mtime_secs"),
                fields=tuple((n, i) for _, n, i in flds), templates=tuple((n, i) for _, n, i, _, _ in tmpls),
                cloze=_proto_int_of(values, 1) == 1, css=_proto_str(values, 3),
                texts=tuple((n, q, a) for _, n, _, q, a in tmpls))
        return out

    def notetype_settings(self) -> dict[int, dict[str, Any]]:
        """Everything a note type holds that a student's Anki keeps, for `neurodeck adopt`: by id,
        its name, mod, kind (0 standard, 1 cloze), original stock kind (6: image occlusion), sort
        field, CSS, LaTeX header, footer and SVG setting, each field's editor options and id,
        and each template's sides, browser sides and id (None where the export has none)."""
        try:
            return self._settings_18() if self.schema >= 18 else self._settings_11()
        except (AttributeError, KeyError, TypeError, ValueError, IndexError) as exc:
            raise PackageError(
                f"unexpected note type data in the collection ({exc.__class__.__name__}: {exc})") from exc

    def _settings_11(self) -> dict[int, dict[str, Any]]:
        out = {}
        for model in self._col_json("models").values():
            flds = sorted(model["flds"], key=lambda f: int(f["ord"]))
            tmpls = sorted(model["tmpls"], key=lambda t: int(t["ord"]))
            out[int(model["id"])] = {
                "name": str(model["name"]), "mod": int(model.get("mod", 0)), "kind": int(model.get("type", 0)),
                "stock_kind": int(model.get("originalStockKind", 0) or 0), "sort_field": int(model.get("sortf", 0)),
                "css": str(model.get("css", "")), "latex_pre": str(model.get("latexPre", "")),
                "latex_post": str(model.get("latexPost", "")), "latex_svg": bool(model.get("latexsvg", False)),
                "fields": [{"name": str(f["name"]), "id": _opt_int(f.get("id")), "font": str(f.get("font", "Arial")),
                            "size": int(f.get("size", 20)), "rtl": bool(f.get("rtl", False)),
                            "sticky": bool(f.get("sticky", False)), "description": str(f.get("description", "")),
                            "plain_text": bool(f.get("plainText", False)), "collapsed": bool(f.get("collapsed", False)),
                            "exclude_from_search": bool(f.get("excludeFromSearch", False))} for f in flds],
                "templates": [{"name": str(t["name"]), "id": _opt_int(t.get("id")), "front": str(t.get("qfmt", "")),
                               "back": str(t.get("afmt", "")), "browser_front": str(t.get("bqfmt", "") or ""),
                               "browser_back": str(t.get("bafmt", "") or "")} for t in tmpls],
            }
        return out

    def _settings_18(self) -> dict[int, dict[str, Any]]:
        fields: dict[int, list[tuple[int, dict[str, Any]]]] = {}
        for ntid, ord_, name, config in self.query("select ntid, ord, name, config from fields"):
            v = _proto_fields(_blob(config))
            fields.setdefault(_int(ntid, "fields.ntid"), []).append((_int(ord_, "fields.ord"), {
                "name": _text(name, "fields.name"), "id": _proto_int_of(v, 9), "font": _proto_str(v, 3),
                "size": _proto_int_of(v, 4) or 0, "rtl": bool(_proto_int_of(v, 2)), "sticky": bool(_proto_int_of(v, 1)),
                "description": _proto_str(v, 5), "plain_text": bool(_proto_int_of(v, 6)),
                "collapsed": bool(_proto_int_of(v, 7)), "exclude_from_search": bool(_proto_int_of(v, 8))}))
        templates: dict[int, list[tuple[int, dict[str, Any]]]] = {}
        for ntid, ord_, name, config in self.query("select ntid, ord, name, config from templates"):
            v = _proto_fields(_blob(config))
            templates.setdefault(_int(ntid, "templates.ntid"), []).append((_int(ord_, "templates.ord"), {
                "name": _text(name, "templates.name"), "id": _proto_int_of(v, 8), "front": _proto_str(v, 1),
                "back": _proto_str(v, 2), "browser_front": _proto_str(v, 3), "browser_back": _proto_str(v, 4)}))
        out = {}
        for ntid, name, mtime, config in self.query("select id, name, mtime_secs, config from notetypes"):
            ntid = _int(ntid, "notetypes.id")
            v = _proto_fields(_blob(config))
            out[ntid] = {
                "name": _text(name, "notetypes.name"), "mod": _int(mtime, "notetypes.mtime_secs"),
                "kind": _proto_int_of(v, 1) or 0, "stock_kind": _proto_int_of(v, 9) or 0,
                "sort_field": _proto_int_of(v, 2) or 0, "css": _proto_str(v, 3), "latex_pre": _proto_str(v, 5),
                "latex_post": _proto_str(v, 6), "latex_svg": bool(_proto_int_of(v, 7)),
                "fields": [f for _, f in sorted(fields.get(ntid, []), key=lambda x: x[0])],
                "templates": [t for _, t in sorted(templates.get(ntid, []), key=lambda x: x[0])],
            }
        return out

    def card_decks(self) -> list[tuple[int, int, int]]:
        """(note id, template ordinal, deck id) of every card."""
        return [(_int(n, "cards.nid"), _int(o, "cards.ord"), _int(d, "cards.did"))
                for n, o, d in self.query("select nid, ord, did from cards order by nid, ord")]

    def _col_json(self, column: str) -> dict:
        rows = self.query(f"select {column} from col")  # column is one of ours, never input
        if len(rows) != 1:
            raise PackageError(f"the collection's col table has {len(rows)} rows, not 1")
        value = _text(rows[0][0], f"col.{column}")
        data = parse_json(value, self.limits, f"col.{column}")
        if not isinstance(data, dict):
            raise PackageError(f"col.{column} is not a JSON object")
        return data


@contextmanager
def open_collection(path: Path, limits: Limits = Limits()) -> Iterator[CollectionReader]:
    """The package's newest collection, extracted within the limits and opened read-only.

    Raises PackageError; the extracted copy is removed on leaving."""
    with _zip(path) as zf:
        names = set(zf.namelist())
        member = next((n for n in COLLECTIONS if n in names), None)
        if member is None:
            raise PackageError("not an Anki package (no collection.anki2, .anki21 or .anki21b inside)",
                               "give an .apkg exported from Anki or built by neurodeck")
        info = zf.getinfo(member)
        cap = limits.cap(_size(path))
        if info.file_size > cap:
            raise PackageError(f"{member} would expand to {info.file_size:,} bytes, over the limit of {cap:,} "
                               f"for a package of this size (a zip bomb?)")
        with tempfile.TemporaryDirectory(prefix="neurodeck-read-") as tmp:
            room = shutil.disk_usage(tmp).free - _RESERVE
            if info.file_size > room:
                raise PackageError(f"not enough free space in the temporary folder {tmp} to extract {member} "
                                   f"({info.file_size:,} bytes)", "free some space, or set TMPDIR to a larger folder")
            db_path = Path(tmp) / "collection.db"
            budget = _Budget(min(cap, room))
            try:
                with zf.open(info) as source, open(db_path, "wb") as target:
                    stream: IO[bytes] = _zstd_reader(source, limits) if member.endswith("b") else source
                    while chunk := stream.read(1 << 20):
                        budget.take(len(chunk))
                        target.write(chunk)
            except OSError as exc:
                raise PackageError(f"cannot extract {member}: {exc.strerror or exc}") from exc
            conn = _connect(db_path, limits)
            try:
                yield CollectionReader(conn, member, limits, db_path.stat().st_size)
            finally:
                conn.close()


def parse_json(text: str, limits: Limits, what: str) -> Any:
    """json.loads, after refusing text too long or nested too deep for the recursive parser."""
    if len(text) > limits.max_json_bytes:
        raise PackageError(f"{what} is too large ({len(text):,} characters)")
    if json_depth(text) > limits.max_json_depth:
        raise PackageError(f"{what} nests deeper than {limits.max_json_depth} levels")
    try:
        return json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise PackageError(f"{what} is not valid JSON: {exc}") from exc


_STRING = None


def json_depth(text: str) -> int:
    """The deepest nesting of arrays and objects in JSON text (brackets inside strings ignored)."""
    import re

    global _STRING
    if _STRING is None:
        _STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
    brackets = re.sub(r"[^\[\]{}]", "", _STRING.sub("", text))
    steps = map({"[": 1, "{": 1, "]": -1, "}": -1}.__getitem__, brackets)
    return max(accumulate(steps), default=0)


def read_media(path: Path, limits: Limits = Limits(), wanted: set[str] | None = None,
               max_file: int = 100 << 20) -> Iterator[tuple[str, bytes | None]]:
    """The media files of a package as (file name, bytes), in the package's order: `wanted` only
    when given. A name Anki would refuse (a path, a control character) or a file over `max_file`
    bytes comes with None. Raises PackageError for a damaged or oversized package."""
    with _zip(path) as zf:
        names = set(zf.namelist())
        budget = _Budget(limits.cap(_size(path)))
        compressed = _meta_version(zf, budget) >= 3  # the current format: zstd media and a protobuf map
        if "media" not in names:
            return
        with zf.open("media") as member:
            stream: IO[bytes] = _zstd_reader(member, limits) if compressed else member
            data = stream.read(limits.max_json_bytes + 1)
        if len(data) > limits.max_json_bytes:
            raise PackageError("the package's media list is too large")
        budget.take(len(data))
        if compressed:
            entries = [(str(i), _proto_str(_proto_fields(entry), 1))
                       for i, entry in enumerate(_proto_repeated(data, 1))]
        else:
            listed = parse_json(data.decode("utf-8", "replace"), limits, "the media list")
            if not isinstance(listed, dict):
                raise PackageError("the package's media list is not a JSON object")
            entries = sorted(((str(k), str(v)) for k, v in listed.items()),
                             key=lambda kv: int(kv[0]) if kv[0].isdigit() else -1)
        for member_name, name in entries:
            if wanted is not None and name not in wanted:
                continue
            if not _safe_media_name(name) or member_name not in names:
                yield name, None
                continue
            info = zf.getinfo(member_name)
            with zf.open(info) as member:
                stream = _zstd_reader(member, limits) if compressed else member
                content = stream.read(max_file + 1)
            if len(content) > max_file:
                yield name, None
                continue
            budget.take(len(content))
            yield name, content


def _safe_media_name(name: str) -> bool:
    """A plain file name, as Anki's importer requires (rslib's filename_is_safe)."""
    return (bool(name) and name not in (".", "..") and "/" not in name and "\\" not in name
            and not any(ord(ch) < 32 or ch == "\x7f" for ch in name) and len(name.encode()) <= 255)


def _proto_repeated(data: bytes, number: int) -> list[bytes]:
    """Every length-delimited occurrence of field `number` in a message (a repeated message)."""
    out = []
    pos = 0
    while pos < len(data):
        key, pos = _varint(data, pos)
        field_number, wire = key >> 3, key & 7
        if wire == 0:
            _, pos = _varint(data, pos)
        elif wire == 2:
            length, pos = _varint(data, pos)
            if pos + length > len(data):
                raise PackageError("the package's media list is damaged (bad protocol buffer)")
            if field_number == number:
                out.append(data[pos:pos + length])
            pos += length
        elif wire in (1, 5):
            pos += 8 if wire == 1 else 4
        else:
            raise PackageError("the package's media list is damaged (bad protocol buffer)")
    return out


# ---- zip, zstd and SQLite, each bounded ------------------------------------------------------

@contextmanager
def _zip(path: Path) -> Iterator[zipfile.ZipFile]:
    try:
        if not path.is_file():
            raise PackageError("no such package" if not path.exists() else "not a regular file")
        with zipfile.ZipFile(path) as zf:
            yield zf
    except PackageError:
        raise
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, EOFError, ValueError, zlib.error) as exc:
        raise PackageError(f"not a readable Anki package: not an Anki package, or a damaged one (zip: {exc})",
                           "give an .apkg exported from Anki or built by neurodeck") from exc
    except RuntimeError as exc:  # an encrypted member
        raise PackageError(f"not an Anki package: {exc}") from exc
    except OSError as exc:
        raise PackageError(f"cannot read the package: {exc.strerror or exc}") from exc


def _size(path: Path) -> int:
    return path.stat().st_size


class _Budget:
    """Counts decompressed bytes and stops at the cap (a header may lie about sizes)."""

    def __init__(self, cap: int, message: str | None = None):
        self.left = cap
        self.message = message or f"the package expands to more than {cap:,} bytes (a zip bomb?)"

    def take(self, count: int) -> int:
        self.left -= count
        if self.left < 0:
            raise PackageError(self.message, "check where the package came from; export it again from Anki")
        return count


def _zstd_reader(source: IO[bytes], limits: Limits) -> IO[bytes]:
    import zstandard  # Anki's current export compresses with zstd (see pyproject.toml)

    class Checked:
        """zstandard's reader with its errors turned into PackageError."""

        def __init__(self) -> None:
            # A frame may ask for a window of up to 2 GiB of memory; Anki's use 8 MiB at most.
            dctx = zstandard.ZstdDecompressor(max_window_size=1 << 27)
            self.reader = dctx.stream_reader(source, read_across_frames=True)

        def read(self, size: int = -1) -> bytes:
            try:
                return self.reader.read(size)
            except zstandard.ZstdError as exc:
                raise PackageError(f"a zstd-compressed member is damaged: {exc}") from exc

    return Checked()  # type: ignore[return-value]


def _connect(db_path: Path, limits: Limits) -> sqlite3.Connection:
    uri = f"file:{quote(str(db_path))}?mode=ro&immutable=1"
    try:
        conn = sqlite3.connect(uri, uri=True, check_same_thread=False)
        if sys.version_info >= (3, 11):  # Connection.setlimit is new in 3.11
            conn.setlimit(sqlite3.SQLITE_LIMIT_LENGTH, limits.max_value_bytes)
        conn.execute("PRAGMA trusted_schema = OFF")  # no SQL functions run from the package's schema
        conn.execute("PRAGMA query_only = ON")
    except sqlite3.Error as exc:
        raise PackageError(f"not a readable Anki collection: {exc}") from exc
    return conn


_TABLES_11 = ("col", "notes", "cards")
_TABLES_18 = _TABLES_11 + ("notetypes", "fields", "templates", "decks")


def _check_schema(db: CollectionReader) -> int:
    """The collection's schema version, after checking it holds only plain tables and indexes."""
    entries = db.query("select type, name, sql from sqlite_master")
    kinds = {}
    for kind, name, sql in entries:
        if kind in ("view", "trigger"):
            raise PackageError(f"the collection holds a {kind} '{name}', which Anki never writes (a hostile package?)")
        if kind == "table" and isinstance(sql, str) and sql.lstrip().upper().startswith("CREATE VIRTUAL"):
            raise PackageError(f"the collection's table '{name}' is a virtual table, which Anki never writes")
        kinds[name] = kind
    version = db.query("select ver from col") if kinds.get("col") == "table" else []
    schema = version[0][0] if len(version) == 1 and isinstance(version[0][0], int) else 11
    for table in _TABLES_18 if schema >= 18 else _TABLES_11:
        if kinds.get(table) != "table":
            raise PackageError(f"not an Anki collection: it has no table '{table}'")
        if any(row[6] for row in db.query(f"pragma table_xinfo({table})")):  # hidden, generated columns
            raise PackageError(f"the collection's table '{table}' has generated columns, which Anki never writes")
    return schema


def _meta_version(zf: zipfile.ZipFile, budget: _Budget) -> int:
    """The package format from its `meta` member (a protocol buffer; field 1 is the version)."""
    if "meta" not in zf.namelist():
        return 1
    with zf.open("meta") as meta:
        data = meta.read(1024)
    budget.take(len(data))
    return _proto_int(data, 1) or 1


# ---- the few protocol buffer fields schema 18 needs ------------------------------------------

def _varint(data: bytes, pos: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        if pos >= len(data) or shift > 63:
            raise PackageError("a note type's settings are damaged (bad protocol buffer)")
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            return value, pos


def _proto_fields(data: bytes) -> dict[int, int | bytes]:
    """The top-level fields of a protocol buffer message: varints and length-delimited bytes."""
    out: dict[int, int | bytes] = {}
    pos = 0
    while pos < len(data):
        key, pos = _varint(data, pos)
        number, wire = key >> 3, key & 7
        if wire == 0:
            out[number], pos = _varint(data, pos)
        elif wire == 2:
            length, pos = _varint(data, pos)
            if pos + length > len(data):
                raise PackageError("a note type's settings are damaged (bad protocol buffer)")
            out[number], pos = data[pos:pos + length], pos + length
        elif wire in (1, 5):
            pos += 8 if wire == 1 else 4
        else:
            raise PackageError("a note type's settings are damaged (bad protocol buffer)")
    return out


def _proto_int(data: bytes, number: int) -> int | None:
    return _proto_int_of(_proto_fields(data), number)


def _proto_int_of(values: dict[int, int | bytes], number: int) -> int | None:
    value = values.get(number)
    if value is None or not isinstance(value, int):
        return None
    return value - (1 << 64) if value >= 1 << 63 else value  # int64 is two's complement


def _proto_str(values: dict[int, int | bytes], number: int) -> str:
    value = values.get(number, b"")
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else ""


# ---- values of the expected types ------------------------------------------------------------

def _text(value: object, what: str) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    raise PackageError(f"unexpected value in {what}: {type(value).__name__} instead of text")


def _int(value: object, what: str) -> int:
    if isinstance(value, int):
        return value
    raise PackageError(f"unexpected value in {what}: {type(value).__name__} instead of an integer")


def _opt_int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _blob(value: object) -> bytes:
    if isinstance(value, bytes):
        return value
    if isinstance(value, str):
        return value.encode()
    raise PackageError(f"unexpected value in a note type's settings: {type(value).__name__}")
