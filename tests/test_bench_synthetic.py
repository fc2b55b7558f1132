"""bench/synthetic.py: valid specs of the requested size, repositories that render that much."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench import floor, synthetic
from bench.synthetic import Size
from generator.model.facts import Facts
from generator.model.pattern import ClusterGroup, Pattern
from generator.model.spec import parse_spec
from generator.render import render_group


def _own_apps(pattern: Pattern, group: ClusterGroup) -> list[str]:
    """The group's apps from the spec, without the platform apps mcg-gen adds."""
    return sorted(app for app in group.apps if not pattern.apps[app].platform)


def test_spec_has_the_requested_groups_apps_and_some_secrets() -> None:
    size = Size("t", groups=4, apps_per_group=6)

    pattern = parse_spec(synthetic.pattern_text(size))

    groups = pattern.cluster_groups
    assert [group.name for group in groups] == synthetic.group_names(size)
    assert [len(_own_apps(pattern, group)) for group in groups] == [6] * 4
    shared = set.intersection(*(set(_own_apps(pattern, group)) for group in groups))
    assert len(shared) == synthetic.shared_app_count(size) == 2
    with_secrets = [app for app in pattern.apps.values() if app.secrets]
    assert 0 < len(with_secrets) < len(pattern.apps)


def test_largest_bench_size_stays_within_the_spec_limits() -> None:
    size = Size("generate-100x50", groups=100, apps_per_group=50)

    pattern = parse_spec(synthetic.pattern_text(size))  # the schema allows at most 2000 apps

    assert len(pattern.cluster_groups) == 100
    assert all(len(_own_apps(pattern, group)) == 50 for group in pattern.cluster_groups)
    assert sum(not app.platform for app in pattern.apps.values()) <= synthetic.MAX_DISTINCT_APPS


def test_repository_renders_the_requested_resources_per_app(tmp_path: Path) -> None:
    size = Size("t", groups=2, apps_per_group=3, resources_per_app=6)
    repo = tmp_path / "repo"

    synthetic.create_repo(size, repo)

    pattern = parse_spec((repo / "pattern.yaml").read_text(encoding="utf-8"))
    rendered: dict[str, list[str]] = {}
    for resource in render_group(repo, "group-001", Facts(), apps=True):
        if resource.source.startswith("charts/"):  # charts/<all or group>/<app>/templates/...
            rendered.setdefault(resource.source.split("/")[2], []).append(resource.kind)
    assert sorted(rendered) == _own_apps(pattern, pattern.group("group-001"))
    for app, kinds in rendered.items():
        secrets = len(pattern.apps[app].secrets)
        assert kinds.count("ExternalSecret") == secrets
        assert len(kinds) - secrets == 6, (app, kinds)
    assert any(pattern.apps[app].secrets for app in rendered)
    check = synthetic.run_mcg_gen("generate", "--check", str(repo), check=False)
    assert check.returncode == 0, check.stderr  # the extra templates leave the repository in sync


def test_floor_renders_what_validate_renders(tmp_path: Path) -> None:
    size = Size("t", groups=2, apps_per_group=3, resources_per_app=6)
    repo = tmp_path / "repo"
    synthetic.create_repo(size, repo)

    counts = floor.render_everything(repo)

    validated = synthetic.run_mcg_gen("validate", "--format", "json", str(repo), check=False)
    assert counts["objects"] == json.loads(validated.stdout)["summary"]["resources"]
    assert counts["renders"] > 2 * 3  # the clustergroup chart and every app, per group


def test_a_runs_table_is_printed_again_from_its_raw_numbers(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`--report` measures nothing: the table comes from the numbers a run wrote, each target
    judged on the sizes it names (the cold-run time on reference and large only)."""
    from bench import run

    machine = {
        "cpu": "a CPU",
        "cores": 2,
        "python": "3.11",
        "mcg_gen_commit": "abc1234",
        "load_average_1min_at_start": 0.5,
        "load_average_1min": 0.7,
    }
    sizes = [
        {"size": "large", "description": "30 groups", "validate_cold_s": 9.5, "resources": 10},
        {"size": "xlarge", "description": "60 groups", "validate_cold_s": 19.0},
    ]
    raw = tmp_path / "run.json"
    raw.write_text(
        json.dumps({"machine": machine, "startup_s": {}, "generate_100x50_s": None, "sizes": sizes})
    )
    assert run.main(["--report", str(raw)]) == 0
    table = capsys.readouterr().out
    assert "mcg-gen abc1234" in table
    [cold] = [
        line for line in table.splitlines() if line.startswith("| `mcg-gen validate`, cold |")
    ]
    assert cold.endswith("| 9.50 s ✓ | 19.00 s |")
