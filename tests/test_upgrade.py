"""`neurodeck check-upgrade`: the student's upgrade, simulated in the real Anki engine."""
from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import OLD_ANKI, alter_basic_note_type, release
from neurodeck.cli import main

MANIFEST = Path("decks/test-deck.yaml")


@pytest.fixture(params=["current", OLD_ANKI])
def check(request):
    """check-upgrade --json, run by the engine installed with neurodeck and by the oldest we support."""
    engine = [] if request.param == "current" else ["--anki-python", request.getfixturevalue("old_anki")]

    def run(old: Path, new: Path):
        result = CliRunner().invoke(main, ["check-upgrade", str(old), str(new), "--json", *engine])
        report = json.loads(result.stdout) if result.stdout.strip().startswith("{") else result
        if isinstance(report, dict):
            assert report["engine"].startswith(request.param if request.param != "current" else "2")
        return result.exit_code, report

    return run


def test_a_good_upgrade_passes(project, check):
    v1 = release(project, "v1", 1_700_000_000)
    cards = project / "cards" / "a.yaml"
    cards.write_text(cards.read_text().replace("Single-unit recordings.", "Edited.")
                     .replace("  - id: mn-term\n    type: reversed\n",
                              "  - id: mn-term\n    type: reversed\n    retired: true\n    why: Duplicate.\n")
                     + "  - id: mn-new\n    question: New?\n    answer: Yes.\n")
    v2 = release(project, "v2", 1_700_000_100)
    code, report = check(v1, v2)
    assert code == 0 and report["ok"]
    assert report["new"] == ["mn-new"] and report["updated"] == ["mn-discovery", "mn-term"]
    assert report["retired"] == ["mn-term"] and report["conflicting"] == [] and report["vanished"] == []
    assert len(report["unchanged"]) == 3 and report["cloned_notetypes"] == []
    assert report["reviews_before"] == 7 and report["reviews_after"] == 7
    text = CliRunner().invoke(main, ["check-upgrade", str(v1), str(v2)]).stdout
    assert "ok" in text.splitlines()[0] and "reviews before/after upgrade     7 / 7" in text


def test_a_rekeyed_card_fails(project, check):
    v1 = release(project, "v1", 1_700_000_000)
    cards = project / "cards" / "a.yaml"
    cards.write_text(cards.read_text().replace("id: mn-discovery", "id: mn-discovery-renamed"))
    v2 = release(project, "v2", 1_700_000_100)
    code, report = check(v1, v2)
    assert code == 1 and not report["ok"]
    assert report["vanished"] == ["mn-discovery"] and report["new"] == ["mn-discovery-renamed"]


def test_a_note_type_schema_change_fails(project, monkeypatch, check):
    v1 = release(project, "v1", 1_700_000_000)
    alter_basic_note_type(monkeypatch, lambda basic: dataclasses.replace(basic, fields=("Front",) + basic.fields[1:]))
    (project / "decks" / "test-deck.lock").unlink()  # our own validation would refuse the change
    v2 = release(project, "v2", 1_700_000_100)
    code, report = check(v1, v2)
    assert code == 1
    assert report["conflicting"] and report["cloned_notetypes"]


def test_bad_packages_are_clear_errors(project, tmp_path):
    v1 = release(project, "v1", 1_700_000_000)
    junk = tmp_path / "junk.apkg"
    junk.write_text("not a zip")
    result = CliRunner().invoke(main, ["check-upgrade", str(v1), str(junk)])
    assert result.exit_code == 1 and "not an Anki package" in result.stderr and "Traceback" not in result.output
    assert CliRunner().invoke(main, ["check-upgrade", str(v1), "missing.apkg"]).exit_code == 2
