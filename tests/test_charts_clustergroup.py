"""The clustergroup chart, rendered by Helm, against the Validated Patterns values contract.

tests/test_chart_fidelity.py holds the whole chart against upstream clustergroup 0.9.x; these
tests say what single values do."""

from __future__ import annotations

from typing import Any

import pytest

from generator.bundled import charts_dir
from generator.errors import McgError
from generator.helm import render_chart
from generator.model.values import merge_values

FACTS = {
    "pattern": "mcg",
    "repoURL": "https://github.com/example/mcg.git",
    "targetRevision": "main",
    "hubClusterDomain": "apps.hub.example.com",
    "localClusterDomain": "apps.hub.example.com",
    "clusterDomain": "hub.example.com",
    "clusterPlatform": "AWS",
    "clusterVersion": "4.16",
}


def render(cluster_group: dict[str, Any], **global_values: Any) -> list[dict[str, Any]]:
    values = {
        "global": merge_values(FACTS, global_values),
        "clusterGroup": {"name": "hub", **cluster_group},
    }
    docs = render_chart(charts_dir() / "clustergroup", values, release="r", namespace="mcg-hub")
    return [doc.body for doc in docs]


def by_kind(bodies: list[dict[str, Any]], kind: str) -> dict[str, dict[str, Any]]:
    found = [b for b in bodies if b["kind"] == kind]
    named = {b["metadata"]["name"]: b for b in found}
    assert len(named) == len(found), f"duplicate {kind} names"
    return named


PLUMBING = {
    ("Namespace", "mcg-hub"),
    ("ArgoCD", "hub-gitops"),
    ("ConsoleLink", "hub-gitops-link"),
    ("ClusterRoleBinding", "mcg-hub-cluster-admin-rolebinding"),
    ("ClusterRoleBinding", "openshift-gitops-cluster-admin-rolebinding"),
    ("ConfigMap", "trusted-ca-bundle"),
    ("Namespace", "imperative"),
    ("ServiceAccount", "imperative-sa"),
    ("ServiceAccount", "imperative-admin-sa"),
    ("ClusterRole", "imperative-cluster-role"),
    ("ClusterRole", "imperative-admin-cluster-role"),
    ("ClusterRoleBinding", "imperative-cluster-rolebinding"),
    ("ClusterRoleBinding", "imperative-admin-clusterrolebinding"),
    ("Role", "imperative-role"),
    ("RoleBinding", "imperative-rolebinding"),
    ("ConfigMap", "helm-values-configmap-hub"),
}
HUB_VAULT = {
    ("CronJob", "unsealvault-cronjob"),
    ("Role", "vault-pod-exec"),
    ("RoleBinding", "imperative-vault-exec-rolebinding"),
}


def kinds_and_names(bodies: list[dict[str, Any]]) -> set[tuple[str, str]]:
    return {(b["kind"], b["metadata"]["name"]) for b in bodies}


def test_empty_values_give_the_plumbing_every_cluster_needs() -> None:
    assert kinds_and_names(render({})) == PLUMBING | HUB_VAULT
    spoke = render({}, localClusterDomain="apps.spoke.example.com")
    assert kinds_and_names(spoke) == PLUMBING | {("ConsoleLink", "hub-gitops-link")}
    single = kinds_and_names(render({}, singleArgoCD=True))
    assert not single & {("ArgoCD", "hub-gitops"), ("Namespace", "mcg-hub")}


def test_the_group_argo_cd_serves_the_group_namespace() -> None:
    bodies = render({})
    instance = by_kind(bodies, "ArgoCD")["hub-gitops"]
    assert instance["apiVersion"] == "argoproj.io/v1beta1"
    assert instance["metadata"]["namespace"] == "mcg-hub"
    assert instance["spec"]["resourceTrackingMethod"] == "annotation"
    assert instance["spec"]["rbac"]["defaultPolicy"] == "role:readonly"
    link = by_kind(bodies, "ConsoleLink")["hub-gitops-link"]
    assert link["spec"]["href"] == "https://hub-gitops-server-mcg-hub.apps.hub.example.com"
    binding = by_kind(bodies, "ClusterRoleBinding")["mcg-hub-cluster-admin-rolebinding"]
    assert {s["name"] for s in binding["subjects"]} == {
        "hub-gitops-argocd-application-controller",
        "hub-gitops-argocd-server",
        "hub-gitops-argocd-dex-server",
    }


def test_vp_rbac_accounts_roles_and_bindings() -> None:
    values = {
        "global": FACTS,
        "clusterGroup": {"name": "hub"},
        "vp-rbac": {
            "serviceAccounts": {
                "bot": {
                    "namespace": "apps",
                    "roleBindings": {"roles": ["r"], "clusterRoles": ["c"]},
                }
            },
            "roles": {"r": {"namespace": "apps", "rules": [{"resources": ["pods"]}]}},
            "clusterRoles": {"c": {}},
        },
    }
    docs = render_chart(charts_dir() / "clustergroup", values, release="r", namespace="x")
    bodies = [doc.body for doc in docs]
    role = next(b for b in bodies if b["kind"] == "Role" and b["metadata"]["name"] == "r")
    assert role["rules"] == [
        {"apiGroups": ["*"], "resources": ["pods"], "verbs": ["get", "list", "watch"]}
    ]
    assert by_kind(bodies, "ClusterRole")["c"]["rules"][0]["verbs"] == ["get", "list", "watch"]
    assert by_kind(bodies, "RoleBinding")["bot-r-rb"]["roleRef"]["name"] == "r"
    assert by_kind(bodies, "ClusterRoleBinding")["bot-c-crb"]["subjects"][0]["namespace"] == "apps"


@pytest.mark.parametrize(
    "namespaces",
    [
        ["plain", {"labelled": {"labels": {"team": "a"}, "annotations": {"note": "x"}}}],
        {"plain": None, "labelled": {"labels": {"team": "a"}, "annotations": {"note": "x"}}},
    ],
    ids=["list", "map"],
)
def test_namespaces_in_list_or_map_form(namespaces: Any) -> None:
    found = by_kind(render({"namespaces": namespaces}), "Namespace")
    assert found["plain"]["metadata"]["labels"] == {"argocd.argoproj.io/managed-by": "mcg-hub"}
    assert found["labelled"]["metadata"]["labels"] == {
        "argocd.argoproj.io/managed-by": "mcg-hub",
        "team": "a",
    }
    assert found["labelled"]["metadata"]["annotations"] == {"note": "x"}


def test_operator_groups_follow_target_namespaces() -> None:
    bodies = render(
        {
            "namespaces": {
                "own": None,
                "all": {"targetNamespaces": []},
                "some": {"targetNamespaces": ["a", "b"]},
                "none": {"operatorGroup": False},
                "excluded": None,
                "gone": {"disabled": True},
            },
            "operatorgroupExcludes": ["excluded"],
        }
    )
    groups = by_kind(bodies, "OperatorGroup")
    # as upstream, operatorgroupExcludes does not apply to a map of namespaces
    assert sorted(groups) == [
        "all-operator-group",
        "excluded-operator-group",
        "own-operator-group",
        "some-operator-group",
    ]
    assert groups["own-operator-group"]["metadata"]["namespace"] == "own"
    assert groups["own-operator-group"]["spec"] == {"targetNamespaces": ["own"]}
    assert "spec" not in groups["all-operator-group"]
    assert groups["some-operator-group"]["spec"] == {"targetNamespaces": ["a", "b"]}
    assert "gone" not in by_kind(bodies, "Namespace")


def test_subscriptions_defaults_and_overrides() -> None:
    bodies = render(
        {
            "subscriptions": {
                "acm": {
                    "name": "advanced-cluster-management",
                    "namespace": "open-cluster-management",
                    "channel": "release-2.11",
                    "csv": "advanced-cluster-management.v2.11.0",
                },
                "plain": {},
                "manual": {
                    "source": "community-operators",
                    "sourceNamespace": "custom",
                    "installPlanApproval": "Manual",
                },
                "off": {"disabled": True},
            }
        },
        options={"installPlanApproval": "Automatic", "useCSV": True},
    )
    subs = by_kind(bodies, "Subscription")
    assert sorted(subs) == ["advanced-cluster-management", "manual", "plain"]
    acm = subs["advanced-cluster-management"]
    assert acm["metadata"]["namespace"] == "open-cluster-management"
    assert acm["spec"] == {
        "name": "advanced-cluster-management",
        "source": "redhat-operators",
        "sourceNamespace": "openshift-marketplace",
        "channel": "release-2.11",
        "installPlanApproval": "Automatic",
        "startingCSV": "advanced-cluster-management.v2.11.0",
    }
    assert subs["plain"]["metadata"]["namespace"] == "openshift-operators"
    assert subs["plain"]["spec"]["name"] == "plain"
    assert "channel" not in subs["plain"]["spec"]
    assert subs["manual"]["spec"]["source"] == "community-operators"
    assert subs["manual"]["spec"]["sourceNamespace"] == "custom"
    assert subs["manual"]["spec"]["installPlanApproval"] == "Manual"


def test_operator_group_excludes_name_bare_namespaces_of_a_list() -> None:
    bodies = render(
        {
            "namespaces": ["kept", "excluded", {"mapped": {}}],
            "operatorgroupExcludes": ["excluded", "mapped"],
        }
    )
    assert sorted(by_kind(bodies, "OperatorGroup")) == [
        "kept-operator-group",
        "mapped-operator-group",
    ]


def test_a_csv_pins_the_starting_csv_even_with_use_csv_false() -> None:
    bodies = render({"subscriptions": [{"name": "op", "csv": "op.v1"}]}, options={"useCSV": False})
    assert by_kind(bodies, "Subscription")["op"]["spec"]["startingCSV"] == "op.v1"


def test_olm_v1_keys_make_a_cluster_extension() -> None:
    bodies = render(
        {
            "subscriptions": {
                "quay": {"name": "quay-operator", "namespace": "quay", "version": "3.12.*"},
                "spread": {"name": "spread", "namespaces": ["a"], "version": "1.*"},
            }
        }
    )
    extension = by_kind(bodies, "ClusterExtension")["quay-operator"]
    assert extension["apiVersion"] == "olm.operatorframework.io/v1"
    assert extension["spec"]["namespace"] == "quay"
    assert extension["spec"]["source"]["catalog"] == {
        "packageName": "quay-operator",
        "version": "3.12.*",
        "upgradeConstraintPolicy": "CatalogProvided",
    }
    assert "spread" in by_kind(bodies, "Subscription")


@pytest.mark.parametrize(
    ("key", "projects"),
    [
        ("argoProjects", ["hub", "apps"]),
        ("projects", ["hub", "apps"]),
        ("argoProjects", {"hub": "The hub", "apps": None}),
    ],
    ids=["argoProjects-list", "deprecated-projects", "argoProjects-map"],
)
def test_app_projects(key: str, projects: Any) -> None:
    found = by_kind(render({key: projects}), "AppProject")
    assert sorted(found) == ["apps", "hub"]
    hub = found["hub"]
    assert hub["metadata"]["namespace"] == "mcg-hub"
    assert hub["spec"]["sourceRepos"] == ["*"]
    assert hub["spec"]["destinations"] == [{"namespace": "*", "server": "*"}]
    expected = "Pattern The hub" if isinstance(projects, dict) else "Pattern hub"
    assert hub["spec"]["description"] == expected


def test_path_application_is_single_source_with_the_value_file_chain() -> None:
    bodies = render(
        {
            "sharedValueFiles": ["/overrides/values-{{ $.Values.global.clusterPlatform }}.yaml"],
            "applications": {
                "config-demo": {
                    "namespace": "config-demo",
                    "argoProject": "apps",
                    "path": "charts/all/config-demo",
                    "extraValueFiles": ["/extra/values.yaml"],
                    "overrides": [{"name": "replicas", "value": 2}],
                }
            },
        },
        extraValueFiles=["/values-extra-global.yaml"],
    )
    app = by_kind(bodies, "Application")["config-demo"]
    assert app["metadata"]["namespace"] == "mcg-hub"
    spec = app["spec"]
    assert spec["project"] == "apps"
    assert spec["destination"] == {"name": "in-cluster", "namespace": "config-demo"}
    source = spec["source"]
    assert source["repoURL"] == "https://github.com/example/mcg.git"
    assert source["targetRevision"] == "main"
    assert source["path"] == "charts/all/config-demo"
    assert source["helm"]["ignoreMissingValueFiles"] is True
    assert source["helm"]["valueFiles"] == [
        "/values-global.yaml",
        "/values-hub.yaml",
        "/values-AWS.yaml",
        "/values-AWS-4.16.yaml",
        "/values-AWS-hub.yaml",
        "/values-4.16-hub.yaml",
        "/values-extra-global.yaml",
        "/overrides/values-AWS.yaml",
        "/extra/values.yaml",
    ]
    parameters = {p["name"]: p["value"] for p in source["helm"]["parameters"]}
    assert parameters["global.hubClusterDomain"] == "apps.hub.example.com"
    assert parameters["global.namespace"] == "$ARGOCD_APP_NAMESPACE"
    assert parameters["global.vpArgoNamespace"] == "openshift-gitops"
    assert "clusterGroup.name" not in parameters
    assert parameters["replicas"] == "2"
    assert spec["syncPolicy"] == {"automated": {}, "retry": {"limit": 20}}


def test_versioned_chart_application_is_multi_source_with_patternref() -> None:
    bodies = render(
        {
            "applications": [
                {
                    "name": "vault",
                    "namespace": "vault",
                    "chart": "hashicorp-vault",
                    "chartVersion": "0.1.*",
                    "project": "hub",
                },
                {
                    "name": "own",
                    "chart": "thing",
                    "chartVersion": "1.2.3",
                    "repoURL": "https://charts.example.com",
                },
            ]
        },
    )
    apps = by_kind(bodies, "Application")
    vault = apps["vault"]["spec"]
    assert vault["project"] == "hub"
    pattern_source, chart_source = vault["sources"]
    assert pattern_source == {
        "repoURL": "https://github.com/example/mcg.git",
        "targetRevision": "main",
        "ref": "patternref",
    }
    assert chart_source["repoURL"] == "https://charts.validatedpatterns.io"
    assert chart_source["chart"] == "hashicorp-vault"
    assert chart_source["targetRevision"] == "0.1.*"
    assert chart_source["helm"]["valueFiles"][:2] == [
        "$patternref/values-global.yaml",
        "$patternref/values-hub.yaml",
    ]
    assert apps["own"]["spec"]["sources"][1]["repoURL"] == "https://charts.example.com"
    assert apps["own"]["spec"]["project"] == "default"
    assert apps["own"]["spec"]["destination"]["namespace"] == "mcg-hub"


def test_sync_policies_disabled_apps_and_ignore_differences() -> None:
    differences = [{"group": "apps", "kind": "Deployment", "jsonPointers": ["/spec/replicas"]}]
    bodies = render(
        {
            "applications": {
                "manual": {"path": "a", "syncPolicy": "Manual"},
                "custom": {"path": "b", "syncPolicy": {"automated": {"prune": True}}},
                "default": {"path": "c", "ignoreDifferences": differences},
                "off": {"path": "d", "disabled": True},
                "nothing": None,
            }
        },
        options={"syncPolicy": "Automatic", "applicationRetryLimit": 5},
    )
    apps = by_kind(bodies, "Application")
    assert sorted(apps) == ["custom", "default", "manual"]
    assert "syncPolicy" not in apps["manual"]["spec"]
    assert apps["custom"]["spec"]["syncPolicy"] == {"automated": {"prune": True}}
    assert apps["default"]["spec"]["syncPolicy"] == {"automated": {}, "retry": {"limit": 5}}
    assert apps["default"]["spec"]["ignoreDifferences"] == differences


def test_global_manual_sync_policy_applies_to_every_app() -> None:
    bodies = render({"applications": {"a": {"path": "a"}}}, options={"syncPolicy": "Manual"})
    assert "syncPolicy" not in by_kind(bodies, "Application")["a"]["spec"]


def test_options_set_to_null_fall_back_to_defaults() -> None:
    bodies = render(
        {"applications": {"a": {"path": "a"}}, "subscriptions": {"s": {}}}, options=None
    )
    assert by_kind(bodies, "Application")["a"]["spec"]["syncPolicy"]["retry"] == {"limit": 20}
    assert by_kind(bodies, "Subscription")["s"]["spec"]["installPlanApproval"] == "Automatic"


def test_single_argo_cd_puts_everything_in_the_shared_namespace() -> None:
    bodies = render({"applications": {"a": {"path": "a"}}, "namespaces": ["x"]}, singleArgoCD=True)
    assert by_kind(bodies, "Application")["a"]["metadata"]["namespace"] == "openshift-gitops"
    labels = by_kind(bodies, "Namespace")["x"]["metadata"]["labels"]
    assert labels["argocd.argoproj.io/managed-by"] == "openshift-gitops"


def test_an_application_without_path_or_chart_fails_clearly() -> None:
    with pytest.raises(McgError, match=r"applications\.broken needs a path"):
        render({"applications": {"broken": {"namespace": "x"}}})


def test_imperative_cron_job_runs_the_jobs_in_order() -> None:
    bodies = render(
        {
            "imperative": {
                "jobs": [
                    {"name": "first", "playbook": "ansible/first.yaml", "timeout": 234},
                    {"name": "skipped", "playbook": "x.yaml", "disabled": True},
                    {"name": "second", "playbook": "ansible/second.yaml", "tags": "setup"},
                ]
            }
        }
    )
    cron = by_kind(bodies, "CronJob")["imperative-cronjob"]
    assert cron["metadata"]["namespace"] == "imperative"
    pod = cron["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    assert pod["serviceAccountName"] == "imperative-sa"
    steps = [c["name"] for c in pod["initContainers"]]
    assert steps == ["fetch-ca", "git-init", "first", "second"]
    first = pod["initContainers"][2]["command"]
    assert first[:3] == ["timeout", "234", "ansible-playbook"]
    assert first[-1] == "ansible/first.yaml"
    assert "setup" in pod["initContainers"][3]["command"]
    assert by_kind(bodies, "ServiceAccount")["imperative-sa"]["metadata"]["namespace"] == (
        "imperative"
    )
    binding = by_kind(bodies, "ClusterRoleBinding")["imperative-cluster-rolebinding"]
    assert binding["roleRef"]["name"] == "imperative-cluster-role"
    assert "imperative-cluster-role" in by_kind(bodies, "ClusterRole")
    [config] = [b for b in bodies if b["metadata"]["name"] == "helm-values-configmap-hub"]
    assert "ansible/first.yaml" in config["data"]["values.yaml"]


def test_imperative_jobs_must_be_a_list() -> None:
    with pytest.raises(McgError, match=r"schema.*imperative/jobs"):
        render({"imperative": {"jobs": {"one": {"playbook": "x.yaml"}}}})
    with pytest.raises(McgError, match="playbook"):
        render({"imperative": {"jobs": [{"name": "no-playbook"}]}})
