"""`mcg-gen validate` on real repositories: clean ones pass, each planted mistake is caught with
its exact rule, file and line."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from generator import bundled
from tests.conftest import PROJECT, Result

EXAMPLES = sorted(path.stem for path in bundled.patterns_dir().glob("*.yaml"))
FIXTURE = PROJECT / "tests/fixtures/reference-mcg"


def findings_of(
    cli: Callable[..., Result], repo: Path, *args: str
) -> tuple[int, list[dict[str, Any]]]:
    result = cli("validate", str(repo), "--format", "json", *args)
    assert result.code in (0, 1), result.err
    document = json.loads(result.out)
    return result.code, document["findings"]


def rules_at(findings: list[dict[str, Any]]) -> set[tuple[str, str, int]]:
    return {(f["rule"], f["file"], f["line"]) for f in findings}


def line_of(path: Path, text: str, occurrence: int = 1) -> int:
    seen = 0
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        if text in line:
            seen += 1
            if seen == occurrence:
                return number
    raise AssertionError(f"{text!r} not in {path}")


@pytest.fixture
def mcg(example_repo: Callable[[str], Path]) -> Path:
    return example_repo("multicloud-gitops")


@pytest.mark.parametrize("example", EXAMPLES)
def test_generated_repositories_validate_clean(
    example: str, example_repo: Callable[[str], Path], cli: Any
) -> None:
    code, findings = findings_of(cli, example_repo(example))
    assert code == 0
    assert [f for f in findings if f["severity"] != "info"] == []
    assert {f["rule"] for f in findings} <= {"chart/not-rendered"}


def hand_written_reference(tmp_path: Path) -> Path:
    """The reference layout written by hand: upstream's deprecated keys, a vendored common/."""
    repo = tmp_path / "reference"
    shutil.copytree(FIXTURE, repo)
    for chart in ("clustergroup", "acm", "secretstore"):
        shutil.copytree(bundled.charts_dir() / chart, repo / "common" / chart)
    (repo / "values-secret.yaml.template").write_text(
        "version: '2.0'\nsecrets:\n  - name: config-demo\n    vaultPrefixes: [global]\n"
        "    fields:\n      - name: secret\n        onMissingValue: generate\n"
        "        vaultPolicy: validatedPatternDefaultPolicy\n"
    )
    return repo


def test_hand_written_reference_repository_validates_without_errors(
    tmp_path: Path, cli: Any
) -> None:
    code, findings = findings_of(cli, hand_written_reference(tmp_path))
    assert code == 0
    assert {f["rule"] for f in findings if f["severity"] != "info"} <= {"values/deprecated-key"}
    assert any(f["rule"] == "values/deprecated-key" for f in findings)


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1))


def test_typo_in_a_map_form_subscription(mcg: Path, cli: Any) -> None:
    edit(
        mcg / "values-hub.yaml",
        "      channel: release-2.16",
        "      catalogSource: x\n      channel: release-2.16",
    )
    code, findings = findings_of(cli, mcg)
    assert code == 1
    assert (
        "values/unknown-key",
        "values-hub.yaml",
        line_of(mcg / "values-hub.yaml", "catalogSource"),
    ) in rules_at(findings)
    [finding] = [f for f in findings if f["rule"] == "values/unknown-key"]
    assert finding["column"] == 7
    assert "catalogSource" in finding["message"]


def test_typo_in_a_map_form_application(mcg: Path, cli: Any) -> None:
    edit(mcg / "values-group-one.yaml", "      name: hello-world", "      nme: hello-world")
    code, findings = findings_of(cli, mcg)
    assert code == 1
    line = line_of(mcg / "values-group-one.yaml", "nme: hello-world")
    assert ("values/unknown-key", "values-group-one.yaml", line) in rules_at(findings)
    assert "did you mean 'name'?" in next(f for f in findings if f["line"] == line)["hint"]


def test_external_secret_reading_an_undeclared_path(mcg: Path, cli: Any) -> None:
    edit(mcg / "charts/all/config-demo/values.yaml", "global/config-demo", "global/config-dem0")
    code, findings = findings_of(cli, mcg)
    assert code == 1
    [finding] = [f for f in findings if f["rule"] == "links/external-secret-unknown"]
    # the line that names the path, not the template rendering it; the template is generated
    # from pattern.yaml, so that is where the secret is declared
    values = mcg / "charts/all/config-demo/values.yaml"
    assert (finding["file"], finding["line"]) == (
        "charts/all/config-demo/values.yaml",
        line_of(values, "global/config-dem0"),
    )
    assert "secret/data/global/config-dem0" in finding["message"]
    assert "pattern.yaml" in finding["hint"] and "mcg-gen generate" in finding["hint"]


def test_external_secret_reading_a_missing_field(mcg: Path, cli: Any) -> None:
    edit(
        mcg / "charts/all/config-demo/values.yaml",
        "      - secret\n",
        "      - secret\n      - pasword\n",
    )
    code, findings = findings_of(cli, mcg)
    assert code == 1
    [finding] = [f for f in findings if f["rule"] == "links/external-secret-unknown"]
    assert "property 'pasword'" in finding["message"]
    values = mcg / "charts/all/config-demo/values.yaml"
    assert (finding["file"], finding["line"]) == (
        "charts/all/config-demo/values.yaml",
        line_of(values, "- pasword"),
    )
    assert "fields of 'config-demo': secret" in finding["hint"]


def test_external_secret_under_a_prefix_the_group_cannot_read(mcg: Path, cli: Any) -> None:
    edit(mcg / "values-secret.yaml.template", "      - global\n", "      - global\n      - hub\n")
    edit(mcg / "charts/all/config-demo/values.yaml", "secret/data/global/", "secret/data/hub/")
    code, findings = findings_of(cli, mcg)
    assert code == 1
    [finding] = [f for f in findings if f["rule"] == "links/external-secret-prefix"]
    assert "group 'group-one'" in finding["message"]


@pytest.mark.parametrize(
    ("prefix", "denied"),
    [
        # no role vault_utils (or secrets init) writes reads a cluster group's name
        ("group-one", True),
        # a managed cluster reads its own cluster domain (unknown before it joins)
        ("group-one.example.com", False),
        ("global", False),
    ],
)
def test_a_managed_group_reads_global_and_its_cluster_domain(
    mcg: Path, cli: Any, prefix: str, denied: bool
) -> None:
    edit(mcg / "values-secret.yaml.template", "      - global\n", f"      - {prefix}\n")
    values = mcg / "charts/all/config-demo/values.yaml"
    edit(values, "secret/data/global/", f"secret/data/{prefix}/")
    _, findings = findings_of(cli, mcg)
    found = [
        f
        for f in findings
        if f["rule"] == "links/external-secret-prefix" and "group 'group-one'" in f["message"]
    ]
    assert bool(found) == denied
    if denied:
        assert "and their own cluster domain" in found[0]["message"]


def test_missing_values_file_of_a_managed_group(mcg: Path, cli: Any) -> None:
    (mcg / "values-group-one.yaml").unlink()
    code, findings = findings_of(cli, mcg)
    assert code == 1
    line = line_of(mcg / "values-hub.yaml", "name: group-one")
    assert ("links/group-values-missing", "values-hub.yaml", line) in rules_at(findings)


def test_group_name_too_long_for_acm(mcg: Path, cli: Any) -> None:
    long_name = "factory-east-datacenter"
    (mcg / "values-group-one.yaml").rename(mcg / f"values-{long_name}.yaml")
    edit(mcg / f"values-{long_name}.yaml", "name: group-one", f"name: {long_name}")
    hub = mcg / "values-hub.yaml"
    hub.write_text(hub.read_text().replace("group-one", long_name))
    code, findings = findings_of(cli, mcg)
    assert code == 1
    line = line_of(hub, f"name: {long_name}")
    assert ("names/acm-policy-length", "values-hub.yaml", line) in rules_at(findings)
    assert any(f["rule"] == "chart/render-error" and "62" in f["message"] for f in findings)


def test_plaintext_secrets(mcg: Path, cli: Any) -> None:
    values = mcg / "charts/all/hello-world/values.yaml"
    values.write_text(
        values.read_text()
        + "adminPassword: Xk9qW2mZ7vR4tY8pLs3N\n"
        + "tls:\n  key: |\n    -----BEGIN RSA PRIVATE KEY-----\n    MIIB\n"
    )
    code, findings = findings_of(cli, mcg)
    assert code == 1
    found = {(f["severity"], f["line"]) for f in findings if f["rule"] == "secrets/plaintext-value"}
    assert found == {
        ("warning", line_of(values, "adminPassword")),
        ("error", line_of(values, "BEGIN RSA PRIVATE KEY")),
    }
    assert "Xk9qW2mZ7vR4tY8pLs3N" not in json.dumps(findings)


def test_committed_values_secret_file(mcg: Path, cli: Any) -> None:
    (mcg / "values-secret.yaml").write_text("version: '2.0'\nsecrets: []\n")
    code, findings = findings_of(cli, mcg)
    assert code == 1
    assert ("secrets/values-secret-committed", "values-secret.yaml", 0) in rules_at(findings)


def test_unknown_field_in_a_rendered_application(mcg: Path, cli: Any) -> None:
    template = mcg / "charts/all/hello-world/templates/extra-app.yaml"
    template.write_text(
        "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata:\n  name: extra\n"
        "spec:\n  project: default\n  destination:\n    server: https://kubernetes.default.svc\n"
        "  source:\n    repoURL: https://git.example.com/x.git\n    path: x\n"
        "    helm:\n      valueFile: values.yaml\n"
    )
    code, findings = findings_of(cli, mcg)
    assert code == 1
    [finding] = [f for f in findings if f["rule"] == "schema/invalid"]
    assert finding["file"] == "charts/all/hello-world/templates/extra-app.yaml"
    assert "valueFile" in finding["message"]
    assert "valueFiles" in finding["hint"]


def test_broken_template(mcg: Path, cli: Any) -> None:
    template = mcg / "charts/all/hello-world/templates/service.yaml"
    edit(template, "  ports:", "  ports: {{ .Values.nope.deeper }}")
    code, findings = findings_of(cli, mcg)
    assert code == 1
    [finding] = [f for f in findings if f["rule"] == "chart/render-error"]
    assert finding["file"] == "charts/all/hello-world/templates/service.yaml"
    assert finding["line"] == line_of(template, ".Values.nope.deeper")


def test_duplicate_key(mcg: Path, cli: Any) -> None:
    edit(mcg / "values-hub.yaml", "  name: hub\n", "  name: hub\n  name: hub\n")
    code, findings = findings_of(cli, mcg)
    assert code == 1
    assert rules_at(findings) >= {("yaml/invalid", "values-hub.yaml", 5)}
    assert not any(f["rule"].startswith("links/") for f in findings)


def test_undeclared_project_and_missing_value_file(mcg: Path, cli: Any) -> None:
    hub = mcg / "values-hub.yaml"
    edit(
        hub,
        "      argoProject: hello-world",
        "      argoProject: hello\n      extraValueFiles:\n        - /values-extra.yaml",
    )
    code, findings = findings_of(cli, mcg)
    assert code == 1
    found = rules_at(findings)
    assert (
        "links/project-undeclared",
        "values-hub.yaml",
        line_of(hub, "argoProject: hello"),
    ) in found
    assert (
        "links/value-file-missing",
        "values-hub.yaml",
        line_of(hub, "- /values-extra.yaml"),
    ) in found


def test_main_group_without_values_file(mcg: Path, cli: Any) -> None:
    edit(mcg / "values-global.yaml", "clusterGroupName: hub", "clusterGroupName: hubb")
    code, findings = findings_of(cli, mcg)
    assert code == 1
    line = line_of(mcg / "values-global.yaml", "clusterGroupName: hubb")
    assert ("links/main-group-missing", "values-global.yaml", line) in rules_at(findings)


def test_spec_out_of_date_is_an_error(mcg: Path, cli: Any) -> None:
    """Drift fails the gate: the cluster would get something else than the spec shows."""
    edit(mcg / "pattern.yaml", "release-2.16", "release-2.15")
    code, findings = findings_of(cli, mcg)
    assert code == 1
    assert [f["rule"] for f in findings if f["severity"] == "error"] == ["spec/out-of-date"]


def test_an_edited_generated_file_is_drift_only_when_the_spec_changed_it_too(
    mcg: Path, cli: Any
) -> None:
    edit(mcg / "values-hub.yaml", "release-2.16", "release-2.13")
    code, findings = findings_of(cli, mcg)
    assert "spec/out-of-date" not in {f["rule"] for f in findings}
    edit(mcg / "pattern.yaml", "release-2.16", "release-2.15")
    code, findings = findings_of(cli, mcg)
    assert code == 1
    [stale] = [f for f in findings if f["rule"] == "spec/out-of-date"]
    assert "values-hub.yaml" in stale["message"]


def test_select_and_ignore(mcg: Path, cli: Any) -> None:
    edit(mcg / "pattern.yaml", "release-2.16", "release-2.15")
    _, only_links = findings_of(cli, mcg, "--select", "links")
    assert only_links == []
    _, ignored = findings_of(cli, mcg, "--ignore", "spec/out-of-date,chart")
    assert ignored == []


@pytest.mark.parametrize("fmt", ["text", "json", "junit", "sarif", "github"])
def test_every_format_reports_the_same_failure(fmt: str, mcg: Path, cli: Any) -> None:
    edit(mcg / "values-hub.yaml", "  name: hub\n", "  name: hub\n  nmae: x\n")
    result = cli("validate", str(mcg), "--format", fmt)
    assert result.code == 1
    assert "values/unknown-key" in result.out
    assert "values-hub.yaml" in result.out


def test_not_a_repository_is_a_usage_error(tmp_path: Path, cli: Any) -> None:
    result = cli("validate", str(tmp_path))
    assert result.code == 2
    assert "is not a pattern repository" in result.err


def test_text_output_shows_the_line_and_a_summary(mcg: Path, cli: Any) -> None:
    edit(mcg / "values-hub.yaml", "  name: hub\n", "  name: hub\n  nmae: x\n")
    result = cli("validate", str(mcg))
    assert "values-hub.yaml:5:3: error values/unknown-key" in result.out
    assert "    5 |   nmae: x" in result.out
    assert result.out.rstrip().splitlines()[-1].startswith("1 error")
    assert "\033[" not in result.out


def test_remote_chart_rendered_from_a_local_copy(mcg: Path, tmp_path: Path, cli: Any) -> None:
    charts = tmp_path / "charts"
    (charts / "hashicorp-vault/templates").mkdir(parents=True)
    (charts / "hashicorp-vault/Chart.yaml").write_text(
        "apiVersion: v2\nname: hashicorp-vault\nversion: 0.1.0\n"
    )
    (charts / "hashicorp-vault/templates/cm.yaml").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: vault\ndata:\n"
        "  pattern: {{ .Values.global.pattern }}\n  bad: {{ .Values.nope.x }}\n"
    )
    code, findings = findings_of(cli, mcg, "--chart-dir", str(charts))
    assert code == 1
    assert not any(
        f["rule"] == "chart/not-rendered" and "hashicorp-vault" in f["message"] for f in findings
    )
    [error] = [f for f in findings if f["rule"] == "chart/render-error"]
    assert "hashicorp-vault" in error["message"]


def test_findings_do_not_depend_on_yaml_library_details(mcg: Path) -> None:
    """The generated values files are plain YAML 1.1/1.2-safe documents."""
    for path in mcg.glob("values-*.yaml"):
        assert yaml.safe_load(path.read_text()) is not None


def test_templated_value_files_are_expanded_with_the_facts(tmp_path: Path, cli: Any) -> None:
    repo = hand_written_reference(tmp_path)
    hub = repo / "values-hub.yaml"
    line = line_of(hub, "values-{{ $.Values.global.clusterPlatform }}.yaml")
    _, on_aws = findings_of(cli, repo)
    assert not any(f["line"] == line and f["file"] == "values-hub.yaml" for f in on_aws)
    _, on_azure = findings_of(cli, repo, "--platform", "Azure")
    [missing] = [f for f in on_azure if f["rule"] == "links/value-file-missing"]
    assert (missing["file"], missing["line"]) == ("values-hub.yaml", line)
    assert "/overrides/values-Azure.yaml" in missing["message"]
    edit(hub, "{{ $.Values.global.clusterPlatform }}", "{{ .Values.site.region }}")
    _, unknown = findings_of(cli, repo)
    assert ("chart/unchecked-value-file", "values-hub.yaml", line) in rules_at(unknown)


def test_helm_lint_findings(mcg: Path, cli: Any) -> None:
    chart = mcg / "charts/all/hello-world/Chart.yaml"
    edit(chart, "apiVersion: v2", "apiVersion: v1")
    code, findings = findings_of(cli, mcg)
    assert code == 1
    [finding] = [f for f in findings if f["rule"] == "chart/lint"]
    assert finding["file"] == "charts/all/hello-world/Chart.yaml"
    assert "apiVersion" in finding["message"]


def test_plaintext_secret_in_a_template_keeps_its_line(mcg: Path, cli: Any) -> None:
    helpers = mcg / "charts/all/hello-world/templates/_helpers.tpl"
    helpers.write_text(helpers.read_text() + '{{/* token: "ghp_' + "a1B2" * 9 + '" */}}\n')
    _, findings = findings_of(cli, mcg)
    [finding] = [f for f in findings if f["rule"] == "secrets/plaintext-value"]
    assert finding["file"] == "charts/all/hello-world/templates/_helpers.tpl"
    assert finding["line"] == line_of(helpers, "ghp_")


def test_text_lists_info_only_when_asked(mcg: Path, cli: Any) -> None:
    quiet = cli("validate", str(mcg))
    assert quiet.code == 0
    assert "chart/not-rendered" not in quiet.out
    assert quiet.out.strip().endswith("(--show-info lists the info)")
    shown = cli("validate", str(mcg), "--show-info")
    assert "info chart/not-rendered" in shown.out


CRD = """\
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.example.com
spec:
  group: example.com
  names: {kind: Widget, plural: widgets, singular: widget, listKind: WidgetList}
  scope: Namespaced
  versions:
    - name: v1
      served: true
      storage: true
      schema:
        openAPIV3Schema:
          type: object
          properties:
            spec:
              type: object
              properties:
                size: {type: integer}
"""


def test_custom_kinds_need_a_schema_and_get_one_from_a_crd(
    mcg: Path, tmp_path: Path, cli: Any
) -> None:
    (mcg / "charts/all/hello-world/templates/widget.yaml").write_text(
        "apiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: w\nspec:\n  colour: red\n"
    )
    _, findings = findings_of(cli, mcg)
    assert [f["rule"] for f in findings if f["severity"] != "info"] == ["schema/unknown-kind"]
    crd = tmp_path / "widget-crd.yaml"
    crd.write_text(CRD)
    schemas = tmp_path / "schemas"
    assert cli("schemas", "import", str(crd), "--output-dir", str(schemas)).code == 0
    assert (schemas / "example.com/widget_v1.json").is_file()
    code, findings = findings_of(cli, mcg, "--schema-location", str(schemas))
    assert code == 1
    [finding] = [f for f in findings if f["rule"] == "schema/invalid"]
    assert "spec.colour: unknown field" in finding["message"]


def test_kubernetes_version_picks_the_built_in_schemas(mcg: Path, cli: Any) -> None:
    (mcg / "charts/all/hello-world/templates/flow.yaml").write_text(
        "apiVersion: flowcontrol.apiserver.k8s.io/v1\nkind: PriorityLevelConfiguration\n"
        "metadata:\n  name: p\nspec:\n  type: Exempt\n"
    )
    _, newest = findings_of(cli, mcg)
    assert not [f for f in newest if f["rule"].startswith("schema/")]
    _, old = findings_of(cli, mcg, "--kubernetes-version", "1.25")
    assert [f["rule"] for f in old if f["rule"].startswith("schema/")] == ["schema/unknown-kind"]
    assert cli("validate", str(mcg), "--kubernetes-version", "1.12").code == 2
