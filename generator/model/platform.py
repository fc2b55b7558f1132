"""The platform components mcg-gen adds to a pattern: ACM on the hub when there are managed
groups, Vault on the hub and External Secrets where apps consume secrets.

A spec may override any of these by defining an app or operator of the same name; its keys
replace the defaults below key by key.
"""

from __future__ import annotations

from typing import Any

# Vendored base charts live at common/<chart> in every generated repository.
VENDOR_DIR = "common"
VENDORED_CHARTS = ("clustergroup", "acm", "secretstore")
PLATFORM_PROJECT = "platform"

ACM_OPERATOR = "acm"
ACM_APP = "acm"
VAULT_APP = "vault"
ESO_APP = "external-secrets"
SECRET_STORE_APP = "secret-store"

DEFAULT_OPERATORS: dict[str, dict[str, Any]] = {
    ACM_OPERATOR: {
        "name": "advanced-cluster-management",
        "namespace": "open-cluster-management",
        "channel": "release-2.14",
    },
}

DEFAULT_APPS: dict[str, dict[str, Any]] = {
    ACM_APP: {"path": f"{VENDOR_DIR}/acm", "namespace": "open-cluster-management"},
    VAULT_APP: {
        "chart": "hashicorp-vault",
        "version": "0.1.*",
        "namespace": "vault",
    },
    ESO_APP: {
        "chart": "external-secrets",
        "repoURL": "https://charts.external-secrets.io",
        "version": "0.19.*",
        "namespace": "external-secrets",
    },
    SECRET_STORE_APP: {"path": f"{VENDOR_DIR}/secretstore", "namespace": "external-secrets"},
}


def hub_components(has_managed_groups: bool, has_secrets: bool) -> tuple[list[str], list[str]]:
    """(apps, operators) the hub gets on top of what the spec lists."""
    apps: list[str] = []
    operators: list[str] = []
    if has_managed_groups:
        apps.append(ACM_APP)
        operators.append(ACM_OPERATOR)
    if has_secrets:
        apps.append(VAULT_APP)
    return apps, operators


def secret_consumer_components() -> list[str]:
    """Apps every group that runs a secret-consuming app gets."""
    return [ESO_APP, SECRET_STORE_APP]
