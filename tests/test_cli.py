"""The command surface through Click's CliRunner, and `python -m generator`."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from generator.cli import main


def run(*args: str):
    return CliRunner().invoke(main, list(args))


def test_build_prints_a_summary_per_deck(project):
    result = run("build")
    assert result.exit_code == 0, result.output
    assert "Test Deck: 5 notes, 7 cards (5 new, 0 changed, 0 removed)" in result.stdout
    assert "Mirror Neurons" in result.stdout and "Neuropeptides" in result.stdout
    line = [l for l in result.stdout.splitlines() if "->" in l][0]
    assert "dist/test-deck.apkg" in line and "sha256 " in line and " bytes" in line
    assert Path("dist/test-deck.apkg").is_file()


def test_build_json_report_for_ci(project):
    result = run("build", "--format", "json", "--out", "release")
    assert result.exit_code == 0
    report = json.loads(result.stdout)
    deck = report["decks"][0]
    assert report["ok"] and deck["output"] == "release/test-deck.apkg" and len(deck["sha256"]) == 64
    assert deck["subtopics"] == {"Mirror Neurons": 3, "Neuropeptides": 2}
    assert deck["types"] == {"basic": 2, "cloze": 1, "reversed": 1, "type-in": 1}


def test_validate_exit_codes_and_errors_on_stderr(project):
    assert run("validate").exit_code == 0
    Path("cards/a.yaml").write_text("subtopic: X\ncards:\n  - id: a\n    question: Q?\n")
    result = run("validate")
    assert result.exit_code == 1
    assert "cards/a.yaml:3:5: error: missing required key 'answer'" in result.stderr
    assert "Traceback" not in result.output
    report = json.loads(run("validate", "--format", "json").stdout)
    assert report["ok"] is False and report["decks"][0]["problems"][0]["line"] == 3


def test_usage_errors_exit_2(project):
    assert run("build", "decks/nope.yaml").exit_code == 2
    assert run("build", "--frobnicate").exit_code == 2
    Path("decks/test-deck.yaml").unlink()
    result = run("validate")
    assert result.exit_code == 2 and "no manifests given" in result.stderr


def test_version_and_help_with_examples():
    assert run("--version").stdout.startswith("neurodeck ")
    help_text = run("--help").stdout
    assert "Examples:" in help_text and "neurodeck build --locked" in help_text
    assert "--locked" in run("build", "--help").stdout


def test_python_dash_m_is_the_same_command(project):
    done = subprocess.run([sys.executable, "-m", "generator", "validate"], capture_output=True, text=True)
    assert done.returncode == 0 and "Test Deck: 5 notes, 7 cards: ok" in done.stdout
