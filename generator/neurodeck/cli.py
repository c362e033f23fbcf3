"""The `neurodeck` command: maps options to library calls, prints, and picks the exit code.

Exit codes: 0 success, 1 invalid content (or a failed write), 2 usage error.
Heavy modules are imported inside commands so that --help and --version stay fast.
"""
from __future__ import annotations

import functools
import gc
import json
import os
import sys
from pathlib import Path

import click

EPILOG = """\b
Examples:
  neurodeck validate                      check every manifest in decks/
  neurodeck build                         build every deck into dist/
  neurodeck build decks/intimacy.yaml --out release/
  neurodeck build --locked --format json  CI: fail if the lock is stale
  neurodeck build --watch                 rebuild on every save
  neurodeck stats --format json           counts per subtopic, type and tag
  neurodeck new "Mirror Neurons" --manifest decks/intimacy.yaml
  neurodeck check-upgrade v1.apkg v2.apkg simulate a student's upgrade in Anki
  neurodeck diff v1.0 HEAD --format markdown   release notes since v1.0
  neurodeck preview --open                open a card-by-card preview of every deck
  neurodeck lint --format json            card-quality rules
"""


manifests_argument = click.argument(
    "manifests", nargs=-1, type=click.Path(exists=True, dir_okay=False, path_type=Path))


def format_option(command):
    """--format text|json, and --json as its shortcut, merged into one `fmt` argument."""
    @functools.wraps(command)
    def merged(*args, json_flag: bool, fmt: str, **kwargs):
        return command(*args, fmt="json" if json_flag else fmt, **kwargs)

    merged = click.option("--json", "json_flag", is_flag=True, help="Same as --format json.")(merged)
    return click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
                        show_default=True, help="Report format on stdout; json is for CI.")(merged)


def _manifests(given: tuple[Path, ...]) -> list[Path]:
    if given:
        return list(given)
    found = sorted(Path("decks").glob("*.yaml"))
    if not found:
        raise click.UsageError("no manifests given and none found in decks/*.yaml")
    return found


def _print_problems(problems) -> None:
    for problem in sorted(problems, key=lambda p: (p.location, p.message)):
        click.echo(problem.format(), err=True)


@click.group(epilog=EPILOG, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="neurodeck", prog_name="neurodeck", message="%(prog)s %(version)s")
def main() -> None:
    """Compile YAML flashcards into Anki decks that update in place."""


@main.command(epilog=EPILOG)
@manifests_argument
@format_option
def validate(manifests: tuple[Path, ...], fmt: str) -> None:
    """Check cards and manifests without writing anything."""
    from neurodeck.pipeline.build import compile_deck

    results = [compile_deck(m) for m in _manifests(manifests)]
    problems = [p for r in results for p in r.problems]
    _print_problems(problems)
    if fmt == "json":
        click.echo(json.dumps({"ok": all(r.ok for r in results),
                               "decks": [_deck_json(r) for r in results]}, indent=2, sort_keys=True))
    elif all(r.ok for r in results):
        for r in results:
            s = r.summary()
            click.echo(f"{s['deck']}: {s['notes']} notes, {s['cards']} cards: ok")
    sys.exit(0 if all(r.ok for r in results) else 1)


@main.command(epilog=EPILOG)
@manifests_argument
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=Path("dist"),
              show_default=True, help="Folder the packages are written to.")
@click.option("--locked", is_flag=True, help="Fail, writing nothing, if a lock file is missing or would change.")
@click.option("--watch", "watching", is_flag=True, help="Rebuild whenever a card file, manifest or image changes.")
@format_option
def build(manifests: tuple[Path, ...], out_dir: Path, locked: bool, watching: bool, fmt: str) -> None:
    """Validate, then build each manifest's deck into an .apkg and update its lock.

    A deck whose inputs did not change since its last build is left untouched.
    """
    from neurodeck.pipeline.stamps import up_to_date

    if watching:
        _watch(_manifests(manifests), out_dir, locked)
    # One build, then the process exits: collecting cycles would only rescan the deck's
    # objects, which are all acyclic (a tenth of a second on a large deck).
    gc.disable()
    reports = []
    for manifest in _manifests(manifests):
        report = up_to_date(manifest, out_dir)  # answers without loading the compiler
        if report is None:
            from neurodeck.pipeline.build import build as build_deck

            result = build_deck(manifest, out_dir, locked=locked)
            _print_problems(result.problems)
            report = result.report()
        reports.append(report)
    ok = all(r["ok"] for r in reports)
    if fmt == "json":
        click.echo(json.dumps({"ok": ok, "decks": reports}, indent=2, sort_keys=True))
    else:
        for report in reports:
            if report["output"] is not None:
                _print_summary(report)
    sys.exit(0 if ok else 1)


@main.command(epilog=EPILOG)
@manifests_argument
@format_option
def stats(manifests: tuple[Path, ...], fmt: str) -> None:
    """Counts per subtopic, note type and tag, the cards Anki will make, sources and retired cards."""
    from neurodeck.pipeline.build import compile_deck
    from neurodeck.commands.stats import deck_stats

    results = [compile_deck(m) for m in _manifests(manifests)]
    _print_problems([p for r in results for p in r.problems])
    decks = [deck_stats(r) for r in results if r.manifest is not None and r.ok]
    if fmt == "json":
        click.echo(json.dumps({"ok": all(r.ok for r in results), "decks": decks}, indent=2, sort_keys=True))
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
    sys.exit(0 if all(r.ok for r in results) else 1)


@main.command(epilog=EPILOG)
@click.argument("subtopic")
@click.option("--manifest", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Also add the new file to this manifest's cards, unless a glob there already takes it.")
def new(subtopic: str, manifest: Path | None) -> None:
    """Create cards/<subtopic>.yaml with one example card of each type."""
    from neurodeck.commands.scaffold import new_card_file

    path, problems = new_card_file(subtopic, Path.cwd(), manifest)
    _print_problems(problems)
    if path is not None:
        click.echo(f"created {path}")
    sys.exit(1 if problems else 0)


@main.command(epilog=EPILOG)
@click.argument("version")
@click.argument("manifest", required=False, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=Path("dist"),
              show_default=True, help="Folder the packages are written to.")
def release(version: str, manifest: Path | None, out_dir: Path) -> None:
    """Record release VERSION (newer than the last) in the manifest and lock, and rebuild.

    Then commit the manifest and lock, and tag vVERSION.
    """
    from neurodeck.commands.release import release as make_release

    manifests = [manifest] if manifest else _manifests(())
    if len(manifests) != 1:
        raise click.UsageError("several manifests in decks/: name the one to release")
    result, problems = make_release(version, manifests[0], out_dir)
    _print_problems(problems + (result.problems if result else []))
    if result is None or not result.ok:
        sys.exit(1)
    _print_summary(result.report())
    click.echo(f"Released {version}: commit {manifests[0]} and its lock, then tag v{version}.")


@main.command(epilog=EPILOG)
@manifests_argument
@format_option
def lint(manifests: tuple[Path, ...], fmt: str) -> None:
    """Check card quality: answer length, question form, duplicates, abbreviations, sources.

    Change a rule's severity or limit under `lint:` in the manifest; silence a rule on one card
    with `lint: {ignore: [CODE], why: "..."}`. Exits 1 when an error-level rule fires.
    """
    from neurodeck.checks.lint import lint_deck
    from neurodeck.model import has_errors

    results = [(manifest, lint_deck(manifest)) for manifest in _manifests(manifests)]
    _print_problems([p for _, problems in results for p in problems])
    ok = not any(has_errors(problems) for _, problems in results)
    if fmt == "json":
        click.echo(json.dumps({"ok": ok, "decks": [
            {"manifest": str(manifest), "ok": not has_errors(problems),
             "errors": sum(p.severity == "error" for p in problems),
             "warnings": sum(p.severity == "warning" for p in problems),
             "problems": [p.to_json() for p in problems]}
            for manifest, problems in results]}, indent=2, sort_keys=True))
    else:
        for manifest, problems in results:
            errors = sum(p.severity == "error" for p in problems)
            click.echo(f"{manifest}: {errors} errors, {len(problems) - errors} warnings"
                       + ("" if problems else ": ok"))
    sys.exit(0 if ok else 1)


@main.command(epilog=EPILOG)
@manifests_argument
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=Path("dist"),
              show_default=True, help="Folder the pages are written to.")
@click.option("--open", "open_pages", is_flag=True, help="Open each page in the default web browser.")
def preview(manifests: tuple[Path, ...], out_dir: Path, open_pages: bool) -> None:
    """Write one self-contained HTML page per deck showing every card as Anki will show it.

    Question and answer sides use the note types' templates and CSS; the page has a search box
    and a night-mode switch and needs no network.
    """
    from neurodeck.commands.preview import write_preview

    ok = True
    for manifest in _manifests(manifests):
        path, problems = write_preview(manifest, out_dir)
        _print_problems(problems)
        if path is None:
            ok = False
            continue
        click.echo(f"{path} ({path.stat().st_size:,} bytes)")
        if open_pages:
            click.launch(str(path.resolve()))
    sys.exit(0 if ok else 1)


@main.command(epilog=EPILOG)
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
    from neurodeck.commands.diff import compare, format_json, format_markdown, format_text

    diffs, problems = compare(old, new, Path.cwd())
    _print_problems(problems)
    if diffs is None:
        sys.exit(1)
    formatter = {"text": format_text, "markdown": format_markdown, "json": format_json}["json" if json_flag else fmt]
    click.echo(formatter(diffs), nl=False)
    sys.exit(0)


@main.command(epilog=EPILOG)
@click.argument("kind", type=click.Choice(["card-file", "manifest"]), default="card-file")
def schema(kind: str) -> None:
    """Print the JSON Schema of card files or manifests, for editors."""
    from neurodeck.commands.schema import render

    click.echo(render(kind), nl=False)


@main.command("check-upgrade", epilog=EPILOG)
@click.argument("old", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.argument("new", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@format_option
def check_upgrade(old: Path, new: Path, fmt: str) -> None:
    """Simulate a student's upgrade from OLD.apkg to NEW.apkg in the real Anki engine.

    Exit 1 on a conflicting note, a cloned note type, lost review history, or a note of OLD
    that vanished from NEW without being retired. Needs `pip install 'neurodeck[verify]'`.
    """
    from neurodeck.commands.upgrade import check_upgrade as simulate

    report, problems = simulate(old, new)
    _print_problems(problems)
    if report is None:
        sys.exit(1)
    if fmt == "json":
        click.echo(json.dumps(report.to_json(), indent=2, sort_keys=True))
    else:
        click.echo(f"Upgrade {old} -> {new}: {'ok' if report.ok else 'FAILED'}")
        for label, names in (("new", report.new), ("updated", report.updated), ("unchanged", report.unchanged),
                             ("conflicting", report.conflicting), ("vanished without retiring", report.vanished),
                             ("retired", report.retired), ("cloned note types", report.cloned_notetypes),
                             ("cards that lost review history", report.cards_without_history)):
            shown = ", ".join(names[:8]) + (", ..." if len(names) > 8 else "")
            click.echo(f"  {label:<31} {len(names):>5}" + (f"  {shown}" if names and label != "unchanged" else ""))
        click.echo(f"  reviews before/after upgrade     {report.reviews_before} / {report.reviews_after}")
    sys.exit(0 if report.ok else 1)


def _watch(manifests: list[Path], out_dir: Path, locked: bool) -> None:
    if locked:
        raise click.UsageError("--watch rebuilds on every change; it cannot be combined with --locked")
    from neurodeck.commands.watch import watch

    def show(results) -> None:
        for result in results:
            _print_problems(result.problems)
            if result.output is not None:
                _print_summary(result.report())
        click.echo("Watching for changes (Ctrl-C to stop)...", err=True)

    try:
        watch(manifests, out_dir, show)
    except KeyboardInterrupt:
        pass
    click.echo("Stopped watching.", err=True)
    sys.exit(0)


def _deck_json(compiled) -> dict:
    summary = compiled.summary()
    return dict(summary, manifest=str(compiled.manifest_path), ok=compiled.ok,
                problems=[p.to_json() for p in compiled.problems])


def _print_summary(r: dict) -> None:
    changes = f"{len(r['new'])} new, {len(r['changed'])} changed, {len(r['removed'])} removed"
    click.echo(f"{r['deck']}: {r['notes']} notes, {r['cards']} cards ({changes})")
    for subtopic, count in sorted(r["subtopics"].items()):
        click.echo(f"  {subtopic:<32} {count:>5} notes")
    click.echo(f"  -> {r['output']}  {r['size']:,} bytes  sha256 {r['sha256']}")
    if r["lock_written"]:
        click.echo(f"  lock updated: {Path(r['manifest']).with_suffix('.lock')}")


def run() -> None:
    """The `neurodeck` command: `main`, then exit without tearing the interpreter down.

    Every file is closed and every worker stopped by then; what is left is freeing a large
    deck's objects one by one, which takes longer than starting Python. (Tests call `main`.)"""
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
                pass
    os._exit(code)
