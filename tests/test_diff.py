"""`neurodeck diff`: two releases compared, from packages and from git revisions."""
from __future__ import annotations

import dataclasses
import json
import os
import subprocess
from pathlib import Path

from conftest import alter_basic_note_type, release
from neurodeck.apkg import notetypes
from neurodeck.commands.diff import (
    Snapshot,
    compare,
    diff_sides,
    format_json,
    format_markdown,
    format_text,
    load_side,
    word_diff,
)
from neurodeck.commands.diff import (
    field_text as plain_text,
)

MANIFEST = Path("decks/test-deck.yaml")
T0 = 1_700_000_000


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, old
    path.write_text(text.replace(old, new))


MOVED_CARD = """\
  - id: ot-site
    type: type-in
    question: Which hypothalamic nucleus besides the paraventricular nucleus makes oxytocin?
    answer: Supraoptic nucleus
    source: Kandel et al. 2021
"""

NEW_CARD = """\
  - id: mn-new
    question: Do mirror neurons explain empathy?
    answer: No; that is an extrapolation.
"""

CLOZE_CARD = """\
  - id: mn-f5-cloze
    type: cloze
    text: "Mirror neurons were first recorded in area {{c1::F5::a premotor area}} of the {{c2::macaque}}."
    source: Rizzolatti & Craighero 2004
"""


def make_release_edits(project: Path) -> None:
    """Edit an answer, add a card, remove a card, retire a card and move a card to another file."""
    a, b = project / "cards" / "a.yaml", project / "cards" / "b.yaml"
    edit(a, "of the macaque ventral premotor cortex.", "of the monkey ventral premotor cortex.")
    edit(a, CLOZE_CARD, "")
    edit(a, "  - id: mn-term\n    type: reversed\n",
         "  - id: mn-term\n    type: reversed\n    retired: true\n    why: A duplicate of mn-discovery.\n")
    edit(b, MOVED_CARD, "")
    a.write_text(a.read_text() + NEW_CARD + MOVED_CARD)


def names(items) -> list[str]:
    return [item["name"] for item in items]


def test_every_category_in_all_three_formats(project):
    v1 = release(project, "v1", T0)
    make_release_edits(project)
    v2 = release(project, "v2", T0 + 100)

    diffs, problems = compare("v1.apkg", "v2.apkg", project)
    assert problems == [] and len(diffs) == 1

    [deck] = json.loads(format_json(diffs))["decks"]
    assert deck["deck"] == "Test Deck" and deck["key"] == "v2.apkg"
    assert deck["old"] == "v1.apkg" and deck["new"] == "v2.apkg"
    assert names(deck["added"]) == ["mn-new"]
    assert deck["added"][0]["decks"] == ["Test Deck::Mirror Neurons"]
    assert names(deck["removed"]) == ["mn-f5-cloze"]
    assert names(deck["retired"]) == ["mn-term"]
    assert deck["moved"] == [{"name": "ot-site", "guid": deck["moved"][0]["guid"],
                              "old": ["Test Deck::Neuropeptides"], "new": ["Test Deck::Mirror Neurons"]}]
    # the move also changes the subtopic tag (which does reach students)
    assert names(deck["changed"]) == ["mn-discovery", "ot-site"]
    discovery, site = deck["changed"]
    [answer] = discovery["fields"]
    assert answer["name"] == "Answer"
    assert answer["old"] == "In area F5 of the macaque ventral premotor cortex."
    assert answer["new"] == "In area F5 of the monkey ventral premotor cortex."
    assert answer["segments"] == [{"op": "=", "text": "In area F5 of the"}, {"op": "-", "text": "macaque"},
                                  {"op": "+", "text": "monkey"}, {"op": "=", "text": "ventral premotor cortex."}]
    assert discovery["tags_added"] == [] and discovery["tags_removed"] == []
    assert site["fields"] == []
    assert site["tags_added"] == ["td::mirror-neurons", "td::motor-system"]
    assert site["tags_removed"] == ["td::neuropeptides"]
    assert deck["unchanged"] == 1  # ot-image
    assert deck["summary"] == {"added": 1, "changed": 2, "removed": 1, "retired": 1, "moved": 1,
                               "unchanged": 1, "notetypes": 1}
    # no cloze card is left, so its note type is no longer shipped (students keep theirs)
    assert [(t["name"], t["kind"]) for t in deck["notetypes"]] == [("neurodeck Cloze (test-deck)", "removed")]
    warnings = {w["kind"]: w for w in deck["warnings"]}
    assert set(warnings) == {"removed", "moved"}
    assert warnings["removed"]["items"] == ["mn-f5-cloze"] and "never deletes" in warnings["removed"]["message"]
    assert warnings["moved"]["items"] == ["ot-site"] and "old subdeck" in warnings["moved"]["message"]

    text = format_text(diffs)
    assert text.splitlines()[0] == "Test Deck (v2.apkg): v1.apkg -> v2.apkg"
    assert "1 added, 2 changed, 1 removed, 1 retired, 1 moved, 1 unchanged; 1 note type change" in text
    assert "  - neurodeck Cloze (test-deck): no longer in the package" in text
    assert "  + mn-new  (Mirror Neurons)" in text
    assert "  ~ mn-discovery  (Mirror Neurons)" in text
    assert "      Answer: In area F5 of the [-macaque-]{+monkey+} ventral premotor cortex." in text
    assert "      tags: +td::mirror-neurons +td::motor-system -td::neuropeptides" in text
    assert "  - mn-f5-cloze  (Mirror Neurons)" in text
    assert "  x mn-term  (Mirror Neurons)" in text
    assert "  > ot-site: Neuropeptides -> Mirror Neurons" in text
    assert "Warnings (what Anki will not carry to existing users):" in text
    assert "1 removed note will stay in students' collections" in text
    assert "1 moved note: students who already have them keep the cards in the old subdeck" in text

    markdown = format_markdown(diffs)
    assert markdown.startswith("## Test Deck\n")
    for heading in ("### Added (1)", "### Changed (2)", "### Removed (1)", "### Retired (1)", "### Moved (1)"):
        assert f"\n{heading}\n" in markdown
    assert "- `mn-new` (Mirror Neurons)" in markdown
    assert "  - **Answer**: In area F5 of the ~~macaque~~ **monkey** ventral premotor cortex." in markdown
    assert "- `mn-f5-cloze` (Mirror Neurons)" in markdown
    assert "- `mn-term` (Mirror Neurons)" in markdown
    assert "- `ot-site`: Neuropeptides → Mirror Neurons" in markdown
    assert "> **What Anki will not carry to existing users**" in markdown
    assert "(`mn-f5-cloze`)" in markdown and "(`ot-site`)" in markdown
    assert "### Note types (1)\n\n- neurodeck Cloze (test-deck): no longer in the package\n" in markdown

    # the other way round, the same notes come back as added
    back, _ = compare(str(v2), str(v1), Path("/"))
    assert [r.name for r in back[0].added] == ["mn-f5-cloze"]
    assert [r.name for r in back[0].removed] == ["mn-new"]


def test_an_identical_rebuild_has_no_changes(project):
    v1 = release(project, "v1", T0)
    (project / "decks" / "test-deck.lock").unlink()  # new mod times everywhere, same content
    v2 = release(project, "v2", T0 + 500)
    assert v1.read_bytes() != v2.read_bytes()
    diffs, problems = compare("v1.apkg", "v2.apkg", project)
    assert problems == [] and diffs[0].empty and diffs[0].unchanged == 5 and diffs[0].warnings == []
    assert "  no changes" in format_text(diffs) and "No changes." in format_markdown(diffs)


def test_a_css_change_is_reported_in_place(project, monkeypatch):
    release(project, "v1", T0)
    monkeypatch.setattr(notetypes, "CSS", notetypes.CSS + "\n.nd-answer { color: teal; }\n")
    release(project, "v2", T0 + 100)
    diffs, problems = compare("v1.apkg", "v2.apkg", project)
    assert problems == []
    [deck] = json.loads(format_json(diffs))["decks"]
    assert deck["summary"]["changed"] == 0 and deck["unchanged"] == 5
    kinds = {t["name"]: (t["kind"], t["details"]) for t in deck["notetypes"]}
    assert set(kinds) == {nt.name for kind, nt in notetypes.note_types("test-deck").items()}
    assert all(value == ("in-place", ["CSS changed (+2 -0 lines)"]) for value in kinds.values())
    assert deck["warnings"] == []
    text = format_text(diffs)
    assert "  ~ neurodeck Basic (test-deck): updated in place: CSS changed (+2 -0 lines)" in text
    assert "Warnings" not in text
    assert "- neurodeck Basic (test-deck): updated in place: CSS changed (+2 -0 lines)" in format_markdown(diffs)


def test_a_template_text_change_is_in_place(project, monkeypatch):
    release(project, "v1", T0)

    def new_front(basic):
        [card] = basic.templates
        return dataclasses.replace(basic, templates=(dataclasses.replace(card, qfmt=card.qfmt + "<hr>"),))

    alter_basic_note_type(monkeypatch, new_front)
    release(project, "v2", T0 + 100)
    diffs, _ = compare("v1.apkg", "v2.apkg", project)
    [change] = diffs[0].notetypes
    assert change.name == "neurodeck Basic (test-deck)" and change.kind == "in-place"
    assert change.details == ["template 'Card 1': front changed"]
    assert diffs[0].warnings == []


def test_a_schema_change_warns_that_anki_forks_the_note_type(project, monkeypatch):
    release(project, "v1", T0)

    def renamed(basic):
        [card] = basic.templates
        return dataclasses.replace(basic, fields=("Front",) + basic.fields[1:],
                                   templates=(dataclasses.replace(card, name="Forward"),))

    alter_basic_note_type(monkeypatch, renamed)
    (project / "decks" / "test-deck.lock").unlink()  # our own validation would refuse the change
    release(project, "v2", T0 + 100)
    diffs, problems = compare("v1.apkg", "v2.apkg", project)
    assert problems == []
    [deck] = json.loads(format_json(diffs))["decks"]
    [change] = deck["notetypes"]
    assert change["name"] == "neurodeck Basic (test-deck)" and change["kind"] == "schema"
    assert change["details"] == ["field 'Question' renamed to 'Front'", "template 'Card 1' renamed to 'Forward'"]
    [fork] = deck["warnings"]
    assert fork["kind"] == "fork" and "neurodeck Basic (test-deck)" in fork["message"]
    assert "copy (a fork)" in fork["message"]
    text = format_text(diffs)
    assert ("  ! neurodeck Basic (test-deck): fields/templates changed: field 'Question' renamed to 'Front'; "
            "template 'Card 1' renamed to 'Forward'") in text
    assert "Anki will import it as a copy (a fork)" in text
    markdown = format_markdown(diffs)
    assert "fields or templates changed (Anki forks it)" in markdown and "copy (a fork)" in markdown


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout


def git_repo(root: Path) -> None:
    git(root, "init", "-q")
    for key, value in (("user.name", "Test"), ("user.email", "test@example.com"), ("commit.gpgsign", "false")):
        git(root, "config", key, value)
    (root / ".gitignore").write_text("dist/\n.neurodeck-cache/\n*.apkg\n")


def commit_all(root: Path, message: str) -> None:
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", message)


def test_git_revisions_are_built_and_compared(project, tmp_path, monkeypatch):
    # the repository is the project's parent: the project is a subfolder of it
    repo = project.parent
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(repo.parent))
    git_repo(repo)
    git(repo, "commit", "-q", "--allow-empty", "-m", "before the project")
    release(project, "v1", T0)  # writes the lock, committed with the cards
    commit_all(repo, "v1")
    make_release_edits(project)
    v2 = release(project, "v2", T0 + 100)
    commit_all(repo, "v2")
    lock = (project / "decks" / "test-deck.lock").read_bytes()

    diffs, problems = compare("HEAD~1", "HEAD", project)
    assert problems == []
    [deck] = diffs
    assert (deck.old, deck.new, deck.key) == ("HEAD~1:test-deck.apkg", "HEAD:test-deck.apkg", "test-deck.apkg")
    assert [r.name for r in deck.added] == ["mn-new"]
    assert [c.name for c in deck.changed] == ["mn-discovery", "ot-site"]
    assert [r.name for r in deck.removed] == ["mn-f5-cloze"]
    assert [r.name for r in deck.retired] == ["mn-term"]
    assert [m.name for m in deck.moved] == ["ot-site"]
    assert "[-macaque-]{+monkey+}" in format_text(diffs)

    # a revision against a built package: same sources, no changes
    diffs, problems = compare("HEAD", str(v2), project)
    assert problems == [] and diffs[0].empty and diffs[0].unchanged == 5

    # a revision from before the project folder existed
    diffs, problems = compare("HEAD~2", "HEAD", project)
    assert diffs is None and [p.location.path for p in problems] == ["HEAD~2"]
    assert problems[0].message.startswith("cannot export revision 'HEAD~2'")

    # nothing in the working tree was touched, and no temporary folder is left
    assert (project / "decks" / "test-deck.lock").read_bytes() == lock
    assert git(repo, "status", "--porcelain") == ""
    assert git(repo, "worktree", "list").count("\n") == 1


def test_revisions_are_matched_by_output_name_when_decks_differ(project, monkeypatch):
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(project.parent))
    git_repo(project)
    release(project, "v1", T0)
    commit_all(project, "one deck")
    (project / "decks" / "second.yaml").write_text(
        "name: Second\nnamespace: second\ncards: [cards/b.yaml]\noutput: second.apkg\n")
    commit_all(project, "two decks")
    diffs, problems = compare("HEAD~1", "HEAD", project)
    assert problems == []
    assert [(d.key, d.old, d.new) for d in diffs] == [
        ("second.apkg", "(absent)", "HEAD:second.apkg"),
        ("test-deck.apkg", "HEAD~1:test-deck.apkg", "HEAD:test-deck.apkg")]
    assert sorted(r.name for r in diffs[0].added) == ["ot-image", "ot-site"] and diffs[1].empty


def test_a_revision_cannot_reach_outside_its_export(project, tmp_path, monkeypatch):
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(project.parent))
    outside = tmp_path / "outside.yaml"
    outside.write_text("subtopic: Outside\ncards:\n  - id: outside-card\n    question: Q?\n    answer: A.\n")
    git_repo(project)
    commit_all(project, "v1")
    (project / "cards" / "c.yaml").symlink_to(outside)  # an absolute link out of the project
    commit_all(project, "v2")
    diffs, problems = compare("HEAD~1", "HEAD", project)
    assert problems == [] and diffs[0].empty  # the link was not exported, so nothing came in


def test_errors_are_problems_not_tracebacks(project, tmp_path, monkeypatch):
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(project.parent))
    v1 = release(project, "v1", T0)

    # not a git repository
    snapshots, problems = load_side("HEAD", project)
    assert snapshots is None and "not inside a git repository" in problems[0].message
    _, problems = load_side("missing.apkg", project)
    assert problems[0].message.startswith("no such package")

    git_repo(project)
    commit_all(project, "v1")
    for spec, message in (("no-such-rev", "'no-such-rev' is neither a file nor a git revision"),
                          ("--output=x", "'--output=x' is neither a file nor a git revision"),
                          ("missing.apkg", "no such package"),
                          ("cards", "'cards' is a folder")):
        snapshots, problems = load_side(spec, project)
        assert snapshots is None and [p.message for p in problems] == [message], spec

    # a FIFO or a device is refused without being opened (opening a FIFO would block)
    os.mkfifo(project / "pipe.apkg")
    for spec in ("pipe.apkg", "/dev/null"):
        snapshots, problems = load_side(spec, project)
        assert snapshots is None and [p.message for p in problems] == [f"'{spec}' is not a regular file"], spec

    junk = project / "junk.apkg"
    junk.write_text("not a zip")
    snapshots, problems = load_side("junk.apkg", project)
    assert snapshots is None and "not a readable Anki package" in problems[0].message
    assert problems[0].location.path == "junk.apkg"

    # invalid sources in a revision: located in that revision
    edit(project / "cards" / "a.yaml", "  - id: mn-term\n", "  - id: mn-term\n    colour: red\n")
    commit_all(project, "broken")
    diffs, problems = compare(str(v1), "HEAD", project)
    assert diffs is None
    assert [(p.location.path, p.location.line, p.message) for p in problems] == [
        ("HEAD:cards/a.yaml", 15, "unknown key 'colour' in a card")]


def test_word_diff_and_plain_text():
    assert plain_text('<b>F5</b> &amp; <img src="insula-1a2b.png"> area<br>x') == "F5 & [image: insula-1a2b.png] area x"
    assert [(s.op, s.text) for s in word_diff("a b c d", "a x c")] == [
        ("=", "a"), ("-", "b"), ("+", "x"), ("=", "c"), ("-", "d")]
    assert [(s.op, s.text) for s in word_diff("", "new words")] == [("+", "new words")]


def test_long_fields_are_shown_around_the_change_only():
    from neurodeck.commands.diff import FieldChange
    from neurodeck.commands.diff.format import _md_segments, _text_segments

    old = " ".join(f"w{i}" for i in range(40))
    new = old.replace("w20", "CHANGED")
    change = FieldChange("Extra", old, new, word_diff(old, new))
    assert _text_segments(change) == "... w15 w16 w17 w18 w19 [-w20-]{+CHANGED+} w21 w22 w23 w24 w25 ..."
    assert _md_segments(change) == "... w15 w16 w17 w18 w19 ~~w20~~ **CHANGED** w21 w22 w23 w24 w25 ..."
    formatting = FieldChange("Answer", "same", "same", word_diff("same", "same"))
    assert _text_segments(formatting) == "(formatting only)"


def test_the_retired_tag_is_the_compilers():
    from neurodeck.commands import diff
    from neurodeck.pipeline import compile_file as notes

    assert diff.RETIRED_TAG == notes.RETIRED_TAG


def test_an_empty_side_pairs_with_nothing():
    lone = Snapshot(label="a.apkg", key="a.apkg", deck="A")
    assert [d.key for d in diff_sides({"a.apkg": lone, "b.apkg": lone}, {})] == ["a.apkg", "b.apkg"]
