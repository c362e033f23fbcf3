"""Every command's --help: its own examples, which name real paths and parse as real command
lines, and the README's command reference, which is that help copied by cog."""
from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import sys
from fnmatch import fnmatch
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

import neurodeck as nd
from conftest import REPO
from neurodeck.cli import HELP_WIDTH, help_pages, main

PAGES = help_pages(HELP_WIDTH)
# A token that names a file or folder: it has a slash, or ends in a file suffix we use.
PATH_LIKE = re.compile(r"[\w.*<>~-]*/[\w.*<>/-]*|[\w*<>-]+\.(?:ya?ml|lock|apkg|html|json|md|png|jpe?g|txt)\b")


def examples(page: str) -> list[tuple[str, str]]:
    """The (comment, command line) pairs after "Examples:", continuation lines joined."""
    lines = page[page.index("Examples:\n") + len("Examples:\n"):].splitlines()
    pairs: list[tuple[str, str]] = []
    comment = ""
    for line in map(str.strip, lines):
        if line.startswith("#"):
            comment = f"{comment} {line[1:].strip()}".strip()
        elif pairs and pairs[-1][1].endswith("\\"):
            pairs[-1] = (pairs[-1][0], pairs[-1][1][:-1] + line)
        elif line:
            pairs.append((comment, line))
            comment = ""
    return pairs


def outputs() -> set[Path]:
    """What the examples write: each --out folder (or its default) and, in it, the bundled decks'
    packages and preview pages."""
    folders = {Path(p.default) for c in main.commands.values() for p in c.params
               if p.name == "out_dir" and p.default is not None}
    for page in PAGES.values():
        for _, command in examples(page):
            words = shlex.split(command)
            folders |= {Path(words[i + 1]) for i, w in enumerate(words[:-1]) if w == "--out"}
    stems = [Path(deck.manifest.output).stem for deck in nd.load_project(REPO) if deck.manifest]
    return folders | {folder / f"{stem}{suffix}" for folder in folders for stem in stems
                      for suffix in (".apkg", ".html")}


def test_every_command_has_its_own_examples_within_the_width():
    assert set(PAGES) == {"neurodeck"} | {f"neurodeck {name}" for name in main.commands}
    for name, page in PAGES.items():
        pairs = examples(page)
        assert pairs, f"{name} --help has no examples"
        assert all(comment and command.startswith("neurodeck ") for comment, command in pairs), name
        if name != "neurodeck":
            assert any(shlex.split(c)[:2] == name.split() for _, c in pairs), f"no example runs {name}"
        assert all(len(line) <= HELP_WIDTH for line in page.splitlines()), name
    assert len({tuple(examples(page)) for page in PAGES.values()}) == len(PAGES), "examples repeated"


def test_every_path_in_the_examples_exists_in_the_repository_or_is_written_by_one():
    written = outputs()
    checked = set()
    for name, page in PAGES.items():
        for comment, command in examples(page):
            for token in PATH_LIKE.findall(f"{comment} {command}"):
                token = token.rstrip(".,;:)")
                if "*" in token:  # a glob the shell expands: it must match something
                    exists = bool(sorted(REPO.glob(token))) or any(fnmatch(str(p), token) for p in written)
                else:
                    exists = (REPO / token).exists() or Path(token) in written
                assert exists, f"{name} --help names {token!r}, which does not exist"
                checked.add(token)
    # The rule has teeth: the bundled manifest and a card glob are among the paths checked.
    assert {"decks/neurobiology-of-intimacy.yaml", "cards/*.yaml"} <= checked


def test_every_example_parses_as_a_command_line(tmp_path, monkeypatch):
    """Each example is parsed by its command (options, choices, files that must exist) in a copy of
    the repository that also holds what the examples build."""
    for name in ("cards", "decks"):
        shutil.copytree(REPO / name, tmp_path / name)
    for path in outputs():
        if path.suffix:
            (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
            (tmp_path / path).touch()
    monkeypatch.chdir(tmp_path)
    for page in PAGES.values():
        for _, command in examples(page):
            words = shlex.split(command)
            group = click.Context(main, info_name="neurodeck", **main.context_settings)
            sub = main.get_command(group, words[1])
            assert sub is not None, command
            try:
                sub.make_context(words[1], words[2:], parent=group)
            except click.exceptions.Exit as done:  # --help
                assert done.exit_code == 0
            except click.ClickException as exc:
                pytest.fail(f"{command}: {exc.format_message()}")


def test_help_pages_are_what_the_command_prints():
    runner = CliRunner(env={"COLUMNS": str(HELP_WIDTH)})
    for name, page in PAGES.items():
        shown = runner.invoke(main, name.split()[1:] + ["--help"], prog_name="neurodeck", terminal_width=HELP_WIDTH)
        assert shown.exit_code == 0 and shown.stdout == page + "\n", name


def test_readme_command_reference_is_the_current_help():
    from cogapp import Cog

    status = Cog().main(["cog", "--check", str(REPO / "README.md")])
    assert status == 0, "README.md's command reference differs from --help: run `cog -r README.md`"
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert all(page in readme for page in PAGES.values())


def test_help_loads_neither_the_library_nor_the_compiler():
    """`neurodeck --help` must stay fast (under 0.1 s): it imports Click and cli.py, nothing of
    the library behind them."""
    code = ("import sys\nfrom neurodeck.cli import main\n"
            "try:\n    main(['build', '--help'])\nexcept SystemExit:\n    pass\n"
            "print(sorted(m for m in sys.modules if m.startswith('neurodeck') or m in HEAVY))")
    heavy = ("yaml", "sqlite3", "cmarkgfm", "nh3", "genanki", "anki", "watchfiles", "zipfile", "multiprocessing")
    done = subprocess.run([sys.executable, "-c", f"HEAVY = {heavy!r}\n{code}"], capture_output=True, text=True,
                          check=False, cwd=REPO)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1] == "['neurodeck', 'neurodeck.cli']"
