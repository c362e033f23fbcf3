"""`neurodeck adopt`: decks made and exported by the official Anki engine become projects whose build
changes nothing for the students who study them, in both package formats (issue 14, points 2-4)."""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from anki_decks import FONT, SVG, make_package
from conftest import PNG, REPO, import_package, study_all
from neurodeck.cli import main
from neurodeck.commands.adopt import _q, adopt
from neurodeck.commands.upgrade import check_upgrade
from neurodeck.pipeline.build import build
from neurodeck.source.yamlnodes import parse
from sounds import mp3

NOW = 1_900_000_000


def _student(folder: Path):
    from anki.collection import Collection

    folder.mkdir(parents=True)
    return Collection(str(folder / "collection.anki2"))


def _reviews(col) -> dict[int, int]:
    return dict(col.db.all("select cid, count() from revlog group by cid"))


@pytest.mark.parametrize("legacy", [True, False], ids=["collection.anki21", "collection.anki21b"])
def test_a_studied_deck_adopted_and_built_changes_nothing_then_one_edit_updates_one_note(tmp_path, legacy):
    original = make_package(tmp_path / "educator", legacy)
    with zipfile.ZipFile(original) as zf:
        assert ("collection.anki21" if legacy else "collection.anki21b") in zf.namelist()
    col = _student(tmp_path / "student")
    try:
        first = import_package(col, original)
        assert len(first.new) == 24
        assert study_all(col) == 44  # basic: 1 card, the triple: 2 or 3, cloze: 2 per note
        reviews, types = _reviews(col), {m["id"]: m["name"] for m in col.models.all()}
        decks = sorted(col.decks.name(col.get_card(c).did) for c in col.find_cards(""))

        report, problems = adopt(original, tmp_path / "project", now=NOW)
        assert problems == [] and report is not None
        assert (report.notes, report.cards, len(report.notetypes), report.media) == (24, 44, 3, 4)
        manifest = report.manifest
        built = build(manifest, tmp_path / "dist", now=NOW)
        assert built.ok, [p.format() for p in built.problems]

        log = import_package(col, built.output)
        assert (len(log.new), len(log.updated), len(log.conflicting)) == (0, 0, 0)
        assert len(log.duplicate) == 24
        assert {m["id"]: m["name"] for m in col.models.all()} == types  # no copy of any note type
        assert _reviews(col) == reviews and sum(reviews.values()) == 44

        # The package gives a new student the same decks, note types, fields, tags and media names.
        fresh = _student(tmp_path / "new-student")
        try:
            import_package(fresh, built.output)
            assert sorted(fresh.decks.name(fresh.get_card(c).did) for c in fresh.find_cards("")) == decks
            assert {m["id"]: m["name"] for m in fresh.models.all() if m["id"] in types} == \
                {i: n for i, n in types.items() if n in ("Anatomy Basic", "Term Triple", "Anatomy Cloze")}
            ours = {n.guid: (n.fields, sorted(n.tags)) for n in map(fresh.get_note, fresh.find_notes(""))}
            theirs = {n.guid: (n.fields, sorted(n.tags)) for n in map(col.get_note, col.find_notes(""))}
            assert ours == theirs
            assert sorted(fresh.media.check().missing) == []
            assert (Path(fresh.media.dir()) / "_anatomy.woff2").read_bytes() == FONT
        finally:
            fresh.close()
        with zipfile.ZipFile(built.output) as zf:
            names = json.loads(zf.read("media"))
            assert {names[k]: zf.read(k) for k in names} == {"femur scan.png": PNG, "skull.svg": SVG,
                                                             "femur.mp3": mp3(), "_anatomy.woff2": FONT}

        upgrade, problems = check_upgrade(original, built.output)
        assert problems == [] and upgrade.ok, upgrade.to_json()

        # One edit in the YAML updates that note, and only it.
        card_file = report.root / "cards" / "bones.yaml"
        text = card_file.read_text(encoding="utf-8")
        edited = text.replace("Definition <b>1.0</b>", "Definition <b>1.0</b>, corrected", 1)
        assert edited != text
        card_file.write_text(edited, encoding="utf-8")
        rebuilt = build(manifest, tmp_path / "dist", now=NOW + 100)
        assert rebuilt.ok and rebuilt.report()["changed"] == ["term-1-0"]
        log = import_package(col, rebuilt.output)
        assert (len(log.new), len(log.updated), len(log.conflicting)) == (0, 1, 0)
        (note,) = [col.get_note(n) for n in col.find_notes("Definition:*corrected*")]
        assert note["Definition"] == "Definition <b>1.0</b>, corrected"
        assert _reviews(col) == reviews
    finally:
        col.close()


def test_the_lock_keeps_every_guid_and_mod_and_counts_everything_released(tmp_path):
    from anki.collection import Collection

    original = make_package(tmp_path / "educator", legacy=False, notes_per_deck=1)
    report, problems = adopt(original, tmp_path / "project", now=NOW)
    assert problems == []
    lock = json.loads(report.manifest.with_suffix(".lock").read_text())
    col = Collection(str(tmp_path / "educator" / "collection.anki2"))
    try:
        mods = {n.guid: n.mod for n in map(col.get_note, col.find_notes(""))}
        type_mods = {m["name"]: m["mod"] for m in col.models.all()}
    finally:
        col.close()
    import jsonschema
    import yaml

    from neurodeck.commands.schema import SCHEMAS

    for kind, paths in (("card-file", (report.root / "cards").glob("*.yaml")), ("manifest", [report.manifest])):
        validator = jsonschema.Draft202012Validator(SCHEMAS[kind]())
        for path in paths:  # editors' schemas accept what adopt writes, nested and root subdecks included
            assert [e.message for e in validator.iter_errors(yaml.safe_load(path.read_text()))] == [], path
    assert {e["guid"]: e["mod"] for e in lock["notes"].values()} == mods
    assert sorted(lock["released"]) == sorted(lock["notes"])
    for key, entry in lock["notetypes"].items():
        declared = parse((report.root / "notetypes" / f"{key}.yaml").read_text(), key)[0]
        name = declared.items["name"][1].text
        assert entry["mod"] == type_mods[name] and entry["frozen"]["id"] == int(declared.items["id"][1].text)


def test_scripts_handlers_and_remote_addresses_are_removed_and_reported_per_card(tmp_path):
    from anki.collection import Collection, DeckIdLimit, ExportAnkiPackageOptions

    col = Collection(str(tmp_path / "collection.anki2"))
    try:
        did = col.decks.id("Pharmacology")
        basic = col.models.by_name("Basic")
        n = col.new_note(basic)
        n["Front"] = 'Which enzyme?<script>fetch("https://evil.example")</script>'
        n["Back"] = '<b onclick="steal()">CYP3A4</b> <img src="https://example.org/x.png"> <a href="https://w.org">w</a>'
        col.add_note(n, did)
        m = col.new_note(basic)
        m["Front"], m["Back"] = "Clean?", "<i>yes</i>"
        col.add_note(m, did)
        out = tmp_path / "pharm.apkg"
        col.export_anki_package(out_path=str(out), limit=DeckIdLimit(did), options=ExportAnkiPackageOptions(
            with_scheduling=False, with_deck_configs=False, with_media=True, legacy=True))
    finally:
        col.close()
    report, problems = adopt(out, tmp_path / "project", now=NOW)
    assert problems == [] and report is not None
    assert report.markup == {}
    assert report.removed == {"which-enzyme": [
        "Front: <script> element",
        "Back: event handler onclick on <b>",
        "Back: remote address in src of <img>: https://example.org/x.png",
        "Back: remote address in href of <a>: https://w.org"]}
    text = (report.root / "cards" / "pharmacology.yaml").read_text()
    assert not re.search(r"script|onclick|https?:", text)
    assert "keep_markup" not in report.manifest.read_text()
    built = build(report.manifest, tmp_path / "dist", now=NOW)
    assert built.ok and [p for p in built.problems] == []


def test_adopt_refuses_a_collection_backup_a_non_empty_folder_and_a_broken_package_writing_nothing(tmp_path):
    original = make_package(tmp_path / "educator", legacy=True, notes_per_deck=1)
    backup = tmp_path / "collection-2025.colpkg"
    backup.write_bytes(original.read_bytes())
    report, problems = adopt(backup, tmp_path / "a")
    assert report is None and "whole-collection backup (.colpkg)" in problems[0].message
    assert not (tmp_path / "a").exists()

    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "notes.txt").write_text("mine")
    report, problems = adopt(original, busy)
    assert report is None and problems[0].location.path == str(busy) and "not empty" in problems[0].message
    assert [p.name for p in busy.iterdir()] == ["notes.txt"]

    broken = tmp_path / "broken.apkg"
    broken.write_bytes(b"PK\x03\x04 not really a zip")
    runner = CliRunner()
    done = runner.invoke(main, ["adopt", str(broken), "--into", str(tmp_path / "b")])
    assert done.exit_code == 1 and "Traceback" not in done.output
    assert f"{broken}: error: not a readable Anki package" in done.stderr
    assert not (tmp_path / "b").exists()

    empty = tmp_path / "empty"
    empty.mkdir()
    done = runner.invoke(main, ["adopt", str(original), "--into", str(empty), "--name", "Anatomy 2025"])
    assert done.exit_code == 0, done.output
    assert "Adopted anatomy-legacy.apkg into" in done.stdout and "3 note types" in done.stdout
    assert 'name: "Anatomy 2025"' in (empty / "decks" / "anatomy-2025.yaml").read_text()
    assert "warning: the deck is 'Anatomy' in the package and 'Anatomy 2025' in the project" in done.stderr


def test_a_note_type_field_or_template_id_may_be_negative_as_anki_makes_them(tmp_path):
    from neurodeck.source.notetypes import load_notetype_file

    path = tmp_path / "t.yaml"
    path.write_text('name: T\nkind: standard\nid: 5\nfields:\n  - {name: F, id: -9223372036854775808}\n'
                    'templates:\n  - {name: C, id: -1, front: "{{F}}", back: "{{F}}"}\n')
    declared, problems = load_notetype_file(path, "ns")
    assert problems == [] and declared.notetype.field_specs[0].id == -2**63 and declared.notetype.templates[0].id == -1
    path.write_text('name: T\nkind: standard\nid: -5\nfields: [F]\ntemplates:\n  - {name: C, front: "{{F}}", back: "{{F}}"}\n')
    _, problems = load_notetype_file(path, "ns")
    assert [(p.location.line, p.message) for p in problems] == [(3, "'id' must be a whole number above 0, not '-5'")]
    path.write_text('name: T\nkind: standard\nfields:\n  - {name: F, id: 0}\n'
                    'templates:\n  - {name: C, id: 9223372036854775808, front: "{{F}}", back: "{{F}}"}\n')
    _, problems = load_notetype_file(path, "ns")
    assert [p.location.line for p in problems] == [4, 6]
    assert all("must be a whole number other than 0" in p.message for p in problems)


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_every_string_adopt_quotes_reads_back_exactly(text):
    value, problems = parse(f"key: {_q(text)}\n", "t.yaml")
    assert problems == [] and value.items["key"][1].text == text


def test_the_readme_commands_for_moving_a_deck_work_as_written(tmp_path):
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## Moving an existing deck to neurodeck\n"):]
    section = section[:section.index("\n## ", 1)]
    commands = re.search(r"```sh\n(.*?)```", section, re.DOTALL).group(1)
    home = tmp_path / "home"
    (home / "Downloads").mkdir(parents=True)
    shutil.copy(make_package(tmp_path / "educator", legacy=False, notes_per_deck=1), home / "Downloads" / "Anatomy.apkg")
    env = dict(os.environ, HOME=str(home), PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    done = subprocess.run(["bash", "-e", "-c", commands], cwd=home, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Adopted Anatomy.apkg into anatomy/: 12 notes (24 cards)" in done.stdout
    assert re.search(r"Upgrade .*Anatomy.apkg -> dist/anatomy.apkg: ok", done.stdout)
    assert re.search(r"conflicting +0", done.stdout) and re.search(r"updated +0", done.stdout)


_TAG_CHARS = st.sampled_from(list("ab:Zé_-.#&") + [" ", "\u3000", "\t", "\x01", "\xa0", "::"])


@settings(max_examples=150, deadline=None)
@given(st.lists(st.lists(_TAG_CHARS, min_size=0, max_size=6).map("".join), min_size=1, max_size=12))
def test_a_tag_kept_as_written_is_one_anki_stores_unchanged(tmp_path_factory, tags):
    """anki_tag_problem (an HTML card file's tags) says None exactly for the tags Anki's engine
    stores as written."""
    import unicodedata

    from anki.collection import Collection

    from neurodeck.checks.names import anki_tag_problem

    folder = tmp_path_factory.mktemp("tags")
    col = Collection(str(folder / "collection.anki2"))
    try:
        for number, tag in enumerate(unicodedata.normalize("NFC", t) for t in tags):
            note = col.new_note(col.models.by_name("Basic"))
            note["Front"] = "x"
            unique = f"t{number}x{tag}"  # no two examples' tags share a parent Anki could merge by case
            note.tags = [unique]
            col.add_note(note, 1)
            kept = col.get_note(note.id).tags == [unique]
            assert (anki_tag_problem(unique) is None) == kept, (unique, col.get_note(note.id).tags)
    finally:
        col.close()
