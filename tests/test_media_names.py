"""Media file names as Anki stores them (render/medianames.py): a name the importer would change is
refused at the field that uses it, since Anki would rewrite that field for every student; names that
differ only in case are one file on macOS and Windows. Checked against the official engine."""
from __future__ import annotations

import json
import sqlite3
import unicodedata
from pathlib import Path

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from conftest import PNG, repack, write
from neurodeck.commands.adopt import adopt
from neurodeck.pipeline.build import build, compile_deck
from neurodeck.render.medianames import _UNKNOWN, anki_media_name

MANIFEST = "name: Media Deck\nnamespace: media-deck\ncards: [cards/*.yaml]\n"
_TRICKY = list('[]<>:"?*^|') + ["\xa0", "\u0b55", "\u0560", "\U0001fa70", "\u1e9b\u0323", "e\u0301", " ", ".", "é",
                                 "神", "😀", "-", "_", "%", "#", "&"]
_NAMES = st.one_of(
    st.tuples(st.sampled_from(["", "con", "NUL", "com1", "lpt9", "aux", "Prn", "x"]),
              st.lists(st.sampled_from(_TRICKY + list("ab1")), max_size=5).map("".join),
              st.sampled_from([".png", ".PNG", ".png.", ".png ", "", ".jpeg"])).map("".join),
    st.integers(100, 140).map(lambda n: "y" * n + ".png"),
    st.sampled_from(sorted(_UNKNOWN)).map(lambda cp: f"z{chr(cp)}.png"))


def _stored_names(package: Path, folder: Path) -> tuple[set[str], list[str]]:
    """The media file names and the first fields of the notes, in a student's collection after import."""
    from anki.collection import Collection

    from conftest import import_package

    col = Collection(str(folder / "collection.anki2"))
    try:
        import_package(col, package)
        return set(p.name for p in Path(col.media.dir()).iterdir()), \
            [col.get_note(n).fields[0] for n in col.find_notes("")]
    finally:
        col.close()


@example("x[1].png")
@example("con.png")
@example("z\u0b55.png")
@example("trail.png.")
@example("f\xa0g.png")
@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(_NAMES.filter(lambda n: n.strip(" .") and "/" not in n and n not in (".", "..")))
def test_a_media_name_is_kept_by_anki_or_refused_with_the_name_anki_would_give(tmp_path_factory, name):
    root = tmp_path_factory.mktemp("media")
    try:
        (root / "media").mkdir()
        (root / "media" / name).write_bytes(PNG)
    except (OSError, ValueError):
        return  # a name this file system refuses cannot be in a project here
    write(root / "decks" / "m.yaml", MANIFEST)
    field = json.dumps(f'Q <img src="{name.replace("&", "&amp;").replace(chr(34), "&quot;")}">', ensure_ascii=False)
    write(root / "cards" / "a.yaml", f"subtopic: S\nformat: html\ncards:\n  - id: x\n    question: {field}\n"
          "    answer: A\n")
    result = build(root / "decks" / "m.yaml", root / "dist", now=1_700_000_000)
    if not result.ok:
        errors = [p for p in result.problems if p.severity == "error"]
        # (a name with ':' reads as an address with a scheme, refused as such by the sanitizer)
        assert [(p.location.line, repr(anki_media_name(name)) in p.message or ":" in name and "address" in p.message)
                for p in errors] == [(5, True)], [p.format() for p in errors]
        assert anki_media_name(name) != name
        return
    (root / "student").mkdir()
    media, fields = _stored_names(result.output, root / "student")
    assert name in media and fields == [json.loads(field)], (name, media, fields)  # Anki changed nothing


def test_two_files_whose_names_differ_only_in_case_or_composition_are_an_error(tmp_path):
    (tmp_path / "media").mkdir()
    (tmp_path / "media" / "Insula.png").write_bytes(PNG)
    (tmp_path / "media" / "insula.png").write_bytes(PNG + b"x")
    write(tmp_path / "decks" / "m.yaml", MANIFEST)
    write(tmp_path / "cards" / "a.yaml", """\
        subtopic: S
        format: html
        cards:
          - id: a
            question: 'One <img src="Insula.png">'
            answer: A
          - id: b
            question: 'Two <img src="insula.png">'
            answer: B
        """)
    result = build(tmp_path / "decks" / "m.yaml", tmp_path / "dist", now=1_700_000_000)
    assert not result.ok
    assert [p.location.line for p in result.problems if "differ only in case" in p.message] == [8]


def _hostile_package(tmp_path: Path, names: list[str]) -> Path:
    """A package whose media map and first field name the given files (as a hostile or broken
    exporter could write it), made from one neurodeck built with plain names."""
    root = tmp_path / "maker"
    (root / "media").mkdir(parents=True)
    plain = [f"p{i}.png" for i in range(len(names))]
    for i, n in enumerate(plain):
        (root / "media" / n).write_bytes(PNG + bytes([i]))
    write(root / "decks" / "m.yaml", MANIFEST)
    imgs = "".join(f'<img src="{n}">' for n in plain)
    write(root / "cards" / "a.yaml", f"subtopic: S\nformat: html\ncards:\n  - id: x\n    question: 'Q {imgs}'\n"
          "    answer: A\n")
    built = build(root / "decks" / "m.yaml", root / "dist", now=1_700_000_000)
    assert built.ok, [p.format() for p in built.problems]

    def rename(unpacked: Path) -> None:
        mapping = json.loads((unpacked / "media").read_text())
        mapping = {k: names[plain.index(v)] for k, v in mapping.items()}
        (unpacked / "media").write_text(json.dumps(mapping))
        conn = sqlite3.connect(unpacked / "collection.anki2")
        flds = conn.execute("select flds from notes").fetchone()[0]
        for old, new in zip(plain, names):
            flds = flds.replace(old, new)
        conn.execute("update notes set flds = ?", (flds,))
        conn.commit()
        conn.close()

    return repack(built.output, tmp_path / "hostile.apkg", rename)


def test_adopt_leaves_out_media_anki_would_rename_or_that_collide_and_the_project_builds(tmp_path):
    names = ["x[1].png", "Brain.png", "brain.png", "con.png", unicodedata.normalize("NFD", "é.png"), "ok.png"]
    package = _hostile_package(tmp_path, names)
    report, problems = adopt(package, tmp_path / "project", now=1_800_000_000)
    assert problems == [] and report is not None, [p.format() for p in problems]
    written = sorted(p.name for p in (report.root / "media").iterdir())
    assert written == ["Brain.png", "ok.png"]
    left_out = sorted(p.location.path.rsplit(":", 1)[1] for p in report.warnings if "left out" in p.message)
    assert left_out == sorted(["x[1].png", "brain.png", "con.png", unicodedata.normalize("NFD", "é.png")])
    compiled = compile_deck(report.manifest, now=1_800_000_000)  # builds (the left-out files show as missing)
    assert compiled.ok, [p.format() for p in compiled.problems]
