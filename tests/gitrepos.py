"""Real git repositories of pattern repositories, in the shapes and ages users have them.

- `generated`: made by `mcg-gen new` from the multicloud-gitops example (pattern.yaml, vendored
  common/); `industrial-edge`: the same from the industrial-edge example (more groups, operators);
- `handwritten`: the hand-written multicloud-gitops layout of the 0.9 chart era
  (tests/fixtures/reference-mcg: `isHubCluster`, `projects`, `acmlabels`, list-form overrides,
  map-form applications, no pattern.yaml, no common/);
- `listform`: the older list-form layout (tests/fixtures/values-cases: list-form applications and
  subscriptions, `argoProjects`, a values-secret v1 template).
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from tests.conftest import PROJECT, run_subprocess

FIXTURES = PROJECT / "tests" / "fixtures"
IDENTITY = ("-c", "user.name=Tester", "-c", "user.email=tester@example.invalid")
SHAPES = ("generated", "industrial-edge", "handwritten", "listform")
RENDERABLE = ("generated", "industrial-edge", "handwritten")


def git(repo: Path, *args: str) -> str:
    completed = subprocess.run(
        ["git", *IDENTITY, *args], cwd=repo, capture_output=True, text=True, timeout=60, check=True
    )
    return completed.stdout


def commit_all(repo: Path, message: str) -> str:
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "--allow-empty", "-m", message)
    return git(repo, "rev-parse", "HEAD").strip()


def init(repo: Path) -> Path:
    git(repo, "init", "-q", "-b", "main")
    commit_all(repo, "first")
    return repo


def make(shape: str, folder: Path) -> Path:
    """A committed repository of `shape` at `folder`."""
    if shape in ("generated", "industrial-edge"):
        example = "multicloud-gitops" if shape == "generated" else shape
        result = run_subprocess(
            "new", "demo", "--from", example, "--output", str(folder), "--no-git", cwd=None
        )
        assert result.code == 0, result.err
    elif shape == "handwritten":
        shutil.copytree(FIXTURES / "reference-mcg", folder)
    elif shape == "listform":
        shutil.copytree(FIXTURES / "values-cases", folder)
    else:
        raise ValueError(shape)
    return init(folder)
