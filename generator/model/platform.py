"""The platform a generated pattern stands on, as data: the upstream Validated Patterns charts
and operators it references, and which of them mcg-gen adds to which cluster group.

A generated repository is a standard Validated Patterns repository: it names the upstream charts
by chart name and pinned version, exactly as the reference multicloud-gitops does
(github.com/validatedpatterns/multicloud-gitops, values-global.yaml, values-hub.yaml,
values-group-one.yaml), and vendors none of them. The patterns operator deploys the clustergroup
chart from `HELM_REPO` at `main.multiSourceConfig.clusterGroupChartVersion` on the hub; the acm
chart's policies deploy the same chart on the managed clusters; every other chart is an
Application of the clustergroup chart. To follow upstream, change the values below (and the
bundled models in charts/ when a chart's behaviour changes); nothing else spells them.

A spec may override any component by defining an app or operator of the same key; its keys
replace the defaults below key by key (a `path` or `chart` of its own replaces the source).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# Where `chart:` + `chartVersion:` applications without a repoURL come from, and where the
# operator finds clustergroup (its default `multiSourceConfig.helmRepoUrl`, spelt as it does).
HELM_REPO = "https://charts.validatedpatterns.io/"


@dataclass(frozen=True)
class UpstreamChart:
    """A chart of the Validated Patterns Helm repository that generated repositories use.

    `model` is mcg-gen's own offline model of it in charts/ (rendered when no real copy of the
    chart is at hand), None when there is none."""

    name: str
    version: str  # what generated repositories pin: a version or a wildcard Helm resolves
    model: str | None = None


# Also the version the operator picks when main.multiSourceConfig names none.
CLUSTERGROUP_CHART = UpstreamChart("clustergroup", "0.9.*", model="clustergroup")
ACM_CHART = UpstreamChart("acm", "0.2.*", model="acm")
VAULT_CHART = UpstreamChart("hashicorp-vault", "0.1.*")
# Red Hat's External Secrets operator is configured by this chart, which also holds the
# `vault-backend` ClusterSecretStore, its service account and the operator configuration
# (mcg-gen's model of it, rendered offline: charts/secretstore).
ESO_CHART = UpstreamChart("openshift-external-secrets", "0.0.*", model="secretstore")
UPSTREAM_CHARTS = (CLUSTERGROUP_CHART, ACM_CHART, VAULT_CHART, ESO_CHART)

# Upstream chart name -> the bundled model that renders it offline.
BUNDLED_MODELS = {chart.name: chart.model for chart in UPSTREAM_CHARTS if chart.model}

# One Argo CD for the pattern: the cluster-wide instance of OpenShift GitOps (in
# `ARGO_NAMESPACE`, the operator's global.vpArgoNamespace) runs every Application, as upstream
# multicloud-gitops sets it.
SINGLE_ARGOCD = True
ARGO_NAMESPACE = "openshift-gitops"

# Repositories written by hand, by older Validated Patterns tooling or by mcg-gen before it
# referenced upstream charts vendor base charts under common/<chart>. Generated repositories do
# not; `generate` removes the vendored copies it wrote (edited ones are reported and kept), and
# app charts may not live there.
VENDOR_DIR = "common"
VENDORED_CHARTS = ("clustergroup", "acm", "secretstore")

PLATFORM_PROJECT = "platform"

ACM_OPERATOR = "acm"
ESO_OPERATOR = "eso"
ACM_APP = "acm"
VAULT_APP = "vault"
ESO_APP = "openshift-external-secrets"

DEFAULT_OPERATORS: dict[str, dict[str, Any]] = {
    ACM_OPERATOR: {
        "name": "advanced-cluster-management",
        "namespace": "open-cluster-management",
        "channel": "release-2.16",
    },
    # The operator watches all namespaces: its OperatorGroup has no target namespaces.
    ESO_OPERATOR: {
        "name": "openshift-external-secrets-operator",
        "namespace": "external-secrets-operator",
        "channel": "stable-v1",
        "allNamespaces": True,
    },
}

DEFAULT_APPS: dict[str, dict[str, Any]] = {
    ACM_APP: {
        "chart": ACM_CHART.name,
        "version": ACM_CHART.version,
        "namespace": "open-cluster-management",
    },
    VAULT_APP: {"chart": VAULT_CHART.name, "version": VAULT_CHART.version, "namespace": "vault"},
    ESO_APP: {
        "chart": ESO_CHART.name,
        "version": ESO_CHART.version,
        "namespace": "external-secrets",
    },
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


def secret_consumer_components() -> tuple[list[str], list[str]]:
    """(apps, operators) every group that runs a secret-consuming app gets."""
    return [ESO_APP], [ESO_OPERATOR]
