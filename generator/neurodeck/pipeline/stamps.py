"""Is a deck's output already up to date? A light module: no YAML, Markdown or SQLite imports,
so that `neurodeck build` with nothing changed answers in a fraction of a second.

A stamp records, after each successful build, a fingerprint of everything the package depends on
(neurodeck's code, the manifest, the lock, the card files found by its globs, the images used)
and the package's sha256, in the user's cache folder (store.py). Nothing here is trusted blindly:
any mismatch or damage means "rebuild".
"""
from __future__ import annotations

import functools
import hashlib
import os
import re
import sys
from pathlib import Path

from neurodeck.pipeline.store import Store
from neurodeck.project import glob_paths, project_root, read_bytes

_CODE_KEY: str | None = None
_PACKAGE = Path(__file__).resolve().parent.parent


def code_key() -> str:
    """Identifies the code that renders and packages: every module and data file of neurodeck
    (sub-packages included), and its renderers' versions."""
    global _CODE_KEY
    if _CODE_KEY is None:
        digest = hashlib.sha256(_files_key(_PACKAGE).encode())
        for package, version in sorted(versions().items()):
            digest.update(f"{package}={version}".encode())
        _CODE_KEY = digest.hexdigest()
    return _CODE_KEY


def _files_key(folder: Path) -> str:
    """The sha256 of every file of the package under `folder` (names and contents).

    Hashing them all (a vendored MathJax among them) would cost more than the rest of a
    nothing-changed build, so the result is kept in the cache, sealed under the files' names,
    sizes, inodes and modification and change times: any edit, added or removed file (or a new
    install) changes that signature, and the files are hashed again."""
    files = _package_files(str(folder))
    signature = hashlib.sha256(str(folder).encode())
    for name, path in files:
        info = os.stat(path)
        signature.update(f"\0{name}\0{info.st_size}\0{info.st_ino}\0{info.st_mtime_ns}\0{info.st_ctime_ns}".encode())
    key = f"code\0{signature.hexdigest()}"
    try:
        store = Store.open()
        record = store.folder / "code" / f"{hashlib.sha256(str(folder).encode()).hexdigest()[:24]}.json"
        cached = store.read(record, key)
    except OSError:
        store, cached = None, None
    if isinstance(cached, str):
        return cached
    digest = hashlib.sha256()
    for name, path in files:
        digest.update(name.encode() + b"\0")
        with open(path, "rb") as f:
            digest.update(hashlib.sha256(f.read()).digest())
    if store is not None:
        store.write(record, key, digest.hexdigest())
    return digest.hexdigest()


def _package_files(folder: str, prefix: str = "") -> list[tuple[str, str]]:
    """(name relative to the package, with '/', path) of every file of the package under
    `folder`, sorted by path; not the bytecode caches. Strings, not Paths: this runs on every
    build, the up-to-date ones too."""
    found = []
    with os.scandir(folder) as entries:
        for entry in entries:
            if entry.is_dir(follow_symlinks=False):
                if entry.name != "__pycache__":
                    found += _package_files(entry.path, f"{prefix}{entry.name}/")
            elif entry.is_file() and not entry.name.endswith((".pyc", ".pyo")):
                found.append((f"{prefix}{entry.name}", entry.path))
    return sorted(found, key=lambda named: named[1])


DEPENDENCIES = ("neurodeck", "genanki", "cmarkgfm", "nh3", "pyyaml")


@functools.cache
def versions() -> dict[str, str]:
    """The installed versions of neurodeck and the libraries its output depends on.

    Read from the names of the `*.dist-info` folders on sys.path, first match first, as
    importlib.metadata finds them; importing importlib.metadata alone takes longer than a
    large deck's whole cache check. Anything not found that way is asked of it."""
    found: dict[str, str] = {}
    for entry in sys.path:
        try:
            names = os.listdir(entry or ".")
        except OSError:
            continue
        for name in names:
            if name.endswith(".dist-info") and "-" in name:
                package, installed = name[: -len(".dist-info")].split("-", 1)
                found.setdefault(re.sub(r"[-_.]+", "-", package).lower(), installed)
    result = {}
    for package in DEPENDENCIES:
        if package not in found:
            from importlib.metadata import PackageNotFoundError, version

            try:
                found[package] = version(package)
            except PackageNotFoundError:
                found[package] = "unknown"
        result[package] = found[package]
    return result


def _stamp(manifest_path: Path, out_dir: Path) -> tuple[Store, Path, str]:
    key = hashlib.sha256(f"{manifest_path.resolve()}\0{out_dir.resolve()}".encode()).hexdigest()[:24]
    store = Store.open()
    return store, store.folder / "stamps" / f"{key}.json", key


def _file_digest(path: Path) -> str:
    return hashlib.sha256(read_bytes(path, 1 << 40)).hexdigest()  # packages too: regular files only


def matched_files(manifest_path: Path, globs: list[str]) -> list[str]:
    """The card files the manifest's globs match, in build order."""
    root = project_root(manifest_path)
    files: dict[str, None] = {}
    for pattern in globs:
        for match in glob_paths(root, pattern) or ():
            files.setdefault(match, None)
    return list(files)


def _lock_digest(manifest_path: Path) -> str:
    lock_path = manifest_path.with_suffix(".lock")
    return _file_digest(lock_path) if lock_path.exists() else "no lock"


def fingerprint(manifest_path: Path, inputs: dict[str, str]) -> str:
    """The fingerprint of a deck's inputs: code, manifest, lock, and `inputs` (path -> sha256)."""
    digest = hashlib.sha256(code_key().encode())
    digest.update(_file_digest(manifest_path).encode())
    digest.update(_lock_digest(manifest_path).encode())
    for path, file_digest in inputs.items():
        digest.update(f"\0{path}\0{file_digest}".encode())
    return digest.hexdigest()


def up_to_date(manifest_path: Path, out_dir: Path) -> dict | None:
    """The stored report of the last build if nothing it depends on changed, else None."""
    try:
        store, stamp_path, key = _stamp(manifest_path, out_dir)
        stamp = store.read(stamp_path, key)
        if stamp is None:
            return None
        inputs: dict[str, str] = stamp["inputs"]
        if [p for p in inputs if p not in stamp["media"]] != matched_files(manifest_path, stamp["globs"]):
            return None
        now = {path: _file_digest(Path(path)) for path in inputs}
        # The stamp's key is the resolved out_dir: the same package, named from this folder,
        # which may not be the one the last build ran in.
        output = out_dir / Path(stamp["report"]["output"]).name
        if fingerprint(manifest_path, now) != stamp["fingerprint"]:
            return None
        if _file_digest(output) != stamp["report"]["sha256"]:
            return None
        return dict(stamp["report"], output=str(output), manifest=str(manifest_path))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def record(manifest_path: Path, out_dir: Path, globs: list[str], inputs: dict[str, str], media: list[str],
           report: dict) -> None:
    """Remember a successful build made from `inputs` (path -> sha256 as read by the build).

    Best effort: a cache that cannot be written is no error.
    """
    try:
        stamp = {"fingerprint": fingerprint(manifest_path, inputs), "globs": globs, "inputs": inputs,
                 "media": media, "report": report, "lock": _lock_digest(manifest_path)}
        store, path, key = _stamp(manifest_path, out_dir)
        store.write(path, key, stamp)
    except OSError:
        pass


def written_with_lock(manifest_path: Path, out_dir: Path, output: Path) -> bool:
    """Whether `output` is the package that the last build of `manifest_path` into `out_dir`
    wrote, and the lock on disk the one written with it: every note and note type in that
    package then has its `mod` from this lock, so the package shows no `mod` the lock does not."""
    try:
        store, stamp_path, key = _stamp(manifest_path, out_dir)
        stamp = store.read(stamp_path, key)
        if stamp is None or Path(stamp["report"]["output"]).name != output.name:
            return False
        return stamp["lock"] == _lock_digest(manifest_path) and _file_digest(output) == stamp["report"]["sha256"]
    except (OSError, ValueError, KeyError, TypeError):
        return False
