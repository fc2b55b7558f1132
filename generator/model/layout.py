"""The layout of a Validated Patterns repository: its file names, its defaults, and how a path
written in it (an application's chart, a value file) becomes a file of the repository.

Every other module takes these names from here. Paths are confined by `repofs`: inside the
repository once links are resolved, never under `.git`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from generator import repofs
from generator.errors import Location

SPEC_FILE = "pattern.yaml"
GLOBAL_FILE = "values-global.yaml"
SECRET_TEMPLATE_FILE = "values-secret.yaml.template"
VALUES_PREFIX = "values-"
VALUES_SUFFIX = ".yaml"
# mcg-gen's own folder in a generated repository (state file, schema copy, working files).
STATE_DIR = ".mcg-gen"
# What mcg-gen last wrote of each generated file (committed): the base of three-way merges.
BASE_DIR = f"{STATE_DIR}/base"
# generate's staged writes and backups of replaced files, in STATE_DIR
STAGING_NAME, BACKUPS_NAME = "staging", "backups"
# mcg-gen's working folders: merge bases, staged writes, backups. Nothing in them is deployed,
# and validate reads none of them (its answer does not depend on them).
WORKING_FOLDERS = (
    BASE_DIR,
    *(f"{STATE_DIR}/{name}" for name in (STAGING_NAME, BACKUPS_NAME, "cache")),
)
# What the generated repository runs mcg-gen with: pre-commit, and a pipeline per CI system.
PRE_COMMIT_CONFIG = ".pre-commit-config.yaml"
GITHUB_WORKFLOW = ".github/workflows/validate.yaml"
GITLAB_PIPELINE = ".gitlab-ci.yml"
# The hub's cluster group when values-global.yaml names none (`main.clusterGroupName`).
DEFAULT_HUB = "hub"
# The hub's domain when the user gives none: what `render` and the bootstrap files assume.
DEFAULT_HUB_DOMAIN = "apps.hub.example.com"
# Argo CD's multi-source reference to the pattern repository in value-file paths.
PATTERN_REF = "$patternref/"
_URL = re.compile(r"^[a-z][a-z0-9+.-]*://")
# The upstream `common` subtree that patterns vendor: recognised by files it always carries.
VENDORED_COMMON = "common"
VENDORED_COMMON_MARKERS = ("Makefile", "scripts/pattern-util.sh")
# Parts of the vendored common that the secrets loader and the operator never read: upstream's
# own tests and examples, whose values-secret files hold dummy values.
VENDORED_COMMON_UNREAD = ("ansible/tests", "examples")


def group_file(group: str) -> str:
    """The values file of a cluster group: `values-<group>.yaml`."""
    return f"{VALUES_PREFIX}{group}{VALUES_SUFFIX}"


def clustergroup_value_files(
    group: str,
    *,
    platform: str,
    version: str,
    cluster_name: str,
) -> list[str]:
    """The value files the patterns operator (for the hub) and the acm chart's policy (for a
    managed cluster) give the clustergroup chart, as repository paths in merge order (later
    wins): values-global, values-<group>, values-<platform>, values-<platform>-<version>,
    values-<platform>-<group>, values-<version>-<group>, values-<cluster name>. Files named by
    an empty fact are left out; missing files are skipped by whoever reads the chain (Argo CD's
    `ignoreMissingValueFiles`)."""
    names = [
        (group,),
        (platform,),
        (platform, version),
        (platform, group),
        (version, group),
        (cluster_name,),
    ]
    return [GLOBAL_FILE] + [
        f"{VALUES_PREFIX}{'-'.join(parts)}{VALUES_SUFFIX}" for parts in names if all(parts)
    ]


# `{{ $.Values.x.y }}` / `{{ .Values.x.y }}`: the only templates in a value-file path that are
# expanded offline (a path is data from the repository, never given to a template engine).
_VALUE_REFERENCE = re.compile(r"\{\{-?\s*\$?\.Values\.([A-Za-z0-9_.]+?)\s*-?\}\}")


def expand_value_file(entry: str, values: Mapping[str, Any]) -> str:
    """A templated value-file path (`/overrides/values-{{ $.Values.global.clusterPlatform }}.yaml`)
    with each plain `.Values` reference replaced from `values`; a reference to nothing, and any
    other template, is left as it is (see `is_template`)."""

    def replace(match: re.Match[str]) -> str:
        found: Any = values
        for key in match.group(1).split("."):
            found = found.get(key) if isinstance(found, Mapping) else None
        if found is None or isinstance(found, Mapping | list):
            return match.group(0)
        return str(found).lower() if isinstance(found, bool) else str(found)

    return _VALUE_REFERENCE.sub(replace, entry)


def is_template(entry: str) -> bool:
    """Whether a value-file path still holds a template, so which file it names is unknown."""
    return "{{" in entry


def is_values_name(path: str) -> bool:
    """Whether a repository-relative path is one of the values files at the top (global, a
    group's, an override's)."""
    return "/" not in path and path.startswith(VALUES_PREFIX) and path.endswith(VALUES_SUFFIX)


def is_values_secret(name: str) -> bool:
    """A filled-in values-secret file's name (the template is not one)."""
    return (
        name.startswith("values-secret")
        and name.endswith((".yaml", ".yml"))
        and name != SECRET_TEMPLATE_FILE
    )


def is_vendored_common(root: Path) -> bool:
    """Whether `common/` is the upstream common subtree (not a folder of the pattern's own)."""
    folder = root / VENDORED_COMMON
    return all((folder / marker).is_file() for marker in VENDORED_COMMON_MARKERS)


def unread_vendored_folders(root: Path) -> tuple[Path, ...]:
    """The folders of a vendored common that nothing deployed or loaded reads."""
    if not is_vendored_common(root):
        return ()
    return tuple(root / VENDORED_COMMON / part for part in VENDORED_COMMON_UNREAD)


def inside(
    root: Path,
    relative: str,
    where: Location | None = None,
    resolver: repofs.Resolver | None = None,
) -> Path | None:
    """`root/relative` confined to the repository (see `repofs.confine`); None when it does not
    exist. Raises `repofs.UnsafePath` for a path that leaves the repository or enters `.git`."""
    found = repofs.confine(root, relative, where=where, resolver=resolver)
    return found if found.exists() else None


def existing(root: Path, relative: str) -> Path | None:
    """`inside`, but None too for a path that leaves the repository: for checks that report a
    missing file either way."""
    try:
        return inside(root, relative)
    except repofs.UnsafePath:
        return None


def value_file_path(entry: str, chart_path: str | None) -> str | None:
    """The repository path of an Application's value file, as Argo CD reads it: `$patternref/x`
    and `/x` from the repository root, anything else relative to the chart's folder
    (`chart_path`, None for a chart outside the repository); None for a URL or a file outside
    the repository."""
    if _URL.match(entry):
        return None
    if entry.startswith(PATTERN_REF):
        return entry.removeprefix(PATTERN_REF)
    if entry.startswith("/"):
        return entry.lstrip("/")
    if chart_path is None:
        return None
    return f"{chart_path}/{entry}"


def value_file(
    root: Path,
    entry: str,
    chart_path: str | None,
    where: Location | None = None,
    resolver: repofs.Resolver | None = None,
) -> Path | None:
    """The regular file an Application's value file names, confined; None when there is none
    (Argo CD, with `ignoreMissingValueFiles`, skips it)."""
    relative = value_file_path(entry, chart_path)
    if relative is None:
        return None
    found = inside(root, relative, where, resolver)
    return found if found is not None and found.is_file() else None
