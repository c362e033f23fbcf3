"""Shared fixtures: a small card project in a temporary folder, and real-Anki helpers."""
from __future__ import annotations

import base64
import functools
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent

# ---- what the machine can do -------------------------------------------------------------------
# A test that needs root (to mount file systems), a browser or the package index is skipped, with
# the reason, where that is missing (a device node, too, needs root: test_inputs.py). `.ci/run` has all three and sets NEURODECK_REQUIRE_ALL=1,
# which turns every skip into a failure, so nothing is silently left out there.

REQUIRE_ALL = os.environ.get("NEURODECK_REQUIRE_ALL") == "1"

# Where Chromium or Chrome usually is: Debian, Ubuntu (the deb or Google's), macOS.
BROWSERS = ["chromium", "google-chrome", "google-chrome-stable", "chromium-browser",
            "/Applications/Google Chrome.app/Contents/MacOS/Google Chrome",
            "/Applications/Chromium.app/Contents/MacOS/Chromium"]


def chromium_path() -> str | None:
    """The browser for the preview tests: $NEURODECK_CHROMIUM, else the first of BROWSERS found."""
    if os.environ.get("NEURODECK_CHROMIUM"):
        return os.environ["NEURODECK_CHROMIUM"]
    return next((found for name in BROWSERS if (found := shutil.which(name))), None)


@functools.cache
def _can_mount() -> bool:
    if not hasattr(os, "geteuid") or os.geteuid() != 0 or not shutil.which("mount"):
        return False
    with tempfile.TemporaryDirectory() as folder:  # root in a container may still lack the right
        if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", folder],
                          capture_output=True).returncode != 0:
            return False
        subprocess.run(["umount", "-l", folder], capture_output=True)
    return True


@functools.cache
def _index_reachable() -> bool:
    done = subprocess.run([sys.executable, "-m", "pip", "index", "versions", "pip", "--timeout", "10",
                           "--retries", "1"], capture_output=True)
    return done.returncode == 0


@pytest.fixture(scope="session")
def chromium() -> str:
    """The browser's executable, or a skip saying how to get one."""
    path = chromium_path()
    if path is None or not Path(path).exists():
        pytest.skip(f"needs Chromium or Chrome: none at {path}" if path else
                    "needs Chromium or Chrome: install one (Debian: apt-get install chromium) or set "
                    "NEURODECK_CHROMIUM to its executable")
    return path


@pytest.fixture(scope="session")
def mounts() -> None:
    """Root's mount(8), for full-disk and read-only file systems; a skip without it."""
    if not _can_mount():
        pytest.skip("needs root with permission to mount (tmpfs and bind mounts); .ci/run runs as root")


@pytest.fixture(scope="session")
def package_index() -> None:
    """The package index pip is configured for; a skip when it cannot be reached."""
    if not _index_reachable():
        pytest.skip("needs the package index (pip index versions pip failed)")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if REQUIRE_ALL and report.skipped and not hasattr(report, "wasxfail"):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        report.outcome = "failed"
        report.longrepr = f"NEURODECK_REQUIRE_ALL=1 turns this skip into a failure: {reason}"


# A 1x1 PNG; real image bytes so the content check accepts it.
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)

MANIFEST = """\
name: Test Deck
namespace: test-deck
tag: td
description: A *small* deck for tests.
cards: [cards/*.yaml]
output: test-deck.apkg
"""

CARDS_A = """\
subtopic: Mirror Neurons
tags: [motor-system]
cards:
  - id: mn-discovery
    question: Where were mirror neurons first recorded?
    answer: In area **F5** of the macaque ventral premotor cortex.
    extra: Single-unit recordings.
    source: di Pellegrino et al. 1992, Exp Brain Res 91:176
    tags: [macaque]
  - id: mn-f5-cloze
    type: cloze
    text: "Mirror neurons were first recorded in area {{c1::F5::a premotor area}} of the {{c2::macaque}}."
    source: Rizzolatti & Craighero 2004
  - id: mn-term
    type: reversed
    question: Mirror neuron
    answer: A neuron that fires both when acting and when watching the same action.
    source: Rizzolatti & Craighero 2004
"""

CARDS_B = """\
subtopic: Neuropeptides
cards:
  - id: ot-site
    type: type-in
    question: Which hypothalamic nucleus besides the paraventricular nucleus makes oxytocin?
    answer: Supraoptic nucleus
    source: Kandel et al. 2021
  - id: ot-image
    question: "Which region is shown? ![insula](media/insula.png)"
    answer: no
    extra: "Maths: \\\\(x_1 < y\\\\) stays."
    source: "3.10"
"""


def repack(package: Path, out: Path, edit: Callable[[Path], None]) -> Path:
    """`package` unpacked into a folder beside `out`, `edit` applied to that folder (its collection,
    media map and files), and zipped again as `out`: a package as a broken or hostile exporter
    could write it."""
    import zipfile

    unpacked = out.with_name(out.stem + "-unpacked")
    with zipfile.ZipFile(package) as zf:
        zf.extractall(unpacked)
    edit(unpacked)
    with zipfile.ZipFile(out, "w") as zf:
        for path in sorted(unpacked.iterdir()):
            zf.write(path, path.name)
    shutil.rmtree(unpacked)
    return out


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


@pytest.fixture(autouse=True)
def cache_folder(tmp_path_factory, monkeypatch) -> Path:
    """Each test caches in a folder of its own, never in the user's cache folder."""
    folder = tmp_path_factory.mktemp("neurodeck-cache")
    monkeypatch.setenv("NEURODECK_CACHE_DIR", str(folder))
    return folder


@pytest.fixture
def project(tmp_path, monkeypatch) -> Path:
    """A small project (5 notes of every type, one image) as the working folder."""
    root = tmp_path / "proj"
    write(root / "decks" / "test-deck.yaml", MANIFEST)
    write(root / "cards" / "a.yaml", CARDS_A)
    write(root / "cards" / "b.yaml", CARDS_B)
    (root / "cards" / "media").mkdir()
    (root / "cards" / "media" / "insula.png").write_bytes(PNG)
    monkeypatch.chdir(root)
    return root


@pytest.fixture
def bundled(tmp_path, monkeypatch) -> Path:
    """A temporary copy of the bundled project, so tests never touch the committed lock."""
    root = tmp_path / "bundled"
    for name in ("cards", "decks"):
        shutil.copytree(REPO / name, root / name)
    monkeypatch.chdir(root)
    return root


def release(project: Path, name: str, now: int) -> Path:
    """Build the fixture project's deck and keep a copy of the package as `<name>.apkg`."""
    from neurodeck.pipeline.build import build

    result = build(Path("decks/test-deck.yaml"), project / "dist", now=now)
    assert result.ok, [p.format() for p in result.problems]
    target = project / f"{name}.apkg"
    shutil.copy(result.output, target)
    return target


def alter_basic_note_type(monkeypatch, change) -> None:
    """Build with the basic note type replaced by `change(basic)`, as a later code change would."""
    from neurodeck.apkg import notetypes

    original = notetypes.note_types

    def altered(namespace):
        types = original(namespace)
        types["basic"] = change(types["basic"])
        return types

    monkeypatch.setattr("neurodeck.pipeline.build.note_types", altered)


# ---- real Anki -------------------------------------------------------------------------------

OLD_ANKI = "2.1.66"  # the oldest engine we support (README, "For students")


@pytest.fixture(scope="session")
def old_anki() -> str:
    """The Python of a virtual environment holding the oldest supported Anki engine (.ci/run
    makes it; $NEURODECK_OLD_ANKI points elsewhere). Missing, the test is skipped with the
    reason (a failure under NEURODECK_REQUIRE_ALL=1, like the other things a machine may lack)."""
    python = os.environ.get("NEURODECK_OLD_ANKI") or str(REPO / f".venv-anki-{OLD_ANKI}" / "bin" / "python")
    if not Path(python).exists():
        pytest.skip(f"needs Anki {OLD_ANKI}: none at {python}: python3.11 -m venv .venv-anki-{OLD_ANKI} && "
                    f".venv-anki-{OLD_ANKI}/bin/pip install anki=={OLD_ANKI} (as .ci/run and ci.yml do)")
    return python


@pytest.fixture(autouse=True)
def every_package_passes_ankis_checks(request, monkeypatch, tmp_path_factory):
    """Every package a test writes is imported into a fresh collection and must pass Anki's own
    integrity and media checks. Fuzz tests, which write thousands, check a sample themselves."""
    from neurodeck.apkg import files as package

    if request.node.get_closest_marker("fuzz"):
        yield
        return

    built: dict[str, bytes] = {}
    commit = package.commit

    def recording_commit(tmp, target):
        if Path(target).suffix == ".apkg":
            data = Path(tmp).read_bytes()
            built.setdefault(hashlib.sha256(data).hexdigest(), data)
        commit(tmp, target)

    monkeypatch.setattr(package, "commit", recording_commit)
    yield
    for data in built.values():
        assert_passes_ankis_checks(data, tmp_path_factory.mktemp("integrity"))


def assert_passes_ankis_checks(data: bytes, folder: Path) -> None:
    from anki.collection import Collection

    apkg = folder / "deck.apkg"
    apkg.write_bytes(data)
    col = Collection(str(folder / "collection.anki2"))
    try:
        log = import_package(col, apkg)
        assert not log.conflicting
        assert col.fix_integrity() == ("Database rebuilt and optimized.", True)
        check = col.media.check()
        assert list(check.missing) == [] and list(check.unused) == []
    finally:
        col.close()


@pytest.fixture
def collection(tmp_path):
    from anki.collection import Collection

    (tmp_path / "student").mkdir()
    col = Collection(str(tmp_path / "student" / "collection.anki2"))
    yield col
    col.close()


def import_package(col, path: Path):
    """Import as the desktop dialog does by default; returns the import log."""
    from anki.collection import ImportAnkiPackageRequest

    options = col._backend.get_import_anki_package_presets()
    response = col.import_anki_package(ImportAnkiPackageRequest(package_path=str(path), options=options))
    col.models._clear_cache()  # the importer does not refresh the Python-side cache
    return response.log


def study_all(col) -> int:
    """Answer every card once through the scheduler, as the desktop reviewer does."""
    from anki.scheduler.v3 import CardAnswer

    answered = 0
    for cid in col.find_cards(""):
        card = col.get_card(cid)
        card.start_timer()
        states = col._backend.get_scheduling_states(card.id)
        col.sched.answer_card(col.sched.build_answer(card=card, states=states, rating=CardAnswer.EASY))
        answered += 1
    return answered


# ---- hypothesis profiles -------------------------------------------------------------------------
# Property tests that do not set max_examples themselves take it from the profile named by
# NEURODECK_FUZZ: "ci" in .ci/run (thousands of examples), "dev" (the default) for quick local runs.
from hypothesis import settings as _settings  # noqa: E402

_settings.register_profile("dev", max_examples=60)
_settings.register_profile("ci", max_examples=2000)
_settings.load_profile(__import__("os").environ.get("NEURODECK_FUZZ", "dev"))
