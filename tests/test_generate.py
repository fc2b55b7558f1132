"""`mcg-gen new` and `mcg-gen generate`: what they write, and that regenerating is safe."""

from __future__ import annotations

import io
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from generator import bundled, state
from generator.commands.generate import generate
from generator.model.spec import load_spec
from tests.conftest import REFERENCE, needs_shared, tree

EXAMPLES = sorted(path.stem for path in bundled.patterns_dir().glob("*.yaml"))
DEPRECATED_KEYS = {"projects", "project", "isHubCluster"}


def load(repo: Path, name: str) -> Any:
    return yaml.safe_load((repo / name).read_text())


def namespace_names(cluster_group: dict[str, Any]) -> list[str]:
    """The names of a list-form `namespaces`: strings and one-key maps alike."""
    return [
        entry if isinstance(entry, str) else next(iter(entry))
        for entry in cluster_group["namespaces"]
    ]


def all_keys(node: Any) -> set[str]:
    if isinstance(node, dict):
        return set(node) | {key for value in node.values() for key in all_keys(value)}
    if isinstance(node, list):
        return {key for item in node for key in all_keys(item)}
    return set()


def test_there_are_at_least_two_examples() -> None:
    assert "multicloud-gitops" in EXAMPLES
    assert len(EXAMPLES) >= 2


def test_reference_example_fits_in_about_forty_lines() -> None:
    lines = (bundled.patterns_dir() / "multicloud-gitops.yaml").read_text().splitlines()
    meaningful = [line for line in lines if line.strip() and not line.lstrip().startswith("#")]
    assert len(meaningful) <= 45


@pytest.mark.parametrize("example", EXAMPLES)
def test_generated_values_files_follow_the_validated_patterns_layout(
    example: str, example_repo: Callable[[str], Path]
) -> None:
    repo = example_repo(example)
    pattern = load_spec(repo / "pattern.yaml")
    global_values = load(repo, "values-global.yaml")
    assert global_values["global"]["pattern"] == example
    assert set(global_values["global"]["options"]) >= {
        "useCSV",
        "syncPolicy",
        "installPlanApproval",
    }
    assert global_values["main"]["clusterGroupName"] == pattern.hub.name
    assert global_values["main"]["multiSourceConfig"]["enabled"] is True

    for group in pattern.cluster_groups:
        values = load(repo, f"values-{group.name}.yaml")
        tree_ = values["clusterGroup"]
        assert tree_["name"] == group.name
        assert not DEPRECATED_KEYS & all_keys(values)
        applications = tree_["applications"]
        assert isinstance(applications, dict)  # map form
        for key, application in applications.items():
            assert application["name"] == key
            assert application["argoProject"] in tree_["argoProjects"]
            assert application["namespace"] in namespace_names(tree_)
            assert ("path" in application) != ("chart" in application)
            if "path" in application:
                assert (repo / application["path"] / "Chart.yaml").is_file()
            else:
                assert application["chartVersion"]
        for subscription in tree_.get("subscriptions", {}).values():
            assert subscription["namespace"] in [*namespace_names(tree_), "openshift-operators"]
        if "imperative" in tree_:
            assert isinstance(tree_["imperative"]["jobs"], list)
        if group.is_hub and pattern.groups:
            managed = tree_["managedClusterGroups"]
            assert sorted(managed) == sorted(g.name for g in pattern.groups)
            for name, entry in managed.items():
                labels = {label["name"]: label["value"] for label in entry["acmlabels"]}
                assert labels == dict(pattern.group(name).selector_labels)
        else:
            assert "managedClusterGroups" not in tree_


def test_platform_references_the_upstream_charts_as_the_reference_pattern_does(
    example_repo: Callable[[str], Path],
) -> None:
    """Chart names, versions, subscriptions and channels as upstream multicloud-gitops writes
    them in its values files (github.com/validatedpatterns/multicloud-gitops): spelt out here,
    so that a change of the platform data is a visible change of this test."""
    repo = example_repo("multicloud-gitops")
    global_values = load(repo, "values-global.yaml")
    assert global_values["global"]["singleArgoCD"] is True
    assert global_values["main"]["multiSourceConfig"] == {
        "enabled": True,
        "clusterGroupChartVersion": "0.9.*",
    }
    hub = load(repo, "values-hub.yaml")["clusterGroup"]
    spoke = load(repo, "values-group-one.yaml")["clusterGroup"]

    def source(application: dict[str, Any]) -> dict[str, Any]:
        keys = ("chart", "chartVersion", "namespace", "path", "repoURL")
        return {key: application[key] for key in keys if key in application}

    assert source(hub["applications"]["acm"]) == {
        "chart": "acm",
        "chartVersion": "0.2.*",
        "namespace": "open-cluster-management",
    }
    assert source(hub["applications"]["vault"]) == {
        "chart": "hashicorp-vault",
        "chartVersion": "0.1.*",
        "namespace": "vault",
    }
    assert hub["subscriptions"]["acm"] == {
        "name": "advanced-cluster-management",
        "namespace": "open-cluster-management",
        "channel": "release-2.16",
    }
    for group in (hub, spoke):
        assert source(group["applications"]["openshift-external-secrets"]) == {
            "chart": "openshift-external-secrets",
            "chartVersion": "0.0.*",
            "namespace": "external-secrets",
        }
        assert group["subscriptions"]["eso"] == {
            "name": "openshift-external-secrets-operator",
            "namespace": "external-secrets-operator",
            "channel": "stable-v1",
        }
        # Red Hat's operator watches all namespaces: an OperatorGroup without target namespaces
        assert {
            "external-secrets-operator": {"operatorGroup": True, "targetNamespaces": []}
        } in group["namespaces"]
        paths = [app["path"] for app in group["applications"].values() if "path" in app]
        assert all(path.startswith("charts/") for path in paths), paths
    assert "vault" not in spoke["applications"]
    assert "acm" not in spoke["applications"]
    assert "acm" not in spoke.get("subscriptions", {})
    assert not (repo / "common").exists()


def test_industrial_edge_wiring(example_repo: Callable[[str], Path]) -> None:
    repo = example_repo("industrial-edge")
    hub = load(repo, "values-datacenter.yaml")["clusterGroup"]
    east = load(repo, "values-factory-east.yaml")["clusterGroup"]
    assert load(repo, "values-global.yaml")["global"]["options"]["installPlanApproval"] == "Manual"
    assert hub["applications"]["pipelines"]["syncPolicy"] == {"retry": {"limit": 20}}
    assert hub["applications"]["pipelines"]["ignoreDifferences"] == [
        {"group": "tekton.dev", "kind": "Pipeline", "jsonPointers": ["/spec/params"]}
    ]
    assert hub["applications"]["line-dashboard"]["overrides"] == [{"name": "replicas", "value": 2}]
    # a factory's own dashboard value reaches that factory's dashboard Application, after the
    # app's own overrides; the other factory and the hub do not get it
    assert east["applications"]["line-dashboard"]["overrides"] == [
        {"name": "replicas", "value": 2},
        {"name": "dashboard.siteName", "value": "east"},
    ]
    west = load(repo, "values-factory-west.yaml")["clusterGroup"]
    assert west["applications"]["line-dashboard"]["overrides"] == [{"name": "replicas", "value": 2}]
    assert "helmOverrides" not in hub["managedClusterGroups"]["factory-east"]
    broker = east["applications"]["broker"]
    assert broker["repoURL"] == "https://charts.example.com/stable"
    assert broker["chartVersion"] == "1.2.*"
    # apps on one group live under that group's folder, shared ones under all/
    assert hub["applications"]["data-lake"]["path"] == "charts/hub/data-lake"
    assert east["applications"]["line-dashboard"]["path"] == "charts/all/line-dashboard"
    # factories consume no secret: no External Secrets there
    assert "openshift-external-secrets" not in east["applications"]
    assert "eso" not in east["subscriptions"]


@pytest.mark.parametrize("example", EXAMPLES)
def test_secret_template_matches_the_spec_and_holds_no_value(
    example: str, example_repo: Callable[[str], Path]
) -> None:
    repo = example_repo(example)
    pattern = load_spec(repo / "pattern.yaml")
    template = load(repo, "values-secret.yaml.template")
    assert template["version"] == "2.0"
    by_name = {secret["name"]: secret for secret in template["secrets"]}
    assert set(by_name) == set(pattern.secrets)
    for secret in pattern.secrets.values():
        entry = by_name[secret.name]
        assert entry["vaultPrefixes"] == list(secret.prefixes)
        fields = {field["name"]: field for field in entry["fields"]}
        for field in secret.fields:
            emitted = fields[field.name]
            assert emitted.get("value") is None
            if field.source == "generate":
                assert emitted["onMissingValue"] == "generate"
                assert emitted["vaultPolicy"] == field.vault_policy
            elif field.source == "file":
                assert emitted["path"]
            else:
                assert emitted["onMissingValue"] in ("prompt", "error")


def test_app_that_consumes_a_secret_reads_its_vault_path(
    example_repo: Callable[[str], Path],
) -> None:
    repo = example_repo("industrial-edge")
    values = load(repo, "charts/hub/pipelines/values.yaml")
    assert values["externalSecrets"] == [
        {
            "name": "git-token",
            "vaultKey": "secret/data/hub/git-token",
            "fields": ["token", "ssh-key"],
        }
    ]
    assert load(repo, "charts/all/line-dashboard/values.yaml")["externalSecrets"] == []


@pytest.mark.parametrize("example", EXAMPLES)
def test_values_pass_the_published_clustergroup_schema(
    example: str, example_repo: Callable[[str], Path]
) -> None:
    needs_shared()
    schema = json.loads(
        (REFERENCE / "validatedpatterns/clustergroup.values.schema.json").read_text()
    )
    validator = jsonschema.Draft7Validator(schema)
    repo = example_repo(example)
    global_values = load(repo, "values-global.yaml")
    for path in sorted(repo.glob("values-*.yaml")):
        if path.name == "values-global.yaml":
            continue
        merged = {**global_values, **load(repo, path.name)}
        errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(merged)]
        assert errors == [], path.name


@pytest.mark.parametrize("example", EXAMPLES)
def test_secret_template_passes_the_published_schema(
    example: str, example_repo: Callable[[str], Path]
) -> None:
    needs_shared()
    schema = json.loads((REFERENCE / "validatedpatterns/values-secrets.v2.schema.json").read_text())
    repo = example_repo(example)
    template = load(repo, "values-secret.yaml.template")
    errors = [e.message for e in jsonschema.Draft7Validator(schema).iter_errors(template)]
    assert errors == []


def test_repository_scaffolding(example_repo: Callable[[str], Path]) -> None:
    repo = example_repo("multicloud-gitops")
    assert (
        (repo / "pattern.yaml")
        .read_text()
        .startswith("# yaml-language-server: $schema=.mcg-gen/pattern.schema.json\n")
    )
    assert json.loads((repo / ".mcg-gen/pattern.schema.json").read_text())["$schema"].endswith(
        "2020-12/schema"
    )
    ignored = (repo / ".gitignore").read_text().splitlines()
    assert "values-secret.yaml" in ignored
    hooks = load(repo, ".pre-commit-config.yaml")["repos"][0]["hooks"]
    assert [hook["id"] for hook in hooks] == ["mcg-gen-validate", "mcg-gen-generate-check"]
    workflow = load(repo, ".github/workflows/validate.yaml")
    steps = workflow["jobs"]["validate"]["steps"]
    assert any("mcg-gen validate" in step.get("run", "") for step in steps)
    metadata = load(repo, "pattern-metadata.yaml")
    assert metadata["name"] == "multicloud-gitops"
    assert metadata["extra_features"]["spoke_support"] is True
    # plain Argo CD deploys what the operator deploys: the upstream clustergroup chart from the
    # Helm repository, values from the pattern repository
    bootstrap = load(repo, "bootstrap/hub-application.yaml")
    assert bootstrap["kind"] == "Application"
    assert bootstrap["metadata"]["namespace"] == "openshift-gitops"
    values_source, chart_source = bootstrap["spec"]["sources"]
    assert values_source == {
        "repoURL": "https://github.com/example/multicloud-gitops.git",
        "targetRevision": "main",
        "ref": "patternref",
    }
    assert {key: chart_source[key] for key in ("repoURL", "chart", "targetRevision")} == {
        "repoURL": "https://charts.validatedpatterns.io/",
        "chart": "clustergroup",
        "targetRevision": "0.9.*",
    }
    assert chart_source["helm"]["valueFiles"] == [
        "$patternref/values-global.yaml",
        "$patternref/values-hub.yaml",
    ]
    parameters = {p["name"]: p["value"] for p in chart_source["helm"]["parameters"]}
    assert parameters["global.multiSourceSupport"] == "true"
    assert parameters["global.multiSourceTargetRevision"] == "0.9.*"
    assert parameters["global.pattern"] == "multicloud-gitops"
    pattern_resource = load(repo, "bootstrap/pattern.yaml")
    assert pattern_resource["spec"]["multiSourceConfig"] == {
        "enabled": True,
        "clusterGroupChartVersion": "0.9.*",
    }
    readme = (repo / "README.md").read_text()
    assert "`group-one` | managed" in readme
    assert "secret/data/global/config-demo" in readme
    install = readme[readme.index("## Install") :]
    install = install[: install.index("\n## ", 1)]
    assert "oc apply -f bootstrap/pattern.yaml" in install
    assert "oc apply -f bootstrap/hub-application.yaml" in install
    # nothing the install section names is missing from the repository
    for named in re.findall(r"`([\w./-]+\.yaml)`", install):
        assert (repo / named).is_file(), named
    assert "common/" not in install


def test_generate_twice_changes_nothing(example_repo: Callable[[str], Path], cli: Any) -> None:
    repo = example_repo("industrial-edge")
    before = tree(repo)

    def mtimes() -> dict[Path, int]:
        return {
            p: p.stat().st_mtime_ns for p in repo.rglob("*") if p.is_file() and p.name != "lock"
        }

    before_mtimes = mtimes()
    result = cli("generate", str(repo))
    assert result.code == 0
    assert "unchanged" in result.out and "created" not in result.out
    assert tree(repo) == before
    assert mtimes() == before_mtimes


def test_spec_change_updates_only_affected_files(
    example_repo: Callable[[str], Path], cli: Any
) -> None:
    repo = example_repo("multicloud-gitops")
    before = tree(repo)
    spec = repo / "pattern.yaml"
    spec.write_text(spec.read_text().replace("release-2.16", "release-2.15"))
    result = cli("generate", str(repo))
    assert result.code == 0, result.err
    after = tree(repo)
    changed = {path for path in after if after[path] != before.get(path)}
    assert changed == {
        "pattern.yaml",
        "values-hub.yaml",
        ".mcg-gen/state.json",
        ".mcg-gen/base/values-hub.yaml",  # what was written: the base of a later merge
    }
    assert "channel: release-2.15" in after["values-hub.yaml"].decode()


def test_an_edit_and_a_spec_change_are_merged(
    example_repo: Callable[[str], Path], cli: Any
) -> None:
    """A hand edit no longer hides a later spec change: generate merges both, --check and
    validate see the drift until it has run, and a second run keeps the merged file."""
    repo = example_repo("multicloud-gitops")
    hub = repo / "values-hub.yaml"
    edited = hub.read_text() + "# tuned by hand\n"
    hub.write_text(edited)
    assert cli("generate", str(repo), "--check").code == 0, "an edit alone is not drift"
    spec = repo / "pattern.yaml"
    spec.write_text(spec.read_text().replace("release-2.16", "release-2.15"))
    assert cli("generate", str(repo), "--check").code == 1
    assert "spec/out-of-date" in cli("validate", str(repo), "--format", "json").out

    result = cli("generate", str(repo), "--diff")
    assert result.code == 0, result.err
    assert "merged    values-hub.yaml: your edits and the spec's changes, merged" in result.out
    assert "-      channel: release-2.16\n+      channel: release-2.15" in result.out
    merged = hub.read_text()
    assert merged == edited.replace("release-2.16", "release-2.15")
    assert cli("generate", str(repo), "--check").code == 0
    again = cli("generate", str(repo))
    assert "merged" not in again.out and "1 with your edits" in again.out
    assert hub.read_text() == merged

    forced = cli("generate", str(repo), "--force")
    assert forced.code == 0
    assert "# tuned by hand" not in hub.read_text()
    backups = list((repo / ".mcg-gen/backups").rglob("values-hub.yaml"))
    assert [backup.read_text() for backup in backups] == [merged]


def test_overlapping_changes_get_conflict_markers_until_resolved(
    example_repo: Callable[[str], Path], cli: Any
) -> None:
    repo = example_repo("multicloud-gitops")
    hub = repo / "values-hub.yaml"
    hub.write_text(hub.read_text().replace("release-2.16", "release-2.13"))
    spec = repo / "pattern.yaml"
    spec.write_text(spec.read_text().replace("release-2.16", "release-2.15"))

    result = cli("generate", str(repo))
    assert result.code == 1
    assert "conflict  values-hub.yaml: you and the spec changed the same lines" in result.out
    text = hub.read_text()
    assert "<<<<<<< values-hub.yaml (yours)\n" in text
    assert "release-2.13" in text and "release-2.15" in text
    assert text.count("\n=======\n") == 1
    assert ">>>>>>> values-hub.yaml (generated now)\n" in text
    # unresolved, the repository is out of date and every run says so
    assert cli("generate", str(repo), "--check").code == 1
    again = cli("generate", str(repo))
    assert again.code == 1 and "still has the conflict markers" in again.out
    assert hub.read_text() == text

    hub.write_text(
        "\n".join(
            line
            for line in text.splitlines()
            if not line.startswith(("<<<<<<<", "=======", ">>>>>>>")) and "2.13" not in line
        )
        + "\n"
    )
    assert cli("generate", str(repo), "--check").code == 0
    assert "channel: release-2.15" in hub.read_text()


def test_files_no_longer_generated_are_removed_unless_edited(
    example_repo: Callable[[str], Path], cli: Any
) -> None:
    repo = example_repo("multicloud-gitops")
    (repo / "charts/all/hello-world/values.yaml").write_text("replicas: 3\n")
    spec = repo / "pattern.yaml"
    text = spec.read_text().replace("[config-demo, hello-world]", "[config-demo]")
    spec.write_text(text.replace("  hello-world: {}\n", ""))

    result = cli("generate", str(repo))
    assert result.code == 0, result.err
    assert not (repo / "charts/all/hello-world/Chart.yaml").exists()
    assert not (repo / "charts/all/hello-world/templates").exists()
    assert (repo / "charts/all/hello-world/values.yaml").read_text() == "replicas: 3\n"
    assert "no longer generated, but edited by hand" in result.out
    recorded = state.read_state(repo)
    assert not any(path.startswith("charts/all/hello-world/") for path in recorded)


def test_dry_run_writes_nothing(example_repo: Callable[[str], Path], cli: Any) -> None:
    repo = example_repo("multicloud-gitops")
    spec = repo / "pattern.yaml"
    spec.write_text(spec.read_text().replace("release-2.16", "release-2.15"))
    (repo / "values-group-one.yaml").unlink()
    before = tree(repo)
    result = cli("generate", str(repo), "--dry-run", "--diff")
    assert result.code == 0
    assert "would update values-hub.yaml" in result.out
    assert "would create values-group-one.yaml" in result.out
    assert "+      channel: release-2.15" in result.out
    assert tree(repo) == before
    assert cli("generate", str(repo), "--check").code == 1
    assert tree(repo) == before
    assert cli("generate", str(repo)).code == 0
    assert cli("generate", str(repo), "--check").code == 0


@pytest.mark.parametrize("fail_after", [0, 1, 5])
def test_failure_half_way_leaves_the_repository_as_it_was(
    example_repo: Callable[[str], Path], fail_after: int
) -> None:
    repo = example_repo("multicloud-gitops")
    spec = repo / "pattern.yaml"
    spec.write_text(
        spec.read_text()
        .replace("release-2.16", "release-2.15")
        .replace("  hello-world: {}\n", "  hello-world: {}\n  extra: {}\n")
        .replace(
            "apps: [config-demo, hello-world]\n  jobs",
            "apps: [config-demo, hello-world, extra]\n  jobs",
        )
    )
    before = tree(repo)
    with pytest.raises(OSError, match="injected failure"):
        generate(repo, load_spec(spec), fail_after=fail_after, out=io.StringIO())
    assert tree(repo) == before
    assert not (repo / ".mcg-gen/staging").exists()


def test_interrupted_run_is_completed_by_the_next_one(
    example_repo: Callable[[str], Path], cli: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A run killed after its commit point (simulated: the journal is written, no file moved)."""
    repo = example_repo("multicloud-gitops")
    spec = repo / "pattern.yaml"
    spec.write_text(spec.read_text().replace("release-2.16", "release-2.15"))
    desired_plan = state.make_plan(
        repo, __import__("generator.emit.repo").emit.repo.plan_files(load_spec(spec))
    )
    monkeypatch.setattr(state, "_replay", lambda repo, operations: None)
    state.apply_plan(repo, desired_plan)
    monkeypatch.undo()
    assert (repo / ".mcg-gen/journal.json").exists()
    assert "release-2.16" in (repo / "values-hub.yaml").read_text()

    result = cli("generate", str(repo))
    assert result.code == 0, result.err
    assert "completed an interrupted run first" in result.out
    assert "release-2.15" in (repo / "values-hub.yaml").read_text()
    assert not (repo / ".mcg-gen/journal.json").exists()
    assert cli("generate", str(repo), "--check").code == 0


def test_second_concurrent_run_fails_clearly(example_repo: Callable[[str], Path], cli: Any) -> None:
    repo = example_repo("multicloud-gitops")
    with state.repository_lock(repo):
        result = cli("generate", str(repo))
    assert result.code == 1
    assert "another mcg-gen run" in result.err and "is writing this repository" in result.err


def test_new_refuses_a_non_empty_target(tmp_path: Path, cli: Any) -> None:
    (tmp_path / "taken").mkdir()
    (tmp_path / "taken" / "keep.txt").write_text("mine")
    result = cli("new", "taken", "--output", str(tmp_path / "taken"))
    assert result.code == 2
    assert "already exists and is not empty" in result.err
    assert (tmp_path / "taken" / "keep.txt").read_text() == "mine"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["new", "Bad_Name"], "is not a valid pattern name"),
        (["new", "ok", "--from", "nope"], "unknown example 'nope'"),
        (["new", "ok", "--spec", "/does/not/exist.yaml"], "does not exist"),
        (["new", "ok", "--from", "multicloud-gitops", "--spec", "x.yaml"], "not allowed with"),
        (["generate", "/does/not/exist"], "no pattern.yaml in"),
    ],
)
def test_usage_errors_exit_2(args: list[str], message: str, cli: Any, tmp_path: Path) -> None:
    result = cli(*args, cwd=tmp_path)
    assert result.code == 2
    assert message in result.err
    assert "Traceback" not in result.err
    assert list(tmp_path.iterdir()) == []


def test_new_takes_a_spec_file_and_repo_url(tmp_path: Path, cli: Any) -> None:
    spec = tmp_path / "mine.yaml"
    spec.write_text(
        "name: ignored\ngit:\n  repoURL: https://git.example.com/a.git\n"
        "hub:\n  apps: [web]\napps:\n  web: {}\n"
    )
    result = cli(
        "new",
        "edge",
        "--spec",
        str(spec),
        "--output",
        str(tmp_path / "out"),
        "--repo-url",
        "https://git.example.com/edge.git",
        "--no-git",
    )
    assert result.code == 0, result.err
    pattern = load_spec(tmp_path / "out/pattern.yaml")
    assert pattern.name == "edge"
    assert pattern.repo_url == "https://git.example.com/edge.git"
    assert (tmp_path / "out/charts/hub/web/templates/deployment.yaml").is_file()
    assert not (tmp_path / "out/values-secret.yaml.template").exists()
    assert "acm" not in load(tmp_path / "out", "values-hub.yaml")["clusterGroup"]["applications"]


def test_new_initialises_git(tmp_path: Path, cli: Any) -> None:
    result = cli("new", "demo", "--output", str(tmp_path / "demo"))
    assert result.code == 0, result.err
    assert (tmp_path / "demo/.git").is_dir()


def test_templates_in_spec_strings_stay_literal(tmp_path: Path, cli: Any) -> None:
    payload = '{{ .Values.global.pattern }} {% raw %} {{ lookup "v1" "Secret" "" "" }}'
    spec = tmp_path / "spec.yaml"
    spec.write_text(
        yaml.safe_dump(
            {
                "name": "literal",
                "description": payload,
                "git": {"repoURL": "https://git.example.com/literal.git"},
                "hub": {"apps": ["web"]},
                "apps": {"web": {"overrides": {"banner": payload}}},
            }
        )
    )
    result = cli("new", "literal", "--spec", str(spec), "--output", str(tmp_path / "r"), "--no-git")
    assert result.code == 0, result.err
    hub = load(tmp_path / "r", "values-hub.yaml")
    assert hub["clusterGroup"]["applications"]["web"]["overrides"] == [
        {"name": "banner", "value": payload}
    ]
    assert payload in (tmp_path / "r/README.md").read_text()


def test_a_base_copy_that_is_not_what_was_written_is_never_merged_from(
    example_repo: Callable[[str], Path], cli: Any
) -> None:
    """The base of a merge must be what mcg-gen wrote (its hash is in the state file): a base
    copy someone changed would smuggle its lines into the merge."""
    repo = example_repo("multicloud-gitops")
    base = repo / ".mcg-gen/base/values-hub.yaml"
    assert base.read_bytes() == (repo / "values-hub.yaml").read_bytes()
    base.write_text(base.read_text() + "smuggled: true\n")
    hub = repo / "values-hub.yaml"
    edited = hub.read_text() + "# tuned by hand\n"
    hub.write_text(edited)
    spec = repo / "pattern.yaml"
    spec.write_text(spec.read_text().replace("release-2.16", "release-2.15"))

    result = cli("generate", str(repo))
    assert result.code == 1
    assert "values-hub.yaml: edited by hand and changed by the spec" in result.out
    assert hub.read_text() == edited
    assert "smuggled" not in hub.read_text()


def test_a_repository_with_vendored_common_charts_migrates_on_the_next_generate(
    example_repo: Callable[[str], Path], cli: Any
) -> None:
    """A repository generated when mcg-gen vendored its base charts under common/: the next
    generate removes the copies nobody touched and reports, and keeps, the one edited by hand."""
    repo = example_repo("multicloud-gitops")
    recorded = state.read_state(repo)
    for chart in ("clustergroup", "acm", "secretstore"):
        for path in sorted((bundled.charts_dir() / chart).rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                relative = f"common/{chart}/{path.relative_to(bundled.charts_dir() / chart)}"
                (repo / relative).parent.mkdir(parents=True, exist_ok=True)
                (repo / relative).write_bytes(path.read_bytes())
                recorded[relative] = state.digest(path.read_bytes())
    (repo / ".mcg-gen/state.json").write_bytes(state.state_bytes(recorded))
    edited = repo / "common/acm/values.yaml"
    edited.write_text(edited.read_text() + "# tuned by hand\n")
    assert cli("generate", str(repo), "--check").code == 1

    result = cli("generate", str(repo))
    assert result.code == 0, result.err
    left = sorted(p.relative_to(repo).as_posix() for p in (repo / "common").rglob("*"))
    assert left == ["common/acm", "common/acm/values.yaml"]
    assert "common/acm/values.yaml: no longer generated, but edited by hand" in result.out
    assert "common/clustergroup/Chart.yaml" in result.out  # each removal is listed
    assert not any(path.startswith("common/") for path in state.read_state(repo))
    assert cli("generate", str(repo), "--check").code == 0


def test_group_app_overrides_reach_that_groups_application_only(
    example_repo: Callable[[str], Path],
) -> None:
    """industrial-edge sets dashboard.siteName for factory-east's line-dashboard: rendered, it is
    a Helm parameter of that Application on factory-east, on no other group, and never one of
    the clustergroup Application in the hub's ACM policy."""
    from generator.model.facts import Facts
    from generator.render import render_group

    repo = example_repo("industrial-edge")

    def dashboard_parameters(group: str) -> dict[str, str]:
        resources = render_group(repo, group, Facts(), apps=False)
        (dashboard,) = [
            r for r in resources if r.kind == "Application" and r.name == "line-dashboard"
        ]
        spec = dashboard.body["spec"]
        sources = spec.get("sources") or [spec["source"]]
        return {
            p["name"]: p["value"]
            for source in sources
            for p in (source.get("helm") or {}).get("parameters", [])
        }

    assert dashboard_parameters("factory-east")["dashboard.siteName"] == "east"
    assert dashboard_parameters("factory-east")["replicas"] == "2"
    assert "dashboard.siteName" not in dashboard_parameters("factory-west")
    assert "dashboard.siteName" not in dashboard_parameters("datacenter")
    hub = render_group(repo, "datacenter", Facts(), apps=False)
    policies = [r for r in hub if r.kind == "Policy"]
    assert policies and not any("dashboard.siteName" in str(p.body) for p in policies)


def test_app_overrides_for_an_app_the_group_does_not_run_are_a_spec_error(
    example_repo: Callable[[str], Path], cli: Any
) -> None:
    repo = example_repo("industrial-edge")
    spec = repo / "pattern.yaml"
    spec.write_text(
        spec.read_text().replace(
            "      line-dashboard:\n        dashboard", "      data-lake:\n        dashboard"
        )
    )
    result = cli("generate", str(repo))
    assert result.code == 1
    assert "appOverrides names app 'data-lake', which group 'factory-east' does not run" in (
        result.err
    )
    assert "pattern.yaml:" in result.err


def broker_reads_a_secret(repo: Path) -> None:
    """industrial-edge's broker (a chart from a Helm repository) consumes a generated secret."""
    spec = repo / "pattern.yaml"
    text = spec.read_text().replace(
        "    namespace: manuela-messaging\n",
        "    namespace: manuela-messaging\n    secrets: [broker-credentials]\n",
    )
    spec.write_text(text + "  broker-credentials:\n    fields:\n      password: generate\n")


def test_a_remote_chart_consuming_secrets_gets_a_chart_holding_its_external_secrets(
    example_repo: Callable[[str], Path], cli: Any
) -> None:
    from generator.model.facts import Facts
    from generator.render import render_group

    repo = example_repo("industrial-edge")
    broker_reads_a_secret(repo)
    result = cli("generate", str(repo))
    assert result.code == 0, result.err
    chart = repo / "charts/all/broker-secrets"
    assert sorted(p.relative_to(chart).as_posix() for p in chart.rglob("*") if p.is_file()) == [
        ".helmignore",
        "Chart.yaml",
        "templates/_helpers.tpl",
        "templates/externalsecrets.yaml",
        "values.schema.json",
        "values.yaml",
    ]
    for group in ("factory-east", "factory-west"):
        tree_ = load(repo, f"values-{group}.yaml")["clusterGroup"]
        assert tree_["applications"]["broker-secrets"] == {
            "name": "broker-secrets",
            "namespace": "manuela-messaging",
            "argoProject": "broker",
            "path": "charts/all/broker-secrets",
        }
        # the factories now consume a secret: External Secrets comes with it
        assert "openshift-external-secrets" in tree_["applications"]
    assert (
        "broker-secrets" not in load(repo, "values-datacenter.yaml")["clusterGroup"]["applications"]
    )
    template = load(repo, "values-secret.yaml.template")
    assert "broker-credentials" in [secret["name"] for secret in template["secrets"]]

    resources = render_group(repo, "factory-east", Facts(), apps=True)
    [external] = [r for r in resources if r.kind == "ExternalSecret"]
    assert external.name == "broker-credentials"
    assert external.source == "charts/all/broker-secrets/templates/externalsecrets.yaml"
    [holder] = [r for r in resources if r.kind == "Application" and r.name == "broker-secrets"]
    assert holder.body["spec"]["destination"]["namespace"] == "manuela-messaging"
    assert external.body["spec"]["data"] == [
        {
            "secretKey": "password",
            "remoteRef": {"key": "secret/data/global/broker-credentials", "property": "password"},
        }
    ]
    validated = cli("validate", str(repo), "--format", "json")
    assert validated.code == 0, validated.out
    findings = json.loads(validated.out)["findings"]
    assert [f for f in findings if f["severity"] != "info"] == []


def test_a_secrets_chart_whose_name_is_taken_is_a_spec_error(
    example_repo: Callable[[str], Path], cli: Any
) -> None:
    repo = example_repo("industrial-edge")
    broker_reads_a_secret(repo)
    spec = repo / "pattern.yaml"
    spec.write_text(spec.read_text().replace("\napps:\n", "\napps:\n  broker-secrets: {}\n"))
    before = tree(repo)
    result = cli("generate", str(repo))
    assert result.code == 1
    assert (
        "remote app 'broker' consumes secrets, whose ExternalSecrets mcg-gen writes in a chart "
        "of their own, app 'broker-secrets'; but an app 'broker-secrets' is defined too"
    ) in result.err
    assert tree(repo) == before


def test_a_chart_the_spec_moves_is_renamed_only_when_asked(
    example_repo: Callable[[str], Path], cli: Any
) -> None:
    """Giving hello-world a path of its own moves its chart: generate stops and names the move
    (nothing written), --move renames the folder with the user's edits and files, and the
    repository is then up to date."""
    repo = example_repo("multicloud-gitops")
    old = repo / "charts/all/hello-world"
    (old / "values.yaml").write_text((old / "values.yaml").read_text() + "# tuned by hand\n")
    (old / "NOTES.md").write_text("mine\n")
    spec = repo / "pattern.yaml"
    spec.write_text(
        spec.read_text().replace("  hello-world: {}\n", "  hello-world:\n    path: apps/hello\n")
    )
    before = tree(repo)

    refused = cli("generate", str(repo))
    assert refused.code == 1
    assert (
        "the chart of app 'hello-world' moves from charts/all/hello-world to apps/hello"
        in refused.err
    )
    assert "generate --move" in refused.err
    assert tree(repo) == before
    dry = cli("generate", str(repo), "--dry-run")
    assert "would move charts/all/hello-world to apps/hello" in dry.out
    assert tree(repo) == before

    moved = cli("generate", str(repo), "--move")
    assert moved.code == 0, moved.err
    assert "moved     charts/all/hello-world to apps/hello (app hello-world)" in moved.out
    new = repo / "apps/hello"
    assert not old.exists()
    assert (new / "values.yaml").read_text().endswith("# tuned by hand\n")
    assert (new / "NOTES.md").read_text() == "mine\n"
    assert (new / "templates/deployment.yaml").is_file()
    recorded = state.read_state(repo)
    assert not any(path.startswith("charts/all/hello-world/") for path in recorded)
    assert "apps/hello/Chart.yaml" in recorded
    hub = load(repo, "values-hub.yaml")["clusterGroup"]
    assert hub["applications"]["hello-world"]["path"] == "apps/hello"
    assert cli("generate", str(repo), "--check").code == 0
    assert "moved" not in cli("generate", str(repo)).out  # a move happens once
    assert cli("generate", str(repo), "--move", "--check").code == 2
