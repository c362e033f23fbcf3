"""Property-based tests: whatever the input, validate and build end with a message and exit code
0, 1 or 2, never a traceback. About 2,100 examples in all."""
from __future__ import annotations

import os
import shutil
import tempfile
import zipfile
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import CARDS_A, CARDS_B, MANIFEST, PNG, assert_passes_ankis_checks
from neurodeck.cli import main
from test_faults import leftovers

pytestmark = pytest.mark.fuzz


def fuzz(examples: int) -> settings:
    return settings(max_examples=examples, deadline=None, suppress_health_check=list(HealthCheck),
                    derandomize=True, database=None)

KEYS = ["id", "type", "question", "answer", "text", "extra", "source", "tags", "subtopic", "cards",
        "name", "namespace", "tag", "description", "output", "qestion", "<<"]
# Every Unicode category, including controls, surrogates excluded only because files must encode.
any_text = st.text(st.characters(exclude_categories=("Cs",)), max_size=40)
scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True), any_text,
                    st.sampled_from(["", " ", "no", "3.10", "~", "{{c1::x}}", "x" * 200_000]))
documents = st.recursive(
    scalars,
    lambda children: st.one_of(st.lists(children, max_size=4),
                               st.dictionaries(st.one_of(st.sampled_from(KEYS), any_text), children, max_size=5)),
    max_leaves=25,
)


def make_project(root: Path) -> None:
    (root / "decks").mkdir(parents=True)
    (root / "cards" / "media").mkdir(parents=True)
    (root / "decks" / "test-deck.yaml").write_text(MANIFEST)
    (root / "cards" / "a.yaml").write_text(CARDS_A)
    (root / "cards" / "b.yaml").write_text(CARDS_B)
    (root / "cards" / "media" / "insula.png").write_bytes(PNG)


def run_cli(root: Path, *args: str):
    old = os.getcwd()
    os.chdir(root)
    try:
        return CliRunner().invoke(main, list(args))
    finally:
        os.chdir(old)


def assert_clean_exit(result, allowed=(0, 1)) -> None:
    assert result.exit_code in allowed, (result.exit_code, result.output, result.exception)
    assert isinstance(result.exception, (SystemExit, type(None))), repr(result.exception)
    assert "Traceback" not in result.output


_built = {"count": 0, "checked": 0}


def _sample_with_anki(apkg: Path) -> None:
    """Every 5th package the fuzzer manages to build goes through Anki's own checks (all of them
    would take minutes; the other tests check every package they write)."""
    _built["count"] += 1
    if _built["count"] % 5 == 1:
        with tempfile.TemporaryDirectory() as tmp:
            assert_passes_ankis_checks(apkg.read_bytes(), Path(tmp))
        _built["checked"] += 1


def check_validate_and_build(root: Path) -> None:
    validated = run_cli(root, "validate")
    assert_clean_exit(validated)
    built = run_cli(root, "build", "--out", "dist")
    assert_clean_exit(built)
    assert built.exit_code == validated.exit_code or "lock" in built.output
    apkg = root / "dist" / "test-deck.apkg"
    if built.exit_code == 0:
        assert zipfile.ZipFile(apkg).testzip() is None
        _sample_with_anki(apkg)
    else:
        assert not apkg.exists() or zipfile.ZipFile(apkg).testzip() is None
    assert leftovers(root) == []


@fuzz(500)
@given(doc=documents)
def test_arbitrary_yaml_documents_as_card_files(doc):
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        make_project(root)
        (root / "cards" / "a.yaml").write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
        check_validate_and_build(root)


@fuzz(300)
@given(doc=documents)
def test_arbitrary_yaml_documents_as_manifests(doc):
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        make_project(root)
        (root / "decks" / "test-deck.yaml").write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
        check_validate_and_build(root)


def _mutations():
    position = st.floats(min_value=0, max_value=1)
    return st.one_of(
        st.tuples(st.just("delete-line"), position),
        st.tuples(st.just("duplicate-line"), position),
        st.tuples(st.just("replace"), position, any_text),
        st.tuples(st.just("insert"), position, st.sampled_from(["\t", "\r\n", "\x00", "\ufeff", "\x1b[31m", ": ",
                                                                "- ", "!!python/object:os.system ", "&a ", "*a",
                                                                "{{", "}}", "<script>", "\\(", "\u202e", "#"])),
        st.tuples(st.just("crlf")),
        st.tuples(st.just("bom")),
        st.tuples(st.just("bytes"), position, st.binary(min_size=1, max_size=8)),
        st.tuples(st.just("truncate"), position),
        st.tuples(st.just("binary"), st.binary(max_size=200)),
        st.tuples(st.just("folder")),
    )


def mutate(path: Path, ops) -> None:
    data = path.read_bytes()
    for op in ops:
        kind = op[0]
        if kind == "folder":
            path.unlink()
            path.mkdir()
            return
        at = int(op[1] * len(data)) if len(op) > 1 and isinstance(op[1], float) else 0
        if kind in ("delete-line", "duplicate-line"):
            lines = data.split(b"\n")
            i = min(int(op[1] * len(lines)), len(lines) - 1)
            lines[i:i + 1] = [] if kind == "delete-line" else [lines[i], lines[i]]
            data = b"\n".join(lines)
        elif kind == "replace":
            data = data[:at] + op[2].encode("utf-8", "surrogatepass") + data[at + len(op[2]):]
        elif kind == "insert":
            data = data[:at] + op[2].encode() + data[at:]
        elif kind == "crlf":
            data = data.replace(b"\n", b"\r\n")
        elif kind == "bom":
            data = b"\xef\xbb\xbf" + data
        elif kind == "bytes":
            data = data[:at] + op[2] + data[at:]
        elif kind == "truncate":
            data = data[:at]
        elif kind == "binary":
            data = op[1]
    path.write_bytes(data)


@fuzz(800)
@given(target=st.sampled_from(["cards/a.yaml", "cards/b.yaml", "decks/test-deck.yaml"]),
       ops=st.lists(_mutations(), min_size=1, max_size=4))
def test_mutations_of_valid_files(target, ops):
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        make_project(root)
        mutate(root / target, ops)
        check_validate_and_build(root)


@fuzz(500)
@given(ops=st.lists(_mutations(), min_size=1, max_size=3), locked=st.booleans())
def test_mutations_never_replace_a_good_package(ops, locked):
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        make_project(root)
        assert run_cli(root, "build", "--out", "dist").exit_code == 0
        good = (root / "dist" / "test-deck.apkg").read_bytes()
        lock = (root / "decks" / "test-deck.lock").read_bytes()
        mutate(root / "cards" / "a.yaml", ops)
        args = ["build", "--out", "dist"] + (["--locked"] if locked else [])
        result = run_cli(root, *args)
        assert_clean_exit(result)
        if result.exit_code != 0:
            assert (root / "dist" / "test-deck.apkg").read_bytes() == good
            assert (root / "decks" / "test-deck.lock").read_bytes() == lock
        shutil.rmtree(root / "dist")


def test_the_fuzzers_packages_were_sampled_by_anki():
    # Runs after the fuzz tests above (pytest keeps file order): some of their packages were built and checked.
    assert _built["checked"] >= 10, _built
