"""Links across files: the mistakes that no schema sees and that surface only on a live cluster.

Every check reads the repository through `model.values.ValuesRepo` (positions for findings), the
secret template through the model's `Secret`s, and the rendered resources of each group.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from generator import repofs, rules
from generator.errors import McgError
from generator.findings import Finding, Severity
from generator.manifest import Resource
from generator.model import layout, names
from generator.model.pattern import Secret
from generator.model.values import DocPath, ValuesRepo, local_app_path
from generator.schema_check import dotted
from generator.yamlio import Document

ARGO_DEFAULT_PROJECT = "default"
GLOBAL_OPERATOR_NAMESPACE = "openshift-operators"
# namespaces every OpenShift cluster has: an application may deploy there undeclared
CLUSTER_NAMESPACES = frozenset(
    (
        "default",
        "kube-system",
        "kube-public",
        "openshift",
        "openshift-config",
        "openshift-config-managed",
        "openshift-console",
        "openshift-gitops",
        "openshift-machine-api",
        "openshift-marketplace",
        "openshift-monitoring",
        "openshift-operators",
    )
)


@dataclass(frozen=True)
class SecretCatalogue:
    """The secret template's secrets, or None when the repository has no template.

    `readable` is false when the template has errors of its own: they are reported, and what
    ExternalSecrets read cannot be checked against it (no second finding for the same cause)."""

    file: str
    secrets: Mapping[str, Secret]
    readable: bool = True


def _finding(
    rule: str,
    severity: Severity,
    document: Document | None,
    path: DocPath,
    message: str,
    hint: str = "",
    *,
    file: str = "",
    key: bool = True,
) -> Finding:
    anchor = dotted(path)
    if document is None:
        return Finding(rule, severity, file, 0, 0, message, hint, anchor=anchor)
    location = document.location(path, key=key)
    return Finding(
        rule, severity, location.file, location.line, location.column, message, hint, anchor=anchor
    )


def check_values_links(
    repo: ValuesRepo, injected: Mapping[str, Mapping[str, str]] | None = None
) -> list[Finding]:
    """Value files, groups, projects, namespaces and names, from the values files alone.

    `injected` holds, per group, the `global.*` facts used to expand templated value-file paths.
    """
    findings: list[Finding] = []
    findings += _main_group(repo)
    resolver = repofs.Resolver()  # the applications' folders share their parents
    for group, document in repo.groups.items():
        facts = (injected or {}).get(group, {})
        findings += _group_name(repo, group, document)
        findings += _applications(repo, group, document, facts, resolver)
        findings += _shared_value_files(repo, group, document, facts)
        findings += _subscription_namespaces(repo, group, document)
        findings += _olm_v1_subscriptions(repo, group, document)
        findings += _namespace_names(repo, group, document)
    findings += _managed_groups(repo)
    return findings


def _main_group(repo: ValuesRepo) -> Iterator[Finding]:
    if repo.global_doc is None:
        return
    hub_file = repo.root / layout.group_file(repo.hub_name)
    if repo.hub_name not in repo.groups and not hub_file.is_file():
        yield _finding(
            rules.LINKS_MAIN_GROUP_MISSING.id,
            Severity.ERROR,
            repo.global_doc,
            ("main", "clusterGroupName"),
            f"main.clusterGroupName is '{repo.hub_name}' but values-{repo.hub_name}.yaml is "
            "missing",
            f"create values-{repo.hub_name}.yaml or set main.clusterGroupName to an existing group",
            key=False,
        )


def _group_name(repo: ValuesRepo, group: str, document: Document) -> Iterator[Finding]:
    name = repo.cluster_group(group).get("name")
    named_elsewhere = group in repo.managed_group_names() or repo.alternate_hub_of(group)
    if name is not None and name != group and not named_elsewhere:
        yield _finding(
            rules.LINKS_GROUP_NAME_MISMATCH.id,
            Severity.ERROR,
            document,
            ("clusterGroup", "name"),
            f"clusterGroup.name is {name!r} but the file is values-{group}.yaml",
            f"the operator selects values-<name>.yaml by group name: use '{group}'",
            key=False,
        )
    if not names.is_dns_label(group):
        yield _finding(
            rules.NAMES_DNS_1123.id,
            Severity.ERROR,
            document,
            ("clusterGroup", "name"),
            f"cluster group name '{group}' is not a DNS-1123 label",
        )
    label = names.argocd_route_label(repo.pattern_name, group)
    if len(label) > names.ROUTE_LABEL_MAX:
        yield _finding(
            rules.NAMES_ARGOCD_ROUTE_LENGTH.id,
            Severity.ERROR,
            document,
            ("clusterGroup", "name"),
            f"the Argo CD route host label '{label}' of group '{group}' is {len(label)} "
            "characters; "
            f"DNS allows {names.ROUTE_LABEL_MAX}",
            "shorten the pattern name (global.pattern) or the group name",
        )


def _applications(
    repo: ValuesRepo,
    group: str,
    document: Document,
    facts: Mapping[str, str],
    resolver: repofs.Resolver,
) -> Iterator[Finding]:
    projects = repo.projects(group) | {ARGO_DEFAULT_PROJECT}
    namespaces = repo.namespaces(group)
    for entry in repo.entries(group, "applications"):
        body = entry.body
        if body.get("disabled") is True:
            continue
        name = str(body.get("name", entry.key))
        if not names.is_dns_label(name):
            yield _finding(
                rules.NAMES_DNS_1123.id,
                Severity.ERROR,
                document,
                (*entry.path, "name"),
                f"application name '{name}' is not a DNS-1123 label",
                "use lowercase letters, digits and '-'",
            )
        project_key = "argoProject" if "argoProject" in body else "project"
        project = body.get(project_key)
        if isinstance(project, str) and project not in projects:
            yield _finding(
                rules.LINKS_PROJECT_UNDECLARED.id,
                Severity.ERROR,
                document,
                (*entry.path, project_key),
                f"application '{name}' uses Argo CD project '{project}', which is not in "
                "argoProjects",
                f"add '{project}' to clusterGroup.argoProjects",
                key=False,
            )
        namespace = body.get("namespace")
        if (
            isinstance(namespace, str)
            and not layout.is_template(namespace)
            and namespace not in namespaces
            and namespace not in CLUSTER_NAMESPACES
        ):
            yield _finding(
                rules.LINKS_NAMESPACE_UNDECLARED.id,
                Severity.WARNING,
                document,
                (*entry.path, "namespace"),
                f"application '{name}' deploys to namespace '{namespace}', which the group does "
                "not declare",
                f"add '{namespace}' to clusterGroup.namespaces",
                key=False,
            )
        path = local_app_path(body)
        if path is not None and not layout.is_template(path):
            yield from _app_path(repo.root, document, entry.path, name, path, body, resolver)
        for index, value_file in enumerate(body.get("extraValueFiles") or []):
            if isinstance(value_file, str):
                yield from _value_file(
                    repo.root,
                    document,
                    (*entry.path, "extraValueFiles", index),
                    _expand(value_file, group, facts),
                )


def app_folder(
    root: Path, chart_path: str, resolver: repofs.Resolver | None = None
) -> tuple[Path | None, str]:
    """The repository folder an application's `path` names, or None and why not (missing, or
    refused: a link or `..` out of the repository). links/app-path-missing reports the latter,
    so rendering's error for the same path is not reported again."""
    try:
        folder = layout.inside(root, chart_path.strip("/") or ".", resolver=resolver)
    except repofs.UnsafePath as unsafe:
        return None, f"which mcg-gen refuses: {unsafe.message}"
    if folder is None or not folder.is_dir():
        return None, "which is not a folder in the repository"
    return folder, ""


def _app_path(
    root: Path,
    document: Document,
    path: DocPath,
    name: str,
    chart_path: str,
    body: dict[str, Any],
    resolver: repofs.Resolver,
) -> Iterator[Finding]:
    folder, problem = app_folder(root, chart_path, resolver)
    if folder is None:
        yield _finding(
            rules.LINKS_APP_PATH_MISSING.id,
            Severity.ERROR,
            document,
            (*path, "path"),
            f"application '{name}' points at {chart_path}, {problem}",
            "create the chart there or fix the path",
            key=False,
        )
        return
    if body.get("kustomize") or (folder / "kustomization.yaml").is_file():
        return
    if not (folder / "Chart.yaml").is_file():
        yield _finding(
            rules.LINKS_APP_PATH_MISSING.id,
            Severity.WARNING,
            document,
            (*path, "path"),
            f"application '{name}' points at {chart_path}, which has no Chart.yaml: Argo CD "
            "applies it as plain manifests",
            "add a Chart.yaml or set kustomize: true",
            key=False,
        )


def _expand(value_file: str, group: str, facts: Mapping[str, str]) -> str:
    """A value-file path with `{{ $.Values.global.X }}` and `{{ .Values.clusterGroup.name }}`
    replaced from the facts; anything else stays a template."""
    return layout.expand_value_file(value_file, {"global": facts, "clusterGroup": {"name": group}})


def _shared_value_files(
    repo: ValuesRepo, group: str, document: Document, facts: Mapping[str, str]
) -> Iterator[Finding]:
    shared = repo.cluster_group(group).get("sharedValueFiles")
    for index, value_file in enumerate(shared if isinstance(shared, list) else []):
        if isinstance(value_file, str):
            path = ("clusterGroup", "sharedValueFiles", index)
            yield from _value_file(repo.root, document, path, _expand(value_file, group, facts))


def _value_file(
    root: Path, document: Document, path: DocPath, value_file: str
) -> Iterator[Finding]:
    if layout.is_template(value_file):
        yield _finding(
            rules.CHART_UNCHECKED_VALUE_FILE.id,
            Severity.INFO,
            document,
            path,
            f"value file {value_file} is a template that cannot be expanded offline; its "
            "existence is not checked",
            "pass the cluster facts it uses (--facts FILE)",
            key=False,
        )
        return
    target = layout.existing(root, value_file.removeprefix(layout.PATTERN_REF).lstrip("/"))
    if target is None or not target.is_file():
        yield _finding(
            rules.LINKS_VALUE_FILE_MISSING.id,
            Severity.WARNING,
            document,
            path,
            f"value file {value_file} does not exist (with the cluster facts given); Argo CD "
            "ignores missing value files silently",
            "create it or remove the entry",
            key=False,
        )


def _subscription_namespaces(repo: ValuesRepo, group: str, document: Document) -> Iterator[Finding]:
    namespaces = repo.namespaces(group)
    for entry in repo.entries(group, "subscriptions"):
        namespace = entry.body.get("namespace", GLOBAL_OPERATOR_NAMESPACE)
        if not isinstance(namespace, str) or namespace == GLOBAL_OPERATOR_NAMESPACE:
            continue
        if namespace not in namespaces:
            yield _finding(
                rules.LINKS_SUBSCRIPTION_NAMESPACE.id,
                Severity.ERROR,
                document,
                (*entry.path, "namespace"),
                f"subscription '{entry.key}' installs into namespace '{namespace}', which the "
                "group does not declare, so it gets no OperatorGroup",
                f"add '{namespace}' to clusterGroup.namespaces",
                key=False,
            )


# the first clustergroup chart that renders an OLMv1 ClusterExtension for some subscriptions
OLM_V1_FROM = (0, 9, 27)
_OLM_V1_KEYS = ("channels", "upgradeConstraintPolicy", "serviceAccountName")


def clustergroup_chart_version(repo: ValuesRepo) -> str:
    """The clustergroup chart version the operator deploys: main.multiSourceConfig's, else the
    vendored common/clustergroup's, else the operator's default for a slimmed common (0.9.*)."""
    multi_source = repo.global_values.get("main", {})
    config = multi_source.get("multiSourceConfig") if isinstance(multi_source, dict) else None
    config = config if isinstance(config, dict) else {}
    if isinstance(config.get("clusterGroupChartVersion"), str | int | float):
        return str(config["clusterGroupChartVersion"])
    vendored = layout.existing(repo.root, "common/clustergroup/Chart.yaml")
    if config.get("enabled") is not True and vendored is not None and vendored.is_file():
        from generator.yamlio import load_file

        try:
            version = load_file(vendored, "common/clustergroup/Chart.yaml").data.get("version")
        except (McgError, AttributeError):
            version = None
        if isinstance(version, str):
            return version
    return "0.9.*"


def _may_be_olm_v1(version: str) -> bool:
    """Whether the newest chart `version` (exact, or a wildcard such as 0.9.*) allows is one
    that renders ClusterExtensions; unparseable constraints count as yes."""
    parts = re.findall(r"\d+|[*xX]", version)
    if not parts or parts[0] in "*xX":
        return True
    numbers: list[int] = []
    for part in parts[:3]:
        if part in "*xX":
            return tuple(numbers) >= OLM_V1_FROM[: len(numbers)]
        numbers.append(int(part))
    return tuple(numbers) >= OLM_V1_FROM if version[0].isdigit() else True


def _olm_v1_subscriptions(repo: ValuesRepo, group: str, document: Document) -> Iterator[Finding]:
    entries = [
        entry
        for entry in repo.entries(group, "subscriptions")
        if "version" in entry.body
        and not entry.body.get("namespaces")
        and entry.body.get("disabled") is not True
        and not any(key in entry.body for key in _OLM_V1_KEYS)
    ]
    if not entries:
        return
    version = clustergroup_chart_version(repo)
    if not _may_be_olm_v1(version):
        return
    for entry in entries:
        yield _finding(
            rules.LINKS_SUBSCRIPTION_OLM_V1.id,
            Severity.WARNING,
            document,
            (*entry.path, "version"),
            f"subscription '{entry.key}' sets version, so the clustergroup chart (0.9.27 and "
            f"later; this pattern deploys {version}) renders an OLMv1 ClusterExtension instead "
            "of an OLM Subscription",
            "to pin a starting version use 'csv'; if OLMv1 is meant, set serviceAccountName",
        )


def _namespace_names(repo: ValuesRepo, group: str, document: Document) -> Iterator[Finding]:
    for namespace, path in repo.namespaces(group).items():
        if not layout.is_template(namespace) and not names.is_dns_label(namespace):
            yield _finding(
                rules.NAMES_DNS_1123.id,
                Severity.ERROR,
                document,
                path,
                f"namespace '{namespace}' is not a DNS-1123 label",
                "use lowercase letters, digits and '-', at most 63 characters",
            )


def _managed_groups(repo: ValuesRepo) -> Iterator[Finding]:
    hub_document = repo.groups.get(repo.hub_name)
    if hub_document is None:
        return
    limit = names.max_managed_group_name()
    for entry in repo.entries(repo.hub_name, "managedClusterGroups"):
        name = str(entry.body.get("name", entry.key))
        name_path = (*entry.path, "name") if "name" in entry.body else entry.path
        if name not in repo.groups:
            yield _finding(
                rules.LINKS_GROUP_VALUES_MISSING.id,
                Severity.ERROR,
                hub_document,
                name_path,
                f"managed cluster group '{name}' has no values-{name}.yaml (with a clusterGroup)",
                f"create values-{name}.yaml with 'clusterGroup: {{name: {name}}}'",
            )
        if len(name) > limit:
            yield _finding(
                rules.NAMES_ACM_POLICY_LENGTH.id,
                Severity.ERROR,
                hub_document,
                name_path,
                f"group name '{name}' makes the ACM policy name '{names.acm_policy_name(name)}' "
                f"plus its namespace longer than the {names.ACM_POLICY_MAX} characters ACM accepts",
                f"use at most {limit} characters",
            )


def check_resource_links(
    group: str,
    is_hub: bool,
    resources: Sequence[Resource],
    catalogue: SecretCatalogue | None,
    *,
    unrendered_charts: bool = False,
) -> list[Finding]:
    """ExternalSecrets against the template and the secret stores; subscriptions' OperatorGroups."""
    findings: list[Finding] = []
    stores = {
        (r.kind, r.name) for r in resources if r.kind in ("ClusterSecretStore", "SecretStore")
    }
    groups_with_operator_group = {r.namespace for r in resources if r.kind == "OperatorGroup"}
    namespaces_made = {r.name for r in resources if r.kind == "Namespace"}
    for resource in resources:
        if resource.kind == "ExternalSecret":
            findings += _external_secret(resource, is_hub, catalogue, stores, unrendered_charts)
        elif resource.kind == "Subscription" and resource.api_version.startswith(
            "operators.coreos"
        ):
            namespace = resource.namespace
            if (
                namespace
                and namespace != GLOBAL_OPERATOR_NAMESPACE
                and namespace in namespaces_made
                and namespace not in groups_with_operator_group
            ):
                findings.append(
                    Finding(
                        rules.LINKS_SUBSCRIPTION_NAMESPACE.id,
                        Severity.ERROR,
                        resource.source,
                        resource.line,
                        0,
                        f"subscription '{resource.name}' in namespace '{namespace}' has no "
                        f"OperatorGroup there on group '{group}': OLM will not install it",
                        "do not exclude the namespace from OperatorGroup creation "
                        "(operatorgroupExcludes), or create one",
                    )
                )
    return findings


def _external_secret(
    resource: Resource,
    is_hub: bool,
    catalogue: SecretCatalogue | None,
    stores: set[tuple[str, str]],
    unrendered_charts: bool,
) -> Iterator[Finding]:
    spec = resource.body.get("spec") or {}
    where = (resource.source, resource.line)
    for store in _store_refs(spec):
        kind = store.get("kind") or "SecretStore"
        name = store.get("name")
        if isinstance(name, str) and (kind, name) not in stores:
            severity = Severity.WARNING if unrendered_charts else Severity.ERROR
            yield Finding(
                rules.LINKS_SECRET_STORE_MISSING.id,
                severity,
                *where,
                0,
                f"ExternalSecret '{resource.name}' reads from {kind} '{name}', which nothing "
                f"rendered for group '{resource.group}' creates"
                + (" (a chart that was not rendered may)" if unrendered_charts else ""),
                "deploy the openshift-external-secrets app on this group or fix secretStoreRef",
            )
    for key, property_ in _remote_refs(spec):
        if layout.is_template(key) or (property_ and layout.is_template(property_)):
            continue
        yield from _remote_ref(resource, key, property_, is_hub, catalogue)


def _store_refs(spec: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    if isinstance(spec.get("secretStoreRef"), dict):
        yield spec["secretStoreRef"]
    for item in spec.get("data") or []:
        if isinstance(item, dict) and isinstance(item.get("sourceRef"), dict):
            store = item["sourceRef"].get("storeRef")
            if isinstance(store, dict):
                yield store


def _remote_refs(spec: Mapping[str, Any]) -> Iterator[tuple[str, str | None]]:
    for item in spec.get("data") or []:
        ref = item.get("remoteRef") if isinstance(item, dict) else None
        if isinstance(ref, dict) and isinstance(ref.get("key"), str):
            prop = ref.get("property")
            yield ref["key"], prop if isinstance(prop, str) else None
    for item in spec.get("dataFrom") or []:
        ref = item.get("extract") if isinstance(item, dict) else None
        if isinstance(ref, dict) and isinstance(ref.get("key"), str):
            yield ref["key"], None


def _remote_ref(
    resource: Resource,
    key: str,
    property_: str | None,
    is_hub: bool,
    catalogue: SecretCatalogue | None,
) -> Iterator[Finding]:
    where = (resource.source, resource.line, 0)
    if catalogue is not None and not catalogue.readable:
        return
    split = names.parse_vault_path(key)
    if split is None or catalogue is None:
        if catalogue is None:
            yield Finding(
                rules.LINKS_EXTERNAL_SECRET_UNKNOWN.id,
                Severity.WARNING,
                *where,
                f"ExternalSecret '{resource.name}' reads {key}, but the repository has no "
                f"{layout.SECRET_TEMPLATE_FILE} declaring it",
                f"declare the secret in {layout.SECRET_TEMPLATE_FILE}",
                anchor=vault_key(key),
            )
        return
    prefix, name = split
    secret = catalogue.secrets.get(name)
    if secret is None or prefix not in secret.prefixes:
        declared = (
            f"it is declared under {', '.join(secret.prefixes)}"
            if secret
            else "no secret of that name is declared"
        )
        yield Finding(
            rules.LINKS_EXTERNAL_SECRET_UNKNOWN.id,
            Severity.ERROR,
            *where,
            f"ExternalSecret '{resource.name}' reads {key}, which {catalogue.file} does not "
            f"provide ({declared})",
            f"add '{prefix}' to the vaultPrefixes of '{name}'"
            if secret
            else f"add a secret named '{name}' to {catalogue.file}",
            anchor=vault_key(key),
        )
        return
    if property_ is not None and property_ not in {field.name for field in secret.fields}:
        known = ", ".join(field.name for field in secret.fields)
        yield Finding(
            rules.LINKS_EXTERNAL_SECRET_UNKNOWN.id,
            Severity.ERROR,
            *where,
            f"ExternalSecret '{resource.name}' reads property '{property_}' of {key}, which has "
            f"no such field",
            f"fields of '{name}': {known}",
            anchor=f"{vault_key(key)}#{property_}",
        )
    if not names.store_reads(is_hub, prefix):
        readable = ", ".join(names.readable_prefixes(is_hub))
        yield Finding(
            rules.LINKS_EXTERNAL_SECRET_PREFIX.id,
            Severity.ERROR,
            *where,
            f"ExternalSecret '{resource.name}' on group '{resource.group}' reads {key}, but "
            f"that group's clusters can read only {readable}"
            + ("" if is_hub else " and their own cluster domain"),
            f"put the secret under '{names.GLOBAL_PREFIX}'"
            + ("" if is_hub else " or under each cluster's domain (vaultPrefixes)"),
            anchor=vault_key(key),
        )


def vault_key(key: str) -> str:
    """A Vault path as ExternalSecrets and PushSecrets of one store name it, compared as one."""
    return key.strip("/")


def pushed_keys(resources: Sequence[Resource]) -> set[str]:
    """The Vault paths that PushSecrets among `resources` write (a secret made on a cluster and
    pushed to Vault is not in the secret template, and is no less there for an ExternalSecret)."""
    keys: set[str] = set()
    for resource in resources:
        if resource.kind != "PushSecret" or not resource.api_version.startswith("external-secrets"):
            continue
        for item in (resource.body.get("spec") or {}).get("data") or []:
            match = item.get("match") if isinstance(item, dict) else None
            ref = match.get("remoteRef") if isinstance(match, dict) else None
            key = ref.get("remoteKey") if isinstance(ref, dict) else None
            if isinstance(key, str) and not layout.is_template(key):
                keys.add(vault_key(key))
    return keys


def without_pushed_reads(findings: Sequence[Finding], pushed: set[str]) -> list[Finding]:
    """`findings` less the undeclared ExternalSecret reads of a path some PushSecret writes."""
    return [
        finding
        for finding in findings
        if not (finding.rule == rules.LINKS_EXTERNAL_SECRET_UNKNOWN.id and finding.anchor in pushed)
    ]


def secret_read_source(finding: Finding, chart_values: Document) -> Finding:
    """An ExternalSecret finding moved from the template that renders it to the line of the
    chart's values.yaml that names the Vault path (and the property), when one does: that line
    is the one to edit. Unchanged when values.yaml does not name it."""
    if finding.rule not in SECRET_READ_RULES or not finding.anchor:
        return finding
    key, _, property_ = finding.anchor.partition("#")
    found = _scalar_path(chart_values.data, (), lambda value: value.strip("/") == key)
    if found is None:
        return finding
    if property_:
        # the property is named next to the path: in the same entry of values.yaml
        entry = found[:-1]
        subtree = _subtree(chart_values.data, entry)
        near = _scalar_path(subtree, entry, lambda value: value == property_)
        found = near or found
    where = chart_values.location(found)
    return Finding(
        finding.rule,
        finding.severity,
        where.file,
        where.line,
        where.column,
        finding.message,
        finding.hint,
        anchor=finding.anchor,
    )


SECRET_READ_RULES = frozenset(
    (rules.LINKS_EXTERNAL_SECRET_UNKNOWN.id, rules.LINKS_EXTERNAL_SECRET_PREFIX.id)
)


def _subtree(data: Any, path: DocPath) -> Any:
    for part in path:
        data = data[part]
    return data


def _scalar_path(data: Any, path: DocPath, wanted: Callable[[str], bool]) -> DocPath | None:
    """The first path (depth first) under `data` of a string value that `wanted` accepts."""
    if isinstance(data, str):
        return path if wanted(data) else None
    items = (
        data.items()
        if isinstance(data, dict)
        else enumerate(data)
        if isinstance(data, list)
        else ()
    )
    for part, value in items:
        found = _scalar_path(value, (*path, part), wanted)
        if found is not None:
            return found
    return None
