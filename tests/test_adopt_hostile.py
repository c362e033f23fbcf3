"""`neurodeck adopt` on packages no Anki exported: a package neurodeck built, its collection then
edited as a damaged or hostile exporter could write it. Either adopt refuses, located at the
package, and writes nothing, or the project it writes compiles."""
from __future__ import annotations

import json
import sqlite3
import zipfile
from collections.abc import Callable
from pathlib import Path

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from conftest import repack, write
from neurodeck.commands.adopt import adopt
from neurodeck.lockfile import MAX_MOD
from neurodeck.pipeline.build import build, compile_deck

NOW = 1_800_000_000


def hostile_package(folder: Path, edit: Callable[[sqlite3.Connection], None]) -> Path:
    """A two-note package built by neurodeck, with `edit` applied to its collection."""
    root = folder / "maker"
    write(root / "decks" / "m.yaml", "name: Base Deck\nnamespace: base-deck\ncards: [cards/*.yaml]\n")
    write(root / "cards" / "a.yaml", "subtopic: Sub One\ncards:\n  - id: a\n    question: Q one\n    answer: A one\n"
          "  - id: b\n    question: Q two\n    answer: A two\n")
    built = build(root / "decks" / "m.yaml", root / "dist", now=1_700_000_000)
    assert built.ok

    def edit_collection(unpacked: Path) -> None:
        conn = sqlite3.connect(unpacked / "collection.anki2")
        edit(conn)
        conn.commit()
        conn.close()

    return repack(built.output, folder / "hostile.apkg", edit_collection)


def adopted_or_refused(package: Path, into: Path) -> list[str]:
    """Adopt; assert the outcome is one of the two allowed ones; the refusal's messages."""
    report, problems = adopt(package, into, now=NOW)
    if report is None:
        assert problems and all(p.location.path == str(package) for p in problems), [p.format() for p in problems]
        assert not into.exists()
        return [p.message for p in problems]
    compiled = compile_deck(report.manifest, now=NOW)
    assert compiled.ok, [p.format() for p in compiled.problems]
    return []


_MODS = st.one_of(st.integers(0, MAX_MOD), st.integers(-2**63, 2**63 - 1), st.sampled_from([-1, MAX_MOD + 1]))


@example(99_999_999_999_999, 1_700_000_000)
@example(1_700_000_000, -5)
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(_MODS, _MODS)
def test_note_and_note_type_times_the_lock_cannot_record_are_refused_at_the_package(tmp_path_factory, note_mod,
                                                                                    type_mod):
    """A mod outside 0..2**32-1 was adopted into a lock that every later build refused as damaged
    ("restore it from git"): the adopted project never built."""
    def edit(conn: sqlite3.Connection) -> None:
        conn.execute("update notes set mod = ?", (note_mod,))
        models = json.loads(conn.execute("select models from col").fetchone()[0])
        for model in models.values():
            model["mod"] = type_mod
        conn.execute("update col set models = ?", (json.dumps(models),))

    folder = tmp_path_factory.mktemp("mods")
    messages = adopted_or_refused(hostile_package(folder, edit), folder / "project")
    in_range = 0 <= note_mod <= MAX_MOD and 0 <= type_mod <= MAX_MOD
    assert (messages == []) == in_range, messages
    assert all("not a time in seconds" in m for m in messages)


def _written(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


@example("cards/sub-one.yaml", "file")
@example("cards", "link")
@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.sampled_from(["cards/sub-one.yaml", "cards", "decks/base-deck.yaml", "decks/base-deck.lock", "notetypes",
                        ".gitignore", "notes.txt", "cards/mine.yaml"]),
       st.sampled_from(["file", "folder", "link"]))
def test_what_appears_in_the_target_while_adopt_writes_is_never_replaced_written_through_or_removed(
        tmp_path_factory, monkeypatch, where, what):
    """adopt wrote with replacing writes into folders made with exist_ok, and on a failure removed
    everything in the target: a file someone saved there meanwhile was overwritten or deleted, and
    a folder replaced by a link was written through."""
    import neurodeck.commands.adopt as adopting

    folder = tmp_path_factory.mktemp("race")
    package = hostile_package(folder, lambda conn: None)
    target, outside = folder / "project", folder / "outside"
    target.mkdir()
    outside.mkdir()
    appeared = target / where
    manifest_text = adopting._Plan._manifest_text

    def meanwhile(plan):  # runs after adopt checked the target and before it writes
        appeared.parent.mkdir(parents=True, exist_ok=True)
        if what == "file":
            appeared.write_bytes(b"the user's own")
        elif what == "folder":
            appeared.mkdir()
            (appeared / "kept.txt").write_bytes(b"the user's own")
        else:
            appeared.symlink_to(outside, target_is_directory=True)
        return manifest_text(plan)

    monkeypatch.setattr(adopting._Plan, "_manifest_text", meanwhile)
    report, problems = adopt(package, target, now=NOW)
    assert _written(outside) == {}, "written through a link"
    after = _written(target)
    theirs = {k: v for k, v in after.items() if v == b"the user's own"}
    assert len(theirs) == (what != "link"), after  # what the user saved is still there, unchanged
    if report is None:  # refused: adopt left nothing of its own
        assert after == theirs and problems and all(p.severity == "error" for p in problems)
        assert {p.name for p in target.iterdir()} == {where.split("/")[0]}
    else:  # the appeared thing was not in adopt's way
        assert where in ("notes.txt", "cards/mine.yaml"), where


@example("qfmt", '<script>fetch("https://evil.example/")</script>')
@example("css", '@import url("https://fonts.googleapis.com/css?family=Roboto");')
@example("latexPre", "\\immediate\\write18{touch /tmp/x}")
@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.sampled_from(["qfmt", "afmt", "css", "latexPre", "latexPost"]),
       st.sampled_from(['<img src="https://evil.example/p.png">', "<b onclick=go()>x</b>", "<iframe src=x></iframe>",
                        "[sound:x.mp3]", ".a { background: url(//evil.example/x.png) }", "\\input{/etc/passwd}",
                        "<b>harmless</b>", ".a { color: red }", "\\usepackage{amsmath}"]))
def test_a_note_type_that_runs_or_loads_something_is_refused_at_the_package(tmp_path_factory, key, text):
    """The project's own check refused such a type at a file adopt had removed, with a hint
    about editing YAML the educator never saw; the refusal is now at the package."""
    def edit(conn: sqlite3.Connection) -> None:
        models = json.loads(conn.execute("select models from col").fetchone()[0])
        for model in models.values():
            if key in ("qfmt", "afmt"):
                model["tmpls"][0][key] += text
            else:
                model[key] = model.get(key, "") + text
        conn.execute("update col set models = ?", (json.dumps(models),))

    folder = tmp_path_factory.mktemp("active")
    messages = adopted_or_refused(hostile_package(folder, edit), folder / "project")
    refused = {  # what each language reads as loading or running something
        "qfmt": {'<img src="https://evil.example/p.png">', "<b onclick=go()>x</b>", "<iframe src=x></iframe>",
                 "[sound:x.mp3]", '<script>fetch("https://evil.example/")</script>'},
        "css": {'<img src="https://evil.example/p.png">', ".a { background: url(//evil.example/x.png) }",
                '@import url("https://fonts.googleapis.com/css?family=Roboto");',
                '<script>fetch("https://evil.example/")</script>'},
        "latexPre": {"\\input{/etc/passwd}", "\\immediate\\write18{touch /tmp/x}"},
    }
    refused["afmt"], refused["latexPost"] = refused["qfmt"], refused["latexPre"]
    assert (messages != []) == (text in refused[key]), messages


# Text a collection can hold: SQLite stores UTF-8, which has no lone surrogates (Cs).
_NOTE_TEXT = st.one_of(st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x1f"), max_size=30),
                       st.sampled_from(["a\x00b", "{{c1::x}}", " ", "\ufeff", "<img src=../x.png>", "[sound:a]"]))
_NOTE_TAGS = st.lists(st.one_of(st.sampled_from(["retired", "base-deck::retired", "ok", "a::b"]),
                                st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters=" \x1f"),
                                        min_size=1, max_size=10)),
                      max_size=3)


@example(True, [], "Q one")
@example(False, ["base-deck::retired"], "Q one")
@example(False, [], "a\x00b")
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.booleans(), _NOTE_TAGS, _NOTE_TEXT)
def test_a_note_the_adopted_project_would_refuse_is_refused_at_the_package_by_its_guid(tmp_path_factory, same_guid,
                                                                                       tags, text):
    """When the project adopt wrote did not build, its errors were located in cards/*.yaml files
    that adopt had just removed: the educator was sent to a file that does not exist. Now every
    error is at the package and names the note by its GUID (or the note type by its name)."""
    def edit(conn: sqlite3.Connection) -> None:
        first = conn.execute("select id, guid, flds from notes order by id").fetchone()
        fields = first[2].split("\x1f")
        conn.execute("update notes set flds = ?, tags = ? where id = ?",
                     ("\x1f".join([text, *fields[1:]]), f" {' '.join(tags)} " if tags else "", first[0]))
        if same_guid:
            conn.execute("update notes set guid = ?", (first[1],))

    folder = tmp_path_factory.mktemp("notes")
    package = hostile_package(folder, edit)
    messages = adopted_or_refused(package, folder / "project")
    assert not any(".yaml" in m for m in messages), messages
    with zipfile.ZipFile(package) as zf:
        notes = dict(_rows(zf, "select guid, id from notes"))
    named = [m for m in messages if m.startswith("note ")]  # the project's errors, found by the compiler
    assert all(any(m.startswith(f"note {g!r} (nid:{i}): ") for g, i in notes.items()) for m in named), messages
    if same_guid:
        assert any(m.startswith("notes nid:") and repr(next(iter(notes))) in m for m in messages), messages
    if ("base-deck::retired" in tags or "\x00" in text) and not same_guid:
        assert named, messages


def _rows(zf: zipfile.ZipFile, query: str) -> list[tuple]:
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "c.anki2"
        path.write_bytes(zf.read("collection.anki2"))
        conn = sqlite3.connect(path)
        try:
            return conn.execute(query).fetchall()
        finally:
            conn.close()
