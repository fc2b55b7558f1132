"""Hostile input files (tests/corpus/): every command answers with one clear message naming the
file and line, exits 1, never shows a traceback, never constructs anything from a tag, stays
within bounded time and memory, and leaves the repository as it was."""

from __future__ import annotations

import json
import resource
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from generator.yamlio import MAX_DEPTH, MAX_FILE_BYTES
from tests.conftest import Result, run_subprocess, tree

CORPUS = Path(__file__).parent / "corpus"
# A whole run (and the Helm worker it starts, which raises its own limit) stays far below this.
MEMORY_LIMIT_BYTES = 1024**3
TIME_LIMIT_SECONDS = 120

# Files no YAML reader of ours accepts, whatever the file is for: (line, message), line 0 when
# the problem is the whole file.
YAML_CASES: dict[str, tuple[int, str]] = {
    "billion-laughs": (29, "document expands to more than 1,000,000 nodes"),
    "merge-key-bomb": (29, "document expands to more than 1,000,000 nodes"),
    "recursive-alias": (1, f"nested deeper than {MAX_DEPTH} levels"),
    "binary-nul": (0, "file is binary (contains NUL bytes)"),
    "utf16": (0, "file is UTF-16, not UTF-8"),
    "latin1": (0, "file is not valid UTF-8 (byte 7)"),
    "binary-tag": (7, "binary values are not supported"),
    "duplicate-key": (8, "duplicate key 'revision'"),
    "key-is-a-mapping": (29, "mapping keys must be plain scalars"),
    "local-tag": (7, "unsupported tag '!Ref'"),
    "python-name": (7, "unsupported tag 'tag:yaml.org,2002:python/name:os.system'"),
    "python-object-apply": (1, "unsupported tag 'tag:yaml.org,2002:python/object/apply"),
    "python-object-new": (7, "unsupported tag 'tag:yaml.org,2002:python/object/new"),
    "malformed-flow": (10, "invalid YAML: did not find expected ',' or ']'"),
    "tab-indented": (7, "found a tab character"),
    "multiple-documents": (0, "expected a single YAML document, found several"),
}
# Well-formed YAML that is not an acceptable spec.
SPEC_CASES: dict[str, tuple[int, str]] = {
    "empty": (1, "a pattern spec must be a mapping"),
    "not-a-mapping": (1, "a pattern spec must be a mapping"),
    "group-name-cyrillic": (15, "U+043E (CYRILLIC SMALL LETTER O) at character 7"),
    "group-name-fullwidth": (15, "U+FF4F (FULLWIDTH LATIN SMALL LETTER O) at character 7"),
    "group-name-zero-width": (15, "U+200B (ZERO WIDTH SPACE) at character 7"),
    "group-name-newline": (15, "U+000A (a control character) at character 6"),
    "app-path-dotdot": (21, "app path '../../outside' is not a folder inside the repository"),
    "app-path-hidden-dotdot": (21, "'charts/all/../../../outside' is not a folder inside"),
    "app-path-absolute": (21, "app path '/etc' is not a folder inside the repository"),
    "app-path-git": (21, "app path '.git/hooks' is not a folder inside the repository"),
    "control-characters": (2, "description: contains the invisible character U+0007"),
    "bidi-override": (2, "description: contains the invisible character U+202E"),
}
EVERY_SPEC_CASE = {**YAML_CASES, **SPEC_CASES}


def corpus_file(case: str) -> Path:
    for folder in ("yaml", "spec"):
        path = CORPUS / folder / f"{case}.yaml"
        if path.is_file():
            return path
    raise AssertionError(f"no corpus file for {case}")


def base_spec() -> str:
    """The spec the corpus files were derived from (they differ from it in one place)."""
    return corpus_file("duplicate-key").read_text().replace("  revision: dev\n", "")


def write_generated_case(folder: Path, case: str) -> tuple[Path, int, str]:
    """Cases too large to keep in git: the file, and the (line, message) expected for it."""
    path = folder / f"{case}.yaml"
    if case == "huge":
        with path.open("w") as handle:
            handle.write(base_spec())
            handle.write("# padding\n" * (MAX_FILE_BYTES // 10 + 1))
        return path, 0, f"larger than the {MAX_FILE_BYTES:,} bytes mcg-gen reads"
    if case == "deep-flow":
        path.write_text(base_spec() + "deep: " + "[" * 100_000 + "]" * 100_000 + "\n")
        return path, 29, "exceeded maximum nesting depth"
    if case == "deep-block":
        lines = [base_spec(), "deep:\n"] + ["  " * depth + "k:\n" for depth in range(1, 400)]
        path.write_text("".join(lines))
        return path, 29 + MAX_DEPTH + 1, f"nested deeper than {MAX_DEPTH} levels"
    if case == "name-4000-characters":
        path.write_text(base_spec().replace("- name: group-one", "- name: " + "g" * 4000))
        return path, 15, "'gggggggggggggggggggggggggggggggggggggggg... (4,000 characters)'"
    raise AssertionError(case)


GENERATED_CASES = ("huge", "deep-flow", "deep-block", "name-4000-characters")


def assert_one_clear_error(result: Result, file: str, line: int, message: str) -> None:
    assert result.code == 1, (result.code, result.err)
    assert "Traceback" not in result.err
    first = result.err.splitlines()[0]
    where = f"{file}:{line}:" if line else f"{file}"
    assert first.startswith(f"mcg-gen: error: {where}"), first
    assert message in result.err, result.err
    assert len(result.err) < 1000, "one message, not a dump"


def test_corpus_and_expectations_agree() -> None:
    on_disk = {path.stem for path in CORPUS.glob("*/*.yaml")}
    assert on_disk == set(EVERY_SPEC_CASE)


@pytest.mark.parametrize("case", sorted(EVERY_SPEC_CASE))
def test_new_refuses_a_hostile_spec_and_creates_nothing(
    case: str, tmp_path: Path, cli: Callable[..., Result]
) -> None:
    line, message = EVERY_SPEC_CASE[case]
    source = corpus_file(case)
    result = cli("new", "demo", "--spec", str(source), "--output", "out", cwd=tmp_path)
    assert_one_clear_error(result, str(source), line, message)
    assert list(tmp_path.iterdir()) == [], "no repository, no staging folder, no tag executed"


@pytest.mark.parametrize("case", GENERATED_CASES)
def test_new_refuses_generated_hostile_specs(
    case: str, tmp_path: Path, cli: Callable[..., Result]
) -> None:
    source, line, message = write_generated_case(tmp_path, case)
    result = cli("new", "demo", "--spec", str(source), "--output", "out", cwd=tmp_path)
    assert_one_clear_error(result, str(source), line, message)
    assert not (tmp_path / "out").exists()


def generate_base(folder: Path) -> Path:
    """A repository generated from the base spec in `folder` (made once per module; tests work
    on copies)."""
    target = folder / "demo"
    spec = folder / "spec.yaml"
    spec.write_text(base_spec())
    completed = run_limited("new", "demo", "--spec", str(spec), "--output", str(target), "--no-git")
    assert completed.code == 0, completed.err
    return target


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return generate_base(tmp_path_factory.mktemp("pristine"))


@pytest.fixture
def repo(pristine: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "demo"
    shutil.copytree(pristine, copy, symlinks=True)
    return copy


@pytest.mark.parametrize("case", sorted(EVERY_SPEC_CASE))
def test_generate_refuses_a_hostile_spec_and_changes_nothing(
    case: str, repo: Path, cli: Callable[..., Result]
) -> None:
    line, message = EVERY_SPEC_CASE[case]
    shutil.copyfile(corpus_file(case), repo / "pattern.yaml")
    before = tree(repo)
    result = cli("generate", cwd=repo)
    assert_one_clear_error(result, "pattern.yaml", line, message)
    assert tree(repo) == before
    assert not (repo / "mcg-gen-pwned").exists()


@pytest.mark.parametrize("case", sorted(YAML_CASES))
def test_render_refuses_a_hostile_values_file(
    case: str, repo: Path, cli: Callable[..., Result]
) -> None:
    line, message = YAML_CASES[case]
    shutil.copyfile(corpus_file(case), repo / "values-hub.yaml")
    before = tree(repo)
    result = cli("render", "--group", "hub", "--apps", cwd=repo)
    assert_one_clear_error(result, "values-hub.yaml", line, message)
    assert result.out == ""
    assert tree(repo) == before


def run_limited(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None) -> Result:
    """`mcg-gen ARGS` in a child process bounded in address space and time."""

    def limit() -> None:
        # only the soft limit: the Helm worker sets its own (larger) one, which it may
        resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT_BYTES, resource.RLIM_INFINITY))

    return run_subprocess(*args, cwd=cwd, timeout=TIME_LIMIT_SECONDS, env=env, preexec_fn=limit)


@pytest.mark.parametrize("case", [*GENERATED_CASES[:3], "billion-laughs", "merge-key-bomb"])
def test_bombs_and_giants_stay_within_memory_and_time(case: str, tmp_path: Path) -> None:
    if case in GENERATED_CASES:
        source, line, message = write_generated_case(tmp_path, case)
    else:
        source = corpus_file(case)
        line, message = YAML_CASES[case]
    result = run_limited("new", "demo", "--spec", str(source), "--output", str(tmp_path / "out"))
    assert_one_clear_error(result, str(source), line, message)


def test_validate_reports_every_hostile_file_as_a_finding(repo: Path, tmp_path: Path) -> None:
    """All cases at once in one repository, under memory and time limits: each broken file is a
    finding at its line, and the rest of the repository is still validated."""
    expected = {}
    for case, (line, _) in YAML_CASES.items():
        shutil.copyfile(corpus_file(case), repo / f"values-case-{case}.yaml")
        expected[f"values-case-{case}.yaml"] = line
    for case in GENERATED_CASES[:3]:
        source, line, _ = write_generated_case(tmp_path, case)
        shutil.copyfile(source, repo / f"values-case-{case}.yaml")
        expected[f"values-case-{case}.yaml"] = line
    before = tree(repo)
    result = run_limited("validate", str(repo), "--format", "json")
    assert result.code == 1, result.err
    assert "Traceback" not in result.err
    findings = json.loads(result.out)["findings"]
    found = {f["file"]: f["line"] for f in findings if f["rule"] == "yaml/invalid"}
    assert found == expected
    assert not [f for f in findings if f["rule"].startswith(("chart/render", "schema/"))]
    assert tree(repo) == before


@pytest.mark.parametrize(
    "case",
    [
        "python-object-apply",
        "billion-laughs",
        "group-name-cyrillic",
        "app-path-dotdot",
        "bidi-override",
    ],
)
def test_validate_reports_a_hostile_spec_as_a_finding(
    case: str, repo: Path, cli: Callable[..., Result]
) -> None:
    line, message = EVERY_SPEC_CASE[case]
    shutil.copyfile(corpus_file(case), repo / "pattern.yaml")
    result = cli("validate", "--format", "json", cwd=repo)
    assert result.code == 1, result.err
    findings = json.loads(result.out)["findings"]
    [finding] = [f for f in findings if f["file"] == "pattern.yaml"]
    assert finding["rule"] in ("yaml/invalid", "spec/invalid")
    assert finding["line"] == line
    assert message in finding["message"] + finding["hint"]
    assert not (repo / "mcg-gen-pwned").exists()


PAYLOADS = (
    '{{ fail "evaluated" }}',
    "{{ .Values.global.pattern }}",
    '{{ tpl "{{ fail \\"evaluated\\" }}" . }}',
    "{% if true %}jinja{% endif %}",
    "{%- set x = 1 %}{# comment #}",
    '{{ lookup "v1" "Secret" "" "" }}',
)


def spec_with_payloads() -> dict[str, Any]:
    joined = " ".join(PAYLOADS)
    return {
        "name": "literal",
        "description": joined,
        "git": {"repoURL": "https://git.example.com/literal.git"},
        "hub": {
            "apps": ["web"],
            "jobs": [{"name": "job", "playbook": "ns.coll.play", "extravars": list(PAYLOADS)}],
        },
        "groups": [{"name": "edge", "apps": ["web"]}],
        "apps": {"web": {"secrets": ["db"]}},
        "secrets": {"db": {"description": joined, "fields": {"password": "generate"}}},
    }


def test_template_payloads_stay_literal_in_files_and_renders(
    tmp_path: Path, cli: Callable[..., Result]
) -> None:
    """Evaluated, `fail` would stop the command and `.Values.global.pattern` would change."""
    import yaml

    spec = tmp_path / "spec.yaml"
    spec.write_text(yaml.safe_dump(spec_with_payloads()))
    repo = tmp_path / "literal"
    result = cli("new", "literal", "--spec", str(spec), "--output", str(repo), "--no-git")
    assert result.code == 0, result.err
    files = tree(repo)
    jobs = yaml.safe_load(files["values-hub.yaml"])["clusterGroup"]["imperative"]["jobs"]
    assert [job["extravars"] for job in jobs] == [list(PAYLOADS)]
    assert " ".join(PAYLOADS) in files["README.md"].decode()
    assert " ".join(PAYLOADS) in files["values-secret.yaml.template"].decode()

    rendered = cli("render", "--group", "hub", "--apps", cwd=repo)
    assert rendered.code == 0, rendered.err
    assert "literal" in rendered.out and "evaluated" not in rendered.err

    validated = cli("validate", "--format", "json", cwd=repo)
    assert validated.code == 0, validated.out


def web_parameters(rendered: str) -> dict[str, str]:
    import yaml

    documents = list(yaml.safe_load_all(rendered))
    [web] = [d for d in documents if d["kind"] == "Application" and d["metadata"]["name"] == "web"]
    sources = web["spec"].get("sources") or [web["spec"]["source"]]
    return {p["name"]: p["value"] for s in sources for p in s.get("helm", {}).get("parameters", [])}


def test_overrides_are_helm_templates_as_upstream_renders_them(
    tmp_path: Path, cli: Callable[..., Result]
) -> None:
    """The clustergroup chart renders every override value with `tpl` (upstream 0.9.55 does,
    and patterns rely on it for cluster facts): mcg-gen writes the value as the user wrote it and
    render shows what Argo CD gets; a template that fails is a render error, not a crash."""
    import yaml

    spec = spec_with_payloads()
    spec["apps"]["web"]["overrides"] = {
        "fact": "{{ $.Values.global.pattern }}",
        "literal": '{{ "{{" }} not evaluated }}',
    }
    (tmp_path / "spec.yaml").write_text(yaml.safe_dump(spec))
    repo = tmp_path / "templated"
    result = cli("new", "literal", "--spec", str(tmp_path / "spec.yaml"), "--output", str(repo))
    assert result.code == 0, result.err
    written = yaml.safe_load((repo / "values-edge.yaml").read_text())
    overrides = written["clusterGroup"]["applications"]["web"]["overrides"]
    assert overrides == [
        {"name": k, "value": v} for k, v in spec["apps"]["web"]["overrides"].items()
    ]
    rendered = cli("render", "--group", "hub", cwd=repo)
    assert rendered.code == 0, rendered.err
    parameters = web_parameters(rendered.out)
    assert parameters["fact"] == "literal"
    assert parameters["literal"] == "{{ not evaluated }}"

    spec["apps"]["web"]["overrides"] = {"broken": '{{ fail "stop here" }}'}
    (repo / "pattern.yaml").write_text(yaml.safe_dump(spec))
    assert cli("generate", cwd=repo).code == 0
    rendered = cli("render", "--group", "hub", cwd=repo)
    assert rendered.code == 1
    assert rendered.err.startswith("mcg-gen: error: "), rendered.err
    assert "stop here" in rendered.err and "Traceback" not in rendered.err
