"""Three-way merges of a generated file: what mcg-gen last wrote (the base), what the user made
of it (ours) and what the spec gives now (theirs), line by line, as `git merge-file` does.

git's own merge is used: it is the merge users know from every rebase, with the same conflict
markers. It runs on private temporary copies, never in the repository.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

from generator import gitio

# A line that opens a conflict, as git writes it (seven '<' and a space).
CONFLICT_START = b"<<<<<<< "


@dataclass(frozen=True)
class Merged:
    content: bytes
    conflicts: int  # regions both sides changed; each is between conflict markers in `content`


class MergeUnavailable(Exception):
    """git could not merge (not installed, or the content is binary)."""


def merge3(path: str, base: bytes, ours: bytes, theirs: bytes) -> Merged:
    """Merge `ours` and `theirs`, both made from `base`; conflict markers name `path`."""
    if b"\0" in base + ours + theirs:
        raise MergeUnavailable("binary content")
    with tempfile.TemporaryDirectory(prefix="mcg-gen-merge-") as folder:
        files = []
        for name, content in (("yours", ours), ("base", base), ("generated", theirs)):
            file = Path(folder, name)
            file.write_bytes(content)
            files.append(name)
        try:
            result = gitio.run_bytes(
                Path(folder),
                "merge-file",
                "-p",
                "-L",
                f"{path} (yours)",
                "-L",
                f"{path} (last generated)",
                "-L",
                f"{path} (generated now)",
                *files,
            )
        except gitio.GitUnavailable as error:
            raise MergeUnavailable(str(error)) from None
    # git merge-file exits with the number of conflicts (0 when clean), negative on errors
    if not 0 <= result.returncode < 128:
        reason = result.stderr.decode(errors="replace").strip()
        raise MergeUnavailable(reason or "git merge-file failed")
    return Merged(result.stdout, result.returncode)


def has_conflict_markers(content: bytes) -> bool:
    """Whether a merged file still holds a conflict the user has to resolve."""
    return content.startswith(CONFLICT_START) or b"\n" + CONFLICT_START in content
