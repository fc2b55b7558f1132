"""`mcg-gen generate` on a repository someone rearranged: a folder or a symlink where a generated
file was, a file where a folder was, read-only files and folders. Each is one clear message,
exit 1, and nothing is half-written; `--force` still never writes through a link."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import PROJECT, Result, tree
from tests.test_hostile_inputs import base_spec, generate_base


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = generate_base(tmp_path_factory.mktemp("pristine"))
    # the next generate creates, updates and deletes files
    (target / "pattern.yaml").write_text(
        base_spec()
        .replace("release-2.14", "release-2.15")
        .replace("  hello-world: {}\n", "  extra: {}\n")
        .replace("hello-world]", "extra]")
    )
    return target


@pytest.fixture
def repo(pristine: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "repo"
    shutil.copytree(pristine, copy, symlinks=True)
    return copy


def assert_refused(result: Result, where: str, message: str) -> None:
    assert result.code == 1, result.err
    assert "Traceback" not in result.err
    assert result.err.startswith(f"mcg-gen: error: {where}: {message}"), result.err
    assert "hint:" in result.err


@pytest.mark.parametrize("force", [False, True], ids=["plain", "force"])
def test_a_folder_where_a_generated_file_was(
    repo: Path, cli: Callable[..., Result], force: bool
) -> None:
    (repo / "values-hub.yaml").unlink()
    (repo / "values-hub.yaml").mkdir()
    (repo / "values-hub.yaml" / "notes.txt").write_text("mine")
    before = tree(repo)
    result = cli("generate", str(repo), *(["--force"] if force else []))
    assert_refused(result, "values-hub.yaml", "this is a folder or special file")
    assert tree(repo) == before
    assert not (repo / ".mcg-gen/journal.json").exists()
    shutil.rmtree(repo / "values-hub.yaml")
    assert cli("generate", str(repo)).code == 0
    assert "release-2.15" in (repo / "values-hub.yaml").read_text()


def test_a_file_where_a_generated_folder_was(repo: Path, cli: Callable[..., Result]) -> None:
    shutil.rmtree(repo / "charts")
    (repo / "charts").write_text("not a folder")
    before = tree(repo)
    result = cli("generate", str(repo))
    assert_refused(result, "charts", "this is a file, but mcg-gen needs a folder here for charts/")
    assert tree(repo) == before


@pytest.mark.parametrize("force", [False, True], ids=["plain", "force"])
def test_a_symlink_in_place_of_a_generated_file(
    repo: Path, tmp_path: Path, cli: Callable[..., Result], force: bool
) -> None:
    victim = tmp_path / "victim.yaml"
    victim.write_text("precious: true\n")
    (repo / "values-hub.yaml").unlink()
    (repo / "values-hub.yaml").symlink_to(victim)
    before = tree(repo)
    result = cli("generate", str(repo), *(["--force"] if force else []))
    assert_refused(result, "values-hub.yaml", "refusing to write through a symbolic")
    assert victim.read_text() == "precious: true\n"
    assert tree(repo) == before
    assert (repo / "values-hub.yaml").is_symlink()


def test_an_edited_file_under_force_is_backed_up_even_when_odd(
    repo: Path, cli: Callable[..., Result]
) -> None:
    """An edited file whose content is not UTF-8 is still backed up byte for byte."""
    odd = b"# edited by hand \xff\xfe\x00\n"
    (repo / "values-hub.yaml").write_bytes(odd)
    kept = cli("generate", str(repo))
    assert kept.code == 1  # the spec changed it too, and binary content cannot be merged
    assert "values-hub.yaml: edited by hand and changed by the spec" in kept.out
    assert (repo / "values-hub.yaml").read_bytes() == odd  # kept without --force
    result = cli("generate", str(repo), "--force")
    assert result.code == 0, result.err
    [backup] = (repo / ".mcg-gen/backups").rglob("values-hub.yaml")
    assert backup.read_bytes() == odd
    assert "release-2.15" in (repo / "values-hub.yaml").read_text()


def run_without_root_powers(repo: Path, *args: str) -> Result:
    """`mcg-gen ARGS` subject to file permissions: root ignores them, so as root the command
    runs without the capabilities that override them."""
    prefix: list[str] = []
    if os.geteuid() == 0:
        setpriv = shutil.which("setpriv")
        if setpriv is None:
            pytest.skip("running as root without setpriv: file permissions cannot apply")
        prefix = [setpriv, "--bounding-set=-dac_override,-dac_read_search", "--"]
    completed = subprocess.run(
        [*prefix, sys.executable, "-m", "generator", *args],
        cwd=repo,
        env={**os.environ, "PYTHONPATH": str(PROJECT)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    return Result(completed.returncode, completed.stdout, completed.stderr)


def test_a_read_only_file(repo: Path) -> None:
    (repo / "values-hub.yaml").chmod(0o444)
    before = tree(repo)
    result = run_without_root_powers(repo, "generate")
    assert_refused(result, "values-hub.yaml", "this file is read-only")
    assert tree(repo) == before
    (repo / "values-hub.yaml").chmod(0o644)
    assert run_without_root_powers(repo, "generate").code == 0


def test_a_read_only_folder(repo: Path) -> None:
    folder = repo / "charts" / "all"
    folder.chmod(0o555)
    try:
        before = tree(repo)
        result = run_without_root_powers(repo, "generate")
        assert_refused(
            result,
            "charts/all/extra/.helmignore",
            "mcg-gen cannot write here: the folder charts/all",
        )
        assert tree(repo) == before
    finally:
        folder.chmod(0o755)


def test_an_unwritable_state_folder_changes_nothing(repo: Path) -> None:
    state_dir = repo / ".mcg-gen"
    state_dir.chmod(0o555)
    try:
        before = tree(repo)
        result = run_without_root_powers(repo, "generate")
        assert result.code == 1
        assert "Traceback" not in result.err
        assert result.err.startswith("mcg-gen: error: .: cannot write the repository: "), result.err
        assert "hint: nothing was changed" in result.err
        assert tree(repo) == before
    finally:
        state_dir.chmod(0o755)


def test_new_refuses_a_symlinked_output_folder(tmp_path: Path, cli: Callable[..., Result]) -> None:
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "link").symlink_to(tmp_path / "elsewhere")
    result = cli("new", "demo", "--output", str(tmp_path / "link"), "--no-git")
    assert result.code == 2
    assert result.err.startswith(f"mcg-gen: error: {tmp_path / 'link'} is a symbolic link\n")
    assert list((tmp_path / "elsewhere").iterdir()) == []


@pytest.mark.parametrize("spec", ["/dev/null", "/tmp"], ids=["device", "folder"])
def test_new_refuses_a_spec_that_is_not_a_file(
    spec: str, tmp_path: Path, cli: Callable[..., Result]
) -> None:
    result = cli("new", "demo", "--spec", spec, "--output", str(tmp_path / "out"))
    assert result.code == 2
    assert result.err == f"mcg-gen: error: spec file {spec} is not a regular file\n"
    assert list(tmp_path.iterdir()) == []


def test_new_in_a_read_only_folder(tmp_path: Path) -> None:
    parent = tmp_path / "read-only"
    parent.mkdir()
    parent.chmod(0o555)
    try:
        result = run_without_root_powers(tmp_path, "new", "demo", "--output", "read-only/demo")
        assert result.code == 1
        assert result.err.startswith("mcg-gen: error: cannot create read-only/demo: Permission")
        assert "Traceback" not in result.err
        assert list(parent.iterdir()) == []
    finally:
        parent.chmod(0o755)
