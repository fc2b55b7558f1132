"""`mcg-gen validate --since REF`: only the cluster groups whose inputs changed since REF, as
chart-testing checks only the charts a pull request changed.

What changed is what git says differs between the merge base of REF and HEAD and the work tree
(committed, staged, unstaged, untracked). A group's inputs are decided without rendering, and
generously, so that a change is never missed:
- `values-global.yaml`, `pattern.yaml`, the secret template, the vendored charts, and any other
  top-level values file (a platform's or a version's, read through value-file chains): every
  group;
- `values-<group>.yaml`: that group;
- a file inside the chart folder of an application: every group running that application.
Anything else (documentation, a chart no group uses) changes no group.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from generator import gitio
from generator.errors import UsageError
from generator.model import layout, platform
from generator.model.values import ValuesRepo, local_app_path

_EVERY_GROUP = (layout.GLOBAL_FILE, layout.SPEC_FILE, layout.SECRET_TEMPLATE_FILE)


def changed_files(repo: Path, since: str) -> list[str]:
    """The files that changed since the merge base of `since` and HEAD."""
    try:
        commit = gitio.resolve_commit(repo, since)
        base = gitio.merge_base(repo, commit, gitio.resolve_commit(repo, "HEAD"))
        return gitio.changed_since(repo, base)
    except gitio.GitUnavailable as error:
        raise UsageError(
            f"cannot compare with {since!r}: {error}",
            hint="name a branch, tag or commit of this git repository (in CI, fetch the "
            "history first, e.g. actions/checkout with fetch-depth: 0)",
        ) from None


def changed_groups(values: ValuesRepo, changed: Iterable[str]) -> frozenset[str]:
    """The cluster groups whose inputs include a changed file."""
    paths = set(changed)
    group_files = {layout.group_file(group): group for group in values.groups}
    if any(_affects_every_group(path, group_files) for path in paths):
        return frozenset(values.groups)
    selected = {group_files[path] for path in paths if path in group_files}
    for group in values.groups:
        for entry in values.entries(group, "applications"):
            folder = (local_app_path(entry.body) or "").strip("/")
            if folder and any(path.startswith(f"{folder}/") for path in paths):
                selected.add(group)
    return frozenset(selected)


def _affects_every_group(path: str, group_files: dict[str, str]) -> bool:
    if path in _EVERY_GROUP or path.startswith(f"{platform.VENDOR_DIR}/"):
        return True
    top_level_values = (
        "/" not in path
        and path.startswith(layout.VALUES_PREFIX)
        and path.endswith((".yaml", ".yml"))
        and not layout.is_values_secret(path)
    )
    return top_level_values and path not in group_files
