"""`mcg-gen validate --since REF` on a git history built here: only the cluster groups whose
inputs changed are rendered and checked."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import Result

Cli = Callable[..., Result]
IDENTITY = {
    "GIT_AUTHOR_NAME": "Test",
    "GIT_AUTHOR_EMAIL": "test@example.com",
    "GIT_COMMITTER_NAME": "Test",
    "GIT_COMMITTER_EMAIL": "test@example.com",
}


def git(repo: Path, *args: str) -> str:
    completed = subprocess.run(
        ["git", *args],
        cwd=repo,
        env={**os.environ, **IDENTITY},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return completed.stdout


@pytest.fixture
def history(tmp_path: Path, cli: Cli) -> Path:
    """A pattern repository with its first commit on `main` and a feature branch checked out."""
    repo = tmp_path / "demo"
    assert cli("new", "demo", "--output", str(repo)).code == 0
    git(repo, "checkout", "-q", "-b", "main")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "initial")
    git(repo, "checkout", "-q", "-b", "feature")
    return repo


def checked(cli: Cli, repo: Path, since: str) -> tuple[int, int, str]:
    """(exit code, resources checked, the groups line) of `validate --since`."""
    result = cli("validate", str(repo), "--since", since, "--format", "json", "--no-cache")
    return result.code, json.loads(result.out)["summary"]["resources"], result.err


def test_only_changed_groups_are_rendered(history: Path, cli: Cli) -> None:
    full = cli("validate", str(history), "--format", "json", "--no-cache")
    total = json.loads(full.out)["summary"]["resources"]

    code, resources, said = checked(cli, history, "main")
    assert (code, resources) == (0, 0)
    assert "0 of 2 cluster groups changed since main: none" in said

    (history / "NOTES.md").write_text("documentation changes no group\n")
    assert checked(cli, history, "main")[1] == 0

    values = history / "values-group-one.yaml"
    values.write_text(values.read_text() + "\n# a comment\n")
    git(history, "commit", "-q", "-am", "group-one only")
    code, group_one, said = checked(cli, history, "main")
    assert code == 0
    assert "1 of 2 cluster groups changed since main: group-one" in said
    assert 0 < group_one < total

    chart = history / "charts/all/hello-world/values.yaml"
    chart.write_text(chart.read_text() + "\n# both groups run hello-world\n")
    code, resources, said = checked(cli, history, "main")  # uncommitted changes count too
    assert "2 of 2 cluster groups changed since main: group-one, hub" in said
    assert resources == total


def test_a_change_that_breaks_only_an_unchanged_group_is_not_rendered(
    history: Path, cli: Cli
) -> None:
    hub = history / "values-hub.yaml"
    hub.write_text(hub.read_text().replace("name: hello-world", "nme: hello-world", 1))
    git(history, "commit", "-q", "-am", "typo in the hub")
    git(history, "checkout", "-q", "-b", "later")
    code, resources, said = checked(cli, history, "feature")
    assert "0 of 2 cluster groups changed since feature" in said
    assert resources == 0
    # the file layers still check every file: the typo stays reported
    assert code == 1


def test_an_unknown_ref_is_a_usage_error(history: Path, cli: Cli) -> None:
    result = cli("validate", str(history), "--since", "no-such-branch")
    assert result.code == 2
    assert "cannot compare with 'no-such-branch'" in result.err
    assert "fetch-depth" in result.err
