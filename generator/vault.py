"""The secrets backend: Vault (or OpenBao) through hvac, the only module that imports it.

Every failure becomes one `McgError` line that says what to do. Nothing here prints or returns a
secret value in a message: errors name paths, fields and policies only.

Vault is a server on the network, so its answers are untrusted input (see SECURITY.md): every
request has one deadline for the whole exchange (a server that trickles bytes cannot hold a load
open), an answer is read up to a size limit, an answer that is not JSON is an error, not a
crash, the token is never sent on to another host by a redirect, and the server's error text is
shown as data: escaped, shortened, with the token taken out.
"""

from __future__ import annotations

import base64
import re
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from functools import partial
from typing import Any

from generator.errors import McgError, printable, shortened
from generator.model import names
from generator.model.kubeconfig import ClusterAccess
from generator.model.names import vault_path
from generator.model.pattern import Secret, SecretField

Client = Any  # hvac.Client, which is untyped
KV_VERSION = "2"
DEFAULT_TIMEOUT_SECONDS = 30.0  # for one request, connecting to the last byte of the answer
MAX_ANSWER_BYTES = 4 * 1024 * 1024  # Vault's answers to mcg-gen are a few kilobytes
_MAX_SHOWN = 300  # characters of a server's error text

# The default password policy: 20 characters with at least one lower-case letter, capital,
# digit and symbol, the symbols being the loader's (!@#%^&*), so that values generated here are
# of the same kind as the loader's and a policy the loader wrote counts as unchanged (policies
# are compared token by token, see `same_policy`).
DEFAULT_PASSWORD_POLICY = """\
length = 20
rule "charset" {
  charset = "abcdefghijklmnopqrstuvwxyz"
  min-chars = 1
}
rule "charset" {
  charset = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
  min-chars = 1
}
rule "charset" {
  charset = "0123456789"
  min-chars = 1
}
rule "charset" {
  charset = "!@#%^&*"
  min-chars = 1
}
"""


class Change(StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"


def _bounded_session(deadline: float, verify: bool | str) -> Any:
    """A requests session whose every request ends within `deadline` seconds, connection to
    last byte, and reads at most MAX_ANSWER_BYTES of an answer."""
    import requests

    class BoundedSession(requests.Session):
        def request(self, method: str, url: str | bytes, *args: Any, **kwargs: Any) -> Any:
            kwargs["stream"] = True
            outcome: dict[str, Any] = {}

            def exchange() -> None:
                try:
                    response = super(BoundedSession, self).request(method, url, *args, **kwargs)
                    body = response.raw.read(MAX_ANSWER_BYTES + 1, decode_content=True)
                    response._content = body
                    response._content_consumed = True
                    response.close()
                    outcome["response"] = response
                except BaseException as error:  # handed to the caller's thread
                    outcome["error"] = error

            # The exchange runs in a thread the caller waits for with a deadline: socket
            # timeouts apply to each read, and a server sending a byte a second never trips
            # them. A thread left behind holds only a socket and ends with the process.
            worker = threading.Thread(target=exchange, daemon=True)
            worker.start()
            worker.join(deadline)
            if worker.is_alive():
                raise requests.exceptions.Timeout(f"no complete answer within {deadline:g} s")
            if "error" in outcome:
                raise outcome["error"]
            response = outcome["response"]
            if len(response._content) > MAX_ANSWER_BYTES:
                raise requests.exceptions.ContentDecodingError(
                    f"an answer larger than {MAX_ANSWER_BYTES:,} bytes"
                )
            return response

        def rebuild_auth(self, prepared: Any, response: Any) -> None:
            """requests drops Authorization on a redirect to another host, but not Vault's
            own header: a redirect must never carry the token elsewhere."""
            super().rebuild_auth(prepared, response)
            if self.should_strip_auth(response.request.url, prepared.url):
                prepared.headers.pop("X-Vault-Token", None)

    session = BoundedSession()
    session.verify = verify  # hvac takes a given session's own setting over its argument
    return session


def shown(text: str, secret: str | None = None) -> str:
    """A server's text as mcg-gen shows it: the token taken out, control characters escaped,
    at most _MAX_SHOWN characters."""
    if secret:
        text = text.replace(secret, "<token>")
    return printable(shortened(" ".join(text.split()), _MAX_SHOWN))


def _user_error(client: Client, action: str, error: Exception) -> McgError | None:
    """What hvac or requests raised, as one line about `action`; None for anything unexpected."""
    import hvac.exceptions
    import requests

    addr = client.url
    if isinstance(error, requests.exceptions.Timeout):
        return McgError(
            f"Vault at {addr} did not answer in time while trying to {action} ({error}): check "
            "that Vault is healthy and reachable, or raise --vault-timeout"
        )
    if isinstance(error, requests.exceptions.SSLError):
        return McgError(
            f"TLS verification of {addr} failed while trying to {action}: pass the CA that "
            "signed Vault's certificate with --ca-cert (or --skip-verify for a test server)"
        )
    if isinstance(error, requests.exceptions.ConnectionError | requests.exceptions.Timeout):
        return McgError(
            f"cannot reach Vault at {addr}: check --vault-addr (or VAULT_ADDR) and that "
            "Vault is running and reachable from here"
        )
    if isinstance(error, ValueError):  # requests' JSONDecodeError among them
        return McgError(
            f"{addr} answered with something that is not JSON while trying to {action}: it "
            "does not answer like Vault (a proxy or another service?); check --vault-addr"
        )
    if isinstance(error, requests.exceptions.RequestException):
        return McgError(
            f"cannot talk to Vault at {addr} ({type(error).__name__}): check --vault-addr"
        )
    if isinstance(error, hvac.exceptions.VaultDown):
        return McgError(
            f"Vault at {addr} is sealed: unseal it ('vault operator unseal') and run again"
        )
    if isinstance(error, hvac.exceptions.Forbidden):
        return McgError(
            f"permission denied by Vault to {action}: use a token whose policies allow it"
        )
    if isinstance(error, hvac.exceptions.VaultError):
        return McgError(f"Vault refused to {action}: {_one_line(error, client.token)}")
    return None


def _one_line(error: Any, token: str | None = None) -> str:
    """Vault's error list (a count line, then one bulleted line per error) as one line, shown
    as data (see `shown`)."""
    errors = error.errors if isinstance(error.errors, list) else [error.errors or ""]
    lines = (line.strip().lstrip("*").strip() for e in errors for line in str(e).split("\n"))
    kept = [line for line in lines if line and not re.fullmatch(r"\d+ errors? occurred:", line)]
    return shown("; ".join(dict.fromkeys(kept)), token) or type(error).__name__


def _attempt(
    client: Client,
    action: str,
    call: Callable[[], Any],
    absent: tuple[type[Exception], ...] = (),
) -> Any:
    """`call()`, or None when it raises one of `absent`; other failures become one McgError,
    and so does an answer that is not one Vault gives (see `_vault_answer`)."""
    try:
        answer = call()
    except absent:
        return None
    except Exception as error:
        user_error = _user_error(client, action, error)
        if user_error is None:
            raise
        raise user_error from None
    return _vault_answer(client, action, answer)


def _vault_answer(client: Client, action: str, answer: Any) -> Any:
    """`answer`, unless it is not what Vault answers. hvac hands a 200 answer whose body is
    not JSON back as the raw response, which callers would then take for a mapping (and
    crash); JSON that is not an object is no Vault answer either. Other raw responses pass
    (a write answers 204 with no body)."""
    import requests

    if isinstance(answer, requests.Response):
        unlike = "JSON" if answer.status_code == 200 else ""
    else:
        unlike = "" if answer is None or isinstance(answer, dict) else "a JSON object"
    if unlike:
        raise McgError(
            f"{client.url} answered with something that is not {unlike} while trying to "
            f"{action}: it does not answer like Vault (a proxy or another service?); check "
            "--vault-addr"
        )
    return answer


def _hvac_errors() -> Any:
    import hvac.exceptions

    return hvac.exceptions


def open_client(
    addr: str | None,
    *,
    ca_cert: str | None = None,
    verify: bool = True,
    timeout: float = DEFAULT_TIMEOUT_SECONDS,
) -> Client:
    """A client for the Vault at `addr`, without a token yet (seal status, init, unseal)."""
    import hvac

    if not addr:
        raise McgError("no Vault address: set VAULT_ADDR or pass --vault-addr https://vault...")
    if not verify:
        import urllib3

        urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)  # the caller warns
    return hvac.Client(
        url=addr,
        verify=ca_cert or verify,
        timeout=timeout,
        session=_bounded_session(timeout, ca_cert or verify),
    )


def seal_status(client: Client) -> dict[str, Any]:
    """Vault's seal status (`initialized`, `sealed`, `t` the unseal threshold, ...)."""
    status = _attempt(client, "read its seal status", client.sys.read_seal_status, (ValueError,))
    if not isinstance(status, dict):  # not JSON: something other than Vault answers there
        raise McgError(f"{client.url} does not answer like Vault: check --vault-addr")
    return status


def connect(
    addr: str | None,
    token: str | None,
    *,
    ca_cert: str | None = None,
    verify: bool = True,
    timeout: float = DEFAULT_TIMEOUT_SECONDS,
) -> Client:
    """A client for a reachable, initialised, unsealed Vault that accepts `token`."""
    client = open_client(addr, ca_cert=ca_cert, verify=verify, timeout=timeout)
    if not token:
        raise McgError("no Vault token: set VAULT_TOKEN or pass --token")
    status = seal_status(client)
    if not status.get("initialized", True):
        raise McgError(
            f"Vault at {addr} is not initialised: run 'mcg-gen secrets init --keys-file FILE'"
        )
    if status.get("sealed"):
        raise McgError(
            f"Vault at {addr} is sealed: run 'mcg-gen secrets unseal --keys-file FILE' and "
            "run again"
        )
    return use_token(client, token)


def use_token(client: Client, token: str) -> Client:
    """`client` with `token`, once Vault has accepted it."""
    client.token = token
    errors = _hvac_errors()
    token_info = _attempt(
        client, "look up the token", client.auth.token.lookup_self, (errors.Forbidden,)
    )
    if token_info is None:
        raise McgError(
            f"Vault at {client.url} rejected the token (invalid or expired): pass a valid one "
            "with --token or VAULT_TOKEN"
        )
    return client


ACTIVE_LIMIT_SECONDS = 60.0  # an unsealed server elects itself leader in a few seconds


def _wait_until_active(client: Client, limit: float = ACTIVE_LIMIT_SECONDS) -> None:
    """Wait (bounded) until an unsealed Vault serves requests: with integrated storage it
    first has to become the active node, and answers errors until then."""
    import time

    deadline = time.monotonic() + limit
    while True:
        try:
            leader = client.sys.read_leader_status()
            if isinstance(leader, dict) and (leader.get("is_self") or not leader.get("ha_enabled")):
                return
        except Exception as error:  # not serving yet; anything else is said below
            if _user_error(client, "read its leader status", error) is None:
                raise
        if time.monotonic() > deadline:
            raise McgError(
                f"Vault at {client.url} is unsealed but did not become active within "
                f"{limit:g} s: check its logs, then run again"
            )
        time.sleep(0.2)


@dataclass(frozen=True)
class InitKeys:
    """What `vault operator init` gives once: the unseal key shares and the root token. Never
    print it; `generator.commands.secrets` writes it to the user's keys file."""

    keys_hex: tuple[str, ...]
    keys_base64: tuple[str, ...]
    root_token: str
    threshold: int

    def as_json(self) -> dict[str, Any]:
        """The layout of `vault operator init -format=json`, which other tools read."""
        return {
            "unseal_keys_b64": list(self.keys_base64),
            "unseal_keys_hex": list(self.keys_hex),
            "unseal_shares": len(self.keys_hex),
            "unseal_threshold": self.threshold,
            "root_token": self.root_token,
        }


def initialise(client: Client, shares: int = 5, threshold: int = 3) -> InitKeys:
    """Initialise an uninitialised Vault (Vault's default 5 key shares, 3 to unseal)."""
    answer = _attempt(
        client,
        "initialise",
        lambda: client.sys.initialize(secret_shares=shares, secret_threshold=threshold),
    )
    answer = answer or {}
    keys, encoded, token = answer.get("keys"), answer.get("keys_base64"), answer.get("root_token")
    if not (isinstance(keys, list) and isinstance(encoded, list) and isinstance(token, str)):
        raise McgError(f"{client.url} answered the init request without keys and a root token")
    return InitKeys(tuple(map(str, keys)), tuple(map(str, encoded)), token, threshold)


def unseal(client: Client, keys: Sequence[str]) -> int:
    """Submit unseal key shares until Vault is unsealed; the number of shares used."""
    for used, key in enumerate(keys, start=1):
        status = _attempt(client, "unseal", partial(client.sys.submit_unseal_key, key=key))
        if not (status or {}).get("sealed", True):
            _wait_until_active(client)
            return used
    raise McgError(
        f"Vault at {client.url} is still sealed after {len(keys)} key share(s): the keys file "
        "is not the one this Vault was initialised with"
    )


def require_kv2_mount(client: Client, mount: str) -> None:
    """Fail unless `mount` is a KV version 2 secrets engine this token can use."""
    errors = _hvac_errors()
    answer = _attempt(
        client,
        f"look up the mount '{mount}'",
        lambda: client.adapter.get(f"/v1/sys/internal/ui/mounts/{mount}"),
        (errors.Forbidden, errors.InvalidPath, errors.InvalidRequest),
    )
    info = (answer or {}).get("data") or {}
    if info.get("type") != "kv" or _kv_version(info) != KV_VERSION:
        raise McgError(
            f"no KV version 2 secrets engine at '{mount}/' usable with this token: run "
            "'mcg-gen secrets init' or pass --mount (and check the token's policies)"
        )


def _kv_version(info: Mapping[str, Any]) -> str:
    options = info.get("options") or {}
    return str(options.get("version", "1"))


def capabilities(client: Client, paths: Sequence[str]) -> dict[str, set[str]]:
    """The token's capabilities on each path (`sys/capabilities-self`)."""
    if not paths:
        return {}
    answer = _attempt(
        client,
        "check the token's capabilities",
        lambda: client.adapter.post("/v1/sys/capabilities-self", json={"paths": list(paths)}),
    )
    data = answer.get("data") or answer
    return {path: set(data.get(path, [])) for path in paths}


def allows(granted: set[str], needed: str) -> bool:
    return "root" in granted or (needed in granted and "deny" not in granted)


def read_secret(client: Client, mount: str, prefix: str, name: str) -> dict[str, Any] | None:
    """The current data of secret `name` under `prefix`, or None when there is none (or its
    latest version was deleted)."""
    return read_versioned(client, mount, prefix, name)[0]


def read_versioned(
    client: Client, mount: str, prefix: str, name: str
) -> tuple[dict[str, Any] | None, int]:
    """The current data and its KV version (0 when the secret never existed)."""
    answer = _attempt(
        client,
        f"read {vault_path(mount, prefix, name)}",
        lambda: client.secrets.kv.v2.read_secret_version(
            path=f"{prefix}/{name}", mount_point=mount, raise_on_deleted_version=False
        ),
        (_hvac_errors().InvalidPath,),
    )
    body = (answer or {}).get("data") or {}
    version = int((body.get("metadata") or {}).get("version") or 0)
    return body.get("data"), version


def write_secret(
    client: Client,
    mount: str,
    prefix: str,
    name: str,
    data: Mapping[str, str],
    *,
    version: int | None = None,
) -> None:
    """Store `data` as a new version; with `version`, only if that is still the current one
    (check-and-set: 0 means the secret must not exist yet)."""
    try:
        _attempt(
            client,
            f"write {vault_path(mount, prefix, name)}",
            lambda: client.secrets.kv.v2.create_or_update_secret(
                path=f"{prefix}/{name}", secret=dict(data), mount_point=mount, cas=version
            ),
        )
    except McgError as error:
        if "check-and-set" not in error.message or version is None:
            raise
        raise McgError(
            f"{vault_path(mount, prefix, name)} changed while loading: run the load again"
        ) from None


def generate_password(client: Client, policy: str) -> str:
    """A new value from the Vault password policy `policy`."""
    errors = _hvac_errors()
    answer = _attempt(
        client,
        f"generate a value with the password policy '{policy}'",
        lambda: client.read(f"sys/policies/password/{policy}/generate"),
        (errors.InvalidPath, errors.InvalidRequest),
    )
    if not answer:
        raise McgError(
            f"Vault has no password policy '{policy}': run 'mcg-gen secrets init' to create it"
        )
    return str(answer["data"]["password"])


def _read_data(client: Client, path: str) -> dict[str, Any] | None:
    answer = _attempt(
        client, f"read {path}", lambda: client.read(path), (_hvac_errors().InvalidPath,)
    )
    found: dict[str, Any] | None = (answer or {}).get("data")
    return found


def ensure_kv2_mount(client: Client, mount: str, *, dry_run: bool = False) -> Change:
    return _ensure_mount(
        client,
        _SECRETS_ENGINES,
        mount,
        "kv",
        {"version": KV_VERSION},
        f"pass another --mount, or upgrade it with 'vault kv enable-versioning {mount}/'",
        dry_run,
    )


def ensure_auth_mount(
    client: Client, path: str, method: str = "kubernetes", *, dry_run: bool = False
) -> Change:
    return _ensure_mount(
        client,
        _AUTH_METHODS,
        path,
        method,
        {},
        "disable it or choose another mount",
        dry_run,
    )


@dataclass(frozen=True)
class _MountKind:
    noun: str  # how users call them
    shown: str  # how a path of this kind is written, '{path}' in it
    listing: str  # the hvac sys method that lists them
    enabling: str  # the hvac sys method that enables one


_SECRETS_ENGINES = _MountKind(
    "secrets engine", "'{path}/'", "list_mounted_secrets_engines", "enable_secrets_engine"
)
_AUTH_METHODS = _MountKind("auth method", "auth/{path}/", "list_auth_methods", "enable_auth_method")


def _ensure_mount(
    client: Client,
    kind: _MountKind,
    path: str,
    wanted: str,
    options: Mapping[str, str],
    hint: str,
    dry_run: bool,
) -> Change:
    """Enable a secrets engine or auth method of type `wanted` at `path` unless it is there; one
    of another type (or other options, such as KV version 1) there is an error."""
    where = kind.shown.format(path=path)
    mounted = _attempt(client, f"list the {kind.noun}s", getattr(client.sys, kind.listing))
    info = (mounted.get("data") or mounted).get(f"{path}/")
    if info is None:
        if not dry_run:
            extra = {"options": dict(options)} if options else {}
            _attempt(
                client,
                f"enable a {wanted} {kind.noun} at {where}",
                lambda: getattr(client.sys, kind.enabling)(
                    wanted, path=path, description="mcg-gen", **extra
                ),
            )
        return Change.CREATED
    found_options = info.get("options") or {}
    if info.get("type") != wanted or any(
        str(found_options.get(key, "1" if key == "version" else "")) != value
        for key, value in options.items()
    ):
        described = " ".join(
            [str(info.get("type")), *(f"{k} {found_options.get(k, '1')}" for k in options)]
        )
        asked = " ".join([wanted, *(f"{k} {v}" for k, v in options.items())])
        raise McgError(f"{where} is already a {described} {kind.noun}, not {asked}: {hint}")
    return Change.UNCHANGED


def _ensure_data(
    client: Client,
    path: str,
    wanted: Mapping[str, Any],
    same: Callable[[Mapping[str, Any]], bool] | None = None,
    *,
    dry_run: bool = False,
) -> Change:
    """Write `wanted` to `path` unless what is there is the same: by `same`, else when every one
    of its keys reads back equal. With `dry_run`, only say what would change."""
    current = _read_data(client, path)
    if current is not None and (
        same(current) if same else all(current.get(k) == v for k, v in wanted.items())
    ):
        return Change.UNCHANGED
    if not dry_run:
        _attempt(client, f"write {path}", lambda: client.write_data(path, data=dict(wanted)))
    return Change.CREATED if current is None else Change.UPDATED


_POLICY_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|[\w-]+|[^\s\w"]')


def same_policy(one: str, other: str) -> bool:
    """Whether two HCL policies say the same thing, whatever their layout (the loader writes
    each rule on one line, mcg-gen one key per line)."""
    return _POLICY_TOKEN.findall(one) == _POLICY_TOKEN.findall(other)


def ensure_password_policy(
    client: Client, name: str, policy: str, *, dry_run: bool = False
) -> Change:
    return _ensure_policy(client, f"sys/policies/password/{name}", policy, dry_run=dry_run)


def _rule(path: str, capabilities: Sequence[str]) -> str:
    listed = ", ".join(f'"{c}"' for c in capabilities)
    return f'path "{path}" {{\n  capabilities = [{listed}]\n}}\n'


# vault_utils' pushsecrets capabilities, on the data and the metadata of pushsecrets/.
PUSH_CAPABILITIES = ("create", "read", "update", "delete")


def read_policy(mount: str, prefix: str) -> str:
    """vault_utils' policy of a prefix (global-secret, hub-secret): read its secrets' data."""
    return _rule(vault_path(mount, prefix, "*"), ("read",))


def push_policy(mount: str) -> str:
    """vault_utils' pushsecrets-secret: PushSecrets create, read, update and delete the
    secrets under `<mount>/pushsecrets/` (data and metadata)."""
    return "".join(
        _rule(f"{mount}/{kind}/{names.PUSH_PREFIX}/*", PUSH_CAPABILITIES)
        for kind in ("data", "metadata")
    )


def spoke_policy(mount: str, cluster_domain: str) -> str:
    """vault_utils' <cluster domain>-secret: read the cluster's own prefix, and the pushsecrets
    rules, in its order."""
    return read_policy(mount, cluster_domain) + push_policy(mount)


def ensure_acl_policy(client: Client, name: str, policy: str, *, dry_run: bool = False) -> Change:
    return _ensure_policy(client, f"sys/policies/acl/{name}", policy, dry_run=dry_run)


def _ensure_policy(client: Client, path: str, policy: str, *, dry_run: bool) -> Change:
    # compared by meaning: vault_utils writes the same rules on one line each
    return _ensure_data(
        client,
        path,
        {"policy": policy},
        lambda current: same_policy(str(current.get("policy", "")), policy),
        dry_run=dry_run,
    )


@dataclass(frozen=True)
class Role:
    """A Kubernetes auth role: which service account logs in, and the policies it gets."""

    mount: str
    name: str
    service_accounts: tuple[str, ...]
    namespaces: tuple[str, ...]
    policies: tuple[str, ...]
    ttl_seconds: int = 900  # vault_utils' 15m
    # The hub role keeps the policies it has (vault_utils adds its own to them: patterns give
    # hub-role custom ones); a managed cluster's role gets exactly `policies`, as there.
    keep_policies: bool = False

    @property
    def path(self) -> str:
        return f"auth/{self.mount}/role/{self.name}"


def ensure_kubernetes_role(client: Client, role: Role, *, dry_run: bool = False) -> Change:
    policies = list(role.policies)
    if role.keep_policies:
        current = _read_data(client, role.path) or {}
        kept = [str(p) for p in current.get("token_policies") or () if str(p) not in policies]
        policies = [*kept, *policies]
    return _ensure_data(
        client,
        role.path,
        {
            "bound_service_account_names": list(role.service_accounts),
            "bound_service_account_namespaces": list(role.namespaces),
            "token_policies": policies,
            "token_ttl": role.ttl_seconds,
        },
        dry_run=dry_run,
    )


def ensure_kubernetes_config(
    client: Client, mount: str, access: ClusterAccess, *, dry_run: bool = False
) -> Change:
    """Configure the Kubernetes auth method at `mount`. Vault never gives the reviewer token
    back, only whether one is set, so a configuration with the same host and CA and a token set
    is left as it is: a rotated token alone is not noticed (write it with 'vault write
    auth/<mount>/config token_reviewer_jwt=...')."""
    return _ensure_data(
        client,
        f"auth/{mount}/config",
        {
            "kubernetes_host": access.host,
            "kubernetes_ca_cert": access.ca_pem,
            "token_reviewer_jwt": access.reviewer_jwt,
        },
        lambda current: (
            current.get("kubernetes_host") == access.host
            and str(current.get("kubernetes_ca_cert") or "").strip() == access.ca_pem.strip()
            and bool(current.get("token_reviewer_jwt_set"))
        ),
        dry_run=dry_run,
    )


def kubernetes_auth_configured(client: Client, mount: str) -> bool:
    config = _read_data(client, f"auth/{mount}/config")
    return bool(config and config.get("kubernetes_host"))


@dataclass(frozen=True)
class SecretWrite:
    """What loading one secret under one prefix does; `data` holds values, never print it."""

    mount: str
    prefix: str
    name: str
    data: Mapping[str, str]
    change: Change
    fields_changed: tuple[str, ...]
    version: int  # the KV version the plan saw; the write checks it is still current

    @property
    def api_path(self) -> str:
        return vault_path(self.mount, self.prefix, self.name)


def plan_load(
    client: Client, secrets: Sequence[Secret], values: Mapping[tuple[str, str], str | None]
) -> list[SecretWrite]:
    """Check everything a load needs (mounts, permissions, password policies), read what is
    there and work out each write; nothing is written. `values` holds every non-generated field.

    A generated field keeps the value it has; a prefix that lacks it gets the value another prefix
    of the same secret has (so an interrupted load converges), else a new one. `override: true`
    generates a new value every time, the same for all prefixes: a secret under several prefixes
    is one secret read by several cluster groups (the loader generates one value per prefix).
    """
    for mount in dict.fromkeys(secret.mount for secret in secrets):
        require_kv2_mount(client, mount)
    targets = [(secret, prefix) for secret in secrets for prefix in secret.prefixes]
    granted = capabilities(client, [secret.vault_path(prefix) for secret, prefix in targets])
    for secret, prefix in targets:
        if not allows(granted[secret.vault_path(prefix)], "read"):
            raise _denied("read", secret.vault_path(prefix))
    versioned = {
        (secret.name, prefix): read_versioned(client, secret.mount, prefix, secret.name)
        for secret, prefix in targets
    }
    existing = {key: data for key, (data, _version) in versioned.items()}
    for secret, prefix in targets:
        needed = "create" if existing[(secret.name, prefix)] is None else "update"
        if not allows(granted[secret.vault_path(prefix)], needed):
            raise _denied(needed, secret.vault_path(prefix))
    policies = dict.fromkeys(f.vault_policy for s in secrets for f in s.fields if f.vault_policy)
    for policy in policies:
        generate_password(client, policy)  # proves the policy exists and may be used
    writes = []
    for secret in secrets:
        generated = _generated_values(client, secret, existing)
        for prefix in secret.prefixes:
            current = existing[(secret.name, prefix)]
            wanted = {
                field.name: _kept(field, current)
                or generated.get(field.name)
                or values.get((secret.name, field.name))
                or ""
                for field in secret.fields
            }
            version = versioned[(secret.name, prefix)][1]
            writes.append(_write(secret, prefix, wanted, current, version))
    return writes


def _kept(field: SecretField, current: Mapping[str, Any] | None) -> str | None:
    """The value a generated field already has and keeps (no override), if any."""
    if field.source != "generate" or field.override or current is None:
        return None
    value = current.get(field.name)
    return value if isinstance(value, str) and value else None


def _denied(capability: str, path: str) -> McgError:
    return McgError(
        f"permission denied: the token may not {capability} {path}; use a token whose "
        f"policy grants '{capability}' on it (nothing was written)"
    )


def _generated_values(
    client: Client, secret: Secret, existing: Mapping[tuple[str, str], dict[str, Any] | None]
) -> dict[str, str]:
    """For each generated field that some prefix lacks (or that is overridden), one value,
    base64-encoded when the field says so (as the loader stores it)."""
    result: dict[str, str] = {}
    for field in secret.fields:
        if field.vault_policy is None:
            continue
        current = [_kept(field, existing[(secret.name, prefix)]) for prefix in secret.prefixes]
        if all(current):
            continue
        known = next((value for value in current if value), None)
        if known is None:
            known = generate_password(client, field.vault_policy)
            if field.base64:
                known = base64.b64encode(known.encode("utf-8")).decode("ascii")
        result[field.name] = known
    return result


def _write(
    secret: Secret,
    prefix: str,
    wanted: dict[str, str],
    current: dict[str, Any] | None,
    version: int,
) -> SecretWrite:
    before = current or {}
    changed = tuple(
        sorted(key for key in set(wanted) | set(before) if wanted.get(key) != before.get(key))
    )
    change = Change.UPDATED if changed else Change.UNCHANGED
    change = Change.CREATED if current is None else change
    return SecretWrite(secret.mount, prefix, secret.name, wanted, change, changed, version)


def apply_load(client: Client, writes: Sequence[SecretWrite]) -> Iterator[SecretWrite]:
    """Write each planned change, one whole secret at a time, yielding each once it is stored."""
    for write in writes:
        if write.change is not Change.UNCHANGED:
            write_secret(
                client, write.mount, write.prefix, write.name, write.data, version=write.version
            )
        yield write
