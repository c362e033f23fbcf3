"""A git revision of the project as a diff side: its sources exported to a temporary folder and
built with the current compiler. A revision is someone's commit: only safe members are written."""
from __future__ import annotations

import os
import subprocess
import tarfile
import tempfile
from pathlib import Path

from neurodeck.commands.diff.model import Snapshot
from neurodeck.commands.diff.read import read_package
from neurodeck.model import Location, Problem


class _GitError(Exception):
    pass


def _git(cwd: Path, *args: str) -> str:
    try:
        done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=False)
    except OSError as exc:  # git not installed, or cwd gone
        raise _GitError(f"cannot run git: {exc}") from exc
    if done.returncode != 0:
        raise _GitError(done.stderr.strip().splitlines()[-1] if done.stderr.strip() else f"git {args[0]} failed")
    return done.stdout


def load_revision(rev: str, cwd: Path) -> tuple[dict[str, Snapshot] | None, list[Problem]]:
    """Build every deck of a git revision with the current compiler, in a temporary folder."""
    where = Location(rev if len(rev) <= 80 else rev[:77] + "...")
    hint = "give a built .apkg, or a git revision (tag, branch or commit) of the project's repository"
    # never let an argument become a git option; git refuses names this long or with a NUL anyway
    if rev.startswith("-") or not rev.strip() or "\0" in rev or len(rev) > 1000:
        return None, [Problem(where, f"{where.path!r} is neither a file nor a git revision", hint)]
    try:
        top = Path(_git(cwd, "rev-parse", "--show-toplevel").strip())
        prefix = _git(cwd, "rev-parse", "--show-prefix").strip()
    except _GitError:
        what = "no such package" if rev.endswith(".apkg") else f"'{rev}' is not a file"
        return None, [Problem(where, f"{what}, and {cwd} is not inside a git repository", hint)]
    try:
        commit = _git(cwd, "rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}").strip()
    except _GitError:
        what = "no such package" if rev.endswith(".apkg") else f"'{rev}' is neither a file nor a git revision"
        return None, [Problem(where, what, hint)]
    with tempfile.TemporaryDirectory(prefix="neurodeck-diff-") as tmp:
        tree = Path(tmp) / "tree"
        try:
            _export(top, commit, prefix, tree)
        except _GitError as exc:
            return None, [Problem(where, f"cannot export revision '{rev}': {exc}")]
        return _build_all(rev, tree / prefix, Path(tmp) / "out")


def _export(top: Path, commit: str, prefix: str, into: Path) -> None:
    """`git archive COMMIT [-- PREFIX] | tar -x`, streamed, keeping only members safe to write."""
    into.mkdir(parents=True)
    command = ["git", "archive", "--format=tar", commit] + (["--", prefix] if prefix else [])
    with tempfile.TemporaryFile() as errors:  # a file, not a pipe: git can never block on it
        try:
            proc = subprocess.Popen(command, cwd=top, stdout=subprocess.PIPE, stderr=errors)
        except OSError as exc:
            raise _GitError(f"cannot run git: {exc}") from exc
        assert proc.stdout is not None  # stdout=PIPE
        try:
            with tarfile.open(fileobj=proc.stdout, mode="r|") as archive:
                for member in archive:
                    safe = _safe_member(member, into)
                    if safe is not None:
                        archive.extract(safe, into, set_attrs=False, **_no_filter())
            # tarfile stops at the end-of-archive marker; git may still be writing the record's
            # padding, and closing the pipe under it would kill it with SIGPIPE.
            while proc.stdout.read(1 << 16):
                pass
        except tarfile.TarError as exc:
            proc.kill()
            raise _GitError(str(exc)) from exc
        finally:
            proc.stdout.close()
            code = proc.wait()
        if code != 0:
            errors.seek(0)
            message = errors.read().decode(errors="replace").strip()
            raise _GitError(message.splitlines()[-1] if message else f"git archive failed (exit status {code})")


def _no_filter() -> dict:
    # The member was already checked by _safe_member; Python 3.12+ wants the filter named.
    return {"filter": "fully_trusted"} if hasattr(tarfile, "data_filter") else {}


def _safe_member(member: tarfile.TarInfo, into: Path) -> tarfile.TarInfo | None:
    """Files and folders inside the export only (a revision is someone's commit, not trusted)."""
    if hasattr(tarfile, "data_filter"):
        try:
            return tarfile.data_filter(member, str(into))
        except tarfile.FilterError:
            return None
    parts = Path(member.name).parts
    if os.path.isabs(member.name) or ".." in parts or not (member.isfile() or member.isdir()):
        return None
    return member


def _build_all(rev: str, project: Path, out: Path) -> tuple[dict[str, Snapshot] | None, list[Problem]]:
    from neurodeck.pipeline.build import build  # the compiler is heavy; only revisions need it

    manifests = sorted((project / "decks").glob("*.yaml"))
    if not manifests:
        return None, [Problem(Location(rev), f"revision '{rev}' has no deck manifests (decks/*.yaml)",
                              "run neurodeck diff from the project folder (the one holding decks/)")]
    snapshots: dict[str, Snapshot] = {}
    problems: list[Problem] = []
    for manifest in manifests:
        result = build(manifest, out)
        # Warnings (such as "released card is gone") repeat what the diff itself reports.
        problems += [_relocated(p, project, rev) for p in result.problems if p.severity == "error"]
        if result.ok and result.output is not None:
            snapshot, found = read_package(result.output, f"{rev}:{result.output.name}")
            problems += found
            if snapshot is not None:
                snapshots[snapshot.key] = snapshot
    return (None if problems else snapshots), problems


def _relocated(problem: Problem, project: Path, rev: str) -> Problem:
    """A problem in the temporary export, located as `REV:path/in/project:line:column`."""
    try:
        relative = Path(os.path.abspath(problem.location.path)).resolve().relative_to(project.resolve())
    except (ValueError, OSError):
        return problem
    where = problem.location._replace(path=f"{rev}:{relative.as_posix()}")
    return Problem(where, problem.message, problem.hint, problem.severity)
