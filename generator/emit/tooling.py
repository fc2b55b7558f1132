"""What a generated repository runs mcg-gen with: its pre-commit hooks and its CI pipelines.

Hooks and pipelines install one mcg-gen from one pinned source (`requirement`): the release tag
of this version in the hook repository, or, for air-gapped users (`tooling.hooks: local`), this
version from the package index pip is configured with. Nothing relies on an `mcg-gen` on PATH.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from typing import Any

from generator import __version__, release_tag
from generator.model import layout
from generator.model.pattern import CiSystem, Tooling


@dataclass(frozen=True)
class Hook:
    """A hook this project offers (`.pre-commit-hooks.yaml` lists the same, tests compare)."""

    id: str
    name: str
    description: str
    entry: str


HOOKS = (
    Hook(
        "mcg-gen-validate",
        "mcg-gen validate",
        "Validate a Multicloud GitOps (Validated Patterns) repository offline.",
        "mcg-gen validate",
    ),
    Hook(
        "mcg-gen-generate-check",
        "mcg-gen generate --check",
        "Fail when the generated files do not follow from pattern.yaml (merges included).",
        "mcg-gen generate --check",
    ),
)

# Each CI system's pipeline file and the template it is rendered from.
PIPELINES: dict[CiSystem, tuple[str, str]] = {
    "github": (layout.GITHUB_WORKFLOW, "validate-workflow.yaml.j2"),
    "gitlab": (layout.GITLAB_PIPELINE, "gitlab-ci.yml.j2"),
}


def pip_git_url(repository: str) -> str:
    """`repository` as pip's `git+` URLs need it: scp-like `git@host:path` becomes ssh://."""
    if repository.startswith("git@"):
        host, _, path = repository.partition(":")
        return f"ssh://{host}/{path.lstrip('/')}"
    return repository


def requirement(tooling: Tooling) -> str:
    """The pip requirement every hook and pipeline of the repository installs."""
    if tooling.hooks == "local":
        return f"mcg-gen=={__version__}"
    # A bare VCS URL, not `mcg-gen @ git+...`: older pips refuse file:// in that form.
    return f"git+{pip_git_url(tooling.hook_repository)}@{release_tag()}"


def template_context(tooling: Tooling) -> dict[str, Any]:
    """What the pre-commit and pipeline templates are rendered with."""
    wanted = requirement(tooling)
    remote = tooling.hooks == "remote"
    return {
        "version": __version__,
        "remote": remote,
        "repository": tooling.hook_repository,
        "rev": release_tag(),
        "hooks": HOOKS,
        "requirement": wanted,
        "install": f"python -m pip install {shlex.quote(wanted)}",
        "source": (
            f"{tooling.hook_repository} at {release_tag()}"
            if remote
            else "the package index pip is configured with"
        ),
    }
