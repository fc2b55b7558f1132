"""Secrets stay secret: mcg-gen writes no secret value into the repository, its state or caches,
or its output; `validate` finds secret material committed to a repository without repeating it."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import Result
from tests.test_hostile_inputs import base_spec, run_limited

# Distinctive values: if any shows up in a file or an output, it leaked.
FILLED = {
    "db-password": "Zq8-leak-canary-password-7731",
    "api-token": "Zq8-leak-canary-token-5518",
}
PRIVATE_KEY_TEXT = "Zq8-leak-canary-key-9902"


def spec_with_secrets() -> str:
    spec = yaml.safe_load(base_spec())
    spec["secrets"]["config-demo"]["fields"] = {
        "secret": "generate",
        "db-password": "required",
        "api-token": "prompt",
        "tls-key": {"source": "file", "path": "~/.ssh/demo-key"},
    }
    return yaml.safe_dump(spec, sort_keys=False)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    spec = tmp_path / "spec.yaml"
    spec.write_text(spec_with_secrets())
    target = tmp_path / "demo"
    result = run_limited("new", "demo", "--spec", str(spec), "--output", str(target))
    assert result.code == 0, result.err
    return target


def everything_under(folder: Path) -> str:
    """Every file below `folder` (nothing is committed, so .git holds no content of ours)."""
    return "\n".join(
        path.read_bytes().decode("utf-8", "replace")
        for path in folder.rglob("*")
        if path.is_file() and ".git" not in path.relative_to(folder).parts
    )


def test_filled_in_secrets_never_reach_the_repository_state_or_output(
    repo: Path, tmp_path: Path
) -> None:
    home = tmp_path / "home"
    (home / ".ssh").mkdir(parents=True)
    (home / ".ssh" / "demo-key").write_text(f"-----BEGIN PRIVATE KEY-----\n{PRIVATE_KEY_TEXT}\n")
    template = yaml.safe_load((repo / "values-secret.yaml.template").read_text())
    for field in template["secrets"][0]["fields"]:
        if field["name"] in FILLED:
            field.pop("onMissingValue", None)
            field["value"] = FILLED[field["name"]]
    filled = home / "values-secret-demo.yaml"
    filled.write_text(yaml.safe_dump(template))
    filled.chmod(0o600)
    env = {
        "HOME": str(home),
        "XDG_CACHE_HOME": str(home / ".cache"),
        "MCG_GEN_CACHE_DIR": str(home / "mcg-gen-cache"),
    }

    outputs: list[Result] = [
        run_limited("secrets", "check", str(repo), env=env),
        run_limited("generate", str(repo), env=env),
        run_limited("generate", str(repo), "--force", "--diff", env=env),
        run_limited("validate", str(repo), env=env),
        run_limited("validate", str(repo), "--format", "json", env=env),
        run_limited("render", str(repo), "--group", "hub", "--apps", env=env),
    ]
    assert outputs[0].code == 0, outputs[0].err  # the check did read the values
    shown = "\n".join(result.out + result.err for result in outputs)
    filled.unlink()  # what is left in the home folder was written by mcg-gen (caches)
    (home / ".ssh" / "demo-key").unlink()
    stored = everything_under(repo) + everything_under(home)
    for value in [*FILLED.values(), PRIVATE_KEY_TEXT]:
        assert value not in shown
        assert value not in stored
    state = json.loads((repo / ".mcg-gen/state.json").read_text())
    assert set(state) == {"version", "generator", "files"}
    assert all(len(digest) == 64 for digest in state["files"].values())


PLANTED = [
    pytest.param(
        "values-global.yaml",
        "  dbPassword: Xk9vT2mQ7rL4pZ8wYe3\n",
        "warning",
        "'dbPassword' holds what looks like a real secret value",
        id="high-entropy-password-in-values",
    ),
    pytest.param(
        "values-hub.yaml",
        "# token: ghp_" + "a1B2c3D4e5" * 4 + "\n",
        "error",
        "a GitHub token is committed in plain text",
        id="github-token-in-a-comment",
    ),
    pytest.param(
        "values-group-one.yaml",
        "# aws: AKIA" + "ABCDEFGHIJKLMNOP" + "\n",
        "error",
        "an AWS access key id is committed in plain text",
        id="aws-key",
    ),
    pytest.param(
        "charts/all/hello-world/values.yaml",
        "tls:\n  key: |\n    -----BEGIN RSA PRIVATE KEY-----\n    MIIEow\n",
        "error",
        "a private key is committed in plain text",
        id="private-key-in-chart-values",
    ),
    pytest.param(
        "charts/all/config-demo/values.yaml",
        "apiKey: 9f8e7d6c5b4a39281706f5e4d3c2b1a0f9e8d7c6b5a4\n",
        "warning",
        "'apiKey' holds what looks like a real secret value",
        id="hex-api-key-in-chart-values",
    ),
    pytest.param(
        "charts/all/hello-world/templates/_helpers.tpl",
        "{{/* eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N */}}\n",
        "error",
        "a JSON web token is committed in plain text",
        id="jwt-in-a-helper",
    ),
]


@pytest.mark.parametrize(("file", "text", "severity", "message"), PLANTED)
def test_validate_finds_planted_secrets_without_repeating_them(
    repo: Path, file: str, text: str, severity: str, message: str
) -> None:
    path = repo / file
    lines_before = len(path.read_text().splitlines())
    path.write_text(path.read_text() + text)
    secret_line = lines_before + next(
        number
        for number, line in enumerate(text.splitlines(), start=1)
        if any(mark in line for mark in ("BEGIN", "ghp_", "AKIA", "Password", "apiKey", "eyJ"))
    )
    secret = next(
        word.strip("'\"")
        for word in text.split()
        if word.startswith(("ghp_", "AKIA", "Xk9", "9f8e", "eyJ", "MIIE"))
    )
    result = run_limited("validate", str(repo), "--format", "json")
    findings = json.loads(result.out)["findings"]
    [finding] = [f for f in findings if f["rule"] == "secrets/plaintext-value"]
    assert (finding["file"], finding["line"], finding["severity"]) == (file, secret_line, severity)
    assert message in finding["message"]
    if severity == "error":
        assert result.code == 1
    for fmt in ("text", "json", "sarif", "github", "junit"):
        shown = run_limited("validate", str(repo), "--format", fmt)
        assert secret not in shown.out + shown.err, fmt


@pytest.mark.parametrize(
    "where", ["values-secret.yaml", "values-secret-prod.yml", "overrides/values-secret-demo.yaml"]
)
def test_a_filled_in_values_secret_file_in_the_repository_is_an_error(
    repo: Path, where: str
) -> None:
    path = repo / where
    path.parent.mkdir(exist_ok=True)
    path.write_text("version: '2.0'\nsecrets: []\n")
    result = run_limited("validate", str(repo), "--format", "json")
    assert result.code == 1
    findings = json.loads(result.out)["findings"]
    [committed] = [f for f in findings if f["rule"] == "secrets/values-secret-committed"]
    assert committed["file"] == where
    assert committed["severity"] == "error"
    assert not [f for f in findings if f["rule"] == "secrets/values-secret-not-ignored"]


def findings_of(repo: Path) -> list[dict[str, Any]]:
    result = run_limited("validate", str(repo), "--format", "json")
    assert result.code in (0, 1), result.err
    findings: list[dict[str, Any]] = json.loads(result.out)["findings"]
    return findings


def test_a_gitignore_that_lets_values_secret_files_in_is_a_warning(repo: Path) -> None:
    assert not [f for f in findings_of(repo) if f["rule"].startswith("secrets/")]
    gitignore = repo / ".gitignore"
    gitignore.write_text(
        "\n".join(
            line for line in gitignore.read_text().splitlines() if "values-secret" not in line
        )
        + "\n"
    )
    [warning] = [f for f in findings_of(repo) if f["rule"] == "secrets/values-secret-not-ignored"]
    assert warning["severity"] == "warning"
    assert warning["file"] == ".gitignore"
    assert "values-secret.yaml" in warning["message"]
    gitignore.write_text(gitignore.read_text() + "!values-secret.yaml\nvalues-secret-*.yaml\n")
    [warning] = [f for f in findings_of(repo) if f["rule"] == "secrets/values-secret-not-ignored"]
    assert "values-secret.yaml" in warning["message"]
    assert "values-secret-pattern.yaml" not in warning["message"]


def test_a_repository_without_git_is_not_judged_on_its_gitignore(repo: Path) -> None:
    shutil.rmtree(repo / ".git")
    (repo / ".gitignore").unlink()
    assert not [f for f in findings_of(repo) if f["rule"].startswith("secrets/")]


def test_a_symlink_out_of_the_repository_is_not_scanned(repo: Path, tmp_path: Path) -> None:
    """Whatever it points at is not the repository's: validate neither reads nor judges it."""
    outside = tmp_path / "outside.yaml"
    outside.write_text("key: |\n  -----BEGIN PRIVATE KEY-----\n")
    (repo / "charts" / "stray.yaml").symlink_to(outside)
    findings = findings_of(repo)
    assert not [f for f in findings if f["rule"] == "secrets/plaintext-value"]
    shutil.copyfile(outside, repo / "charts" / "inside.yaml")  # the same text inside is found
    assert [f["file"] for f in findings_of(repo) if f["rule"] == "secrets/plaintext-value"] == [
        "charts/inside.yaml"
    ]
