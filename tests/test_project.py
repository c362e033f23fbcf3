"""Project discovery: the build and the up-to-date check expand card globs with the same rule."""
from __future__ import annotations

from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from neurodeck.model import Location, Manifest, Text
from neurodeck.pipeline.stamps import matched_files
from neurodeck.project import card_files, glob_files, project_root

_parts = st.lists(st.sampled_from(["cards", "..", "*.yaml", "**", "outside", "x.yaml", "."]), min_size=1, max_size=4)


@settings(max_examples=200, deadline=None, derandomize=True, database=None)
@given(_parts, st.booleans())
def test_globs_that_leave_the_project_match_nothing_in_either_expansion(tmp_path_factory, parts, absolute):
    base = tmp_path_factory.mktemp("p")
    for folder in ("project/cards", "project/decks", "outside"):
        (base / folder).mkdir(parents=True)
    (base / "project/cards/a.yaml").write_text("x")
    (base / "outside/x.yaml").write_text("x")
    manifest_path = base / "project/decks/deck.yaml"
    root = project_root(manifest_path)
    pattern = str(base / Path(*parts)) if absolute else str(Path(*parts))
    manifest = Manifest(path=manifest_path, root=root, name="D", namespace="d", tag="d", description="",
                        cards=[Text(pattern, Location("deck.yaml", 3, 8))], output="d.apkg",
                        location=Location("deck.yaml"))
    paths, problems = card_files(manifest)
    stamped = matched_files(manifest_path, [pattern])
    assert [str(p) for p in paths] == stamped  # one rule for the build and for the up-to-date check
    assert all(p.resolve().is_relative_to(root) for p in paths)
    if absolute or ".." in parts:
        assert glob_files(root, pattern) is None and not paths
        assert [p.message for p in problems] == [f"glob '{pattern}' leaves the project"]
        assert str(problems[0].location) == "deck.yaml:3:8"
