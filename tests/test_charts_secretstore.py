"""The secretstore chart, mcg-gen's model of openshift-external-secrets 0.0.4: the cases are the
behaviours upstream's helm-unittest suites (tests/*.yaml at ea2f8b1) assert, rendered here."""

from __future__ import annotations

from typing import Any

import pytest

from generator.bundled import charts_dir
from generator.helm import render_chart
from generator.model import names

HUB = "hub.example.com"
SPOKE = "spoke.example.com"


def render(values: dict[str, Any]) -> dict[str, dict[str, Any]]:
    docs = render_chart(charts_dir() / "secretstore", values, release="s", namespace="x")
    return {f"{doc.body['kind']}/{doc.body['metadata']['name']}": doc.body for doc in docs}


def vault(values: dict[str, Any]) -> dict[str, Any]:
    store = render(values)[f"ClusterSecretStore/{names.SECRET_STORE}"]
    assert store["apiVersion"] == "external-secrets.io/v1"
    provider: dict[str, Any] = store["spec"]["provider"]["vault"]
    return provider


def test_defaults_render_the_identity_the_operator_config_and_the_vault_store() -> None:
    docs = render({})
    assert sorted(docs) == [
        "ClusterRoleBinding/role-tokenreview-binding",
        "ClusterSecretStore/vault-backend",
        "ExternalSecretsConfig/cluster",
        f"Secret/{names.ESO_SERVICE_ACCOUNT}",
        f"ServiceAccount/{names.ESO_SERVICE_ACCOUNT}",
    ]
    token = docs[f"Secret/{names.ESO_SERVICE_ACCOUNT}"]
    assert token["type"] == "kubernetes.io/service-account-token"
    assert token["metadata"]["namespace"] == names.ESO_NAMESPACE
    assert token["metadata"]["annotations"] == {
        "kubernetes.io/service-account.name": names.ESO_SERVICE_ACCOUNT
    }
    binding = docs["ClusterRoleBinding/role-tokenreview-binding"]
    assert binding["roleRef"]["name"] == "system:auth-delegator"
    assert binding["subjects"] == [
        {
            "kind": "ServiceAccount",
            "name": names.ESO_SERVICE_ACCOUNT,
            "namespace": "external-secrets",
        }
    ]
    egress = docs["ExternalSecretsConfig/cluster"]["spec"]["controllerConfig"]["networkPolicies"]
    assert egress[0]["egress"] == [{"ports": [{"protocol": "TCP", "port": 443}]}]


def test_the_store_logs_in_with_the_token_secret_not_a_service_account_ref() -> None:
    auth = vault({})["auth"]["kubernetes"]
    assert auth["secretRef"] == {
        "name": names.ESO_SERVICE_ACCOUNT,
        "namespace": names.ESO_NAMESPACE,
        "key": "token",
    }
    assert "serviceAccountRef" not in auth


@pytest.mark.parametrize(
    ("is_hub", "global_values", "hub"),
    [
        (True, {"hubClusterDomain": HUB, "localClusterDomain": SPOKE}, True),
        (False, {"hubClusterDomain": HUB, "localClusterDomain": HUB}, False),
        ("true", {"hubClusterDomain": HUB, "localClusterDomain": SPOKE}, True),
        (None, {"hubClusterDomain": HUB, "localClusterDomain": HUB}, True),
        (None, {"hubClusterDomain": HUB, "localClusterDomain": SPOKE}, False),
        (None, {"hubClusterDomain": HUB}, True),  # no local domain: the hub's
        (None, {"hubClusterDomain": None, "localClusterDomain": SPOKE}, False),
    ],
)
def test_hub_detection(is_hub: Any, global_values: dict[str, Any], hub: bool) -> None:
    values = {"global": {**global_values, "clusterDomain": SPOKE}, "clusterGroup": {}}
    if is_hub is not None:
        values["clusterGroup"]["isHubCluster"] = is_hub
    provider = vault(values)
    expected = (
        {"mountPath": names.HUB_AUTH_MOUNT, "role": names.HUB_VAULT_ROLE}
        if hub
        else {"mountPath": SPOKE, "role": names.spoke_vault_role(SPOKE)}
    )
    auth = provider["auth"]["kubernetes"]
    assert {key: auth[key] for key in expected} == expected
    assert provider["caProvider"]["name"] == ("kube-root-ca.crt" if hub else "hub-ca")


def test_a_group_running_hashicorp_vault_logs_in_as_the_hub() -> None:
    apps = {"vault": {"chart": "hashicorp-vault"}, "empty": None}
    values = {
        "global": {"hubClusterDomain": HUB, "localClusterDomain": SPOKE, "clusterDomain": SPOKE},
        "clusterGroup": {"applications": apps},
    }
    provider = vault(values)
    assert provider["auth"]["kubernetes"]["role"] == names.HUB_VAULT_ROLE
    assert provider["caProvider"]["type"] == "ConfigMap"


def test_server_is_the_hub_route_unless_an_external_address_is_given() -> None:
    assert vault({"global": {"hubClusterDomain": "hub-01.test.local"}})["server"] == (
        "https://vault-vault.hub-01.test.local"
    )
    external = {"ocpExternalSecrets": {"vault": {"externalAddress": " https://v.example:8200 "}}}
    assert vault(external)["server"] == "https://v.example:8200"


def test_overridden_keys_reach_the_store() -> None:
    values = {
        "ocpExternalSecrets": {
            "rbac": {"rolename": "r", "serviceAccount": {"name": "sa", "namespace": "ns"}},
            "vault": {"mountPath": "m"},
            "caProvider": {"enabled": False},
        },
        "clusterGroup": {"isHubCluster": True},
    }
    provider = vault(values)
    assert provider["auth"]["kubernetes"] == {
        "mountPath": "m",
        "role": "r",
        "secretRef": {"name": "sa", "namespace": "ns", "key": "token"},
    }
    assert "caProvider" not in provider
    assert "ServiceAccount/sa" in render(values)


@pytest.mark.parametrize("is_hub", [True, False, None])
def test_kubernetes_backend(is_hub: bool | None) -> None:
    group = {} if is_hub is None else {"isHubCluster": is_hub}
    values = {"global": {"secretStore": {"backend": "kubernetes"}}, "clusterGroup": group}
    docs = render(values)
    assert f"ClusterSecretStore/{names.SECRET_STORE}" not in docs
    store = docs[f"ClusterSecretStore/{names.KUBERNETES_SECRET_STORE}"]
    assert store["apiVersion"] == "external-secrets.io/v1beta1"
    provider = store["spec"]["provider"]["kubernetes"]
    assert provider["remoteNamespace"] == "validated-patterns-secrets"
    assert provider["server"]["url"] == "https://kubernetes.default"
    assert provider["auth"] == {
        "serviceAccount": {"name": names.ESO_SERVICE_ACCOUNT, "namespace": names.ESO_NAMESPACE}
    }
    # upstream grants the hub Role only for an explicit isHubCluster: true
    assert ("Role/external-secrets" in docs) is (is_hub is True)
