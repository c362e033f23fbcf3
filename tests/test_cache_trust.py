"""No code from a project ever runs: the cache lives outside the project, holds plain values, and
an entry that neurodeck did not write for its key is ignored, never loaded and never a crash."""
from __future__ import annotations

import hashlib
import json
import os
import pickle
import shutil
import subprocess
import sys
from pathlib import Path

import platformdirs
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import REPO
from neurodeck.cli import main
from neurodeck.pipeline import stamps
from neurodeck.pipeline.build import build, compile_deck
from neurodeck.pipeline.store import cache_root

MANIFEST = Path("decks/test-deck.yaml")


class Planted:
    """Unpickling this creates the file `path`: what an attacker's entry would run."""

    def __init__(self, path: str):
        self.path = path

    def __reduce__(self):
        return (open, (self.path, "w"))


def planted_pickle(marker: Path) -> bytes:
    payload = pickle.dumps(Planted(str(marker)))
    return b"NDC1" + hashlib.sha256(payload).digest() + payload  # the old entry format, checksum included


def tree(folder: Path) -> dict[str, tuple[int, bytes]]:
    return {str(p.relative_to(folder)): (p.stat().st_mtime_ns, p.read_bytes() if p.is_file() else b"")
            for p in sorted(folder.rglob("*"))}


def entries() -> list[Path]:
    return [p for p in (cache_root() / "files").rglob("*") if p.is_file()]


def entry_like(draw_bytes: bytes, choice: int, marker: Path, real: list[bytes]) -> bytes:
    if choice == 0:
        return planted_pickle(marker)
    if choice == 1:
        return draw_bytes
    if choice == 2:  # our magic and a made-up seal, over a pickle or plain JSON
        return b"NDJ1" + draw_bytes[:32].ljust(32, b"\0") + (pickle.dumps(Planted(str(marker))) if draw_bytes[:1] < b"\x80"
                                                             else json.dumps({"notes": []}).encode())
    if choice == 3:  # a real entry, truncated or with a byte flipped
        blob = real[len(draw_bytes) % len(real)]
        cut = len(draw_bytes) % len(blob)
        return blob[:cut] + bytes([blob[cut] ^ 1]) + blob[cut + 1:] if draw_bytes else blob[:cut]
    return real[len(draw_bytes) % len(real)]  # 4: another key's real entry (foreign here)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(plants=st.lists(st.tuples(st.binary(max_size=300), st.integers(0, 4)), min_size=1, max_size=6),
       into_project=st.booleans())
def test_planted_damaged_and_foreign_entries_are_never_run_or_used(project, tmp_path, plants, into_project):
    marker = tmp_path / "code-ran"
    dist = project / "dist"
    shutil.rmtree(dist, ignore_errors=True)
    (project / "decks" / "test-deck.lock").unlink(missing_ok=True)
    shutil.rmtree(cache_root(), ignore_errors=True)
    good = build(MANIFEST, dist, now=1_700_000_000)
    assert good.ok
    real = sorted(p.read_bytes() for p in entries())
    assert len(real) == 2
    # Plant in the cache folder, and where a repository could ship files: the project itself.
    targets = entries() + [p for p in (cache_root() / "stamps").glob("*") if p.is_file()]
    if into_project:
        for path in list(targets):
            copy = project / ".neurodeck-cache" / path.relative_to(cache_root())
            copy.parent.mkdir(parents=True, exist_ok=True)
            targets.append(copy)
    for i, path in enumerate(targets):
        data, choice = plants[i % len(plants)]
        path.write_bytes(entry_like(data, choice, marker, real))

    checked = compile_deck(MANIFEST, now=1_700_000_000)
    assert checked.ok and not marker.exists()
    again = CliRunner().invoke(main, ["build"])
    assert again.exit_code == 0, again.output
    assert not marker.exists()
    assert (dist / "test-deck.apkg").read_bytes() == good.output.read_bytes()


def test_validate_writes_nothing_into_the_project(project):
    before = tree(project)
    done = CliRunner().invoke(main, ["validate"])
    assert done.exit_code == 0, done.output
    assert tree(project) == before
    assert entries()  # it did use the cache, in the cache folder


def test_the_cache_is_in_the_users_cache_folder_unless_chosen(monkeypatch, tmp_path):
    assert cache_root() == Path(os.environ["NEURODECK_CACHE_DIR"])
    monkeypatch.delenv("NEURODECK_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache_root() == Path(platformdirs.user_cache_dir("neurodeck", appauthor=False))
    if sys.platform.startswith("linux"):
        assert cache_root() == tmp_path / "xdg" / "neurodeck"


def test_the_secret_that_seals_entries_is_the_users_alone(project):
    assert build(MANIFEST, project / "dist").ok
    secret = cache_root() / "secret"
    assert len(secret.read_bytes()) == 32 and secret.stat().st_mode & 0o077 == 0
    # a new secret (another user's cache, or a copied one) makes every entry a miss, not an error
    secret.write_bytes(os.urandom(32))
    assert stamps.up_to_date(MANIFEST, project / "dist") is None
    assert build(MANIFEST, project / "dist").ok


def test_an_edit_in_any_module_or_data_file_of_the_package_changes_the_code_key(tmp_path):
    source = tmp_path / "src"
    shutil.copytree(REPO / "generator" / "neurodeck", source / "neurodeck",
                    ignore=shutil.ignore_patterns("__pycache__"))

    def key() -> str:
        done = subprocess.run([sys.executable, "-c", "from neurodeck.pipeline.stamps import code_key; print(code_key())"],
                              capture_output=True, text=True, check=True,
                              env=dict(os.environ, PYTHONPATH=str(source), PYTHONDONTWRITEBYTECODE="1"))
        return done.stdout.strip()

    first = key()
    assert key() == first
    keys = {first}
    for path in ("render/markdown.py", "commands/schemas/card-file.schema.json", "apkg/notetypes.py"):
        with open(source / "neurodeck" / path, "a") as f:
            f.write("\n")
        keys.add(key())
    (source / "neurodeck" / "commands" / "new_data.txt").write_text("a new data file")
    keys.add(key())
    # the key is cached under the files' stat: an edit of the same size that even puts the
    # modification time back must still change it
    edited = source / "neurodeck" / "commands" / "new_data.txt"
    before = edited.stat()
    edited.write_text("A new data file")
    os.utime(edited, ns=(before.st_atime_ns, before.st_mtime_ns))
    keys.add(key())
    assert len(keys) == 6
    cached = source / "neurodeck" / "render" / "__pycache__"
    cached.mkdir()
    (cached / "markdown.cpython-311.pyc").write_bytes(b"bytecode is not source")
    assert key() in keys
