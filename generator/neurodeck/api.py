"""neurodeck as a library: every command's work, without Click.

Nothing here prints, exits or changes process settings (GC, signals, start methods): bad input
comes back as `Problem` values with a `Location`, and the caller decides what they mean.
Compiler modules are imported by the functions that use them, so importing this module is cheap
and an up-to-date `build` answers without loading YAML, Markdown or SQLite.

Paths may be `str` or `Path`; relative ones are taken from the current folder.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Union

if TYPE_CHECKING:
    import threading
    from collections.abc import Callable, Sequence

    from neurodeck.commands.adopt import AdoptReport
    from neurodeck.commands.diff import DeckDiff
    from neurodeck.commands.push import PushReport
    from neurodeck.commands.upgrade import UpgradeReport
    from neurodeck.model import Location, Problem, has_errors
    from neurodeck.pipeline.build import BuildResult, CompiledDeck
    from neurodeck.source.deck import LoadedDeck

PathLike = Union[str, "os.PathLike[str]"]
DiffFormat = Literal["text", "markdown", "json"]

__all__ = [
    "Build", "DiffFormat", "Location", "PathLike", "Problem",
    "adopt", "build", "check_upgrade", "compare", "find_manifests", "find_project", "format_diff", "has_errors",
    "init_project", "lint", "load_deck", "load_project", "new_card_file", "preview", "push", "release",
    "schema", "serve_preview", "stats", "validate", "verify",
]


def __getattr__(name: str) -> Any:
    # model's dataclasses are loaded on first use: an up-to-date `build` never needs them
    if name in ("Location", "Problem", "has_errors"):
        from neurodeck import model

        return getattr(model, name)
    raise AttributeError(f"module 'neurodeck.api' has no attribute {name!r}")


def find_manifests(root: PathLike = ".") -> list[Path]:
    """The project's deck manifests, `decks/*.yaml` under `root`, sorted."""
    return sorted(Path(root, "decks").glob("*.yaml"))


def find_project(start: PathLike = ".") -> Path | None:
    """The project `start` is in: the nearest folder, `start` itself or one above it, that holds
    a `decks/` folder (as git finds a repository from any subfolder), as an absolute path; None
    when there is none."""
    from neurodeck.project import find_root

    return find_root(Path(start))


def init_project(name: str, root: PathLike = ".") -> tuple[list[Path] | None, list[Problem]]:
    """Start a project in `root`: a manifest `decks/<slug>.yaml` whose namespace is made from
    `name` and a random suffix, one example card file per note type and a `.gitignore` for the
    build output. Writes nothing if any of these files exists; returns the files written,
    the manifest first."""
    from neurodeck.commands.init import init_project as start

    return start(name, Path(root))


def adopt(package: PathLike, into: PathLike | None = None,
          name: str | None = None) -> tuple[AdoptReport | None, list[Problem]]:
    """Turn a deck exported by Anki (.apkg, legacy or current format) into a project in `into`
    (default: a new folder named after the deck), which must be new or empty: note types as
    notetypes/*.yaml with their ids, one or more HTML card files per deck and subdeck, the media
    under their own names, and a lock that keeps every note's GUID and `mod` and counts every
    note and note type as released, so that students who have the deck see no change until a
    card changes. `name` renames the deck for new students. Nothing is written on a problem."""
    from neurodeck.commands.adopt import adopt as adopting

    return adopting(Path(package), Path(into) if into is not None else None, name)


def load_deck(manifest: PathLike) -> LoadedDeck:
    """A manifest and the cards of its card files as written, with every problem in reading them."""
    from neurodeck.source.deck import load_deck as load

    return load(Path(manifest))


def load_project(root: PathLike = ".") -> list[LoadedDeck]:
    """Every deck of the project at `root` (see `find_manifests`), loaded."""
    return [load_deck(manifest) for manifest in find_manifests(root)]


def validate(manifest: PathLike) -> CompiledDeck:
    """Load, check and render a deck in memory and compute its next lock; writes only the cache."""
    from neurodeck.pipeline.build import compile_deck

    return compile_deck(Path(manifest))


@dataclass(frozen=True)
class Build:
    """What `build` did for one manifest.

    `report` is plain data (as `neurodeck build --format json` prints it): counts, changes since
    the lock, output path, size, sha256 and the toolchain's versions. `problems` are those this
    call found; when `up_to_date`, nothing was read or written and the report is the last build's.
    """

    manifest: Path
    report: dict[str, Any]
    problems: list[Problem] = field(default_factory=list)
    up_to_date: bool = False

    @property
    def ok(self) -> bool:
        return bool(self.report["ok"])

    @property
    def output(self) -> Path | None:
        """The package written (or left in place), None when nothing could be built."""
        return Path(self.report["output"]) if self.report["output"] else None


def build(manifest: PathLike, out_dir: PathLike = "dist", *, locked: bool = False,
          previous: str | None = None) -> Build:
    """Build a deck's .apkg into `out_dir` and update its lock, unless it is up to date.

    A deck is up to date when nothing it depends on (neurodeck's code, the manifest, the lock,
    the card files and images) changed since its last build and the package is still the one
    written then; it is then left untouched. With `locked`, a missing or outdated lock is a
    problem and nothing is written. A failed build leaves the previous package and lock intact.
    `previous` (the newest release's .apkg or git tag) lends the lock its newer `mod`s.
    """
    from neurodeck.pipeline.stamps import up_to_date  # light: answers without the compiler

    manifest, out_dir = Path(manifest), Path(out_dir)
    report = None if previous else up_to_date(manifest, out_dir)
    if report is not None:
        return Build(manifest, report, up_to_date=True)
    from neurodeck.pipeline.build import build as build_deck

    result = build_deck(manifest, out_dir, locked=locked, previous=previous)
    return Build(manifest, result.report(), result.problems)


def push(package: PathLike, *, profile: str | None = None, collection: PathLike | None = None,
         anki_connect: str | None = None,
         manifest: PathLike | None = None) -> tuple[PushReport | None, list[Problem]]:
    """Import a built package into the educator's own Anki. Directly (Anki closed): into
    `collection`, `profile`'s or the only profile's (under $ANKI_BASE or Anki's standard folder),
    backed up first, with a fresh student's import options, keeping the options the collection
    remembers; the report is Anki's import log by card id (through `manifest`'s lock; without it,
    a note of a deck's own or an adopted note type is named by its GUID). With `anki_connect` (a loopback URL):
    through a running Anki's AnkiConnect add-on, which returns no log (report None, no problems)."""
    from neurodeck.commands import push as pushing

    if anki_connect is not None:
        return None, pushing.push_anki_connect(Path(package), anki_connect)
    path, problems = pushing.find_collection(profile, Path(collection) if collection is not None else None)
    if path is None:
        return None, problems
    return pushing.push_direct(Path(package), path, pushing.card_ids(Path(manifest)) if manifest is not None else None)


def stats(manifest: PathLike) -> tuple[dict[str, Any] | None, list[Problem]]:
    """Counts per subtopic, note type and tag, sources and retired cards; None if the deck has errors."""
    from neurodeck.commands.stats import deck_stats

    compiled = validate(manifest)
    return (deck_stats(compiled) if compiled.ok else None), compiled.problems


def lint(manifest: PathLike) -> list[Problem]:
    """Card-quality problems (rules ND101...), with the deck's load problems, sorted by place."""
    from neurodeck.checks.lint import lint_deck

    return lint_deck(Path(manifest))


def preview(manifest: PathLike, out_dir: PathLike = "dist") -> tuple[Path | None, list[Problem]]:
    """Write a self-contained HTML page of every card as Anki shows it; None if nothing was written."""
    from neurodeck.commands.preview import write_preview

    return write_preview(Path(manifest), Path(out_dir))


def serve_preview(manifests: Sequence[PathLike], port: int = 8765, out_dir: PathLike = "dist", *,
                  on_ready: Callable[[str], None], on_rebuild: Callable[[bool, list[Problem]], None],
                  stop: threading.Event | None = None) -> list[Problem]:
    """Serve the decks' preview pages on http://127.0.0.1:`port`/ (0: a free port), rebuilding
    them on every save and reloading open pages, until `stop` is set or KeyboardInterrupt.
    `on_ready` gets the URL, `on_rebuild` whether a page changed and the problems found; the
    problems returned are those that kept the server from starting."""
    from neurodeck.commands.preview.serve import serve

    return serve([Path(m) for m in manifests], port, Path(out_dir), on_ready, on_rebuild, stop)


def compare(old: str, new: str, project: PathLike = ".") -> tuple[list[DeckDiff] | None, list[Problem]]:
    """Compare two releases, each a built .apkg or a git revision of `project` (built in a
    temporary folder); None if a side could not be loaded. See `format_diff`."""
    from neurodeck.commands.diff import compare as compare_sides

    return compare_sides(old, new, Path(project))


def format_diff(diffs: list[DeckDiff], fmt: DiffFormat = "text") -> str:
    """`compare`'s result as text for a terminal, Markdown for release notes, or JSON for tools."""
    from neurodeck.commands.diff import format_json, format_markdown, format_text

    return {"text": format_text, "markdown": format_markdown, "json": format_json}[fmt](diffs)


def check_upgrade(old: PathLike, new: PathLike,
                  anki_python: PathLike | None = None) -> tuple[UpgradeReport | None, list[Problem]]:
    """Simulate a student's upgrade from package `old` to `new` in the official Anki engine
    (`pip install 'neurodeck[verify]'`), or in the one of the interpreter `anki_python`;
    None if either package cannot be used."""
    from neurodeck.commands.upgrade import check_upgrade as simulate

    return simulate(Path(old), Path(new), str(anki_python) if anki_python is not None else None)


def verify(packages: list[PathLike]) -> list[Problem]:
    """What a student's Anki makes of each package: import, render, Check Database and Check Media
    in the official engine (`pip install 'neurodeck[verify]'`); empty when all is clean."""
    from neurodeck.commands.verify import verify as check

    return check([Path(p) for p in packages])


def release(version: str, manifest: PathLike, out_dir: PathLike = "dist") -> tuple[BuildResult | None, list[Problem]]:
    """Record release `version` (newer than the last) in the manifest and its lock, and rebuild."""
    from neurodeck.commands.release import release as make_release

    return make_release(version, Path(manifest), Path(out_dir))


def new_card_file(subtopic: str, root: PathLike = ".",
                  manifest: PathLike | None = None) -> tuple[Path | None, list[Problem]]:
    """Create `cards/<slug>.yaml` under `root` with one example card of each type, and add it to
    `manifest`'s cards unless a glob there already matches it."""
    from neurodeck.commands.scaffold import new_card_file as scaffold

    return scaffold(subtopic, Path(root), Path(manifest) if manifest is not None else None)


def schema(kind: Literal["card-file", "manifest"] = "card-file") -> str:
    """The JSON Schema of card files or manifests, for editors."""
    from neurodeck.commands.schema import render

    return render(kind)
