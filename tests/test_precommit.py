"""A real `git commit` in a generated repository runs `mcg-gen validate` through pre-commit."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import PROJECT

BIN = Path(sys.executable).parent


def environment(tmp_path: Path) -> dict[str, str]:
    return {
        **os.environ,
        "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        "PRE_COMMIT_HOME": str(tmp_path / "pre-commit-home"),
        "GIT_AUTHOR_NAME": "Test",
        "GIT_AUTHOR_EMAIL": "test@example.com",
        "GIT_COMMITTER_NAME": "Test",
        "GIT_COMMITTER_EMAIL": "test@example.com",
        "NO_COLOR": "1",
    }


def run(args: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        args, cwd=cwd, env=env, capture_output=True, text=True, timeout=300, check=False
    )


@pytest.fixture
def repo(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    if shutil.which("mcg-gen", path=str(BIN)) is None or shutil.which("git") is None:
        pytest.skip("needs git and mcg-gen installed next to this Python (pip install -e .)")
    env = environment(tmp_path)
    target = tmp_path / "demo"
    created = run([str(BIN / "mcg-gen"), "new", "demo", "--output", str(target)], tmp_path, env)
    assert created.returncode == 0, created.stderr
    installed = run([sys.executable, "-m", "pre_commit", "install"], target, env)
    assert installed.returncode == 0, installed.stdout + installed.stderr
    return target, env


def test_commit_of_a_good_repository_passes(repo: tuple[Path, dict[str, str]]) -> None:
    target, env = repo
    assert run(["git", "add", "-A"], target, env).returncode == 0
    commit = run(["git", "commit", "-q", "-m", "initial"], target, env)
    assert commit.returncode == 0, commit.stdout + commit.stderr
    assert "mcg-gen validate" in commit.stdout + commit.stderr
    assert run(["git", "log", "--oneline"], target, env).stdout.count("\n") == 1


def test_commit_of_a_bad_repository_is_blocked(repo: tuple[Path, dict[str, str]]) -> None:
    target, env = repo
    values = target / "values-group-one.yaml"
    values.write_text(values.read_text().replace("name: hello-world", "nme: hello-world", 1))
    assert run(["git", "add", "-A"], target, env).returncode == 0
    commit = run(["git", "commit", "-q", "-m", "typo"], target, env)
    output = commit.stdout + commit.stderr
    assert commit.returncode != 0
    assert "values/unknown-key" in output
    assert "values-group-one.yaml" in output
    assert run(["git", "rev-parse", "--verify", "HEAD"], target, env).returncode != 0


def test_this_project_offers_the_hooks(tmp_path: Path) -> None:
    hooks = {
        hook["id"]: hook
        for hook in yaml.safe_load((PROJECT / ".pre-commit-hooks.yaml").read_text())
    }
    assert hooks["mcg-gen-validate"]["entry"] == "mcg-gen validate"
    assert hooks["mcg-gen-validate"]["pass_filenames"] is False
    assert hooks["mcg-gen-generate-check"]["entry"] == "mcg-gen generate --check"


def test_generated_workflow_uploads_sarif(tmp_path: Path, cli: Any) -> None:
    result = cli("new", "demo", "--output", str(tmp_path / "demo"), "--no-git")
    assert result.code == 0
    workflow = yaml.safe_load((tmp_path / "demo/.github/workflows/validate.yaml").read_text())
    steps = workflow["jobs"]["validate"]["steps"]
    assert any("--format sarif" in step.get("run", "") for step in steps)
    assert any(
        step.get("uses", "").startswith("github/codeql-action/upload-sarif") for step in steps
    )
