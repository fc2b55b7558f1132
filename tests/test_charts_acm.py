"""The acm chart: per managed cluster group, Policy -> PlacementBinding -> Placement.

tests/test_chart_fidelity.py holds the whole chart against upstream acm 0.2.x; these tests say
what the objects mean: which clusters they reach and what those clusters get."""

from __future__ import annotations

from typing import Any

import pytest

from generator.bundled import charts_dir
from generator.errors import McgError
from generator.helm import render_chart

GLOBAL = {
    "pattern": "mcg",
    "repoURL": "https://github.com/example/mcg.git",
    "targetRevision": "v1",
    "hubClusterDomain": "apps.hub.example.com",
    "localClusterDomain": "apps.hub.example.com",
    "multiSourceSupport": True,
    "multiSourceRepoUrl": "https://charts.validatedpatterns.io",
    "multiSourceTargetRevision": "0.9.*",
}


def render(
    groups: Any, *, facts: dict[str, Any] | None = None, **extra: Any
) -> list[dict[str, Any]]:
    values = {
        "global": {**GLOBAL, **(facts or {})},
        "clusterGroup": {"name": "hub", "managedClusterGroups": groups},
        **extra,
    }
    docs = render_chart(
        charts_dir() / "acm", values, release="acm", namespace="open-cluster-management"
    )
    return [doc.body for doc in docs]


def one(bodies: list[dict[str, Any]], kind: str, name: str) -> dict[str, Any]:
    [found] = [b for b in bodies if b["kind"] == kind and b["metadata"]["name"] == name]
    return found


def names(bodies: list[dict[str, Any]], kind: str) -> set[str]:
    return {b["metadata"]["name"] for b in bodies if b["kind"] == kind}


def spoke_objects(policy: dict[str, Any]) -> dict[str, dict[str, Any]]:
    [template] = policy["spec"]["policy-templates"]
    configuration = template["objectDefinition"]
    assert configuration["kind"] == "ConfigurationPolicy"
    return {
        t["objectDefinition"]["kind"]: t["objectDefinition"]
        for t in configuration["spec"]["object-templates"]
    }


def test_policy_binding_and_placement_are_wired_together() -> None:
    bodies = render(
        {
            "region": {
                "name": "group-one",
                "acmlabels": [{"name": "clusterGroup", "value": "group-one"}],
            }
        }
    )
    bindings = [b for b in bodies if b["kind"] == "PlacementBinding"]
    assert names(bodies, "Policy") == {
        "group-one-clustergroup-policy",
        "group-one-gitops-policy",
        "group-one-gitops-policy-argocd",
        "hub-argo-ca-group-one-policy",
        "group-one-acm-hub-ca-policy",
        "group-one-hub-argo-ca-gitops-policy",
    }
    assert len(bindings) == len(names(bodies, "Policy")) == len(names(bodies, "Placement"))
    for binding in bindings:
        [subject] = binding["subjects"]
        assert subject["kind"] == "Policy" and subject["name"] in names(bodies, "Policy")
        assert binding["placementRef"]["kind"] == "Placement"
        assert binding["placementRef"]["name"] in names(bodies, "Placement")
    placement = one(bodies, "Placement", "group-one-placement")
    assert placement["apiVersion"] == "cluster.open-cluster-management.io/v1beta1"
    set_binding = one(bodies, "ManagedClusterSetBinding", "default")
    assert set_binding["apiVersion"] == "cluster.open-cluster-management.io/v1beta2"
    assert set_binding["spec"] == {"clusterSet": "default"}
    assert not [b for b in bodies if b["kind"] == "PlacementRule"]


def test_spokes_get_gitops_then_an_argo_cd_that_trusts_the_hub() -> None:
    bodies = render([{"name": "group-one"}])
    operator = spoke_objects(one(bodies, "Policy", "group-one-gitops-policy"))
    subscription = operator["Subscription"]
    assert subscription["metadata"] == {
        "name": "openshift-gitops-operator",
        "namespace": "openshift-operators",
    }
    assert subscription["spec"]["channel"] == "gitops-1.21"
    assert operator["ConfigMap"]["metadata"]["labels"] == {
        "config.openshift.io/inject-trusted-cabundle": "true"
    }
    instance = spoke_objects(one(bodies, "Policy", "group-one-gitops-policy-argocd"))["ArgoCD"]
    assert instance["metadata"] == {"name": "openshift-gitops", "namespace": "openshift-gitops"}
    assert {check["kind"] for check in instance["spec"]["resourceHealthChecks"]} == {
        "Subscription",
        "PersistentVolumeClaim",
    }


def test_the_spoke_application_runs_the_upstream_clustergroup_chart() -> None:
    bodies = render(
        [{"name": "group-one", "helmOverrides": [{"name": "clusterGroup.extra", "value": 1}]}]
    )
    objects = spoke_objects(one(bodies, "Policy", "group-one-clustergroup-policy"))
    assert objects["ClusterRoleBinding"]["roleRef"]["name"] == "cluster-admin"
    application = objects["Application"]
    assert application["metadata"]["name"] == "mcg-group-one"
    assert application["metadata"]["namespace"] == "openshift-gitops"
    assert application["spec"]["destination"]["namespace"] == "mcg-group-one"
    pattern, chart = application["spec"]["sources"]
    assert pattern == {
        "repoURL": "https://github.com/example/mcg.git",
        "targetRevision": "v1",
        "ref": "patternref",
    }
    assert (chart["repoURL"], chart["chart"], chart["targetRevision"]) == (
        "https://charts.validatedpatterns.io",
        "clustergroup",
        "0.9.*",
    )
    files = chart["helm"]["valueFiles"]
    assert files[:2] == ["$patternref/values-global.yaml", "$patternref/values-group-one.yaml"]
    assert all(file.startswith("$patternref/values-") for file in files)
    parameters = {p["name"]: p["value"] for p in chart["helm"]["parameters"]}
    assert parameters["global.hubClusterDomain"] == "apps.hub.example.com"
    assert parameters["clusterGroup.name"] == "group-one"
    assert parameters["clusterGroup.extra"] == "1"


def test_without_multi_source_the_spoke_reads_common_clustergroup() -> None:
    bodies = render([{"name": "group-one"}], facts={"multiSourceSupport": False})
    objects = spoke_objects(one(bodies, "Policy", "group-one-clustergroup-policy"))
    source = objects["Application"]["spec"]["source"]
    assert source["path"] == "common/clustergroup"
    assert source["helm"]["valueFiles"][:2] == ["/values-global.yaml", "/values-group-one.yaml"]


def test_single_argo_cd_puts_the_spoke_apps_in_the_cluster_wide_instance() -> None:
    bodies = render([{"name": "group-one"}], facts={"singleArgoCD": True})
    objects = spoke_objects(one(bodies, "Policy", "group-one-clustergroup-policy"))
    assert objects["Application"]["spec"]["destination"]["namespace"] == "openshift-gitops"
    assert "hub-argo-ca-group-one-policy" not in names(bodies, "Policy")


def test_acm_templates_survive_helm_verbatim() -> None:
    objects = spoke_objects(one(render({"edge": {}}), "Policy", "edge-clustergroup-policy"))
    [_, chart] = objects["Application"]["spec"]["sources"]
    parameters = {p["name"]: p["value"] for p in chart["helm"]["parameters"]}
    assert parameters["global.localClusterDomain"] == (
        '{{ (lookup "config.openshift.io/v1" "Ingress" "" "cluster").spec.domain }}'
    )
    assert parameters["global.clusterPlatform"].startswith('{{ (lookup "config.openshift.io/v1"')
    assert "{{hub " in str(render({"edge": {}}))


def test_hub_ca_policies_only_on_the_hub_and_only_with_vault() -> None:
    spoke = render([{"name": "edge"}], facts={"localClusterDomain": "apps.edge.example.com"})
    assert names(spoke, "Policy") == {
        "edge-clustergroup-policy",
        "edge-gitops-policy",
        "edge-gitops-policy-argocd",
    }
    without_vault = render([{"name": "edge"}], facts={"secretStore": {"backend": "kubernetes"}})
    assert "edge-acm-hub-ca-policy" not in names(without_vault, "Policy")


def test_a_private_repository_reaches_the_spokes_argo_cd() -> None:
    bodies = render([{"name": "edge"}], facts={"privateRepo": True})
    copied = spoke_objects(one(bodies, "Policy", "private-edge-policy"))["Secret"]
    assert copied["metadata"]["labels"] == {"argocd.argoproj.io/secret-type": "repository"}
    hub = one(bodies, "Placement", "vp-private-hub-placement")
    [predicate] = hub["spec"]["predicates"]
    assert predicate["requiredClusterSelector"]["labelSelector"]["matchExpressions"] == [
        {"key": "local-cluster", "operator": "In", "values": ["true"]}
    ]


LOCAL_CLUSTER_EXCLUDED = [{"key": "local-cluster", "operator": "NotIn", "values": ["true"]}]
SELECTOR = {"matchExpressions": [{"key": "vendor", "operator": "In", "values": ["OpenShift"]}]}


@pytest.mark.parametrize(
    ("group", "selector"),
    [
        (
            {"name": "edge"},
            {"matchLabels": {"clusterGroup": "edge"}, "matchExpressions": LOCAL_CLUSTER_EXCLUDED},
        ),
        (
            {"name": "edge", "acmlabels": [{"name": "site", "value": "factory"}]},
            {"matchLabels": {"site": "factory"}, "matchExpressions": LOCAL_CLUSTER_EXCLUDED},
        ),
        (
            {"name": "edge", "acmlabels": {"site": "factory"}},
            {"matchLabels": {"site": "factory"}, "matchExpressions": LOCAL_CLUSTER_EXCLUDED},
        ),
        (
            {
                "name": "edge",
                "acmlabels": [{"name": "ignored", "value": "x"}],
                "clusterSelector": SELECTOR,
            },
            SELECTOR,
        ),
    ],
    ids=["default", "acmlabels-list", "acmlabels-map", "clusterSelector-wins"],
)
def test_placement_selector(group: dict[str, Any], selector: dict[str, Any]) -> None:
    bodies = render([group])
    for placement in [b for b in bodies if b["kind"] == "Placement"]:
        [predicate] = placement["spec"]["predicates"]
        assert predicate["requiredClusterSelector"]["labelSelector"] == selector


def test_disabled_and_null_groups_render_nothing_but_the_hub_itself() -> None:
    bodies = render({"a": {"disabled": True}, "b": None})
    assert [(b["kind"], b["metadata"]["name"]) for b in bodies] == [
        ("MultiClusterHub", "multiclusterhub"),
        ("ManagedClusterSetBinding", "default"),
    ]
    assert [b["kind"] for b in render({})] == ["MultiClusterHub"]


def test_a_group_name_too_long_for_acm_fails_with_a_clear_message() -> None:
    fits = "g" * (62 - len("open-cluster-management.-clustergroup-policy"))
    assert one(render([{"name": fits}]), "Policy", f"{fits}-clustergroup-policy")
    with pytest.raises(McgError, match="at most 62 characters") as caught:
        render([{"name": fits + "x"}])
    assert caught.value.location is not None
    assert caught.value.location.file.endswith("templates/clustergroup-policies.yaml")
