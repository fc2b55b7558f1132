"""The layout of a Validated Patterns repository: its file names, its defaults, and how a path
written in it (an application's chart, a value file) becomes a file of the repository.

Every other module takes these names from here. Paths are confined by `repofs`: inside the
repository once links are resolved, never under `.git`.
"""

from __future__ import annotations

import re
from pathlib import Path

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


def inside(root: Path, relative: str, where: Location | None = None) -> Path | None:
    """`root/relative` confined to the repository (see `repofs.confine`); None when it does not
    exist. Raises `repofs.UnsafePath` for a path that leaves the repository or enters `.git`."""
    found = repofs.confine(root, relative, where=where)
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
    root: Path, entry: str, chart_path: str | None, where: Location | None = None
) -> Path | None:
    """The regular file an Application's value file names, confined; None when there is none
    (Argo CD, with `ignoreMissingValueFiles`, skips it)."""
    relative = value_file_path(entry, chart_path)
    if relative is None:
        return None
    found = inside(root, relative, where)
    return found if found is not None and found.is_file() else None
