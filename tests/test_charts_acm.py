"""The acm chart: per managed cluster group, Policy -> PlacementBinding -> Placement."""

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
}


def render(groups: Any, **extra: Any) -> list[dict[str, Any]]:
    values = {
        "global": GLOBAL,
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
    policy = one(bodies, "Policy", "group-one-clustergroup-policy")
    binding = one(bodies, "PlacementBinding", "group-one-placement-binding")
    placement = one(bodies, "Placement", "group-one-placement")
    assert binding["placementRef"] == {
        "apiGroup": "cluster.open-cluster-management.io",
        "kind": "Placement",
        "name": placement["metadata"]["name"],
    }
    assert binding["subjects"] == [
        {
            "apiGroup": "policy.open-cluster-management.io",
            "kind": "Policy",
            "name": policy["metadata"]["name"],
        }
    ]
    assert placement["apiVersion"] == "cluster.open-cluster-management.io/v1beta1"
    for body in (policy, binding, placement):
        assert body["metadata"]["namespace"] == "open-cluster-management"
    set_binding = one(bodies, "ManagedClusterSetBinding", "default")
    assert set_binding["apiVersion"] == "cluster.open-cluster-management.io/v1beta2"
    assert set_binding["spec"] == {"clusterSet": "default"}
    assert not [b for b in bodies if b["kind"] == "PlacementRule"]


def test_policy_installs_gitops_and_points_the_spoke_at_the_clustergroup_chart() -> None:
    bodies = render(
        [
            {
                "name": "group-one",
                "helmOverrides": [{"name": "clusterGroup.isHubCluster", "value": False}],
            }
        ]
    )
    objects = spoke_objects(one(bodies, "Policy", "group-one-clustergroup-policy"))
    subscription = objects["Subscription"]
    assert subscription["metadata"] == {
        "name": "openshift-gitops-operator",
        "namespace": "openshift-operators",
    }
    application = objects["Application"]
    assert application["metadata"]["name"] == "mcg-group-one"
    assert application["metadata"]["namespace"] == "openshift-gitops"
    source = application["spec"]["source"]
    assert source["repoURL"] == "https://github.com/example/mcg.git"
    assert source["targetRevision"] == "v1"
    assert source["path"] == "common/clustergroup"
    assert source["helm"]["valueFiles"] == ["/values-global.yaml", "/values-group-one.yaml"]
    parameters = {p["name"]: p["value"] for p in source["helm"]["parameters"]}
    assert parameters["global.hubClusterDomain"] == "apps.hub.example.com"
    assert parameters["clusterGroup.name"] == "group-one"
    assert parameters["clusterGroup.isHubCluster"] == "false"


def test_acm_templates_survive_helm_verbatim() -> None:
    objects = spoke_objects(one(render({"edge": {}}), "Policy", "edge-clustergroup-policy"))
    parameters = {
        p["name"]: p["value"]
        for p in objects["Application"]["spec"]["source"]["helm"]["parameters"]
    }
    assert parameters["global.localClusterName"] == "{{hub .ManagedClusterName hub}}"
    assert parameters["global.localClusterDomain"] == (
        '{{ (lookup "config.openshift.io/v1" "Ingress" "" "cluster").spec.domain }}'
    )
    assert parameters["global.clusterPlatform"].startswith('{{ (lookup "config.openshift.io/v1"')


LOCAL_CLUSTER_EXCLUDED = [
    {"key": "local-cluster", "operator": "NotIn", "values": ["true"]},
    {"key": "name", "operator": "NotIn", "values": ["local-cluster"]},
]


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
                "clusterSelector": {
                    "matchExpressions": [
                        {"key": "vendor", "operator": "In", "values": ["OpenShift"]}
                    ]
                },
            },
            {
                "matchExpressions": [
                    {"key": "vendor", "operator": "In", "values": ["OpenShift"]},
                    *LOCAL_CLUSTER_EXCLUDED,
                ]
            },
        ),
    ],
    ids=["default", "acmlabels-list", "acmlabels-map", "clusterSelector-wins"],
)
def test_placement_selector(group: dict[str, Any], selector: dict[str, Any]) -> None:
    placement = one(render([group]), "Placement", "edge-placement")
    [predicate] = placement["spec"]["predicates"]
    assert predicate["requiredClusterSelector"]["labelSelector"] == selector


def test_disabled_and_null_groups_render_nothing_but_the_hub_itself() -> None:
    bodies = render({"a": {"disabled": True}, "b": None})
    assert [(b["kind"], b["metadata"]["name"]) for b in bodies] == [
        ("MultiClusterHub", "multiclusterhub")
    ]
    assert render({"a": {"disabled": True}}, acm={"multiClusterHub": False}) == []


def test_a_group_name_too_long_for_acm_fails_with_a_clear_message() -> None:
    fits = "g" * (62 - len("open-cluster-management.-clustergroup-policy"))
    assert one(render([{"name": fits}]), "Policy", f"{fits}-clustergroup-policy")
    with pytest.raises(McgError, match="at most 62 characters") as caught:
        render([{"name": fits + "x"}])
    assert caught.value.location is not None
    assert caught.value.location.file.endswith("templates/policies.yaml")
