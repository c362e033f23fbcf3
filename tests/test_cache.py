"""The cache and the up-to-date check: faster, never different."""
from __future__ import annotations

import hashlib
import re
import shutil
import subprocess
import sys
from pathlib import Path

import cmarkgfm
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from conftest import PNG, REPO
from neurodeck.cli import main
from neurodeck.model import Location, Note, Problem
from neurodeck.pipeline import stamps as fresh
from neurodeck.pipeline.build import build
from neurodeck.pipeline.cache import decode, encode
from neurodeck.pipeline.compile_file import FileResult
from neurodeck.pipeline.store import Store, cache_root

MANIFEST = Path("decks/test-deck.yaml")


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def cache_entries(project: Path) -> list[Path]:
    return sorted((cache_root() / "files").rglob("*"), key=str)


def test_cached_builds_are_byte_identical_to_cache_free_builds(project, tmp_path):
    assert build(MANIFEST, project / "dist", now=1_700_000_000).ok
    assert [p for p in cache_entries(project) if p.is_file()]
    cards = project / "cards" / "a.yaml"
    cards.write_text(cards.read_text().replace("Single-unit recordings.", "Edited."))
    warm = build(MANIFEST, project / "dist", now=1_700_000_100)
    assert warm.ok and warm.compiled.summary()["changed"] == ["mn-discovery"]

    copy = tmp_path / "nocache"
    shutil.copytree(project, copy, ignore=shutil.ignore_patterns("dist"))
    cold = subprocess.run([sys.executable, "-m", "neurodeck", "build", "--locked"], cwd=copy,
                          capture_output=True, text=True, env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin",
                                                               "NEURODECK_CACHE_DIR": str(tmp_path / "cold-cache")})
    assert cold.returncode == 0, cold.stderr
    assert sha(copy / "dist" / "test-deck.apkg") == warm.sha256


def test_damaged_cache_entries_are_ignored(project):
    first = build(MANIFEST, project / "dist", now=1_700_000_000)
    for entry in cache_entries(project):
        if entry.is_file():
            entry.write_bytes(entry.read_bytes()[:-10] + b"garbage!!!")
    again = build(MANIFEST, project / "dist", now=1_700_000_000)
    assert again.ok and again.sha256 == first.sha256
    for entry in cache_entries(project):
        if entry.is_file():
            entry.write_bytes(b"not a cache entry at all")
    assert build(MANIFEST, project / "dist", now=1_700_000_000).sha256 == first.sha256


def test_changed_image_is_noticed_through_the_cache(project):
    first = build(MANIFEST, project / "dist", now=1_700_000_000)
    image = project / "cards" / "media" / "insula.png"
    image.write_bytes(PNG + b"\x00extra")
    second = build(MANIFEST, project / "dist", now=1_700_000_100)
    assert second.ok and second.sha256 != first.sha256
    assert second.compiled.summary()["changed"] == ["ot-image"]


def test_nothing_changed_leaves_the_output_untouched(project):
    runner = CliRunner()
    assert runner.invoke(main, ["build"]).exit_code == 0
    output = project / "dist" / "test-deck.apkg"
    stamp = output.stat().st_mtime_ns
    again = runner.invoke(main, ["build"])
    assert again.exit_code == 0
    assert "Test Deck: 5 notes, 7 cards (0 new, 0 changed, 0 removed)" in again.stdout
    assert output.stat().st_mtime_ns == stamp
    # any input change, or a damaged output, means a real build again
    output.write_bytes(output.read_bytes() + b"x")
    assert runner.invoke(main, ["build"]).exit_code == 0
    assert output.stat().st_mtime_ns != stamp
    assert fresh.up_to_date(MANIFEST, Path("dist")) is not None
    (project / "cards" / "b.yaml").write_text((project / "cards" / "b.yaml").read_text() + "\n")
    assert fresh.up_to_date(MANIFEST, Path("dist")) is None
    (project / "cards" / "b.yaml").unlink()
    (project / "cards" / "c.yaml").write_text("subtopic: C\ncards:\n  - id: c\n    question: Q?\n    answer: A\n")
    assert fresh.up_to_date(MANIFEST, Path("dist")) is None


CORPUS = [
    "Area **F5** of the *macaque*", "one\n\ntwo", "- a\n- b\n  - c", "1. x\n2. y", "3) z", "`code` and ``co`de``",
    "```py\nprint(1)\n```", "    indented", "> quote\n> more", "# H1\n## H2", "Setext\n===", "---", "***",
    "[link](https://x.org \"t\")", "![img](media/a.png)", "<https://auto.link>", "\\(x^2\\) and \\[y\\]",
    "{{c1::F5::hint}}", "&copy; &amp; &#60; &#x3C;", "line  \nbreak", "line\\\nbreak", "a_b_c __strong__",
    "<b>raw</b> <span>x</span>", "<!-- c -->", "* * *", "+ plus", "2. starts at two", "**bold *nested* text**",
    "Ünïcödé → ≤ 😀", "a < b > c & d \"q\" 'a'", "[ref]\n\n[ref]: https://x.org", "trailing spaces   ",
    "tab\tinside", "*unclosed", "_a_b", "\\*escaped\\*", "1\\. not a list", "html <img src=x onerror=y>",
]


def test_compiled_renderer_matches_markdown_it_py():
    md = MarkdownIt("commonmark")
    corpus = CORPUS + [a + "\n\n" + b for a, b in zip(CORPUS, reversed(CORPUS))]
    for text in corpus:
        ours = cmarkgfm.markdown_to_html(text, options=cmarkgfm.Options.CMARK_OPT_UNSAFE)
        assert ours.strip() == md.render(text).strip(), text


def test_the_benchmark_runs_at_a_small_size():
    done = subprocess.run([sys.executable, str(REPO / "benchmarks" / "run.py"), "--cards", "300", "--large", "600",
                           "--runs", "1"], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("| case") and len(lines) == 17  # 15 rows (4 of them adopt's, 1876308)
    cells = {line.split("|")[1].strip(): [c.strip() for c in line.split("|")[2:-1]] for line in lines[2:]}
    assert cells["temporary files left behind"][0] == "0"
    assert cells["... its output equals a cold build's"][0] == "yes"
    assert cells["rebuild with nothing changed"][0].endswith(" s")
    assert cells["adopt a 300-note package exported by Anki"][0].endswith(" s")
    assert cells["... cold build of the adopted project"][1].endswith("(Markdown deck)")


def test_the_comparison_of_two_versions_runs_at_a_small_size():
    # This tree against itself: every case runs both sides alternately and reports both medians.
    done = subprocess.run([sys.executable, str(REPO / "benchmarks" / "compare.py"), "--base", str(REPO / "generator"),
                           "--cards", "200", "--large", "300", "--runs", "2"], capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    cells = {line.split("|")[1].strip(): [c.strip() for c in line.split("|")[2:-1]] for line in lines[2:]}
    memory = Path("/proc/self/smaps_rollup").exists()  # read from /proc: Linux only
    assert lines[0].startswith("| case") and set(cells) == {
        "cold build, empty cache (200 cards)", "rebuild after editing one card", "rebuild with nothing changed",
        "neurodeck --help", "neurodeck --version", "writing the package (in-process)",
        "cold build of 300 cards: time"} | ({"cold build of 300 cards: peak memory"} if memory else set())
    for case, (base, head, wall, cpu) in cells.items():
        for measured in (base, head):
            assert re.fullmatch(r"[\d.]+ (s|MB) \([\d.]+-[\d.]+\)", measured), case
        assert re.fullmatch(r"[+-]\d+ %", wall), case
        assert cpu == "" if case.startswith(("writing", "cold build of 300 cards: peak")) else re.fullmatch(
            r"[+-]\d+ %", cpu), case


def test_versions_read_from_dist_info_names_agree_with_importlib_metadata():
    from importlib.metadata import version

    from neurodeck.pipeline.stamps import DEPENDENCIES, versions

    assert versions() == {name: version(name) for name in DEPENDENCIES}


def test_work_is_sent_in_shrinking_batches_that_cover_every_file_in_order():
    from neurodeck.pipeline.cache import _batches

    for count in (1, 9, 300, 1001):
        batches = list(_batches(list(range(count)), workers=2))
        assert [job for batch in batches for job in batch] == list(range(count))
        sizes = [len(batch) for batch in batches]
        assert sizes == sorted(sizes, reverse=True) and sizes[-1] == 1


_text = st.text(st.characters(codec="utf-8") | st.sampled_from(["\udcff", "\ud800", "é", "\0"]), max_size=12)
_where = st.builds(Location, _text, st.integers(0, 10**6), st.integers(0, 10**6))
_note = st.builds(Note, _text, _where, st.sampled_from(["basic", "cloze", "x"]) | _text, _where, _text,
                  st.lists(_text, max_size=4).map(tuple), st.lists(st.sampled_from(["a", "b::c"]) | _text, max_size=4).map(tuple),
                  _text, st.lists(st.integers(0, 30), max_size=3).map(tuple), st.lists(_text, max_size=2).map(tuple),
                  _text, _text, st.integers(0, 2**32 - 1), _text, st.booleans(), st.booleans())
_result = st.builds(FileResult, st.builds(Path, _text.filter(bool)), st.lists(_note, max_size=6),
                    st.lists(st.builds(Problem, _where, _text, st.none() | _text, st.sampled_from(["error", "warning"])),
                             max_size=3),
                    st.dictionaries(_text, _text, max_size=2))


@settings(max_examples=150, deadline=None)
@given(result=_result)
def test_a_file_result_comes_back_from_the_sealed_cache_as_it_was_filed(tmp_path_factory, result):
    """Any text, names with undecodable bytes (lone surrogates) included: what a rebuild reads
    from the cache equals what the build filed, or (never silently different) is a miss."""
    store = Store.open(tmp_path_factory.mktemp("store"))
    entry = store.folder / "files" / "ab" / "abc"
    store.write(entry, "abc", encode(result))
    back = decode(store.read(entry, "abc"))
    assert back == result
    assert [type(n) for n in back.notes] == [Note] * len(result.notes)
    assert all(type(n.location) is Location and type(n.id_location) is Location for n in back.notes)
    assert decode(store.read(entry, "abd")) is None  # filed under another key: foreign


def test_a_build_outside_a_git_repository_starts_no_git(project, monkeypatch):
    """The releases check asks git for committed locks only where git could find a repository;
    elsewhere a process per build would only hear that there is none."""
    import subprocess

    started = []
    original = subprocess.run
    monkeypatch.setattr(subprocess, "run", lambda args, *a, **k: started.append(args) or original(args, *a, **k))
    assert not any((folder / ".git").exists() for folder in (project, *project.parents))
    assert build(MANIFEST, project / "dist").ok and build(MANIFEST, project / "dist2").ok
    assert started == []
    original(["git", "init", "-q"], cwd=project, check=True)
    assert build(MANIFEST, project / "dist3").ok
    assert [args[:2] for args in started][:1] == [["git", "rev-parse"]]
