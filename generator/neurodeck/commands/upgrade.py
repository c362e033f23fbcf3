"""`neurodeck check-upgrade`: a student's upgrade simulated with the real Anki engine.

Imports OLD into a throwaway collection, studies every card once through the scheduler, imports
NEW with the importer's default options, and reports what happened to every note, note type and
review, and every note whose content Anki did not apply. Needs the official `anki` package
(`pip install neurodeck[verify]`), in this interpreter or in another one (`anki_python`, for an
older engine): the engine's part is `upgrade_engine`, which runs as a script there.

Both packages are first read with the hardened reader: a package that is unsafe or unreadable
never reaches the engine.
"""
from __future__ import annotations

import json
import subprocess
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from neurodeck.model import RETIRED_TAG, Location, Problem

if TYPE_CHECKING:
    from neurodeck.apkg.reader import PackageContents


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
    not_applied: list[str] = field(default_factory=list)  # imported, but Anki kept other content
    engine: str = ""  # the Anki version that ran the simulation

    @property
    def ok(self) -> bool:
        return not (self.conflicting or self.vanished or self.cloned_notetypes or self.cards_without_history
                    or self.not_applied or self.reviews_after < self.reviews_before)

    def to_json(self) -> dict:
        return dict(asdict(self), ok=self.ok)


def check_upgrade(old: Path, new: Path, anki_python: str | None = None,
                  timeout: float = 3600) -> tuple[UpgradeReport | None, list[Problem]]:
    """Simulate importing `new` over a studied `old` with Anki's default import options, in this
    interpreter's engine or, given `anki_python`, in that interpreter's."""
    from neurodeck.apkg.reader import check_package, read_package

    problems = [p for path in (old, new) for p in check_package(path, str(path))]
    if problems:
        return None, problems
    contents, problems = read_package(new, str(new), cards=False)
    if contents is None:
        return None, problems
    outcome, problems = (_run_elsewhere(anki_python, old, new, timeout) if anki_python
                         else _run_here(old, new))
    if outcome is None:
        return None, problems
    try:
        return _report(outcome, contents), []
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        return None, [Problem(Location(str(new)), f"the Anki engine gave an unexpected answer: {exc}")]


def _run_here(old: Path, new: Path) -> tuple[dict | None, list[Problem]]:
    try:
        import anki  # noqa: F401
    except ImportError:
        return None, [Problem(Location(str(old)), "check-upgrade needs the official Anki engine",
                              "install it with: pip install 'neurodeck[verify]', or give --anki-python")]
    from neurodeck.commands.upgrade_engine import simulate

    try:
        return simulate(str(old), str(new)), []
    except Exception as exc:  # the engine refused a package: report, never a traceback
        return None, [Problem(Location(str(new)), f"Anki could not import the packages: {exc}")]


def _run_elsewhere(python: str, old: Path, new: Path, timeout: float) -> tuple[dict | None, list[Problem]]:
    """The engine's part as a script in another interpreter, which needs only `anki`."""
    from neurodeck.commands import upgrade_engine

    where = Location(python)
    # -I: isolated, so neither the working folder nor PYTHON* variables add modules to it.
    command = [python, "-I", upgrade_engine.__file__, str(Path(old).absolute()), str(Path(new).absolute())]
    try:
        done = subprocess.run(command, capture_output=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        return None, [Problem(where, f"the Anki engine did not finish within {timeout:.0f} s")]
    except (OSError, ValueError) as exc:
        return None, [Problem(where, f"cannot run this Python interpreter: {exc}",
                              "give the python of a virtual environment holding the anki package")]
    message = done.stderr.decode(errors="replace").strip().splitlines()
    if done.returncode != 0:
        reason = message[-1] if message else f"exit status {done.returncode}"
        hint = ("install the engine there: PATH -m pip install anki" if "No module named 'anki'" in reason
                else None)
        return None, [Problem(where, f"the Anki engine in this interpreter failed: {reason}", hint)]
    try:
        return json.loads(done.stdout), []
    except ValueError:
        return None, [Problem(where, "the Anki engine in this interpreter gave no report")]


def _report(outcome: dict[str, Any], new: PackageContents) -> UpgradeReport:
    """The report from the engine's outcome and NEW's notes as the reader saw them."""
    report = UpgradeReport(engine=str(outcome["engine"]))
    log = outcome["log"]
    report.new, report.updated, report.unchanged, report.conflicting = (
        sorted(_name(fields) for fields in log[what]) for what in ("new", "updated", "duplicate", "conflicting"))
    shipped = {note.guid: note for note in new.notes}
    report.vanished = sorted(_name(fields) for guid, fields in outcome["before"].items() if guid not in shipped)
    report.retired = sorted(_name(n.fields) for n in new.notes if _is_retired(n.tags))
    after = outcome["after"]
    conflicting = set(report.conflicting)  # reported already, as conflicting
    report.not_applied = sorted(
        _name(note.fields) for note in new.notes
        if note.guid in after and (list(note.fields), sorted(note.tags)) != (after[note.guid][0],
                                                                             sorted(after[note.guid][1]))
        and _name(note.fields) not in conflicting)
    before = set(outcome["notetypes_before"])
    report.cloned_notetypes = sorted(name for mid, name in outcome["notetypes_after"]
                                     if mid not in before and mid not in new.notetypes)
    history, reviews_after = outcome["history"], outcome["reviews_after"]
    report.reviews_before = int(outcome["reviews_before"])
    report.reviews_after = sum(reviews_after.values())
    report.cards_without_history = sorted(cid for cid, count in history.items() if reviews_after[cid] < count)
    return report


def _name(fields: Sequence[str]) -> str:
    """A note's name in reports: its Id field (neurodeck's last field), else its first field."""
    return (fields[-1] or fields[0])[:80]


def _is_retired(tags: Iterable[str]) -> bool:
    return any(t.endswith("::" + RETIRED_TAG) for t in tags)
