"""A student's upgrade, run in the official Anki engine: the part of `check-upgrade` that needs it.

This file uses only the standard library and `anki`, so that `check-upgrade --anki-python PATH`
can run it as a script in another interpreter holding another engine (`PATH upgrade_engine.py
OLD NEW` prints the outcome as JSON). It speaks both engine APIs in use: since 23.10 an import
takes options, whose defaults are the presets the desktop dialog starts with; before (2.1.66),
`import_anki_package(path)` takes none and always updates notes "if newer".
"""
from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the engine is imported only where it runs
    from anki.cards import Card

# A Collection of whichever engine runs this: its API differs between versions (see above).
Collection = Any


def simulate(old: str, new: str) -> dict[str, Any]:
    """Import OLD into a fresh collection, study every card once, import NEW; what happened."""
    from anki.collection import Collection

    with tempfile.TemporaryDirectory(prefix="neurodeck-upgrade-") as tmp:
        col = Collection(str(Path(tmp) / "collection.anki2"))
        try:
            return _simulate(col, old, new)
        finally:
            col.close()


def _simulate(col: Collection, old: str, new: str) -> dict[str, Any]:
    _import(col, old)
    for cid in col.find_cards(""):
        _answer(col, col.get_card(cid))
    history = {cid: _reviews(col, cid) for cid in col.find_cards("")}
    before = {note.guid: list(note.fields) for note in map(col.get_note, col.find_notes(""))}
    types_before = [m["id"] for m in col.models.all()]
    log = _import(col, new)
    col.models._clear_cache()  # the importer does not refresh the Python-side cache
    after = {note.guid: [list(note.fields), list(note.tags)] for note in map(col.get_note, col.find_notes(""))}
    return {
        "engine": _version(),
        "log": {what: [list(n.fields) for n in getattr(log, what)]
                for what in ("new", "updated", "duplicate", "conflicting")},
        "before": before,
        "after": after,
        "notetypes_before": types_before,
        "notetypes_after": [[m["id"], m["name"]] for m in col.models.all()],
        "reviews_before": sum(history.values()),
        "reviews_after": {str(cid): _reviews(col, cid) for cid in history},
        "history": {str(cid): count for cid, count in history.items()},
    }


def _import(col: Collection, path: str) -> Any:
    try:
        from anki.collection import ImportAnkiPackageRequest
    except ImportError:  # anki before 23.10: no options, notes update "if newer"
        return col.import_anki_package(path).log
    options = col._backend.get_import_anki_package_presets()
    return col.import_anki_package(ImportAnkiPackageRequest(package_path=path, options=options)).log


def _answer(col: Collection, card: Card) -> None:
    """Answer "good" as the desktop reviewer does (the timer must run first on older engines)."""
    from anki.scheduler.v3 import CardAnswer

    card.start_timer()
    states = col._backend.get_scheduling_states(card.id)
    col.sched.answer_card(col.sched.build_answer(card=card, states=states, rating=CardAnswer.GOOD))


def _reviews(col: Collection, cid: int) -> int:
    return col.db.scalar("select count() from revlog where cid = ?", cid)


def _version() -> str:
    try:
        from anki.buildinfo import version
    except ImportError:
        return "unknown"
    return version


if __name__ == "__main__":
    # Errors go to stderr with exit status 2; the caller turns them into a Problem.
    try:
        outcome = simulate(sys.argv[1], sys.argv[2])
    except Exception as exc:  # the engine refused a package: a message, never a traceback
        print(f"{exc.__class__.__name__}: {exc}", file=sys.stderr)
        sys.exit(2)
    json.dump(outcome, sys.stdout)
