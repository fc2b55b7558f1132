"""`mcg-gen import` through the CLI: import -> generate gives equivalent values files, on
repositories of every shape and age."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests import gitrepos
from tests.conftest import run_subprocess, tree
from tests.gitrepos import SHAPES, commit_all

OLD_GLOBAL = """\
global:
  pattern: old-timer
main:
  git:
    repoURL: https://github.com/example/old-timer.git
    revision: v1
"""
OLD_HUB = """\
clusterGroup:
  name: datacenter
  isHubCluster: true
  namespaces: [open-cluster-management, web]
  projects: [datacenter]
  subscriptions:
    - name: advanced-cluster-management
      namespace: open-cluster-management
      channel: release-2.9
  applications:
    - name: acm
      namespace: open-cluster-management
      project: datacenter
      path: common/acm
    - name: web
      namespace: web
      project: datacenter
      path: charts/all/web
      overrides:
        - name: replicas
          value: 3
  managedClusterGroups:
    - name: edge
      acmlabels:
        - name: site
          value: edge
    - name: factory
      clusterSelector:
        matchLabels:
          site: factory
        matchExpressions:
          - {key: vendor, operator: In, values: [OpenShift]}
"""
OLD_FACTORY = """\
clusterGroup:
  name: factory
  namespaces: [web]
  applications:
    web:
      name: web
      namespace: web
      project: factory
      path: charts/all/web
"""
OLD_EDGE = """\
clusterGroup:
  name: edge
  isHubCluster: false
  namespaces: [web]
  projects: [edge]
  applications:
    - name: web
      namespace: web
      project: edge
      path: charts/all/web
"""
OLD_SECRETS_V1 = """\
secrets:
  web:
    password: s3cr3t
files:
  web-cert: ~/certs/web.pem
"""
CHART = "apiVersion: v2\nname: web\nversion: 0.1.0\n"


def old_repo(folder: Path) -> Path:
    """The layout of the 2021-2022 patterns: isHubCluster, projects, list-form entries,
    acmlabels, values-secret 1.0."""
    folder.mkdir()
    (folder / "values-global.yaml").write_text(OLD_GLOBAL)
    (folder / "values-datacenter.yaml").write_text(OLD_HUB)
    (folder / "values-edge.yaml").write_text(OLD_EDGE)
    (folder / "values-factory.yaml").write_text(OLD_FACTORY)
    (folder / "values-secret.yaml.template").write_text(OLD_SECRETS_V1)
    (folder / "charts/all/web/templates").mkdir(parents=True)
    (folder / "charts/all/web/Chart.yaml").write_text(CHART)
    (folder / "charts/all/unused").mkdir(parents=True)
    (folder / "charts/all/unused/Chart.yaml").write_text(CHART.replace("web", "unused"))
    return gitrepos.init(folder)


def make(shape: str, folder: Path) -> Path:
    if shape == "old":
        return old_repo(folder)
    repo = gitrepos.make(shape, folder)
    if (repo / "pattern.yaml").exists():  # a generated repository whose spec was lost
        (repo / "pattern.yaml").unlink()
        commit_all(repo, "lose the spec")
    return repo


# -- an independent normal form: what "equivalent values" means ----------------------------


def _by_name(value: Any) -> dict[str, Any]:
    if isinstance(value, dict):
        return {str(k): v or None for k, v in value.items()}
    found: dict[str, Any] = {}
    for item in value or []:
        if isinstance(item, dict):
            found.update({str(k): v or None for k, v in item.items()})
        else:
            found[str(item)] = None
    return found


def normal(data: dict[str, Any]) -> dict[str, Any]:
    data = copy.deepcopy(data)
    group = data.get("clusterGroup")
    if not isinstance(group, dict):
        return data
    group.pop("isHubCluster", None)
    if "projects" in group:
        group.setdefault("argoProjects", group.pop("projects"))
    for section in ("applications", "managedClusterGroups", "subscriptions"):
        value = group.get(section)
        if isinstance(value, list):
            group[section] = {str(e.get("name", i)): e for i, e in enumerate(value)}
        elif isinstance(value, dict) and section != "subscriptions":
            group[section] = {str(e.get("name", k)): e for k, e in value.items()}
    for app in (group.get("applications") or {}).values():
        if "project" in app:
            app.setdefault("argoProject", app.pop("project"))
    for section in ("namespaces", "argoProjects"):
        if section in group:
            group[section] = _by_name(group[section])
    return data


def holds(generated: Any, original: Any, path: str = "") -> list[str]:
    """Paths of the values of `original` that `generated` lacks or has otherwise."""
    if isinstance(original, dict) and isinstance(generated, dict):
        return [
            problem
            for key, value in original.items()
            if value is not None
            for problem in holds(generated.get(key), value, f"{path}.{key}")
        ]
    return [] if generated == original else [f"{path}: {original!r} != {generated!r}"]


def values_files(repo: Path) -> dict[str, dict[str, Any]]:
    return {
        name: yaml.safe_load(content) or {}
        for name, content in tree(repo).items()
        if "/" not in name and name.startswith("values-") and name.endswith(".yaml")
    }


def after_secrets(repo: Path) -> dict[str, Any]:
    return yaml.safe_load((repo / "values-secret.yaml.template").read_text())


def secret_fields(template: dict[str, Any]) -> dict[str, Any]:
    """Each secret's Vault prefixes and fields with where their value comes from."""
    return {
        secret["name"]: (
            secret.get("vaultPrefixes", ["hub"]),
            [
                (f["name"], f.get("onMissingValue", "error"), f.get("path"))
                for f in secret["fields"]
            ],
        )
        for secret in template["secrets"]
    }


@pytest.mark.parametrize("shape", [*SHAPES, "old"])
def test_import_then_generate_reproduces_the_values_files(shape: str, tmp_path: Path) -> None:
    repo = make(shape, tmp_path / shape)
    before = values_files(repo)
    before_secrets = {
        path.name: yaml.safe_load(path.read_text()) for path in repo.glob("*.template")
    }
    imported = run_subprocess("import", str(repo), cwd=None)
    assert imported.code == 0, imported.err
    assert (repo / "pattern.yaml").is_file()
    again = run_subprocess("import", str(repo), cwd=None)
    assert again.code == 2 and "exists already" in again.err  # never overwritten silently

    charts_before = {n: c for n, c in tree(repo).items() if n.startswith("charts/")}
    generated = run_subprocess("generate", str(repo), "--force", cwd=None)
    assert generated.code == 0, generated.err
    after = values_files(repo)
    if shape != "generated":  # a hand-written repository's charts stay as they were
        charts_after = {n: c for n, c in tree(repo).items() if n.startswith("charts/")}
        assert charts_after == charts_before
    assert set(before) <= set(after)
    for name, original in before.items():
        assert holds(normal(after[name]), normal(original)) == [], name
    template = "values-secret.yaml.template"
    if template in before_secrets and before_secrets[template].get("version") == "2.0":
        now, then = secret_fields(after_secrets(repo)), secret_fields(before_secrets[template])
        assert set(now) == set(then)
        not_imported = imported.out.partition("not imported:")[2]
        for name in now:
            # a difference only where the report says what was not imported
            assert now[name] == then[name] or f"template: {name}" in not_imported, name
    # and generate, run again, has nothing left to do: the spec is the repository's now
    check = run_subprocess("generate", str(repo), "--check", cwd=None)
    assert check.code == 0, check.out + check.err


def test_a_generated_repository_imports_without_pass_through(tmp_path: Path) -> None:
    repo = make("generated", tmp_path / "repo")
    before = values_files(repo)
    imported = run_subprocess("import", str(repo), "-o", str(tmp_path / "spec.yaml"), cwd=None)
    assert imported.code == 0, imported.err
    spec = yaml.safe_load((tmp_path / "spec.yaml").read_text())
    assert "extraValues" not in str(spec) and "carried through" not in imported.out
    assert spec["hub"]["apps"][:2] == ["config-demo", "hello-world"]
    assert spec["secrets"]["config-demo"]["fields"]["secret"]["source"] == "generate"
    assert not (repo / "pattern.yaml").exists()  # -o writes elsewhere, the repository untouched
    (repo / "pattern.yaml").write_text((tmp_path / "spec.yaml").read_text())
    assert run_subprocess("generate", str(repo), "--force", cwd=None).code == 0
    assert values_files(repo) == before  # exactly: nothing added, nothing lost


def test_old_layouts_are_migrated_and_reported(tmp_path: Path) -> None:
    repo = old_repo(tmp_path / "old")
    result = run_subprocess("import", str(repo), cwd=None)
    assert result.code == 0, result.err
    report = result.out
    for expected in (
        "the hub is 'datacenter' (isHubCluster)",
        "values-datacenter.yaml: clusterGroup.projects -> argoProjects",
        "values-datacenter.yaml: clusterGroup.applications list -> map form",
        "values-datacenter.yaml: clusterGroup.managedClusterGroups list -> map form",
        "values-edge.yaml: applications.web.project -> argoProject",
        "values-secret 1.0 -> 2.0",
        "charts/all/web: app web",
        "charts/all/unused: no application uses it",
        "values-secret.yaml.template: web.password: its value",
        "managedClusterGroups.factory.clusterSelector (PlacementRule era): its matchLabels",
    ):
        assert expected in report, expected
    spec = yaml.safe_load((repo / "pattern.yaml").read_text())
    assert spec["hub"]["name"] == "datacenter"
    assert spec["git"] == {"repoURL": "https://github.com/example/old-timer.git", "revision": "v1"}
    assert spec["groups"][0]["name"] == "edge"
    assert spec["groups"][0]["labels"] == {"site": "edge"}
    factory = spec["groups"][1]
    assert factory["name"] == "factory" and factory["labels"] == {"site": "factory"}
    # matchExpressions have no spec key: carried through on the hub's entry for the group
    managed = spec["hub"]["extraValues"]["clusterGroup"]["managedClusterGroups"]
    assert managed["factory"]["clusterSelector"]["matchExpressions"][0]["key"] == "vendor"
    assert spec["apps"]["web"] == {
        "namespace": "web",
        "project": "datacenter",
        "path": "charts/all/web",
        "scaffold": False,
        "overrides": {"replicas": 3},
    }
    assert spec["operators"]["advanced-cluster-management"]["channel"] == "release-2.9"
    assert spec["secrets"]["web"]["fields"] == {"password": "required"}
    assert spec["secrets"]["web-cert"]["fields"]["content"] == {
        "source": "file",
        "path": "~/certs/web.pem",
    }
    # the edge group runs web in another project: carried through, and said so
    assert "values-edge.yaml: clusterGroup.applications.web.argoProject" in report


def test_what_the_spec_cannot_say_is_passed_through_and_reported(tmp_path: Path) -> None:
    repo = gitrepos.make("listform", tmp_path / "lists")
    result = run_subprocess("import", str(repo), cwd=None)
    assert result.code == 0, result.err
    spec = yaml.safe_load((repo / "pattern.yaml").read_text())
    lists = next(g for g in spec["groups"] if g["name"] == "group-lists")
    extra = lists["extraValues"]["clusterGroup"]
    # kustomize and disabled applications, argoCD settings, extra objects: all carried
    assert extra["applications"]["kustomized"]["kustomize"] is True
    assert extra["argoCD"]["resourceTrackingMethod"] == "annotation"
    assert "wait-for-storage" in extra["extraObjects"]
    for path in ("clusterGroup.argoCD", "clusterGroup.extraObjects", "clusterGroup.nodes"):
        assert f"values-group-lists.yaml: {path}" in result.out
    # global.singleArgoCD: true is what generate writes itself (as upstream): nothing to carry
    assert "extraValues" not in spec


def test_refusals(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    result = run_subprocess("import", str(empty), cwd=None)
    assert result.code == 1 and "values-global.yaml is missing" in result.err
    assert not (empty / "pattern.yaml").exists()
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "values-global.yaml").write_text("global: [unclosed\n")
    result = run_subprocess("import", str(broken), cwd=None)
    assert result.code == 1 and "values-global.yaml" in result.err
    assert "Traceback" not in result.err and not (broken / "pattern.yaml").exists()


def test_help_has_examples() -> None:
    result = run_subprocess("import", "--help", cwd=None)
    assert result.code == 0 and "examples:" in result.out and "extraValues" in result.out
