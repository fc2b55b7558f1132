"""Shapes seen in public, hand-written pattern repositories (see tests/realworld.md): each false
error class stays silent, each real mistake is reported once, at the line to edit. Every fixture
is our own, written to reproduce the shape, never a copy of upstream files."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from generator import bundled
from generator.checks.hygiene import committed_secret_files
from tests.conftest import PROJECT
from tests.test_validate import edit, findings_of, line_of

REFERENCE_CLUSTERGROUP = PROJECT.parent / "shared/reference/charts/clustergroup"
PUSHER_CHART = """\
apiVersion: v2
name: pusher
version: 0.1.0
"""
# a service-account token made on the hub and pushed to Vault for other clusters to read
PUSH_SECRET = """\
apiVersion: external-secrets.io/v1alpha1
kind: PushSecret
metadata:
  name: push-token
  namespace: pusher
spec:
  secretStoreRefs:
    - kind: ClusterSecretStore
      name: vault-backend
  selector:
    secret:
      name: token
  data:
    - match:
        secretKey: token
        remoteRef:
          remoteKey: pushsecrets/hub-token
          property: token
"""
READER = """\
{{- range list "pushsecrets/hub-token" "pushsecrets/never-pushed" }}
---
apiVersion: external-secrets.io/v1
kind: ExternalSecret
metadata:
  name: reads-{{ base . }}
spec:
  secretStoreRef:
    name: vault-backend
    kind: ClusterSecretStore
  target:
    name: reads-{{ base . }}
  data:
    - secretKey: token
      remoteRef:
        key: {{ . }}
        property: token
{{- end }}
"""


@pytest.fixture
def hand_written(example_repo: Callable[[str], Path]) -> Path:
    """A generated repository turned hand-written: no spec, no state."""
    repo = example_repo("multicloud-gitops")
    (repo / "pattern.yaml").unlink()
    shutil.rmtree(repo / ".mcg-gen")
    return repo


def errors(findings: list[dict[str, Any]]) -> list[tuple[str, str, int]]:
    return sorted((f["rule"], f["file"], f["line"]) for f in findings if f["severity"] == "error")


def only_error(cli: Any, repo: Path, rule: str, file: str, text: str) -> list[dict[str, Any]]:
    """Validate `repo`: exactly one error, of `rule`, at the line of `file` holding `text`."""
    code, findings = findings_of(cli, repo)
    assert errors(findings) == [(rule, file, line_of(repo / file, text))]
    assert code == 1
    return findings


def test_upstream_test_data_in_a_vendored_common_is_not_a_committed_secret(
    tmp_path: Path,
) -> None:
    common = tmp_path / "common"
    (common / "scripts").mkdir(parents=True)
    (common / "Makefile").write_text("include scripts/pattern-util.sh\n")
    (common / "scripts/pattern-util.sh").write_text("#!/bin/sh\n")
    for fixture in (
        "ansible/tests/unit/v2/values-secret-v2-base.yaml",
        "examples/values-secret.yaml",
    ):
        (common / fixture).parent.mkdir(parents=True, exist_ok=True)
        (common / fixture).write_text("version: '2.0'\nsecrets: []\n")
    # the loader never reads those two; anything else in common/ is still the user's to answer
    (common / "values-secret.yaml").write_text("version: '2.0'\nsecrets: []\n")
    assert [f.file for f in committed_secret_files(tmp_path)] == ["common/values-secret.yaml"]
    # a common/ folder of the pattern's own (no upstream markers) is scanned whole
    (common / "scripts/pattern-util.sh").unlink()
    assert len(committed_secret_files(tmp_path)) == 3


def test_a_vault_path_a_push_secret_writes_is_known_on_every_group(
    hand_written: Path, cli: Any
) -> None:
    chart = hand_written / "charts/hub/pusher"
    (chart / "templates").mkdir(parents=True)
    (chart / "Chart.yaml").write_text(PUSHER_CHART)
    (chart / "templates/push.yaml").write_text(PUSH_SECRET)
    (hand_written / "charts/all/hello-world/templates/reader.yaml").write_text(READER)
    edit(
        hand_written / "values-hub.yaml",
        "  applications:\n",
        "  applications:\n    pusher:\n      name: pusher\n      namespace: hello-world\n"
        "      argoProject: hello-world\n      path: charts/hub/pusher\n",
    )
    code, findings = findings_of(cli, hand_written)
    unknown = [f for f in findings if f["rule"] == "links/external-secret-unknown"]
    # group-one reads what the hub pushes; the path nobody pushes stays an error, once
    assert {f["message"].split(" reads ")[1].split(",")[0] for f in unknown} == {
        "pushsecrets/never-pushed"
    }
    assert code == 1


def test_a_second_hub_file_and_acm_named_groups_are_not_name_mismatches(
    hand_written: Path, cli: Any
) -> None:
    # values-primary.yaml: the hub again, for a Pattern whose clusterGroupName is 'primary'
    text = (hand_written / "values-hub.yaml").read_text()
    (hand_written / "values-primary.yaml").write_text(
        text.replace("  name: hub\n", "  name: hub\n  isHubCluster: true\n", 1)
    )
    # ACM's policy passes clusterGroup.name=group-one, whatever the file says
    edit(hand_written / "values-group-one.yaml", "  name: group-one\n", "  name: edge\n")
    code, findings = findings_of(cli, hand_written)
    assert errors(findings) == []
    assert code == 0


def test_a_hub_file_naming_another_group_is_one_finding(hand_written: Path, cli: Any) -> None:
    edit(hand_written / "values-hub.yaml", "  name: hub\n", "  name: datacentre\n")
    only_error(
        cli, hand_written, "links/group-name-mismatch", "values-hub.yaml", "name: datacentre"
    )


def test_a_missing_app_path_is_one_finding_and_a_multi_source_path_is_not_local(
    hand_written: Path, cli: Any
) -> None:
    edit(hand_written / "values-group-one.yaml", "path: charts/all/hello-world", "path: charts/x")
    # chartVersion makes a multi-source Application: its path is in multiSourceRepoUrl
    edit(
        hand_written / "values-hub.yaml",
        "      path: charts/all/hello-world\n",
        "      path: charts/elsewhere\n      chartVersion: 1.0.0\n",
    )
    only_error(
        cli, hand_written, "links/app-path-missing", "values-group-one.yaml", "path: charts/x"
    )


def test_an_empty_map_in_an_override_file_is_reported(hand_written: Path, cli: Any) -> None:
    (hand_written / "values-4.18-hub.yaml").write_text(
        "clusterGroup:\n  subscriptions: {}\n  namespaces: {}\n"
    )
    _, findings = findings_of(cli, hand_written)
    # namespaces is a list in values-hub.yaml: {} replaces it, which is a real removal
    assert [
        (f["rule"], f["file"], f["line"], f["severity"]) for f in findings if "no-op" in f["rule"]
    ] == [("values/no-op-override", "values-4.18-hub.yaml", 2, "warning")]


def test_a_subscription_version_is_an_olm_v1_cluster_extension_on_newer_charts(
    hand_written: Path, cli: Any
) -> None:
    edit(
        hand_written / "values-hub.yaml",
        "      channel: release-2.16\n",
        "      channel: release-2.16\n      version: 2.16.0\n",
    )
    _, findings = findings_of(cli, hand_written)
    line = line_of(hand_written / "values-hub.yaml", "version: 2.16.0")
    [warning] = [f for f in findings if f["rule"] == "links/subscription-olm-v1"]
    assert (warning["file"], warning["line"], warning["severity"]) == (
        "values-hub.yaml",
        line,
        "warning",
    )
    assert "0.9.27" in warning["message"] and "0.9.*" in warning["message"]
    # a chart older than 0.9.27 renders a Subscription whatever the entry says
    edit(
        hand_written / "values-global.yaml",
        "clusterGroupChartVersion: 0.9.*",
        "clusterGroupChartVersion: 0.9.26",
    )
    _, findings = findings_of(cli, hand_written)
    assert not [f for f in findings if f["rule"] == "links/subscription-olm-v1"]


def test_csv_without_use_csv_is_not_reported_since_upstream_renders_it(
    hand_written: Path, cli: Any
) -> None:
    """clustergroup 0.9.55 renders startingCSV from csv whether or not global.options.useCSV is
    set (`else if $subs.csv`): the key is not ignored, so it is no finding."""
    if not REFERENCE_CLUSTERGROUP.is_dir():
        pytest.skip(f"the upstream reference chart is not at {REFERENCE_CLUSTERGROUP}")
    shutil.copytree(REFERENCE_CLUSTERGROUP, hand_written / "common/clustergroup")
    edit(
        hand_written / "values-hub.yaml",
        "      channel: release-2.16\n",
        "      channel: release-2.16\n      csv: advanced-cluster-management.v2.16.0\n",
    )
    _, findings = findings_of(cli, hand_written, "--select", "values,links")
    assert [f for f in findings if f["severity"] != "info"] == []
    result = cli("render", str(hand_written), "--group", "hub")
    assert result.code == 0, result.err
    assert "startingCSV: advanced-cluster-management.v2.16.0" in result.out


def test_fingerprints_survive_unrelated_edits_and_a_baseline_hides_only_known_findings(
    hand_written: Path, cli: Any, tmp_path: Path
) -> None:
    edit(
        hand_written / "values-hub.yaml",
        "  applications:\n",
        "  aplications: {}\n  applications:\n",
    )
    _, before = findings_of(cli, hand_written)
    [typo] = [f for f in before if f["rule"] == "values/unknown-key"]
    baseline = tmp_path / "baseline.json"
    written = cli("validate", str(hand_written), "--write-baseline", str(baseline))
    assert written.code == 0, written.err
    assert typo["fingerprint"] in baseline.read_text()
    # lines added above move the finding, not its fingerprint
    edit(hand_written / "values-hub.yaml", "clusterGroup:\n", "# a comment\n\nclusterGroup:\n")
    code, after = findings_of(cli, hand_written, "--baseline", str(baseline))
    assert code == 0 and after == []
    _, unfiltered = findings_of(cli, hand_written)
    [moved] = [f for f in unfiltered if f["rule"] == "values/unknown-key"]
    assert moved["fingerprint"] == typo["fingerprint"] and moved["line"] == typo["line"] + 2
    # a new finding of the same kind in the same file is not hidden
    edit(
        hand_written / "values-hub.yaml",
        "  aplications: {}\n",
        "  aplications: {}\n  namspaces: []\n",
    )
    code, after = findings_of(cli, hand_written, "--baseline", str(baseline))
    assert code == 1
    assert [f["message"] for f in after] == ["clusterGroup.namspaces: unknown key"]
    result = cli("validate", str(hand_written), "--baseline", str(baseline), "--format", "json")
    listed = json.loads(baseline.read_text())["findings"]
    assert json.loads(result.out)["summary"]["baselined"] == len(listed) == len(before)


def test_a_baseline_that_is_not_one_is_a_clear_error(
    hand_written: Path, cli: Any, tmp_path: Path
) -> None:
    bad = tmp_path / "baseline.json"
    bad.write_text("[1, 2]")
    result = cli("validate", str(hand_written), "--baseline", str(bad))
    assert result.code == 1
    assert "not a baseline file" in result.err and "--write-baseline" in result.err
    assert "Traceback" not in result.err


def test_keys_the_repositorys_own_templates_read_are_not_unknown(
    hand_written: Path, cli: Any
) -> None:
    (hand_written / "charts/all/hello-world/templates/storage.yaml").write_text(
        "{{- if .Values.clusterGroup.storageClass }}\n"
        '# {{ index .Values "clusterGroup" "tier" }}\n'
        "{{- end }}\n"
    )
    edit(
        hand_written / "values-hub.yaml",
        "  name: hub\n",
        "  name: hub\n  storageClass: gp3\n  tier: gold\n  storageClas: gp3\n",
    )
    only_error(cli, hand_written, "values/unknown-key", "values-hub.yaml", "storageClas: gp3")


def test_keys_a_vendored_charts_schema_refuses_are_one_finding(
    hand_written: Path, cli: Any
) -> None:
    # a vendored older clustergroup chart whose values.schema.json allows no unknown
    # clusterGroup key: Helm refuses to render it, and the unknown key is the line to edit
    shutil.copytree(bundled.charts_dir() / "clustergroup", hand_written / "common/clustergroup")
    schema_file = hand_written / "common/clustergroup/values.schema.json"
    schema = json.loads(schema_file.read_text())
    schema["properties"]["clusterGroup"]["additionalProperties"] = False
    schema_file.write_text(json.dumps(schema))
    edit(hand_written / "values-hub.yaml", "  name: hub\n", "  name: hub\n  storageClas: gp3\n")
    only_error(cli, hand_written, "values/unknown-key", "values-hub.yaml", "storageClas: gp3")


def test_an_invalid_secret_template_is_its_own_finding_not_every_secret_read(
    hand_written: Path, cli: Any
) -> None:
    edit(hand_written / "values-secret.yaml.template", "vaultPrefixes:", "valuePrefixes:")
    template = "values-secret.yaml.template"
    findings = only_error(cli, hand_written, "secrets/unknown-key", template, "valuePrefixes:")
    assert not [f for f in findings if f["rule"].startswith("links/external-secret")]


def test_applications_may_deploy_to_namespaces_every_openshift_cluster_has(
    hand_written: Path, cli: Any
) -> None:
    edit(
        hand_written / "values-hub.yaml",
        "      namespace: hello-world\n",
        "      namespace: openshift\n",
    )
    _, findings = findings_of(cli, hand_written)
    assert not [f for f in findings if f["rule"] == "links/namespace-undeclared"]
    edit(
        hand_written / "values-hub.yaml",
        "      namespace: openshift\n",
        "      namespace: hello-wrld\n",
    )
    _, findings = findings_of(cli, hand_written)
    assert [f["rule"] for f in findings if "hello-wrld" in f["message"]] == [
        "links/namespace-undeclared"
    ]


def test_a_misspelt_required_field_is_one_finding(hand_written: Path, cli: Any) -> None:
    edit(
        hand_written / "charts/all/hello-world/templates/route.yaml",
        "termination: edge",
        "terminaton: edge",
    )
    _, findings = findings_of(cli, hand_written)
    [finding] = [f for f in findings if f["rule"] == "schema/invalid"]
    assert finding["message"] == "spec.tls.terminaton: unknown field"
    assert finding["hint"] == "did you mean termination?"


def test_a_group_file_that_is_a_hub_of_its_own_reads_the_hub_prefix(
    hand_written: Path, cli: Any
) -> None:
    edit(
        hand_written / "values-secret.yaml.template",
        "      - global\n",
        "      - global\n      - hub\n",
    )
    edit(
        hand_written / "charts/all/config-demo/values.yaml",
        "secret/data/global/",
        "secret/data/hub/",
    )
    # group-one installed as a hub of its own (a second Pattern with clusterGroupName group-one)
    edit(
        hand_written / "values-group-one.yaml",
        "  name: group-one\n",
        "  name: group-one\n  isHubCluster: true\n",
    )
    _, findings = findings_of(cli, hand_written)
    managed = [f for f in findings if f["rule"] == "links/external-secret-prefix"]
    assert ["group 'group-one'" in f["message"] for f in managed] == [True]  # ACM manages it
    hub = hand_written / "values-hub.yaml"
    hub.write_text(hub.read_text().split("  managedClusterGroups:\n")[0])
    _, findings = findings_of(cli, hand_written)
    assert not [f for f in findings if f["rule"] == "links/external-secret-prefix"]
