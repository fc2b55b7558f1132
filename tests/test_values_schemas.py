"""Values files against our schemas: fixture files, planted mistakes, the published schema."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from generator import bundled, schema_check
from generator.checks import values
from generator.checks.values import check_values_file
from generator.emit.repo import plan_files
from generator.findings import Finding, Severity
from generator.model.spec import load_spec
from generator.rules import all_rules
from generator.yamlio import parse_document

CASES = Path(__file__).parent / "fixtures" / "values-cases"
SHARED = Path(__file__).parents[2] / "shared"
PUBLISHED = SHARED / "reference" / "validatedpatterns" / "clustergroup.values.schema.json"


def read(name: str) -> str:
    return (CASES / name).read_text(encoding="utf-8")


def check(text: str, name: str, kind: values.ValuesKind = "group") -> list[Finding]:
    return check_values_file(parse_document(text, name), kind)


def modernise(text: str) -> str:
    """The same file in current keys: argoProjects, argoProject, and no isHubCluster."""
    text = re.sub(r"^(\s+)projects:", r"\1argoProjects:", text, flags=re.MULTILINE)
    text = re.sub(r"^(\s+)project:", r"\1argoProject:", text, flags=re.MULTILINE)
    return re.sub(r"^\s+isHubCluster:.*\n", "", text, flags=re.MULTILINE)


def mutate(text: str, old: str, new: str) -> tuple[str, int]:
    """`text` with the one line containing `old` replaced by `new`; returns the line's number."""
    lines = text.splitlines(keepends=True)
    matches = [number for number, line in enumerate(lines) if old in line]
    assert len(matches) == 1, f"{old!r} must occur on exactly one line"
    number = matches[0]
    lines[number] = lines[number].replace(old, new)
    return "".join(lines), number + 1


def rules_at(findings: list[Finding], line: int) -> set[str]:
    return {finding.rule for finding in findings if finding.line == line}


# --- reference pair -------------------------------------------------------------------------


def test_reference_pair_with_deprecated_keys_gives_only_deprecation_warnings() -> None:
    findings = check(read("values-global.yaml"), "values-global.yaml", "global")
    findings += check(read("values-hub.yaml"), "values-hub.yaml")
    findings += check(read("values-group-one.yaml"), "values-group-one.yaml")
    assert findings
    assert {finding.rule for finding in findings} == {"values/deprecated-key"}
    assert all(finding.severity is Severity.WARNING for finding in findings)
    messages = {finding.message for finding in findings}
    assert "clusterGroup.projects: deprecated key" in messages
    assert "clusterGroup.applications.acm.project: deprecated key" in messages
    assert "clusterGroup.isHubCluster: deprecated key" in messages
    hints = {finding.message: finding.hint for finding in findings}
    assert "argoProjects" in hints["clusterGroup.projects: deprecated key"]
    assert "main.clusterGroupName" in hints["clusterGroup.isHubCluster: deprecated key"]


def test_deprecated_key_points_at_its_line() -> None:
    text = read("values-hub.yaml")
    line = text.splitlines().index("  projects:") + 1
    findings = check(text, "values-hub.yaml")
    assert "values/deprecated-key" in rules_at(findings, line)
    assert all(finding.file == "values-hub.yaml" for finding in findings)


@pytest.mark.parametrize("name", ["values-hub.yaml", "values-group-one.yaml"])
def test_reference_pair_in_current_keys_is_clean(name: str) -> None:
    assert check(modernise(read(name)), name) == []


def test_list_form_group_with_less_common_keys_is_clean() -> None:
    assert check(read("values-group-lists.yaml"), "values-group-lists.yaml") == []


def test_global_file_is_clean() -> None:
    assert check(read("values-global.yaml"), "values-global.yaml", "global") == []


@pytest.mark.parametrize(
    "spec", sorted(bundled.patterns_dir().glob("*.yaml")), ids=lambda spec: spec.stem
)
def test_values_files_generated_from_bundled_patterns_are_clean(spec: Path) -> None:
    files = plan_files(load_spec(spec))
    names = [name for name in files if re.fullmatch(r"values-[^/]+\.yaml", name)]
    assert "values-global.yaml" in names and len(names) >= 2
    for name in names:
        kind: values.ValuesKind = "global" if name == "values-global.yaml" else "group"
        assert check(files[name].decode("utf-8"), name, kind) == [], name


# --- planted mistakes -------------------------------------------------------------------------

# (file, line containing, replacement, lines from it to the offending key, rule, text of the hint)
PLANTED = [
    (
        "values-hub.yaml",
        "      source: redhat-operators",
        "      catalogSource: redhat-operators",
        0,
        "values/unknown-key",
        "did you mean 'source'?",
    ),
    (
        "values-hub.yaml",
        "      name: config-demo",
        "      nme: config-demo",
        0,
        "values/unknown-key",
        "did you mean 'name'?",
    ),
    (
        "values-hub.yaml",
        "      path: charts/all/hello-world",
        "      path: charts/all/hello-world\n      chart: hello-world",
        0,
        "values/exclusive-keys",
        "remove 'path'",
    ),
    (
        "values-global.yaml",
        "    syncPolicy: Automatic",
        "    syncPolicy: [Automatic]",
        0,
        "values/wrong-type",
        "Automatic, Manual",
    ),
    (
        "values-hub.yaml",
        "      acmlabels:",
        "      acmlabel:",
        0,
        "values/unknown-key",
        "did you mean 'acmlabels'?",
    ),
    (
        "values-hub.yaml",
        "      chartVersion: 0.1.*",
        "      chartVersion: 0.1.*\n      targetRevision: main",
        1,
        "values/exclusive-keys",
        "remove 'targetRevision'",
    ),
    (
        "values-hub.yaml",
        "      operatorGroup: true",
        "      operatorGroups: true",
        0,
        "values/unknown-key",
        "did you mean 'operatorGroup'?",
    ),
]


@pytest.mark.parametrize(("name", "old", "new", "offset", "rule", "hint"), PLANTED)
def test_planted_mistake_gives_rule_file_and_line(
    name: str, old: str, new: str, offset: int, rule: str, hint: str
) -> None:
    text = modernise(read(name))
    kind: values.ValuesKind = "global" if name == "values-global.yaml" else "group"
    planted, line = mutate(text, old, new)
    findings = check(planted, name, kind)
    matching = [f for f in findings if (f.rule, f.file, f.line) == (rule, name, line + offset)]
    assert len(matching) == 1, findings
    assert all(f.severity is Severity.ERROR for f in findings)
    finding = matching[0]
    assert hint in finding.hint
    assert len(finding.message) < 120 and "{" not in finding.message


def test_imperative_jobs_as_map_points_at_jobs_key() -> None:
    text = modernise(read("values-hub.yaml"))
    planted = text.replace(
        "    jobs:\n      - name: hello-world\n        playbook: rhvp.cluster_utils.hello_world\n"
        "        timeout: 234\n",
        "    jobs:\n      hello-world:\n        playbook: rhvp.cluster_utils.hello_world\n",
    )
    assert planted != text
    line = planted.splitlines().index("    jobs:") + 1
    findings = check(planted, "values-hub.yaml")
    assert [(f.rule, f.line, f.message) for f in findings] == [
        (
            "values/wrong-type",
            line,
            "clusterGroup.imperative.jobs: expected a list or empty (null), got a mapping",
        )
    ]


LIST_FORM = """\
clusterGroup:
  name: edge
  namespaces:
    - edge
    - other:
        lables: {}
  subscriptions:
    - name: sub
      catalogSource: community-operators
  applications:
    - nme: app
      path: charts/app
    - name: both
      path: charts/both
      chart: both
    - name: sync
      path: charts/sync
      syncPolicy: true
  managedClusterGroups:
    - name: region
      clusterSelecter: {}
  imperative:
    jobs:
      - name: job
        playbook: x.yaml
        retries: 3
"""


@pytest.mark.parametrize(
    ("line", "rule", "message"),
    [
        (6, "values/unknown-key", "clusterGroup.namespaces[1].other.lables: unknown key"),
        (9, "values/unknown-key", "clusterGroup.subscriptions[0].catalogSource: unknown key"),
        (11, "values/unknown-key", "clusterGroup.applications[0].nme: unknown key"),
        (11, "values/missing-key", "clusterGroup.applications[0]: missing key 'name'"),
        (
            14,
            "values/exclusive-keys",
            "clusterGroup.applications[1]: 'chart' and 'path' cannot be used together",
        ),
        (
            18,
            "values/wrong-type",
            "clusterGroup.applications[2].syncPolicy: expected a string or a mapping, "
            "got true or false",
        ),
        (
            21,
            "values/unknown-key",
            "clusterGroup.managedClusterGroups[0].clusterSelecter: unknown key",
        ),
        (26, "values/unknown-key", "clusterGroup.imperative.jobs[0].retries: unknown key"),
    ],
)
def test_list_form_mistakes(line: int, rule: str, message: str) -> None:
    findings = check(LIST_FORM, "values-edge.yaml")
    assert (line, rule, message) in {(f.line, f.rule, f.message) for f in findings}


def test_list_form_mistakes_are_all_reported_and_nothing_else() -> None:
    findings = check(LIST_FORM, "values-edge.yaml")
    assert len(findings) == 8
    assert all(finding.severity is Severity.ERROR for finding in findings)


def test_global_file_needs_the_cluster_group_name() -> None:
    findings = check(
        "global:\n  pattern: x\nmain:\n  git:\n    revision: main\n", "g.yaml", "global"
    )
    assert [(f.rule, f.line, f.message) for f in findings] == [
        ("values/missing-key", 3, "main: needs 'clusterGroupName' or 'variant'")
    ]


def test_global_options_are_closed_and_typed() -> None:
    text = modernise(read("values-global.yaml"))
    planted, line = mutate(text, "    useCSV: false", "    useCsv: false")
    findings = check(planted, "values-global.yaml", "global")
    assert [(f.rule, f.line, f.hint) for f in findings] == [
        ("values/unknown-key", line, "did you mean 'useCSV'?")
    ]


OVERRIDE = """\
clusterGroup:
  applications:
    acm:
      chartVersion: 0.3.*
    vault:
      disabled: true
  subscriptions:
    acm:
      chanel: release-2.17
"""


def test_override_files_may_be_partial_but_not_misspelt() -> None:
    findings = check(OVERRIDE, "values-4.18-hub.yaml", "override")
    assert [(f.rule, f.line, f.hint) for f in findings] == [
        ("values/unknown-key", 9, "did you mean 'channel'?")
    ]
    as_group = {f.rule for f in check(OVERRIDE, "values-hub.yaml", "group")}
    assert as_group == {"values/unknown-key", "values/missing-key"}


def test_values_that_are_not_a_mapping() -> None:
    findings = check("- a\n- b\n", "values-x.yaml")
    assert [(f.rule, f.message) for f in findings] == [
        ("values/wrong-type", "(document): expected a mapping, got a list")
    ]


# --- the schemas themselves -------------------------------------------------------------------


def _schema(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((bundled.schemas_dir() / name).read_text(encoding="utf-8"))
    return data


# Subschemas under these keywords constrain properties defined elsewhere; they describe nothing.
_CONSTRAINTS = {"not", "if", "then", "else", "allOf", "anyOf", "oneOf", "dependentSchemas"}


@pytest.mark.parametrize("name", schema_check.SCHEMA_FILES)
def test_schema_is_valid_2020_12_with_a_description_on_every_property(name: str) -> None:
    schema = _schema(name)
    jsonschema.Draft202012Validator.check_schema(schema)
    undescribed: list[str] = []

    def walk(node: Any, where: str) -> None:
        if isinstance(node, dict):
            for key, sub in node.get("properties", {}).items():
                if not sub.get("description"):
                    undescribed.append(f"{where}.{key}")
            for key, sub in node.items():
                if key not in _CONSTRAINTS:
                    walk(sub, f"{where}.{key}")
        elif isinstance(node, list):
            for index, sub in enumerate(node):
                walk(sub, f"{where}[{index}]")

    walk(schema, name)
    assert undescribed == []


def test_every_rule_reported_is_registered() -> None:
    findings = check(LIST_FORM, "values-edge.yaml")
    findings += check(read("values-hub.yaml"), "values-hub.yaml")
    findings += check("main: {}\n", "g.yaml", "global")
    values_rules = {rule_id for rule_id in all_rules() if rule_id.startswith("values/")}
    assert {finding.rule for finding in findings} <= values_rules


# --- the oracle: the published clustergroup schema --------------------------------------------

needs_shared = pytest.mark.skipif(
    not PUBLISHED.is_file(), reason="../shared reference data is absent (fresh clone)"
)


@pytest.fixture(scope="module")
def published() -> jsonschema.Draft7Validator:
    return jsonschema.Draft7Validator(json.loads(PUBLISHED.read_text(encoding="utf-8")))


def merged(group_file: str, *, current: bool = False) -> dict[str, Any]:
    """values-global.yaml merged with a group file, as upstream CI checks them."""
    group_text = read(group_file)
    group = parse_document(modernise(group_text) if current else group_text, group_file).data
    return {**parse_document(read("values-global.yaml"), "g").data, **group}


def without_published_bugs(document: dict[str, Any]) -> dict[str, Any]:
    """The list-form fixture minus the valid values the published schema wrongly rejects."""
    document = copy.deepcopy(document)
    group = document["clusterGroup"]
    del group["subscriptions"][0]["config"]  # published: config must be an array
    del group["applications"][0]["overrides"]  # published: overrides must be a mapping
    del group["applications"][1]["syncPolicy"]  # published: Manual must be a mapping
    return document


def hub_with_provisioning() -> dict[str, Any]:
    document = merged("values-hub.yaml", current=True)
    group = document["clusterGroup"]["managedClusterGroups"]["exampleRegion"]
    group["clusterPools"] = {
        "aws": {
            "name": "aws-ap",
            "openshiftVersion": "4.16.8",
            "baseDomain": "example.com",
            "platform": {"aws": {"region": "ap-southeast-2"}},
            "clusters": ["One"],
        }
    }
    group["clusterSelector"] = {"matchLabels": {"clusterGroup": "group-one"}}
    return document


def generated() -> list[tuple[str, dict[str, Any]]]:
    """values-global.yaml merged with each group file mcg-gen generates for the bundled patterns."""
    documents = []
    for spec in sorted(bundled.patterns_dir().glob("*.yaml")):
        files = {
            name: parse_document(content.decode("utf-8"), name).data
            for name, content in plan_files(load_spec(spec)).items()
            if re.fullmatch(r"values-[^/]+\.yaml", name)
        }
        common = files.pop("values-global.yaml")
        documents += [(f"{spec.stem}/{name}", {**common, **group}) for name, group in files.items()]
    return documents


def corpus() -> list[tuple[str, dict[str, Any]]]:
    return [
        ("hub", merged("values-hub.yaml")),
        ("group-one", merged("values-group-one.yaml")),
        ("hub-current", merged("values-hub.yaml", current=True)),
        ("hub-provisioning", hub_with_provisioning()),
        ("lists", without_published_bugs(merged("values-group-lists.yaml"))),
        *generated(),
    ]


def ours(document: dict[str, Any]) -> list[Finding]:
    doc = parse_document(json.dumps(document), "merged.yaml")
    return [f for f in check_values_file(doc, "group") if f.severity is Severity.ERROR]


@needs_shared
@pytest.mark.parametrize(("label", "document"), corpus(), ids=[label for label, _ in corpus()])
def test_agreement_on_valid_documents(
    published: jsonschema.Draft7Validator, label: str, document: dict[str, Any]
) -> None:
    assert list(published.iter_errors(document)) == []
    assert ours(document) == []


HOLES = [
    ("subscriptions", "acm", "catalogSource", "redhat-operators"),
    ("applications", "config-demo", "nme", "config-demo"),
    ("managedClusterGroups", "exampleRegion", "helmOverride", []),
    ("namespaces", "external-secrets-operator", "targetNamespace", []),
]


@needs_shared
@pytest.mark.parametrize(("section", "entry", "key", "value"), HOLES)
def test_map_form_holes_are_caught_by_ours_only(
    published: jsonschema.Draft7Validator, section: str, entry: str, key: str, value: Any
) -> None:
    document = merged("values-hub.yaml", current=True)
    document["clusterGroup"][section][entry][key] = value
    assert list(published.iter_errors(document)) == []
    assert [(f.rule, f.message) for f in ours(document)] == [
        ("values/unknown-key", f"clusterGroup.{section}.{entry}.{key}: unknown key")
    ]


@needs_shared
def test_valid_values_the_published_schema_rejects_are_accepted_by_ours(
    published: jsonschema.Draft7Validator,
) -> None:
    document = merged("values-group-lists.yaml")
    rejected = {tuple(error.absolute_path)[:4] for error in published.iter_errors(document)}
    assert rejected == {
        ("clusterGroup", "subscriptions", 0, "config"),
        ("clusterGroup", "applications", 0, "overrides"),
        ("clusterGroup", "applications", 1, "syncPolicy"),
    }
    assert ours(document) == []
