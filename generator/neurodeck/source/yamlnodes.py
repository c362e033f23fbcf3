"""Read YAML into located values, keeping every scalar as the text its author wrote.

PyYAML's loaders turn `no` into False and `3.10` into 3.1, silently keep the last of two
duplicate keys and can construct arbitrary Python objects from tags. We only *compose* the
document into nodes (never construct) and walk them ourselves.
"""
from __future__ import annotations

import gc
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

import yaml

from neurodeck.model import Location, Problem
from neurodeck.project import FileTooLarge, NotRegularFile, is_utf8, read_bytes
from neurodeck.source.yamlerrors import syntax_problem

_STANDARD = "tag:yaml.org,2002:"
NULL_TAG = _STANDARD + "null"
_STR_TAG = _STANDARD + "str"
_NULLS = frozenset(("", "~", "null", "Null", "NULL"))
if TYPE_CHECKING:
    _BaseLoader = yaml.SafeLoader
else:
    _BaseLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when available
_NO_PATHS: dict[object, object] = {}


class _Loader(_BaseLoader):
    """Resolves untagged values only as far as we need: text or null.

    Everything else stays text as written, so the resolver's regular expressions for booleans,
    numbers and dates (a third of the parse time) are never run.
    """

    def resolve(self, kind: type[yaml.Node], value: str, implicit: tuple[bool, bool]) -> str:
        if kind is yaml.ScalarNode:
            return NULL_TAG if implicit[0] and value in _NULLS else _STR_TAG
        return _SEQ_TAG if kind is yaml.SequenceNode else _MAP_TAG

    # The composer calls these two hooks around every node; they serve only path resolvers,
    # which we never add. Built-in no-ops instead of Python methods: 6% of parsing time.
    # (The stubs type them as methods returning None; the composer ignores what they return.)
    descend_resolver = staticmethod(_NO_PATHS.get)  # type: ignore[assignment]  # (parent, index) -> index
    ascend_resolver = staticmethod(int)  # type: ignore[assignment]  # () -> 0

MAX_FILE_BYTES = 64 * 1024 * 1024
MAX_NODES = 5_000_000
MAX_DEPTH = 64

_SEQ_TAG, _MAP_TAG = _STANDARD + "seq", _STANDARD + "map"
_new = tuple.__new__
_SCALAR_TAGS = {_STANDARD + t for t in ("str", "int", "float", "bool", "null", "timestamp")}


class YScalar(NamedTuple):
    text: str | None  # None for an explicit or implicit null
    location: Location


class YSeq(NamedTuple):
    items: list[YValue]
    location: Location


class YMap(NamedTuple):
    items: dict[str, tuple[Location, YValue]]
    location: Location


YValue = YScalar | YSeq | YMap


def describe(value: YValue) -> str:
    if isinstance(value, YMap):
        return "a mapping"
    if isinstance(value, YSeq):
        return "a list"
    return "nothing" if value.text is None else "text"


class _TooLarge(Exception):
    def __init__(self, location: Location, message: str):
        self.location, self.message = location, message


class _Walker:
    def __init__(self, path: str):
        self.path = path
        self.count = 0
        self.problems: list[Problem] = []

    def loc(self, node: yaml.Node) -> Location:
        mark = node.start_mark
        return Location(self.path, mark.line + 1, mark.column + 1)

    def walk(self, node: yaml.Node, depth: int = 0) -> YValue:
        # The hot loop of loading a large deck: named tuples are made with tuple.__new__ (their
        # generated constructors are Python functions) and node types compared by identity.
        self.count += 1
        # Aliases share nodes, so a "billion laughs" document is small to parse but huge to walk.
        if self.count > MAX_NODES:
            raise _TooLarge(self.loc(node), "document expands to too many values (aliases?)")
        if depth > MAX_DEPTH:
            raise _TooLarge(self.loc(node), f"document is nested more than {MAX_DEPTH} levels deep")
        mark = node.start_mark
        path = self.path
        loc = _new(Location, (path, mark.line + 1, mark.column + 1))
        kind, tag = type(node), node.tag
        if kind is yaml.ScalarNode:
            if tag == NULL_TAG:
                return _new(YScalar, (None, loc))
            if tag not in _SCALAR_TAGS:
                self.problems.append(Problem(loc, f"YAML tag {_short(tag)} is not allowed",
                                             "remove the tag; values are plain text"))
            return _new(YScalar, (node.value, loc))
        if tag != _SEQ_TAG and tag != _MAP_TAG:
            self.problems.append(Problem(loc, f"YAML tag {_short(tag)} is not allowed", "remove the tag"))
        if kind is yaml.SequenceNode:
            return _new(YSeq, ([self.walk(item, depth + 1) for item in node.value], loc))
        items: dict[str, tuple[Location, YValue]] = {}
        for key_node, value_node in node.value:
            mark = key_node.start_mark
            key_loc = _new(Location, (path, mark.line + 1, mark.column + 1))
            if type(key_node) is not yaml.ScalarNode:
                self.problems.append(Problem(key_loc, "a key must be plain text"))
                continue
            key = key_node.value
            if key in items:
                first = items[key][0]
                self.problems.append(Problem(
                    key_loc, f"duplicate key '{key}' (first at line {first.line})",
                    "YAML would silently keep only the last one; remove or rename one of them"))
                continue
            items[key] = (key_loc, self.walk(value_node, depth + 1))
        return _new(YMap, (items, loc))


def _short(tag: str) -> str:
    return "!!" + tag[len(_STANDARD):] if tag.startswith(_STANDARD) else tag


def read_text(path: Path, shown: str, limit: int | None = None) -> tuple[str | None, list[Problem]]:
    """Read a UTF-8 text file of at most `limit` bytes, a regular file only (project.read_bytes);
    problems instead of exceptions for anything unreadable."""
    limit = MAX_FILE_BYTES if limit is None else limit
    if not is_utf8(str(path)):  # such a name could never be shown, stored or keyed: refuse it before any write
        return None, [Problem(Location(shown), "the file's name or folder is not valid UTF-8", "rename it")]
    try:
        data = read_bytes(path, limit)
    except FileTooLarge as exc:
        return None, [Problem(Location(shown), str(exc.strerror))]
    except IsADirectoryError:
        return None, [Problem(Location(shown), "is a folder, not a file")]
    except NotRegularFile as exc:
        return None, [Problem(Location(shown), str(exc.strerror), "only plain files are read")]
    except OSError as exc:
        return None, [Problem(Location(shown), f"cannot read file: {exc.strerror or exc}")]
    try:
        return data.decode("utf-8-sig"), []
    except UnicodeDecodeError as exc:
        before = data[: exc.start]
        line = before.count(b"\n") + 1
        column = exc.start - (before.rfind(b"\n") + 1) + 1
        return None, [Problem(Location(shown, line, column), "file is not valid UTF-8 text",
                              "save the file with UTF-8 encoding")]


def parse(text: str, shown: str) -> tuple[YValue | None, list[Problem]]:
    """Parse one YAML document into located values."""
    gc_was_enabled = gc.isenabled()
    gc.disable()  # node trees are acyclic; the collector only rescans them
    try:
        try:
            node = yaml.compose(text, Loader=_Loader)
        except yaml.MarkedYAMLError as exc:
            return None, [syntax_problem(exc, text, shown)]
        except yaml.YAMLError as exc:
            return None, [Problem(Location(shown), f"YAML error: {exc}")]
        except RecursionError:
            return None, [Problem(Location(shown), "document is nested too deeply")]
        if node is None:
            return None, [Problem(Location(shown, 1, 1), "file is empty")]
        walker = _Walker(shown)
        try:
            value = walker.walk(node)
        except _TooLarge as exc:
            return None, [Problem(exc.location, exc.message)]
        return value, walker.problems
    finally:
        if gc_was_enabled:
            gc.enable()

