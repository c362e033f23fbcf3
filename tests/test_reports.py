"""Reports that name things: the ids a build changed, stale cards under --locked, no removals
from a failed build, and watch mode's one line per rebuild."""
from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import REPO, write
from neurodeck.cli import main
from neurodeck.pipeline.build import compile_deck, listed

MANY = "subtopic: Many\ncards:\n" + "".join(
    f"  - id: many-{i:02}\n    question: Which number is {i}?\n    answer: {i}\n    source: S\n" for i in range(12))


def run(*args: str):
    return CliRunner().invoke(main, list(args))


def test_listed_shows_ten_then_how_many_more():
    ids = [f"c{i:02}" for i in range(13)]
    assert listed(ids[:10]) == ", ".join(ids[:10])
    assert listed(ids) == ", ".join(ids[:10]) + " and 3 more"
    assert listed([]) == ""


def test_build_names_new_changed_retired_and_removed_ids(project):
    write(project / "cards" / "many.yaml", MANY)
    first = run("build")
    assert first.exit_code == 0
    assert "(17 new, 0 changed, 0 removed)" in first.stdout
    new_line = next(line for line in first.stdout.splitlines() if line.startswith("  new:"))
    assert new_line.endswith(" and 7 more") and new_line.count(",") == 9
    assert run("build").stdout == ("Test Deck: 17 notes, 19 cards (0 new, 0 changed, 0 removed): "
                                   "up to date, nothing written (dist/test-deck.apkg)\n")

    text = (project / "cards" / "many.yaml").read_text()
    text = text.replace("Which number is 3?", "Which number comes after 2?")
    text = text.replace("  - id: many-05\n", "  - id: many-05\n    retired: true\n    why: A duplicate.\n")
    text = text.replace("  - id: many-07\n    question: Which number is 7?\n    answer: 7\n    source: S\n", "")
    write(project / "cards" / "many.yaml", text)
    second = run("build")
    assert second.exit_code == 0
    assert "(0 new, 1 changed, 1 retired, 1 removed)" in second.stdout
    assert "  changed: many-03\n  retired: many-05\n  removed: many-07\n" in second.stdout
    report = json.loads(run("build", "--json").stdout)["decks"][0]  # up to date: the stored report
    assert report["new"] == report["changed"] == report["retired"] == report["removed"] == []


def test_locked_names_the_stale_cards_in_text_as_in_json(project):
    assert run("build").exit_code == 0
    cards = project / "cards" / "a.yaml"
    cards.write_text(cards.read_text().replace("Single-unit recordings.", "Edited."))
    write(project / "cards" / "many.yaml", MANY)
    text = run("build", "--locked")
    data = json.loads(run("build", "--locked", "--json").stdout)["decks"][0]
    assert text.exit_code == 1 and data["changed"] == ["mn-discovery"] and len(data["new"]) == 12
    assert ("hint: it lacks new: many-00, many-01, many-02, many-03, many-04, many-05, many-06, many-07, "
            "many-08, many-09 and 2 more; changed: mn-discovery; run `neurodeck build` without --locked") \
        in text.stderr


def test_validate_json_of_the_bundled_deck_with_one_bad_card_counts_no_removals(bundled):
    assert run("build").exit_code == 0
    card_file = sorted((bundled / "cards").glob("*.yaml"))[0]
    card_file.write_text(card_file.read_text().replace("question:", "questoin:", 1))
    result = run("validate", "--json")
    deck = json.loads(result.stdout)["decks"][0]
    assert result.exit_code == 1 and not deck["ok"]
    assert deck["new"] == deck["changed"] == deck["retired"] == deck["removed"] == []


_breakage = st.sampled_from([
    ("question:", "questoin:"), ("type: cloze", "type: clozee"), ("id: mn-term", "id: Bad Id"),
    ("subtopic: Mirror Neurons", "subtopic: [broken"), ("    question: Mirror neuron\n", ""),
    ("{{c1::F5::a premotor area}}", "{{c1::F5"), ("cards:\n", "cards: 3\n"),
])


@settings(max_examples=25, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])  # each example restores the file
@given(st.lists(_breakage, min_size=1, max_size=3, unique=True))
def test_a_deck_that_fails_reports_no_changes(project_built, changes):
    """Whatever breaks the deck, a failed compile claims no new, changed or removed card."""
    project, original = project_built
    text = original
    for old, new in changes:
        text = text.replace(old, new)
    (project / "cards" / "a.yaml").write_text(text)
    try:
        compiled = compile_deck(Path("decks/test-deck.yaml"))
    finally:
        (project / "cards" / "a.yaml").write_text(original)
    summary = compiled.summary()
    assert not compiled.ok
    assert summary["new"] == summary["changed"] == summary["retired"] == summary["removed"] == []


@pytest.fixture
def project_built(project):
    assert run("build").exit_code == 0
    return project, (project / "cards" / "a.yaml").read_text()


def test_watch_prints_a_timed_line_per_rebuild_and_one_line_for_a_save_that_changes_nothing(project):
    env = dict(os.environ, PYTHONPATH=str(REPO / "generator"))
    out_log, err_log = project.parent / "watch.out", project.parent / "watch.err"
    stamp = r"\[\d\d:\d\d:\d\d\] "
    with open(out_log, "w") as out, open(err_log, "w") as err:
        proc = subprocess.Popen([sys.executable, "-m", "neurodeck", "build", "--watch"], stdout=out, stderr=err,
                                env=env)

        def wait_for_lines(count: int) -> list[str]:
            deadline = time.monotonic() + 30
            while len(out_log.read_text().splitlines()) < count and time.monotonic() < deadline:
                time.sleep(0.05)
            time.sleep(1.0)  # anything more it would print for this change
            return out_log.read_text().splitlines()

        try:
            lines = wait_for_lines(1)
            while "Watching" not in err_log.read_text():
                time.sleep(0.05)
            assert re.fullmatch(stamp + r"Test Deck: 5 notes, 7 cards \(5 new, 0 changed, 0 removed\) "
                                        r"-> dist/test-deck\.apkg", lines[0])
            cards = project / "cards" / "a.yaml"
            os.utime(cards)  # a save that changes nothing
            lines = wait_for_lines(len(lines) + 1)
            assert re.fullmatch(stamp + "Test Deck: up to date, nothing written", lines[-1])
            count = len(lines)
            cards.write_text(cards.read_text().replace("Single-unit recordings.", "Edited while watching."))
            lines = wait_for_lines(count + 2)
            assert re.fullmatch(stamp + r"Test Deck: .*\(0 new, 1 changed, 0 removed\).*", lines[count])
            assert lines[count + 1:] == ["  changed: mn-discovery"]
            count = len(lines)
            cards.write_text(cards.read_text().replace("question: Where", "questoin: Where"))
            lines = wait_for_lines(count + 1)
            assert len(lines) == count + 1
            assert re.fullmatch(stamp + r"Test Deck: \d+ errors?, nothing written; the last good package stays",
                                lines[-1])
        finally:
            proc.send_signal(signal.SIGINT)
            code = proc.wait(timeout=20)
    errors = err_log.read_text()
    assert code == 0 and "Traceback" not in errors
    assert "cards/a.yaml:5:5: error: unknown key 'questoin' in a card\n  hint: did you mean 'question'?" in errors
    assert errors.count("Watching for changes") == 1
