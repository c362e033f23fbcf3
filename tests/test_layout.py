"""The package ships every file it reads: each data file under generator/neurodeck is package data."""
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
