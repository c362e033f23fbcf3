"""Packages exported by Anki itself: `collection.anki21` (legacy export) and `collection.anki21b`
(zstd, the current export), each beside a `collection.anki2` stub that only says "please update".
The reader reads the newest collection, and check-upgrade passes a good upgrade on both engines
(it used to read the stub and report a false FAILED)."""
from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import OLD_ANKI
from neurodeck.apkg.reader import read_package
from neurodeck.cli import main


def anki_releases(folder: Path) -> tuple[dict[str, Path], dict[str, Path]]:
    """Two releases of a deck made and exported by the official engine, in both formats: a Basic
    and a Cloze note in two subdecks; in the second, the Basic note is edited (a newer mod)."""
    from anki.collection import Collection, ExportAnkiPackageOptions

    col = Collection(str(folder / "collection.anki2"))
    try:
        note = col.new_note(col.models.by_name("Basic"))
        note["Front"], note["Back"] = "Where is oxytocin made?", "In the hypothalamus."
        note.tags = ["hormones"]
        col.add_note(note, col.decks.id("Anki Deck::Hormones"))
        other = col.new_note(col.models.by_name("Cloze"))
        other["Text"] = "Mirror neurons were found in {{c1::F5}}."
        col.add_note(other, col.decks.id("Anki Deck::Motor"))
        col.db.execute("update notes set guid = 'basic-note', mod = 1700000000 where id = ?", note.id)
        col.db.execute("update notes set guid = 'cloze-note', mod = 1700000000 where id = ?", other.id)
        out: tuple[dict[str, Path], dict[str, Path]] = ({}, {})
        for release in (0, 1):
            if release:
                note = col.get_note(note.id)
                note["Back"] = "PVN and SON."
                col.update_note(note)
                col.db.execute("update notes set mod = 1700000001 where id = ?", note.id)
            for legacy in (True, False):
                path = folder / f"v{release + 1}-{'legacy' if legacy else 'current'}.apkg"
                out[release]["anki21" if legacy else "anki21b"] = path
                options = ExportAnkiPackageOptions(with_scheduling=False, with_deck_configs=False, with_media=True,
                                                   legacy=legacy)
                col.export_anki_package(out_path=str(path), options=options, limit=None)
        return out
    finally:
        col.close()


@pytest.fixture(scope="module")
def releases(tmp_path_factory):
    return anki_releases(tmp_path_factory.mktemp("anki-made"))


@pytest.mark.parametrize("member", ["anki21", "anki21b"])
def test_the_reader_reads_the_newest_collection_not_the_stub(releases, member):
    path = releases[1][member]
    with zipfile.ZipFile(path) as zf:
        assert {f"collection.{member}", "collection.anki2"} <= set(zf.namelist())
    contents, problems = read_package(path)
    assert problems == [] and contents.member == f"collection.{member}"
    notes = {n.guid: n for n in contents.notes}
    assert notes["basic-note"].fields == ("Where is oxytocin made?", "PVN and SON.")
    assert notes["basic-note"].tags == ("hormones",) and notes["basic-note"].mod == 1_700_000_001
    assert notes["cloze-note"].fields[0] == "Mirror neurons were found in {{c1::F5}}."
    decks = {contents.decks[did] for _, did in contents.cards}
    assert decks == {"Anki Deck::Hormones", "Anki Deck::Motor"}
    types = {nt.name: nt for nt in contents.notetypes.values()}
    assert [name for name, _ in types["Basic"].fields] == ["Front", "Back"]
    assert types["Cloze"].cloze and not types["Basic"].cloze
    assert types["Basic"].texts[0][1] == "{{Front}}" and "{{cloze:Text}}" in types["Cloze"].texts[0][1]
    assert "font-family" in types["Basic"].css


def test_both_formats_read_the_same(releases):
    legacy, _ = read_package(releases[1]["anki21"])
    current, _ = read_package(releases[1]["anki21b"])
    assert legacy.notes == current.notes and legacy.cards == current.cards
    assert legacy.notetypes.keys() == current.notetypes.keys()
    for mid, nt in legacy.notetypes.items():
        assert (nt.name, nt.fields, nt.templates, nt.cloze, nt.css, nt.texts) == (
            current.notetypes[mid].name, current.notetypes[mid].fields, current.notetypes[mid].templates,
            current.notetypes[mid].cloze, current.notetypes[mid].css, current.notetypes[mid].texts)


@pytest.mark.parametrize("engine", ["current", OLD_ANKI])
@pytest.mark.parametrize("member", ["anki21", "anki21b"])
def test_check_upgrade_passes_an_upgrade_exported_by_anki(releases, member, engine, request):
    extra = [] if engine == "current" else ["--anki-python", request.getfixturevalue("old_anki")]
    v1, v2 = releases[0][member], releases[1][member]
    done = CliRunner().invoke(main, ["check-upgrade", str(v1), str(v2), "--json", *extra])
    report = json.loads(done.stdout)
    assert done.exit_code == 0 and report["ok"], done.output
    assert report["updated"] == ["PVN and SON."] and report["vanished"] == [] and report["not_applied"] == []
    assert report["reviews_before"] == report["reviews_after"] == 2


@pytest.mark.parametrize("member", ["anki21", "anki21b"])
def test_diff_reads_packages_exported_by_anki(releases, member):
    """diff used to refuse the current format ("export it again with 'Support older Anki versions'")."""
    done = CliRunner().invoke(main, ["diff", str(releases[0][member]), str(releases[1][member]), "--json"])
    assert done.exit_code == 0, done.output
    [deck] = json.loads(done.stdout)["decks"]
    assert deck["deck"] == "Anki Deck" and deck["summary"]["changed"] == 1 and deck["summary"]["unchanged"] == 1
    [change] = deck["changed"]
    assert change["decks"] == ["Anki Deck::Hormones"]
    assert [(f["name"], f["old"], f["new"]) for f in change["fields"]] == [("Back", "In the hypothalamus.",
                                                                           "PVN and SON.")]
