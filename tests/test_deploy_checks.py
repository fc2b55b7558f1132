"""Deployability rules: every Argo CD object is served, every ACM Policy is placed on its group.

Small resource sets show each rule failing and passing; real repositories show that the bundled
examples (both singleArgoCD modes) are clean and that a clustergroup chart without its Argo CD
instance, or an unbound Policy, is found through `mcg-gen validate`."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

from generator import bundled
from generator.checks.deploy import ManagedGroup, check_deployability
from generator.findings import Severity
from generator.manifest import Resource
from tests.conftest import Result


def resource(kind: str, name: str, namespace: str = "", **body: Any) -> Resource:
    api = {
        "Application": "argoproj.io/v1alpha1",
        "AppProject": "argoproj.io/v1alpha1",
        "ArgoCD": "argoproj.io/v1beta1",
        "Policy": "policy.open-cluster-management.io/v1",
        "PlacementBinding": "policy.open-cluster-management.io/v1",
        "Placement": "cluster.open-cluster-management.io/v1beta1",
    }[kind]
    metadata = {"name": name, **({"namespace": namespace} if namespace else {})}
    return Resource(
        {"apiVersion": api, "kind": kind, "metadata": metadata, **body}, "t.yaml", "hub"
    )


def rules_of(resources: list[Resource], groups: list[ManagedGroup] | None = None) -> list[str]:
    return [f.rule for f in check_deployability(resources, "openshift-gitops", groups or [])]


def test_argo_objects_need_an_instance_in_their_namespace() -> None:
    apps = [resource("Application", "a", "p-hub"), resource("AppProject", "hub", "p-hub")]
    assert rules_of(apps) == ["deploy/argo-namespace-unserved"] * 2
    assert rules_of([*apps, resource("ArgoCD", "hub-gitops", "p-hub")]) == []
    assert rules_of([resource("Application", "a", "openshift-gitops")]) == []
    watching = resource("ArgoCD", "x", "elsewhere", spec={"sourceNamespaces": ["p-hub"]})
    assert rules_of([*apps, watching]) == []
    assert rules_of([resource("Application", "no-namespace")]) == []


def placed(policy: str, placement: str, labels: dict[str, str], **extra: Any) -> list[Resource]:
    ns = "open-cluster-management"
    selector = {"matchLabels": labels, **extra}
    return [
        resource("Policy", policy, ns, spec={}),
        resource(
            "PlacementBinding",
            f"{policy}-binding",
            ns,
            placementRef={"kind": "Placement", "name": placement},
            subjects=[{"kind": "Policy", "name": policy}],
        ),
        resource(
            "Placement",
            placement,
            ns,
            spec={"predicates": [{"requiredClusterSelector": {"labelSelector": selector}}]},
        ),
    ]


GROUP = ManagedGroup("group-one", {"clusterGroup": "group-one"})
NOT_HUB = {"matchExpressions": [{"key": "local-cluster", "operator": "NotIn", "values": ["true"]}]}


def test_a_policy_must_be_bound_to_a_placement_that_exists() -> None:
    policy, binding, placement = placed("group-one-policy", "p", {"clusterGroup": "group-one"})
    assert rules_of([policy]) == ["deploy/policy-unplaced"]
    assert rules_of([policy, binding]) == ["deploy/policy-unplaced"]
    assert rules_of([policy, binding, placement], [GROUP]) == []
    disabled = resource("Policy", "off", "open-cluster-management", spec={"disabled": True})
    assert rules_of([disabled]) == []
    [unsure] = check_deployability([policy], "openshift-gitops", unrendered_charts=True)
    assert unsure.severity == Severity.WARNING and "not rendered" in unsure.message


def test_a_policy_set_places_the_policies_it_holds() -> None:
    policy, binding, placement = placed("group-one-policy", "p", {"clusterGroup": "group-one"})
    binding.body["subjects"] = [{"kind": "PolicySet", "name": "bundle"}]
    bundle = Resource(
        {
            "apiVersion": "policy.open-cluster-management.io/v1beta1",
            "kind": "PolicySet",
            "metadata": {"name": "bundle", "namespace": "open-cluster-management"},
            "spec": {"policies": ["group-one-policy"]},
        },
        "t.yaml",
        "hub",
    )
    assert rules_of([policy, binding, placement, bundle], [GROUP]) == []
    assert rules_of([policy, binding, placement], [GROUP]) == ["deploy/policy-unplaced"]


def test_a_group_policy_must_be_placed_on_the_group_clusters() -> None:
    wrong = placed("group-one-clustergroup-policy", "p", {"clusterGroup": "group-two"})
    assert rules_of(wrong, [GROUP]) == ["deploy/placement-misses-group"]
    [finding] = check_deployability(wrong, "openshift-gitops", [GROUP])
    assert "clusterGroup=group-one" in finding.message
    assert (
        rules_of(placed("group-one-x", "p", {"clusterGroup": "group-one"}, **NOT_HUB), [GROUP])
        == []
    )
    excluded = {
        "matchExpressions": [{"key": "clusterGroup", "operator": "NotIn", "values": ["group-one"]}]
    }
    assert rules_of(placed("group-one-x", "p", {}, **excluded), [GROUP]) == [
        "deploy/placement-misses-group"
    ]
    own_selector = ManagedGroup("group-one", None)
    assert rules_of(wrong, [own_selector]) == []
    assert rules_of(wrong, [ManagedGroup("other", {"clusterGroup": "other"})]) == []


def test_the_group_of_a_policy_is_the_application_it_deploys() -> None:
    policy, binding, placement = placed("spokes", "p", {"clusterGroup": "group-two"})
    application = {
        "kind": "Application",
        "spec": {
            "source": {
                "helm": {"parameters": [{"name": "clusterGroup.name", "value": "group-one"}]}
            }
        },
    }
    policy.body["spec"] = {
        "policy-templates": [
            {
                "objectDefinition": {
                    "spec": {"object-templates": [{"objectDefinition": application}]}
                }
            }
        ]
    }
    assert rules_of([policy, binding, placement], [GROUP]) == ["deploy/placement-misses-group"]


def deploy_findings(cli: Callable[..., Result], repo: Path) -> list[dict[str, Any]]:
    result = cli("validate", str(repo), "--format", "json")
    assert result.code in (0, 1), result.err
    return [f for f in json.loads(result.out)["findings"] if f["rule"].startswith("deploy/")]


def test_bundled_examples_deploy_in_both_argo_cd_modes(
    example_repo: Callable[[str], Path], cli: Callable[..., Result]
) -> None:
    for example in sorted(path.stem for path in bundled.patterns_dir().glob("*.yaml")):
        repo = example_repo(example)
        assert deploy_findings(cli, repo) == []
        # generated repositories run one Argo CD (singleArgoCD: true); the other mode, an
        # instance per group, deploys too
        values = repo / "values-global.yaml"
        single = "  singleArgoCD: true\n"
        assert single in values.read_text()
        values.write_text(values.read_text().replace(single, "  singleArgoCD: false\n", 1))
        assert deploy_findings(cli, repo) == []


def test_a_clustergroup_chart_without_its_argo_cd_leaves_the_apps_unsynced(
    example_repo: Callable[[str], Path], cli: Callable[..., Result]
) -> None:
    repo = example_repo("multicloud-gitops")
    chart = repo / "common" / "clustergroup"
    shutil.rmtree(chart, ignore_errors=True)
    shutil.copytree(bundled.charts_dir() / "clustergroup", chart)
    (chart / "templates" / "argocd.yaml").unlink()  # what older vendored charts were like
    values = repo / "values-global.yaml"  # an Argo CD per group, which the chart no longer makes
    values.write_text(values.read_text().replace("singleArgoCD: true", "singleArgoCD: false"))
    found = deploy_findings(cli, repo)
    unserved = {(f["rule"], f["message"].split("'")[1]) for f in found}
    assert ("deploy/argo-namespace-unserved", "config-demo") in unserved
    assert ("deploy/argo-namespace-unserved", "hello-world") in unserved
    assert all(f["severity"] == "error" for f in found)


def test_an_unbound_policy_in_an_app_chart_is_found(
    example_repo: Callable[[str], Path], cli: Callable[..., Result]
) -> None:
    repo = example_repo("multicloud-gitops")
    template = repo / "charts/all/hello-world/templates/policy.yaml"
    template.write_text(
        "apiVersion: policy.open-cluster-management.io/v1\nkind: Policy\nmetadata:\n"
        "  name: lonely\n  namespace: hello-world\nspec:\n  disabled: false\n"
        "  policy-templates: []\n"
    )
    found = deploy_findings(cli, repo)  # hello-world runs on the hub and on group-one
    assert len(found) == 2
    for finding in found:
        assert finding["rule"] == "deploy/policy-unplaced"
        assert finding["file"] == "charts/all/hello-world/templates/policy.yaml"
    # where a chart could not be rendered offline (the hub's vault), it may bind the Policy
    assert sorted(f["severity"] for f in found) == ["error", "warning"]
