"""What a validate run is asked to do (`Options`) and what it found (`Outcome`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from generator.findings import Finding
from generator.model.facts import Facts

Progress = Callable[[str], None]


@dataclass(frozen=True)
class Options:
    facts: Facts = field(default_factory=Facts)
    kubernetes_version: str | None = None
    schema_locations: tuple[Path, ...] = ()
    chart_dirs: tuple[Path, ...] = ()
    lint: bool = True
    timeout: float | None = None  # seconds for the whole run (rendering stops after it)
    # the cluster groups to render and check (`--since`); None: every group
    groups: frozenset[str] | None = None
    # set by validate_repository for its run: when rendering stops, and where the charts that
    # hung are remembered by every worker process (not part of any cache key)
    deadline: float | None = None
    hung_registry: Path | None = None


@dataclass
class Outcome:
    findings: list[Finding] = field(default_factory=list)
    files: set[str] = field(default_factory=set)
    resources: int = 0
