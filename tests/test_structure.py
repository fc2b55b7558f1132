"""One home for each contract: the repository layout is spelt in `model/layout.py` only, and no
module imports one of a later stage of the pipeline (load -> model -> generate / render ->
check -> report)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "generator"
# The files of the layout, as literals a module would need to read or write them.
LAYOUT_LITERAL = re.compile(
    r"""["'](pattern\.yaml|values-global\.yaml|values-secret\.yaml\.template|values-|\.mcg-gen)"""
    r"""["'](?!\w)|f["']values-\{"""
)
# Each package may import only from the ones before it (and shared modules outside these).
STAGES = ("model", "emit", "render", "checks", "validate", "report", "commands")


def modules() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def test_only_layout_spells_the_repository_layout() -> None:
    spelled = [
        f"{path.relative_to(PACKAGE)}:{number}: {line.strip()}"
        for path in modules()
        if path != PACKAGE / "model" / "layout.py"
        for number, line in enumerate(path.read_text().splitlines(), start=1)
        if LAYOUT_LITERAL.search(line)
    ]
    assert spelled == []


def stage_of(module: str) -> str | None:
    parts = module.split(".")
    if len(parts) < 2 or parts[0] != "generator":
        return None
    name = parts[1]
    if name in ("render", "helm"):
        return "render"
    return name if name in STAGES else None


def test_no_import_runs_back_up_the_pipeline() -> None:
    backwards = []
    for path in modules():
        relative = path.relative_to(PACKAGE.parent).with_suffix("")
        own = stage_of(".".join(relative.parts))
        if own is None:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module:
                targets = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
            elif isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            else:
                continue
            for target in targets:
                stage = stage_of(target)
                if stage is not None and STAGES.index(stage) > STAGES.index(own):
                    backwards.append(f"{relative}: imports {target}")
    assert backwards == []
