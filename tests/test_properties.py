"""Properties over many inputs (hypothesis): any valid spec gives a repository that validates
clean and regenerates identically; any mutation of a valid values file gives findings or a
clear error, never a crash."""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from generator.checks.links import check_values_links
from generator.checks.values import check_values_file
from generator.cli import main
from generator.emit.repo import plan_files
from generator.errors import McgError
from generator.model.spec import parse_spec
from generator.model.values import load_values_repo
from generator.yamlio import parse_document
from tests.test_hostile_inputs import generate_base, run_limited

PLATFORM_NAMES = {"acm", "vault", "eso", "openshift-external-secrets", "hub", "common"}
label = st.from_regex(r"[a-z][a-z0-9]{0,5}(-[a-z0-9]{1,3})?", fullmatch=True).filter(
    lambda name: name not in PLATFORM_NAMES
)
text = st.text(
    st.characters(codec="utf-8", exclude_categories=("Cs", "Cc", "Cf")), min_size=1, max_size=30
)
helm_value = st.one_of(text, st.integers(-1000, 1000), st.booleans())


@st.composite
def specs(draw: st.DrawFn) -> dict[str, Any]:
    """A valid pattern spec: names within the rules, every app, secret and operator used."""
    names = draw(st.lists(label, min_size=3, max_size=12, unique=True))
    pattern, names = names[0], names[1:]
    apps = names[: draw(st.integers(1, min(4, len(names) - 1)))]
    rest = names[len(apps) :]
    groups = rest[: draw(st.integers(0, min(2, len(rest))))]
    rest = rest[len(groups) :]
    secrets = rest[: draw(st.integers(0, min(2, len(rest))))]
    operators = rest[len(secrets) :][: draw(st.integers(0, 2))]

    app_specs: dict[str, Any] = {}
    for app in apps:
        body: dict[str, Any] = {}
        if secrets and draw(st.booleans()):
            body["secrets"] = draw(st.lists(st.sampled_from(secrets), min_size=1, unique=True))
        if draw(st.booleans()):
            keys = st.from_regex(r"[a-z][a-zA-Z0-9]{0,6}", fullmatch=True)
            body["overrides"] = draw(st.dictionaries(keys, helm_value, min_size=1, max_size=3))
        app_specs[app] = body
    for secret in secrets:  # each secret is read by some app
        if not any(secret in body.get("secrets", []) for body in app_specs.values()):
            app_specs[apps[0]].setdefault("secrets", []).append(secret)

    group_specs = [
        {
            "name": group,
            "apps": draw(st.lists(st.sampled_from(apps), unique=True)),
            "operators": draw(st.lists(st.sampled_from(operators), unique=True))
            if operators
            else [],
        }
        for group in groups
    ]
    used = {app for group in group_specs for app in group["apps"]}
    hub_apps = draw(st.lists(st.sampled_from(apps), unique=True))
    hub_apps += [app for app in apps if app not in used and app not in hub_apps]
    spec: dict[str, Any] = {
        "name": pattern,
        "description": draw(text),
        "git": {"repoURL": f"https://git.example.com/{pattern}.git"},
        "hub": {"apps": hub_apps, "operators": operators},
        "groups": group_specs,
        "apps": app_specs,
    }
    if operators:
        spec["operators"] = {op: {"channel": draw(label)} for op in operators}
    if secrets:
        sources = st.sampled_from(["generate", "prompt", "required"])
        fields = st.dictionaries(
            st.from_regex(r"[a-z][a-z0-9_]{0,8}", fullmatch=True), sources, min_size=1, max_size=3
        )
        spec["secrets"] = {
            secret: {"description": draw(text), "fields": draw(fields)} for secret in secrets
        }
    return spec


@settings(max_examples=60, deadline=None)
@given(specs())
def test_every_generated_spec_is_accepted_and_emits_parseable_deterministic_files(
    spec: dict[str, Any],
) -> None:
    text_ = yaml.safe_dump(spec, allow_unicode=True, sort_keys=False)
    pattern = parse_spec(text_)
    files = plan_files(pattern)
    assert files == plan_files(parse_spec(text_))
    for name, content in files.items():
        if name.endswith((".yaml", ".yml")) and "/templates/" not in name:
            parse_document(content.decode(), name)  # our own reader accepts what we wrote
    assert not any(name.startswith(("/", "..")) for name in files)


def findings(repo: Path) -> list[dict[str, Any]]:
    result = run_limited("validate", str(repo), "--format", "json")
    assert result.code in (0, 1), result.err
    assert "Traceback" not in result.err
    document: list[dict[str, Any]] = json.loads(result.out)["findings"]
    return document


@settings(max_examples=5, deadline=None)
@given(specs())
def test_any_valid_spec_validates_clean_and_regenerates_identically(
    spec: dict[str, Any],
) -> None:
    with tempfile.TemporaryDirectory() as folder:
        source = Path(folder) / "spec.yaml"
        source.write_text(yaml.safe_dump(spec, allow_unicode=True, sort_keys=False))
        repo = Path(folder) / "repo"
        result = run_limited("new", spec["name"], "--spec", str(source), "--output", str(repo))
        assert result.code == 0, result.err
        serious = [f for f in findings(repo) if f["severity"] != "info"]
        assert serious == [], spec
        check = run_limited("generate", str(repo), "--check")
        assert check.code == 0, check.out + check.err


# --- mutations of a valid values file --------------------------------------------------------

Path_ = tuple[Any, ...]


def paths_of(node: Any, prefix: Path_ = ()) -> list[Path_]:
    found = [prefix]
    if isinstance(node, dict):
        for key, value in node.items():
            found += paths_of(value, (*prefix, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found += paths_of(value, (*prefix, index))
    return found


def parent_and_key(data: Any, path: Path_) -> tuple[Any, Any]:
    node = data
    for part in path[:-1]:
        node = node[part]
    return node, path[-1]


scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), text)
values_anything = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=6,
)


@st.composite
def mutated(draw: st.DrawFn, original: dict[str, Any]) -> dict[str, Any]:
    """`original` with 1-3 random edits: a key deleted, inserted or renamed, a value retyped."""
    data = json.loads(json.dumps(original))
    for _ in range(draw(st.integers(1, 3))):
        paths = [p for p in paths_of(data) if p]
        if not paths:
            data[draw(st.text(max_size=12))] = draw(values_anything)
            continue
        path = draw(st.sampled_from(paths))
        parent, key = parent_and_key(data, path)
        operation = draw(st.sampled_from(["delete", "insert", "retype", "rename"]))
        if operation == "delete":
            del parent[key]
        elif operation == "retype":
            parent[key] = draw(values_anything)
        elif operation == "insert" and isinstance(parent, dict):
            parent[draw(st.text(max_size=12))] = draw(values_anything)
        elif operation == "insert":
            parent.insert(key, draw(values_anything))
        elif isinstance(parent, dict):
            parent[draw(st.text(min_size=1, max_size=12))] = parent.pop(key)
    return data


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = generate_base(tmp_path_factory.mktemp("pristine"))
    return target


def hub_values(repo: Path) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((repo / "values-hub.yaml").read_text())
    return data


def write_mutation(repo: Path, data: dict[str, Any]) -> None:
    (repo / "values-hub.yaml").write_text(yaml.safe_dump(data, allow_unicode=True))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_values_checks_survive_any_mutation(pristine: Path, data: st.DataObject) -> None:
    """The in-process checks of one values file and of the links between files."""
    changed = data.draw(mutated(hub_values(pristine)))
    with tempfile.TemporaryDirectory() as folder:
        repo = Path(folder) / "repo"
        shutil.copytree(pristine, repo)
        write_mutation(repo, changed)
        try:
            document = parse_document((repo / "values-hub.yaml").read_text(), "values-hub.yaml")
        except McgError:
            return  # e.g. a key PyYAML writes but YAML 1.1 reads back as a duplicate
        check_values_file(document, "group")
        check_values_links(load_values_repo(repo))


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(data=st.data())
def test_render_survives_any_mutation(
    pristine: Path, data: st.DataObject, capsys: pytest.CaptureFixture[str]
) -> None:
    changed = data.draw(mutated(hub_values(pristine)))
    with tempfile.TemporaryDirectory() as folder:
        repo = Path(folder) / "repo"
        shutil.copytree(pristine, repo)
        write_mutation(repo, changed)
        capsys.readouterr()  # what earlier examples printed
        code = main(["render", str(repo), "--group", "hub", "--apps"])
        assert code in (0, 1)
        err = capsys.readouterr().err
        assert "Traceback" not in err
        if code == 1:  # the info lines of what was rendered, then one error
            messages = [line for line in err.splitlines() if not line.startswith(("info: ", " "))]
            assert messages[0].startswith("mcg-gen: error: "), err


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_validate_survives_any_mutation(pristine: Path, data: st.DataObject) -> None:
    changed = data.draw(mutated(hub_values(pristine)))
    with tempfile.TemporaryDirectory() as folder:
        repo = Path(folder) / "repo"
        shutil.copytree(pristine, repo)
        write_mutation(repo, changed)
        findings(repo)


SECRET_KEYS = ["password: ", "PassWord=", "  - api_key: '", "token: ", "secret: ", "note: ", ""]
SECRET_KEYS += ["pa\u017f\u017fword: "]  # long s: IGNORECASE matches it as s
SECRET_VALUES = [
    "Xk9mQ2vL8pR4tW7zB3nY",
    "a8f5f167f44f4964e6c998dee827110c",
    "AKIAIOSFODNN7EXAMPLE",
    "ASIAIOSFODNN7EXAMPLE",
    "ghp_" + "A1b2C3d4" * 5,
    "glpat-abcdefghijklmnopqrstu",
    "xoxb-1234567890-abc",
    "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.dozjgNryP4J3jVmNHl0w5N",
    "-----BEGIN RSA PRIVATE KEY-----",
    "{{ .Values.password }}",
    "plain words",
]
# mostly plain lines: one odd break or letter sends the whole text down the slow path
LINE_ENDINGS = ["\n"] * 12 + ["", "\r\n", "\u2028", " \u00e9\n"]


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(SECRET_KEYS),
            st.sampled_from(SECRET_VALUES),
            st.sampled_from(LINE_ENDINGS),
        ),
        max_size=8,
    )
)
def test_secret_scan_finds_what_a_scan_of_every_line_finds(
    lines: list[tuple[str, str, str]],
) -> None:
    """The scan looks only at lines holding a mark or key word; that must lose nothing against
    scanning every line with the same per-line rules."""
    from generator.checks import hygiene

    text = "".join(key + value + end for key, value, end in lines)
    every_line = [
        finding
        for number, line in enumerate(text.splitlines(), start=1)
        for finding in hygiene.scan_line("f.yaml", number, line)
    ]
    assert list(hygiene.scan_text("f.yaml", text)) == every_line


def os_walk_entries(top: str, leaving_out: set[str]) -> list[tuple[str, str, int]]:
    """What a walk must find, by os.walk: every regular file and link below `top`, names
    sorted, links to folders listed and not entered, .git and __pycache__ and the folders
    `leaving_out` (relative names) left out."""
    import os
    import stat

    found = []
    for current, folders, names in os.walk(top):
        folders[:] = sorted(name for name in folders if name not in (".git", "__pycache__"))
        linked = [name for name in folders if os.path.islink(os.path.join(current, name))]
        folders[:] = [name for name in folders if name not in linked]
        below = os.path.relpath(current, top)
        folders[:] = [
            name
            for name in folders
            if (name if below == "." else f"{below}/{name}") not in leaving_out
        ]
        for name in sorted(names + linked):
            full = os.path.join(current, name)
            status = os.lstat(full)
            if stat.S_ISREG(status.st_mode) or stat.S_ISLNK(status.st_mode):
                found.append((name if below == "." else f"{below}/{name}", full, status.st_ino))
    return found


TREE_NAMES = st.sampled_from(["a", "b", "B", "a-b", "a.b", ".git", "__pycache__", "é"])
TREE_ENTRIES = st.lists(
    st.tuples(
        st.lists(TREE_NAMES, min_size=1, max_size=4),
        st.sampled_from(["file", "folder", "link-file", "link-folder", "link-missing", "fifo"]),
    ),
    max_size=14,
)


@settings(max_examples=120, deadline=None)
@given(TREE_ENTRIES, st.data())
def test_tree_walks_what_os_walk_finds(
    entries: list[tuple[list[str], str]], data: st.DataObject
) -> None:
    """repofs.Tree lists each folder once for all the walks of a run: a walk of any folder,
    before or after walks of the folders around it, and leaving out any of its folders, finds
    what os.walk does."""
    import os

    from generator import repofs

    with tempfile.TemporaryDirectory() as scratch:
        top = Path(scratch, "top")
        top.mkdir()
        outside = Path(scratch, "outside")
        outside.mkdir()
        (outside / "f").write_text("x")
        for parts, kind in entries:
            path = top.joinpath(*parts)
            if os.path.lexists(path):
                continue  # (writing to a named pipe would wait for a reader)
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                if kind == "file":
                    path.write_text("x")
                elif kind == "folder":
                    path.mkdir()
                elif kind == "fifo":
                    os.mkfifo(path)
                else:
                    target = {"link-file": outside / "f", "link-folder": outside}.get(kind)
                    path.symlink_to(target or Path(scratch, "missing"))
            except OSError:
                continue  # a name already taken by another kind, or below a file
        folders = [str(top)] + [str(folder) for folder in sorted(top.rglob("*")) if folder.is_dir()]
        tree = repofs.Tree()
        for folder in data.draw(st.lists(st.sampled_from(folders), min_size=1, max_size=5)):
            below = [os.path.relpath(other, folder) for other in folders if other != folder]
            inside = [name for name in below if not name.startswith("..")]
            leaving_out = (
                set(data.draw(st.lists(st.sampled_from(inside), max_size=2))) if inside else set()
            )
            walked = [
                (name, full, status.st_ino) for name, full, status in tree.walk(folder, leaving_out)
            ]
            assert walked == os_walk_entries(folder, leaving_out)
