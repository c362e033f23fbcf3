"""The public library API (`import neurodeck`), used without Click, on the bundled deck."""
from __future__ import annotations

import json
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import neurodeck as nd
from conftest import REPO, import_package

DECK = "decks/neurobiology-of-intimacy.yaml"
OUTPUT = "neurobiology-of-intimacy.apkg"
# The bundled deck's card count, counted independently of the loader.
CARDS = sum(f.read_text(encoding="utf-8").count("\n  - id: ") for f in (REPO / "cards").glob("*.yaml"))
CARD = "oxytocin-declerck-replication"  # a basic card of cards/neuropeptides.yaml


def python(code: str, cwd: Path) -> subprocess.CompletedProcess:
    """Run `code` in a fresh interpreter, as a script that imports neurodeck would."""
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], cwd=cwd, capture_output=True, check=False,
                          text=True, timeout=300)


def edit_answer(root: Path, card_id: str, answer: str) -> None:
    path = root / "cards" / "neuropeptides.yaml"
    text = path.read_text(encoding="utf-8")
    block = re.search(rf"- id: {card_id}\n(?:    .*\n)*?    answer: (.*)\n", text)
    assert block, card_id
    path.write_text(text[:block.start(1)] + answer + text[block.end(1):], encoding="utf-8")


def test_every_public_name_resolves_and_importing_loads_nothing_heavy():
    from neurodeck import api

    assert sorted(nd.__all__) == sorted(api.__all__)
    assert set(nd.__all__) <= set(dir(nd))
    for name in nd.__all__:
        assert getattr(nd, name) is getattr(api, name)
    with pytest.raises(AttributeError):
        nd.no_such_name  # noqa: B018
    # A fresh `import neurodeck` loads the package's __init__ only: no API, no compiler, no Click.
    done = python("""
        import sys
        import neurodeck
        print(sorted(m for m in sys.modules if m.split(".")[0] in {"neurodeck", "click", "yaml", "sqlite3"}))
    """, REPO)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "['neurodeck']"


def test_the_api_builds_lints_previews_and_compares_the_bundled_deck_without_click(bundled):
    done = python(f"""
        import json, sys
        import neurodeck as nd
        deck, = nd.load_project(".")
        built = nd.build("{DECK}", "out")
        problems = nd.lint("{DECK}")
        page, preview_problems = nd.preview("{DECK}", "out")
        diffs, diff_problems = nd.compare("out/{OUTPUT}", "out/{OUTPUT}")
        print(json.dumps({{"cards": len(deck.cards), "deck_ok": deck.ok, "built": built.ok,
                          "output": str(built.output), "lint": len(problems), "page": str(page),
                          "unchanged": diffs[0].unchanged, "empty": diffs[0].empty,
                          "click": "click" in sys.modules}}))
    """, bundled)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {
        "cards": CARDS, "deck_ok": True, "built": True, "output": f"out/{OUTPUT}", "lint": 0,
        "page": "out/neurobiology-of-intimacy.html", "unchanged": CARDS, "empty": True, "click": False}


def test_build_writes_a_package_anki_imports_then_leaves_it_alone_until_an_input_changes(bundled, collection):
    deck = nd.load_deck(DECK)
    first = nd.build(DECK, bundled / "out")
    assert first.ok and not first.up_to_date and first.problems == []
    assert first.output == bundled / "out" / OUTPUT and first.report["notes"] == len(deck.cards) == CARDS
    log = import_package(collection, first.output)
    assert len(log.new) == CARDS and collection.note_count() == CARDS
    stamp = first.output.stat().st_mtime_ns

    again = nd.build(Path(DECK), str(bundled / "out"))
    assert again.up_to_date and again.ok and again.output == first.output
    assert again.report["sha256"] == first.report["sha256"] and first.output.stat().st_mtime_ns == stamp

    edit_answer(bundled, CARD, "The hypothalamus (paraventricular and supraoptic nuclei).")
    third = nd.build(DECK, bundled / "out")
    assert not third.up_to_date and third.ok and third.report["changed"] == [CARD]
    assert third.report["sha256"] != first.report["sha256"]


def test_an_up_to_date_build_is_answered_without_loading_the_compiler(bundled):
    assert nd.build(DECK, "dist").ok
    done = python(f"""
        import sys
        import neurodeck as nd
        built = nd.build("{DECK}", "dist")
        print(built.up_to_date, sorted(m for m in ("yaml", "sqlite3", "cmarkgfm", "nh3", "click",
                                                   "neurodeck.pipeline.build") if m in sys.modules))
    """, bundled)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split(maxsplit=1) == ["True", "[]\n"]


def test_a_locked_build_with_a_stale_lock_writes_nothing(bundled):
    edit_answer(bundled, CARD, "Changed without updating the lock.")
    lock = (bundled / "decks" / "neurobiology-of-intimacy.lock").read_bytes()
    built = nd.build(DECK, "dist", locked=True)
    assert not built.ok and built.output is None and not built.up_to_date
    assert [p.message for p in built.problems if p.severity == "error"] == ["lock file is out of date (--locked)"]
    assert not (bundled / "dist" / OUTPUT).exists()
    assert (bundled / "decks" / "neurobiology-of-intimacy.lock").read_bytes() == lock


def test_compare_and_check_upgrade_between_two_builds(bundled, tmp_path):
    old = nd.build(DECK, tmp_path / "v1").output
    edit_answer(bundled, CARD, "The paraventricular and supraoptic nuclei of the hypothalamus.")
    new = nd.build(DECK, tmp_path / "v2").output
    assert old is not None and new is not None

    diffs, problems = nd.compare(str(old), str(new))
    assert problems == [] and diffs is not None and len(diffs) == 1
    assert [change.name for change in diffs[0].changed] == [CARD]
    assert not (diffs[0].added or diffs[0].removed or diffs[0].moved) and diffs[0].unchanged == CARDS - 1
    assert CARD in nd.format_diff(diffs, "markdown")
    assert json.loads(nd.format_diff(diffs, "json"))["decks"][0]["summary"]["changed"] == 1

    report, problems = nd.check_upgrade(old, new)
    assert problems == [] and report is not None and report.ok
    assert report.updated == [CARD] and len(report.unchanged) == CARDS - 1


def test_problems_are_values_with_locations(bundled):
    (bundled / "cards" / "broken.yaml").write_text("subtopic: Broken\ncards:\n  - id: x\n    question: Q?\n")
    deck = nd.load_deck(DECK)
    assert not deck.ok and len(deck.cards) == CARDS + 1
    problem, = [p for p in deck.problems if p.severity == "error"]
    assert isinstance(problem, nd.Problem) and problem.location == nd.Location("cards/broken.yaml", 3, 5)
    assert problem.format().startswith("cards/broken.yaml:3:5: error: missing required key 'answer'")
    built = nd.build(DECK, "dist")
    assert not built.ok and built.output is None and nd.has_errors(built.problems)
    assert not (bundled / "dist" / OUTPUT).exists()
    page, problems = nd.preview(DECK)
    assert page is None and nd.has_errors(problems)
    stats, problems = nd.stats(DECK)
    assert stats is None and nd.has_errors(problems)


def test_readme_library_example_runs(bundled):
    """The README's library example, run as written in a copy of the repository."""
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## Using neurodeck as a library"):]
    section = section[:section.index("\n## ", 1)]
    unnamed = [name for name in nd.__all__ if not re.search(rf"\b{name}\b", section)]
    assert unnamed == [], "the README's library section names every public name"
    code = re.search(r"```python\n(.*?)```", section, re.DOTALL)
    assert code, "no python block in the README's library section"
    done = python(code.group(1), bundled)
    assert done.returncode == 0, done.stderr
    assert f"Neurobiology of Intimacy: {CARDS} cards, 0 problems" in done.stdout
    assert (bundled / "dist" / OUTPUT).is_file()
