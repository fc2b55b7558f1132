"""bench/synthetic.py: valid specs of the requested size, repositories that render that much."""

from __future__ import annotations

import json
from pathlib import Path

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
