"""`neurodeck check-upgrade`: a student's upgrade simulated with the real Anki engine.

Imports OLD into a throwaway collection, studies every card once through the scheduler, imports
NEW with the importer's default options, and reports what happened to every note, note type and
review. Needs the official `anki` package (`pip install neurodeck[verify]`).
"""
from __future__ import annotations

import sqlite3
import tempfile
import zipfile
from dataclasses import asdict, dataclass, field
from pathlib import Path

from neurodeck.model import Location, Problem

RETIRED_SUFFIX = "::retired"


@dataclass
class UpgradeReport:
    new: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    conflicting: list[str] = field(default_factory=list)
    vanished: list[str] = field(default_factory=list)  # in OLD, neither in NEW nor retired: re-keyed?
    retired: list[str] = field(default_factory=list)
    cloned_notetypes: list[str] = field(default_factory=list)
    reviews_before: int = 0
    reviews_after: int = 0
    cards_without_history: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not (self.conflicting or self.vanished or self.cloned_notetypes or self.cards_without_history
                    or self.reviews_after < self.reviews_before)

    def to_json(self) -> dict:
        return dict(asdict(self), ok=self.ok)


def check_upgrade(old: Path, new: Path) -> tuple[UpgradeReport | None, list[Problem]]:
    """Simulate importing `new` over a studied `old` with Anki's default import options."""
    try:
        from anki.collection import Collection
    except ImportError:
        return None, [Problem(Location(str(old)), "check-upgrade needs the official Anki engine",
                              "install it with: pip install 'neurodeck[verify]'")]
    problems = [p for path in (old, new) for p in _check_package(path)]
    if problems:
        return None, problems
    new_notes = _package_notes(new)
    with tempfile.TemporaryDirectory(prefix="neurodeck-upgrade-") as tmp:
        col = Collection(str(Path(tmp) / "collection.anki2"))
        try:
            return _simulate(col, old, new, new_notes), []
        except Exception as exc:  # the engine refused a package: report, never a traceback
            return None, [Problem(Location(str(new)), f"Anki could not import the packages: {exc}")]
        finally:
            col.close()


def _simulate(col, old: Path, new: Path, new_notes: dict[str, tuple[str, str]]) -> UpgradeReport:
    from anki.scheduler.v3 import CardAnswer

    report = UpgradeReport()
    _import(col, old)
    for cid in col.find_cards(""):
        card = col.get_card(cid)
        card.start_timer()
        states = col._backend.get_scheduling_states(card.id)
        col.sched.answer_card(col.sched.build_answer(card=card, states=states, rating=CardAnswer.GOOD))
    history = {cid: _reviews(col, cid) for cid in col.find_cards("")}
    report.reviews_before = sum(history.values())
    old_notes = {col.get_note(nid).guid: _name(col.get_note(nid).fields) for nid in col.find_notes("")}
    types_before = {m["id"] for m in col.models.all()}

    log = _import(col, new)
    report.new = sorted(_name(n.fields) for n in log.new)
    report.updated = sorted(_name(n.fields) for n in log.updated)
    report.unchanged = sorted(_name(n.fields) for n in log.duplicate)
    report.conflicting = sorted(_name(n.fields) for n in log.conflicting)
    for guid, name in sorted(old_notes.items(), key=lambda item: item[1]):
        if guid not in new_notes:
            report.vanished.append(name)
    report.retired = sorted(name for name, tags in new_notes.values() if _is_retired(tags))
    col.models._clear_cache()  # the importer does not refresh the Python-side cache
    shipped = _package_notetype_ids(new)
    report.cloned_notetypes = sorted(m["name"] for m in col.models.all()
                                     if m["id"] not in types_before and m["id"] not in shipped)
    report.reviews_after = sum(_reviews(col, cid) for cid in history)
    report.cards_without_history = sorted(str(cid) for cid, count in history.items()
                                          if _reviews(col, cid) < count)
    return report


def _import(col, path: Path):
    from anki.collection import ImportAnkiPackageRequest

    options = col._backend.get_import_anki_package_presets()
    return col.import_anki_package(ImportAnkiPackageRequest(package_path=str(path), options=options)).log


def _reviews(col, cid: int) -> int:
    return col.db.scalar("select count() from revlog where cid = ?", cid)


def _name(fields) -> str:
    """A note's name in reports: its Id field (neurodeck's last field), else its first field."""
    return (fields[-1] or fields[0])[:80]


def _is_retired(tags: str) -> bool:
    return any(t.endswith(RETIRED_SUFFIX) for t in tags.split())


def _check_package(path: Path) -> list[Problem]:
    if not path.is_file():
        return [Problem(Location(str(path)), "no such package")]
    try:
        with zipfile.ZipFile(path) as zf:
            if "collection.anki2" not in zf.namelist():
                return [Problem(Location(str(path)), "not an Anki package (no collection.anki2 inside)")]
    except (OSError, zipfile.BadZipFile) as exc:
        return [Problem(Location(str(path)), f"not an Anki package: {exc}")]
    return []


def _read_collection(path: Path, query: str) -> list[tuple]:
    with tempfile.TemporaryDirectory(prefix="neurodeck-upgrade-") as tmp:
        with zipfile.ZipFile(path) as zf:
            zf.extract("collection.anki2", tmp)
        conn = sqlite3.connect(Path(tmp) / "collection.anki2")
        try:
            return conn.execute(query).fetchall()
        finally:
            conn.close()


def _package_notes(path: Path) -> dict[str, tuple[str, str]]:
    """guid -> (name, tags) of every note in a package."""
    return {guid: (_name(flds.split("\x1f")), tags)
            for guid, flds, tags in _read_collection(path, "select guid, flds, tags from notes")}


def _package_notetype_ids(path: Path) -> set[int]:
    import json

    [(models,)] = _read_collection(path, "select models from col")
    return {int(k) for k in json.loads(models)}
