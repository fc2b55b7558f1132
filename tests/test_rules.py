"""The rule catalogue and `mcg-gen rules`."""

from __future__ import annotations

import re
from collections.abc import Callable
from itertools import pairwise
from pathlib import Path

import pytest

from generator import schema_check
from generator.findings import Severity
from generator.rules import LAYERS, all_rules, layer_of, rule, similar
from tests.conftest import Result

RULE_LITERAL = re.compile(rf'"((?:{"|".join(LAYERS)})/[a-z0-9]+(?:-[a-z0-9]+)*)"')


RULE_CONSTANT = re.compile(r"\brules\.([A-Z][A-Z0-9_]*)\b")
PACKAGE = Path(__file__).resolve().parents[1] / "generator"


def code_files() -> list[Path]:
    return [path for path in PACKAGE.rglob("*.py") if path != PACKAGE / "rules.py"]


def test_rule_ids_are_spelled_only_in_the_catalogue() -> None:
    spelled = {
        f"{path.relative_to(PACKAGE)}: {literal}"
        for path in code_files()
        for literal in RULE_LITERAL.findall(path.read_text())
    }
    assert spelled == set()


def test_every_rule_of_the_catalogue_is_emitted() -> None:
    """Each rule is emitted through its constant, or by the schema layers (values/<kind>,
    secrets/<kind>), which name their findings after the schema keyword that failed."""
    from generator import rules

    constants = {
        getattr(rules, name).id
        for path in code_files()
        for name in RULE_CONSTANT.findall(path.read_text())
    }
    by_schema = {
        f"{layer}/{kind}" for layer in ("values", "secrets") for kind in schema_check.KINDS
    }
    assert {"links/app-path-missing", "chart/render-crash", "yaml/invalid"} <= constants
    assert constants | (by_schema & set(all_rules())) == set(all_rules())
    assert by_schema <= set(all_rules())


def test_every_rule_is_explained() -> None:
    for rule_id, entry in all_rules().items():
        assert entry.id == rule_id
        assert re.fullmatch(r"[a-z]+(-[a-z]+)?/[a-z0-9]+(-[a-z0-9]+)*", rule_id), rule_id
        assert isinstance(entry.severity, Severity)
        assert entry.summary and "\n" not in entry.summary, rule_id
        assert len(entry.explanation) > 2 * len(entry.summary), rule_id
        assert entry.explanation.endswith("."), rule_id


def test_default_severities() -> None:
    assert rule("values/unknown-key").severity == Severity.ERROR
    assert rule("values/deprecated-key").severity == Severity.WARNING
    assert rule("schema/unknown-kind").severity == Severity.WARNING
    assert rule("chart/not-rendered").severity == Severity.INFO
    assert rule("chart/unchecked-value-file").severity == Severity.INFO


def test_rules_are_grouped_by_layer() -> None:
    layers = [layer_of(rule_id) for rule_id in all_rules()]
    changes = sum(1 for here, after in pairwise(layers) if here != after)
    assert changes + 1 == len(set(layers))  # each layer in one run
    assert layers[0] == "yaml" and layers[1] == "spec"


def test_unknown_rule_and_suggestions() -> None:
    with pytest.raises(KeyError):
        rule("values/unknwn-key")
    assert similar("values/unknwn-key")[0] == "values/unknown-key"
    assert "values/unknown-key" in similar("unknown-key")
    assert similar("zzzz") == []


# mcg-gen rules


def test_rules_lists_every_rule_in_aligned_columns(cli: Callable[..., Result]) -> None:
    result = cli("rules")
    assert result.code == 0, result.err
    lines = result.out.splitlines()
    rows = [line for line in lines if line.startswith("  ")]
    assert [row.split()[0] for row in rows] == list(all_rules())
    severity_columns = {row.index(row.split()[1], len(row.split()[0]) + 2) for row in rows}
    assert len(severity_columns) == 1
    for row in rows:
        entry = rule(row.split()[0])
        assert row.split(maxsplit=2)[1:] == [entry.severity.value, entry.summary]
    headers = [line for line in lines if line and not line.startswith(" ")]
    assert headers[:3] == ["yaml:", "spec:", "values:"]
    assert len(headers) == len({layer_of(rule_id) for rule_id in all_rules()})


def test_rules_explains_one_rule(cli: Callable[..., Result]) -> None:
    result = cli("rules", "values/unknown-key")
    assert result.code == 0, result.err
    entry = rule("values/unknown-key")
    head, summary, blank, *body = result.out.splitlines()
    assert head == "values/unknown-key (error by default)"
    assert summary == entry.summary and blank == ""
    assert " ".join(body) == entry.explanation
    assert max(len(line) for line in body) <= 80


def test_rules_of_one_layer(cli: Callable[..., Result]) -> None:
    result = cli("rules", "names")
    assert result.code == 0, result.err
    rows = [line.split()[0] for line in result.out.splitlines() if line.startswith("  ")]
    assert rows == ["names/acm-policy-length", "names/argocd-route-length", "names/dns-1123"]


def test_unknown_rule_is_a_usage_error_with_a_suggestion(cli: Callable[..., Result]) -> None:
    result = cli("rules", "values/unknwn-key")
    assert result.code == 2
    assert result.out == ""
    assert "unknown rule 'values/unknwn-key'" in result.err
    assert "did you mean values/unknown-key" in result.err
    assert "Traceback" not in result.err


def test_rules_help_has_examples(cli: Callable[..., Result]) -> None:
    result = cli("rules", "--help")
    assert result.code == 0
    assert "mcg-gen rules values/unknown-key" in result.out
