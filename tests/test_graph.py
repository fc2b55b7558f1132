"""`mcg-gen graph` through the CLI: what each format shows, that every user string is escaped,
and that the generated README embeds the diagram and generate keeps it current."""

from __future__ import annotations

import re
import shutil
from html.parser import HTMLParser
from pathlib import Path

import pytest

from tests import gitrepos
from tests.conftest import run_subprocess

# One line of the Mermaid mcg-gen writes: a subgraph, a node, an edge, `end`, `direction`.
QUOTED = r'"[^"\n]*"'
MERMAID_LINE = re.compile(
    "^(?:"
    + "|".join(
        (
            "flowchart LR",
            rf"  subgraph (g\d+|vault)\[{QUOTED}\]",
            "    direction TB",
            rf"    g\d+a\d+\[{QUOTED}\]",
            rf"    g\d+o\d+\[/{QUOTED}/\]",
            rf"    v\d+\[\({QUOTED}\)\]",
            "  end",
            rf"  g\d+a\d+ -\.->\|{QUOTED}\| v\d+",
            rf"  g\d+ ==>\|{QUOTED}\| g\d+",
        )
    )
    + ")$"
)
DOT_STRING = r'"(?:[^"\\\n]|\\.)*"'
DOT_LINE = re.compile(
    "^(?:"
    + "|".join(
        (
            rf"digraph {DOT_STRING} \{{",
            "  rankdir=LR;",
            r'  node \[shape=box, fontname="sans-serif"\];',
            "  compound=true;",
            r"  subgraph cluster_(g\d+|vault) \{",
            rf"    label={DOT_STRING};",
            r'    g\d+ \[shape=point, style=invis, label=""\];',
            rf"    g\d+a\d+ \[label={DOT_STRING}\];",
            rf"    g\d+o\d+ \[shape=component, label={DOT_STRING}\];",
            rf"    v\d+ \[shape=cylinder, label={DOT_STRING}\];",
            r"  \}",
            r"\}",
            rf"  g\d+a\d+ -> v\d+ \[style=dashed, label={DOT_STRING}\];",
            rf"  g\d+ -> g\d+ \[lhead=cluster_g\d+, ltail=cluster_g\d+, style=bold, "
            rf"label={DOT_STRING}\];",
        )
    )
    + ")$"
)
HOSTILE = 'x"]; click g0 call alert(1) %% <script>alert(2)</script> `md` #x; [a](b) \\" |'


def graph(repo: Path, *args: str) -> str:
    result = run_subprocess("graph", str(repo), *args, cwd=None)
    assert result.code == 0, result.err
    return result.out


@pytest.fixture
def generated(tmp_path: Path) -> Path:
    return gitrepos.make("generated", tmp_path / "repo")


def test_mermaid_shows_groups_selectors_apps_operators_and_secret_reads(generated: Path) -> None:
    text = graph(generated)
    lines = text.splitlines()
    assert all(MERMAID_LINE.match(line) for line in lines), [
        line for line in lines if not MERMAID_LINE.match(line)
    ]
    assert '  subgraph g0["hub (hub)"]' in lines
    assert '  subgraph g1["group-one (managed · clusterGroup=group-one)"]' in lines
    assert '  g0 ==>|"ACM policy · clusterGroup=group-one"| g1' in lines
    assert '    g0o0[/"operator advanced-cluster-management"/]' in lines
    assert '    v0[("secret/data/global/config-demo")]' in lines
    # config-demo reads its secret under global/ on both groups: upstream's global-secret policy
    # (in hub-role and every <cluster domain>-role) grants it
    reads = [line for line in lines if "-.->" in line]
    assert sorted(reads) == [
        '  g0a2 -.->|"vault-backend · policy global-secret"| v0',
        '  g1a0 -.->|"vault-backend · policy global-secret"| v0',
    ]
    assert '    g0a2["config-demo<br/>ns config-demo"]' in lines


def test_dot_and_html(generated: Path) -> None:
    dot = graph(generated, "--format", "dot")
    assert all(DOT_LINE.match(line) for line in dot.splitlines()), [
        line for line in dot.splitlines() if not DOT_LINE.match(line)
    ]
    assert '    v0 [shape=cylinder, label="secret/data/global/config-demo"];' in dot
    page = graph(generated, "--format", "html")
    parsed = _Page()
    parsed.feed(page)
    assert parsed.tags.isdisjoint({"script", "link", "iframe", "img"})  # self-contained
    assert "secret/data/global/config-demo" in parsed.text
    assert "group-one" in parsed.text and "clusterGroup=group-one" in parsed.text


def test_the_generated_readme_embeds_the_diagram_and_generate_refreshes_it(
    generated: Path,
) -> None:
    def embedded() -> str:
        readme = (generated / "README.md").read_text()
        return readme.split("```mermaid\n", 1)[1].split("```", 1)[0]

    assert embedded() == graph(generated)
    result = run_subprocess(
        "add",
        "group",
        "edge",
        "--app",
        "hello-world",
        "--label",
        "site=edge",
        "-C",
        str(generated),
        cwd=None,
    )
    assert result.code == 0, result.err
    assert embedded() == graph(generated)
    assert '"edge (managed · site=edge)"' in embedded()


class _Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: set[str] = set()
        self.text = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)

    def handle_data(self, data: str) -> None:
        self.text += data


def test_user_strings_are_escaped_in_every_format(tmp_path: Path) -> None:
    """A hand-written repository names apps, operators and labels as it likes."""
    repo = gitrepos.make("handwritten", tmp_path / "repo")
    quoted = HOSTILE.replace("'", "''")
    hub = (repo / "values-hub.yaml").read_text()
    hub = hub.replace("value: group-one", f"value: '{quoted}'")
    (repo / "values-hub.yaml").write_text(hub)
    group = (repo / "values-group-one.yaml").read_text()
    hostile_app = f"  applications:\n    '{quoted}':\n      path: charts/all/x\n"
    (repo / "values-group-one.yaml").write_text(group.replace("  applications:\n", hostile_app, 1))

    mermaid = graph(repo)
    assert all(MERMAID_LINE.match(line) for line in mermaid.splitlines()), mermaid
    assert "<script>" not in mermaid and "click" in mermaid  # the text is there, as text
    dot = graph(repo, "--format", "dot")
    assert all(DOT_LINE.match(line) for line in dot.splitlines()), dot
    page = graph(repo, "--format", "html")
    parsed = _Page()
    parsed.feed(page)
    assert "script" not in parsed.tags
    assert HOSTILE.split("<script>")[0].strip() in " ".join(parsed.text.split())


def test_svg_needs_graphviz(generated: Path, tmp_path: Path) -> None:
    empty = tmp_path / "bin"
    empty.mkdir()
    result = run_subprocess(
        "graph", str(generated), "--format", "svg", cwd=None, env={"PATH": str(empty)}
    )
    assert result.code == 1
    assert "needs Graphviz's 'dot', which is not installed" in result.err
    assert "Traceback" not in result.err


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot is not installed")
def test_svg_through_graphviz(generated: Path, tmp_path: Path) -> None:
    out = tmp_path / "topology.svg"
    graph(generated, "--format", "svg", "-o", str(out))
    drawn = out.read_text()
    assert "<svg" in drawn and "secret/data/global/config-demo" in drawn


def test_help_has_examples() -> None:
    result = run_subprocess("graph", "--help", cwd=None)
    assert result.code == 0 and "--format svg" in result.out and "examples:" in result.out
