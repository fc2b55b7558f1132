"""Naming rules that Kubernetes, ACM, Argo CD and Vault impose, in one place."""

from __future__ import annotations

import re

DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
DNS_LABEL_MAX = 63

# ACM rejects a policy whose "<namespace>.<name>" (the replicated policy name) exceeds 62 chars.
ACM_POLICY_NAMESPACE = "open-cluster-management"
ACM_POLICY_MAX = 62
ACM_POLICY_SUFFIX = "-clustergroup-policy"

# Argo CD's route host starts with "<instance>-server-<namespace>", one DNS label (63 characters);
# the patterns operator names the instance "<group>-gitops" in namespace "<pattern>-<group>".
ROUTE_LABEL_MAX = 63


def is_dns_label(name: str) -> bool:
    return len(name) <= DNS_LABEL_MAX and DNS_LABEL.match(name) is not None


def acm_policy_name(group: str) -> str:
    return f"{group}{ACM_POLICY_SUFFIX}"


def acm_policy_full_name(group: str) -> str:
    return f"{ACM_POLICY_NAMESPACE}.{acm_policy_name(group)}"


def max_managed_group_name() -> int:
    """The longest managed cluster group name whose ACM policy name still fits."""
    return ACM_POLICY_MAX - len(acm_policy_full_name(""))


def argocd_route_label(pattern: str, group: str) -> str:
    return f"{group}-gitops-server-{pattern}-{group}"


def secrets_chart_app(app: str) -> str:
    """The app whose generated chart holds the ExternalSecrets of a remote-chart app."""
    return f"{app}-secrets"


# The KV version 2 mount secrets live in unless a secret names its own (`vaultMount`).
DEFAULT_MOUNT = "secret"


# The External Secrets side of the pattern, as Red Hat's openshift-external-secrets chart (0.0.*)
# deploys it and rhvp.cluster_utils' vault_utils role configures Vault for it. Both sides must
# agree on these names, so they are defined once here.
SECRET_STORE = "vault-backend"  # the ClusterSecretStore ExternalSecrets reference (vault backend)
KUBERNETES_SECRET_STORE = "kubernetes-backend"  # the store of the kubernetes backend
# The service account (and its token Secret) the store logs in to Vault with; upstream warns it
# cannot be "external-secrets", the name the operator's own controller uses.
ESO_SERVICE_ACCOUNT = "ocp-external-secrets"
ESO_NAMESPACE = "external-secrets"
HUB_AUTH_MOUNT = "hub"  # the hub's Kubernetes auth mount in Vault
HUB_VAULT_ROLE = "hub-role"  # the role the hub's store logs in with, on HUB_AUTH_MOUNT


def spoke_vault_role(cluster_domain: str) -> str:
    """The role a managed cluster's store logs in with; its Kubernetes auth mount in Vault is
    named after the cluster domain itself (global.clusterDomain, the cluster's FQDN)."""
    return f"{cluster_domain}-role"


# The ACL policies vault_utils writes and its roles carry (rhvp.cluster_utils defaults/main.yml):
# every role reads global/ and manages pushsecrets/; the hub's also reads hub/, a managed
# cluster's its own <cluster domain>/.
def vault_reader_policy(prefix: str) -> str:
    """The ACL policy vault_utils writes for `prefix`/: global-secret, pushsecrets-secret,
    hub-secret, and a managed cluster's <cluster domain>-secret."""
    return f"{prefix}-secret"


GLOBAL_PREFIX = "global"
PUSH_PREFIX = "pushsecrets"  # where PushSecrets write
HUB_PREFIX = HUB_AUTH_MOUNT  # vault_utils names the hub's prefix, mount and policy alike
GLOBAL_POLICY = vault_reader_policy(GLOBAL_PREFIX)
PUSH_POLICY = vault_reader_policy(PUSH_PREFIX)
HUB_POLICY = vault_reader_policy(HUB_PREFIX)
# Vault's own policy every token carries; vault_utils lists it in each role.
VAULT_DEFAULT_POLICY = "default"


def readable_prefixes(is_hub: bool) -> tuple[str, ...]:
    """The KV prefixes known before any cluster exists that a cluster's ClusterSecretStore may
    read with the role vault_utils gives it: global/ and pushsecrets/ everywhere, hub/ on the
    hub. A managed cluster also reads its own <cluster domain>/ (see `store_reads`); no role
    reads a cluster group's name."""
    return (GLOBAL_PREFIX, HUB_PREFIX, PUSH_PREFIX) if is_hub else (GLOBAL_PREFIX, PUSH_PREFIX)


def store_reads(is_hub: bool, prefix: str) -> bool:
    """Whether a cluster's store may read `prefix`. A managed cluster's own prefix is its
    cluster domain, unknown until it joins: any domain-like (dotted) prefix is taken for it,
    since group names are DNS labels and never dotted."""
    return prefix in readable_prefixes(is_hub) or (not is_hub and "." in prefix)


def vault_path(mount: str, prefix: str, secret: str) -> str:
    """The KV v2 API path of a secret, as ExternalSecrets read it (`secret/data/global/x`)."""
    return f"{mount}/data/{prefix}/{secret}"


def parse_vault_path(key: str, mount: str = DEFAULT_MOUNT) -> tuple[str, str] | None:
    """(prefix, secret name) of a key an ExternalSecret reads: the inverse of `vault_path`,
    also without `data/` or the mount (`global/config-demo`)."""
    parts = key.strip("/").split("/")
    if len(parts) >= 4 and parts[0] == mount and parts[1] == "data":
        parts = parts[2:]
    elif parts and parts[0] == mount:
        parts = parts[1:]
    if len(parts) != 2:
        return None
    return parts[0], parts[1]
