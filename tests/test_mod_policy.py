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

from neurodeck.apkg.reader import read_package
from neurodeck.cli import main
from neurodeck.lockfile import note_guid
from neurodeck.pipeline.build import build

from conftest import OLD_ANKI, import_package, release

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
