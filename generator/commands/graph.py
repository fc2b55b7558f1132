"""`mcg-gen graph`: the topology of a pattern at a glance (Mermaid, DOT, SVG or one HTML page)."""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from generator.commands import add_repo_argument, repository_folder
from generator.errors import EXIT_OK, McgError

if TYPE_CHECKING:
    from generator.emit.graph import Topology

DOT_TIMEOUT_SECONDS = 60.0
DOT_MAX_OUTPUT = 32 * 1024 * 1024

EPILOG = """\
examples:
  mcg-gen graph                                 Mermaid, for a README or an issue
  mcg-gen graph --format dot | dot -Tpng > topology.png
  mcg-gen graph --format svg -o topology.svg    needs Graphviz's 'dot'
  mcg-gen graph path/to/repo --format html -o topology.html   one self-contained page

The diagram shows the hub and each managed group with the cluster labels that select it (the
ACM policy from the hub), the apps (with their namespaces) and operators of each group, and for
each app the Vault path of every secret it reads, the ClusterSecretStore it reads through and
the Vault policy of its group. It is built from pattern.yaml; a repository without one is drawn
from its values files (without secret reads, which values files do not say). The README that
'mcg-gen generate' writes embeds the Mermaid diagram, and generate keeps it up to date.
"""


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "graph",
        help="draw the pattern's topology (groups, apps, operators, secrets)",
        description="Draw the topology of a pattern: the hub, managed groups and their cluster "
        "selectors, apps and operators, and which Vault paths each app reads.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_repo_argument(parser)
    parser.add_argument(
        "--format",
        choices=("mermaid", "dot", "svg", "html"),
        default="mermaid",
        help="output format (default mermaid)",
    )
    parser.add_argument("--output", "-o", type=Path, help="write here instead of stdout")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from generator.emit import graph

    repo = repository_folder(args.repo)
    top = load_topology(repo)
    if args.format == "mermaid":
        text = graph.mermaid(top)
    elif args.format == "dot":
        text = graph.dot(top)
    elif args.format == "svg":
        text = svg(graph.dot(top))
    else:
        text = graph.html_page(top, _inline_svg(graph.dot(top)) if _dot_program() else None)
    if args.output:
        args.output.write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    return EXIT_OK


def load_topology(repo: Path) -> Topology:
    from generator.emit import graph
    from generator.model.layout import SPEC_FILE

    if (repo / SPEC_FILE).is_file():
        from generator.model.spec import load_repository_spec

        return graph.topology(load_repository_spec(repo))
    from generator.model.values import require_values_repo

    values = require_values_repo(repo)
    groups = values.model_groups()
    namespaces = {
        group.name: {
            entry.key: str(entry.body.get("namespace", "?"))
            for entry in values.entries(group.name, "applications")
        }
        for group in groups
    }
    return graph.values_topology(values.pattern_name, groups, namespaces)


def _dot_program() -> str | None:
    return shutil.which("dot")


def svg(dot_source: str) -> str:
    """The diagram drawn by Graphviz (`dot -Tsvg`), bounded in time and output."""
    program = _dot_program()
    if program is None:
        raise McgError(
            "--format svg needs Graphviz's 'dot', which is not installed",
            hint="install Graphviz (apt install graphviz, brew install graphviz), or use "
            "--format dot and draw it elsewhere, or --format mermaid or html",
        )
    try:
        completed = subprocess.run(
            [program, "-Tsvg"],
            input=dot_source.encode(),
            capture_output=True,
            timeout=DOT_TIMEOUT_SECONDS,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        raise McgError(f"Graphviz could not draw the diagram: {error}") from None
    if completed.returncode != 0 or len(completed.stdout) > DOT_MAX_OUTPUT:
        detail = completed.stderr.decode(errors="replace").strip()[:500] or "output too large"
        raise McgError(f"Graphviz could not draw the diagram: {detail}")
    return completed.stdout.decode(errors="replace")


def _inline_svg(dot_source: str) -> str:
    """The SVG element alone (without the XML prolog and doctype), to embed in HTML."""
    drawn = svg(dot_source)
    start = drawn.find("<svg")
    return drawn[start:] if start >= 0 else ""
