"""`render_group` on the reference MCG fixture, and on repositories made to break it."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from generator import bundled
from generator.errors import McgError
from generator.manifest import Resource
from generator.model.facts import Facts, load_facts
from generator.render import render_group

FIXTURE = Path(__file__).parent / "fixtures" / "reference-mcg"
VP_SCHEMA = (
    Path(__file__).parents[2] / "shared" / "reference" / "validatedpatterns"
    / "clustergroup.values.schema.json"
)  # fmt: skip
ARGO_HUB = "multicloud-gitops-hub"
ARGO_GROUP_ONE = "multicloud-gitops-group-one"


@pytest.fixture(scope="module")
def hub() -> list[Resource]:
    return render_group(FIXTURE, "hub", Facts(), apps=True)


@pytest.fixture(scope="module")
def group_one() -> list[Resource]:
    return render_group(FIXTURE, "group-one", Facts(), apps=True)


def named(resources: list[Resource], kind: str) -> dict[str, dict[str, Any]]:
    found = {r.name: r.body for r in resources if r.kind == kind}
    assert len(found) == len([r for r in resources if r.kind == kind]), f"duplicate {kind}"
    return found


@pytest.mark.skipif(not VP_SCHEMA.is_file(), reason="reference schemas (../shared) not available")
@pytest.mark.parametrize("group", ["hub", "group-one"])
def test_the_fixture_is_valid_for_the_published_clustergroup_schema(group: str) -> None:
    import json

    import jsonschema

    from generator.model.values import merge_values
    from generator.yamlio import load_file

    values = merge_values(
        load_file(FIXTURE / "values-global.yaml").data,
        load_file(FIXTURE / f"values-{group}.yaml").data,
    )
    validator = jsonschema.Draft7Validator(json.loads(VP_SCHEMA.read_text()))
    assert [error.message for error in validator.iter_errors(values)] == []


def test_hub_applications_match_the_reference_pattern(hub: list[Resource]) -> None:
    apps = named(hub, "Application")
    assert sorted(apps) == [
        "acm",
        "config-demo",
        "golang-external-secrets",
        "hello-world",
        "secret-store",
        "vault",
    ]
    expected = {
        "acm": ("hub", "open-cluster-management"),
        "vault": ("hub", "vault"),
        "golang-external-secrets": ("hub", "golang-external-secrets"),
        "secret-store": ("hub", "golang-external-secrets"),
        "config-demo": ("config-demo", "config-demo"),
        "hello-world": ("hello-world", "hello-world"),
    }
    for name, (project, namespace) in expected.items():
        spec = apps[name]["spec"]
        assert apps[name]["metadata"]["namespace"] == ARGO_HUB
        assert spec["project"] == project, name
        assert spec["destination"] == {"name": "in-cluster", "namespace": namespace}
    acm = apps["acm"]["spec"]["source"]
    assert acm["path"] == "common/acm"
    assert acm["repoURL"] == "https://git.example.com/pattern.git"
    assert acm["helm"]["valueFiles"][:2] == ["/values-global.yaml", "/values-hub.yaml"]
    assert "/overrides/values-AWS.yaml" in acm["helm"]["valueFiles"]
    assert apps["acm"]["spec"]["ignoreDifferences"][0]["kind"] == "ManagedClusterInfo"
    vault = apps["vault"]["spec"]["sources"]
    assert vault[0]["ref"] == "patternref"
    assert (vault[1]["chart"], vault[1]["targetRevision"]) == ("hashicorp-vault", "0.1.*")
    assert vault[1]["helm"]["valueFiles"][0] == "$patternref/values-global.yaml"
    parameters = {
        p["name"]: p["value"] for p in apps["hello-world"]["spec"]["source"]["helm"]["parameters"]
    }
    assert parameters["greeting"] == "Hello from the hub"
    assert parameters["global.clusterPlatform"] == "AWS"


def test_hub_projects_namespaces_operator_groups_and_subscriptions(hub: list[Resource]) -> None:
    projects = named(hub, "AppProject")
    assert sorted(projects) == ["config-demo", "hello-world", "hub"]
    assert {p["metadata"]["namespace"] for p in projects.values()} == {ARGO_HUB}
    namespaces = named(hub, "Namespace")
    assert sorted(namespaces) == [
        "config-demo",
        "golang-external-secrets",
        "hello-world",
        "imperative",
        "multicloud-gitops-hub",
        "open-cluster-management",
        "vault",
    ]
    labels = namespaces["config-demo"]["metadata"]["labels"]
    assert labels == {
        "argocd.argoproj.io/managed-by": ARGO_HUB,
        "app.kubernetes.io/part-of": "config-demo",
    }
    groups = named(hub, "OperatorGroup")
    assert sorted(groups) == [
        f"{ns}-operator-group"
        for ns in [
            "config-demo",
            "golang-external-secrets",
            "hello-world",
            "open-cluster-management",
            "vault",
        ]
    ]
    assert groups["vault-operator-group"]["spec"] == {"targetNamespaces": ["vault"]}
    [subscription] = named(hub, "Subscription").values()
    assert subscription["metadata"] == {
        "name": "advanced-cluster-management",
        "namespace": "open-cluster-management",
    }
    assert subscription["spec"] == {
        "name": "advanced-cluster-management",
        "source": "redhat-operators",
        "sourceNamespace": "openshift-marketplace",
        "channel": "release-2.11",
        "installPlanApproval": "Automatic",
    }


def test_hub_gets_its_acm_policy_secret_store_and_imperative_job(hub: list[Resource]) -> None:
    policy = named(hub, "Policy")["group-one-clustergroup-policy"]
    assert policy["metadata"]["namespace"] == "open-cluster-management"
    placement = named(hub, "Placement")["group-one-placement"]
    selector = placement["spec"]["predicates"][0]["requiredClusterSelector"]["labelSelector"]
    assert selector["matchLabels"] == {"clusterGroup": "group-one"}
    binding = named(hub, "PlacementBinding")["group-one-placement-binding"]
    assert binding["placementRef"]["name"] == "group-one-placement"
    assert binding["subjects"][0]["name"] == "group-one-clustergroup-policy"
    store = named(hub, "ClusterSecretStore")["vault-backend"]["spec"]["provider"]["vault"]
    assert store["auth"]["kubernetes"]["mountPath"] == "hub"
    cron = named(hub, "CronJob")["imperative-cronjob"]
    steps = cron["spec"]["jobTemplate"]["spec"]["template"]["spec"]["initContainers"]
    assert [s["name"] for s in steps] == ["fetch-ca", "git-init", "hello-world"]
    assert named(hub, "CronJob")["unsealvault-cronjob"]["metadata"]["namespace"] == "imperative"
    sources = {r.source for r in hub if r.kind in ("Policy", "ClusterSecretStore")}
    assert sources == {
        "<mcg-gen>/charts/acm/templates/clustergroup-policies.yaml",
        "<mcg-gen>/charts/acm/templates/gitops-policies.yaml",
        "<mcg-gen>/charts/acm/templates/hub-ca-policies.yaml",
        "<mcg-gen>/charts/secretstore/templates/vault-store.yaml",
    }


def test_local_apps_are_rendered_with_their_own_value_chain(hub: list[Resource]) -> None:
    maps = {(r.namespace, r.name): r for r in hub if r.kind == "ConfigMap"}
    demo = maps[("config-demo", "config-demo-configmap")]
    assert demo.source == "charts/all/config-demo/templates/configmap.yaml"
    assert demo.body["data"] == {
        "hub": "apps.hub.example.com",  # the global.* parameter beats the chart's default
        "group": "hub",
        "platformNote": "running on AWS",  # from sharedValueFiles: /overrides/values-AWS.yaml
    }
    hello = maps[("hello-world", "hello-world")].body["data"]
    assert hello == {"greeting": "Hello from the hub", "domain": "apps.hub.example.com"}
    assert named(hub, "ExternalSecret")["config-demo-secret"]["spec"]["secretStoreRef"] == {
        "name": "vault-backend",
        "kind": "ClusterSecretStore",
    }


def test_group_one_is_a_spoke(group_one: list[Resource]) -> None:
    apps = named(group_one, "Application")
    assert sorted(apps) == ["config-demo", "golang-external-secrets", "hello-world", "secret-store"]
    assert {a["metadata"]["namespace"] for a in apps.values()} == {ARGO_GROUP_ONE}
    assert apps["golang-external-secrets"]["spec"]["project"] == "eso"
    value_files = apps["config-demo"]["spec"]["source"]["helm"]["valueFiles"]
    assert value_files[:2] == ["/values-global.yaml", "/values-group-one.yaml"]
    assert sorted(named(group_one, "AppProject")) == ["config-demo", "eso", "hello-world"]
    store = named(group_one, "ClusterSecretStore")["vault-backend"]["spec"]["provider"]["vault"]
    assert store["server"] == "https://vault-vault.apps.hub.example.com"
    assert store["auth"]["kubernetes"]["mountPath"] == "group-one.example.com"
    assert store["auth"]["kubernetes"]["role"] == "group-one.example.com-role"
    kinds = {r.kind for r in group_one}
    assert not kinds & {"Policy", "Placement", "CronJob", "Subscription", "MultiClusterHub"}
    hello = next(r for r in group_one if r.kind == "ConfigMap" and r.name == "hello-world")
    assert hello.body["data"]["domain"] == "apps.group-one.example.com"


def test_without_apps_only_the_base_charts_are_rendered() -> None:
    resources = render_group(FIXTURE, "hub", Facts(), apps=False)
    assert not [r for r in resources if r.source.startswith("charts/all/")]
    assert {"Policy", "ClusterSecretStore", "Application"} <= {r.kind for r in resources}


def test_output_is_sorted_and_every_resource_knows_its_group(hub: list[Resource]) -> None:
    assert hub == sorted(hub, key=lambda r: (*r.sort_key(), r.source, r.line))
    assert {r.group for r in hub} == {"hub"}
    assert all(r.line >= 1 for r in hub)


def test_facts_change_what_is_rendered(tmp_path: Path) -> None:
    facts_file = tmp_path / "facts.yaml"
    facts_file.write_text("hubClusterDomain: apps.lab.example.org\nclusterVersion: 4.17\n")
    facts = load_facts(facts_file)
    assert facts.cluster_version == "4.17"
    resources = render_group(FIXTURE, "group-one", facts, apps=False)
    store = next(r for r in resources if r.kind == "ClusterSecretStore")
    assert (
        store.body["spec"]["provider"]["vault"]["server"]
        == "https://vault-vault.apps.lab.example.org"
    )


def test_an_unknown_fact_is_an_error(tmp_path: Path) -> None:
    facts_file = tmp_path / "facts.yaml"
    facts_file.write_text("hubDomain: x\n")
    with pytest.raises(McgError, match="unknown fact 'hubDomain'") as caught:
        load_facts(facts_file)
    assert caught.value.location is not None
    assert caught.value.location.line == 1


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    copy = tmp_path / "repo"
    shutil.copytree(FIXTURE, copy)
    return copy


def add_app(repo: Path, name: str, entry: dict[str, Any]) -> None:
    from generator.yamlio import dump_yaml, load_file

    values = load_file(repo / "values-group-one.yaml").data
    values["clusterGroup"]["applications"][name] = {"name": name, "namespace": name, **entry}
    (repo / "values-group-one.yaml").write_text(dump_yaml(values))


@pytest.mark.parametrize("group", ["Hub", "../hub", "a" * 64])
def test_a_bad_group_name_is_an_error(group: str) -> None:
    with pytest.raises(McgError, match="not a cluster group name"):
        render_group(FIXTURE, group, Facts(), apps=False)


def test_an_unknown_group_lists_the_known_ones() -> None:
    with pytest.raises(McgError, match="no cluster group 'edge'") as caught:
        render_group(FIXTURE, "edge", Facts(), apps=False)
    assert caught.value.hint.endswith("group-one, hub")


def test_a_group_file_naming_another_group_is_an_error(repo: Path) -> None:
    (repo / "values-group-two.yaml").write_text("clusterGroup:\n  name: group-one\n")
    with pytest.raises(McgError, match=r"clusterGroup\.name is 'group-one'") as caught:
        render_group(repo, "group-two", Facts(), apps=False)
    assert caught.value.location is not None
    assert caught.value.location.line == 2


def test_value_files_may_not_leave_the_repository(repo: Path) -> None:
    add_app(repo, "sneaky", {"path": "charts/all/hello-world", "extraValueFiles": ["/../x.yaml"]})
    with pytest.raises(McgError, match="leaves the pattern repository"):
        render_group(repo, "group-one", Facts(), apps=True)


def test_value_files_relative_to_the_chart_may_climb_inside_the_repository(repo: Path) -> None:
    (repo / "overrides" / "hello.yaml").write_text("greeting: from overrides\n")
    climb = "../../../overrides/hello.yaml"  # relative to charts/all/hello-world
    add_app(repo, "climber", {"path": "charts/all/hello-world", "extraValueFiles": [climb]})
    resources = render_group(repo, "group-one", Facts(), apps=True)
    [hello] = [r for r in resources if r.kind == "ConfigMap" and r.namespace == "climber"]
    assert hello.body["data"]["greeting"] == "from overrides"


def test_symlinked_value_files_may_not_leave_the_repository(repo: Path, tmp_path: Path) -> None:
    (tmp_path / "secret.yaml").write_text("greeting: leaked\n")
    (repo / "overrides" / "linked.yaml").symlink_to(tmp_path / "secret.yaml")
    add_app(
        repo,
        "linked",
        {"path": "charts/all/hello-world", "extraValueFiles": ["/overrides/linked.yaml"]},
    )
    with pytest.raises(McgError, match="symlink that leaves"):
        render_group(repo, "group-one", Facts(), apps=True)


def test_symlinked_charts_may_not_leave_the_repository(repo: Path, tmp_path: Path) -> None:
    shutil.copytree(FIXTURE / "charts" / "all" / "hello-world", tmp_path / "outside")
    (repo / "charts" / "all" / "escape").symlink_to(tmp_path / "outside")
    add_app(repo, "escape", {"path": "charts/all/escape"})
    with pytest.raises(McgError, match="symlink that leaves"):
        render_group(repo, "group-one", Facts(), apps=True)


def test_missing_value_files_are_skipped_like_argo_cd_does(repo: Path) -> None:
    add_app(repo, "extra", {"path": "charts/all/hello-world", "extraValueFiles": ["/nope.yaml"]})
    resources = render_group(repo, "group-one", Facts(), apps=True)
    assert [r for r in resources if r.kind == "ConfigMap" and r.namespace == "extra"]


def test_an_app_pointing_at_no_chart_is_an_error(repo: Path) -> None:
    add_app(repo, "ghost", {"path": "charts/all/ghost"})
    with pytest.raises(McgError, match="'charts/all/ghost', which is not a chart"):
        render_group(repo, "group-one", Facts(), apps=True)
    assert render_group(repo, "group-one", Facts(), apps=False)  # only common/ is rendered


def test_kustomize_apps_are_not_rendered(repo: Path) -> None:
    (repo / "kustomize" / "base").mkdir(parents=True)
    add_app(repo, "kustomized", {"path": "kustomize/base", "kustomize": True})
    resources = render_group(repo, "group-one", Facts(), apps=True)
    assert "kustomized" in {r.name for r in resources if r.kind == "Application"}
    assert not [r for r in resources if r.source.startswith("kustomize/")]


def test_a_vendored_base_chart_is_preferred_over_the_bundled_one(repo: Path) -> None:
    vendored = repo / "common" / "secretstore"
    shutil.copytree(bundled.charts_dir() / "secretstore", vendored)
    template = vendored / "templates" / "vault-store.yaml"
    template.write_text(template.read_text().replace("vault-backend", "vendored-backend"))
    (vendored / "values.yaml").write_text(
        (vendored / "values.yaml").read_text().replace("vault-backend", "vendored-backend")
    )
    resources = render_group(repo, "group-one", Facts(), apps=False)
    [store] = [r for r in resources if r.kind == "ClusterSecretStore"]
    assert store.name == "vendored-backend"
    assert store.source == "common/secretstore/templates/vault-store.yaml"


def test_argo_cd_build_variables_expand_in_parameters(tmp_path: Path) -> None:
    """The clustergroup chart passes `global.namespace=$ARGOCD_APP_NAMESPACE`; Argo CD expands it
    to the destination namespace (a prefix of it, $ARGOCD_APP_NAME, must not win)."""
    repo = tmp_path / "repo"
    shutil.copytree(FIXTURE, repo)
    (repo / "charts/all/config-demo/templates/namespace-probe.yaml").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: namespace-probe\n"
        "data:\n  namespace: {{ .Values.global.namespace | quote }}\n"
    )
    resources = render_group(repo, "hub", Facts(), apps=True)
    [probe] = [r for r in resources if r.name == "namespace-probe"]
    assert probe.body["data"] == {"namespace": "config-demo"}
