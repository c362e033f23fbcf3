"""Every kind of content through `push`, with the official `anki` engine on real collection files:
a deck's own note types (and an edit of their templates, which updates the type in place), sound
and image occlusion with their media in collection.media, and an adopted deck pushed back into
the collection it was exported from."""
from __future__ import annotations

from pathlib import Path

from anki.collection import Collection
from click.testing import CliRunner

import neurodeck as nd
import sounds
from anki_decks import make_package
from conftest import PNG, write
from neurodeck.cli import main
from test_custom_notetypes import CARDS, CLOZE, OCCLUSION, TWO_TEMPLATES
from test_push import T0, make_profile, study_all
from test_push_rollback import package_media

FIGURE = """\
subtopic: Figures
cards:
  - id: insula-figure
    type: anatomy-occlusion
    fields:
      Occlusion: '{{c1::image-occlusion:rect:left=.1:top=.1:width=.3:height=.2:oi=1}}{{c2::image-occlusion:ellipse:left=.5:top=.5:width=.2:height=.2:oi=1}}'
      Image: '![](media/brain.png)'
      Header: Name the shaded region
  - id: insula-tone
    question: "Which tone is this? [sound:media/tone.wav]"
    answer: A 440 Hz tone.
    source: Test 2024
"""

IDS = ["insula-both", "insula-cloze", "insula-figure", "insula-tone", "insula-where", "plain"]


def build_at(manifest: Path, now: int, monkeypatch) -> nd.Build:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", str(now))
    return nd.build(manifest, "dist")


def media_is_clean(col: Collection, package: Path) -> None:
    """Every file of the package is in collection.media with its bytes, and Anki's check is clean."""
    folder = Path(col.media.dir())
    for name, data in package_media(package).items():
        assert (folder / name).read_bytes() == data, name
    check = col.media.check()
    assert list(check.missing) == [] and list(check.unused) == []


def test_own_note_types_sound_and_occlusion_are_pushed_and_a_template_edit_updates_the_type_in_place(
        tmp_path, monkeypatch):
    root = tmp_path / "p"
    write(root / "decks" / "d.yaml", "name: Anatomy\nnamespace: anatomy-test\ncards: [cards/*.yaml]\n")
    write(root / "notetypes" / "anatomy-basic.yaml", TWO_TEMPLATES)
    write(root / "notetypes" / "anatomy-cloze.yaml", CLOZE)
    write(root / "notetypes" / "anatomy-occlusion.yaml", OCCLUSION)
    write(root / "cards" / "a.yaml", CARDS)
    write(root / "cards" / "b.yaml", FIGURE)
    (root / "cards" / "media").mkdir()
    (root / "cards" / "media" / "brain.png").write_bytes(PNG)
    (root / "cards" / "media" / "tone.wav").write_bytes(sounds.wav())
    monkeypatch.chdir(root)
    manifest = Path("decks/d.yaml")
    col_path = make_profile(tmp_path / "Anki2")

    built = build_at(manifest, T0, monkeypatch)
    assert built.ok, [p.format() for p in built.problems]
    assert len(package_media(built.output)) == 2
    report, problems = nd.push(built.output, collection=col_path, manifest=manifest)
    assert problems == [], [p.format() for p in problems]
    assert sorted(report.new) == IDS and report.conflicting == report.updated == []
    assert {"Anatomy Basic", "Anatomy Cloze", "Anatomy Occlusion"} <= set(report.new_notetypes)
    col = Collection(str(col_path))
    try:
        media_is_clean(col, built.output)
        assert col.fix_integrity() == ("Database rebuilt and optimized.", True)
        [tone] = [col.get_card(c) for c in col.find_cards('"Question:*tone*"')]
        assert [tag.filename for tag in tone.question_av_tags()] == [n for n in package_media(built.output)
                                                                     if n.endswith(".wav")]
        [figure] = col.find_notes('"note:Anatomy Occlusion"')
        shapes = col.get_image_occlusion_note(note_id=figure).note.occlusions
        assert sorted((o.ordinal, s.shape) for o in shapes for s in o.shapes) == [(1, "rect"), (2, "ellipse")]
        basic = col.models.by_name("Anatomy Basic")
        types = {m["id"]: m["name"] for m in col.models.all()}
    finally:
        col.close()
    reviews = study_all(col_path)
    assert reviews > 0

    # Only the template text and the CSS change: students' note type is updated, not copied.
    nt_file = root / "notetypes" / "anatomy-basic.yaml"
    nt_file.write_text(nt_file.read_text().replace('front: "{{Front}}"', 'front: "<div class=q>{{Front}}</div>"')
                       .replace("font-family: serif", "font-family: Georgia, serif"))
    built = build_at(manifest, T0 + 100, monkeypatch)
    assert built.ok, [p.format() for p in built.problems]
    report, problems = nd.push(built.output, collection=col_path, manifest=manifest)
    assert problems == [], [p.format() for p in problems]
    assert report.new == report.conflicting == report.new_notetypes == []
    assert sorted(report.unchanged + report.updated) == IDS
    col = Collection(str(col_path))
    try:
        assert {m["id"]: m["name"] for m in col.models.all()} == types  # no "Anatomy Basic+"
        updated = col.models.get(basic["id"])
        assert updated["tmpls"][0]["qfmt"] == "<div class=q>{{Front}}</div>" and "Georgia" in updated["css"]
        [card] = [col.get_card(c) for c in col.find_cards('"Front:Where is the*"')]
        assert '<div class=q>Where is the <em>insula</em>?</div>' in card.question()
        assert col.db.scalar("select count() from revlog") == reviews
        media_is_clean(col, built.output)
    finally:
        col.close()


def test_an_adopted_deck_pushed_back_into_the_collection_it_came_from_changes_nothing_until_an_edit(tmp_path,
                                                                                                     monkeypatch):
    base = tmp_path / "Anki2"
    exported = make_package(base / "Teacher", legacy=False)  # the educator's own deck, exported by Anki
    col_path = base / "Teacher" / "collection.anki2"
    reviews = study_all(col_path)
    media_before = sorted(p.name for p in (base / "Teacher" / "collection.media").iterdir())
    col = Collection(str(col_path))
    try:
        types = {m["id"]: m["name"] for m in col.models.all()}
    finally:
        col.close()
    adopted, problems = nd.adopt(exported, tmp_path / "project")
    assert problems == [], [p.format() for p in problems]
    monkeypatch.chdir(adopted.root)
    built = build_at(adopted.manifest, T0 + 10**8, monkeypatch)
    assert built.ok, [p.format() for p in built.problems]

    report, problems = nd.push(built.output, collection=col_path, manifest=adopted.manifest)
    assert problems == [], [p.format() for p in problems]
    assert (report.new, report.updated, report.conflicting, report.new_notetypes) == ([], [], [], [])
    assert len(report.unchanged) == 24
    col = Collection(str(col_path))
    try:
        assert {m["id"]: m["name"] for m in col.models.all()} == types
        assert sorted(p.name for p in Path(col.media.dir()).iterdir()) == media_before  # no second copy
        media_is_clean(col, built.output)
    finally:
        col.close()

    card_file = adopted.root / "cards" / "bones.yaml"
    text = card_file.read_text(encoding="utf-8")
    card_file.write_text(text.replace("Definition <b>1.0</b>", "Definition <b>1.0</b>, corrected", 1), encoding="utf-8")
    monkeypatch.setenv("SOURCE_DATE_EPOCH", str(T0 + 10**8 + 100))
    result = CliRunner().invoke(main, ["push", str(adopted.manifest), "--collection", str(col_path)])
    assert result.exit_code == 0, result.output
    for line in ("  new                 0", "  updated             1  term-1-0", "  unchanged          23",
                 "  conflicting         0"):
        assert line in result.output, result.output
    col = Collection(str(col_path))
    try:
        assert col.db.scalar("select count() from revlog") == reviews
        [nid] = col.find_notes("Definition:*corrected*")
        assert col.get_note(nid)["Definition"] == "Definition <b>1.0</b>, corrected"
    finally:
        col.close()


def test_the_bundled_deck_pushes_its_occlusion_notes_and_figures_whole(bundled, tmp_path):
    """`type: occlusion` cards (the bundled deck's brain slices) through the command: every
    figure in collection.media, every occlusion note's shapes parsed by the engine."""
    from neurodeck.lockfile import read_lock

    col_path = make_profile(tmp_path / "Anki2")
    result = CliRunner().invoke(main, ["push", "--collection", str(col_path)])
    assert result.exit_code == 0, result.output
    [package] = (bundled / "dist").glob("*.apkg")
    lock, _ = read_lock(bundled / "decks" / "neurobiology-of-intimacy.lock", "lock")
    occlusion_ids = sorted(card for card, entry in lock.notes.items() if entry.type == "occlusion")
    assert len(occlusion_ids) >= 15
    col = Collection(str(col_path))
    try:
        media_is_clean(col, package)
        assert col.fix_integrity() == ("Database rebuilt and optimized.", True)
        # A new collection has Anki's own "Image Occlusion" type, unused: the deck's is another.
        kinds = [m for m in col.models.all() if m.get("originalStockKind") == 6 and col.models.use_count(m)]
        assert len(kinds) == 1 and col.models.use_count(kinds[0]) == len(occlusion_ids)
        assert kinds[0]["name"] != "Image Occlusion"
        for nid in col.models.nids(kinds[0]):
            parsed = col.get_image_occlusion_note(note_id=nid).note
            image = Path(col.media.dir()) / parsed.image_file_name
            assert parsed.occlusions and image.read_bytes() == parsed.image_data  # the engine read the figure
        new = result.output.split("  new", 1)[1].splitlines()[0]
        assert f"{col.note_count():>5}" in new
    finally:
        col.close()
    again = CliRunner().invoke(main, ["push", "--collection", str(col_path)])
    assert again.exit_code == 0 and "  conflicting         0" in again.output and "  new                 0" in again.output
