"""Read a Validated Patterns repository from its values files, generated or hand-written.

`values-global.yaml` plus every `values-<name>.yaml` whose document has a `clusterGroup`. Entries
of `applications`, `subscriptions`, `managedClusterGroups` and `argoProjects` may be in map form
or list form, namespaces as strings, single-key maps or a map: `entries` and `namespaces` give one
view of all of them, each with the document path it came from (for findings).
"""

from __future__ import annotations

import copy
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from generator.errors import McgError
from generator.model import layout
from generator.model.names import is_dns_label
from generator.model.pattern import ClusterGroup
from generator.yamlio import Document, load_file

DEFAULT_HUB = layout.DEFAULT_HUB
DocPath = tuple[str | int, ...]


@dataclass(frozen=True)
class Entry:
    key: str
    body: dict[str, Any]
    path: DocPath


@dataclass
class ValuesRepo:
    root: Path
    global_doc: Document | None
    groups: dict[str, Document] = field(default_factory=dict)
    errors: list[McgError] = field(default_factory=list)  # files that could not be read
    # values-<name>.yaml files without a clusterGroup: overrides, or group files gone wrong
    others: dict[str, Document] = field(default_factory=dict)

    @property
    def global_values(self) -> dict[str, Any]:
        data = self.global_doc.data if self.global_doc else None
        return data if isinstance(data, dict) else {}

    @property
    def hub_name(self) -> str:
        main = self.global_values.get("main")
        name = main.get("clusterGroupName") if isinstance(main, dict) else None
        return name if isinstance(name, str) and name else DEFAULT_HUB

    @property
    def pattern_name(self) -> str:
        pattern = _dig(self.global_values, "global", "pattern")
        return pattern if isinstance(pattern, str) and pattern else self.root.resolve().name

    def cluster_group(self, group: str) -> dict[str, Any]:
        document = self.groups.get(group)
        tree = (
            document.data.get("clusterGroup")
            if document and isinstance(document.data, dict)
            else None
        )
        return tree if isinstance(tree, dict) else {}

    def managed_group_names(self) -> set[str]:
        """The groups that the hub (or a second hub file) manages: ACM's policy deploys each with
        the parameter clusterGroup.name set to the group's name, whatever its file says."""
        hubs = [self.hub_name, *(group for group in self.groups if self._names_the_hub(group))]
        return {
            str(entry.body.get("name", entry.key))
            for hub in hubs
            for entry in self.entries(hub, "managedClusterGroups")
        }

    def _names_the_hub(self, group: str) -> str | None:
        tree = self.cluster_group(group)
        named = tree.get("name")
        if group == self.hub_name or not isinstance(named, str) or named == group:
            return None
        return named if named == self.hub_name or tree.get("isHubCluster") is True else None

    def alternate_hub_of(self, group: str) -> str | None:
        """The hub group that `values-<group>.yaml` stands in for, or None.

        A second file for the hub (upstream ships values-hub.yaml next to values-datacenter.yaml
        so that the operator's default group works too) names the hub group in clusterGroup.name
        or says isHubCluster: true under another name; the operator passes no name, so the
        file's own one is used."""
        named = self._names_the_hub(group)
        return named if named is not None and group not in self.managed_group_names() else None

    def is_hub(self, group: str) -> bool:
        """The main group, a second file for it, or a file for a hub of its own (isHubCluster:
        true, installed with its name as the Pattern's clusterGroupName), unless ACM manages it."""
        if group == self.hub_name or self.alternate_hub_of(group) is not None:
            return True
        own_hub = self.cluster_group(group).get("isHubCluster") is True
        return own_hub and group not in self.managed_group_names()

    def entries(self, group: str, section: str) -> list[Entry]:
        """Entries of `clusterGroup.<section>` in either form, keyed by map key or `name`."""
        value = self.cluster_group(group).get(section)
        found: list[Entry] = []
        if isinstance(value, dict):
            for key, body in value.items():
                if isinstance(body, dict):
                    found.append(Entry(str(key), body, ("clusterGroup", section, key)))
        elif isinstance(value, list):
            for index, body in enumerate(value):
                if isinstance(body, dict):
                    found.append(
                        Entry(str(body.get("name", index)), body, ("clusterGroup", section, index))
                    )
                elif isinstance(body, str):
                    found.append(Entry(body, {"name": body}, ("clusterGroup", section, index)))
        return found

    def namespaces(self, group: str) -> dict[str, DocPath]:
        value = self.cluster_group(group).get("namespaces")
        found: dict[str, DocPath] = {}
        if isinstance(value, dict):
            for key in value:
                found[str(key)] = ("clusterGroup", "namespaces", key)
        elif isinstance(value, list):
            for index, item in enumerate(value):
                if isinstance(item, str):
                    found[item] = ("clusterGroup", "namespaces", index)
                elif isinstance(item, dict):
                    for key in item:
                        found[str(key)] = ("clusterGroup", "namespaces", index)
        return found

    def projects(self, group: str) -> set[str]:
        names: set[str] = set()
        for section in ("argoProjects", "projects"):
            value = self.cluster_group(group).get(section)
            if isinstance(value, list):
                names.update(str(item) for item in value if isinstance(item, str | int))
            elif isinstance(value, dict):
                names.update(str(key) for key in value)
        return names

    def model_groups(self) -> tuple[ClusterGroup, ...]:
        """The cluster groups in model form: the hub first, then the others by name."""
        hub = self.hub_name
        labels: dict[str, dict[str, str]] = {}
        for entry in self.entries(hub, "managedClusterGroups"):
            name = str(entry.body.get("name", entry.key))
            labels[name] = acm_labels(entry.body)
        names = sorted(self.groups, key=lambda name: (name != hub, name))
        return tuple(
            ClusterGroup(
                name=name,
                is_hub=name == hub,
                apps=tuple(entry.key for entry in self.entries(name, "applications")),
                namespaces=tuple(self.namespaces(name)),
                labels=labels.get(name, {}),
            )
            for name in names
        )


def local_app_path(body: Mapping[str, Any]) -> str | None:
    """The chart folder of an application entry when it is in the pattern repository: a `path`
    without `chart`, `repoURL` (another repository) or `chartVersion` (the clustergroup chart
    then makes a multi-source Application whose `path` is in global.multiSourceRepoUrl)."""
    path = body.get("path")
    elsewhere = ("chart", "repoURL", "chartVersion")
    if not isinstance(path, str) or any(key in body for key in elsewhere):
        return None
    return path


def acm_labels(body: dict[str, Any]) -> dict[str, str]:
    """The labels a managed cluster group's entry asks its clusters for: its clusterSelector's
    matchLabels, else its acmlabels ([{name, value}] or a map); {} when it names none."""
    selector = body.get("clusterSelector")
    if isinstance(selector, dict) and isinstance(selector.get("matchLabels"), dict):
        return {str(k): str(v) for k, v in selector["matchLabels"].items()}
    labels = body.get("acmlabels")
    if isinstance(labels, dict):
        return {str(k): str(v) for k, v in labels.items()}
    if isinstance(labels, list):
        return {
            str(item["name"]): str(item.get("value", ""))
            for item in labels
            if isinstance(item, dict) and "name" in item
        }
    return {}


def _dig(data: Any, *keys: str) -> Any:
    for key in keys:
        if not isinstance(data, dict):
            return None
        data = data.get(key)
    return data


def group_files(root: Path) -> Iterator[tuple[str, Path]]:
    """(group name, path) of every `values-<name>.yaml` other than the global file."""
    for path in sorted(root.glob(layout.group_file("*"))):
        name = path.name.removeprefix(layout.VALUES_PREFIX).removesuffix(layout.VALUES_SUFFIX)
        if (
            path.name != layout.GLOBAL_FILE
            and not layout.is_values_secret(path.name)
            and is_dns_label(name)
            and path.is_file()
        ):
            yield name, path


def _load_inside(root: Path, path: Path) -> Document:
    """Load a values file of the repository, refusing a symlink whose target is outside it."""
    return load_file(layout.inside(root, path.name) or path, path.name)


def load_values_repo(root: Path) -> ValuesRepo:
    """Every values file of the repository; unreadable ones are recorded in `errors`."""
    global_doc: Document | None = None
    errors: list[McgError] = []
    global_path = root / layout.GLOBAL_FILE
    if global_path.is_file():
        try:
            global_doc = _load_inside(root, global_path)
        except McgError as error:
            errors.append(error)
    repo = ValuesRepo(root, global_doc, errors=errors)
    for name, path in group_files(root):
        try:
            document = _load_inside(root, path)
        except McgError as error:
            errors.append(error)
            continue
        if isinstance(document.data, dict) and "clusterGroup" in document.data:
            repo.groups[name] = document
        else:
            repo.others[name] = document
    for name in _override_files(repo):
        repo.others[name] = repo.groups.pop(name)
    return repo


def _override_files(repo: ValuesRepo) -> list[str]:
    """Files that look like a group's but override one: values-<cluster name>.yaml (the last
    file of the operator's chain) has a clusterGroup section too. A group's own file names the
    group (`clusterGroup.name`) or stands in for the hub, or the group is the hub or one of the
    groups it manages."""
    groups = {repo.hub_name, *repo.managed_group_names()}
    return [
        name
        for name in repo.groups
        if name not in groups
        and "name" not in repo.cluster_group(name)
        and repo.alternate_hub_of(name) is None
    ]


def require_values_repo(root: Path) -> ValuesRepo:
    """`load_values_repo` for commands that need a readable pattern repository: the first file
    that cannot be read, or a missing values-global.yaml, raises."""
    from generator.errors import Location

    repo = load_values_repo(root)
    if repo.errors:
        raise repo.errors[0]
    if repo.global_doc is None:
        raise McgError(
            f"not a Validated Patterns repository: {layout.GLOBAL_FILE} is missing",
            location=Location(str(root)),
            hint="run it in (or point it at) a pattern repository",
        )
    return repo


def merge_values(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """Helm's merge of values files: maps merge deeply, anything else replaces, null deletes."""
    merged: dict[str, Any] = _copied(dict(base))
    for key, value in override.items():
        if value is None:
            merged.pop(key, None)
        elif isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = merge_values(merged[key], value)
        else:
            merged[key] = _copied(value)
    return merged


def _copied(value: Any) -> Any:
    """A deep copy of plain data (what YAML holds), several times faster than copy.deepcopy,
    which copies anything else (values are copied on every merge of every render)."""
    kind = type(value)
    if kind is dict:
        return {key: _copied(item) for key, item in value.items()}
    if kind is list:
        return [_copied(item) for item in value]
    if kind in (str, int, float, bool) or value is None:
        return value
    return copy.deepcopy(value)
