"""The patterns operator's value-file chain for the clustergroup chart: platform, version and
cluster files are merged in the operator's order, through `render` and `validate`."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from generator.model import layout
from generator.model.facts import Facts
from generator.render import render_group
from tests.conftest import PROJECT, Result

FIXTURE = PROJECT / "tests/fixtures/reference-mcg"
LAB = Facts(cluster_platform="Azure", cluster_version="4.18", cluster_name="lab1")
# The chain of the hub on LAB, after values-global.yaml and values-hub.yaml, in merge order.
OVERRIDES = [
    "values-Azure.yaml",
    "values-Azure-4.18.yaml",
    "values-Azure-hub.yaml",
    "values-4.18-hub.yaml",
    "values-lab1.yaml",
]


def channel_file(channel: str) -> str:
    return f"clusterGroup:\n  subscriptions:\n    acm:\n      channel: {channel}\n"


def acm_channel(repo: Path, facts: Facts) -> str:
    resources = render_group(repo, "hub", facts, apps=False)
    (subscription,) = [
        r for r in resources if r.kind == "Subscription" and r.name == "advanced-cluster-management"
    ]
    return str(subscription.body["spec"]["channel"])


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    copy = tmp_path / "repo"
    shutil.copytree(FIXTURE, copy)
    return copy


def test_the_chain_is_the_operators_order() -> None:
    chain = layout.clustergroup_value_files(
        "datacenter", platform="AWS", version="4.18", cluster_name="dc1"
    )
    assert chain == [
        "values-global.yaml",
        "values-datacenter.yaml",
        "values-AWS.yaml",
        "values-AWS-4.18.yaml",
        "values-AWS-datacenter.yaml",
        "values-4.18-datacenter.yaml",
        "values-dc1.yaml",
    ]
    without_facts = layout.clustergroup_value_files("hub", platform="", version="", cluster_name="")
    assert without_facts == ["values-global.yaml", "values-hub.yaml"]


@pytest.mark.parametrize("present", range(len(OVERRIDES)))
def test_each_file_of_the_chain_overrides_the_ones_before_it(repo: Path, present: int) -> None:
    # every file up to `present` sets its own channel: the last one of them wins
    for index, name in enumerate(OVERRIDES[: present + 1]):
        (repo / name).write_text(channel_file(f"from-{index}"))
    assert acm_channel(repo, LAB) == f"from-{present}"


def test_files_of_other_platforms_versions_and_clusters_are_not_read(repo: Path) -> None:
    for name in OVERRIDES:
        (repo / name).write_text(channel_file("wrong"))
    assert acm_channel(repo, Facts()) == "release-2.11"  # AWS 4.16, cluster "hub"


def test_an_ocp_version_file_changes_the_acm_channel_on_that_version_only(repo: Path) -> None:
    # industrial-edge's values-4.18-datacenter.yaml, in this repository's hub
    (repo / "values-4.18-hub.yaml").write_text(channel_file("release-2.12"))
    assert acm_channel(repo, Facts(cluster_version="4.18")) == "release-2.12"
    assert acm_channel(repo, Facts(cluster_version="4.17")) == "release-2.11"


def test_the_cluster_name_defaults_to_the_second_label_of_the_apps_domain(repo: Path) -> None:
    (repo / "values-lab7.yaml").write_text(channel_file("lab7-channel"))
    assert acm_channel(repo, Facts(hub_cluster_domain="apps.lab7.example.org")) == "lab7-channel"


def test_operator_parameters_reach_the_chart(repo: Path) -> None:
    resources = render_group(repo, "hub", LAB, apps=False)
    applications = [r for r in resources if r.kind == "Application"]
    assert applications
    for application in applications:
        spec = application.body["spec"]
        sources = spec.get("sources") or [spec["source"]]
        helm = next(source["helm"] for source in sources if "helm" in source)
        parameters = {p["name"]: p["value"] for p in helm.get("parameters") or []}
        assert parameters.get("global.clusterPlatform") == "Azure"
        assert parameters.get("global.clusterVersion") == "4.18"


def test_a_managed_groups_extra_value_files_follow_its_chain(repo: Path) -> None:
    hub = (repo / "values-hub.yaml").read_text()
    entry = "    exampleRegion:\n      name: group-one\n"
    assert entry in hub
    (repo / "values-hub.yaml").write_text(
        hub.replace(entry, f"{entry}      extraValueFiles:\n        - /extra/group-one.yaml\n")
    )
    (repo / "extra").mkdir()
    (repo / "extra/group-one.yaml").write_text("clusterGroup:\n  projects: [from-extra]\n")
    resources = render_group(repo, "group-one", Facts(), apps=False)
    projects = {r.name for r in resources if r.kind == "AppProject"}
    assert "from-extra" in projects


def test_a_managed_groups_helm_overrides_are_its_last_parameters(repo: Path) -> None:
    hub = (repo / "values-hub.yaml").read_text()
    overrides = "      helmOverrides:\n"
    assert hub.count(overrides) == 1  # group-one's entry
    (repo / "values-hub.yaml").write_text(
        hub.replace(
            overrides,
            f"{overrides}        - name: global.hubClusterDomain\n"
            "          value: apps.override.example.org\n",
        )
    )
    resources = render_group(repo, "group-one", Facts(), apps=False)
    (store,) = [r for r in resources if r.kind == "ClusterSecretStore"]
    assert store.body["spec"]["provider"]["vault"]["server"] == (
        "https://vault-vault.apps.override.example.org"
    )


def test_a_broken_file_of_the_chain_is_reported_where_it_is(repo: Path) -> None:
    from generator.errors import McgError

    (repo / "values-Azure.yaml").write_text("clusterGroup: [unclosed\n")
    with pytest.raises(McgError) as caught:
        render_group(repo, "hub", LAB, apps=False)
    assert caught.value.location is not None
    assert caught.value.location.file == "values-Azure.yaml"


def write_failing_app(repo: Path, values_file: str) -> None:
    """values_file adds an application whose chart fails to render."""
    chart = repo / "charts/all/broken"
    (chart / "templates").mkdir(parents=True)
    (chart / "Chart.yaml").write_text("apiVersion: v2\nname: broken\nversion: 0.1.0\n")
    (chart / "templates/fail.yaml").write_text('{{ fail "broken on purpose" }}\n')
    (repo / values_file).write_text(
        "clusterGroup:\n  applications:\n    broken:\n      name: broken\n"
        "      namespace: hello-world\n      project: hub\n      path: charts/all/broken\n"
    )


def broken_app_reported(cli: Callable[..., Result], repo: Path, *args: str) -> bool:
    result = cli("validate", str(repo), "--format", "json", *args)
    assert result.code in (0, 1), result.err
    return any(
        finding["rule"] == "chart/render-error" and "broken on purpose" in finding["message"]
        for finding in json.loads(result.out)["findings"]
    )


def test_validate_renders_the_cluster_file_the_facts_select(
    repo: Path, cli: Callable[..., Result]
) -> None:
    write_failing_app(repo, "values-lab1.yaml")
    assert not broken_app_reported(cli, repo)
    assert broken_app_reported(cli, repo, "--cluster-name", "lab1")
    # the cached result of the first run does not hide a chain file created afterwards
    (repo / "values-AWS.yaml").write_text((repo / "values-lab1.yaml").read_text())
    assert broken_app_reported(cli, repo)


def test_render_names_the_value_files_it_merged(repo: Path, cli: Callable[..., Result]) -> None:
    (repo / "values-4.18-hub.yaml").write_text(channel_file("release-2.12"))
    result = cli("render", str(repo), "-g", "hub", "--version", "4.18")
    assert result.code == 0, result.err
    assert "channel: release-2.12" in result.out
    assert "values-global.yaml, values-hub.yaml, values-4.18-hub.yaml" in result.err
