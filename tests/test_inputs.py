"""Reads are bounded and only of regular files (issue 12, rule 7); no input of any kind, from
files, the command line, the environment or the lock, gives a traceback (rule 10)."""
from __future__ import annotations

import json
import os
import re
import shutil
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import CARDS_A, CARDS_B, MANIFEST, PNG, write
from neurodeck.cli import main

LOCATED = re.compile(r"^\S.*: (error|warning): |^Error: ", re.MULTILINE)  # file[:line:col]: error, or Click's usage error


def env(**extra: str) -> dict:
    """The environment of a subprocess that imports this very neurodeck."""
    import neurodeck

    return dict(os.environ, PYTHONPATH=str(Path(neurodeck.__file__).resolve().parents[1]), **extra)


# Runs neurodeck from a fresh, small process and reports its peak memory: a child forked straight
# from pytest would count pytest's own memory in its peak (Linux keeps the high-water mark over exec).
MEASURED = """
import os, subprocess, sys
proc = subprocess.Popen([sys.executable, "-m", "neurodeck", *sys.argv[2:]])
_, status, usage = os.wait4(proc.pid, 0)
proc.returncode = os.waitstatus_to_exitcode(status)
open(sys.argv[1], "w").write(str(usage.ru_maxrss))
sys.exit(proc.returncode)
"""


def neurodeck(cwd: Path, *args, timeout: float = 60, **extra: str):
    """Run the real command; returns (exit code, output as text, seconds, peak RSS in MB)."""
    peak_file = cwd.parent / "peak-rss"
    start = time.monotonic()
    proc = subprocess.Popen([sys.executable, "-c", MEASURED, str(peak_file), *args], cwd=cwd, env=env(**extra),
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        out, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, 9)
        proc.communicate()
        pytest.fail(f"neurodeck {args[0]} still running after {timeout} s")
    seconds = time.monotonic() - start
    return proc.returncode, out.decode("utf-8", "replace"), seconds, int(peak_file.read_text()) / 1024


def assert_clean(result, allowed=(0, 1, 2)) -> None:
    """Exit code 0, 1 or 2, no traceback, and a located message on failure."""
    assert result.exit_code in allowed, (result.exit_code, result.output, result.exception)
    assert isinstance(result.exception, (SystemExit, type(None))), repr(result.exception)
    assert "Traceback" not in result.output
    if result.exit_code:
        assert LOCATED.search(result.stderr), result.output


def run(*args: str, **kwargs):
    return CliRunner().invoke(main, list(args), **kwargs)


# ---- rule 7: bounded reads of regular files only -----------------------------------------------

def test_a_fifo_named_like_a_card_file_is_refused_at_once(project):
    os.mkfifo(project / "cards" / "fifo.yaml")
    code, out, seconds, _ = neurodeck(project, "validate", timeout=20)
    assert code == 1 and "Traceback" not in out
    assert "cards/fifo.yaml: error: is not a regular file" in out, out
    assert seconds < 10


def test_a_device_as_a_card_file_is_refused_without_reading_it(project):
    try:
        os.mknod(project / "cards" / "zero.yaml", stat.S_IFCHR | 0o666, os.makedev(1, 5))  # /dev/zero
    except PermissionError:  # GitHub's runners are not root; .ci/run is, and fails on any skip
        pytest.skip("needs root to create a device node (mknod); .ci/run runs as root")
    code, out, seconds, _ = neurodeck(project, "validate", timeout=30)
    assert code == 1 and "cards/zero.yaml: error: is not a regular file" in out, out
    assert seconds < 15


def test_card_files_linked_out_of_the_project_are_refused(project, tmp_path):
    outside = tmp_path / "elsewhere.yaml"
    outside.write_text(CARDS_B.replace("id: ot-", "id: far-"))
    (project / "cards" / "linked.yaml").symlink_to(outside)
    (project / "cards" / "zero.yaml").symlink_to("/dev/zero")
    code, out, seconds, peak = neurodeck(project, "validate", timeout=30)
    assert code == 1 and "Traceback" not in out
    assert "card file cards/linked.yaml is a link to a file outside the project" in out, out
    assert "card file cards/zero.yaml is a link to a file outside the project" in out, out
    assert seconds < 15 and peak < 200, (seconds, peak)


def test_a_huge_card_file_is_refused_with_little_memory(project):
    with open(project / "cards" / "huge.yaml", "wb") as f:
        f.truncate(100 * 1024 * 1024)  # sparse: 100 MB of NULs
    code, out, _, peak = neurodeck(project, "validate", timeout=60)
    assert code == 1 and "cards/huge.yaml: error: file is 104857600 bytes; the limit is" in out, out
    assert peak < 150, peak  # MB; reading it whole peaked at 234


def test_read_text_never_reads_more_than_the_limit(tmp_path):
    from neurodeck.source.yamlnodes import read_text

    path = tmp_path / "grows.yaml"
    path.write_text("a: b\n" * 100)
    text, problems = read_text(path, "grows.yaml", limit=499)
    assert text is None and "the limit is 499" in problems[0].message
    assert read_text(path, "grows.yaml", limit=500) == ("a: b\n" * 100, [])


def test_recursive_globs_never_follow_symlink_loops(project):
    folder = project / "cards" / "deep"
    folder.mkdir()
    write(folder / "c.yaml", CARDS_A.replace("id: mn-", "id: deep-"))
    for name in ("up", "again", "round"):
        (folder / name).symlink_to("..")
    manifest = project / "decks" / "test-deck.yaml"
    manifest.write_text(manifest.read_text().replace("[cards/*.yaml]", "[cards/**/*.yaml]"))
    code, out, seconds, _ = neurodeck(project, "validate", timeout=45)
    assert code == 0, out
    assert "8 notes" in out and seconds < 10  # a.yaml, b.yaml and deep/c.yaml, each once


_tree_names = st.sampled_from(["a", "b", ".h", "x.yaml", "y.yml", ".z.yaml", "sub"])


@settings(max_examples=150, deadline=None, derandomize=True, database=None,
          suppress_health_check=list(HealthCheck))
@given(files=st.lists(st.lists(_tree_names, min_size=1, max_size=4), min_size=1, max_size=8),
       pattern=st.lists(st.sampled_from(["*", "**", "*.yaml", "x.yaml", "a", "sub", ".h", ".*", "?.y*ml", "[ab]"]),
                        min_size=1, max_size=4))
def test_globs_match_what_glob_matches_without_links(tmp_path_factory, files, pattern):
    """On trees without symbolic links, the bounded expansion gives glob.glob's files."""
    import glob

    from neurodeck.project import glob_files

    root = tmp_path_factory.mktemp("tree")
    for parts in files:
        path = root.joinpath(*parts)
        if any(p.is_file() for p in path.parents if p != root and p.is_relative_to(root)) or path.is_dir():
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("x")
    text = "/".join(pattern)
    expected = sorted(os.path.normpath(p) for p in glob.glob(str(root / text), recursive=True)
                      if os.path.isfile(p))
    assert sorted(os.path.normpath(p) for p in glob_files(root, text) if p.is_file()) == expected


# ---- rule 10: reproduced tracebacks ------------------------------------------------------------

def test_nul_in_an_image_reference_and_an_output_name(project):
    write(project / "cards" / "c.yaml", 'subtopic: Nul\ncards:\n  - id: nul\n'
                                        '    question: "![x](media/ins%00ula.png)"\n    answer: A.\n')
    result = run("build")
    assert_clean(result)
    assert "cards/c.yaml:4:15: error: cannot read image 'media/ins\\x00ula.png'" in result.stderr
    (project / "cards" / "c.yaml").unlink()
    manifest = project / "decks" / "test-deck.yaml"
    manifest.write_text(manifest.read_text().replace("output: test-deck.apkg", 'output: "a\\0b.apkg"'))
    result = run("build")
    assert_clean(result)
    assert "decks/test-deck.yaml:6:9: error: output 'a\\x00b.apkg' must be a short file name" in result.stderr


def test_names_that_are_not_utf8(project):
    cards = os.fsencode(project / "cards")
    shutil.copy(project / "cards" / "b.yaml", cards + b"/\xff.yaml")
    (project / "cards" / "b.yaml").unlink()
    code, out, _, _ = neurodeck(project, "build")
    assert code == 1 and "Traceback" not in out
    assert "decks/test-deck.yaml:5:9: error: file name 'cards/\\udcff.yaml' is not valid UTF-8" in out, out
    os.unlink(cards + b"/\xff.yaml")
    write(project / "cards" / "b.yaml", CARDS_B)
    code, out, _, _ = neurodeck(project, "build", "--out", os.fsdecode(b"d\xff"))
    assert code == 2 and "Invalid value for '--out': 'd\\udcff' is not valid UTF-8" in out, out
    assert not os.path.exists(os.fsencode(project) + b"/d\xff")
    os.rename(project / "decks" / "test-deck.yaml", os.fsencode(project) + b"/decks/\xff.yaml")  # found, not named
    code, out, _, _ = neurodeck(project, "build")
    assert code == 1 and "decks/\\udcff.yaml: error: the file's name or folder is not valid UTF-8" in out, out
    assert not (project / "dist").exists()  # refused before anything was written


def test_an_out_folder_in_a_symlink_loop(project):
    (project / "loop").symlink_to("loop")
    for out in ("loop", "loop/dist"):
        result = run("build", "--out", out)
        assert_clean(result)
        assert result.exit_code == 2 and "Too many levels of symbolic links" in result.stderr


@pytest.mark.parametrize("mod", ["Infinity", "-Infinity", "NaN", "1e16", "1.5", "-5", "true", '"7"',
                                 "99999999999999999999999"])
def test_mods_in_the_lock_that_are_not_times(project, mod):
    assert run("build").exit_code == 0
    lock = project / "decks" / "test-deck.lock"
    lock.write_text(re.sub(r'"mod": \d+', f'"mod": {mod}', lock.read_text(), count=1))
    for command in ("validate", "build"):
        result = run(command)
        assert_clean(result)
        assert result.exit_code == 1 and "decks/test-deck.lock: error: lock file has an unexpected structure" \
            in result.stderr and "is not a time in whole seconds" in result.stderr


def test_a_release_version_in_the_lock_that_is_not_a_version(project):
    assert run("release", "1.0.0").exit_code == 0
    lock = project / "decks" / "test-deck.lock"
    lock.write_text(lock.read_text().replace('"version": "1.0.0"', '"version": "one"'))
    for args in (("validate",), ("release", "2.0.0")):
        result = run(*args)
        assert_clean(result)
        assert result.exit_code == 1 and "release version 'one' is not numbers separated by dots" in result.stderr


@pytest.mark.parametrize("old, new, message", [
    ('"removed": []', '"removed": "abc"', "expected a list of card ids"),  # before: ids 'a', 'b', 'c' removed
    ('"removed": []', '"removed": {"x": 1}', "expected a list of card ids"),
    ('"released": [', '"released": "x", "was": [', "expected a list of card ids"),
    ('"date": "', '"date": "2026-02-30", "was": "', "is not a date like"),  # before: accepted
])
def test_lock_lists_and_dates_of_the_wrong_kind(project, old, new, message):
    assert run("release", "1.0.0").exit_code == 0
    lock = project / "decks" / "test-deck.lock"
    assert old in lock.read_text()
    lock.write_text(lock.read_text().replace(old, new, 1))
    result = run("validate")
    assert_clean(result)
    assert result.exit_code == 1 and "lock file has an unexpected structure" in result.stderr \
        and message in result.stderr, result.stderr


@pytest.mark.parametrize("value", ["²", "abc", "-1", "1.5", "0x10", "1e9", "9" * 5000, " 12 34"])
def test_source_date_epoch_that_is_not_seconds_is_an_error(project, value):
    for args in (("validate",), ("build",), ("release", "1.0.0")):
        result = run(*args, env={"SOURCE_DATE_EPOCH": value})
        assert_clean(result)
        assert result.exit_code == 1, result.output
        assert "SOURCE_DATE_EPOCH: error: SOURCE_DATE_EPOCH must be whole seconds" in result.stderr
    assert not (project / "decks" / "test-deck.lock").exists()
    assert run("validate", env={"SOURCE_DATE_EPOCH": " 1700000000 "}).exit_code == 0


def test_a_deleted_working_folder(tmp_path):
    gone = tmp_path / "gone"
    gone.mkdir()
    code = subprocess.run(f"cd {gone} && rmdir {gone} && {sys.executable} -m neurodeck validate",
                          shell=True, env=env(), capture_output=True, text=True)
    assert code.returncode == 2 and "Traceback" not in code.stderr
    assert ".: error: the working folder is gone" in code.stderr


def test_a_corrupt_collection_for_check_upgrade_and_diff(project):
    import zipfile

    assert run("build").exit_code == 0
    with zipfile.ZipFile(project / "bad.apkg", "w") as zf:
        zf.writestr("collection.anki2", b"SQLite format 3\0" + b"x" * 5000)
        zf.writestr("media", "{}")
    for args in (("check-upgrade", "dist/test-deck.apkg", "bad.apkg"), ("diff", "dist/test-deck.apkg", "bad.apkg")):
        result = run(*args)
        assert_clean(result)
        assert result.exit_code == 1 and "bad.apkg: error: not a readable Anki " in result.stderr


def test_long_names_for_diff_and_new(project):
    result = run("diff", "a" * 5000, "HEAD")
    assert_clean(result)
    assert result.exit_code == 1 and "is neither a file nor a git revision" in result.stderr
    result = run("new", "a" * 300)
    assert_clean(result)
    assert result.exit_code == 1 and "the limit is 100" in result.stderr
    assert sorted(p.name for p in (project / "cards").iterdir()) == ["a.yaml", "b.yaml", "media"]


# ---- rule 10: property tests over arguments, environment and lock contents ---------------------

def fuzz(examples: int) -> settings:
    return settings(max_examples=examples, deadline=None, suppress_health_check=list(HealthCheck),
                    derandomize=True, database=None)


# Anything a shell can pass (surrogates stand for bytes that are not UTF-8) and what it cannot (NUL).
argument_text = st.one_of(
    st.text(st.characters(), max_size=30),
    st.sampled_from(["", "-", "--", "--out", "-h", ".", "..", "/", "/dev/zero", "/proc/self/mem", "decks",
                     "decks/test-deck.yaml", "dist/test-deck.apkg", "HEAD", "HEAD~99", "1.0.0", "9" * 40,
                     "a" * 300, "x" * 5000, "\udcff", "a\0b", "loop", "loop/x", "fifo.yaml", "~", "@{-1}",
                     "card-file", "manifest", "--json", "--format", "markdown", "--locked", "--manifest"]),
)
COMMANDS = ["validate", "build", "stats", "lint", "new", "release", "preview", "diff", "schema", "check-upgrade",
            "verify", "nonsense"]


@pytest.fixture(scope="module")
def fuzz_project(tmp_path_factory):
    root = tmp_path_factory.mktemp("fuzzargs")
    write(root / "decks" / "test-deck.yaml", MANIFEST)
    write(root / "cards" / "a.yaml", CARDS_A)
    write(root / "cards" / "b.yaml", CARDS_B)
    (root / "cards" / "media").mkdir()
    (root / "cards" / "media" / "insula.png").write_bytes(PNG)
    (root / "loop").symlink_to("loop")
    os.mkfifo(root / "fifo.yaml")
    subprocess.run(["git", "init", "-q"], cwd=root, check=True)
    subprocess.run(["git", "add", "-A", "cards", "decks"], cwd=root, check=True)
    subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "x"], cwd=root, check=True)
    return root


@pytest.mark.fuzz
@fuzz(250)
@given(command=st.sampled_from(COMMANDS), args=st.lists(argument_text, max_size=4))
def test_any_command_line(fuzz_project, monkeypatch, command, args):
    monkeypatch.chdir(fuzz_project)
    if command in ("check-upgrade", "verify") and any(a.endswith(".apkg") for a in args):
        args = [a for a in args if not a.endswith(".apkg")]  # the Anki engine: minutes, tested elsewhere
    assert_clean(run(command, *args, env={"SOURCE_DATE_EPOCH": "1700000000"}))


ENV_NAMES = ["SOURCE_DATE_EPOCH", "NEURODECK_CACHE_DIR", "TZ", "HOME", "XDG_CACHE_HOME", "LANG", "COLUMNS"]


@pytest.mark.fuzz
@fuzz(120)
@given(values=st.dictionaries(st.sampled_from(ENV_NAMES), st.one_of(
    st.text(st.characters(exclude_characters="\0", exclude_categories=("Cs",)), max_size=20),
    st.sampled_from(["", "0", "1700000000", "²", "-1", "/dev/null", "/proc", "/nonexistent/x", "9" * 30])),
    max_size=3), command=st.sampled_from(["validate", "build", "stats", "preview"]))
def test_any_environment(fuzz_project, monkeypatch, values, command):
    monkeypatch.chdir(fuzz_project)
    result = run(command, env=values)
    assert_clean(result, allowed=(0, 1))


def _json_values():
    return st.recursive(
        st.one_of(st.none(), st.booleans(), st.integers(-2 ** 70, 2 ** 70),
                  st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=12),
                  st.sampled_from(["1.0.0", "one", "2025-01-01", "basic", "x" * 64])),
        lambda children: st.one_of(st.lists(children, max_size=3),
                                   st.dictionaries(st.text(max_size=8), children, max_size=3)),
        max_leaves=6)


def _replace_somewhere(data, path: list[int], value):
    """Replace the value at a position chosen by `path` (indices into each level's keys)."""
    node = data
    for step in path:
        keys = list(node) if isinstance(node, dict) else list(range(len(node))) if isinstance(node, list) else []
        if not keys:
            break
        key = keys[step % len(keys)]
        child = node[key]
        if not isinstance(child, (dict, list)) or step == path[-1]:
            node[key] = value
            return
        node = child
    else:
        return


@pytest.fixture(scope="module")
def released_lock(fuzz_project):
    shutil.copytree(fuzz_project / "cards", fuzz_project / "lockcheck" / "cards")
    shutil.copytree(fuzz_project / "decks", fuzz_project / "lockcheck" / "decks")
    root = fuzz_project / "lockcheck"
    old = os.getcwd()
    os.chdir(root)
    try:
        assert run("release", "1.0.0", env={"SOURCE_DATE_EPOCH": "1700000000"}).exit_code == 0
    finally:
        os.chdir(old)
    return root, (root / "decks" / "test-deck.lock").read_text()


@pytest.mark.fuzz
@fuzz(200)
@given(path=st.lists(st.integers(0, 50), min_size=1, max_size=4), value=_json_values(),
       command=st.sampled_from([("validate",), ("build",), ("release", "2.0.0"), ("stats",)]))
def test_any_lock_contents(released_lock, monkeypatch, path, value, command):
    root, good = released_lock
    data = json.loads(good)
    _replace_somewhere(data, path, value)
    lock = root / "decks" / "test-deck.lock"
    lock.write_text(json.dumps(data, allow_nan=True))
    manifest = root / "decks" / "test-deck.yaml"
    manifest_text = manifest.read_text()
    monkeypatch.chdir(root)
    try:
        result = run(*command, env={"SOURCE_DATE_EPOCH": "1700000000"})
        assert_clean(result, allowed=(0, 1))
    finally:
        lock.write_text(good)
        manifest.write_text(manifest_text)


@pytest.mark.fuzz
@fuzz(25)
@given(command=st.sampled_from(["validate", "build", "new", "release", "diff", "preview", "stats"]),
       args=st.lists(st.one_of(st.binary(min_size=1, max_size=12).filter(lambda b: b"\0" not in b),
                               st.sampled_from([b"--out", b"\xff", b"loop", b"loop/x", b"fifo.yaml", b"a" * 300,
                                                b"x" * 5000, b"HEAD", b"2.0.0", b"/dev/zero"])), max_size=3),
       epoch=st.sampled_from([None, "1700000000", "\u00b2", "abc", ""]))
def test_any_command_line_in_a_real_process(fuzz_project, command, args, epoch):
    """The same through the real entry point (cli.run), with arguments as raw bytes."""
    extra = {} if epoch is None else {"SOURCE_DATE_EPOCH": epoch}
    proc = subprocess.run([sys.executable, "-m", "neurodeck", command, *args], cwd=fuzz_project,
                          env=env(**extra), capture_output=True, timeout=120)
    out = proc.stdout.decode("utf-8", "replace") + proc.stderr.decode("utf-8", "replace")
    assert proc.returncode in (0, 1, 2), out
    assert "Traceback" not in out
    if proc.returncode:
        assert LOCATED.search(proc.stderr.decode("utf-8", "replace")), out
