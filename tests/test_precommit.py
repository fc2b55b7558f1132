"""Generated repositories run mcg-gen through real pre-commit, in both forms, and their CI files
hold together: pre-commit installs mcg-gen from a clone of this project used as the hook
repository (remote form) or from a wheel on pip's find-links (local form, air-gapped), offline,
and blocks a bad commit; every step of the generated workflows runs here where it can."""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import pytest
import yaml

from generator import SOURCE_REPOSITORY, __version__, release_tag
from generator.emit.tooling import HOOKS, PIPELINES
from generator.model import layout
from tests.conftest import PROJECT

BIN = Path(sys.executable).parent
GIT_IDENTITY = {
    "GIT_AUTHOR_NAME": "Test",
    "GIT_AUTHOR_EMAIL": "test@example.com",
    "GIT_COMMITTER_NAME": "Test",
    "GIT_COMMITTER_EMAIL": "test@example.com",
}

needs_tools = pytest.mark.skipif(
    shutil.which("mcg-gen", path=str(BIN)) is None or shutil.which("git") is None,
    reason="needs git and mcg-gen installed next to this Python (pip install -e .)",
)


def run(
    args: list[str], cwd: Path, env: dict[str, str], timeout: float = 600
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        args, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )


def shell(command: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """A CI step's `run:` line, as the runner's bash runs it."""
    return run(["bash", "-e", "-c", command], cwd, env)


def base_environment(home: Path) -> dict[str, str]:
    return {
        **os.environ,
        **GIT_IDENTITY,
        "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        "PRE_COMMIT_HOME": str(home / "pre-commit-home"),
        "NO_COLOR": "1",
    }


@pytest.fixture(scope="module")
def hook_repository(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """This project's working tree (tracked and new files) committed to a fresh repository and
    tagged with the release tag, as a clone of the published repository would be."""
    if shutil.which("git") is None:
        pytest.skip("needs git")
    clone = tmp_path_factory.mktemp("hook-repository")
    env = base_environment(clone)
    listed = run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], PROJECT, env
    )
    if listed.returncode != 0:
        pytest.skip("this project is not a git checkout")
    for relative in filter(None, listed.stdout.split("\0")):
        source = PROJECT / relative
        if source.is_file():
            (clone / relative).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, clone / relative)
    for command in (
        ["git", "init", "-q"],
        ["git", "add", "-A"],
        ["git", "commit", "-q", "-m", "release"],
        ["git", "tag", release_tag()],
    ):
        assert run(command, clone, env).returncode == 0
    return clone


@pytest.fixture(scope="module")
def wheel_folder(hook_repository: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sdist and wheel of this version, built offline by the release workflow's command."""
    pytest.importorskip("build", reason="needs the 'build' package (pip install -e '.[test]')")
    out = tmp_path_factory.mktemp("dist")
    built = run(
        [sys.executable, "-m", "build", "--outdir", str(out), str(hook_repository)],
        hook_repository,
        base_environment(out),
    )
    assert built.returncode == 0, built.stdout[-3000:] + built.stderr[-3000:]
    return out


def with_wheels(env: dict[str, str], folder: Path) -> dict[str, str]:
    """Offline: pip finds this version's wheel next to the machine's own find-links."""
    links = " ".join(filter(None, [str(folder), env.get("PIP_FIND_LINKS")]))
    return {**env, "PIP_FIND_LINKS": links}


@pytest.fixture(scope="module")
def pre_commit_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Shared by the tests of this module so pre-commit builds each hook environment once."""
    return tmp_path_factory.mktemp("pre-commit-home")


def tooling_block(hooks: str, hook_repository: Path, ci: str = "[github, gitlab]") -> str:
    return f"tooling:\n  hooks: {hooks}\n  hookRepository: {hook_repository.as_uri()}\n  ci: {ci}\n"


def new_repository(tmp_path: Path, env: dict[str, str], tooling: str, *, git: bool = True) -> Path:
    target = tmp_path / "demo"
    created = run(
        [str(BIN / "mcg-gen"), "new", "demo", "--output", str(target)]
        + ([] if git else ["--no-git"]),
        tmp_path,
        env,
    )
    assert created.returncode == 0, created.stderr
    with (target / layout.SPEC_FILE).open("a") as spec:
        spec.write(tooling)
    generated = run([str(BIN / "mcg-gen"), "generate"], target, env)
    assert generated.returncode == 0, generated.stdout + generated.stderr
    return target


@needs_tools
@pytest.mark.parametrize("form", ["remote", "local"])
def test_pre_commit_blocks_bad_commits_and_passes_good_ones(
    form: str,
    tmp_path: Path,
    hook_repository: Path,
    wheel_folder: Path,
    pre_commit_home: Path,
) -> None:
    env = {**base_environment(tmp_path), "PRE_COMMIT_HOME": str(pre_commit_home)}
    env = with_wheels(env, wheel_folder)
    target = new_repository(tmp_path, env, tooling_block(form, hook_repository))
    config = yaml.safe_load((target / layout.PRE_COMMIT_CONFIG).read_text())
    [repo] = config["repos"]
    if form == "remote":
        assert repo == {
            "repo": hook_repository.as_uri(),
            "rev": release_tag(),
            "hooks": [{"id": hook.id} for hook in HOOKS],
        }
    else:
        assert repo["repo"] == "local"
        assert {hook["language"] for hook in repo["hooks"]} == {"python"}
        assert {tuple(hook["additional_dependencies"]) for hook in repo["hooks"]} == {
            (f"mcg-gen=={__version__}",)
        }
    # The hooks must not depend on an mcg-gen on PATH.
    env["PATH"] = os.environ.get("PATH", "")
    python = sys.executable
    installed = run([python, "-m", "pre_commit", "install"], target, env)
    assert installed.returncode == 0, installed.stdout + installed.stderr

    assert run(["git", "add", "-A"], target, env).returncode == 0
    commit = run(["git", "commit", "-q", "-m", "initial"], target, env)
    output = commit.stdout + commit.stderr
    assert commit.returncode == 0, output
    assert "mcg-gen validate" in output and "mcg-gen generate --check" in output
    assert run(["git", "log", "--oneline"], target, env).stdout.count("\n") == 1

    values = target / "values-group-one.yaml"
    values.write_text(values.read_text().replace("name: hello-world", "nme: hello-world", 1))
    assert run(["git", "add", "-A"], target, env).returncode == 0
    typo = run(["git", "commit", "-q", "-m", "typo"], target, env)
    assert typo.returncode != 0
    assert "values/unknown-key" in typo.stdout + typo.stderr
    assert "values-group-one.yaml" in typo.stdout + typo.stderr
    assert run(["git", "reset", "-q"], target, env).returncode == 0
    assert run(["git", "checkout", "--", "."], target, env).returncode == 0

    # A spec change without `mcg-gen generate`: the generate --check hook blocks it.
    spec = target / layout.SPEC_FILE
    spec.write_text(spec.read_text().replace("  - name: group-one", "  - name: group-two", 1))
    assert run(["git", "add", "-A"], target, env).returncode == 0
    stale = run(["git", "commit", "-q", "-m", "stale"], target, env)
    assert stale.returncode != 0
    assert "not up to date with pattern.yaml" in stale.stdout + stale.stderr
    assert run(["git", "log", "--oneline"], target, env).stdout.count("\n") == 1


def test_this_project_offers_the_hooks_generated_repositories_use() -> None:
    offered = yaml.safe_load((PROJECT / ".pre-commit-hooks.yaml").read_text())
    assert [
        {key: hook[key] for key in ("id", "name", "description", "entry")} for hook in offered
    ] == [
        {"id": h.id, "name": h.name, "description": h.description, "entry": h.entry} for h in HOOKS
    ]
    for hook in offered:
        assert hook["language"] == "python"
        assert hook["pass_filenames"] is False
        assert hook["always_run"] is True


def test_one_version_string(cli: Any) -> None:
    from importlib.metadata import version

    project = tomllib.loads((PROJECT / "pyproject.toml").read_text())
    assert "version" not in project["project"]
    assert project["project"]["dynamic"] == ["version"]
    assert project["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "generator.__version__"}
    assert version("mcg-gen") == __version__
    shown = cli("--version")
    assert shown.code == 0
    assert shown.out.strip() == f"mcg-gen {__version__}"
    assert release_tag() == f"v{__version__}"
    assert project["project"]["urls"]["Source"] == SOURCE_REPOSITORY
    schema = json.loads((PROJECT / "schemas/pattern.schema.json").read_text())
    tooling = schema["properties"]["tooling"]["properties"]
    assert tooling["hookRepository"]["default"] == SOURCE_REPOSITORY
    assert tooling["ci"]["items"]["enum"] == list(PIPELINES)


def runner_environment(tmp_path: Path, env: dict[str, str]) -> dict[str, str]:
    """A fresh virtual environment first on PATH, as a CI runner's `python` is."""
    venv = tmp_path / "runner"
    assert run([sys.executable, "-m", "venv", str(venv)], tmp_path, env).returncode == 0
    return {**env, "PATH": f"{venv / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}"}


def workflow_triggers(workflow: dict[Any, Any]) -> Any:
    # YAML 1.1 (PyYAML) reads the key `on` as True.
    return workflow.get("on", workflow.get(True))


def checked_uses(step: dict[str, Any]) -> str:
    action, _, ref = step["uses"].partition("@")
    assert ref, f"{action} is not pinned"
    return action


@needs_tools
def test_generated_github_workflow_runs_here(tmp_path: Path, hook_repository: Path) -> None:
    env = base_environment(tmp_path)
    target = new_repository(tmp_path, env, tooling_block("remote", hook_repository), git=False)
    workflow = yaml.safe_load((target / layout.GITHUB_WORKFLOW).read_text())
    assert workflow_triggers(workflow) == {"push": None, "pull_request": None}
    assert workflow["permissions"] == {"contents": "read", "security-events": "write"}
    steps = workflow["jobs"]["validate"]["steps"]
    actions = [checked_uses(step) for step in steps if "uses" in step]
    assert actions == [
        "actions/checkout",
        "actions/setup-python",
        "github/codeql-action/upload-sarif",
    ]
    upload = steps[-1]
    assert upload["with"]["sarif_file"] == "mcg-gen.sarif"
    commands = [step["run"] for step in steps if "run" in step]
    install, *checks = commands
    assert shlex.split(install) == [
        "python",
        "-m",
        "pip",
        "install",
        f"git+{hook_repository.as_uri()}@{release_tag()}",
    ]
    assert checks == [
        "mcg-gen generate --check",
        "mcg-gen validate --strict --format sarif > mcg-gen.sarif",
    ]
    # The install step, in a fresh environment and offline: the pinned source serves mcg-gen.
    runner = runner_environment(tmp_path, env)
    installed = shell(install, target, runner)
    assert installed.returncode == 0, installed.stdout[-3000:] + installed.stderr[-3000:]
    for command in checks:
        done = shell(command, target, runner)
        assert done.returncode == 0, command + done.stdout + done.stderr
    sarif = json.loads((target / "mcg-gen.sarif").read_text())
    assert sarif["version"] == "2.1.0"
    assert not [r for r in sarif["runs"][0]["results"] if r["level"] == "error"]

    values = target / "values-group-one.yaml"
    values.write_text(values.read_text().replace("name: hello-world", "nme: hello-world", 1))
    assert shell(checks[-1], target, runner).returncode == 1
    results = json.loads((target / "mcg-gen.sarif").read_text())["runs"][0]["results"]
    assert "values/unknown-key" in {result["ruleId"] for result in results}


@needs_tools
def test_generated_gitlab_pipeline_runs_here(
    tmp_path: Path, hook_repository: Path, wheel_folder: Path
) -> None:
    env = base_environment(tmp_path)
    target = new_repository(
        tmp_path, env, tooling_block("local", hook_repository, "[gitlab]"), git=False
    )
    assert not (target / layout.GITHUB_WORKFLOW).exists()
    pipeline = yaml.safe_load((target / layout.GITLAB_PIPELINE).read_text())
    sources = [rule["if"] for rule in pipeline["workflow"]["rules"]]
    assert '$CI_PIPELINE_SOURCE == "merge_request_event"' in sources
    template = pipeline[".mcg-gen"]
    assert template["before_script"] == [f"python -m pip install mcg-gen=={__version__}"]
    jobs = {name: job for name, job in pipeline.items() if not name.startswith((".", "workflow"))}
    assert set(jobs) == {"mcg-gen-generate-check", "mcg-gen-validate", "mcg-gen-diff"}
    merge_requests = jobs.pop("mcg-gen-diff")  # needs a merge request: see the diff test
    assert merge_requests["rules"] == [{"if": '$CI_PIPELINE_SOURCE == "merge_request_event"'}]
    assert {job["extends"] for job in jobs.values()} == {".mcg-gen"}
    report = jobs["mcg-gen-validate"]["artifacts"]["reports"]["junit"]
    # Air-gapped: the runner's package index (here a find-links folder) serves this version.
    runner = runner_environment(tmp_path, with_wheels(env, wheel_folder))
    for command in [
        *template["before_script"],
        *(c for job in jobs.values() for c in job["script"]),
    ]:
        done = shell(command, target, runner)
        assert done.returncode == 0, command + done.stdout[-3000:] + done.stderr[-3000:]
    assert ElementTree.parse(target / report).getroot().tag == "testsuites"


def test_release_workflow_builds_what_it_publishes(
    tmp_path: Path, hook_repository: Path, wheel_folder: Path
) -> None:
    workflow = yaml.safe_load((PROJECT / ".github/workflows/release.yaml").read_text())
    assert workflow_triggers(workflow) == {"push": {"tags": ["v*"]}}
    assert workflow["permissions"] == {"contents": "read"}
    build, publish = workflow["jobs"]["build"], workflow["jobs"]["publish"]
    assert publish["needs"] == "build"
    assert publish["permissions"]["id-token"] == "write"
    assert "pypa/gh-action-pypi-publish" in [
        checked_uses(s) for s in publish["steps"] if "uses" in s
    ]
    runs = {step["name"]: step["run"] for step in build["steps"] if "run" in step}
    env = base_environment(tmp_path)
    tag_check = runs["The tag is the version"]
    for tag, code in ((release_tag(), 0), ("v0.0.0-not-this", 1)):
        done = shell(tag_check, hook_repository, {**env, "GITHUB_REF_NAME": tag})
        assert done.returncode == code, done.stderr
    assert "python -m build --outdir dist/" in runs["Build the sdist and the wheel"]
    built = sorted(path.name for path in wheel_folder.iterdir())
    assert built == [
        f"mcg_gen-{__version__}-py3-none-any.whl",
        f"mcg_gen-{__version__}.tar.gz",
    ]
    with zipfile.ZipFile(wheel_folder / built[0]) as wheel:
        names = set(wheel.namelist())
    shipped = {
        f"generator/templates/{path.relative_to(PROJECT / 'generator/templates').as_posix()}"
        for path in (PROJECT / "generator/templates").rglob("*")
        if path.is_file()
    }
    assert shipped <= names
    assert "generator/assets/schemas/pattern.schema.json" in names


@needs_tools
def test_pull_requests_get_what_they_change_in_each_group(
    tmp_path: Path, hook_repository: Path
) -> None:
    """The diff steps of both pipelines, run here on a pull request built with real git: a
    published main (a bare origin) and a branch that changes one group."""
    env = base_environment(tmp_path)
    target = new_repository(tmp_path, env, tooling_block("remote", hook_repository))
    origin = tmp_path / "origin.git"
    for command in (
        ["git", "init", "-q", "--bare", str(origin)],
        ["git", "checkout", "-q", "-b", "main"],
        ["git", "add", "-A"],
        ["git", "commit", "-q", "-m", "initial"],
        ["git", "remote", "add", "origin", str(origin)],
        ["git", "push", "-q", "origin", "main"],
        ["git", "checkout", "-q", "-b", "feature"],
    ):
        done = run(command, target, env)
        assert done.returncode == 0, done.stderr
    values = target / "values-group-one.yaml"
    values.write_text(values.read_text().replace("namespace: hello-world", "namespace: hello", 1))
    assert run(["git", "commit", "-q", "-am", "move hello-world"], target, env).returncode == 0

    workflow = yaml.safe_load((target / layout.GITHUB_WORKFLOW).read_text())
    job = workflow["jobs"]["diff"]
    assert job["if"] == "github.event_name == 'pull_request'"
    assert job["permissions"] == {"contents": "read", "pull-requests": "write"}
    assert job["steps"][0]["with"]["fetch-depth"] == 0
    named = {step.get("name", ""): step for step in job["steps"]}
    diff_step = named["What the change does to each cluster group"]
    assert diff_step["env"] == {"BASE_REF": "${{ github.base_ref }}"}
    comment = named["Comment on the pull request"]
    assert shlex.split(comment["run"])[:3] == ["gh", "pr", "comment"]
    assert comment["continue-on-error"] is True
    done = shell(diff_step["run"], target, {**env, "BASE_REF": "main"})
    assert done.returncode == 0, done.stdout + done.stderr
    github_comment = (target / "mcg-gen-diff.md").read_text()
    assert "group-one" in github_comment

    pipeline = yaml.safe_load((target / layout.GITLAB_PIPELINE).read_text())
    merge_request = {**env, "CI_MERGE_REQUEST_TARGET_BRANCH_NAME": "main"}
    assert run(["git", "update-ref", "-d", "refs/remotes/origin/main"], target, env).returncode == 0
    (target / "mcg-gen-diff.md").unlink()
    for command in pipeline["mcg-gen-diff"]["script"]:
        done = shell(command, target, merge_request)
        assert done.returncode == 0, command + done.stdout + done.stderr
    assert (target / "mcg-gen-diff.md").read_text() == github_comment


def test_generate_records_the_tooling_choice_in_the_spec(tmp_path: Path, cli: Any) -> None:
    repo = tmp_path / "demo"
    assert cli("new", "demo", "--output", str(repo), "--no-git").code == 0
    before = (repo / layout.SPEC_FILE).read_text()
    result = cli("generate", str(repo), "--hooks", "local", "--ci", "gitlab")
    assert result.code == 0, result.err
    spec = (repo / layout.SPEC_FILE).read_text()
    assert spec.startswith(before.rstrip("\n"))  # the user's text and comments are kept
    assert yaml.safe_load(spec)["tooling"] == {"hooks": "local", "ci": ["gitlab"]}
    [local] = yaml.safe_load((repo / layout.PRE_COMMIT_CONFIG).read_text())["repos"]
    assert local["repo"] == "local"
    assert (repo / layout.GITLAB_PIPELINE).is_file()
    assert not (repo / layout.GITHUB_WORKFLOW).exists()
    # later runs, validate included, see the same choice: nothing is out of date
    assert cli("generate", str(repo), "--check").code == 0
    refused = cli("generate", str(repo), "--check", "--hooks", "remote")
    assert refused.code == 2
    assert "cannot be combined" in refused.err
    assert cli("generate", str(repo), "--ci", "jenkins").code == 2
