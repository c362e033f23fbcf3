"""What the built distribution holds: the package and its data files, the licences, the type
marker, and the MathJax build shipped for previews."""
from __future__ import annotations

import email
import shutil
import subprocess
import sys
import zipfile

import pytest
from packaging.requirements import Requirement

from conftest import REPO

try:
    import tomllib
except ImportError:  # Python 3.10: pytest's own TOML reader
    import tomli as tomllib
from neurodeck.commands import preview

MATHJAX = REPO / "generator" / "neurodeck" / "commands" / "preview" / "mathjax"


def test_the_shipped_mathjax_is_the_recorded_release_with_its_licence():
    version = (MATHJAX / "VERSION").read_text().strip()
    build = (MATHJAX / "tex-svg-full.js").read_text("utf-8")
    assert f'VERSION="{version}"' in build, "tex-svg-full.js is not the MathJax release VERSION names"
    assert "Apache License" in (MATHJAX / "LICENSE").read_text() and "Version 2.0" in (MATHJAX / "LICENSE").read_text()
    assert preview.mathjax_script() == build  # inlined as shipped: the build has no "</script"


@pytest.fixture(scope="module")
def wheel(tmp_path_factory, package_index) -> zipfile.ZipFile:
    """The wheel pip builds from a copy of the sources (so the work tree gets no build files)."""
    source = tmp_path_factory.mktemp("source")
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy(REPO / name, source / name)
    shutil.copytree(REPO / "generator", source / "generator",
                    ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    out = tmp_path_factory.mktemp("wheel")
    done = subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--wheel-dir", str(out),
                           str(source)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    [built] = out.glob("neurodeck-*.whl")
    with zipfile.ZipFile(built) as zf:
        yield zf


def test_the_wheel_holds_one_top_level_package_with_its_data_and_type_marker(wheel):
    names = wheel.namelist()
    assert {name.split("/")[0] for name in names if not name.split("/")[0].endswith(".dist-info")} == {"neurodeck"}
    for data in ("neurodeck/py.typed", "neurodeck/commands/preview/mathjax/tex-svg-full.js",
                 "neurodeck/commands/preview/mathjax/LICENSE", "neurodeck/commands/preview/mathjax/VERSION",
                 "neurodeck/commands/schemas/card-file.schema.json"):
        assert data in names, data
    sources = {p.relative_to(REPO / "generator").as_posix() for p in (REPO / "generator").rglob("*.py")}
    assert sources <= set(names), sources - set(names)


def test_the_wheel_declares_both_licences_and_no_mathjax_dependency(wheel):
    [metadata] = [n for n in wheel.namelist() if n.endswith(".dist-info/METADATA")]
    message = email.message_from_bytes(wheel.read(metadata))
    assert message["License-Expression"] == "MIT AND Apache-2.0"
    assert sorted(message.get_all("License-File")) == ["LICENSE", "generator/neurodeck/commands/preview/mathjax/LICENSE"]
    licences = [n for n in wheel.namelist() if "/licenses/" in n]
    assert len(licences) == 2 and any(wheel.read(n).startswith(b"MIT License") for n in licences)
    required = {Requirement(r).name.lower() for r in message.get_all("Requires-Dist")
                if "extra ==" not in r}
    assert required == {Requirement(r).name.lower() for r in project()["dependencies"]}
    assert not any("mathjax" in name for name in required)


def project() -> dict:
    return tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
