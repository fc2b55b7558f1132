"""Broken specs: each error names the file, line and column, says what is wrong and how to fix it,
exits 1, and writes nothing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

BASE = """\
name: demo
git:
  repoURL: https://git.example.com/demo.git
hub:
  apps: [web]
groups:
  - name: edge
    apps: [web]
apps:
  web:
    secrets: [db]
secrets:
  db:
    fields:
      password: generate
"""

CASES = [
    pytest.param(
        BASE.replace("name: demo", "nme: demo"),
        "1:1",
        "unknown key",
        "did you mean 'name'?",
        id="unknown-top-level-key",
    ),
    pytest.param(
        BASE.replace("    apps: [web]\napps", "    aps: [web]\napps"),
        "8:5",
        "groups[0].aps: unknown key",
        "did you mean 'apps'?",
        id="typo-in-group",
    ),
    pytest.param(
        BASE.replace("  - name: edge\n    apps: [web]", "  - name: edge\n    apps: [wbe]"),
        "8:12",
        "unknown app 'wbe'",
        "did you mean 'web'?",
        id="unknown-app",
    ),
    pytest.param(
        BASE.replace("secrets: [db]", "secrets: [dbb]"),
        "11:15",
        "unknown secret 'dbb'",
        "did you mean 'db'?",
        id="unknown-secret",
    ),
    pytest.param(
        BASE.replace("name: edge", "name: factory-east-datacenter"),
        "7:11",
        "ACM policy name 'factory-east-datacenter-clustergroup-policy'",
        "use at most 18 characters",
        id="group-name-too-long-for-acm",
    ),
    pytest.param(
        BASE.replace("name: edge", "name: Edge_1"),
        "7:5",
        "groups[0].name: invalid value 'Edge_1'",
        "DNS-1123",
        id="group-name-not-dns",
    ),
    pytest.param(
        BASE.replace("name: edge", "name: hub"),
        "7:11",
        "cluster group 'hub' is defined twice",
        "unique",
        id="duplicate-group",
    ),
    pytest.param(
        BASE.replace("    secrets: [db]", "    path: ../../etc"),
        "11:11",
        "is not a folder inside the repository",
        "relative path",
        id="path-escapes",
    ),
    pytest.param(
        BASE.replace("    secrets: [db]", "    path: /etc/passwd"),
        "11:11",
        "is not a folder inside the repository",
        "relative path",
        id="absolute-path",
    ),
    pytest.param(
        BASE.replace("    secrets: [db]", "    chart: web\n    path: x"),
        "12:5",
        "apps.web: 'path' and 'chart' cannot be used together",
        "keep only one",
        id="path-and-chart",
    ),
    pytest.param(
        BASE.replace("    secrets: [db]", "    chart: web"),
        "10:3",
        "needs a chart 'version'",
        "0.1.*",
        id="remote-without-version",
    ),
    pytest.param(
        BASE.replace("password: generate", "password: generated"),
        "15:7",
        "secrets.db.fields.password: 'generated' is not one of: generate, prompt, file, required",
        "generate: a random value",
        id="bad-field-source",
    ),
    pytest.param(
        BASE.replace("    fields:", "    prefixes: [edge]\n    fields:"),
        "14:5",
        "no vault prefix of secret 'db' (edge) is readable by all of them",
        "add 'global'",
        id="prefix-not-readable",
    ),
    pytest.param(
        BASE.replace("    fields:", "    prefixes: [nowhere]\n    fields:"),
        "14:16",
        "vault prefix 'nowhere' is neither global, hub nor a cluster group",
        "use one of",
        id="unknown-prefix",
    ),
    pytest.param(
        BASE.replace("password: generate", "password: {source: prompt, policy: x}"),
        "15:34",
        "'policy' applies to 'generate' fields only",
        "",
        id="option-of-other-source",
    ),
    pytest.param(
        BASE.replace("  repoURL: https://git.example.com/demo.git", "  repoURL: 42"),
        "3:3",
        "git.repoURL: expected a string, got an integer",
        "",
        id="wrong-type",
    ),
    pytest.param(
        BASE + "apps:\n  other: {}\n",
        "16:1",
        "duplicate key 'apps'",
        "remove or rename",
        id="duplicate-key",
    ),
    pytest.param(BASE.replace("hub:\n", "hub:\n\t"), "5:1", "invalid YAML", "tabs", id="tab"),
    pytest.param(
        "- just\n- a list\n", "1:1", "must be a mapping", "mcg-gen new", id="not-a-mapping"
    ),
    pytest.param(
        BASE.replace("name: demo", "name: !!python/object/apply:os.system [ls]"),
        "1:7",
        "unsupported tag",
        "never constructs objects",
        id="unsafe-tag",
    ),
]


@pytest.mark.parametrize(("text", "position", "message", "hint"), CASES)
def test_spec_error_names_file_line_and_fix(
    text: str, position: str, message: str, hint: str, tmp_path: Path, cli: Any
) -> None:
    spec = tmp_path / "spec.yaml"
    spec.write_text(text)
    target = tmp_path / "out"
    result = cli("new", "demo", "--spec", str(spec), "--output", str(target), "--no-git")
    assert result.code == 1, result.err
    assert f"{spec}:{position}: " in result.err
    assert message in result.err
    assert hint in result.err
    assert "Traceback" not in result.err
    assert not target.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["spec.yaml"]


def test_all_problems_are_reported_at_once(tmp_path: Path, cli: Any) -> None:
    spec = tmp_path / "spec.yaml"
    spec.write_text(
        BASE.replace("apps: [web]", "apps: [nope]").replace("secrets: [db]", "secrets: [x]")
    )
    result = cli("new", "demo", "--spec", str(spec), "--output", str(tmp_path / "out"), "--no-git")
    assert result.code == 1
    assert result.err.count("unknown app 'nope'") == 2
    assert "unknown secret 'x'" in result.err


def test_broken_spec_in_existing_repo_changes_nothing(example_repo: Any, cli: Any) -> None:
    from tests.conftest import tree

    repo = example_repo("multicloud-gitops")
    spec = repo / "pattern.yaml"
    spec.write_text(spec.read_text().replace("apps: [config-demo, hello-world]", "apps: [nope]", 1))
    before = tree(repo)
    result = cli("generate", str(repo))
    assert result.code == 1
    assert "pattern.yaml:" in result.err and "unknown app 'nope'" in result.err
    assert tree(repo) == before
