"""`mcg-gen add` through the CLI: pattern.yaml grows in place (comments and formatting kept), the
repository is regenerated, and a conflicting change is refused with nothing changed."""

from __future__ import annotations

import difflib
from pathlib import Path

import pytest
import yaml

from tests import gitrepos
from tests.conftest import run_subprocess, tree


def add(repo: Path, *args: str) -> tuple[int, str]:
    result = run_subprocess("add", *args, "-C", str(repo), cwd=None)
    return result.code, result.out + result.err


def removed_lines(before: str, after: str) -> list[str]:
    return [
        line[2:]
        for line in difflib.ndiff(before.splitlines(), after.splitlines())
        if line[:2] == "- "
    ]


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return gitrepos.make("generated", tmp_path / "repo")


def test_group_app_and_secret_are_added_and_generated(repo: Path) -> None:
    spec = repo / "pattern.yaml"
    before = spec.read_text()
    code, out = add(repo, "group", "edge", "--app", "hello-world", "--label", "site=edge")
    assert code == 0, out
    code, out = add(repo, "app", "dashboard", "--group", "edge", "--group", "hub")
    assert code == 0, out
    code, out = add(
        repo,
        "secret",
        "db",
        "--field",
        "password",
        "--field",
        "ca=file:~/ca.pem",
        "--app",
        "dashboard",
    )
    assert code == 0, out
    after = spec.read_text()
    # every comment and line of the file is still there, in order; only the flow lists that
    # grew were rewritten (in their own flow style)
    assert removed_lines(before, after) == ["  apps: [config-demo, hello-world]"]
    assert "  apps: [config-demo, hello-world, dashboard]" in after
    assert "    apps: [hello-world, dashboard]" in after
    assert [line for line in before.splitlines() if line.startswith("#")] == [
        line for line in after.splitlines() if line.startswith("#")
    ]
    # and the repository follows
    edge = yaml.safe_load((repo / "values-edge.yaml").read_text())["clusterGroup"]
    assert set(edge["applications"]) >= {"hello-world", "dashboard"}
    hub = yaml.safe_load((repo / "values-hub.yaml").read_text())["clusterGroup"]
    assert hub["managedClusterGroups"]["edge"]["acmlabels"] == [{"name": "site", "value": "edge"}]
    assert "dashboard" in hub["applications"]
    assert (repo / "charts/all/dashboard/Chart.yaml").is_file()
    template = yaml.safe_load((repo / "values-secret.yaml.template").read_text())
    db = next(secret for secret in template["secrets"] if secret["name"] == "db")
    assert [field["name"] for field in db["fields"]] == ["password", "ca"]
    check = run_subprocess("generate", str(repo), "--check", cwd=None)
    assert check.code == 0, check.out + check.err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("group", "group-one"), "has a cluster group 'group-one' already"),
        (("group", "hub"), "has a cluster group 'hub' already"),
        (("group", "edge", "--app", "nope"), "there is no app 'nope'"),
        (("app", "hello-world"), "has an app 'hello-world' already"),
        (("app", "web", "--group", "nowhere"), "there is no cluster group 'nowhere'"),
        (("app", "web", "--secret", "nothing"), "there is no secret 'nothing'"),
        (("secret", "config-demo"), "has a secret 'config-demo' already"),
        (("secret", "db", "--app", "ghost"), "there is no app 'ghost'"),
        (("secret", "db", "--field", "x=telepathy"), "unknown source 'telepathy'"),
        (("group", "Not_A_Name"), "Not_A_Name"),
        (("group", "edge", "--label", "nolabel"), "is not KEY=VALUE"),
    ],
)
def test_conflicts_are_refused_and_change_nothing(
    repo: Path, args: tuple[str, ...], message: str
) -> None:
    before = tree(repo)
    code, out = add(repo, *args)
    assert code != 0
    assert message in out and "Traceback" not in out
    assert tree(repo) == before


def test_no_generate_edits_the_spec_only(repo: Path) -> None:
    before = tree(repo)
    code, out = add(repo, "group", "edge", "--no-generate")
    assert code == 0, out
    after = tree(repo)
    assert {name for name in after if after[name] != before.get(name)} == {"pattern.yaml"}


def test_add_to_an_imported_repository(tmp_path: Path) -> None:
    repo = gitrepos.make("handwritten", tmp_path / "old")
    assert run_subprocess("import", str(repo), cwd=None).code == 0
    assert run_subprocess("generate", str(repo), "--force", cwd=None).code == 0
    code, out = add(repo, "group", "group-two", "--app", "hello-world")
    assert code == 0, out
    spec = (repo / "pattern.yaml").read_text()
    assert spec.startswith("# Imported by 'mcg-gen import'")
    assert (repo / "values-group-two.yaml").is_file()


def test_without_a_spec(tmp_path: Path) -> None:
    code, out = add(tmp_path, "group", "edge")
    assert code == 2 and "no pattern.yaml" in out


def test_help_has_examples() -> None:
    result = run_subprocess("add", "--help", cwd=None)
    assert result.code == 0 and "mcg-gen add group edge" in result.out
