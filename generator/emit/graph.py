"""The topology of a pattern as a diagram: Mermaid (embedded in the generated README), Graphviz
DOT and a self-contained HTML page.

Built from the model: the hub, each managed group with the cluster labels that select it, the
apps and operators of each group, and for each app the Vault path of every secret it reads, the
ClusterSecretStore it reads through and the Vault policy that lets its group read it. Every
string from the spec is data: node identifiers are generated (`g0`, `g0a1`...), labels are
escaped for the format they go into.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from generator.model import names
from generator.model.pattern import ClusterGroup, Pattern


@dataclass(frozen=True)
class SecretRead:
    path: str  # secret/data/global/config-demo
    store: str
    policy: str


@dataclass(frozen=True)
class AppNode:
    name: str
    namespace: str
    reads: tuple[SecretRead, ...] = ()


@dataclass(frozen=True)
class GroupNode:
    name: str
    is_hub: bool
    selector: Mapping[str, str]
    apps: tuple[AppNode, ...] = ()
    operators: tuple[str, ...] = ()


@dataclass(frozen=True)
class Topology:
    pattern: str
    groups: tuple[GroupNode, ...] = field(default_factory=tuple)

    @property
    def hub(self) -> GroupNode | None:
        return next((group for group in self.groups if group.is_hub), None)


def topology(pattern: Pattern) -> Topology:
    """The topology of a pattern read from its spec."""
    groups = []
    for group in pattern.cluster_groups:
        apps = []
        for key in group.apps:
            app = pattern.apps.get(key)
            if app is None:
                continue
            reads = []
            for secret_name in app.secrets:
                secret = pattern.secrets.get(secret_name)
                prefix = pattern.secret_prefix_for(app, secret) if secret else None
                if secret is None or prefix is None:
                    continue
                reads.append(
                    SecretRead(
                        secret.vault_path(prefix),
                        names.SECRET_STORE,
                        names.vault_reader_policy(prefix),
                    )
                )
            apps.append(AppNode(app.name, app.namespace, tuple(reads)))
        operators = tuple(
            pattern.operators[key].name for key in group.operators if key in pattern.operators
        )
        groups.append(_group_node(group, tuple(apps), operators))
    return Topology(pattern.name, tuple(groups))


def values_topology(
    pattern: str,
    groups: Sequence[ClusterGroup],
    namespaces: Mapping[str, Mapping[str, str]],
) -> Topology:
    """The topology of a repository without a spec, from its values files (which do not say
    which app reads which secret); `namespaces` gives each group's apps' namespaces."""
    nodes = []
    for group in groups:
        known = namespaces.get(group.name, {})
        apps = tuple(AppNode(app, known.get(app, "?")) for app in group.apps)
        nodes.append(_group_node(group, apps, group.operators))
    return Topology(pattern, tuple(nodes))


def _group_node(
    group: ClusterGroup, apps: tuple[AppNode, ...], operators: tuple[str, ...]
) -> GroupNode:
    selector = {} if group.is_hub else dict(group.selector_labels)
    return GroupNode(group.name, group.is_hub, selector, apps, operators)


def _selector(group: GroupNode) -> str:
    return ", ".join(f"{key}={value}" for key, value in group.selector.items())


def _vault_paths(top: Topology) -> list[str]:
    return sorted({read.path for group in top.groups for app in group.apps for read in app.reads})


@dataclass(frozen=True)
class _Node:
    id: str
    kind: str  # "app" or "operator"
    lines: tuple[str, ...]


@dataclass(frozen=True)
class _Edge:
    source: str
    target: str
    kind: str  # "reads" (an app reads a Vault path) or "manages" (the hub's ACM policy)
    label: str


@dataclass(frozen=True)
class _Diagram:
    """The topology laid out once for every format: generated identifiers, raw labels (each
    format escapes them)."""

    clusters: tuple[tuple[str, str, tuple[_Node, ...]], ...]  # (id, title, nodes)
    vault: tuple[tuple[str, str], ...]  # (id, path)
    edges: tuple[_Edge, ...]


def _diagram(top: Topology) -> _Diagram:
    paths = {path: f"v{index}" for index, path in enumerate(_vault_paths(top))}
    clusters = []
    edges = []
    for number, group in enumerate(top.groups):
        group_id = f"g{number}"
        role = "hub" if group.is_hub else f"managed · {_selector(group)}"
        nodes = []
        for index, app in enumerate(group.apps):
            app_id = f"{group_id}a{index}"
            nodes.append(_Node(app_id, "app", (app.name, f"ns {app.namespace}")))
            edges += [
                _Edge(app_id, paths[read.path], "reads", f"{read.store} · policy {read.policy}")
                for read in app.reads
            ]
        nodes += [
            _Node(f"{group_id}o{index}", "operator", (f"operator {operator}",))
            for index, operator in enumerate(group.operators)
        ]
        clusters.append((group_id, f"{group.name} ({role})", tuple(nodes)))
    hub = next((f"g{n}" for n, group in enumerate(top.groups) if group.is_hub), None)
    if hub is not None:
        edges += [
            _Edge(hub, f"g{number}", "manages", f"ACM policy · {_selector(group)}")
            for number, group in enumerate(top.groups)
            if not group.is_hub
        ]
    vault = tuple((node, path) for path, node in paths.items())
    return _Diagram(tuple(clusters), vault, tuple(edges))


# -- Mermaid ----------------------------------------------------------------------------------

# Inside a quoted Mermaid label only these could end the label, start an entity code, markup or
# a Markdown string, or split an edge label: they go in as entity codes (#quot; #35;).
_MERMAID_ENTITIES = {
    "#": "#35;",
    '"': "#quot;",
    "<": "#lt;",
    ">": "#gt;",
    "&": "#amp;",
    "`": "#96;",
    "|": "#124;",
    ";": "#59;",
}
_MERMAID_ARROWS = {"reads": "-.->", "manages": "==>"}


def mermaid_text(text: str) -> str:
    flat = " ".join(str(text).split())
    return "".join(_MERMAID_ENTITIES.get(char, char) for char in flat)


def mermaid(top: Topology) -> str:
    """A Mermaid flowchart: one subgraph per group, Vault paths in a subgraph of their own."""
    diagram = _diagram(top)
    lines = ["flowchart LR"]
    for cluster_id, title, nodes in diagram.clusters:
        lines += [f'  subgraph {cluster_id}["{mermaid_text(title)}"]', "    direction TB"]
        for node in nodes:
            label = "<br/>".join(mermaid_text(line) for line in node.lines)
            shape = ('["', '"]') if node.kind == "app" else ('[/"', '"/]')
            lines.append(f"    {node.id}{shape[0]}{label}{shape[1]}")
        lines.append("  end")
    if diagram.vault:
        lines.append('  subgraph vault["Vault (on the hub)"]')
        lines += [f'    {node}[("{mermaid_text(path)}")]' for node, path in diagram.vault]
        lines.append("  end")
    lines += [
        f'  {edge.source} {_MERMAID_ARROWS[edge.kind]}|"{mermaid_text(edge.label)}"| {edge.target}'
        for edge in diagram.edges
    ]
    return "\n".join(lines) + "\n"


# -- Graphviz DOT -----------------------------------------------------------------------------


def dot_text(text: str) -> str:
    """A DOT double-quoted string's content: backslashes and quotes escaped, one line."""
    flat = " ".join(str(text).split())
    return flat.replace("\\", "\\\\").replace('"', '\\"')


def dot(top: Topology) -> str:
    diagram = _diagram(top)
    lines = [
        f'digraph "{dot_text(top.pattern)}" {{',
        "  rankdir=LR;",
        '  node [shape=box, fontname="sans-serif"];',
        "  compound=true;",
    ]
    for cluster_id, title, nodes in diagram.clusters:
        lines += [
            f"  subgraph cluster_{cluster_id} {{",
            f'    label="{dot_text(title)}";',
            f'    {cluster_id} [shape=point, style=invis, label=""];',
        ]
        for node in nodes:
            label = "\\n".join(dot_text(line) for line in node.lines)
            shape = "" if node.kind == "app" else "shape=component, "
            lines.append(f'    {node.id} [{shape}label="{label}"];')
        lines.append("  }")
    if diagram.vault:
        lines += ["  subgraph cluster_vault {", '    label="Vault (on the hub)";']
        lines += [
            f'    {node} [shape=cylinder, label="{dot_text(path)}"];'
            for node, path in diagram.vault
        ]
        lines.append("  }")
    for edge in diagram.edges:
        if edge.kind == "reads":
            style = "style=dashed"
        else:
            style = f"lhead=cluster_{edge.target}, ltail=cluster_{edge.source}, style=bold"
        lines.append(f'  {edge.source} -> {edge.target} [{style}, label="{dot_text(edge.label)}"];')
    return "\n".join([*lines, "}"]) + "\n"


# -- HTML -------------------------------------------------------------------------------------

_STYLE = """
body { font-family: sans-serif; margin: 2em; color: #222; }
.group { border: 1px solid #888; border-radius: 6px; padding: 0.5em 1em; margin: 1em 0; }
.hub { border-color: #c00; }
h2 { margin: 0.2em 0; font-size: 1.2em; }
.selector, .ns { color: #555; font-size: 0.9em; }
table { border-collapse: collapse; }
td, th { border: 1px solid #ccc; padding: 0.2em 0.6em; text-align: left; }
"""


def html_page(top: Topology, svg: str | None = None) -> str:
    """One self-contained page (no script, no external resource): the diagram when Graphviz
    drew it, and the topology as tables."""
    escape = html.escape
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{escape(top.pattern)}: topology</title>",
        f"<style>{_STYLE}</style></head><body>",
        f"<h1>{escape(top.pattern)}</h1>",
    ]
    if svg:
        parts.append(f'<div class="diagram">{svg}</div>')
    for group in top.groups:
        kind = "hub" if group.is_hub else "managed"
        parts.append(f'<section class="group {kind}">')
        parts.append(f"<h2>{escape(group.name)} <small>({kind})</small></h2>")
        if not group.is_hub:
            parts.append(f'<p class="selector">clusters: {escape(_selector(group))}</p>')
        parts.append("<table><tr><th>app</th><th>namespace</th><th>reads</th></tr>")
        for app in group.apps:
            reads = "<br>".join(
                f"<code>{escape(read.path)}</code> via {escape(read.store)}, "
                f"policy {escape(read.policy)}"
                for read in app.reads
            )
            parts.append(
                f"<tr><td>{escape(app.name)}</td><td>{escape(app.namespace)}</td>"
                f"<td>{reads or 'nothing'}</td></tr>"
            )
        parts.append("</table>")
        if group.operators:
            listed = ", ".join(escape(operator) for operator in group.operators)
            parts.append(f"<p>operators: {listed}</p>")
        parts.append("</section>")
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"
