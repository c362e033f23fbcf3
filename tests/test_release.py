"""Versions and releases: recorded in the lock, shown in the deck, reproducible."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from conftest import REPO, import_package
from neurodeck.cli import main


def run(*args):
    return CliRunner().invoke(main, list(args))


def test_release_records_version_and_date_and_refuses_older(project, collection, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1764028800")  # 2025-11-25
    result = run("release", "1.0.0")
    assert result.exit_code == 0, result.output
    assert "version: 1.0.0" in Path("decks/test-deck.yaml").read_text()
    lock = json.loads(Path("decks/test-deck.lock").read_text())
    assert lock["release"] == {"date": "2025-11-25", "version": "1.0.0"}
    assert run("build", "--locked").exit_code == 0
    import_package(collection, Path("dist/test-deck.apkg"))
    assert "Version 1.0.0, released 2025-11-25" in collection.decks.by_name("Test Deck")["desc"]

    for older in ("1.0.0", "0.9", "1"):
        refused = run("release", older)
        assert refused.exit_code == 1 and "is not newer than the last release, 1.0.0" in refused.stderr
    assert run("release", "1.0.0.1").exit_code == 0
    assert json.loads(Path("decks/test-deck.lock").read_text())["release"]["version"] == "1.0.0.1"


def test_hand_edited_version_is_refused(project):
    manifest = Path("decks/test-deck.yaml")
    manifest.write_text(manifest.read_text().replace("name: Test Deck\n", "name: Test Deck\nversion: 2.0\n"))
    result = run("validate")
    assert result.exit_code == 1
    assert "decks/test-deck.yaml:2:10: error: version 2.0 has not been released" in result.stderr
    assert "run `neurodeck release 2.0`" in result.stderr


def test_two_clean_clones_build_identical_releases(tmp_path):
    shas = []
    for name, tz in (("one", "UTC"), ("two", "America/St_Johns")):
        clone = tmp_path / name / "deep" / "repo"
        subprocess.run(["git", "clone", "-q", str(REPO), str(clone)], check=True)
        env = dict(os.environ, TZ=tz, PYTHONPATH=str(REPO))
        done = subprocess.run([sys.executable, "-m", "neurodeck", "build", "--locked", "--json"], cwd=clone,
                              env=env, capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
        shas.append([d["sha256"] for d in json.loads(done.stdout)["decks"]])
        shutil.rmtree(clone)
    assert shas[0] == shas[1] and all(len(s) == 64 for s in shas[0])
