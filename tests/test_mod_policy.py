"""`mod` never goes backwards: every package a build writes, imported by a student who has the
newest release, reaches that student (Anki updates a note only if the package's `mod` is newer).

The two ways it went backwards: the lock rolled back with the cards (`git checkout v1 -- cards
decks`), and the lock deleted and rebuilt with an older SOURCE_DATE_EPOCH. A build that can see
the newer release stops with a hint; `--previous` takes its newer mods into the lock; and
`check-upgrade` fails a package whose content Anki would not apply.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import OLD_ANKI, import_package, release
from neurodeck.apkg.reader import read_package
from neurodeck.cli import main
from neurodeck.lockfile import note_guid
from neurodeck.pipeline.build import build

MANIFEST = Path("decks/test-deck.yaml")
T1, T2, T3 = 1_700_000_000, 1_700_100_000, 1_700_200_000
GUID = note_guid("test-deck", "mn-discovery")


def git(root: Path, *args: str) -> str:
    env = dict(os.environ, GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@t", GIT_COMMITTER_NAME="t",
               GIT_COMMITTER_EMAIL="t@t", GIT_CONFIG_NOSYSTEM="1", HOME=str(root))
    return subprocess.run(["git", *args], cwd=root, env=env, check=True, capture_output=True, text=True).stdout


def edit(project: Path, text: str) -> None:
    cards = project / "cards" / "a.yaml"
    cards.write_text(cards.read_text().replace("Single-unit recordings.", text).replace("Edited once.", text))


def extra_of(package: Path) -> str:
    contents, problems = read_package(package)
    assert not problems
    return next(n for n in contents.notes if n.guid == GUID).fields[2]


def student_after(collection, *packages: Path) -> str:
    """The extra field of mn-discovery in a student's collection after importing these in turn."""
    for package in packages:
        import_package(collection, package)
    [note] = [n for n in map(collection.get_note, collection.find_notes("")) if n.guid == GUID]
    return note.fields[2]


def released_twice(project: Path) -> tuple[Path, Path]:
    git(project, "init", "-q")
    v1 = release(project, "v1", T1)
    git(project, "add", "cards", "decks")
    git(project, "commit", "-qm", "v1")
    git(project, "tag", "v1")
    edit(project, "Edited once.")
    v2 = release(project, "v2", T2)
    git(project, "add", "cards", "decks")
    git(project, "commit", "-qm", "v2")
    git(project, "tag", "v2")
    return v1, v2


def test_a_rollback_of_cards_and_lock_reaches_students(project, collection):
    v1, v2 = released_twice(project)
    git(project, "checkout", "v1", "--", "cards", "decks")
    shutil.rmtree(project / "dist")  # only the lock's git history can show the newer release
    result = build(MANIFEST, project / "dist", now=T3)
    if not result.ok:  # the build saw v2 in the lock's history: the hint says what to do
        [problem] = result.problems
        assert problem.location.path == "decks/test-deck.lock" and "mn-discovery" in problem.message
        assert "--previous v2" in problem.hint
        assert not (project / "dist" / "test-deck.apkg").exists()
        result = build(MANIFEST, project / "dist", now=T3, previous="v2")
        assert result.ok, [p.format() for p in result.problems]
    assert extra_of(result.output) == extra_of(v1) == "Single-unit recordings."
    assert student_after(collection, v1, v2, result.output) == extra_of(v1)
    # The lock now holds the newer mod: a plain rebuild writes the same bytes, and passes.
    again = build(MANIFEST, project / "dist2", now=T3 + 50)
    assert again.ok and again.sha256 == result.sha256


def test_the_package_in_the_output_folder_is_a_release_too(project, collection):
    """No git at all: the package the build would replace shows the newer mods."""
    v1 = release(project, "v1", T1)
    lock_v1 = (project / "decks" / "test-deck.lock").read_text()
    cards_v1 = (project / "cards" / "a.yaml").read_text()
    edit(project, "Edited once.")
    v2 = release(project, "v2", T2)
    (project / "decks" / "test-deck.lock").write_text(lock_v1)
    (project / "cards" / "a.yaml").write_text(cards_v1)
    result = build(MANIFEST, project / "dist", now=T3)
    assert not result.ok
    assert "--previous dist/test-deck.apkg" in result.problems[0].hint
    assert extra_of(project / "dist" / "test-deck.apkg") == extra_of(v2)  # left as it was
    result = build(MANIFEST, project / "dist", now=T3, previous="dist/test-deck.apkg")
    assert result.ok
    assert student_after(collection, v1, v2, result.output) == extra_of(v1)


def test_the_package_is_read_unless_the_last_build_wrote_it_with_the_lock_on_disk(project, tmp_path, monkeypatch):
    """The package a build replaces shows no newer `mod`s when the last build wrote it with this
    very lock, and is then not read (a large deck's rebuild saves the time); any other package in
    its place, even with the lock unchanged, is read and shows its newer notes."""
    from neurodeck.apkg import reader

    opened = []
    original = reader.open_collection
    monkeypatch.setattr(reader, "open_collection", lambda path, *a, **k: opened.append(Path(path).name) or
                        original(path, *a, **k))
    release(project, "v1", T1)
    assert opened == []  # nothing to read: no package in dist/ yet
    edit(project, "Edited once.")
    assert build(MANIFEST, project / "dist", now=T2).ok
    assert opened == []  # the last build's package, with the lock written with it
    other = tmp_path / "other"
    shutil.copytree(project, other)
    monkeypatch.chdir(other)
    edit(other, "Edited elsewhere.")
    newer = build(MANIFEST, other / "dist", now=T3)
    assert newer.ok
    monkeypatch.chdir(project)
    shutil.copy(newer.output, project / "dist" / "test-deck.apkg")  # same lock, another package
    opened.clear()
    result = build(MANIFEST, project / "dist", now=T2 + 1)
    assert opened == ["test-deck.apkg"]
    assert not result.ok and "--previous dist/test-deck.apkg" in result.problems[0].hint
    assert (project / "dist" / "test-deck.apkg").read_bytes() == newer.output.read_bytes()  # left as it was


def test_a_deleted_lock_and_an_older_source_date_epoch_reach_students(project, collection):
    runner = CliRunner()
    done = runner.invoke(main, ["build"], env={"SOURCE_DATE_EPOCH": str(T2)})
    assert done.exit_code == 0, done.output
    v2 = project / "v2.apkg"
    shutil.copy(project / "dist" / "test-deck.apkg", v2)
    edit(project, "Edited after the lock was lost.")
    (project / "decks" / "test-deck.lock").unlink()
    done = runner.invoke(main, ["build"], env={"SOURCE_DATE_EPOCH": str(T1)})
    assert done.exit_code == 1
    assert "mn-discovery" in done.stderr and "--previous dist/test-deck.apkg" in done.stderr
    assert "Traceback" not in done.output
    done = runner.invoke(main, ["build", "--previous", "v2.apkg"], env={"SOURCE_DATE_EPOCH": str(T1)})
    assert done.exit_code == 0, done.output
    built = project / "dist" / "test-deck.apkg"
    assert student_after(collection, v2, built) == "Edited after the lock was lost."
    # Notes whose content did not change keep the release's mod: nothing moves for students.
    mods_v2 = {n.guid: n.mod for n in read_package(v2)[0].notes}
    mods_now = {n.guid: n.mod for n in read_package(built)[0].notes}
    assert mods_now[GUID] > mods_v2[GUID]
    assert all(mods_now[g] == mods_v2[g] for g in mods_v2 if g != GUID)


@pytest.mark.parametrize("engine", ["current", OLD_ANKI])
def test_check_upgrade_fails_a_package_whose_content_anki_does_not_apply(project, tmp_path, engine, request):
    """A build that cannot see the newer release (a fresh copy of v1's sources) goes backwards:
    check-upgrade catches it by comparing what Anki kept with what the package holds."""
    v1 = release(project, "v1", T1)
    copy = tmp_path / "copy"
    shutil.copytree(project / "cards", copy / "cards")
    shutil.copytree(project / "decks", copy / "decks")
    edit(project, "Edited once.")
    v2 = release(project, "v2", T2)
    stale = build(copy / "decks" / "test-deck.yaml", copy / "dist", now=T3)
    assert stale.ok  # nothing here shows v2
    extra = [] if engine == "current" else ["--anki-python", request.getfixturevalue("old_anki")]
    done = CliRunner().invoke(main, ["check-upgrade", str(v2), str(stale.output), "--json", *extra])
    report = json.loads(done.stdout)
    assert done.exit_code == 1 and not report["ok"]
    assert report["not_applied"] == ["mn-discovery"] and report["updated"] == []
    text = CliRunner().invoke(main, ["check-upgrade", str(v2), str(stale.output)]).stdout
    assert "FAILED" in text.splitlines()[0] and "new content not applied" in text
    done = CliRunner().invoke(main, ["check-upgrade", str(v1), str(v2), "--json", *extra])
    assert done.exit_code == 0 and json.loads(done.stdout)["not_applied"] == []


# ---- the rule over sequences of edits, rollbacks and lost locks --------------------------------

EDIT, ROLLBACK, LOSE_LOCK = "edit", "rollback", "lose-lock"
STEP = st.one_of(
    st.tuples(st.just(EDIT), st.sampled_from(["mn-discovery", "mn-term", "ot-site"]), st.integers(0, 2)),
    st.tuples(st.just(ROLLBACK), st.integers(0, 20)),
    st.tuples(st.just(LOSE_LOCK)),
)


def apply_step(root: Path, step: tuple, history: list[dict[str, bytes]]) -> None:
    lock, cards = root / "decks" / "test-deck.lock", root / "cards"
    if step[0] == EDIT:
        _, card, version = step
        files = {path: path.read_text() for path in cards.glob("*.yaml")}
        for path, text in files.items():
            marker = f"  - id: {card}\n"
            if marker in text:  # a line of the card's own, rewritten to one of three versions
                head, tail = text.split(marker, 1)
                lines = tail.split("\n")
                at = next(i for i, line in enumerate(lines) if line.startswith("    answer:"))
                lines[at] = f"    answer: Version {version}."
                path.write_text(head + marker + "\n".join(lines))
    elif step[0] == ROLLBACK and history:  # cards and lock as an earlier release had them
        for name, data in history[step[1] % len(history)].items():
            target = root / name
            target.unlink(missing_ok=True)
            if data is not None:
                target.write_bytes(data)
    elif step[0] == LOSE_LOCK:
        lock.unlink(missing_ok=True)


def snapshot(root: Path) -> dict[str, bytes | None]:
    lock = root / "decks" / "test-deck.lock"
    files = {str(p.relative_to(root)): p.read_bytes() for p in (root / "cards").glob("*.yaml")}
    return dict(files, **{"decks/test-deck.lock": lock.read_bytes() if lock.exists() else None})


@pytest.mark.fuzz
@settings(max_examples=20, deadline=None, suppress_health_check=list(HealthCheck))
@given(steps=st.lists(st.tuples(STEP, st.integers(-500, 500)), min_size=1, max_size=6))
def test_every_release_reaches_a_student_who_has_every_earlier_one(steps, tmp_path_factory, monkeypatch):
    """Each step changes the sources (an edit, a rollback of cards and lock to an earlier
    release, a lost lock), then releases with a clock that may run backwards (an older
    SOURCE_DATE_EPOCH). A build may refuse, and then `--previous` with the newest release, as its
    hint says, must succeed. A student imports every release: each must arrive whole, checked
    against Anki's rule (a note updates only if its mod is newer) and then by the engine itself."""
    from conftest import CARDS_A, CARDS_B, PNG, write
    from conftest import MANIFEST as MANIFEST_TEXT

    root = tmp_path_factory.mktemp("history")
    monkeypatch.setenv("NEURODECK_CACHE_DIR", str(root / "cache"))
    write(root / "decks" / "test-deck.yaml", MANIFEST_TEXT)
    write(root / "cards" / "a.yaml", CARDS_A)
    write(root / "cards" / "b.yaml", CARDS_B)
    (root / "cards" / "media").mkdir()
    (root / "cards" / "media" / "insula.png").write_bytes(PNG)
    manifest, out = root / "decks" / "test-deck.yaml", root / "dist"
    history, packages, student = [], [], {}  # student: guid -> (mod, fields, tags), as Anki keeps it
    now = T2
    for number, (step, tick) in enumerate([((EDIT, "mn-discovery", 0), 0)] + steps):
        apply_step(root, step, history)
        now += tick
        result = build(manifest, out, now=now)
        if not result.ok:
            assert all("--previous" in p.hint for p in result.problems), [p.format() for p in result.problems]
            result = build(manifest, out, now=now, previous=str(packages[-1]))
        assert result.ok, [p.format() for p in result.problems]
        package = root / f"r{number}.apkg"
        shutil.copy(result.output, package)
        packages.append(package)
        history.append(snapshot(root))
        for note in read_package(package)[0].notes:
            had = student.get(note.guid)
            if had is None or note.mod > had[0]:
                student[note.guid] = (note.mod, note.fields, note.tags)
            assert student[note.guid][1:] == (note.fields, note.tags), f"release {number} skipped by Anki"
    from anki.collection import Collection

    col = Collection(str(root / "student.anki2"))
    try:
        for package in packages:
            import_package(col, package)
        kept = {n.guid: tuple(n.fields) for n in map(col.get_note, col.find_notes(""))}
    finally:
        col.close()
    assert kept == {n.guid: n.fields for n in read_package(packages[-1])[0].notes}


def test_a_note_type_rolled_back_with_an_older_clock_reaches_students(project, collection, monkeypatch):
    """Note types have their own `mod`, under the same rule: v2 changed only the CSS; the lock is
    rolled back to v1 and rebuilt with a clock behind v2, then the CSS changes again."""
    import dataclasses

    from conftest import alter_basic_note_type
    from neurodeck.apkg.notetypes import note_types

    git(project, "init", "-q")
    v1 = release(project, "v1", T1)
    git(project, "add", "cards", "decks")
    git(project, "commit", "-qm", "v1")
    alter_basic_note_type(monkeypatch, lambda basic: dataclasses.replace(basic, css=basic.css + "\n.v2 {}"))
    v2 = release(project, "v2", T2)
    git(project, "add", "cards", "decks")
    git(project, "commit", "-qm", "v2")
    git(project, "tag", "v2")
    git(project, "checkout", "HEAD~1", "--", "decks")
    result = build(MANIFEST, project / "dist", now=T1 + 50)
    if not result.ok:
        [problem] = result.problems
        assert problem.message.startswith("note type 'basic' would get an older `mod` than release")
        assert "neurodeck build --previous" in problem.hint
        result = build(MANIFEST, project / "dist", now=T1 + 50, previous="v2")
        assert result.ok, [p.format() for p in result.problems]
    v3 = project / "v3.apkg"
    shutil.copy(result.output, v3)
    alter_basic_note_type(monkeypatch, lambda basic: dataclasses.replace(basic, css=basic.css + "\n.v4 {}"))
    v4 = build(MANIFEST, project / "dist", now=T1 + 100)
    assert v4.ok, [p.format() for p in v4.problems]
    for package in (v1, v2, v3, v4.output):
        import_package(collection, package)
    css = collection.models.get(note_types("test-deck")["basic"].id)["css"]
    assert css.endswith("\n.v4 {}"), css[-40:]
