"""generator.vault against a real OpenBao dev server: connection checks, plans, idempotence."""

from __future__ import annotations

import http.server
import itertools
from collections.abc import Iterator

import pytest
from hvac.exceptions import Forbidden

from generator import vault
from generator.errors import McgError
from generator.model.pattern import Secret, SecretField
from tests.openbao import OpenBao, serve_locally

PIN_POLICY = 'length = 8\nrule "charset" {\n  charset = "0123456789"\n  min-chars = 8\n}\n'


def shared_secret(mount: str, *, override: bool = False) -> Secret:
    """A secret under three prefixes with one generated and one given field."""
    return Secret(
        name="app",
        mount=mount,
        prefixes=("global", "hub", "edge"),
        fields=(
            SecretField("pin", "generate", policy="pin", override=override),
            SecretField("user", "required"),
        ),
    )


@pytest.fixture
def mount(openbao: OpenBao) -> str:
    client = openbao.client()
    assert vault.ensure_password_policy(client, "pin", PIN_POLICY) in set(vault.Change)
    return openbao.new_kv_mount()


def test_an_interrupted_load_is_completed_consistently_by_a_rerun(
    openbao: OpenBao, mount: str
) -> None:
    client = openbao.client()
    secret = shared_secret(mount)
    values = {("app", "user"): "me\u00e9", ("app", "pin"): None}
    plan = vault.plan_load(client, [secret], values)
    assert [w.change for w in plan] == [vault.Change.CREATED] * 3
    # the load stops after its first write, as Ctrl-C would stop it
    written = list(itertools.islice(vault.apply_load(client, plan), 1))
    assert len(written) == 1
    first_pin = vault.read_secret(client, mount, "global", "app")

    rerun = vault.plan_load(client, [secret], values)
    assert [w.change for w in rerun] == [vault.Change.UNCHANGED, *[vault.Change.CREATED] * 2]
    list(vault.apply_load(client, rerun))
    stored = [vault.read_secret(client, mount, p, "app") for p in secret.prefixes]
    assert stored == [first_pin] * 3
    assert first_pin is not None and len(first_pin["pin"]) == 8 and first_pin["pin"].isdigit()
    assert all(
        w.change is vault.Change.UNCHANGED for w in vault.plan_load(client, [secret], values)
    )


def test_override_gives_every_prefix_the_same_new_value(openbao: OpenBao, mount: str) -> None:
    client = openbao.client()
    values = {("app", "user"): "me", ("app", "pin"): None}
    list(vault.apply_load(client, vault.plan_load(client, [shared_secret(mount)], values)))
    before = vault.read_secret(client, mount, "hub", "app")
    plan = vault.plan_load(client, [shared_secret(mount, override=True)], values)
    assert {w.fields_changed for w in plan} == {("pin",)}
    list(vault.apply_load(client, plan))
    after = [vault.read_secret(client, mount, p, "app") for p in ("global", "hub", "edge")]
    assert after[0] != before and after[0] == after[1] == after[2]


def test_a_field_removed_from_the_file_is_removed_from_vault(openbao: OpenBao, mount: str) -> None:
    client = openbao.client()
    secret = Secret("db", (SecretField("a", "required"), SecretField("b", "required")), ("hub",))
    secret = Secret(secret.name, secret.fields, secret.prefixes, mount=mount)
    list(
        vault.apply_load(
            client, vault.plan_load(client, [secret], {("db", "a"): "1", ("db", "b"): "2"})
        )
    )
    smaller = Secret("db", secret.fields[:1], ("hub",), mount=mount)
    plan = vault.plan_load(client, [smaller], {("db", "a"): "1"})
    assert [(w.change, w.fields_changed) for w in plan] == [(vault.Change.UPDATED, ("b",))]


def test_spoke_policy_reads_its_own_prefix_and_manages_pushsecrets_only(openbao: OpenBao) -> None:
    client = openbao.client()
    mount = openbao.new_kv_mount()
    for prefix in ("global", "edge.example.com", "hub", "pushsecrets"):
        vault.write_secret(client, mount, prefix, "x", {"k": prefix})
    name = f"{mount}-edge"
    policy = vault.spoke_policy(mount, "edge.example.com")
    assert vault.ensure_acl_policy(client, name, policy, dry_run=True) is vault.Change.CREATED
    assert client.read(f"sys/policies/acl/{name}") is None  # a dry run writes nothing
    assert vault.ensure_acl_policy(client, name, policy) is vault.Change.CREATED
    assert vault.ensure_acl_policy(client, name, policy) is vault.Change.UNCHANGED
    # the loader writes each rule on one line: the same policy, left as it is
    one_line = policy.replace("\n  ", " ").replace("\n}", " }")
    client.write_data(f"sys/policies/acl/{name}", data={"policy": one_line})
    assert vault.ensure_acl_policy(client, name, policy) is vault.Change.UNCHANGED
    edge = openbao.client(openbao.token_with_policies(name))
    assert vault.read_secret(edge, mount, "edge.example.com", "x") == {"k": "edge.example.com"}
    vault.write_secret(edge, mount, "pushsecrets", "x", {"k": "pushed"})
    for other in ("global", "hub"):
        with pytest.raises(McgError, match=f"permission denied by Vault to read {mount}/data/"):
            vault.read_secret(edge, mount, other, "x")
    with pytest.raises(McgError, match="permission denied"):
        vault.write_secret(edge, mount, "edge.example.com", "x", {"k": "changed"})
    with pytest.raises(Forbidden):  # the loader's policies give no list
        edge.secrets.kv.v2.list_secrets(path="edge.example.com", mount_point=mount)


def test_init_steps_are_idempotent_and_refuse_a_kv_v1_mount(fresh_openbao: OpenBao) -> None:
    client = fresh_openbao.client()
    assert vault.ensure_kv2_mount(client, "patterns", dry_run=True) is vault.Change.CREATED
    assert "patterns/" not in client.sys.list_mounted_secrets_engines()["data"]
    assert vault.ensure_kv2_mount(client, "patterns") is vault.Change.CREATED
    assert vault.ensure_kv2_mount(client, "patterns") is vault.Change.UNCHANGED
    vault.require_kv2_mount(client, "patterns")
    client.sys.enable_secrets_engine("kv", path="old", options={"version": "1"})
    with pytest.raises(McgError, match="'old/' is already a kv version 1 secrets engine, not kv"):
        vault.ensure_kv2_mount(client, "old")
    with pytest.raises(McgError, match="no KV version 2 secrets engine at 'old/'"):
        vault.require_kv2_mount(client, "old")

    assert vault.ensure_password_policy(client, "p", PIN_POLICY) is vault.Change.CREATED
    assert vault.ensure_password_policy(client, "p", PIN_POLICY) is vault.Change.UNCHANGED
    longer = PIN_POLICY.replace("8", "9")
    assert vault.ensure_password_policy(client, "p", longer, dry_run=True) is vault.Change.UPDATED
    assert vault.ensure_password_policy(client, "p", longer) is vault.Change.UPDATED
    with pytest.raises(
        McgError, match=r"^Vault refused to write sys/policies/password/p: [^\n]*charset"
    ):
        vault.ensure_password_policy(client, "p", "length = 9")

    role = vault.Role("hub", "hub-role", ("eso",), ("eso-ns",), ("hub-secret",))
    assert vault.ensure_auth_mount(client, "hub", dry_run=True) is vault.Change.CREATED
    assert vault.ensure_auth_mount(client, "hub") is vault.Change.CREATED
    assert vault.ensure_auth_mount(client, "hub") is vault.Change.UNCHANGED
    assert vault.ensure_kubernetes_role(client, role) is vault.Change.CREATED
    assert vault.ensure_kubernetes_role(client, role) is vault.Change.UNCHANGED
    # the hub role keeps a pattern's custom policies, as vault_utils merges them
    client.write_data(role.path, data={"token_policies": ["custom", "hub-secret"]})
    kept = vault.Role("hub", "hub-role", ("eso",), ("eso-ns",), ("hub-secret",), keep_policies=True)
    assert vault.ensure_kubernetes_role(client, kept) is vault.Change.UNCHANGED
    assert vault.ensure_kubernetes_role(client, role) is vault.Change.UPDATED
    assert client.read(role.path)["data"]["token_policies"] == ["hub-secret"]
    assert not vault.kubernetes_auth_configured(client, "hub")
    client.sys.enable_auth_method("userpass", path="people")
    with pytest.raises(McgError, match="auth/people/ is already a userpass auth method"):
        vault.ensure_auth_mount(client, "people")


def test_generate_password_names_a_missing_policy(openbao: OpenBao) -> None:
    with pytest.raises(McgError, match="Vault has no password policy 'absent-policy'"):
        vault.generate_password(openbao.client(), "absent-policy")


def test_connect_checks_address_token_and_tls(tls_openbao: OpenBao) -> None:
    server = tls_openbao
    with pytest.raises(McgError, match=r"TLS verification of https://127\.0\.0\.1:\d+ failed"):
        vault.connect(server.addr, server.token)
    assert vault.connect(server.addr, server.token, ca_cert=str(server.ca_cert)).url == server.addr
    assert vault.connect(server.addr, server.token, verify=False).url == server.addr
    with pytest.raises(McgError, match="rejected the token"):
        vault.connect(server.addr, "wrong", ca_cert=str(server.ca_cert))
    with pytest.raises(McgError, match="no Vault token"):
        vault.connect(server.addr, "")


@pytest.fixture
def not_vault() -> Iterator[str]:
    """An HTTP server that answers every request with a web page."""

    class Page(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.end_headers()
            self.wfile.write(b"<html>hello</html>")

        def log_message(self, *args: object) -> None:
            pass

    yield from serve_locally(Page)


def test_connect_recognises_something_that_is_not_vault(not_vault: str) -> None:
    with pytest.raises(McgError, match="does not answer like Vault"):
        vault.connect(not_vault, "token")


def test_writes_check_the_version_the_plan_saw(openbao: OpenBao, mount: str) -> None:
    client = openbao.client()
    client.secrets.kv.v2.configure(cas_required=True, mount_point=mount)  # every write needs cas
    secret = Secret("db", (SecretField("a", "required"),), ("hub", "edge"), mount=mount)
    list(vault.apply_load(client, vault.plan_load(client, [secret], {("db", "a"): "1"})))
    assert vault.read_secret(client, mount, "edge", "db") == {"a": "1"}

    plan = vault.plan_load(client, [secret], {("db", "a"): "2"})
    vault.write_secret(client, mount, "hub", "db", {"a": "by someone else"}, version=1)
    with pytest.raises(McgError, match=f"^{mount}/data/hub/db changed while loading: run"):
        list(vault.apply_load(client, plan))
    assert vault.read_secret(client, mount, "hub", "db") == {"a": "by someone else"}


def test_a_deleted_secret_is_loaded_again(openbao: OpenBao, mount: str) -> None:
    client = openbao.client()
    secret = Secret("db", (SecretField("a", "required"),), ("hub",), mount=mount)
    list(vault.apply_load(client, vault.plan_load(client, [secret], {("db", "a"): "1"})))
    client.secrets.kv.v2.delete_latest_version_of_secret(path="hub/db", mount_point=mount)
    assert vault.read_secret(client, mount, "hub", "db") is None
    plan = vault.plan_load(client, [secret], {("db", "a"): "1"})
    assert [(w.change, w.version) for w in plan] == [(vault.Change.CREATED, 1)]
    list(vault.apply_load(client, plan))
    assert vault.read_secret(client, mount, "hub", "db") == {"a": "1"}
