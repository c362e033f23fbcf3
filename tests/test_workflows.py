"""The CI and release workflows, the pre-commit hooks and the composite action."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name

try:
    import tomllib
except ImportError:  # Python 3.10: pytest's own TOML reader
    import tomli as tomllib

from conftest import REPO


def test_workflows_pass_actionlint():
    actionlint = shutil.which("actionlint") or str(Path(sys.executable).parent / "actionlint")
    workflows = sorted(str(p) for p in (REPO / ".github" / "workflows").glob("*.yml"))
    assert len(workflows) == 2
    done = subprocess.run([actionlint, *workflows], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


def test_ci_runs_every_python_and_every_gate():
    ci = yaml.safe_load((REPO / ".github" / "workflows" / "ci.yml").read_text())
    job = ci["jobs"]["test"]
    assert job["strategy"]["matrix"]["python-version"] == CI_PYTHONS
    assert job["strategy"]["matrix"]["os"] == ["ubuntu-latest", "macos-latest"]
    assert job["runs-on"] == "${{ matrix.os }}"
    commands = [step.get("run", "") for step in job["steps"]]
    assert "python -m pip install -e '.[test]' -c constraints.txt" in commands
    for gate in ("ruff check", "mypy", "neurodeck validate", "neurodeck lint", "python -m pytest",
                 "neurodeck build --locked --json > build-report.json"):
        assert gate in commands


def test_ci_run_installs_like_ci_yml_and_lets_no_test_skip():
    script = (REPO / ".ci" / "run").read_text()
    assert ".venv/bin/python -m pip install -q -e '.[test]' -c constraints.txt" in script
    assert "export NEURODECK_REQUIRE_ALL=1" in script
    for step in ("neurodeck validate", "neurodeck lint", "python -m pytest", "neurodeck build --locked"):
        assert f".venv/bin/{step}" in script


def run_pytest(folder: Path, **env: str) -> subprocess.CompletedProcess:
    """pytest on `folder` with this suite's conftest as a plugin."""
    environ = {k: v for k, v in os.environ.items() if k not in ("NEURODECK_REQUIRE_ALL", "NEURODECK_CHROMIUM")}
    environ.update(env, PYTHONPATH=str(REPO / "tests"))
    return subprocess.run([sys.executable, "-m", "pytest", "-p", "conftest", "-p", "no:cacheprovider", "-rs",
                           str(folder)], cwd=folder, env=environ, capture_output=True, text=True)


def test_require_all_turns_every_skip_into_a_failure(tmp_path):
    (tmp_path / "test_x.py").write_text(
        "import pytest\n\n"
        "def test_explicit_skip():\n    pytest.skip('nothing to see')\n\n"
        "def test_missing_browser(chromium):\n    pass\n\n"
        "def test_runs():\n    pass\n")
    plain = run_pytest(tmp_path, NEURODECK_CHROMIUM=str(tmp_path / "no-browser"))
    assert plain.returncode == 0, plain.stdout
    assert "1 passed, 2 skipped" in plain.stdout
    assert f"needs Chromium or Chrome: none at {tmp_path / 'no-browser'}" in plain.stdout

    strict = run_pytest(tmp_path, NEURODECK_CHROMIUM=str(tmp_path / "no-browser"), NEURODECK_REQUIRE_ALL="1")
    assert strict.returncode == 1, strict.stdout
    assert "1 failed, 1 passed, 1 error" in strict.stdout  # the fixture's skip is a setup error
    assert strict.stdout.count("NEURODECK_REQUIRE_ALL=1 turns this skip into a failure") >= 2


def test_pre_commit_runs_ruff_and_mypy_from_the_index_at_the_pinned_versions():
    config = yaml.safe_load((REPO / ".pre-commit-config.yaml").read_text())
    [local] = config["repos"]
    assert local["repo"] == "local"
    hooks = {hook["id"]: hook for hook in local["hooks"]}
    assert hooks["ruff"]["entry"].startswith("ruff check") and hooks["mypy"]["entry"] == "mypy"
    pins = constraints()
    for hook in hooks.values():
        assert hook["language"] == "python"  # installed from the package index into the hook's env
        for dependency in map(Requirement, hook["additional_dependencies"]):
            assert dependency in pins, f"{dependency} is not a line of constraints.txt"
    assert {canonicalize_name(Requirement(d).name) for d in hooks["mypy"]["additional_dependencies"]} >= {
        "mypy", "types-pyyaml", "click", "anki", "nh3", "platformdirs", "watchfiles", "zstandard"}


def test_release_workflow_checks_builds_upgrades_and_publishes():
    text = (REPO / ".github" / "workflows" / "release.yml").read_text()
    release = yaml.safe_load(text)
    assert release[True]["push"]["tags"] == ["v*"]  # YAML 1.1 reads the key `on` as true
    for needle in ("neurodeck build --locked", "neurodeck check-upgrade", "neurodeck diff", "SHA256SUMS",
                   "-c constraints.txt", 'grep -qx "version: ${version}"'):
        assert needle in text


def constraints() -> list[Requirement]:
    lines = (REPO / "constraints.txt").read_text().splitlines()
    return [Requirement(line) for line in lines if line and not line.startswith("#")]


def project_requirements() -> list[Requirement]:
    """The dependencies and every extra (test, verify, figures), read from pyproject.toml: a pin
    that only an optional extra needs must resolve too."""
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    extras = project["optional-dependencies"]
    return [Requirement(r) for r in project["dependencies"] + [r for name in sorted(extras) for r in extras[name]]]


def test_constraints_pin_every_dependency_exactly():
    pins = constraints()
    for req in pins:
        assert [spec.operator for spec in req.specifier] == ["=="], req
    pinned = {canonicalize_name(req.name) for req in pins}
    for req in project_requirements():
        assert canonicalize_name(req.name) in pinned, req


CI_PYTHONS = ["3.10", "3.11", "3.12", "3.13"]
# The runners ci.yml uses: ubuntu-latest (x86_64, glibc 2.39) and macos-latest (Apple silicon).
# pip widens a macOS tag to older releases but takes a manylinux tag literally: list each glibc.
RUNNERS = {
    "ubuntu": ([f"manylinux_2_{minor}_x86_64" for minor in range(39, 4, -1)]
               + ["manylinux2014_x86_64", "manylinux2010_x86_64", "manylinux1_x86_64", "linux_x86_64"],
               {"sys_platform": "linux", "platform_system": "Linux", "platform_machine": "x86_64"}),
    "macos": (["macosx_14_0_arm64"], {"sys_platform": "darwin", "platform_system": "Darwin",
                                       "platform_machine": "arm64"}),
}


def start_resolving(python: str, runner: str, folder: Path) -> subprocess.Popen:
    """Start pip resolving the project with all its extras under constraints.txt for
    this Python and runner, from wheels only, without installing; the report lands in `folder`.

    pip evaluates environment markers for the Python running it, not for --python-version, so the
    markers of the constraints and the requirements are evaluated here for the target."""
    tags, platform_env = RUNNERS[runner]
    env = {**default_environment(), **platform_env, "python_version": python, "python_full_version": f"{python}.0"}
    for name, reqs in (("constraints", constraints()), ("requirements", project_requirements())):
        chosen = [r for r in reqs if r.marker is None or r.marker.evaluate(env)]
        (folder / f"{name}.txt").write_text("".join(f"{r.name}{r.specifier}\n" for r in chosen))
    platforms = [option for tag in tags for option in ("--platform", tag)]
    return subprocess.Popen(
        [sys.executable, "-m", "pip", "install", "--dry-run", "--quiet", "--ignore-installed",
         "--target", str(folder / "target"), "--python-version", python, *platforms, "--only-binary=:all:",
         "--report", str(folder / "report.json"), "-r", str(folder / "requirements.txt"),
         "-c", str(folder / "constraints.txt")],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


@pytest.fixture(scope="module")
def resolving(tmp_path_factory, package_index) -> dict[tuple[str, str], tuple[subprocess.Popen, Path]]:
    """Every (Python, runner) resolution, started at once: each waits on the network, not the CPU."""
    import pip

    assert int(pip.__version__.split(".")[0]) >= 25, \
        f"pip {pip.__version__} ignores Requires-Python under --python-version: pip install -U 'pip>=25'"
    started = {}
    for python in CI_PYTHONS:
        for runner in RUNNERS:
            folder = tmp_path_factory.mktemp(f"resolve-{python}-{runner}")
            started[python, runner] = start_resolving(python, runner, folder), folder
    yield started
    for process, _ in started.values():
        process.kill()
        process.communicate()


@pytest.mark.parametrize("runner", sorted(RUNNERS))
@pytest.mark.parametrize("python", CI_PYTHONS)
def test_constraints_resolve_on_every_ci_python(python, runner, resolving):
    """Every Python in ci.yml's matrix, on both runners, installs the project under constraints.txt,
    and every package pip picks is pinned there (the pins are the whole environment)."""
    assert SpecifierSet(tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["requires-python"]) \
        .contains(python), f"pyproject's requires-python excludes {python}"
    process, folder = resolving[python, runner]
    _, stderr = process.communicate(timeout=600)
    errors = "\n".join(line for line in stderr.splitlines() if not line.startswith("WARNING"))
    assert process.returncode == 0, f"constraints.txt does not resolve on Python {python} ({runner}):\n{errors}"
    # pip's -c file held the target's pins, so those it obeyed. It reads dependencies' markers for
    # the Python running it, so it may add one pinned only for that Python (tomli on 3.10).
    pinned = {(canonicalize_name(req.name), next(iter(req.specifier)).version) for req in constraints()}
    picked = {(canonicalize_name(item["metadata"]["name"]), item["metadata"]["version"])
              for item in json.loads((folder / "report.json").read_text())["install"]}
    assert picked - pinned == set(), "pip picked packages that constraints.txt does not pin"


def test_pre_commit_hooks_and_action_use_real_commands():
    hooks = yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text())
    assert {h["entry"] for h in hooks} == {"neurodeck validate", "neurodeck lint"}
    action = yaml.safe_load((REPO / "action.yml").read_text())
    assert action["runs"]["using"] == "composite"
    script = " ".join(step.get("run", "") for step in action["runs"]["steps"])
    assert "neurodeck build --locked" in script and "neurodeck check-upgrade" in script
