"""Load `pattern.yaml` into the pattern model: schema first, then the rules a schema cannot say.

Every problem found is reported at once, each with file, line, column and a hint.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from generator import repofs
from generator.errors import Location, McgError, SpecErrors
from generator.model import layout, names, platform
from generator.model.layout import SPEC_FILE
from generator.model.pattern import (
    GLOBAL_PREFIX,
    HUB_PREFIX,
    App,
    ClusterGroup,
    IgnoreDifference,
    Job,
    Operator,
    Options,
    Pattern,
    Secret,
    SecretField,
    Tooling,
)
from generator.schema_check import closest, dotted, schema_findings
from generator.yamlio import Document, load_file, parse_document

SCHEMA_FILE = "pattern.schema.json"
RESERVED_TOP_DIRS = (platform.VENDOR_DIR, layout.STATE_DIR, repofs.GIT_DIR, ".github")

PathT = tuple[str | int, ...]


class _Problems:
    def __init__(self, document: Document) -> None:
        self.document = document
        self.errors: list[McgError] = []

    def add(self, path: PathT, message: str, hint: str = "", *, key: bool = False) -> None:
        location = self.document.location(path, key=key)
        self.errors.append(McgError(message, location=location, hint=hint))

    def raise_if_any(self) -> None:
        if self.errors:
            self.errors.sort(
                key=lambda e: (e.location.line, e.location.column) if e.location else (0, 0)
            )
            raise SpecErrors(self.errors)


def load_spec(path: Path, display: str | None = None) -> Pattern:
    """Read, check and resolve a pattern spec file."""
    return build_pattern(load_file(path, display or path.name))


def load_repository_spec(repo: Path) -> Pattern:
    """The repository's pattern.yaml (confined: a link out of the repository is refused)."""
    return load_spec(repofs.confine(repo, SPEC_FILE), SPEC_FILE)


def parse_spec(text: str, file: str = SPEC_FILE) -> Pattern:
    return build_pattern(parse_document(text, file))


def build_pattern(document: Document) -> Pattern:
    problems = _Problems(document)
    data = document.data
    if not isinstance(data, dict):
        problems.add(
            (),
            "a pattern spec must be a mapping with at least 'name' and 'git'",
            "start from 'mcg-gen new NAME --from multicloud-gitops'",
        )
        problems.raise_if_any()
    for finding in schema_findings(document, SCHEMA_FILE, "spec"):
        location = Location(finding.file, finding.line, finding.column)
        problems.errors.append(McgError(finding.message, location=location, hint=finding.hint))
    _check_hidden_characters(data, (), problems)
    problems.raise_if_any()
    return _Resolver(data, problems).pattern()


# Characters that change what a terminal or an editor shows: control characters (terminal escape
# sequences) and bidirectional overrides ("Trojan Source"). Tabs and line breaks are text.
_HIDDEN = {chr(c) for c in range(32) if chr(c) not in "\t\n\r"} | {chr(127)}
_HIDDEN |= {chr(c) for c in (*range(0x202A, 0x202F), *range(0x2066, 0x206A))}


def _check_hidden_characters(node: Any, path: PathT, problems: _Problems) -> None:
    """Spec text is copied into READMEs, templates and terminals: refuse what would act there."""
    if isinstance(node, dict):
        for key, value in node.items():
            _check_hidden_characters(value, (*path, key), problems)
    elif isinstance(node, list):
        for index, value in enumerate(node):
            _check_hidden_characters(value, (*path, index), problems)
    elif isinstance(node, str):
        hidden = next((ch for ch in node if ch in _HIDDEN), None)
        if hidden is not None:
            problems.add(
                path,
                f"{dotted(path)}: contains the invisible character U+{ord(hidden):04X} at "
                f"character {node.index(hidden) + 1}",
                "remove it: control characters and direction overrides act on the terminals "
                "and editors that show the generated files",
            )


def _merge_defaults(
    defaults: Mapping[str, dict[str, Any]], given: Mapping[str, Any]
) -> dict[str, dict[str, Any]]:
    merged = {key: dict(value) for key, value in defaults.items()}
    for key, value in given.items():
        merged[key] = {**merged.get(key, {}), **value} if key in defaults else dict(value)
        if key in defaults and ("chart" in value or "path" in value):
            # a user's own source replaces ours entirely (path and chart exclude each other)
            merged[key] = dict(value)
            merged[key].setdefault("namespace", defaults[key]["namespace"])
    return merged


def _safe_repo_path(value: str) -> str | None:
    """The normalised repository-relative path, or None when it would leave the repository,
    name its root or enter a .git or .mcg-gen folder at any depth."""
    if repofs.lexical_problem(value):
        return None
    normal = repofs.normalise(value)
    if normal == "." or layout.STATE_DIR in normal.split("/"):
        return None
    return normal


class _Resolver:
    def __init__(self, data: dict[str, Any], problems: _Problems) -> None:
        self.data = data
        self.problems = problems
        self.apps_spec = _merge_defaults(platform.DEFAULT_APPS, data.get("apps", {}))
        self.operators_spec = _merge_defaults(platform.DEFAULT_OPERATORS, data.get("operators", {}))
        self.user_apps = set(data.get("apps", {}))
        self.platform_apps = {
            key
            for key in platform.DEFAULT_APPS
            if not {"path", "chart"} & set(data.get("apps", {}).get(key, {}))
        }
        # remote-chart app -> the app whose generated chart holds its ExternalSecrets
        self.secrets_charts: dict[str, str] = {}
        for key, spec in list(self.apps_spec.items()):
            if "chart" in spec and spec.get("secrets"):
                self._add_secrets_chart(key, spec)

    def _add_secrets_chart(self, key: str, spec: dict[str, Any]) -> None:
        companion = names.secrets_chart_app(key)
        if companion in self.apps_spec or not names.is_dns_label(companion):
            reason = (
                f"an app '{companion}' is defined too"
                if companion in self.apps_spec
                else f"'{companion}' is longer than {names.DNS_LABEL_MAX} characters"
            )
            self.problems.add(
                ("apps", key, "secrets"),
                f"remote app '{key}' consumes secrets, whose ExternalSecrets mcg-gen writes in a "
                f"chart of their own, app '{companion}'; but {reason}",
                f"rename app '{key}' (or yours named '{companion}'), or deliver its secrets "
                "through the chart's own values",
                key=True,
            )
            return
        self.apps_spec[companion] = {
            "namespace": spec.get("namespace", key),
            "project": spec.get("project", key),
            "secrets": list(spec["secrets"]),
        }
        self.secrets_charts[key] = companion

    def pattern(self) -> Pattern:
        data = self.data
        name = data["name"]
        options = self._options(data.get("options", {}))
        secrets = {key: self._secret(key, value) for key, value in data.get("secrets", {}).items()}
        hub_spec = data.get("hub", {})
        group_specs = data.get("groups", [])
        hub_name = hub_spec.get("name", "hub")
        group_names = self._check_group_names(name, hub_name, group_specs)

        consumers = {app for app, spec in self.apps_spec.items() if spec.get("secrets")}
        hub_apps, hub_operators = platform.hub_components(bool(group_specs), bool(secrets))
        hub = self._group(("hub",), hub_spec, hub_name, True, hub_apps, hub_operators, consumers)
        groups = tuple(
            self._group(("groups", i), spec, spec["name"], False, [], [], consumers)
            for i, spec in enumerate(group_specs)
        )
        used_apps = {app for group in (hub, *groups) for app in group.apps}
        used_operators = {op for group in (hub, *groups) for op in group.operators}
        apps = {
            key: self._app(key, self.apps_spec[key], group_names, hub_name, groups, hub)
            for key in self.apps_spec
            if key in used_apps or key in self.user_apps
        }
        operators = {
            key: self._operator(key, spec)
            for key, spec in self.operators_spec.items()
            if key in used_operators or key in data.get("operators", {})
        }
        self.problems.raise_if_any()
        namespaced = tuple(_with_namespaces(group, apps, operators) for group in (hub, *groups))
        pattern = Pattern(
            name=name,
            description=data.get("description"),
            repo_url=data["git"]["repoURL"],
            revision=data["git"].get("revision", "main"),
            options=options,
            hub=namespaced[0],
            groups=namespaced[1:],
            apps=apps,
            operators=operators,
            secrets=secrets,
            vault_policies=dict(data.get("vaultPolicies", {})),
            extra_values=dict(data.get("extraValues", {})),
            tooling=_tooling(data.get("tooling", {})),
        )
        self._check_secrets(pattern)
        self._check_paths(pattern)
        self.problems.raise_if_any()
        return pattern

    def _options(self, spec: dict[str, Any]) -> Options:
        defaults = Options()
        return Options(
            sync_policy=spec.get("syncPolicy", defaults.sync_policy),
            install_plan_approval=spec.get("installPlanApproval", defaults.install_plan_approval),
            use_csv=spec.get("useCSV", defaults.use_csv),
            cluster_group_chart_version=spec.get(
                "clusterGroupChartVersion", defaults.cluster_group_chart_version
            ),
            application_retry_limit=spec.get(
                "applicationRetryLimit", defaults.application_retry_limit
            ),
        )

    def _check_group_names(self, pattern: str, hub: str, groups: list[dict[str, Any]]) -> set[str]:
        seen: dict[str, PathT] = {hub: ("hub", "name")}
        limit = names.max_managed_group_name()
        for i, spec in enumerate(groups):
            group = spec["name"]
            path: PathT = ("groups", i, "name")
            if group in seen:
                self.problems.add(
                    path,
                    f"cluster group '{group}' is defined twice",
                    "cluster group names must be unique (the hub's included)",
                )
            seen[group] = path
            if len(group) > limit:
                policy = names.acm_policy_name(group)
                self.problems.add(
                    path,
                    f"group name '{group}' makes the ACM policy name '{policy}' plus its namespace "
                    f"longer than the {names.ACM_POLICY_MAX} characters ACM accepts",
                    f"use at most {limit} characters",
                )
        for group, path in seen.items():
            label = names.argocd_route_label(pattern, group)
            if len(label) > names.ROUTE_LABEL_MAX:
                self.problems.add(
                    path,
                    f"pattern '{pattern}' and group '{group}' make the Argo CD route host label "
                    f"'{label}' longer than {names.ROUTE_LABEL_MAX} characters",
                    "shorten the pattern name or the group name",
                )
        return set(seen)

    def _group(
        self,
        path: PathT,
        spec: dict[str, Any],
        name: str,
        is_hub: bool,
        platform_apps: list[str],
        platform_operators: list[str],
        consumers: set[str],
    ) -> ClusterGroup:
        for index, app in enumerate(spec.get("apps", [])):
            if app not in self.apps_spec:
                self.problems.add(
                    (*path, "apps", index),
                    f"unknown app '{app}'",
                    _suggest(app, self.user_apps, "apps"),
                )
        for index, operator in enumerate(spec.get("operators", [])):
            if operator not in self.operators_spec:
                self.problems.add(
                    (*path, "operators", index),
                    f"unknown operator '{operator}'",
                    _suggest(operator, self.operators_spec, "operators"),
                )
        if is_hub:
            for key in ("labels", "helmOverrides"):
                if key in spec:
                    self.problems.add(
                        (*path, key),
                        f"'{key}' applies to managed groups only",
                        "the hub is not placed by ACM; remove it",
                        key=True,
                    )
        apps = [
            name
            for app in spec.get("apps", [])
            for name in (app, *([self.secrets_charts[app]] if app in self.secrets_charts else []))
        ]
        operators = list(spec.get("operators", []))
        if any(app in consumers for app in apps):
            eso_apps, eso_operators = platform.secret_consumer_components()
            apps += eso_apps
            operators += eso_operators
        apps = list(dict.fromkeys(platform_apps + apps))
        app_overrides = spec.get("appOverrides", {})
        for app in app_overrides:
            if app not in apps:
                self.problems.add(
                    (*path, "appOverrides", app),
                    f"appOverrides names app '{app}', which group '{name}' does not run",
                    f"add '{app}' to the group's apps or remove its overrides",
                    key=True,
                )
        return ClusterGroup(
            name=name,
            is_hub=is_hub,
            apps=tuple(apps),
            operators=tuple(dict.fromkeys(platform_operators + operators)),
            namespaces=tuple(spec.get("namespaces", [])),
            labels=dict(spec.get("labels", {})),
            helm_overrides=dict(spec.get("helmOverrides", {})),
            app_overrides={app: dict(values) for app, values in app_overrides.items()},
            jobs=tuple(_job(job) for job in spec.get("jobs", [])),
            extra_values=dict(spec.get("extraValues", {})),
        )

    def _app(
        self,
        key: str,
        spec: dict[str, Any],
        group_names: set[str],
        hub_name: str,
        groups: tuple[ClusterGroup, ...],
        hub: ClusterGroup,
    ) -> App:
        path: PathT = ("apps", key)
        is_platform = key in self.platform_apps
        holders = {chart: app for app, chart in self.secrets_charts.items()}
        secrets_for = holders.get(key)
        for index, secret in enumerate(spec.get("secrets", [])):
            if secrets_for is None and secret not in self.data.get("secrets", {}):
                self.problems.add(
                    (*path, "secrets", index),
                    f"unknown secret '{secret}'",
                    _suggest(secret, self.data.get("secrets", {}), "secrets"),
                )
        chart_path = spec.get("path")
        if "chart" in spec:
            if "version" not in spec:
                self.problems.add(
                    path,
                    f"remote app '{key}' needs a chart 'version'",
                    "pin a version or a wildcard such as 0.1.*",
                    key=True,
                )
        elif chart_path is None:
            runners = [g.name for g in (hub, *groups) if key in g.apps]
            if len(runners) == 1:
                folder = "hub" if runners[0] == hub_name else runners[0]
            else:
                folder = "all"
            chart_path = f"charts/{folder}/{key}"
        elif not is_platform:
            safe = _safe_repo_path(chart_path)
            if safe is None or safe.split("/")[0] in RESERVED_TOP_DIRS:
                self.problems.add(
                    (*path, "path"),
                    f"app path {chart_path!r} is not a folder inside the repository",
                    "use a relative path such as charts/all/"
                    + key
                    + f" (not absolute, no '..', not under {', '.join(RESERVED_TOP_DIRS)})",
                )
            else:
                chart_path = safe
        for index, file in enumerate(spec.get("valueFiles", [])):
            if _safe_repo_path(file) is None:
                self.problems.add(
                    (*path, "valueFiles", index),
                    f"value file {file!r} is not a path inside the repository",
                    "use a relative path such as values-extra.yaml",
                )
        return App(
            name=key,
            namespace=spec.get("namespace", key),
            project=spec.get("project", platform.PLATFORM_PROJECT if is_platform else key),
            path=chart_path,
            chart=spec.get("chart"),
            repo_url=spec.get("repoURL"),
            version=spec.get("version"),
            overrides=dict(spec.get("overrides", {})),
            value_files=tuple(_safe_repo_path(f) or f for f in spec.get("valueFiles", [])),
            sync_policy=spec.get("syncPolicy"),
            ignore_differences=tuple(
                _ignore_difference(d) for d in spec.get("ignoreDifferences", [])
            ),
            # a remote chart's secrets are read by its secrets chart, not by the chart itself
            secrets=() if key in self.secrets_charts else tuple(spec.get("secrets", [])),
            platform=is_platform,
            secrets_for=secrets_for,
            scaffold=spec.get("scaffold", True),
        )

    def _operator(self, key: str, spec: dict[str, Any]) -> Operator:
        defaults = Operator(key=key, name=key)
        return Operator(
            key=key,
            name=spec.get("name", key),
            namespace=spec.get("namespace", defaults.namespace),
            channel=spec.get("channel"),
            source=spec.get("source", defaults.source),
            source_namespace=spec.get("sourceNamespace", defaults.source_namespace),
            approval=spec.get("approval"),
            csv=spec.get("csv"),
            all_namespaces=spec.get("allNamespaces", defaults.all_namespaces),
        )

    def _secret(self, key: str, spec: dict[str, Any]) -> Secret:
        fields = []
        policies = set(self.data.get("vaultPolicies", {}))
        for field_name, field_spec in spec["fields"].items():
            path: PathT = ("secrets", key, "fields", field_name)
            body: dict[str, Any] = (
                {"source": field_spec} if isinstance(field_spec, str) else field_spec
            )
            source = body["source"]
            for option, allowed in (
                ("policy", "generate"),
                ("override", "generate"),
                ("prompt", "prompt"),
                ("path", "file"),
                ("base64", "file"),
            ):
                if option in body and source != allowed:
                    self.problems.add(
                        (*path, option),
                        f"'{option}' applies to '{allowed}' fields only",
                        f"this field's source is '{source}'",
                        key=True,
                    )
            policy = body.get("policy")
            if policy and policy not in policies and policy != "validatedPatternDefaultPolicy":
                self.problems.add(
                    (*path, "policy"),
                    f"unknown Vault password policy '{policy}'",
                    "define it under vaultPolicies or use validatedPatternDefaultPolicy",
                )
            fields.append(
                SecretField(
                    name=field_name,
                    source=source,
                    description=body.get("description"),
                    policy=policy,
                    override=body.get("override", False),
                    prompt=body.get("prompt"),
                    path=body.get("path"),
                    base64=body.get("base64", False),
                )
            )
        return Secret(
            name=key,
            fields=tuple(fields),
            prefixes=tuple(spec.get("prefixes", [GLOBAL_PREFIX])),
            description=spec.get("description"),
        )

    def _check_secrets(self, pattern: Pattern) -> None:
        known = {GLOBAL_PREFIX, HUB_PREFIX, *(group.name for group in pattern.cluster_groups)}
        for secret in pattern.secrets.values():
            for index, prefix in enumerate(secret.prefixes):
                if prefix not in known:
                    self.problems.add(
                        ("secrets", secret.name, "prefixes", index),
                        f"vault prefix '{prefix}' is neither global, hub nor a cluster group",
                        f"use one of: {', '.join(sorted(known))}",
                    )
            for app in pattern.consumers(secret.name):
                if not pattern.groups_running(app.name):
                    continue
                if pattern.secret_prefix_for(app, secret) is None:
                    runners = ", ".join(g.name for g in pattern.groups_running(app.name))
                    self.problems.add(
                        ("secrets", secret.name, "prefixes"),
                        f"app '{app.name}' runs on {runners} but no vault prefix of secret "
                        f"'{secret.name}' ({', '.join(secret.prefixes)}) is readable by all "
                        "of them",
                        "add 'global' to the secret's prefixes",
                        key=True,
                    )

    def _check_paths(self, pattern: Pattern) -> None:
        owners: dict[str, str] = {}
        for app in pattern.apps.values():
            if not app.scaffolded or app.path is None:
                continue
            other = owners.setdefault(app.path, app.name)
            if other != app.name:
                self.problems.add(
                    ("apps", app.name, "path"),
                    f"apps '{other}' and '{app.name}' share the chart folder {app.path}",
                    "give each app its own path",
                )


def _with_namespaces(
    group: ClusterGroup, apps: Mapping[str, App], operators: Mapping[str, Operator]
) -> ClusterGroup:
    namespaces = list(group.namespaces)
    namespaces += [operators[key].namespace for key in group.operators if key in operators]
    namespaces += [apps[key].namespace for key in group.apps if key in apps]
    unique = tuple(ns for ns in dict.fromkeys(namespaces) if ns != "openshift-operators")
    return ClusterGroup(
        name=group.name,
        is_hub=group.is_hub,
        apps=group.apps,
        operators=group.operators,
        namespaces=unique,
        labels=group.labels,
        helm_overrides=group.helm_overrides,
        app_overrides=group.app_overrides,
        jobs=group.jobs,
        extra_values=group.extra_values,
    )


def _tooling(spec: dict[str, Any]) -> Tooling:
    defaults = Tooling()
    return Tooling(
        hooks=spec.get("hooks", defaults.hooks),
        hook_repository=spec.get("hookRepository", defaults.hook_repository),
        ci=tuple(spec.get("ci", defaults.ci)),
    )


def _job(spec: dict[str, Any]) -> Job:
    return Job(
        name=spec["name"],
        playbook=spec["playbook"],
        verbosity=spec.get("verbosity"),
        timeout=spec.get("timeout"),
        image=spec.get("image"),
        tags=spec.get("tags"),
        extravars=tuple(spec.get("extravars", [])),
    )


def _ignore_difference(spec: dict[str, Any]) -> IgnoreDifference:
    return IgnoreDifference(
        kind=spec["kind"],
        group=spec.get("group"),
        name=spec.get("name"),
        namespace=spec.get("namespace"),
        json_pointers=tuple(spec.get("jsonPointers", [])),
        jq_path_expressions=tuple(spec.get("jqPathExpressions", [])),
        managed_fields_managers=tuple(spec.get("managedFieldsManagers", [])),
    )


def _suggest(word: str, choices: Any, section: str) -> str:
    match = closest(word, [str(c) for c in choices])
    if match:
        return f"did you mean '{match}'?"
    return f"define it under '{section}' first"
