"""ruff and mypy, configured in pyproject.toml, pass on the repository (CI and pre-commit run
them too; this keeps a plain `pytest` run honest)."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from conftest import REPO

BIN = Path(sys.executable).parent


def test_ruff_finds_nothing():
    done = subprocess.run([str(BIN / "ruff"), "check", "--no-cache", "--output-format", "concise"],
                          cwd=REPO, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr



def test_mypy_finds_nothing_in_the_library():
    done = subprocess.run([sys.executable, "-m", "mypy"], cwd=REPO, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
