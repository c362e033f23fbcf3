"""The package layout: every data file it reads is package data, and the README's module map is current."""
from __future__ import annotations

import fnmatch

from conftest import REPO

try:
    import tomllib
except ImportError:  # Python 3.10
    import tomli as tomllib


def test_every_data_file_of_the_package_is_declared_package_data():
    package = REPO / "generator" / "neurodeck"
    declared = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]["neurodeck"]
    data = [p.relative_to(package).as_posix() for p in package.rglob("*")
            if p.is_file() and p.suffix not in (".py", ".pyc") and "__pycache__" not in p.parts]
    assert any(name.startswith("commands/preview/assets/") for name in data)
    assert [name for name in data if not any(fnmatch.fnmatch(name, pattern) for pattern in declared)] == []


def test_the_readme_module_map_names_every_module_and_only_modules_that_exist():
    import re

    readme = (REPO / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## Development\n"):]
    section = section[:section.find("\n## ", 1)] if "\n## " in section[1:] else section
    named = set(re.findall(r"([\w]+\.py)\b", section))
    package = REPO / "generator" / "neurodeck"
    modules = {p.name for p in package.rglob("*.py") if p.name not in ("__init__.py", "__main__.py")}
    assert named - modules == set(), "the README names modules that do not exist"
    assert modules - named == set(), "modules missing from the README's module map"
