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

SECRET_STORE = "vault-backend"  # the ClusterSecretStore of charts/secretstore


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
                        SECRET_STORE,
                        names.vault_reader_policy(group.name),
                    )
                )
            apps.append(AppNode(app.name, app.namespace, tuple(reads)))
        operators = tuple(
            pattern.operators[key].name for key in group.operators if key in pattern.operators
        )
        groups.append(_group_node(group, tuple(apps), operators))
    return Topology(pattern.name, tuple(groups))


def values_topology(pattern: str, groups: Sequence[ClusterGroup]) -> Topology:
    """The topology of a repository without a spec, from its values files (which do not say
    which app reads which secret)."""
    return Topology(
        pattern,
        tuple(
            _group_node(group, tuple(AppNode(app, app) for app in group.apps), group.operators)
            for group in groups
        ),
    )


def _group_node(
    group: ClusterGroup, apps: tuple[AppNode, ...], operators: tuple[str, ...]
) -> GroupNode:
    selector = {} if group.is_hub else dict(group.selector_labels)
    return GroupNode(group.name, group.is_hub, selector, apps, operators)


def _selector(group: GroupNode) -> str:
    return ", ".join(f"{key}={value}" for key, value in group.selector.items())


def _vault_paths(top: Topology) -> list[str]:
    return sorted({read.path for group in top.groups for app in group.apps for read in app.reads})


# -- Mermaid ----------------------------------------------------------------------------------

# Mermaid reads entity codes (#quot; #35;) inside quoted labels; everything that could end the
# label, start markup or a Markdown string goes through them.
_MERMAID_ENTITIES = {
    "#": "#35;",
    '"': "#quot;",
    "<": "#lt;",
    ">": "#gt;",
    "&": "#amp;",
    "`": "#96;",
    "|": "#124;",
    "[": "#91;",
    "]": "#93;",
    "{": "#123;",
    "}": "#125;",
    "(": "#40;",
    ")": "#41;",
    ";": "#59;",
}


def mermaid_text(text: str) -> str:
    flat = " ".join(str(text).split())
    return "".join(_MERMAID_ENTITIES.get(char, char) for char in flat)


def mermaid(top: Topology) -> str:
    """A Mermaid flowchart: one subgraph per group, Vault paths on the right."""
    lines = ["flowchart LR"]
    paths = {path: f"v{index}" for index, path in enumerate(_vault_paths(top))}
    edges: list[str] = []
    hub_id = None
    for number, group in enumerate(top.groups):
        group_id = f"g{number}"
        role = "hub" if group.is_hub else f"managed · {_selector(group)}"
        lines.append(f'  subgraph {group_id}["{mermaid_text(group.name)} ({mermaid_text(role)})"]')
        lines.append("    direction TB")
        for index, app in enumerate(group.apps):
            app_id = f"{group_id}a{index}"
            label = f"{mermaid_text(app.name)}<br/>ns {mermaid_text(app.namespace)}"
            lines.append(f'    {app_id}["{label}"]')
            for read in app.reads:
                via = mermaid_text(f"{read.store} · policy {read.policy}")
                edges.append(f'  {app_id} -.->|"{via}"| {paths[read.path]}')
        for index, operator in enumerate(group.operators):
            lines.append(f'    {group_id}o{index}[/"operator {mermaid_text(operator)}"/]')
        lines.append("  end")
        if group.is_hub:
            hub_id = group_id
    if hub_id is not None:
        for number, group in enumerate(top.groups):
            if not group.is_hub:
                selector = mermaid_text(f"ACM policy · {_selector(group)}")
                edges.append(f'  {hub_id} ==>|"{selector}"| g{number}')
    if paths:
        lines.append('  subgraph vault["Vault (on the hub)"]')
        lines += [f'    {node}[("{mermaid_text(path)}")]' for path, node in paths.items()]
        lines.append("  end")
    return "\n".join(lines + edges) + "\n"


# -- Graphviz DOT -----------------------------------------------------------------------------


def dot_text(text: str) -> str:
    """A DOT double-quoted string's content: backslashes and quotes escaped, one line."""
    flat = " ".join(str(text).split())
    return flat.replace("\\", "\\\\").replace('"', '\\"')


def dot(top: Topology) -> str:
    lines = [
        f'digraph "{dot_text(top.pattern)}" {{',
        "  rankdir=LR;",
        '  node [shape=box, fontname="sans-serif"];',
        "  compound=true;",
    ]
    paths = {path: f"v{index}" for index, path in enumerate(_vault_paths(top))}
    edges: list[str] = []
    hub_id = None
    for number, group in enumerate(top.groups):
        group_id = f"g{number}"
        role = "hub" if group.is_hub else f"managed: {_selector(group)}"
        lines.append(f"  subgraph cluster_{group_id} {{")
        lines.append(f'    label="{dot_text(group.name)} ({dot_text(role)})";')
        lines.append(f'    {group_id} [shape=point, style=invis, label=""];')
        for index, app in enumerate(group.apps):
            app_id = f"{group_id}a{index}"
            label = f"{dot_text(app.name)}\\nns {dot_text(app.namespace)}"
            lines.append(f'    {app_id} [label="{label}"];')
            for read in app.reads:
                via = dot_text(f"{read.store} / policy {read.policy}")
                edges.append(f'  {app_id} -> {paths[read.path]} [style=dashed, label="{via}"];')
        for index, operator in enumerate(group.operators):
            lines.append(
                f'    {group_id}o{index} [shape=component, label="operator {dot_text(operator)}"];'
            )
        lines.append("  }")
        if group.is_hub:
            hub_id = group_id
    if hub_id is not None:
        for number, group in enumerate(top.groups):
            if not group.is_hub:
                label = dot_text(f"ACM policy: {_selector(group)}")
                edges.append(
                    f"  {hub_id} -> g{number} [lhead=cluster_g{number}, "
                    f'ltail=cluster_{hub_id}, style=bold, label="{label}"];'
                )
    if paths:
        lines.append("  subgraph cluster_vault {")
        lines.append('    label="Vault (on the hub)";')
        lines += [
            f'    {node} [shape=cylinder, label="{dot_text(path)}"];'
            for path, node in paths.items()
        ]
        lines.append("  }")
    return "\n".join([*lines, *edges, "}"]) + "\n"


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
