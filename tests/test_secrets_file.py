"""The values-secret loader: files into the model, values read from files and ini files, the
repository context from pattern.yaml or from values files alone."""

from __future__ import annotations

import base64
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from generator.errors import McgError, SpecErrors
from generator.model.pattern import Secret, SecretField
from generator.model.secrets_file import (
    ValueSource,
    field_value,
    load_repo,
    load_secrets_file,
    redact,
)
from tests.conftest import PROJECT, Result

FIXTURE = PROJECT / "tests" / "fixtures" / "reference-mcg"

MINIMAL = """\
version: "2.0"
secrets:
  - name: plain
    fields:
      - name: a
        value: x
      - name: b
        path: ~/b.txt
        base64: true
      - name: c
        onMissingValue: generate
        vaultPolicy: validatedPatternDefaultPolicy
  - name: elsewhere
    vaultMount: other
    vaultPrefixes: [global, edge]
    fields:
      - name: key
        ini_file: creds.ini
        ini_key: key
"""


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_a_file_becomes_the_model_with_the_loader_defaults(tmp_path: Path) -> None:
    loaded = load_secrets_file(write(tmp_path / "s.yaml", MINIMAL), default_mount="kv")
    plain, elsewhere = loaded.secrets
    assert plain == Secret(
        name="plain",
        mount="kv",
        prefixes=("hub",),
        fields=(
            SecretField("a", "required"),
            SecretField("b", "file", path="~/b.txt", base64=True),
            SecretField("c", "generate", policy="validatedPatternDefaultPolicy"),
        ),
    )
    assert elsewhere.mount == "other" and elsewhere.prefixes == ("global", "edge")
    assert elsewhere.vault_path("edge") == "other/data/edge/elsewhere"
    assert loaded.sources[("elsewhere", "key")] == ValueSource(ini_file="creds.ini", ini_key="key")
    assert loaded.location("plain", "b").line == 7


def test_structural_problems_are_raised_together_with_positions(tmp_path: Path) -> None:
    text = MINIMAL.replace("ini_key: key", "ini_kye: key").replace("name: b\n", "nam: b\n")
    with pytest.raises(SpecErrors) as raised:
        load_secrets_file(write(tmp_path / "s.yaml", text))
    messages = str(raised.value)
    assert (
        "s.yaml:7:9: secrets[0].fields[1]: missing key 'name'" in messages and "ini_kye" in messages
    )


def test_values_come_from_literals_files_and_ini_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    (tmp_path / "home").mkdir()
    (tmp_path / "home" / "b.bin").write_bytes(b"\x00\xff\n")
    write(tmp_path / "creds.ini", "[default]\nkey = k1%\n[prod]\nkey = k2\n")
    text_field = SecretField("f", "required")
    base64_field = SecretField("f", "required", base64=True)

    assert field_value(ValueSource(value="v\u00e9\n"), text_field, tmp_path) == "v\u00e9\n"
    assert field_value(ValueSource(value="v"), base64_field, tmp_path) == "dg=="
    encoded = field_value(ValueSource(path="~/b.bin"), base64_field, tmp_path)
    assert encoded is not None and base64.b64decode(encoded) == b"\x00\xff\n"
    ini = ValueSource(ini_file="creds.ini", ini_key="key")
    assert field_value(ini, text_field, tmp_path) == "k1%"
    prod = ValueSource(ini_file=str(tmp_path / "creds.ini"), ini_section="prod", ini_key="key")
    assert field_value(prod, text_field, tmp_path) == "k2"
    assert field_value(ValueSource(), text_field, tmp_path) is None


@pytest.mark.parametrize(
    ("source", "message"),
    [
        (ValueSource(path="~/b.bin"), r"is binary \(not UTF-8 text\)"),
        (ValueSource(path="missing.txt"), "cannot read .*missing.txt: No such file"),
        (ValueSource(path="."), "is a folder, not a file"),
        (ValueSource(ini_file="creds.ini", ini_key="nope"), r"has no key 'nope' in \[default\]"),
        (ValueSource(ini_file="creds.ini", ini_section="qa", ini_key="key"), r"no section \[qa\]"),
        (ValueSource(ini_file="~/b.bin", ini_key="key"), "is not a valid ini file"),
    ],
)
def test_unreadable_values_name_the_file_not_the_value(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, source: ValueSource, message: str
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    (tmp_path / "b.bin").write_bytes(b"\xff\xfe")
    write(tmp_path / "creds.ini", "[default]\nkey = SECRET-VALUE\n")
    with pytest.raises(McgError, match=message) as raised:
        field_value(source, SecretField("f", "required"), tmp_path)
    assert "SECRET-VALUE" not in str(raised.value)


def test_redact_masks_values_longer_than_three_characters() -> None:
    assert redact("'hunter22' and 'pw' and hunter2", ("hunter2", "hunter22", "pw")) == (
        "'<redacted>' and 'pw' and <redacted>"
    )


def test_repository_context_from_pattern_yaml(cli: Callable[..., Result], tmp_path: Path) -> None:
    assert cli("new", "demo", "--from", "industrial-edge", "--no-git", cwd=tmp_path).code == 0
    repo = load_repo(tmp_path / "demo")
    assert repo.pattern_name == "demo"
    assert [(g.name, g.is_hub) for g in repo.groups] == [
        ("datacenter", True),
        ("factory-east", False),
        ("factory-west", False),
    ]
    # upstream's hub-role reads global/, hub/ and pushsecrets/, not the hub group's name
    assert repo.hub.readable_prefixes == ("global", "hub", "pushsecrets")
    assert [s.name for s in repo.template.secrets] == ["s3-credentials", "git-token"]
    assert set(repo.template.vault_policies) == {"longPolicy"}


def test_repository_context_from_values_files_alone(tmp_path: Path) -> None:
    repo = tmp_path / "mcg"
    shutil.copytree(FIXTURE, repo)
    with pytest.raises(McgError, match=r"no values-secret\.yaml\.template in") as raised:
        load_repo(repo)
    assert "needs a values-secret.yaml.template" in raised.value.hint
    write(repo / "values-secret.yaml.template", MINIMAL)
    context = load_repo(repo)
    assert context.pattern_name == "multicloud-gitops"
    assert [(g.name, g.is_hub) for g in context.groups] == [("hub", True), ("group-one", False)]

    (repo / "values-hub.yaml").unlink()
    with pytest.raises(McgError, match="no values file for the hub cluster group 'hub'"):
        load_repo(repo)


@pytest.mark.parametrize("name", ["../sys/policy", "a//b", "/lead", "trail/", "sp ace", "."])
def test_names_that_are_not_plain_vault_paths_are_refused(tmp_path: Path, name: str) -> None:
    text = MINIMAL.replace("name: elsewhere", f"name: {name!r}")
    with pytest.raises(SpecErrors, match="is not a plain Vault path"):
        load_secrets_file(write(tmp_path / "s.yaml", text))
    prefix = MINIMAL.replace("[global, edge]", f"[global, {name!r}]")
    with pytest.raises(SpecErrors, match=r"vaultPrefixes '.*' is not a plain Vault path"):
        load_secrets_file(write(tmp_path / "p.yaml", prefix))
