"""The `neurodeck` command: each command parses its options, calls one function of the library
(`neurodeck.api`), prints, and picks the exit code.

Exit codes: 0 success, 1 invalid content (or a failed write), 2 usage error. Only this module
maps problems to exit codes. Heavy modules load when a command runs (through `neurodeck`'s lazy
attributes), so that --help and --version stay fast.
"""
from __future__ import annotations

import functools
import gc
import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, TextIO

import click

import neurodeck as nd

if TYPE_CHECKING:
    from neurodeck.pipeline.build import CompiledDeck

HELP_WIDTH = 80  # columns of --help at most (Click's default), also in the README


def examples(*pairs: tuple[str, str]) -> str:
    """A command's epilog: for each (command line, what it does), the description as a shell
    comment, then the command; a long command continues on the next line after a backslash.
    Click indents the epilog by 2 columns and keeps a paragraph that starts with \\b as written."""
    import shlex
    import textwrap

    lines = ["\b", "Examples:"]
    for command, what in pairs:
        lines += textwrap.wrap(what, HELP_WIDTH - 6, initial_indent="  # ", subsequent_indent="  # ")
        parts = [""]
        for word in shlex.split(command, posix=False):  # posix=False keeps the quotes
            if parts[-1] and len(parts[-1]) + 1 + len(word) > HELP_WIDTH - 10:
                parts.append("")
            parts[-1] = f"{parts[-1]} {word}".lstrip()
        lines.append("  " + " \\\n      ".join(parts))
    return "\n".join(lines)


class Command(click.Command):
    """A command whose epilog is made from `examples`, (command line, what it does) pairs, when
    its help is shown: wrapping every command's examples on import cost each run of neurodeck
    (--version and an up-to-date build among them) a few milliseconds."""

    def __init__(self, *args: Any, examples: tuple[tuple[str, str], ...] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.examples = examples

    def format_epilog(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        if self.examples and self.epilog is None:
            self.epilog = examples(*self.examples)
        super().format_epilog(ctx, formatter)


class Group(Command, click.Group):
    command_class = Command


INTIMACY = "decks/neurobiology-of-intimacy.yaml"  # the bundled deck's manifest, for examples

class SafePath(click.Path):
    """click.Path that first refuses a name neurodeck cannot use (project.unusable_path): a usage
    error instead of a traceback later."""

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        from neurodeck.project import unusable_path

        why = unusable_path(os.fspath(value)) if isinstance(value, (str, os.PathLike)) else None
        if why is not None:
            self.fail(f"{str(value)[:80]!r} {why}", param, ctx)
        return super().convert(value, param, ctx)


manifests_argument = click.argument(
    "manifests", nargs=-1, type=SafePath(exists=True, dir_okay=False, path_type=Path))


def format_option(command: Callable[..., None]) -> Callable[..., None]:
    """--format text|json, and --json as its shortcut, merged into one `fmt` argument."""
    @functools.wraps(command)
    def merged(*args: Any, json_flag: bool, fmt: str, **kwargs: Any) -> None:
        command(*args, fmt="json" if json_flag else fmt, **kwargs)

    shortcut = click.option("--json", "json_flag", is_flag=True, help="Same as --format json.")(merged)
    return click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
                        show_default=True, help="Report format on stdout; json is for CI.")(shortcut)


def _project() -> Path | None:
    """The project the working folder is in, relative to it ('.' at its root), said once on
    stderr when it is another folder; None outside any project."""
    root = nd.find_project()
    if root is None:
        return None
    shown = Path(os.path.relpath(root))
    meta = click.get_current_context().meta
    if shown != Path(".") and not meta.get("neurodeck.project_shown"):
        meta["neurodeck.project_shown"] = True
        click.echo(f"Using the project in {shown}{os.sep} ({root})", err=True)
    return shown


def _manifests(given: tuple[Path, ...]) -> list[Path]:
    if given:
        return list(given)
    root = _project()
    if root is None:
        raise click.UsageError("no decks/ folder here or in any folder above: this is not a neurodeck project; "
                               "start one with `neurodeck init --name NAME`, or name a manifest")
    found = nd.find_manifests(root)
    if not found:
        raise click.UsageError(f"no manifests given and none in {root / 'decks'}{os.sep}*.yaml; "
                               "start a deck with `neurodeck init --name NAME`, or name a manifest")
    return found


def _out(given: Path) -> Path:
    """--out as given (relative to here), or by default dist/ in the project's folder."""
    if click.get_current_context().get_parameter_source("out_dir") != click.core.ParameterSource.DEFAULT:
        return given
    return (_project() or Path(".")) / given


def _print_problems(problems: list[nd.Problem]) -> None:
    for problem in sorted(problems, key=lambda p: (p.location, p.message)):
        click.echo(problem.format(), err=True)


def _exit(ok: bool) -> NoReturn:
    sys.exit(0 if ok else 1)


@click.group(cls=Group, examples=(
    ('neurodeck init my-deck --name "My Deck"', "Start a project with example cards in a new folder"),
    ("neurodeck validate", "Check every deck in decks/, writing nothing"),
    ("neurodeck build", "Build every deck into dist/"),
    ("neurodeck build --locked", "In CI: fail, writing nothing, if a lock is out of date"),
    ("neurodeck lint", "Check the quality of every card"),
    ("neurodeck preview --open", "Show every card as Anki will, in a web browser"),
    ("neurodeck build --help", "A command's options and examples"),
), context_settings={"help_option_names": ["-h", "--help"], "max_content_width": HELP_WIDTH})
@click.version_option(nd.__version__, prog_name="neurodeck", message="%(prog)s %(version)s")
def main() -> None:
    """Compile YAML flashcards into Anki decks that update in place.

    Commands work from any folder of a project: the nearest folder, here or above, that holds
    decks/. Those that take MANIFESTS use every decks/*.yaml there when none is named.
    """
    try:
        os.getcwd()
    except OSError:  # deleted under the shell; every relative path would fail later
        from neurodeck.project import working_folder_problem

        _print_problems([p for p in [working_folder_problem()] if p is not None])
        sys.exit(2)


@main.command(examples=(
    ('neurodeck init my-deck --name "Neurobiology of Intimacy"', "Start a project in a new folder, my-deck"),
    ('neurodeck init --name "Pharmacology"', "Start a project in the current folder"),
))
@click.argument("directory", default=".", metavar="[DIR]", type=SafePath(file_okay=False, path_type=Path))
@click.option("--name", required=True, help="The deck's name in Anki.")
def init(directory: Path, name: str) -> None:
    """Start a project in DIR (default: here): a deck manifest, an example card file per
    card type and a .gitignore. Writes nothing if any of these files exists.

    The manifest's namespace (the deck's identity) is made from the name and a random suffix:
    never change it after a release.
    """
    written, problems = nd.init_project(name, directory)
    _print_problems(problems)
    if written is None:
        _exit(False)
    shown = os.path.relpath(directory)
    click.echo(f"Created a neurodeck project in {shown}{os.sep}:" if shown != "." else
               "Created a neurodeck project here:")
    for path in written:
        click.echo(f"  {Path(os.path.relpath(path, directory)).as_posix()}")
    manifest = Path(os.path.relpath(written[0], directory)).as_posix()
    output = f"dist/{written[0].stem}.apkg"
    click.echo("Next:")
    import shlex

    steps = ([f"cd {shlex.quote(shown)}"] if shown != "." else []) + [
        "neurodeck validate          # check the cards (after every edit)",
        f"neurodeck build             # write {output}; in Anki: File > Import",
        "neurodeck preview --open    # see every card as Anki will show it",
    ]
    for step in steps:
        click.echo(f"  {step}")
    click.echo(f"Never change the namespace in {manifest} after a release.")
    _exit(True)


@main.command(examples=(
    ("neurodeck adopt dist/neurobiology-of-intimacy.apkg",
     "Make a project of a deck's package (one exported from Anki, say), in a new folder named after the deck"),
    ('neurodeck adopt dist/neurobiology-of-intimacy.apkg --into adopted --name "Intimacy 2026"',
     "Choose the project's folder, and the deck's name for new students"),
))
@click.argument("package", type=SafePath(exists=True, dir_okay=False, path_type=Path))
@click.option("--into", "into", type=SafePath(file_okay=False, path_type=Path), metavar="DIR",
              help="The new project's folder: new, or empty (default: a new folder named after the deck).")
@click.option("--name", help="The deck's name in Anki (default: the package's deck).")
@format_option
def adopt(package: Path, into: Path | None, name: str | None, fmt: str) -> None:
    """Turn a deck your students already study, exported from Anki as PACKAGE.apkg, into a
    project that builds it without changing anything for them.

    Keeps every note's identity (GUID), every note type as Anki knows it, every field byte for
    byte, every tag and every media file's name; the lock counts them all as released. Reports,
    per card, formatting outside the allow-list (kept) and anything never kept (scripts, event
    handlers, remote addresses: removed). Writes nothing into a folder that is not empty.
    """
    report, problems = nd.adopt(package, into, name)
    _print_problems(problems + (report.warnings if report else []))
    if report is None:
        _exit(False)
    if fmt == "json":
        click.echo(json.dumps(report.to_json(), indent=2, sort_keys=True))
        _exit(True)
    root = Path(os.path.relpath(report.root))
    click.echo(f"Adopted {package.name} into {root}{os.sep}: {report.notes} notes ({report.cards} cards), "
               f"{len(report.card_files)} card files, {len(report.notetypes)} note types, {report.media} media files")
    for label, found in (("removed (never packaged)", report.removed),
                         ("formatting outside the allow-list, kept (keep_markup: true)", report.markup)):
        if found:
            click.echo(f"  {label}: {len(found)} cards")
            for card_id, whats in list(found.items())[:20]:
                click.echo(f"    {card_id}: {', '.join(dict.fromkeys(whats))}")
            if len(found) > 20:
                click.echo(f"    ... and {len(found) - 20} more (--json lists them all)")
    click.echo("Next:")
    import shlex

    for step in (f"cd {shlex.quote(str(root))}", "neurodeck build             # the same deck, for your students",
                 "neurodeck preview --open    # every card as Anki shows it"):
        click.echo(f"  {step}")
    _exit(True)


@main.command(examples=(
    ("neurodeck validate", "Check every deck in decks/"),
    (f"neurodeck validate {INTIMACY} --json", "Check one deck; problems with their file:line:column, as JSON"),
))
@manifests_argument
@format_option
def validate(manifests: tuple[Path, ...], fmt: str) -> None:
    """Check cards and manifests without writing anything."""
    results = [nd.validate(m) for m in _manifests(manifests)]
    _print_problems([p for r in results for p in r.problems])
    if fmt == "json":
        click.echo(json.dumps({"ok": all(r.ok for r in results),
                               "decks": [_deck_json(r) for r in results]}, indent=2, sort_keys=True))
    elif all(r.ok for r in results):
        for r in results:
            s = r.summary()
            click.echo(f"{s['deck']}: {s['notes']} notes, {s['cards']} cards: ok")
    _exit(all(r.ok for r in results))


@main.command(examples=(
    ("neurodeck build", "Build every deck in decks/ into dist/ and update the locks"),
    (f"neurodeck build {INTIMACY} --out release/", "Build one deck into release/"),
    ("neurodeck build --locked --format json", "In CI: fail, writing nothing, if a lock is missing or out of date"),
    ("neurodeck build --watch", "Rebuild on every save until Ctrl-C"),
))
@manifests_argument
@click.option("--out", "out_dir", type=SafePath(file_okay=False, path_type=Path), default=Path("dist"),
              show_default=True, help="Folder the packages are written to (by default in the project's folder).")
@click.option("--locked", is_flag=True, help="Fail, writing nothing, if a lock file is missing or would change.")
@click.option("--watch", "watching", is_flag=True, help="Rebuild whenever a card file, manifest or image changes.")
@click.option("--previous", metavar="RELEASE",
              help="The newest release (its .apkg, or its git tag): notes it shipped with newer mod times "
                   "than the lock get newer ones still, recorded in the lock, so Anki applies them.")
@format_option
def build(manifests: tuple[Path, ...], out_dir: Path, locked: bool, watching: bool, previous: str | None,
          fmt: str) -> None:
    """Validate, then build each manifest's deck into an .apkg and update its lock.

    A deck whose inputs did not change since its last build is left untouched.
    """
    out_dir = _out(out_dir)
    if watching:
        _watch(_manifests(manifests), out_dir, locked)
    if previous is not None and len(_manifests(manifests)) != 1:
        raise click.UsageError("--previous is one deck's release: name that deck's manifest")
    builds = []
    for manifest in _manifests(manifests):
        built = nd.build(manifest, out_dir, locked=locked, previous=previous)
        _print_problems(built.problems)
        builds.append(built)
    ok = all(b.ok for b in builds)
    if fmt == "json":
        click.echo(json.dumps({"ok": ok, "decks": [b.report for b in builds]}, indent=2, sort_keys=True))
    else:
        for b in builds:
            if b.up_to_date:
                r = b.report
                click.echo(f"{r['deck']}: {r['notes']} notes, {r['cards']} cards ({_counts(r)}): "
                           f"up to date, nothing written ({r['output']})")
            elif b.output is not None:
                _print_summary(b.report)
    _exit(ok)


@main.command(examples=(
    ("neurodeck stats", "Counts for every deck in decks/"),
    (f"neurodeck stats {INTIMACY} --json", "Counts for one deck, as JSON"),
))
@manifests_argument
@format_option
def stats(manifests: tuple[Path, ...], fmt: str) -> None:
    """Counts per subtopic, note type and tag, the cards Anki will make, sources and retired cards."""
    results = [nd.stats(m) for m in _manifests(manifests)]
    _print_problems([p for _, problems in results for p in problems])
    decks = [s for s, _ in results if s is not None]
    ok = len(decks) == len(results)
    if fmt == "json":
        click.echo(json.dumps({"ok": ok, "decks": decks}, indent=2, sort_keys=True))
    else:
        for s in decks:
            click.echo(f"{s['deck']}: {s['notes']} notes, {s['cards']} cards")
            for title, key in (("subtopic", "subtopics"), ("note type", "types")):
                for name, counts in s[key].items():
                    click.echo(f"  {title:<10} {name:<32} {counts['notes']:>5} notes {counts['cards']:>6} cards")
            share = round(100 * s["source_share"])
            click.echo(f"  sources: {s['with_source']} of {s['notes']} notes ({share}%)")
            click.echo(f"  retired: {len(s['retired'])}" + (f" ({', '.join(s['retired'])})" if s["retired"] else ""))
            click.echo("  tags: " + ", ".join(f"{t} {c}" for t, c in s["tags"].items()))
    _exit(ok)


@main.command(examples=(
    (f'neurodeck new "Pair Bonding" --manifest {INTIMACY}',
     "Start a new subtopic of the bundled deck"),
    ('neurodeck new "Pair Bonding"', "Only write the card file, into cards/ here"),
))
@click.argument("subtopic")
@click.option("--manifest", type=SafePath(exists=True, dir_okay=False, path_type=Path),
              help="Also add the new file to this manifest's cards, unless a glob there already takes it.")
def new(subtopic: str, manifest: Path | None) -> None:
    """Create cards/<subtopic>.yaml with one example card of each type, one with a sound."""
    root = _project()
    path, problems = nd.new_card_file(subtopic, root or Path("."), manifest)
    _print_problems(problems)
    if path is not None:
        click.echo(f"created {path}")
        if root is None and manifest is None:
            click.echo("This folder is in no project (no decks/ folder), so nothing builds these cards yet: "
                       "start one with `neurodeck init --name NAME` (its manifest takes cards/*.yaml).", err=True)
    _exit(not problems)


@main.command(examples=(
    ("neurodeck release 1.1.0", "Release the only deck in decks/ as 1.1.0 and rebuild it into dist/"),
    (f"neurodeck release 1.1.0 {INTIMACY}", "Name the deck when decks/ holds several"),
))
@click.argument("version")
@click.argument("manifest", required=False, type=SafePath(exists=True, dir_okay=False, path_type=Path))
@click.option("--out", "out_dir", type=SafePath(file_okay=False, path_type=Path), default=Path("dist"),
              show_default=True, help="Folder the packages are written to (by default in the project's folder).")
def release(version: str, manifest: Path | None, out_dir: Path) -> None:
    """Record release VERSION (newer than the last) in the manifest and lock, and rebuild.

    The cards it ships become permanent: from now on their ids may not be reused for other
    cards, and a card deleted afterwards stays deleted once the next release ships without it.
    Then commit the manifest and lock, and tag vVERSION.
    """
    out_dir = _out(out_dir)
    manifests = [manifest] if manifest else _manifests(())
    if len(manifests) != 1:
        raise click.UsageError("several manifests in decks/: name the one to release")
    result, problems = nd.release(version, manifests[0], out_dir)
    _print_problems(problems + (result.problems if result else []))
    if result is None or not result.ok:
        _exit(False)
    _print_summary(result.report())
    click.echo(f"Released {version}: commit {manifests[0]} and its lock, then tag v{version}.")


@main.command(examples=(
    ("neurodeck lint", "Lint every deck in decks/"),
    (f"neurodeck lint {INTIMACY} --format json", "Lint one deck; print the problems with their rule codes as JSON"),
))
@manifests_argument
@format_option
def lint(manifests: tuple[Path, ...], fmt: str) -> None:
    """Check card quality: answer length, question form, duplicates, abbreviations, sources.

    Change a rule's severity or limit under `lint:` in the manifest; silence a rule on one card
    with `lint: {ignore: [CODE], why: "..."}`. Exits 1 when an error-level rule fires.
    """
    results = [(manifest, nd.lint(manifest)) for manifest in _manifests(manifests)]
    _print_problems([p for _, problems in results for p in problems])
    ok = not any(nd.has_errors(problems) for _, problems in results)
    if fmt == "json":
        click.echo(json.dumps({"ok": ok, "decks": [
            {"manifest": str(manifest), "ok": not nd.has_errors(problems),
             "errors": sum(p.severity == "error" for p in problems),
             "warnings": sum(p.severity == "warning" for p in problems),
             "problems": [p.to_json() for p in problems]}
            for manifest, problems in results]}, indent=2, sort_keys=True))
    else:
        for manifest, problems in results:
            errors = sum(p.severity == "error" for p in problems)
            click.echo(f"{manifest}: {errors} errors, {len(problems) - errors} warnings"
                       + ("" if problems else ": ok"))
    _exit(ok)


@main.command(examples=(
    ("neurodeck preview", "Write a page per deck, such as dist/neurobiology-of-intimacy.html"),
    (f"neurodeck preview {INTIMACY} --out site/", "Write one deck's page into site/"),
    ("neurodeck preview --serve", "Serve the page on port 8765 of this machine only; it updates itself on every save"),
))
@manifests_argument
@click.option("--out", "out_dir", type=SafePath(file_okay=False, path_type=Path), default=Path("dist"),
              show_default=True, help="Folder the pages are written to (by default in the project's folder).")
@click.option("--open", "open_pages", is_flag=True, help="Open each page in the default web browser.")
@click.option("--serve", "serving", is_flag=True,
              help="Serve the pages on 127.0.0.1 instead of writing them: rebuilt on every save, and "
                   "the open page reloads by itself. Ctrl-C stops.")
@click.option("--port", type=click.IntRange(0, 65535), default=8765, show_default=True,
              help="Port for --serve (0 picks a free one).")
def preview(manifests: tuple[Path, ...], out_dir: Path, open_pages: bool, serving: bool, port: int) -> None:
    """Write one self-contained HTML page per deck showing every card as Anki will show it.

    Question and answer sides use the note types' templates and CSS; the page has a search box,
    night-mode and phone-width switches, and needs no network.
    """
    out_dir = _out(out_dir)
    if serving:
        _serve(_manifests(manifests), out_dir, port, open_pages)
    ok = True
    for manifest in _manifests(manifests):
        path, problems = nd.preview(manifest, out_dir)
        _print_problems(problems)
        if path is None:
            ok = False
            continue
        click.echo(f"{path} ({path.stat().st_size:,} bytes)")
        if open_pages and not _open_in_browser(path):
            click.echo(f"No browser could be opened (no display?): open {path.resolve().as_uri()} yourself.",
                       err=True)
    _exit(ok)


def _serve(manifests: list[Path], out_dir: Path, port: int, open_page: bool) -> NoReturn:
    import time

    def ready(url: str) -> None:
        click.echo(f"Serving the preview on {url} (Ctrl-C to stop)")
        if open_page and not _open_in_browser(url):
            click.echo(f"No browser could be opened (no display?): open {url} yourself.", err=True)

    def rebuilt(changed: bool, problems: list[nd.Problem]) -> None:
        _print_problems(problems)
        state = "page updated" if changed else ("errors; the page shows the last good build"
                                                 if nd.has_errors(problems) else "nothing changed")
        click.echo(f"[{time.strftime('%H:%M:%S')}] {state}", err=True)

    try:
        problems = nd.serve_preview(manifests, port, out_dir, on_ready=ready, on_rebuild=rebuilt)
    except KeyboardInterrupt:
        problems = []
    _print_problems(problems)
    if not problems:
        click.echo("Stopped serving.", err=True)
    _exit(not problems)


def _open_in_browser(path: Path | str) -> bool:
    """Open a file in the default browser; False when that cannot work (no display on Linux, no
    opener, or the opener failed), so the caller can say where the file is."""
    if sys.platform.startswith("linux") and not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        return False
    return click.launch(str(path.resolve()) if isinstance(path, Path) else path) == 0


@main.command(examples=(
    ("neurodeck diff HEAD~1 HEAD", "What the last commit changes for students"),
    ("neurodeck diff HEAD dist/neurobiology-of-intimacy.apkg",
     "The last commit against the package built from the working tree"),
    ("neurodeck diff HEAD~1 HEAD --format markdown", "Release notes in Markdown (name the last release's tag as OLD)"),
))
@click.argument("old")
@click.argument("new")
@click.option("--format", "fmt", type=click.Choice(["text", "markdown", "json"]), default="text",
              show_default=True, help="text for a terminal, markdown for release notes, json for tools.")
@click.option("--json", "json_flag", is_flag=True, help="Same as --format json.")
def diff(old: str, new: str, fmt: str, json_flag: bool) -> None:
    """Compare two releases: notes added, changed (word by word), removed, retired and moved, and
    note-type changes, with warnings about what Anki will not carry to existing users.

    OLD and NEW are each a built .apkg or a git revision of the project (a tag, branch or commit:
    its sources are built with this compiler in a temporary folder).
    """
    diffs, problems = nd.compare(old, new, _project() or Path("."))
    _print_problems(problems)
    if diffs is None:
        _exit(False)
    click.echo(nd.format_diff(diffs, "json" if json_flag else fmt), nl=False)  # type: ignore[arg-type]
    _exit(True)


@main.command(examples=(
    ("neurodeck schema card-file", "The schema of card files, cards/*.yaml"),
    ("neurodeck schema manifest", "The schema of manifests, decks/*.yaml"),
))
@click.argument("kind", type=click.Choice(["card-file", "manifest"]), default="card-file")
def schema(kind: str) -> None:
    """Print the JSON Schema of card files or manifests, for editors."""
    click.echo(nd.schema(kind), nl=False)  # type: ignore[arg-type]


@main.command("check-upgrade", examples=(
    ("neurodeck build --out previous/", "Build the last release, in a checkout of its tag"),
    ("neurodeck build", "Build the new release, in the working tree"),
    ("neurodeck check-upgrade previous/neurobiology-of-intimacy.apkg dist/neurobiology-of-intimacy.apkg",
     "Simulate a student's upgrade from the first to the second"),
))
@click.argument("old", type=SafePath(exists=True, dir_okay=False, path_type=Path))
@click.argument("new", type=SafePath(exists=True, dir_okay=False, path_type=Path))
@click.option("--anki-python", metavar="PATH",
              help="Run the simulation in this Python interpreter's Anki engine (an older Anki, say), "
                   "instead of the one installed with neurodeck.")
@format_option
def check_upgrade(old: Path, new: Path, anki_python: str | None, fmt: str) -> None:
    """Simulate a student's upgrade from OLD.apkg to NEW.apkg in the real Anki engine.

    Exit 1 on a conflicting note, a note whose new content Anki did not apply, a cloned note
    type, lost review history, or a note of OLD that vanished from NEW without being retired.
    Needs `pip install 'neurodeck[verify]'`, or --anki-python.
    """
    report, problems = nd.check_upgrade(old, new, anki_python)
    _print_problems(problems)
    if report is None:
        _exit(False)
    if fmt == "json":
        click.echo(json.dumps(report.to_json(), indent=2, sort_keys=True))
    else:
        click.echo(f"Upgrade {old} -> {new}: {'ok' if report.ok else 'FAILED'} (Anki {report.engine})")
        for label, names in (("new", report.new), ("updated", report.updated), ("unchanged", report.unchanged),
                             ("conflicting", report.conflicting), ("new content not applied", report.not_applied),
                             ("vanished without retiring", report.vanished),
                             ("retired", report.retired), ("cloned note types", report.cloned_notetypes),
                             ("cards that lost review history", report.cards_without_history)):
            shown = ", ".join(names[:8]) + (", ..." if len(names) > 8 else "")
            click.echo(f"  {label:<31} {len(names):>5}" + (f"  {shown}" if names and label != "unchanged" else ""))
        click.echo(f"  reviews before/after upgrade     {report.reviews_before} / {report.reviews_after}")
    _exit(report.ok)


@main.command(examples=(
    ("neurodeck build", "Build every deck into dist/"),
    ("neurodeck verify dist/*.apkg", "Check what a student's Anki makes of every package"),
))
@click.argument("packages", nargs=-1, required=True, type=SafePath(dir_okay=False, path_type=Path))
def verify(packages: tuple[Path, ...]) -> None:
    """Import each PACKAGE into a fresh collection as a student would, render every card, and run
    Anki's Check Database and Check Media.

    Exit 1 naming each problem (by card id where there is one): anything Anki refuses, changes,
    repairs or reports. Needs `pip install 'neurodeck[verify]'`.
    """
    problems = nd.verify(list(packages))
    _print_problems(problems)
    if not problems:
        for package in packages:
            click.echo(f"{package}: ok")
    _exit(not problems)


@main.command(examples=(
    ("neurodeck push", "Build every deck and import it into your Anki profile's collection (Anki closed)"),
    (f"neurodeck push {INTIMACY} --profile Teacher", "Push one deck into the profile named Teacher"),
    ("neurodeck push --anki-connect", "Ask a running Anki to import it through the AnkiConnect add-on"),
))
@manifests_argument
@click.option("--profile", metavar="NAME", help="Anki profile to import into (needed when there are several).")
@click.option("--collection", "collection", type=SafePath(dir_okay=False, path_type=Path), metavar="PATH",
              help="Collection file (collection.anki2) to import into, instead of a profile's.")
@click.option("--anki-connect", "anki_connect", is_flag=False, flag_value="http://127.0.0.1:8765", metavar="[URL]",
              help="Import through a running Anki's AnkiConnect add-on at URL (default http://127.0.0.1:8765; "
                   "this machine only).")
def push(manifests: tuple[Path, ...], profile: str | None, collection: Path | None, anki_connect: str | None) -> None:
    """Build each deck (unless up to date) and import it into your own Anki as a student's Anki
    would, then print Anki's import log by card id.

    Anki must be closed: the collection is backed up first (the backup's path is printed), and a
    failed import leaves it as it was. Needs `pip install 'neurodeck[verify]'`, or --anki-connect.
    """
    if profile is not None and collection is not None:
        raise click.UsageError("give --profile or --collection, not both")
    ok = True
    for manifest in _manifests(manifests):
        built = nd.build(manifest, _out(Path("dist")))
        _print_problems(built.problems)
        if not built.ok or built.output is None:
            ok = False
            continue
        if anki_connect is not None:
            from neurodeck.commands.push import ANKI_CONNECT_WARNING

            click.echo(f"{built.output}: note: {ANKI_CONNECT_WARNING}")
        report, problems = nd.push(built.output, profile=profile, collection=collection, anki_connect=anki_connect,
                                   manifest=manifest)
        _print_problems(problems)
        ok = ok and not problems
        if problems:
            continue
        if report is None:
            click.echo(f"{built.output}: imported through AnkiConnect at {anki_connect}")
            continue
        click.echo(f"{built.output} -> {report.collection}")
        click.echo(f"  backup: {report.backup} (to go back to it, in Anki: File > Switch Profile > Open Backup)")
        if report.thinned:
            many = len(report.thinned) != 1
            click.echo(f"  removed {len(report.thinned)} older push backup{'s' * many} as Anki thins its own: "
                       + ", ".join(p.name for p in report.thinned))
        for label, ids in (("new", report.new), ("updated", report.updated), ("unchanged", report.unchanged),
                           ("conflicting", report.conflicting), ("new note types", report.new_notetypes)):
            shown = ", ".join(ids[:8]) + (", ..." if len(ids) > 8 else "")
            click.echo(f"  {label:<15} {len(ids):>5}" + (f"  {shown}" if ids and label != "unchanged" else ""))
    _exit(ok)


def _watch(manifests: list[Path], out_dir: Path, locked: bool) -> NoReturn:
    if locked:
        raise click.UsageError("--watch rebuilds on every change; it cannot be combined with --locked")
    from neurodeck.commands.watch import watch

    first = [True]

    def show(builds: list[nd.Build]) -> None:
        for b in builds:
            _print_problems(b.problems)
            _print_rebuild(b, time.strftime("%H:%M:%S"))
        if first[0]:
            first[0] = False
            click.echo("Watching for changes (Ctrl-C to stop)...", err=True)

    try:
        watch(manifests, out_dir, show)
    except KeyboardInterrupt:
        pass
    click.echo("Stopped watching.", err=True)
    _exit(True)


def _print_rebuild(b: nd.Build, stamp: str) -> None:
    """One rebuild in watch mode: a line with the time, then what changed (problems, with their
    hints, are printed before it)."""
    r = b.report
    if b.up_to_date:
        click.echo(f"[{stamp}] {r['deck']}: up to date, nothing written")
    elif not b.ok or b.output is None:
        errors = sum(p.severity == "error" for p in b.problems)
        click.echo(f"[{stamp}] {r['deck'] or b.manifest}: {errors} error{'s' * (errors != 1)}, nothing written; "
                   "the last good package stays")
    else:
        click.echo(f"[{stamp}] {r['deck']}: {r['notes']} notes, {r['cards']} cards ({_counts(r)}) "
                   f"-> {r['output']}")
        _print_changes(r)


def _deck_json(compiled: CompiledDeck) -> dict[str, Any]:
    summary = compiled.summary()
    return dict(summary, manifest=str(compiled.manifest_path), ok=compiled.ok,
                problems=[p.to_json() for p in compiled.problems])


def _print_summary(r: dict[str, Any]) -> None:
    click.echo(f"{r['deck']}: {r['notes']} notes, {r['cards']} cards ({_counts(r)})")
    _print_changes(r)
    for subtopic, count in sorted(r["subtopics"].items()):
        click.echo(f"  {subtopic:<32} {count:>5} notes")
    click.echo(f"  -> {r['output']}  {r['size']:,} bytes  sha256 {r['sha256']}")
    if r["lock_written"]:
        click.echo(f"  lock updated: {Path(r['manifest']).with_suffix('.lock')}")


def _changes(r: dict[str, Any]) -> list[tuple[str, list[str]]]:
    """The report's changes by kind, a newly retired card counted as retired only."""
    retired = r.get("retired", [])
    return [("new", [i for i in r["new"] if i not in retired]),
            ("changed", [i for i in r["changed"] if i not in retired]),
            ("retired", retired), ("removed", r["removed"])]


def _counts(r: dict[str, Any]) -> str:
    return ", ".join(f"{len(ids)} {kind}" for kind, ids in _changes(r) if ids or kind != "retired")


def _print_changes(r: dict[str, Any]) -> None:
    """The ids behind the counts: the first ten of each kind, then how many more."""
    from neurodeck.pipeline.build import listed

    for kind, ids in _changes(r):
        if ids:
            click.echo(f"  {kind + ':':<9}{listed(ids)}")


def help_pages(width: int = 80) -> dict[str, str]:
    """`neurodeck --help` and every command's --help as printed `width` columns wide (for the README)."""
    group = click.Context(main, info_name="neurodeck", terminal_width=width, **main.context_settings)
    pages = {"neurodeck": main.get_help(group)}
    for name in main.list_commands(group):
        command = main.get_command(group, name)
        assert command is not None
        context = click.Context(command, info_name=name, parent=group, **command.context_settings)
        pages[f"neurodeck {name}"] = command.get_help(context)
    return pages


def run() -> None:
    """The `neurodeck` command: `main` with the settings of a process that runs one command.

    Only here, never in a command or the library (tests call `main`, and other programs the
    library, in processes of their own): the cyclic GC is off, and SIGTERM and SIGHUP unwind
    the command like Ctrl-C does, so that worker processes stop and temporary files go."""
    # One command, then the process exits: collecting cycles would only rescan the deck's
    # objects, which are all acyclic (a tenth of a second on a large deck).
    gc.disable()
    import signal  # here, with the other process settings: only the command line sets them

    signal.signal(signal.SIGINT, signal.default_int_handler)
    for name in ("SIGTERM", "SIGHUP"):
        if hasattr(signal, name):
            signal.signal(getattr(signal, name), _stop)
    try:
        main(prog_name="neurodeck")
        code = 0
    except SystemExit as exc:
        if isinstance(exc.code, str):
            click.echo(exc.code, err=True)
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    finally:
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except (OSError, ValueError):  # a closed pipe (`neurodeck stats | head`) or stream
                _silence(stream)
    # The interpreter's teardown still runs (atexit handlers, module cleanup), but its last
    # collection need not scan every object made by the command: all are freed by reference
    # counting or by the exit itself. ~11 ms of the 95 ms of `neurodeck --help`.
    gc.freeze()
    sys.exit(code)


def _silence(stream: TextIO) -> None:
    """Send what a closed pipe could not take to /dev/null, so that the flush at exit neither
    fails nor prints (the way Python's documentation handles SIGPIPE)."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, stream.fileno())
        os.close(devnull)
    except (OSError, ValueError):
        pass


def _stop(signum: int, frame: object) -> None:
    import signal

    # The first signal unwinds the command (finally blocks stop workers and remove temporary
    # files); further ones must not interrupt that cleanup.
    for name in ("SIGTERM", "SIGHUP"):
        if hasattr(signal, name):
            signal.signal(getattr(signal, name), signal.SIG_IGN)
    raise SystemExit(128 + signum)
