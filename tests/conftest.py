"""Shared test helpers: run the real CLI, read trees, find the reference data."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from generator.cli import main
from tests.openbao import (  # noqa: F401  (shared fixtures)
    fresh_openbao,
    openbao,
    stored_openbao,
    tls_openbao,
)

PROJECT = Path(__file__).resolve().parents[1]
SHARED = PROJECT.parent / "shared"
REFERENCE = SHARED / "reference"


@pytest.fixture(autouse=True, scope="session")
def _private_cache(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Keep the validation cache of the tests out of the user's ~/.cache."""
    os.environ["MCG_GEN_CACHE_DIR"] = str(tmp_path_factory.mktemp("mcg-gen-cache"))


@dataclass
class Result:
    code: int
    out: str
    err: str


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A HOME of the test's own: `~` in paths and the default values-secret file live there."""
    folder = tmp_path / "home"
    folder.mkdir()
    monkeypatch.setenv("HOME", str(folder))
    return folder


@pytest.fixture
def cli(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> Callable[..., Result]:
    """Run `mcg-gen ARGS` in-process (in `cwd` when given) and capture its output."""

    def run(*args: str, cwd: Path | None = None) -> Result:
        if cwd is not None:
            monkeypatch.chdir(cwd)
        capsys.readouterr()
        try:
            code = main(list(args))
        except SystemExit as exit_:  # argparse's --help, --version and usage errors
            code = int(exit_.code or 0)
        captured = capsys.readouterr()
        return Result(code, captured.out, captured.err)

    return run


def run_subprocess(
    *args: str,
    cwd: Path | None,
    timeout: float = 120,
    env: dict[str, str] | None = None,
    preexec_fn: Callable[[], None] | None = None,
    input_text: str | None = None,
) -> Result:
    """Run `mcg-gen ARGS` as a separate process, the way users and hooks do (`input_text` on
    its stdin)."""
    completed = subprocess.run(
        [sys.executable, "-m", "generator", *args],
        cwd=cwd,
        input=input_text,
        env={**os.environ, "PYTHONPATH": str(PROJECT), **(env or {})},
        capture_output=True,
        text=True,
        timeout=timeout,
        preexec_fn=preexec_fn,
        check=False,
    )
    return Result(completed.returncode, completed.stdout, completed.stderr)


def tree(root: Path) -> dict[str, bytes]:
    """Every file below `root` (outside .git and mcg-gen's lock) with its content."""
    return {
        path.relative_to(root).as_posix(): path.read_bytes()
        for path in sorted(root.rglob("*"))
        if path.is_file() and ".git" not in path.relative_to(root).parts and path.name != "lock"
    }


def needs_shared() -> None:
    if not REFERENCE.is_dir():
        pytest.skip("../shared reference data is absent (it exists only in the team's workspace)")


@pytest.fixture
def example_repo(tmp_path: Path, cli: Callable[..., Result]) -> Callable[[str], Path]:
    """A fresh repository made by `mcg-gen new` from a bundled example."""

    def make(example: str = "multicloud-gitops") -> Path:
        target = tmp_path / example
        result = cli("new", example, "--from", example, "--output", str(target), "--no-git")
        assert result.code == 0, result.err
        return target

    return make


def rewrite_keeping_size_and_time(path: Path, old: str, new: str) -> None:
    """Edit `path` in place (same inode), as long as before, its modification time put back:
    what `touch -r`, `cp -p` or rsync leave behind. Only its change time tells."""
    assert len(old) == len(new)
    before = path.stat()
    content = path.read_bytes()
    assert old.encode() in content
    with path.open("r+b") as stream:
        stream.write(content.replace(old.encode(), new.encode(), 1))
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    after = path.stat()
    assert (after.st_size, after.st_mtime_ns, after.st_ino) == (
        before.st_size,
        before.st_mtime_ns,
        before.st_ino,
    )
