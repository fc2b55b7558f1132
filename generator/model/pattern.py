"""The pattern model: one reading of a Multicloud GitOps pattern, whatever it was loaded from.

Loaders (`model.spec` from pattern.yaml) build it; writers, renderers, the secrets backend and
checks only read it. Everything here is already resolved: defaults applied, platform components
(ACM, Vault, External Secrets) added, references checked.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from generator import SOURCE_REPOSITORY
from generator.model import names, platform

SyncPolicy = Literal["Automatic", "Manual"]
HelmValue = str | int | float | bool
HookSource = Literal["remote", "local"]
CiSystem = Literal["github", "gitlab"]
FieldSource = Literal["generate", "prompt", "file", "required"]

DEFAULT_VAULT_POLICY = "validatedPatternDefaultPolicy"
GLOBAL_PREFIX = names.GLOBAL_PREFIX
HUB_PREFIX = names.HUB_PREFIX


@dataclass(frozen=True)
class Options:
    sync_policy: SyncPolicy = "Automatic"
    install_plan_approval: SyncPolicy = "Automatic"
    use_csv: bool = False
    cluster_group_chart_version: str = platform.CLUSTERGROUP_CHART.version
    application_retry_limit: int = 20


@dataclass(frozen=True)
class Tooling:
    """How the generated repository runs mcg-gen: where pre-commit and CI install it from, and
    which CI systems get a pipeline."""

    hooks: HookSource = "remote"
    hook_repository: str = SOURCE_REPOSITORY
    ci: tuple[CiSystem, ...] = ("github",)


@dataclass(frozen=True)
class Operator:
    key: str
    name: str
    namespace: str = "openshift-operators"
    channel: str | None = None
    source: str = "redhat-operators"
    source_namespace: str = "openshift-marketplace"
    approval: SyncPolicy | None = None
    csv: str | None = None
    all_namespaces: bool = False  # its OperatorGroup watches every namespace


@dataclass(frozen=True)
class IgnoreDifference:
    kind: str
    group: str | None = None
    name: str | None = None
    namespace: str | None = None
    json_pointers: tuple[str, ...] = ()
    jq_path_expressions: tuple[str, ...] = ()
    managed_fields_managers: tuple[str, ...] = ()


@dataclass(frozen=True)
class App:
    """An Argo CD application. Local apps have `path`; remote apps have `chart` and `version`."""

    name: str
    namespace: str
    project: str
    path: str | None = None
    chart: str | None = None
    repo_url: str | None = None
    version: str | None = None
    overrides: Mapping[str, HelmValue] = field(default_factory=dict)
    value_files: tuple[str, ...] = ()
    sync_policy: SyncPolicy | None = None
    ignore_differences: tuple[IgnoreDifference, ...] = ()
    secrets: tuple[str, ...] = ()
    platform: bool = False  # added by mcg-gen (ACM, Vault, External Secrets), not scaffolded
    # set on the app mcg-gen adds next to a remote-chart app that consumes secrets: its chart
    # holds only that app's ExternalSecrets (a chart from a Helm repository cannot)
    secrets_for: str | None = None
    scaffold: bool = True  # False: the chart at `path` is the user's own

    @property
    def scaffolded(self) -> bool:
        """A local chart that mcg-gen writes (platform apps use upstream charts instead; a chart
        marked `scaffold: false` is the user's)."""
        return self.path is not None and not self.platform and self.scaffold


@dataclass(frozen=True)
class Job:
    name: str
    playbook: str
    verbosity: str | None = None
    timeout: int | None = None
    image: str | None = None
    tags: str | None = None
    extravars: tuple[str, ...] = ()


@dataclass(frozen=True)
class ClusterGroup:
    name: str
    is_hub: bool
    apps: tuple[str, ...] = ()
    operators: tuple[str, ...] = ()
    namespaces: tuple[str, ...] = ()  # all of them: explicit, apps' and operators'
    labels: Mapping[str, str] = field(default_factory=dict)
    # parameters of the group's clustergroup Application (in the hub's ACM policy)
    helm_overrides: Mapping[str, HelmValue] = field(default_factory=dict)
    # app -> parameters of that app's Application on this group only
    app_overrides: Mapping[str, Mapping[str, HelmValue]] = field(default_factory=dict)
    jobs: tuple[Job, ...] = ()
    # pass-through: merged over the generated values-<name>.yaml (what the spec cannot say)
    extra_values: Mapping[str, Any] = field(default_factory=dict)

    def overrides_for(self, app: App) -> dict[str, HelmValue]:
        """The Helm parameters of `app`'s Application on this group: the app's own, then this
        group's for it (which win)."""
        return {**app.overrides, **self.app_overrides.get(app.name, {})}

    @property
    def readable_prefixes(self) -> tuple[str, ...]:
        """The Vault prefixes every cluster of this group may read (upstream's roles give no
        prefix per cluster group)."""
        return names.readable_prefixes(self.is_hub)

    @property
    def selector_labels(self) -> Mapping[str, str]:
        return self.labels or {"clusterGroup": self.name}


@dataclass(frozen=True)
class SecretField:
    name: str
    source: FieldSource
    description: str | None = None
    policy: str | None = None  # generated fields: the Vault password policy
    override: bool = False
    prompt: str | None = None
    path: str | None = None
    base64: bool = False

    @property
    def vault_policy(self) -> str | None:
        return (self.policy or DEFAULT_VAULT_POLICY) if self.source == "generate" else None


@dataclass(frozen=True)
class Secret:
    name: str
    fields: tuple[SecretField, ...]
    prefixes: tuple[str, ...] = (GLOBAL_PREFIX,)
    description: str | None = None
    mount: str = names.DEFAULT_MOUNT

    def vault_path(self, prefix: str) -> str:
        return names.vault_path(self.mount, prefix, self.name)


@dataclass(frozen=True)
class Pattern:
    name: str
    repo_url: str
    revision: str
    hub: ClusterGroup
    groups: tuple[ClusterGroup, ...] = ()
    apps: Mapping[str, App] = field(default_factory=dict)
    operators: Mapping[str, Operator] = field(default_factory=dict)
    secrets: Mapping[str, Secret] = field(default_factory=dict)
    options: Options = field(default_factory=Options)
    vault_policies: Mapping[str, str] = field(default_factory=dict)
    description: str | None = None
    extra_values: Mapping[str, Any] = field(default_factory=dict)  # over values-global.yaml
    tooling: Tooling = field(default_factory=Tooling)

    @property
    def cluster_groups(self) -> tuple[ClusterGroup, ...]:
        """The hub first, then the managed groups in spec order."""
        return (self.hub, *self.groups)

    def group(self, name: str) -> ClusterGroup:
        for group in self.cluster_groups:
            if group.name == name:
                return group
        raise KeyError(name)

    def groups_running(self, app: str) -> tuple[ClusterGroup, ...]:
        return tuple(group for group in self.cluster_groups if app in group.apps)

    def secret_prefix_for(self, app: App, secret: Secret) -> str | None:
        """The one Vault prefix every group running `app` can read `secret` from, if any."""
        readers = self.groups_running(app.name)
        for prefix in secret.prefixes:
            if all(prefix in group.readable_prefixes for group in readers):
                return prefix
        return None

    def consumers(self, secret: str) -> tuple[App, ...]:
        return tuple(app for app in self.apps.values() if secret in app.secrets)
