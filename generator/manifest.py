"""A rendered Kubernetes resource and where it came from."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Resource:
    """One object of a rendered manifest.

    `source` is the repository-relative file the object came from (for a chart, the template,
    e.g. `common/clustergroup/templates/applications.yaml`); `line` is its first line in the
    rendered output of that template when known, else 0. `group` is the cluster group it lands on.
    `duplicate_keys` holds (dotted key path, line in the rendered output) of each key the
    rendered object repeats; the body keeps the last one, as Helm and Argo CD do. `chart` says
    which chart rendered it: name, version and where it came from (`acm 0.2.8 (cache)`).
    """

    body: dict[str, Any]
    source: str
    group: str
    line: int = 0
    duplicate_keys: tuple[tuple[str, int], ...] = ()
    chart: str = ""

    @property
    def api_version(self) -> str:
        return str(self.body.get("apiVersion", ""))

    @property
    def kind(self) -> str:
        return str(self.body.get("kind", ""))

    @property
    def name(self) -> str:
        return str((self.body.get("metadata") or {}).get("name", ""))

    @property
    def namespace(self) -> str:
        return str((self.body.get("metadata") or {}).get("namespace", ""))

    def sort_key(self) -> tuple[str, str, str, str]:
        return (self.kind, self.namespace, self.name, self.api_version)
