"""The command surface through Click's CliRunner, and `python -m neurodeck`."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from neurodeck.cli import main


def run(*args: str):
    return CliRunner().invoke(main, list(args))


def test_build_prints_a_summary_per_deck(project):
    result = run("build")
    assert result.exit_code == 0, result.output
    assert "Test Deck: 5 notes, 7 cards (5 new, 0 changed, 0 removed)" in result.stdout
    assert "Mirror Neurons" in result.stdout and "Neuropeptides" in result.stdout
    line = [row for row in result.stdout.splitlines() if "->" in row][0]
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
    from importlib.metadata import version  # what pip installed, from pyproject.toml

    assert run("--version").stdout == f"neurodeck {version('neurodeck')}\n"
    help_text = run("--help").stdout
    assert "Examples:" in help_text and "neurodeck build --locked" in help_text
    assert "--locked" in run("build", "--help").stdout


def test_python_dash_m_is_the_same_command(project):
    done = subprocess.run([sys.executable, "-m", "neurodeck", "validate"], capture_output=True, text=True)
    assert done.returncode == 0 and "Test Deck: 5 notes, 7 cards: ok" in done.stdout


def test_build_watch_rebuilds_on_a_real_change_and_stops_cleanly(project):
    import os
    import signal
    import time

    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parent.parent))
    log = project.parent / "watch.log"  # outside the watched project
    with open(log, "w") as out:
        proc = subprocess.Popen([sys.executable, "-m", "neurodeck", "build", "--watch"], stdout=out,
                                stderr=subprocess.STDOUT, env=env)
        try:
            apkg = project / "dist" / "test-deck.apkg"
            deadline = time.monotonic() + 30
            while not (apkg.exists() and "Watching" in log.read_text()) and time.monotonic() < deadline:
                time.sleep(0.05)
            first = apkg.read_bytes()
            cards = project / "cards" / "a.yaml"
            cards.write_text(cards.read_text().replace("Single-unit recordings.", "Edited while watching."))
            while apkg.read_bytes() == first and time.monotonic() < deadline:
                time.sleep(0.05)
            assert apkg.read_bytes() != first
            cards.write_text("subtopic: [broken\n")  # an error is printed, the good package stays
            while log.read_text().count("error:") == 0 and time.monotonic() < deadline:
                time.sleep(0.05)
            second = apkg.read_bytes()
        finally:
            proc.send_signal(signal.SIGINT)
            code = proc.wait(timeout=20)
    text = log.read_text()
    assert code == 0 and "Stopped watching." in text and "Traceback" not in text
    assert "(0 new, 1 changed, 0 removed)" in text and "cards/a.yaml:1:11: error: YAML syntax error: the '[' opened here is never closed" in text
    assert "is gone from the cards" not in text  # a broken file is not a deleted card
    assert apkg.read_bytes() == second != first


def test_stats_counts_everything(project):
    result = run("stats", "--format", "json")
    assert result.exit_code == 0, result.output
    stats = json.loads(result.stdout)["decks"][0]
    assert stats["notes"] == 5 and stats["cards"] == 7
    assert stats["subtopics"] == {"Mirror Neurons": {"notes": 3, "cards": 5}, "Neuropeptides": {"notes": 2, "cards": 2}}
    assert stats["types"]["reversed"] == {"notes": 1, "cards": 2}
    assert stats["tags"]["mirror-neurons"] == 3 and stats["tags"]["macaque"] == 1
    assert stats["with_source"] == 5 and stats["source_share"] == 1.0 and stats["retired"] == []
    text = run("stats").stdout
    assert "Test Deck: 5 notes, 7 cards" in text and "sources: 5 of 5 notes (100%)" in text


def test_new_creates_a_valid_card_file_and_adds_it_to_the_manifest(project):
    manifest = Path("decks/test-deck.yaml")
    manifest.write_text(manifest.read_text().replace("cards: [cards/*.yaml]", "cards: [cards/a.yaml, cards/b.yaml]"))
    result = run("new", "Social Connection", "--manifest", str(manifest))
    assert result.exit_code == 0, result.output
    assert Path("cards/social-connection.yaml").is_file()
    assert "cards: [cards/a.yaml, cards/b.yaml, cards/social-connection.yaml]" in manifest.read_text()
    report = json.loads(run("stats", "--format", "json").stdout)["decks"][0]
    assert report["subtopics"]["Social Connection"] == {"notes": 6, "cards": 10}  # the occlusion example: 3
    assert Path("cards/media/neuron-schematic.png").read_bytes().startswith(b"\x89PNG")
    assert report["types"]["cloze"] == {"notes": 2, "cards": 4}
    assert run("validate").exit_code == 0
    again = run("new", "Social Connection")
    assert again.exit_code == 1 and "file already exists" in again.stderr


def test_new_appends_to_a_block_list_and_skips_a_matching_glob(project):
    manifest = Path("decks/test-deck.yaml")
    manifest.write_text(manifest.read_text().replace("cards: [cards/*.yaml]", "cards:\n  - cards/a.yaml  # first\n  - cards/b.yaml"))
    assert run("new", "Mirror Systems", "--manifest", str(manifest)).exit_code == 0
    assert "  - cards/a.yaml  # first\n  - cards/b.yaml\n  - cards/mirror-systems.yaml" in manifest.read_text()
    assert run("validate").exit_code == 0
    manifest.write_text("name: Test Deck\nnamespace: test-deck\ntag: td\ncards: [cards/*.yaml]\n")
    assert run("new", "Other", "--manifest", str(manifest)).exit_code == 0
    assert manifest.read_text().count("cards/") == 1  # the glob already takes the new file


def test_lint_command_exit_codes(bundled):
    result = run("lint")
    assert result.exit_code == 0, result.output
    assert "decks/neurobiology-of-intimacy.yaml: 0 errors, 0 warnings: ok" in result.stdout
    manifest = Path("decks/neurobiology-of-intimacy.yaml")
    text = manifest.read_text()  # the bundled manifest already has a lint: mapping; add to it
    assert "\nlint: {" in text
    manifest.write_text(text.replace("\nlint: {", "\nlint: {ND102: {limit: 10}, "))
    strict = run("lint", "--json")
    assert strict.exit_code == 1
    report = json.loads(strict.stdout)
    assert report["ok"] is False and report["decks"][0]["errors"] > 0
    assert all(p["message"].startswith("ND") for p in report["decks"][0]["problems"])
