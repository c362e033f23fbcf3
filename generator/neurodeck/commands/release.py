"""`neurodeck release VERSION`: record a new release in the manifest and the lock, then rebuild."""
from __future__ import annotations

import datetime
import re
from pathlib import Path

from neurodeck.pipeline.build import BuildResult, build, compile_deck
from neurodeck.lockfile import build_time
from neurodeck.project import shown_path
from neurodeck.source.manifest import VERSION
from neurodeck.model import Location, Problem


def version_key(version: str) -> tuple[int, ...]:
    parts = [int(p) for p in version.split(".")]
    return tuple(parts + [0] * (4 - len(parts)))


def release(version: str, manifest_path: Path, out_dir: Path) -> tuple[BuildResult | None, list[Problem]]:
    """Refuse a version not newer than the last release; otherwise set it in the manifest, record
    it with today's date (UTC, or SOURCE_DATE_EPOCH) in the lock, and build."""
    where = Location(shown_path(manifest_path))
    if not VERSION.fullmatch(version):
        return None, [Problem(where, f"version '{version}' must be numbers separated by dots, e.g. 1.2.0")]
    compiled = compile_deck(manifest_path)
    last = compiled.old_lock.release["version"] if compiled.old_lock and compiled.old_lock.release else None
    if last is not None and version_key(version) <= version_key(last):
        return None, [Problem(where, f"version {version} is not newer than the last release, {last}",
                              "choose a higher version")]
    blocking = [p for p in compiled.problems if p.severity == "error" and "has not been released" not in p.message]
    if blocking:
        return None, blocking  # fix the deck first; nothing is changed
    date = datetime.datetime.fromtimestamp(build_time(), datetime.timezone.utc).date().isoformat()
    original = manifest_path.read_text(encoding="utf-8")
    manifest_path.write_text(_with_version(original, version), encoding="utf-8")
    result = build(manifest_path, out_dir, release={"version": version, "date": date})
    if not result.ok:
        manifest_path.write_text(original, encoding="utf-8")  # no half-made release
    return result, []


def _with_version(text: str, version: str) -> str:
    line = re.compile(r"^version:.*$", re.MULTILINE)
    if line.search(text):
        return line.sub(f"version: {version}", text, count=1)
    return re.sub(r"^(name:.*\n)", rf"\g<1>version: {version}\n", text, count=1, flags=re.MULTILINE)
