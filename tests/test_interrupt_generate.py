"""`mcg-gen generate` killed or interrupted at any moment, or run twice at once: the repository
is as before or fully generated (after the next run's recovery), never a mix; the state file is
always valid JSON."""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from generator import state
from tests.conftest import PROJECT, run_subprocess
from tests.test_hostile_inputs import base_spec, run_limited

ITERATIONS = 12
# The journal's own bookkeeping; everything else in the repository is content.
BOOKKEEPING = {"lock", "journal.json", "journal.json.tmp"}
ENV = {**os.environ, "PYTHONPATH": str(PROJECT)}


def content(repo: Path) -> dict[str, bytes]:
    """Every file a user or Argo CD sees (the journal machinery aside)."""
    return {
        path.relative_to(repo).as_posix(): path.read_bytes()
        for path in sorted(repo.rglob("*"))
        if path.is_file()
        and path.name not in BOOKKEEPING
        and "staging" not in path.relative_to(repo).parts
    }


def bigger_spec() -> str:
    """A change that creates, updates and deletes files: ten new apps, hello-world dropped."""
    spec = yaml.safe_load(base_spec())
    new_apps = [f"app-{i}" for i in range(10)]
    spec["hub"]["apps"] = ["config-demo", *new_apps]
    spec["groups"][0]["apps"] = ["config-demo", *new_apps[:5]]
    spec["apps"] = {"config-demo": spec["apps"]["config-demo"], **{a: {} for a in new_apps}}
    return yaml.safe_dump(spec, sort_keys=False)


def wait_until_it_holds_the_lock(process: subprocess.Popen[str], repo: Path) -> None:
    """Wait until mcg-gen's own code runs (it holds the repository lock): a Ctrl-C while Python
    itself is still starting is Python's business (it prints a traceback for every program), and
    how long start-up takes depends on how busy the machine is."""
    lock = (repo / ".mcg-gen" / "lock").resolve()
    descriptors = Path(f"/proc/{process.pid}/fd")
    deadline = time.monotonic() + 60
    while process.poll() is None and time.monotonic() < deadline:
        try:
            if any(Path(os.readlink(fd)) == lock for fd in descriptors.iterdir()):
                return
        except OSError:  # a descriptor closed while we looked
            pass
        time.sleep(0.002)


@pytest.fixture(scope="module")
def states(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, bytes], float]:
    """A repository whose pattern.yaml was just changed, the content a full generate gives it,
    and how long that generate takes."""
    folder = tmp_path_factory.mktemp("interrupt")
    spec = folder / "spec.yaml"
    spec.write_text(base_spec())
    before = folder / "before"
    result = run_limited("new", "demo", "--spec", str(spec), "--output", str(before), "--no-git")
    assert result.code == 0, result.err
    (before / "pattern.yaml").write_text(bigger_spec())
    after = folder / "after"
    shutil.copytree(before, after)
    started = time.monotonic()
    result = run_subprocess("generate", cwd=after)
    duration = time.monotonic() - started
    assert result.code == 0, result.err
    assert "created" in result.out and "removed" in result.out
    return before, content(after), duration


def start_generate(repo: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "generator", "generate"],
        cwd=repo,
        env=ENV,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def assert_state_file_valid(repo: Path) -> None:
    path = repo / state.STATE_FILE
    document = json.loads(path.read_text())  # never half-written
    assert document["files"] and all(len(h) == 64 for h in document["files"].values())


def test_sigkill_at_random_moments_never_leaves_a_mix(
    states: tuple[Path, dict[str, bytes], float], tmp_path: Path
) -> None:
    """Delays span the part of the run that writes: from about when a run that writes nothing
    (--check) ends to a bit after a full run ends; each recovery run re-measures the latter."""
    pristine, generated, duration = states
    before = content(pristine)
    started = time.monotonic()
    assert run_subprocess("generate", "--check", cwd=pristine).code == 1
    planning = time.monotonic() - started
    rng = random.Random(7)
    for iteration in range(ITERATIONS):
        repo = tmp_path / f"run-{iteration}"
        shutil.copytree(pristine, repo)
        process = start_generate(repo)
        time.sleep(rng.uniform(0.8 * planning, max(planning, 1.2 * duration)))
        process.kill()
        process.communicate()
        assert_state_file_valid(repo)
        untouched = content(repo) == before
        if not (repo / ".mcg-gen" / "journal.json").exists():
            # killed before the commit point, or after the run finished: nothing in between
            assert untouched or content(repo) == generated, f"iteration {iteration}: mixed tree"
        started = time.monotonic()
        result = run_subprocess("generate", cwd=repo)
        if untouched:  # a full run
            duration = time.monotonic() - started
        assert result.code == 0, result.err
        assert content(repo) == generated, f"iteration {iteration}: recovery incomplete"
        assert_state_file_valid(repo)
        assert not (repo / ".mcg-gen" / "staging").exists()


def test_ctrl_c_at_random_moments_is_clean(
    states: tuple[Path, dict[str, bytes], float], tmp_path: Path
) -> None:
    """Ctrl-C waits while files are moved into place: no journal is left behind, no traceback."""
    pristine, generated, duration = states
    before = content(pristine)
    rng = random.Random(11)
    for iteration in range(ITERATIONS):
        repo = tmp_path / f"run-{iteration}"
        shutil.copytree(pristine, repo)
        process = start_generate(repo)
        wait_until_it_holds_the_lock(process, repo)
        time.sleep(rng.uniform(0, duration))
        process.send_signal(signal.SIGINT)
        _, err = process.communicate()
        # -SIGINT: the signal came while Python itself was shutting down
        assert process.returncode in (0, 130, -signal.SIGINT), (iteration, err)
        assert "Traceback" not in err, err
        if process.returncode == 130:
            assert err.strip() == "mcg-gen: interrupted"
        assert not (repo / ".mcg-gen" / "journal.json").exists()
        assert content(repo) in (before, generated), f"iteration {iteration}: mixed tree"
        assert_state_file_valid(repo)


def test_a_second_process_is_refused_while_the_first_holds_the_lock(
    states: tuple[Path, dict[str, bytes], float], tmp_path: Path
) -> None:
    pristine, _, _ = states
    repo = tmp_path / "repo"
    shutil.copytree(pristine, repo)
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys; from pathlib import Path; from generator import state\n"
            "with state.repository_lock(Path(sys.argv[1])):\n"
            "    print('locked', flush=True); sys.stdin.read()",
            str(repo),
        ],
        env=ENV,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "locked\n"
        before = content(repo)
        result = run_subprocess("generate", cwd=repo)
        assert result.code == 1
        assert result.err.startswith(
            f"mcg-gen: error: .: another mcg-gen run (pid {holder.pid}) is writing this repository"
        ), result.err
        assert "hint: wait for it to finish" in result.err
        assert content(repo) == before
    finally:
        holder.communicate("")
    assert run_subprocess("generate", cwd=repo).code == 0  # the lock dies with its holder


def test_two_generate_runs_started_together(
    states: tuple[Path, dict[str, bytes], float], tmp_path: Path
) -> None:
    """Whichever gets the lock writes; the other writes nothing or finds nothing to do."""
    pristine, generated, _ = states
    for iteration in range(3):
        repo = tmp_path / f"run-{iteration}"
        shutil.copytree(pristine, repo)
        first, second = start_generate(repo), start_generate(repo)
        outcomes = [(p.communicate()[1], p.returncode) for p in (first, second)]
        for err, code in outcomes:
            assert code == 0 or (code == 1 and "another mcg-gen run" in err), err
        assert any(code == 0 for _, code in outcomes)
        assert content(repo) == generated
        assert_state_file_valid(repo)
