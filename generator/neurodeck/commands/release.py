"""`neurodeck release VERSION`: record a new release in the manifest and the lock, then rebuild."""
from __future__ import annotations

import datetime
import re
from pathlib import Path

from neurodeck.apkg import files
from neurodeck.lockfile import build_time, version_key
from neurodeck.model import Location, Problem
from neurodeck.pipeline.build import BuildResult, build, compile_deck
from neurodeck.project import shown_path
from neurodeck.source.yamlnodes import read_text


def release(version: str, manifest_path: Path, out_dir: Path) -> tuple[BuildResult | None, list[Problem]]:
    """Refuse a version not newer than the last release; otherwise set it in the manifest, record
    it with today's date (UTC, or SOURCE_DATE_EPOCH) in the lock, and build.

    The whole release holds the project's lock, so readers (which take it shared) see the old
    manifest and lock or the new ones, never one of each; a failed build puts the manifest back."""
    shown = shown_path(manifest_path)
    where = Location(shown)
    key = version_key(version)
    if key is None:
        return None, [Problem(where, f"version '{version[:40]}' must be numbers separated by dots, e.g. 1.2.0",
                              "at most four numbers of up to nine digits each")]
    with files.exclusive(manifest_path):
        compiled = compile_deck(manifest_path)
        last = compiled.old_lock.release["version"] if compiled.old_lock and compiled.old_lock.release else None
        if last is not None and key <= (version_key(last) or ()):
            return None, [Problem(where, f"version {version} is not newer than the last release, {last}",
                                  "choose a higher version")]
        blocking = [p for p in compiled.problems
                    if p.severity == "error" and "has not been released" not in p.message]
        if blocking:
            return None, blocking  # fix the deck first; nothing is changed
        original, problems = read_text(manifest_path, shown)
        if original is None:
            return None, problems
        date = datetime.datetime.fromtimestamp(build_time(), datetime.timezone.utc).date().isoformat()
        try:
            files.write_atomic(manifest_path, _with_version(original, version).encode("utf-8"))
        except OSError as exc:
            return None, [files.write_problem(exc, manifest_path)]
        result = build(manifest_path, out_dir, release={"version": version, "date": date})
        if not result.ok or result.output is None:
            try:  # no half-made release
                files.write_atomic(manifest_path, original.encode("utf-8"))
            except OSError as exc:
                result.problems.append(files.write_problem(exc, manifest_path))
        return result, []


def _with_version(text: str, version: str) -> str:
    line = re.compile(r"^version:.*$", re.MULTILINE)
    if line.search(text):
        return line.sub(f"version: {version}", text, count=1)
    return re.sub(r"^(name:.*\n)", rf"\g<1>version: {version}\n", text, count=1, flags=re.MULTILINE)
