"""`neurodeck init` and finding the project from any folder inside it."""
from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

import neurodeck as nd
from conftest import import_package
from neurodeck.apkg import files
from neurodeck.cli import main
from neurodeck.lockfile import note_guid

TARGETS = ["decks/my-deck.yaml", "cards/basic-cards.yaml", "cards/reversed-cards.yaml", "cards/cloze-cards.yaml",
           "cards/type-in-cards.yaml", "cards/sound-cards.yaml", "cards/image-occlusion-cards.yaml", ".gitignore"]
TONE = "cards/media/tone-a440.wav"  # written too, unless `new` wrote it already (then shared)
PICTURE = "cards/media/neuron-schematic.png"  # the occlusion card's image, shared likewise


def run(*args: str):
    return CliRunner().invoke(main, list(args))


def tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_init_makes_a_project_that_validates_lints_clean_builds_and_imports(tmp_path, monkeypatch, collection):
    monkeypatch.chdir(tmp_path)
    result = run("init", "my-deck", "--name", "My Deck")
    assert result.exit_code == 0, result.output
    root = tmp_path / "my-deck"
    assert sorted(tree(root)) == sorted(TARGETS + [TONE, PICTURE])
    lines = result.stdout.splitlines()
    nxt = lines.index("Next:")
    assert [line.split("#")[0].strip() for line in lines[nxt + 1:nxt + 5]] == [
        "cd my-deck", "neurodeck validate", "neurodeck build", "neurodeck preview --open"]
    manifest = (root / "decks/my-deck.yaml").read_text()
    assert re.search(r"^namespace: my-deck-[0-9a-f]{6}$", manifest, re.M)
    assert "NEVER CHANGE IT after a release" in manifest
    assert (root / ".gitignore").read_text().splitlines()[-1] == "/dist/"
    # MathJax as we recommend it: in single quotes, where YAML keeps the backslash
    assert "question: 'What does a low \\(K_d\\) say" in (root / "cards/basic-cards.yaml").read_text()
    assert "text: 'The \\(K_d\\) of a receptor" in (root / "cards/cloze-cards.yaml").read_text()

    monkeypatch.chdir(root)
    assert run("validate").exit_code == 0
    linted = run("lint")
    assert linted.exit_code == 0 and linted.stdout == "decks/my-deck.yaml: 0 errors, 0 warnings: ok\n"
    assert linted.stderr == ""
    built = run("build")
    assert built.exit_code == 0 and built.stderr == "", built.output
    log = import_package(collection, root / "dist" / "my-deck.apkg")
    assert len(log.new) == 6 and not log.duplicate and not log.conflicting
    assert collection.card_count() == 9  # the reversed note makes two cards, the occlusion note three
    texts = [" ".join(collection.get_note(n).fields) for n in collection.find_notes("")]
    assert sum("\\(K_d\\)" in text for text in texts) == 2  # the basic and the cloze note
    assert {name for name in collection.decks.all_names()} >= {"My Deck::Basic cards", "My Deck::Cloze cards",
                                                                "My Deck::Reversed cards", "My Deck::Type-in cards",
                                                                "My Deck::Image occlusion cards"}
    [occlusion] = collection.find_notes('"Id:neuron-parts"')
    parsed = collection.get_image_occlusion_note(note_id=occlusion).note
    assert sorted(o.ordinal for o in parsed.occlusions) == [1, 2, 3] and parsed.occlude_inactive
    assert parsed.image_data.startswith(b"\x89PNG")


def test_two_decks_of_the_same_name_never_share_guids(tmp_path):
    namespaces = set()
    for folder in ("a", "b"):
        written, problems = nd.init_project("Pharmacology", tmp_path / folder)
        assert problems == [] and written is not None
        namespaces.add(re.search(r"^namespace: (\S+)$", written[0].read_text(), re.M).group(1))
    assert len(namespaces) == 2
    assert len({note_guid(ns, "receptor-kd-definition") for ns in namespaces}) == 2


@settings(max_examples=40, deadline=None, derandomize=True, database=None)
@given(st.sets(st.sampled_from(TARGETS + ["decks/other-deck.yaml"]), min_size=1))
def test_init_writes_nothing_when_any_target_exists(tmp_path_factory, existing):
    root = tmp_path_factory.mktemp("p")
    for name in existing:
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(f"mine: {name}\n")
    before = tree(root)
    written, problems = nd.init_project("My Deck", root)
    assert written is None and tree(root) == before
    assert {p.location.path.replace(os.sep, "/").split(root.name + "/")[-1] for p in problems} == existing
    assert all(p.message == "already exists; init writes nothing" for p in problems)


@pytest.mark.parametrize("failing", range(len(TARGETS) + 2))
def test_a_failed_write_leaves_nothing_behind(tmp_path, monkeypatch, failing):
    real, calls = files.write_atomic, []

    def flaky(target, data):
        calls.append(target)
        if len(calls) == failing + 1:
            raise OSError(28, "No space left on device", str(target))
        real(target, data)

    monkeypatch.setattr(files, "write_atomic", flaky)
    monkeypatch.chdir(tmp_path)
    result = run("init", "--name", "My Deck")
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "the disk is full" in result.stderr
    assert tree(tmp_path) == {}


@pytest.mark.parametrize("name", ["", "  ", "A::B", " padded", "tab\there"])
def test_a_bad_deck_name_is_refused_with_a_hint(tmp_path, monkeypatch, name):
    monkeypatch.chdir(tmp_path)
    result = run("init", "--name", name)
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert result.stderr.startswith("--name: error: ") and "deck name" in result.stderr.splitlines()[0]
    assert 'for example: --name "Neurobiology of Intimacy"' in result.stderr.splitlines()[1]
    assert tree(tmp_path) == {}


# ---- finding the project -------------------------------------------------------------------------

@pytest.mark.parametrize("where", ["cards", "cards/media/deeper"])
def test_commands_find_the_project_from_a_subfolder(project, monkeypatch, where):
    (project / where).mkdir(parents=True, exist_ok=True)
    monkeypatch.chdir(project / where)
    up = "../" * len(Path(where).parts)
    result = run("validate")
    assert result.exit_code == 0 and result.stdout == "Test Deck: 5 notes, 7 cards: ok\n"
    assert result.stderr == f"Using the project in {up} ({project})\n"
    built = run("build", "--json")
    assert built.exit_code == 0
    report = json.loads(built.stdout)["decks"][0]
    assert report["output"] == f"{up}dist/test-deck.apkg" and (project / "dist/test-deck.apkg").is_file()
    assert report["manifest"] == f"{up}decks/test-deck.yaml"
    again = run("build")
    assert again.stdout == (f"Test Deck: 5 notes, 7 cards (0 new, 0 changed, 0 removed): "
                            f"up to date, nothing written ({up}dist/test-deck.apkg)\n")
    assert run("lint").exit_code == 0 and run("stats").exit_code == 0
    made = run("new", "Pair Bonding")
    assert made.exit_code == 0 and made.stdout == f"created {up}cards/pair-bonding.yaml\n"
    assert (project / "cards/pair-bonding.yaml").is_file()
    explicit = run("build", "--out", "here")  # an --out given is taken from the working folder
    assert explicit.exit_code == 0 and (project / where / "here" / "test-deck.apkg").is_file()


def test_at_the_root_nothing_is_said_and_outside_a_project_init_is_suggested(project, monkeypatch, tmp_path):
    result = run("validate")
    assert result.exit_code == 0 and result.stderr == ""
    assert nd.find_project(project / "cards") == project.resolve()
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    monkeypatch.chdir(outside)
    assert nd.find_project() is None
    refused = run("build")
    assert refused.exit_code == 2 and "not a neurodeck project" in refused.stderr
    assert "neurodeck init --name NAME" in refused.stderr


def test_new_outside_a_project_points_to_init(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = run("new", "Pair Bonding")
    assert result.exit_code == 0 and (tmp_path / "cards/pair-bonding.yaml").is_file()
    assert "start one with `neurodeck init --name NAME`" in result.stderr
    assert run("init", "--name", "My Deck").exit_code == 0  # the card file is not one of init's
    assert run("validate").exit_code == 0


def test_preview_open_without_a_display_prints_where_the_page_is(project, monkeypatch):
    monkeypatch.setattr("sys.platform", "linux")
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    launched = []
    monkeypatch.setattr("click.launch", lambda *a, **k: launched.append(a) or 0)
    result = run("preview", "--open")
    assert result.exit_code == 0 and launched == []
    page = (project / "dist" / "test-deck.html").resolve()
    assert f"open {page.as_uri()} yourself" in result.stderr
