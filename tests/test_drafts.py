"""Drafts and releases: a card id is permanent once a release ships it, not when it is built."""
from __future__ import annotations

import json
from pathlib import Path
from typing import NamedTuple

from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

import neurodeck as nd
from conftest import REPO
from neurodeck.checks.rules import check_against_lock, check_gone
from neurodeck.cli import main
from neurodeck.lockfile import Entry, Lock, next_lock, read_lock
from neurodeck.model import Location


def run(*args: str):
    return CliRunner().invoke(main, list(args))


def lock_of(root: Path) -> dict:
    return json.loads(next((root / "decks").glob("*.lock")).read_text())


def test_drafts_come_and_go_freely_and_released_cards_stay(tmp_path, monkeypatch):
    """The scenario of issue 13, then the same after a release."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1764028800")
    assert run("init", "--name", "My Deck").exit_code == 0
    assert run("new", "Scaffold").exit_code == 0
    scaffold = tmp_path / "cards" / "scaffold.yaml"
    full = scaffold.read_text()
    assert run("build").exit_code == 0
    outputs = []

    # a draft scaffold: delete three of its cards, rebuild, add them back
    first, *others = full.split("  - id: ")[1:]
    deleted = [card.split("\n")[0] for card in others]
    assert len(deleted) == 5  # reversed, cloze, type-in, sound and occlusion examples
    scaffold.write_text(full.split("  - id: ")[0] + "  - id: " + first)
    built = run("build")
    outputs.append(built.output)
    assert built.exit_code == 0 and built.stderr == "", built.stderr
    assert f"removed: {', '.join(sorted(deleted))}" in built.stdout
    assert not set(deleted) & set(lock_of(tmp_path)["notes"]) and lock_of(tmp_path)["removed"] == []
    scaffold.write_text(full)
    built = run("build")
    outputs.append(built.output)
    assert built.exit_code == 0 and built.stderr == "", built.stderr
    assert f"new:     {', '.join(sorted(deleted))}" in built.stdout

    # released: deleting warns, and until the next release the card may come back
    released = run("release", "1.0.0")
    assert released.exit_code == 0, released.output
    assert set(lock_of(tmp_path)["released"]) == set(lock_of(tmp_path)["notes"])
    gone = deleted[0]
    without = full.replace("  - id: " + [c for c in others if c.startswith(gone)][0], "")
    scaffold.write_text(without)
    built = run("build")
    outputs.append(built.output)
    assert built.exit_code == 0
    assert f"warning: released card '{gone}' is gone from the cards" in built.stderr
    scaffold.write_text(full)
    built = run("build")
    outputs.append(built.output)
    assert built.exit_code == 0 and built.stderr == ""

    # the next release ships without it: from now on the id is taken for ever
    scaffold.write_text(without)
    released = run("release", "1.1.0")
    outputs.append(released.output)
    assert released.exit_code == 0 and "is gone from the cards" in released.stderr
    assert lock_of(tmp_path)["removed"] == [gone]
    scaffold.write_text(full)
    refused = run("build")
    outputs.append(refused.output)
    assert refused.exit_code == 1
    assert f"error: card id '{gone}' was removed in an earlier release" in refused.stderr
    assert "give this card a new id" in refused.stderr
    # nothing ever asks for the lock to be edited by hand
    assert not any("edit" in line and "lock" in line for out in outputs for line in out.splitlines())
    assert "'removed' in" not in "".join(outputs)


class FakeNote(NamedTuple):
    id: str
    type: str = "basic"
    location: Location = Location("cards/a.yaml", 3, 5)
    id_location: Location = Location("cards/a.yaml", 3, 9)
    guid: str = ""
    given_guid: bool = False


IDS = ["a", "b", "c", "d"]
_steps = st.lists(st.tuples(st.booleans(), st.sets(st.sampled_from(IDS))), min_size=1, max_size=12)


@settings(max_examples=300, deadline=None, derandomize=True, database=None)
@given(_steps)
def test_only_releases_make_ids_and_their_removal_permanent(tmp_path_factory, steps):
    """Any sequence of builds and releases: re-adding an id is an error exactly when a release
    shipped it and a later release shipped without it; a missing id is a warning exactly when a
    release shipped it and no release has dropped it yet. The lock round-trips at every step."""
    path = tmp_path_factory.mktemp("lock") / "d.lock"
    lock: Lock | None = None
    shipped: set[str] = set()
    dropped: set[str] = set()
    for number, (is_release, present) in enumerate(steps, start=1):
        notes = [FakeNote(i) for i in sorted(present)]
        errors = check_against_lock(notes, lock, "d.lock")
        assert {p.message.split("'")[1] for p in errors} == present & dropped
        assert all("lock" not in (p.hint or "") for p in errors)
        if errors:
            continue  # the build fails and writes nothing
        warned = check_gone(notes, lock, "d.lock")
        assert {p.message.split("'")[1] for p in warned} == shipped - dropped - present
        release = {"version": str(number), "date": "2025-01-01"} if is_release else None
        lock = next_lock(lock, "ns", {i: Entry("h", 100, "basic") for i in present}, {}, 100, release)
        if is_release:
            dropped |= shipped - present
            shipped |= present
        path.write_text(lock.dumps())
        again, problems = read_lock(path, "d.lock")
        assert problems == [] and again == lock


def test_the_bundled_lock_records_release_1_0_0_of_every_card_and_reads_back_byte_for_byte(tmp_path):
    """Issue 17 ends with `neurodeck release 1.0.0`: from then on every card id of the bundled
    deck is permanent (a deleted card draws a warning, a reused id an error)."""
    path = next((REPO / "decks").glob("*.lock"))
    lock, problems = read_lock(path, path.name)
    assert problems == [] and lock.release is not None and lock.release["version"] == "1.0.0"
    assert lock.released == set(lock.notes) and lock.removed == []
    assert lock.dumps() == path.read_text()


def test_an_old_lock_with_a_release_counts_every_id_as_released(project):
    assert nd.build("decks/test-deck.yaml", "dist").ok
    path = project / "decks" / "test-deck.lock"
    data = json.loads(path.read_text())
    assert "released" not in data  # never released: no list
    data["release"] = {"version": "1.0", "date": "2025-01-01"}
    data["removed"] = ["old-card"]
    path.write_text(json.dumps(data))  # as a neurodeck without drafts wrote it
    lock, problems = read_lock(path, "test-deck.lock")
    assert problems == [] and lock.released == set(data["notes"]) | {"old-card"} and lock.removed == ["old-card"]
    cards = project / "cards" / "a.yaml"
    cards.write_text(cards.read_text().split("  - id: mn-term")[0])
    problems = nd.validate("decks/test-deck.yaml").problems
    assert [p.message for p in problems] == ["released card 'mn-term' is gone from the cards"]


def test_an_old_lock_without_a_release_forgets_its_removals(project):
    """Before drafts, building alone recorded removals; with no release, none of them shipped."""
    path = project / "decks" / "test-deck.lock"
    assert nd.build("decks/test-deck.yaml", "dist").ok
    data = json.loads(path.read_text())
    data["removed"] = ["mn-term"]
    del data["notes"]["mn-term"]
    path.write_text(json.dumps(data))
    compiled = nd.validate("decks/test-deck.yaml")
    assert compiled.ok and compiled.problems == []


def test_a_draft_may_change_its_type_but_a_released_card_may_not(project):
    cards = project / "cards" / "a.yaml"
    original = cards.read_text()
    retyped = original.replace("  - id: mn-term\n    type: reversed\n", "  - id: mn-term\n    type: basic\n")
    assert retyped != original
    assert nd.build("decks/test-deck.yaml", "dist").ok
    cards.write_text(retyped)
    assert nd.validate("decks/test-deck.yaml").ok
    cards.write_text(original)
    result, problems = nd.release("1.0", "decks/test-deck.yaml", "dist")
    assert problems == [] and result.ok
    cards.write_text(retyped)
    assert [p.message for p in nd.validate("decks/test-deck.yaml").problems] == [
        "card 'mn-term' changed type from reversed to basic"]


def test_a_retired_card_needs_a_why(project):
    cards = project / "cards" / "a.yaml"
    cards.write_text("subtopic: X\ncards:\n  - id: a\n    question: Q?\n    answer: A\n    retired: true\n")
    result = run("validate")
    assert result.exit_code == 1
    assert "cards/a.yaml:6:5: error: a retired card needs a 'why'" in result.stderr
    assert "hint: add why:" in result.stderr
