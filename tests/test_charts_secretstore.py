"""The secretstore chart: the vault-backend ClusterSecretStore on the hub and on spokes."""

from __future__ import annotations

from typing import Any

import pytest

from generator.bundled import charts_dir
from generator.errors import McgError
from generator.helm import render_chart


def render(global_values: dict[str, Any], **extra: Any) -> dict[str, Any]:
    values = {"global": global_values, "clusterGroup": {"name": "group-one"}, **extra}
    [doc] = render_chart(
        charts_dir() / "secretstore", values, release="s", namespace="external-secrets"
    )
    assert doc.body["apiVersion"] == "external-secrets.io/v1"
    assert doc.body["kind"] == "ClusterSecretStore"
    assert doc.body["metadata"]["name"] == "vault-backend"
    vault: dict[str, Any] = doc.body["spec"]["provider"]["vault"]
    return vault


HUB = "apps.hub.example.com"


def test_on_the_hub_vault_is_reached_in_cluster_through_the_hub_mount() -> None:
    vault = render({"hubClusterDomain": HUB, "localClusterDomain": HUB})
    assert vault["server"] == "http://vault.vault.svc.cluster.local:8200"
    assert vault["path"] == "secret"
    assert vault["version"] == "v2"
    assert vault["auth"]["kubernetes"] == {
        "mountPath": "hub",
        "role": "group-one-role",
        "serviceAccountRef": {
            "name": "external-secrets",
            "namespace": "external-secrets",
        },
    }


def test_on_a_spoke_vault_is_reached_through_the_hub_route_and_its_own_mount() -> None:
    vault = render(
        {
            "hubClusterDomain": HUB,
            "localClusterDomain": "apps.spoke.example.com",
            "clusterDomain": "spoke.example.com",
        }
    )
    assert vault["server"] == f"https://vault-vault.{HUB}"
    assert vault["auth"]["kubernetes"]["mountPath"] == "spoke.example.com"
    assert vault["auth"]["kubernetes"]["role"] == "group-one-role"


def test_deprecated_is_hub_cluster_wins_over_domains() -> None:
    values = {"hubClusterDomain": HUB, "localClusterDomain": HUB, "clusterDomain": "x.example.com"}
    vault = render(values, clusterGroup={"name": "group-one", "isHubCluster": False})
    assert vault["auth"]["kubernetes"]["mountPath"] == "x.example.com"


def test_explicit_settings_win() -> None:
    vault = render(
        {"hubClusterDomain": HUB, "localClusterDomain": "apps.spoke.example.com"},
        secretStore={
            "vault": {
                "server": "https://vault.example.com",
                "mountPath": "spoke",
                "role": "reader",
                "caConfigMap": {"name": "vault-ca"},
            }
        },
    )
    assert vault["server"] == "https://vault.example.com"
    assert vault["auth"]["kubernetes"]["mountPath"] == "spoke"
    assert vault["auth"]["kubernetes"]["role"] == "reader"
    assert vault["caProvider"] == {
        "type": "ConfigMap",
        "name": "vault-ca",
        "namespace": "external-secrets",
        "key": "ca.crt",
    }


def test_a_spoke_without_its_cluster_domain_fails_clearly() -> None:
    with pytest.raises(McgError, match="clusterDomain"):
        render({"hubClusterDomain": HUB, "localClusterDomain": "apps.spoke.example.com"})
