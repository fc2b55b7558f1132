"""`mcg-gen secrets check|init|load`: check a filled-in values-secret file, prepare Vault, load it.

No secret value is ever printed: messages name files, secrets, fields and Vault paths only.
"""

from __future__ import annotations

import argparse
import os
import sys
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from generator.commands import add_repo_argument
from generator.errors import EXIT_INVALID, EXIT_OK, EXIT_USAGE, McgError, UsageError
from generator.model import names

if TYPE_CHECKING:
    from generator.model.secrets_file import FieldKey, RepoSecrets, SecretsFile

EPILOG = """\
examples:
  cp values-secret.yaml.template ~/values-secret-my-pattern.yaml   then fill it in
  mcg-gen secrets check                  check your filled-in file against the template
  mcg-gen secrets init --keys-file ~/vault-keys.json
                                         initialise and unseal a new Vault, then prepare it:
                                         KV mount, policies, Kubernetes auth
  mcg-gen secrets unseal --keys-file ~/vault-keys.json
                                         unseal it again after a restart
  mcg-gen secrets load                   write every secret into Vault

Vault is found through VAULT_ADDR and VAULT_TOKEN (or --vault-addr and --token).
"""

CHECK_EPILOG = """\
examples:
  mcg-gen secrets check                          ~/values-secret-<pattern>.yaml against ./
  mcg-gen secrets check path/to/repo --values-secret ~/secrets/prod.yaml

Checks that every secret and field of the repository's values-secret.yaml.template is given or
generated, that files named by 'path' and 'ini_file' can be read, and that the file is kept
outside the repository, untracked by git and readable by you only. Values are never printed.
"""

INIT_EPILOG = """\
examples:
  VAULT_ADDR=https://vault-vault.apps.hub.example.com mcg-gen secrets init \\
      --keys-file ~/vault-keys.json --kubeconfig-dir ~/kubeconfigs
  mcg-gen secrets init --dry-run --kubeconfig-dir ~/kubeconfigs
  mcg-gen secrets init --cluster factory-east=east1.example.com

A Vault that is not initialised yet is initialised (5 unseal key shares, 3 of them unseal it):
the key shares and the root token are written once to --keys-file (a new file, mode 600,
outside the repository; never printed), and Vault is unsealed. A sealed Vault is unsealed
from --keys-file. Then, with VAULT_TOKEN (or --token, or the keys file's root token), it
creates (or leaves as they are) the KV version 2 mount, the password policies
(validatedPatternDefaultPolicy and the template's vaultPolicies), and what the loader's
load-secrets configures, with the same names: the ACL policies global-secret (read global/),
pushsecrets-secret (manage pushsecrets/, where PushSecrets write) and hub-secret (read hub/),
the hub's Kubernetes auth mount 'hub' with role hub-role (its other policies kept), and for
each managed cluster a mount named after its cluster domain with role <domain>-role and
policy <domain>-secret (read <domain>/). The roles admit the service account
ocp-external-secrets in namespace external-secrets, the one openshift-external-secrets' store
logs in with; tokens live 15 minutes.

Each auth mount is configured from the group's kubeconfig in --kubeconfig-dir (a file named
<group>, <group>.yaml, <group>.yml or <group>.kubeconfig: its API server URL, CA and token,
which must be allowed to review tokens), or from --kubernetes-host, --kubernetes-ca and
--token-reviewer-jwt. A managed group's mount is named after its API host (api.<domain>) or
--cluster. --dry-run lists every change and writes nothing. Running it again changes nothing.
"""

UNSEAL_EPILOG = """\
examples:
  mcg-gen secrets unseal --keys-file ~/vault-keys.json
  VAULT_ADDR=https://vault-vault.apps.hub.example.com mcg-gen secrets unseal --keys-file keys.json

Submits the unseal key shares of the keys file 'secrets init' wrote until Vault is unsealed.
A Vault that is not sealed is left alone.
"""

LOAD_EPILOG = """\
examples:
  mcg-gen secrets load
  mcg-gen secrets load --values-secret ~/secrets/prod.yaml --ca-cert ~/hub-ca.pem

Everything is checked before the first write (files, values, Vault, token, mount, permissions,
password policies), so a failure loads nothing. Unchanged secrets are not rewritten; generated
values stay as they are unless their field says 'override: true'. An interrupted load is
completed by running it again.
"""


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "secrets",
        help="check a values-secret file, prepare Vault and load the secrets into it",
        description="Feed the pattern's secrets to Vault: check your filled-in copy of "
        "values-secret.yaml.template, prepare Vault once, then load.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.set_defaults(run=partial(_usage, parser))
    actions = parser.add_subparsers(dest="secrets_action", metavar="ACTION")

    check = actions.add_parser(
        "check",
        help="check a filled-in values-secret file against the repository's template",
        description="Check your values-secret file against the repository's template, without "
        "contacting Vault. Exit 1 when anything would make 'secrets load' fail.",
        epilog=CHECK_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _add_repo_options(check)
    check.set_defaults(run=run_check)

    init = actions.add_parser(
        "init",
        help="prepare Vault: KV mount, password and ACL policies, Kubernetes auth roles",
        description="Initialise and unseal a new Vault, then prepare it for the pattern. Running "
        "it again changes nothing.",
        epilog=INIT_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _add_repo_options(init, values_secret=False)
    _add_vault_options(init)
    _add_keys_file(
        init,
        "where the unseal keys and root token go when Vault is initialised "
        "(a new file outside the repository), or come from when it is sealed",
    )
    init.add_argument(
        "--cluster",
        action="append",
        default=[],
        metavar="GROUP=DOMAIN",
        help="a managed cluster of GROUP whose cluster domain is DOMAIN: creates its Kubernetes "
        "auth mount and role (repeatable)",
    )
    init.add_argument(
        "--kubeconfig-dir",
        type=Path,
        metavar="DIR",
        help="one kubeconfig per cluster group (DIR/<group>[.yaml|.yml|.kubeconfig]): API "
        "server, CA and token reviewer token that configure the group's Kubernetes auth mount",
    )
    for flag, metavar, text in (
        ("--kubernetes-host", "GROUP=URL", "the API server URL of GROUP's cluster"),
        ("--kubernetes-ca", "GROUP=FILE", "the PEM CA bundle of GROUP's API server"),
        ("--token-reviewer-jwt", "GROUP=FILE", "a file with GROUP's token reviewer token"),
    ):
        init.add_argument(
            flag,
            action="append",
            default=[],
            metavar=metavar,
            help=f"{text} (repeatable; wins over the kubeconfig)",
        )
    init.add_argument(
        "--dry-run", action="store_true", help="list every change Vault would get; write nothing"
    )
    init.set_defaults(run=run_init)

    unseal = actions.add_parser(
        "unseal",
        help="unseal Vault with the keys file 'secrets init' wrote",
        description="Unseal a sealed Vault with the unseal key shares of a keys file.",
        epilog=UNSEAL_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _add_vault_options(unseal, token=False)
    _add_keys_file(unseal, "the keys file 'secrets init' wrote", required=True)
    unseal.set_defaults(run=run_unseal)

    load = actions.add_parser(
        "load",
        help="write every secret of the values-secret file into Vault",
        description="Load the secrets of your values-secret file into Vault (KV version 2), "
        "under <mount>/<prefix>/<name> for each of their vaultPrefixes.",
        epilog=LOAD_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _add_repo_options(load)
    _add_vault_options(load)
    load.set_defaults(run=run_load)


def _usage(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    parser.print_help(sys.stderr)
    return EXIT_USAGE


def _add_repo_options(parser: argparse.ArgumentParser, *, values_secret: bool = True) -> None:
    add_repo_argument(parser)
    if values_secret:
        parser.add_argument(
            "--values-secret",
            type=Path,
            metavar="FILE",
            help="your filled-in values-secret file (default: ~/values-secret-<pattern>.yaml)",
        )


def _add_keys_file(parser: argparse.ArgumentParser, text: str, *, required: bool = False) -> None:
    parser.add_argument("--keys-file", type=Path, metavar="FILE", required=required, help=text)


def _add_vault_options(parser: argparse.ArgumentParser, *, token: bool = True) -> None:
    parser.add_argument(
        "--vault-addr", metavar="URL", help="Vault's address (default: $VAULT_ADDR)"
    )
    if token:
        parser.add_argument(
            "--token",
            metavar="TOKEN",
            help="Vault token (default: $VAULT_TOKEN; prefer the variable: arguments are "
            "visible to other users of the machine)",
        )
        parser.add_argument(
            "--mount",
            default=names.DEFAULT_MOUNT,
            help="KV version 2 mount of secrets without a vaultMount (default: secret)",
        )
    parser.add_argument(
        "--ca-cert",
        metavar="FILE",
        help="CA bundle to verify Vault's TLS certificate (default: $VAULT_CACERT)",
    )
    parser.add_argument(
        "--skip-verify",
        action="store_true",
        help="do not verify Vault's TLS certificate (test servers only)",
    )
    parser.add_argument(
        "--vault-timeout",
        type=float,
        default=30.0,
        metavar="SECONDS",
        help="longest wait for one answer from Vault, all of it (default: 30)",
    )


# ---------------------------------------------------------------------------------- checking


def values_secret_path(given: Path | None, pattern: str) -> Path:
    """The user's values-secret file: `given`, else `~/values-secret-<pattern>.yaml`."""
    path = (given or Path(f"~/values-secret-{pattern}.yaml")).expanduser()
    if not path.is_file():
        raise UsageError(
            f"no values-secret file at {path}",
            hint=f"copy values-secret.yaml.template to ~/values-secret-{pattern}.yaml, fill it "
            "in, or pass --values-secret FILE",
        )
    return path


def run_check(args: argparse.Namespace) -> int:
    from generator.checks.values_secret import examine
    from generator.model.secrets_file import load_repo
    from generator.report.text import plain

    repo = load_repo(args.repo)
    examined = examine(repo, values_secret_path(args.values_secret, repo.pattern_name))
    sys.stdout.write(plain(examined.findings))
    warnings = len(examined.findings) - examined.errors
    checked = (
        f"{sum(len(s.fields) for s in examined.secrets.secrets)} field(s) checked against the "
        f"template of '{repo.pattern_name}'"
        if examined.secrets
        else "not compared with the template until its structure is fixed"
    )
    print(f"mcg-gen: {examined.path}: {checked}: {examined.errors} error(s), {warnings} warning(s)")
    return EXIT_INVALID if examined.errors else EXIT_OK


# ------------------------------------------------------------------------------------- vault


def _connect(args: argparse.Namespace) -> Any:
    from generator.vault import connect

    _warn_unverified(args)
    return connect(
        args.vault_addr or os.environ.get("VAULT_ADDR"),
        args.token or os.environ.get("VAULT_TOKEN"),
        ca_cert=args.ca_cert or os.environ.get("VAULT_CACERT"),
        verify=not args.skip_verify,
        timeout=args.vault_timeout,
    )


def _open(args: argparse.Namespace) -> Any:
    """A client without a token, for Vault's seal status, init and unseal."""
    from generator.vault import open_client

    _warn_unverified(args)
    return open_client(
        args.vault_addr or os.environ.get("VAULT_ADDR"),
        ca_cert=args.ca_cert or os.environ.get("VAULT_CACERT"),
        verify=not args.skip_verify,
        timeout=args.vault_timeout,
    )


def _warn_unverified(args: argparse.Namespace) -> None:
    if args.skip_verify:
        print("mcg-gen: warning: not verifying Vault's TLS certificate", file=sys.stderr)


def _ask(secrets: SecretsFile, given: dict[FieldKey, str | None]) -> dict[FieldKey, str | None]:
    """The resolved values, with what the file leaves to a prompt asked for (without echo): a
    value, or for a `path:` field the path of a file, which is then read (base64-encoded when
    the field says so), as the loader does. A typed path is relative to the current folder."""
    import getpass

    from generator.model.secrets_file import ValueSource, field_value

    values = dict(given)
    for secret in secrets.secrets:
        for spec in secret.fields:
            key = (secret.name, spec.name)
            if spec.source != "prompt" or values.get(key) is not None:
                continue
            for_file = secrets.sources[key].asks_for_file
            what = "the path of a file" if for_file else "a value"
            if not sys.stdin.isatty():
                raise McgError(
                    f"{secret.name}.{spec.name} needs {what} and there is no terminal to ask "
                    f"for it on: fill in its '{'path' if for_file else 'value'}' in the "
                    "values-secret file (nothing was loaded)"
                )
            label = spec.prompt or ("path of the file" if for_file else "value")
            answer = getpass.getpass(f"{secret.name}.{spec.name}: {label}: ")
            if not answer:
                raise McgError(f"no value given for {secret.name}.{spec.name}; nothing was loaded")
            values[key] = (
                field_value(ValueSource(path=answer), spec, Path.cwd()) if for_file else answer
            )
    return values


def run_load(args: argparse.Namespace) -> int:
    from generator.checks.values_secret import examine
    from generator.model.secrets_file import load_repo
    from generator.report.text import plain
    from generator.vault import Change, apply_load, plan_load

    repo = load_repo(args.repo, default_mount=args.mount)
    path = values_secret_path(args.values_secret, repo.pattern_name)
    examined = examine(repo, path, default_mount=args.mount)
    sys.stderr.write(plain(examined.findings))
    if examined.errors or examined.secrets is None:
        raise McgError(
            f"{path}: {examined.errors} problem(s) above; nothing was loaded",
            hint="fix them ('mcg-gen secrets check' shows them again) and run again",
        )
    client = _connect(args)
    values = _ask(examined.secrets, examined.values)
    writes = plan_load(client, examined.secrets.secrets, values)
    pending = sum(1 for write in writes if write.change is not Change.UNCHANGED)
    try:
        for write in apply_load(client, writes):
            pending -= write.change is not Change.UNCHANGED
            changed = f" ({', '.join(write.fields_changed)})" if write.fields_changed else ""
            print(f"  {write.change.value:<9} {write.api_path}{changed}")
    except KeyboardInterrupt:
        print(
            f"mcg-gen: interrupted with {pending} secret(s) not yet written; each secret is "
            "either old or new: run 'mcg-gen secrets load' again to finish",
            file=sys.stderr,
        )
        raise
    counts = {change: sum(1 for w in writes if w.change is change) for change in Change}
    print(
        f"mcg-gen: {len(writes)} secret path(s) in {client.url}: "
        + ", ".join(f"{counts[change]} {change.value}" for change in Change)
    )
    return EXIT_OK


# -------------------------------------------------------------------------------------- init


def _clusters(specs: list[str], repo: RepoSecrets) -> list[tuple[str, str]]:
    managed = {group.name for group in repo.groups if not group.is_hub}
    clusters = []
    for spec in specs:
        group, _, domain = spec.partition("=")
        if group not in managed or not domain:
            raise UsageError(
                f"--cluster {spec!r}: expected GROUP=DOMAIN with a managed cluster group",
                hint="managed groups: " + (", ".join(sorted(managed)) or "none"),
            )
        clusters.append((group, domain))
    return clusters


# ------------------------------------------------------------------------------- keys file

MAX_KEYS_FILE_BYTES = 64 * 1024


def _new_keys_file(path: Path, repo: Path) -> int:
    """A new, empty keys file opened for writing (mode 600): refused inside the repository and
    where a file exists (the keys are written once), before Vault is initialised, so that
    the keys always have a place to go."""
    target = path.expanduser().absolute()
    if target.resolve().is_relative_to(repo.resolve()):
        raise UsageError(
            f"--keys-file {path} is inside the repository",
            hint="keep the unseal keys and root token outside any repository, e.g. in ~/",
        )
    try:
        return os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    except FileExistsError:
        raise UsageError(
            f"--keys-file {path} exists: the keys of a new Vault are written to a new file only",
            hint="name a new file (the existing one may hold the keys of another Vault)",
        ) from None
    except OSError as error:
        raise UsageError(f"cannot create --keys-file {path}: {error.strerror}") from None


def _initialise(client: Any, keys_file: Path, repo: Path) -> str:
    """Initialise Vault, write its keys to `keys_file` and unseal it; the root token."""
    import json

    from generator import vault

    descriptor = _new_keys_file(keys_file, repo)
    try:
        keys = vault.initialise(client)
    except BaseException:
        os.close(descriptor)
        keys_file.expanduser().unlink()
        raise
    with os.fdopen(descriptor, "w", encoding="utf-8") as out:
        json.dump(keys.as_json(), out, indent=2)
        out.write("\n")
        out.flush()
        os.fsync(out.fileno())
    print(
        f"  initialised Vault: {len(keys.keys_hex)} unseal key shares ({keys.threshold} unseal "
        f"it) and the root token written to {keys_file}; keep that file safe and private"
    )
    vault.unseal(client, keys.keys_base64)
    print("  unsealed  Vault")
    return keys.root_token


def _read_keys_file(path: Path) -> tuple[list[str], str | None]:
    """The unseal key shares and root token of a keys file (as 'secrets init' and
    'vault operator init -format=json' write it)."""
    import json
    import stat

    from generator import repofs

    expanded = path.expanduser()
    try:
        data = json.loads(repofs.read_bytes(expanded, limit=MAX_KEYS_FILE_BYTES))
    except (McgError, ValueError):
        raise McgError(
            f"cannot read the keys file {path} as JSON",
            hint="pass the file 'mcg-gen secrets init' (or 'vault operator init -format=json') "
            "wrote",
        ) from None
    keys = (
        data.get("unseal_keys_b64") or data.get("unseal_keys_hex")
        if isinstance(data, dict)
        else None
    )
    if not isinstance(keys, list) or not keys or not all(isinstance(k, str) for k in keys):
        raise McgError(f"the keys file {path} has no unseal_keys_b64 list")
    if expanded.stat().st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        print(f"mcg-gen: warning: {path} can be read by others: chmod 600 it", file=sys.stderr)
    token = data.get("root_token")
    return keys, token if isinstance(token, str) and token else None


def _unseal_from(client: Any, keys_file: Path) -> str | None:
    from generator import vault

    keys, token = _read_keys_file(keys_file)
    used = vault.unseal(client, keys)
    print(f"  unsealed  Vault with {used} key share(s) from {keys_file}")
    return token


def run_unseal(args: argparse.Namespace) -> int:
    from generator import vault

    client = _open(args)
    status = vault.seal_status(client)
    if not status.get("initialized"):
        raise McgError(
            f"Vault at {client.url} is not initialised: run 'mcg-gen secrets init --keys-file FILE'"
        )
    if not status.get("sealed"):
        _read_keys_file(args.keys_file)  # a wrong file is said now, not at the next restart
        print(f"mcg-gen: Vault at {client.url} is not sealed: nothing to do")
        return EXIT_OK
    _unseal_from(client, args.keys_file)
    return EXIT_OK


# ---------------------------------------------------------------------- Kubernetes auth input


def _group_values(flag: str, specs: list[str], groups: set[str]) -> dict[str, str]:
    """GROUP=VALUE arguments of `flag` by group."""
    found = {}
    for spec in specs:
        group, _, value = spec.partition("=")
        if group not in groups or not value:
            raise UsageError(
                f"{flag} {spec!r}: expected GROUP=VALUE with a cluster group of the pattern",
                hint="cluster groups: " + ", ".join(sorted(groups)),
            )
        found[group] = value
    return found


def _cluster_access(args: argparse.Namespace, repo: RepoSecrets) -> dict[str, Any]:
    """Each group's ClusterAccess: its kubeconfig in --kubeconfig-dir, with what the flags give
    on top."""
    from generator.model.kubeconfig import (
        ClusterAccess,
        check_pem,
        cluster_access,
        find_kubeconfig,
        read_credential,
    )

    groups = {group.name for group in repo.groups}
    flags = {
        flag: _group_values(flag, getattr(args, flag[2:].replace("-", "_")), groups)
        for flag in ("--kubernetes-host", "--kubernetes-ca", "--token-reviewer-jwt")
    }
    folder = args.kubeconfig_dir.expanduser() if args.kubeconfig_dir else None
    if folder is not None and not folder.is_dir():
        raise UsageError(f"--kubeconfig-dir {args.kubeconfig_dir} is not a folder")
    access: dict[str, Any] = {}
    for group in sorted(groups):
        kubeconfig = find_kubeconfig(folder, group) if folder else None
        given = cluster_access(kubeconfig) if kubeconfig else None
        host = flags["--kubernetes-host"].get(group) or (given.host if given else None)
        ca = flags["--kubernetes-ca"].get(group)
        jwt = flags["--token-reviewer-jwt"].get(group)
        ca_pem = check_pem(read_credential(Path(ca), "the CA file"), ca) if ca else None
        reviewer = read_credential(Path(jwt), "the token file").strip() if jwt else None
        values = (
            host,
            ca_pem or (given and given.ca_pem),
            reviewer or (given and given.reviewer_jwt),
        )
        if not any(values):
            continue
        if not all(values):
            raise UsageError(
                f"cluster group {group}: its Kubernetes auth needs the API server URL, the CA "
                "and a token reviewer token",
                hint="give its kubeconfig in --kubeconfig-dir, or all of --kubernetes-host, "
                "--kubernetes-ca and --token-reviewer-jwt",
            )
        access[group] = ClusterAccess(*(str(value) for value in values))
    return access


def _auth_mounts(
    repo: RepoSecrets, clusters: list[tuple[str, str]], access: dict[str, Any]
) -> list[tuple[str, str, Any]]:
    """(group, Kubernetes auth mount, its ClusterAccess or None) for each mount to prepare."""
    mounts: list[tuple[str, str, Any]] = [
        (repo.hub.name, names.HUB_AUTH_MOUNT, access.get(repo.hub.name))
    ]
    named = dict(clusters)
    for group in repo.groups[1:]:
        given = access.get(group.name)
        if given is None:
            continue
        domain = named.get(group.name) or given.cluster_domain
        if not domain:
            raise UsageError(
                f"cluster group {group.name}: its API server {given.host} does not name the "
                "cluster domain (api.<domain>), which names its Kubernetes auth mount",
                hint=f"pass --cluster {group.name}=<cluster domain>",
            )
        mounts.append((group.name, domain, given))
    prepared = {(name, mount) for name, mount, _access in mounts}
    mounts.extend(
        (name, domain, None) for name, domain in clusters if (name, domain) not in prepared
    )
    return mounts


# -------------------------------------------------------------------------------------- init


def _ready_for_init(args: argparse.Namespace, repo: Path, dry_run: bool) -> tuple[Any, bool]:
    """A client for `init` with a token Vault accepts, once Vault is initialised (its keys
    written to the keys file) or unsealed when needed; the keys file's root token serves when
    no token is given. (client, True) for a dry run on a Vault not yet initialised: everything
    would be created, and nothing can be read."""
    from generator import vault

    client = _open(args)
    status = vault.seal_status(client)
    root_token = None
    if not status.get("initialized"):
        if args.keys_file is None:
            raise McgError(
                f"Vault at {client.url} is not initialised: pass --keys-file FILE (a new file "
                "outside the repository) to initialise it; its unseal keys and root token go there"
            )
        if dry_run:
            print(f"  would initialise Vault, write its keys to {args.keys_file} and unseal it")
            return client, True
        root_token = _initialise(client, args.keys_file, repo)
    elif status.get("sealed"):
        if args.keys_file is None:
            raise McgError(
                f"Vault at {client.url} is sealed: pass --keys-file FILE (or run 'mcg-gen "
                "secrets unseal --keys-file FILE') and run again"
            )
        if dry_run:
            raise McgError(
                f"Vault at {client.url} is sealed, so a dry run cannot see what is in it: "
                "unseal it first ('mcg-gen secrets unseal --keys-file FILE')"
            )
        root_token = _unseal_from(client, args.keys_file)
    elif args.keys_file is not None and not (args.token or os.environ.get("VAULT_TOKEN")):
        root_token = _read_keys_file(args.keys_file)[1]
    token = args.token or os.environ.get("VAULT_TOKEN") or root_token
    if not token:
        raise McgError("no Vault token: set VAULT_TOKEN, pass --token, or --keys-file")
    return vault.use_token(client, token), False


def run_init(args: argparse.Namespace) -> int:
    from generator import vault
    from generator.model.pattern import DEFAULT_VAULT_POLICY
    from generator.model.secrets_file import load_repo

    repo = load_repo(args.repo, default_mount=args.mount)
    clusters = _clusters(args.cluster, repo)
    auth = _auth_mounts(repo, clusters, _cluster_access(args, repo))
    dry_run = bool(args.dry_run)
    client, empty = _ready_for_init(args, repo.repo, dry_run)

    def apply(what: str, ensure: Any, *arguments: Any) -> None:
        change = vault.Change.CREATED if empty else ensure(client, *arguments, dry_run=dry_run)
        if dry_run:
            shown = {"created": "would create", "updated": "would update"}.get(change.value)
            print(f"  {shown or change.value:<12} {what}")
        else:
            print(f"  {change.value:<9} {what}")

    mounts = list(dict.fromkeys([args.mount, *(s.mount for s in repo.template.secrets)]))
    for mount in mounts:
        apply(f"KV version 2 secrets engine {mount}/", vault.ensure_kv2_mount, mount)
    policies = {DEFAULT_VAULT_POLICY: vault.DEFAULT_PASSWORD_POLICY, **repo.template.vault_policies}
    for name, policy in policies.items():
        apply(f"password policy {name}", vault.ensure_password_policy, name, policy)
    # vault_utils' policies and roles, the same names and rules, so that this and the loader's
    # 'load-secrets' leave Vault the same whichever runs first
    acl = {
        names.GLOBAL_POLICY: vault.read_policy(args.mount, names.GLOBAL_PREFIX),
        names.PUSH_POLICY: vault.push_policy(args.mount),
        names.HUB_POLICY: vault.read_policy(args.mount, names.HUB_PREFIX),
    }
    for name, text in acl.items():
        apply(f"ACL policy {name}", vault.ensure_acl_policy, name, text)
    common = (names.VAULT_DEFAULT_POLICY, names.GLOBAL_POLICY, names.PUSH_POLICY)
    for _group, mount, access in auth:
        hub = mount == names.HUB_AUTH_MOUNT
        if not hub:
            policy = names.vault_reader_policy(mount)
            apply(
                f"ACL policy {policy}",
                vault.ensure_acl_policy,
                policy,
                vault.spoke_policy(args.mount, mount),
            )
        apply(f"Kubernetes auth auth/{mount}/", vault.ensure_auth_mount, mount)
        if access is not None:
            apply(
                f"configuration auth/{mount}/config (API server {access.host})",
                vault.ensure_kubernetes_config,
                mount,
                access,
            )
        role = vault.Role(
            mount=mount,
            name=names.HUB_VAULT_ROLE if hub else names.spoke_vault_role(mount),
            service_accounts=(names.ESO_SERVICE_ACCOUNT,),
            namespaces=(names.ESO_NAMESPACE,),
            policies=(*common, names.HUB_POLICY if hub else names.vault_reader_policy(mount)),
            keep_policies=hub,
        )
        apply(f"role {role.path}", vault.ensure_kubernetes_role, role)
    if dry_run:
        print("mcg-gen: dry run: nothing was written")
        return EXIT_OK
    _print_todo(client, repo, auth)
    return EXIT_OK


def _print_todo(client: Any, repo: RepoSecrets, auth: list[tuple[str, str, Any]]) -> None:
    from generator.vault import kubernetes_auth_configured

    todo = []
    for group, mount, _access in auth:
        if not kubernetes_auth_configured(client, mount):
            todo.append(
                f"configure auth/{mount}: pass the kubeconfig of group {group} in "
                "--kubeconfig-dir (or --kubernetes-host, --kubernetes-ca, --token-reviewer-jwt)"
            )
    covered = {group for group, _mount, _access in auth}
    todo.extend(
        f"group {group.name}: give its kubeconfig in --kubeconfig-dir, or for each of its "
        f"clusters run 'mcg-gen secrets init --cluster {group.name}=<cluster domain>' (its "
        "ClusterSecretStore logs in through a Kubernetes auth mount named after the cluster "
        "domain)"
        for group in repo.groups
        if group.name not in covered
    )
    if todo:
        print("mcg-gen: Vault is prepared; still to do (needs the clusters):")
        for line in todo:
            print(f"  - {line}")
    else:
        print("mcg-gen: Vault is prepared")
