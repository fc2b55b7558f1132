"""Running git on a repository that may be hostile.

A repository's own `.git/config` (from an archive, not a clone) can name programs git runs: an
fsmonitor hook, hooks, diff text converters, transport helpers that reach the network. Every git
command mcg-gen runs goes through `run`, which switches those off on the command line (which wins
over any configuration file), never prompts, never takes optional locks (so a read-only command
never rewrites the index) and is bounded in time and output.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

TIMEOUT_SECONDS = 60.0
_HARDENING = (
    "-c",
    "core.fsmonitor=false",
    "-c",
    "core.hooksPath=/dev/null",
    "-c",
    "core.untrackedCache=false",
    "-c",
    "protocol.allow=never",
    "-c",
    "core.sshCommand=false",
    "-c",
    "credential.helper=",
)


class GitUnavailable(Exception):
    """git is not installed, timed out, or the folder is not a git work tree."""


def _environment() -> dict[str, str]:
    return {
        **os.environ,
        "GIT_TERMINAL_PROMPT": "0",
        "GIT_OPTIONAL_LOCKS": "0",
        "GIT_NO_LAZY_FETCH": "1",
        "GIT_ASKPASS": "true",
        "GIT_PAGER": "cat",
        "LC_ALL": "C",
    }


def run(
    repo: Path,
    *args: str,
    check: bool = True,
    timeout: float = TIMEOUT_SECONDS,
    input_text: str | None = None,
) -> subprocess.CompletedProcess[str]:
    """`git ARGS` in `repo`, hardened; raises GitUnavailable when git cannot answer (and, with
    `check`, when it exits non-zero)."""
    try:
        completed = subprocess.run(
            ["git", *_HARDENING, *args],
            cwd=repo,
            env=_environment(),
            capture_output=True,
            text=True,
            errors="surrogateescape",
            timeout=timeout,
            input=input_text,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        raise GitUnavailable(str(error)) from None
    if check and completed.returncode != 0:
        raise GitUnavailable(completed.stderr.strip() or f"git {args[0]} failed")
    return completed


def run_bytes(
    repo: Path, *args: str, timeout: float = TIMEOUT_SECONDS
) -> subprocess.CompletedProcess[bytes]:
    """`run` for output taken byte for byte (file contents: no newline translation); the exit
    status is the caller's to judge."""
    try:
        return subprocess.run(
            ["git", *_HARDENING, *args],
            cwd=repo,
            env=_environment(),
            capture_output=True,
            timeout=timeout,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        raise GitUnavailable(str(error)) from None


def is_tracked(repo: Path, relative: str) -> bool:
    """Whether git tracks `relative` in `repo`; False without git or outside a work tree."""
    try:
        return run(repo, "ls-files", "--error-unmatch", "--", relative, check=False).returncode == 0
    except GitUnavailable:
        return False
