"""The CI and release workflows, the pre-commit hooks and the composite action."""
from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

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
    assert job["strategy"]["matrix"]["python-version"] == ["3.10", "3.11", "3.12", "3.13"]
    commands = " ".join(step.get("run", "") for step in job["steps"])
    for gate in ("neurodeck validate", "neurodeck lint", "python -m pytest", "neurodeck build --locked"):
        assert gate in commands


def test_release_workflow_checks_builds_upgrades_and_publishes():
    text = (REPO / ".github" / "workflows" / "release.yml").read_text()
    release = yaml.safe_load(text)
    assert release[True]["push"]["tags"] == ["v*"]  # YAML 1.1 reads the key `on` as true
    for needle in ("neurodeck build --locked", "neurodeck check-upgrade", "neurodeck diff", "SHA256SUMS",
                   "-c constraints.txt", 'grep -qx "version: ${version}"'):
        assert needle in text


def test_constraints_pin_every_dependency_exactly():
    pins = dict(line.split("==") for line in (REPO / "constraints.txt").read_text().splitlines()
                if line and not line.startswith("#"))
    pyproject = (REPO / "pyproject.toml").read_text()
    for name in re.findall(r'^\s+"([A-Za-z0-9_.-]+)[<>=\[]', pyproject, re.MULTILINE):
        assert any(k.lower() == name.lower() for k in pins), name


def test_pre_commit_hooks_and_action_use_real_commands():
    hooks = yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text())
    assert {h["entry"] for h in hooks} == {"neurodeck validate", "neurodeck lint"}
    action = yaml.safe_load((REPO / "action.yml").read_text())
    assert action["runs"]["using"] == "composite"
    script = " ".join(step.get("run", "") for step in action["runs"]["steps"])
    assert "neurodeck build --locked" in script and "neurodeck check-upgrade" in script
