"""The secrets loader's own test cases, as shapes of our own, through `secrets check`, `init` and
`load` against a real OpenBao: where the loader stores what, with which encoding, and which files
it refuses (rhvp.cluster_utils: ParseSecretsV2, VaultSecretLoader and the format 1.0 loader,
studied for their behaviour; no file of theirs is copied here).

Each shape is the repository's template and, filled in, the user's file.
"""

from __future__ import annotations

import base64
import os
import re
import select
import string
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from generator.model.secrets_format import check_secrets_format
from generator.yamlio import parse_document
from tests.conftest import PROJECT, Result
from tests.openbao import OpenBao

Cli = Callable[..., Result]
LOADER_SYMBOLS = set("!@#%^&*")
PROMPT_LIMIT = 60.0  # seconds to wait for each prompt of a load run on a terminal


def write_pattern(root: Path, shape: str) -> Path:
    """A hub-only pattern repository whose template is `shape`."""
    root.mkdir(parents=True)
    values = {
        "values-global.yaml": {
            "global": {"pattern": "shapes"},
            "main": {"clusterGroupName": "hub"},
        },
        "values-hub.yaml": {"clusterGroup": {"name": "hub", "isHubCluster": True}},
    }
    for name, data in values.items():
        (root / name).write_text(yaml.safe_dump(data), encoding="utf-8")
    (root / "values-secret.yaml.template").write_text(shape, encoding="utf-8")
    return root


@pytest.fixture
def shape_vault(openbao: OpenBao, monkeypatch: pytest.MonkeyPatch) -> tuple[OpenBao, str]:
    """The shared server, reached through VAULT_ADDR/VAULT_TOKEN, and a KV mount of the test's."""
    monkeypatch.setenv("VAULT_ADDR", openbao.addr)
    monkeypatch.setenv("VAULT_TOKEN", openbao.token)
    monkeypatch.delenv("VAULT_CACERT", raising=False)
    return openbao, f"shape-{os.urandom(4).hex()}"


def prepare(tmp_path: Path, home: Path, shape: str, files: dict[str, bytes] | None = None) -> Path:
    repo = write_pattern(tmp_path / "repo", shape)
    for name, content in (files or {}).items():
        (home / name).write_bytes(content)
    filled = home / "values-secret-shapes.yaml"
    filled.write_text(shape, encoding="utf-8")
    filled.chmod(0o600)
    return repo


def init_and_load(cli: Cli, repo: Path, mount: str) -> Result:
    init = cli("secrets", "init", str(repo), "--mount", mount)
    assert init.code == 0, init
    loaded = cli("secrets", "load", str(repo), "--mount", mount)
    assert loaded.code == 0, loaded
    return loaded


def stored(server: OpenBao, mount: str) -> dict[str, dict[str, Any]]:
    """Every secret under `mount`, by path."""
    client = server.client()
    found: dict[str, dict[str, Any]] = {}

    def walk(prefix: str) -> None:
        for key in client.secrets.kv.v2.list_secrets(path=prefix, mount_point=mount)["data"][
            "keys"
        ]:
            path = f"{prefix}{key}"
            if key.endswith("/"):
                walk(path)
            else:
                answer = client.secrets.kv.v2.read_secret_version(
                    path=path, mount_point=mount, raise_on_deleted_version=True
                )
                found[path] = answer["data"]["data"]

    walk("")
    return found


def loader_kind(value: str) -> bool:
    """A value of the loader's default policy: 20 characters, each class, its symbols only."""
    letters = set(string.ascii_letters + string.digits)
    return (
        len(value) == 20
        and any(c.islower() for c in value)
        and any(c.isupper() for c in value)
        and any(c.isdigit() for c in value)
        and bool(set(value) & LOADER_SYMBOLS)
        and set(value) <= letters | LOADER_SYMBOLS
    )


# ----------------------------------------------------------------------------- loaded shapes

GENERATED = """\
version: "2.0"
secrets:
  - name: generated
    fields:
      - name: plain
        onMissingValue: generate
        vaultPolicy: validatedPatternDefaultPolicy
      - name: encoded
        onMissingValue: generate
        vaultPolicy: validatedPatternDefaultPolicy
        base64: true
"""


def test_generated_fields_are_of_the_loaders_kind_and_base64_when_asked(
    cli: Cli, tmp_path: Path, home: Path, shape_vault: tuple[OpenBao, str]
) -> None:
    server, mount = shape_vault
    repo = prepare(tmp_path, home, GENERATED)
    init_and_load(cli, repo, mount)
    secret = stored(server, mount)["hub/generated"]
    assert loader_kind(secret["plain"])
    decoded = base64.b64decode(secret["encoded"], validate=True).decode("ascii")
    assert loader_kind(decoded) and decoded != secret["plain"]
    # kept on a reload, encoded form and all
    again = cli("secrets", "load", str(repo), "--mount", mount)
    assert "0 created, 0 updated, 1 unchanged" in again.out
    assert stored(server, mount)["hub/generated"] == secret


def test_init_leaves_the_default_policy_the_loader_wrote_as_it_is(
    cli: Cli, tmp_path: Path, home: Path, shape_vault: tuple[OpenBao, str]
) -> None:
    """The loader writes its policy with each rule on one line; that is the same policy."""
    server, mount = shape_vault
    loader_layout = "length=20\n" + "".join(
        f'rule "charset" {{ charset = "{chars}" min-chars = 1 }}\n'
        for chars in (
            "abcdefghijklmnopqrstuvwxyz",
            "ABCDEFGHIJKLMNOPQRSTUVWXYZ",
            "0123456789",
            "!@#%^&*",
        )
    )
    name = "validatedPatternDefaultPolicy"
    server.client().write_data(f"sys/policies/password/{name}", data={"policy": loader_layout})
    repo = prepare(tmp_path, home, GENERATED)
    result = cli("secrets", "init", str(repo), "--mount", mount)
    assert f"unchanged password policy {name}" in result.out, result.out
    policy = server.client().read(f"sys/policies/password/{name}")["data"]["policy"]
    assert policy == loader_layout


FILES = """\
version: "2.0"
secrets:
  - name: files
    vaultPrefixes: [hub, region-one]
    fields:
      - name: text
        path: ~/contents.txt
      - name: text-b64
        path: ~/contents.txt
        base64: true
      - name: binary-b64
        path: ~/blob.bin
        base64: true
      - name: aws-key
        ini_file: ~/aws.ini
        ini_key: aws_access_key_id
      - name: aws-secret-b64
        ini_file: ~/aws.ini
        ini_section: other
        ini_key: aws_secret_access_key
        base64: true
      - name: block
        value: |-
          first line
            indented line
          last line
"""
CONTENTS = b"This space intentionally left blank\nsecond line\n"
BLOB = bytes(range(256))
INI = b"[default]\naws_access_key_id = AKIAEXAMPLE\n[other]\naws_secret_access_key = s3cr3t/x+y\n"


def test_files_ini_keys_and_block_values_are_stored_as_the_loader_stores_them(
    cli: Cli, tmp_path: Path, home: Path, shape_vault: tuple[OpenBao, str]
) -> None:
    server, mount = shape_vault
    files = {"contents.txt": CONTENTS, "blob.bin": BLOB, "aws.ini": INI}
    repo = prepare(tmp_path, home, FILES, files)
    result = init_and_load(cli, repo, mount)
    assert "2 created" in result.out
    everything = stored(server, mount)
    assert set(everything) == {"hub/files", "region-one/files"}
    assert everything["hub/files"] == everything["region-one/files"]
    assert everything["hub/files"] == {
        "text": CONTENTS.decode(),
        "text-b64": base64.b64encode(CONTENTS).decode(),
        "binary-b64": base64.b64encode(BLOB).decode(),
        "aws-key": "AKIAEXAMPLE",
        "aws-secret-b64": base64.b64encode(b"s3cr3t/x+y").decode(),
        "block": "first line\n  indented line\nlast line",
    }


BOOTSTRAP = """\
version: "2.0"
bootstrap_secrets:
  - name: early-only
    targetNamespaces: [default]
    fields:
      - name: bootval
        value: bootsecret
  - name: shared-name
    targetNamespaces: [apps]
    vaultPrefixes: []
    fields:
      - name: a
        value: from-bootstrap
secrets:
  - name: late-only
    fields:
      - name: lateval
        value: latesecret
  - name: shared-name
    fields:
      - name: b
        value: from-secrets
"""


def test_bootstrap_secrets_never_reach_vault_and_a_secret_named_like_one_is_omitted(
    cli: Cli, tmp_path: Path, home: Path, shape_vault: tuple[OpenBao, str]
) -> None:
    server, mount = shape_vault
    repo = prepare(tmp_path, home, BOOTSTRAP)
    check = cli("secrets", "check", str(repo))
    assert check.code == 0, check
    assert "[secrets/bootstrap-shadowed]" in check.out
    assert "'shared-name' is also a bootstrap secret" in check.out
    result = init_and_load(cli, repo, mount)
    assert "1 secret path(s)" in result.out
    assert stored(server, mount) == {"hub/late-only": {"lateval": "latesecret"}}


KUBERNETES_KEYS = """\
version: "2.0"
defaultLabels:
  app: shapes
defaultAnnotations:
  team: platform
secretStoreNamespace: validated-patterns-secrets
defaultNamespace: validated-patterns-secrets
secrets:
  - name: test-secret
    type: user-specified
    targetNamespaces: [default, extra]
    labels:
      tier: one
    annotations:
      note: kept
    fields:
      - name: username
        value: user
"""


def test_keys_for_kubernetes_secrets_are_accepted_and_vault_gets_the_fields(
    cli: Cli, tmp_path: Path, home: Path, shape_vault: tuple[OpenBao, str]
) -> None:
    server, mount = shape_vault
    repo = prepare(tmp_path, home, KUBERNETES_KEYS)
    check = cli("secrets", "check", str(repo))
    assert check.code == 0, check
    # the one key of these the loader never reads is said, as a warning
    warned = [line for line in check.out.splitlines() if "warning:" in line]
    assert len(warned) == 1 and "defaultNamespace" in warned[0]
    assert "[secrets/ignored-key]" in warned[0]
    init_and_load(cli, repo, mount)
    assert stored(server, mount) == {"hub/test-secret": {"username": "user"}}


OVERRIDDEN = """\
version: "2.0"
vaultPolicies:
  basicPolicy: |
    length=10
    rule "charset" { charset = "abcdefghijklmnopqrstuvwxyz" min-chars = 1 }
    rule "charset" { charset = "0123456789" min-chars = 1 }
secrets:
  - name: config-demo
    vaultPrefixes: [region-one, snowflake.example.com]
    fields:
      - name: secret
        onMissingValue: generate
        override: true
        vaultPolicy: basicPolicy
      - name: kept
        onMissingValue: generate
        vaultPolicy: basicPolicy
"""


def test_override_with_several_prefixes_gives_them_one_new_value_per_load(
    cli: Cli, tmp_path: Path, home: Path, shape_vault: tuple[OpenBao, str]
) -> None:
    """Our choice (the loader generates one value per prefix): a secret under several prefixes
    is one secret that several cluster groups read, so its prefixes agree."""
    server, mount = shape_vault
    repo = prepare(tmp_path, home, OVERRIDDEN)
    init_and_load(cli, repo, mount)
    first = stored(server, mount)
    one, other = first["region-one/config-demo"], first["snowflake.example.com/config-demo"]
    assert one == other
    assert re.fullmatch(r"[a-z0-9]{10}", one["secret"]) and re.fullmatch(
        r"[a-z0-9]{10}", one["kept"]
    )

    cli("secrets", "load", str(repo), "--mount", mount)
    second = stored(server, mount)
    assert second["region-one/config-demo"] == second["snowflake.example.com/config-demo"]
    assert second["region-one/config-demo"]["secret"] != one["secret"]
    assert second["region-one/config-demo"]["kept"] == one["kept"]


PROMPTED = """\
version: "2.0"
secrets:
  - name: config-demo
    fields:
      - name: typed
        value: null
        onMissingValue: prompt
      - name: ca_crt
        path: null
        onMissingValue: prompt
      - name: ca_crt_b64
        path: null
        base64: true
        onMissingValue: prompt
        prompt: CA bundle, base64
"""


def test_a_prompted_path_field_stores_the_file_whose_path_is_typed(
    tmp_path: Path, home: Path, shape_vault: tuple[OpenBao, str]
) -> None:
    server, mount = shape_vault
    ca = b"-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"
    repo = prepare(tmp_path, home, PROMPTED, {"ca.crt": ca})
    env = {**os.environ, "PYTHONPATH": str(PROJECT)}
    init = [sys.executable, "-m", "generator", "secrets", "init", str(repo), "--mount", mount]
    subprocess.run(init, env=env, check=True, capture_output=True, timeout=120)
    answers = {
        "config-demo.typed: value: ": "typed-secret",
        "config-demo.ca_crt: path of the file: ": "~/ca.crt",
        "config-demo.ca_crt_b64: CA bundle, base64: ": str(home / "ca.crt"),
    }
    result = run_on_terminal(
        [sys.executable, "-m", "generator", "secrets", "load", str(repo), "--mount", mount],
        answers,
        env,
        cwd=home,
    )
    assert result.code == 0, result
    assert stored(server, mount) == {
        "hub/config-demo": {
            "typed": "typed-secret",
            "ca_crt": ca.decode(),
            "ca_crt_b64": base64.b64encode(ca).decode(),
        }
    }
    assert "typed-secret" not in result.out + result.err


def run_on_terminal(
    command: list[str], answers: dict[str, str], env: dict[str, str], cwd: Path
) -> Result:
    """Run `command` with a terminal as its stdin, typing each answer once its prompt (on
    stderr) has appeared."""
    controller, terminal = os.openpty()
    process = subprocess.Popen(
        command,
        stdin=terminal,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        cwd=cwd,
        start_new_session=True,
    )
    os.close(terminal)
    assert process.stderr is not None and process.stdout is not None
    err = b""
    try:
        for prompt, answer in answers.items():
            deadline = time.monotonic() + PROMPT_LIMIT
            while prompt.encode() not in err:
                assert time.monotonic() < deadline, f"no prompt {prompt!r}: {err!r}"
                ready, _, _ = select.select([process.stderr], [], [], 1.0)
                if ready:
                    chunk = os.read(process.stderr.fileno(), 4096)
                    assert chunk, f"ended before the prompt {prompt!r}: {err!r}"
                    err += chunk
            err = err.replace(prompt.encode(), b"", 1)
            os.write(controller, answer.encode() + b"\n")
        out, rest = process.communicate(timeout=120)
    finally:
        os.close(controller)
        if process.poll() is None:
            process.kill()
            process.wait()
    return Result(process.returncode, out.decode(), (err + rest).decode())


# ---------------------------------------------------------------------------- refused shapes

REFUSED = {
    "same secret names": (
        "secrets:\n  - name: a\n    fields: [{name: f, value: x}]\n"
        "  - name: a\n    fields: [{name: g, value: y}]\n",
        "secrets/duplicate-name",
    ),
    "same field names": (
        "secrets:\n  - name: a\n    fields: [{name: f, value: x}, {name: f, value: y}]\n",
        "secrets/duplicate-field",
    ),
    "unknown vault policy": (
        "secrets:\n  - name: a\n    fields:\n      - name: f\n        onMissingValue: generate\n"
        "        vaultPolicy: nonExisting\n",
        "secrets/unknown-policy",
    ),
    "empty vaultPrefixes": (
        "secrets:\n  - name: a\n    vaultPrefixes: []\n    fields: [{name: f, value: x}]\n",
        "secrets/invalid",
    ),
    "wrong onMissingValue": (
        "secrets:\n  - name: a\n    fields: [{name: f, value: x, onMissingValue: nope}]\n",
        "secrets/invalid",
    ),
    "override without generate": (
        "secrets:\n  - name: a\n    fields: [{name: f, value: x, override: true}]\n",
        "secrets/exclusive-keys",
    ),
    "generate with a value": (
        "secrets:\n  - name: a\n    fields:\n      - name: f\n        value: x\n"
        "        onMissingValue: generate\n        vaultPolicy: validatedPatternDefaultPolicy\n",
        "secrets/exclusive-keys",
    ),
    "secret without fields": ("secrets:\n  - name: a\n    fields: []\n", "secrets/invalid"),
    "secrets as a map": (
        "secrets:\n  test-secret:\n    fields: [{name: f, value: x}]\n",
        "secrets/wrong-type",
    ),
    "bootstrap without targetNamespaces": (
        "bootstrap_secrets:\n  - name: a\n    fields: [{name: f, value: x}]\n",
        "secrets/missing-key",
    ),
}


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_what_the_loader_refuses_is_an_error(case: str) -> None:
    text, rule = REFUSED[case]
    findings = check_secrets_format(parse_document('version: "2.0"\n' + text, "v.yaml"))
    errors = {f.rule for f in findings if f.severity.value == "error"}
    assert rule in errors, findings


def test_what_the_loader_refuses_loads_nothing(
    cli: Cli, tmp_path: Path, home: Path, shape_vault: tuple[OpenBao, str]
) -> None:
    server, mount = shape_vault
    text, _rule = REFUSED["same field names"]
    repo = prepare(tmp_path, home, 'version: "2.0"\n' + text)
    for action in (["check"], ["init", "--mount", mount], ["load", "--mount", mount]):
        result = cli("secrets", *action, str(repo))
        assert result.code == 1 and "duplicate field name 'f'" in result.err + result.out
    mounts = server.client().sys.list_mounted_secrets_engines()["data"]
    assert f"{mount}/" not in mounts


# ------------------------------------------------------------------------------- format 1.0

V1_GOOD = """\
secrets:
  config-demo:
    secret: value123
  aws:
    s3.accessKey: AKIA
    s3.secretKey: wJal
secrets.region-one:
  config-demo:
    secret: value456
files:
  cluster-ca: ~/ca.crt
files.region-one:
  cluster-ca: ~/region-ca.crt
"""


def test_format_one_follows_the_one_loaders_rules() -> None:
    assert check_secrets_format(parse_document(V1_GOOD, "v1.yaml")) == []
    assert check_secrets_format(parse_document('version: "1.0"\n' + V1_GOOD, "v1.yaml")) == []
    broken = {
        "version: 1.0\nfiles: {}\n": "secrets/invalid",  # nothing in it
        "secrets:\n  a: not-a-map\n": "secrets/wrong-type",
        "secretsregion:\n  a: {b: c}\nsecrets:\n  x: {y: z}\n": "secrets/invalid",
        "files:\n  - ~/a.crt\n": "secrets/wrong-type",
        "secrets.region-one:\n  a: {b: c}\n": "secrets/missing-key",  # no secrets nor files
    }
    for text, rule in broken.items():
        findings = check_secrets_format(parse_document(text, "v1.yaml"))
        assert [f.rule for f in findings] == [rule], (text, findings)


def test_format_one_secrets_are_known_by_their_vault_paths() -> None:
    """What validate's link checks see of a 1.0 file: the 1.0 loader's paths and fields."""
    from generator.model.secrets_file import secrets_file

    loaded = secrets_file(parse_document(V1_GOOD, "v1.yaml"))
    by_name = {s.name: s for s in loaded.secrets}
    assert by_name["config-demo"].prefixes == ("hub", "region-one")
    assert [f.name for f in by_name["aws"].fields] == ["s3.accessKey", "s3.secretKey", "s3Secret"]
    assert by_name["cluster-ca"].prefixes == ("hub", "region-one")
    assert [f.name for f in by_name["cluster-ca"].fields] == ["content", "b64content"]


def test_secrets_commands_say_a_format_one_file_needs_converting(
    cli: Cli, tmp_path: Path, home: Path
) -> None:
    repo = prepare(tmp_path, home, V1_GOOD)
    result = cli("secrets", "check", str(repo))
    assert result.code == 1
    assert "format 1.0" in result.err and 'version: "2.0"' in result.err
