"""A rendered object that repeats a key (older clustergroup charts emit `repo.resources` twice)
renders as Helm and Argo CD read it, last one wins, and is reported, never an abort."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from generator.model.facts import Facts
from generator.render import render_group
from tests.conftest import PROJECT, Result

FIXTURE = PROJECT / "tests/fixtures/reference-mcg"
TEMPLATE = """\
apiVersion: v1
kind: ConfigMap
metadata:
  name: repeated
data:
  resources: first
  kept: "yes"
  resources: last
"""


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    copy = tmp_path / "repo"
    shutil.copytree(FIXTURE, copy)
    (copy / "charts/all/hello-world/templates/repeated.yaml").write_text(TEMPLATE)
    return copy


def test_the_last_value_is_rendered_and_the_repetition_recorded(repo: Path) -> None:
    resources = render_group(repo, "group-one", Facts(), apps=True)
    (config_map,) = [r for r in resources if r.kind == "ConfigMap" and r.name == "repeated"]
    assert config_map.body["data"] == {"resources": "last", "kept": "yes"}
    assert config_map.duplicate_keys == (("data.resources", 8),)
    # the rest of the group is still there
    assert any(r.kind == "Application" and r.name == "hello-world" for r in resources)


def test_validate_reports_it_as_a_warning_at_the_repeated_key(
    repo: Path, cli: Callable[..., Result]
) -> None:
    result = cli("validate", str(repo), "--format", "json")
    findings = json.loads(result.out)["findings"]
    repeated = [f for f in findings if f["rule"] == "chart/duplicate-key"]
    # hub and group-one both deploy hello-world; a rendered object's line is Helm's output,
    # which validate never shows as a template line
    assert (
        sorted((f["severity"], f["file"], f["line"]) for f in repeated)
        == [("warning", "charts/all/hello-world/templates/repeated.yaml", 0)] * 2
    )
    assert all("'data.resources'" in f["message"] for f in repeated)
    assert not any(
        f["rule"].startswith("chart/render") and "hello-world" in f["file"] for f in findings
    )


def test_render_shows_the_object_and_warns(repo: Path, cli: Callable[..., Result]) -> None:
    result = cli("render", str(repo), "-g", "group-one", "--apps")
    assert result.code == 0, result.err
    assert "resources: last" in result.out
    assert (
        "warning: charts/all/hello-world/templates/repeated.yaml:8: ConfigMap 'repeated' on "
        "group 'group-one' has the key 'data.resources' more than once" in result.err
    )
