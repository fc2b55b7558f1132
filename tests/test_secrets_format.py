"""values-secret.yaml.template checks: valid templates pass, each loader rule gives its finding."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from generator import bundled
from generator.emit.repo import plan_files
from generator.findings import Finding, Severity
from generator.model.secrets_file import secrets_file
from generator.model.secrets_format import check_secrets_format
from generator.model.spec import load_spec
from generator.rules import all_rules
from generator.yamlio import dump_yaml, parse_document
from tests.test_values_schemas_robustness import DATA, located

TEMPLATE = Path(__file__).parent / "fixtures" / "values-cases" / "values-secret.yaml.template"
PUBLISHED = (
    Path(__file__).parents[2] / "shared" / "reference" / "validatedpatterns"
) / "values-secrets.v2.schema.json"
NAME = "values-secret.yaml.template"


def check(text: str) -> list[Finding]:
    return check_secrets_format(parse_document(text, NAME))


def found(text: str) -> list[tuple[str, int, str]]:
    return [(f.rule, f.line, f.message) for f in check(text)]


def test_reference_template_with_every_kind_of_field_is_clean() -> None:
    assert check(TEMPLATE.read_text(encoding="utf-8")) == []


@pytest.mark.parametrize(
    "spec", sorted(bundled.patterns_dir().glob("*.yaml")), ids=lambda spec: spec.stem
)
def test_templates_generated_from_bundled_patterns_have_no_errors(spec: Path) -> None:
    files = plan_files(load_spec(spec))
    findings = check(files[NAME].decode("utf-8"))
    # fields the user must fill in (value: null, onMissingValue: error) are warned about
    assert {f.rule for f in findings} <= {"secrets/no-value"}
    assert all(f.severity is Severity.WARNING for f in findings)


@pytest.mark.parametrize(
    "text",
    [
        'version: "2.0"\nsecrets:\n  - name: a\n    fields:\n      - name: b\n        value: c\n',
        "version: 2.0\nsecrets:\n",
        'version: "2.0"\nsecrets:\n  - name: a\n    fields:\n      - name: b\n'
        "        onMissingValue: generate\n        vaultPolicy: validatedPatternDefaultPolicy\n"
        "        value: null\n",
        'version: "2.0"\nbootstrap_secrets:\n  - name: a\n    targetNamespaces: [ns]\n'
        "    fields:\n      - name: b\n        path: ~/b.txt\n",
    ],
    ids=["name-value", "float-version-empty", "generate-null-value", "bootstrap"],
)
def test_small_valid_files(text: str) -> None:
    assert check(text) == []


HEAD = 'version: "2.0"\nsecrets:\n  - name: app\n    fields:\n'


@pytest.mark.parametrize(
    ("fields", "rule", "line", "message"),
    [
        (
            "      - name: pw\n        onMissingValue: generate\n"
            "        vaultPolicy: validatedPatternDefaultPolicy\n        value: hunter2\n",
            "secrets/exclusive-keys",
            8,
            "secrets[0].fields[0]: a generated field takes no value, path or ini_file "
            "(found 'value')",
        ),
        (
            "      - name: pw\n        value: x\n        override: true\n",
            "secrets/exclusive-keys",
            7,
            "secrets[0].fields[0]: override only applies to onMissingValue: generate "
            "(found 'override')",
        ),
        (
            "      - name: pw\n        onMissingValue: generate\n",
            "secrets/missing-key",
            5,
            "secrets[0].fields[0]: missing key 'vaultPolicy'",
        ),
        (
            "      - name: pw\n        value: a\n      - name: pw\n        value: b\n",
            "secrets/duplicate-field",
            7,
            "secrets[0].fields[1]: duplicate field name 'pw' (first at line 5)",
        ),
        (
            "      - name: pw\n        value: a\n        descripton: the password\n",
            "secrets/unknown-key",
            7,
            "secrets[0].fields[0].descripton: unknown key",
        ),
        (
            "      - name: pw\n        ini_file: ~/.aws/credentials\n",
            "secrets/missing-key",
            6,
            "secrets[0].fields[0].ini_file: needs 'ini_key' too",
        ),
        (
            "      - name: pw\n        value: a\n        path: /tmp/a\n",
            "secrets/exclusive-keys",
            7,
            "secrets[0].fields[0]: value, path and ini_file are alternatives: set only one "
            "(found 'path')",
        ),
        (
            "      - name: pw\n        onMissingValue: prompt\n",
            "secrets/missing-key",
            5,
            "secrets[0].fields[0]: needs 'value' or 'path'",
        ),
        (
            "      - name: pw\n        onMissingValue: generate\n"
            "        vaultPolicy: basicPolicy\n",
            "secrets/unknown-policy",
            7,
            "secrets[0].fields[0].vaultPolicy: no vault policy named 'basicPolicy'",
        ),
        (
            "      - name: pw\n        value: 42\n",
            "secrets/wrong-type",
            6,
            "secrets[0].fields[0].value: expected a string or empty (null), got an integer",
        ),
        (
            "      - name: pw\n        onMissingValue: ask\n        value: null\n",
            "secrets/invalid",
            6,
            "secrets[0].fields[0].onMissingValue: 'ask' is not one of: error, prompt, generate",
        ),
    ],
    ids=[
        "generate-with-value",
        "override-without-generate",
        "generate-without-policy",
        "duplicate-field",
        "unknown-key",
        "ini-file-without-key",
        "value-and-path",
        "prompt-without-value",
        "unknown-policy",
        "value-not-a-string",
        "bad-on-missing-value",
    ],
)
def test_invalid_field(fields: str, rule: str, line: int, message: str) -> None:
    findings = check(HEAD + fields)
    assert [(f.rule, f.line, f.message) for f in findings] == [(rule, line, message)]
    assert findings[0].file == NAME
    assert findings[0].severity is Severity.ERROR


def test_duplicate_secret_names() -> None:
    text = (
        'version: "2.0"\nsecrets:\n'
        "  - name: app\n    fields:\n      - name: a\n        value: x\n"
        "  - name: app\n    fields:\n      - name: b\n        value: y\n"
    )
    assert found(text) == [
        ("secrets/duplicate-name", 7, "secrets[1]: duplicate secret name 'app' (first at line 3)")
    ]


def test_missing_fields_and_empty_fields() -> None:
    text = 'version: "2.0"\nsecrets:\n  - name: app\n  - name: other\n    fields: []\n'
    assert found(text) == [
        ("secrets/missing-key", 3, "secrets[0]: missing key 'fields'"),
        ("secrets/invalid", 5, "secrets[1].fields: must not be empty"),
    ]


def test_without_version_the_file_is_format_one_and_a_list_says_to_add_it() -> None:
    findings = check("secrets:\n  - name: a\n    fields: [{name: b, value: c}]\n")
    assert [(f.rule, f.line) for f in findings] == [("secrets/wrong-type", 1)]
    assert 'add version: "2.0"' in findings[0].hint
    assert found('version: "1.0"\n')[0][:2] == ("secrets/missing-key", 1)
    assert found("version: 2\n") == [("secrets/invalid", 1, "version: 2 is not 2.0")]
    assert found('version: "3.0"\n')[0][:2] == ("secrets/invalid", 1)


def test_secret_level_typo_suggests_the_key() -> None:
    text = 'version: "2.0"\nsecrets:\n  - name: a\n    vaultPrefix: [hub]\n    fields: []\n'
    findings = check(text)
    typo = [f for f in findings if f.rule == "secrets/unknown-key"]
    assert [(f.line, f.hint) for f in typo] == [(4, "did you mean 'vaultPrefixes'?")]


def test_field_without_any_value_is_a_warning() -> None:
    findings = check(HEAD + "      - name: pw\n        value: null\n")
    assert [(f.rule, f.severity, f.line) for f in findings] == [
        ("secrets/no-value", Severity.WARNING, 5)
    ]


def test_backing_store_in_the_file_is_deprecated() -> None:
    findings = check('version: "2.0"\nbackingStore: vault\nsecrets: []\n')
    assert [(f.rule, f.severity, f.line) for f in findings] == [
        ("secrets/deprecated-key", Severity.WARNING, 2)
    ]
    assert "global.secretStore.backend" in findings[0].hint


def test_generate_needs_the_vault_backend() -> None:
    text = (
        'version: "2.0"\nbackingStore: kubernetes\nsecrets:\n  - name: a\n    fields:\n'
        "      - name: b\n        onMissingValue: generate\n"
        "        vaultPolicy: validatedPatternDefaultPolicy\n"
    )
    assert [(f.rule, f.line) for f in check(text)] == [
        ("secrets/deprecated-key", 2),
        ("secrets/generate-needs-vault", 7),
    ]


def test_bootstrap_secrets_need_namespaces_and_cannot_generate() -> None:
    text = (
        'version: "2.0"\nbootstrap_secrets:\n  - name: a\n    fields:\n'
        "      - name: b\n        onMissingValue: generate\n"
        "        vaultPolicy: validatedPatternDefaultPolicy\n"
    )
    assert [(f.rule, f.line) for f in check(text)] == [
        ("secrets/missing-key", 3),
        ("secrets/exclusive-keys", 6),
    ]


def test_every_rule_reported_is_registered() -> None:
    text = TEMPLATE.read_text(encoding="utf-8").replace("name: plain", "name: tls")
    text += "  - name: broken\n    fields:\n      - name: x\n        vaule: 1\n"
    findings = check(text)
    assert {"secrets/duplicate-name", "secrets/unknown-key"} <= {f.rule for f in findings}
    assert {f.rule for f in findings} <= {r for r in all_rules() if r.startswith("secrets/")}


@pytest.mark.skipif(not PUBLISHED.is_file(), reason="../shared reference data is absent")
def test_published_schema_bugs_are_not_ours() -> None:
    """Valid per the loader, rejected by the published schema: field without onMissingValue
    (wrongly needs vaultPolicy), secret-level type and description."""
    published = jsonschema.Draft7Validator(json.loads(PUBLISHED.read_text(encoding="utf-8")))
    text = (
        'version: "2.0"\nsecrets:\n  - name: a\n    type: kubernetes.io/tls\n'
        "    description: TLS pair\n    fields:\n      - name: b\n        value: c\n"
    )
    assert list(published.iter_errors(parse_document(text, NAME).data))
    assert check(text) == []


V1_KEYS = st.sampled_from(["secrets", "files", "secrets.region", "files.edge", "secretsX", "other"])


def _checked_and_modelled(data: dict[str, Any]) -> None:
    """The checks give located findings; a file without errors becomes a model."""
    text = dump_yaml(data)
    doc = parse_document(text, NAME)
    findings = check_secrets_format(doc)
    assert located(findings, text)
    if not any(f.severity is Severity.ERROR for f in findings):
        secrets_file(doc)


@settings(max_examples=150, deadline=None)
@given(st.dictionaries(V1_KEYS, DATA, max_size=4))
def test_format_one_checks_and_model_never_crash(data: dict[str, Any]) -> None:
    _checked_and_modelled(data)


@settings(max_examples=150, deadline=None)
@given(DATA, DATA)
def test_secrets_next_to_bootstrap_secrets_never_crash(secrets: Any, bootstrap: Any) -> None:
    _checked_and_modelled({"version": "2.0", "secrets": secrets, "bootstrap_secrets": bootstrap})


def test_the_none_backend_needs_target_namespaces() -> None:
    text = (
        'version: "2.0"\nbackingStore: none\nsecrets:\n'
        "  - name: a\n    fields: [{name: b, value: c}]\n"
        "  - name: d\n    targetNamespaces: []\n    fields: [{name: e, value: f}]\n"
        "  - name: g\n    targetNamespaces: [apps]\n    fields: [{name: h, value: i}]\n"
    )
    assert [(f.rule, f.line) for f in check(text) if f.severity is Severity.ERROR] == [
        ("secrets/missing-key", 4),
        ("secrets/invalid", 7),
    ]
