"""`mcg-gen add group|app|secret`: grow pattern.yaml in place, then regenerate.

pattern.yaml is edited as a round trip (ruamel.yaml): comments, key order, quoting and flow or
block style of everything already there stay as they were; the new entry is appended at the end
of its section. The edited spec is checked as a whole before it is written, so a refused change
(an existing name, an unknown group, app or secret, a spec the change would make invalid) leaves
the file as it was.
"""

from __future__ import annotations

import argparse
import io
import sys
from pathlib import Path
from typing import Any

from generator.commands import add_directory_option
from generator.errors import EXIT_OK, McgError, UsageError

EPILOG = """\
examples:
  mcg-gen add group edge --app hello-world --label site=edge
  mcg-gen add app dashboard                        a local chart (charts/...) on the hub
  mcg-gen add app dashboard --group edge --group hub --namespace web
  mcg-gen add app grafana --chart grafana --version '9.*' \\
      --repo-url https://grafana.github.io/helm-charts --group edge
  mcg-gen add secret db --field password --field 'ca=file:~/ca.pem' --app dashboard
  mcg-gen add group edge --no-generate             edit pattern.yaml only

Each command appends to pattern.yaml (comments and formatting kept), checks the whole spec, writes
it, then runs 'mcg-gen generate' (unless --no-generate). It refuses, changing nothing, when the
name exists already, or names a group, app or secret the spec does not have.

A secret field is NAME or NAME=SOURCE, SOURCE one of generate (the default), prompt, required,
or file:PATH.
"""

FIELD_SOURCES = ("generate", "prompt", "required")


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "add",
        help="add a cluster group, app or secret to pattern.yaml and regenerate",
        description="Add a cluster group, an app or a secret to pattern.yaml, keeping its "
        "comments and formatting, then regenerate the repository.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    kinds = parser.add_subparsers(dest="kind", metavar="WHAT", required=True)

    group = _kind_parser(kinds, "group", "a managed cluster group")
    group.add_argument("name", help="the group's name (values-<name>.yaml)")
    group.add_argument("--app", action="append", default=[], help="an app it runs; repeatable")
    group.add_argument(
        "--operator", action="append", default=[], help="an operator it installs; repeatable"
    )
    group.add_argument(
        "--label",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a cluster label that selects its clusters (default clusterGroup=<name>)",
    )

    app = _kind_parser(kinds, "app", "an application")
    app.add_argument("name", help="the app's name")
    app.add_argument(
        "--group", action="append", default=[], help="a group that runs it (default: the hub)"
    )
    app.add_argument("--namespace", help="its namespace (default: its name)")
    app.add_argument("--path", help="its local chart folder (default: charts/<group or all>/NAME)")
    app.add_argument("--chart", help="a remote chart instead of a local one")
    app.add_argument("--version", dest="chart_version", help="the remote chart's version")
    app.add_argument("--repo-url", help="the remote chart's Helm repository")
    app.add_argument("--secret", action="append", default=[], help="a secret it reads; repeatable")

    secret = _kind_parser(kinds, "secret", "a secret in Vault")
    secret.add_argument("name", help="the secret's name")
    secret.add_argument(
        "--field",
        action="append",
        default=[],
        metavar="NAME[=SOURCE]",
        help="a field (default: one generated field 'password'); repeatable",
    )
    secret.add_argument(
        "--prefix", action="append", default=[], help="a Vault prefix (default: global)"
    )
    secret.add_argument(
        "--app", action="append", default=[], help="an app that reads it; repeatable"
    )
    secret.add_argument("--description", help="what the secret is for")

    for sub in (group, app, secret):
        add_directory_option(sub)
        sub.add_argument(
            "--no-generate", action="store_true", help="edit pattern.yaml, do not regenerate"
        )
        sub.set_defaults(run=run)


def _kind_parser(kinds: Any, name: str, help_text: str) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = kinds.add_parser(
        name, help=help_text, epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    return parser


def run(args: argparse.Namespace) -> int:
    from generator import repofs
    from generator.commands.generate import generate
    from generator.model.layout import SPEC_FILE
    from generator.model.spec import load_repository_spec, parse_spec

    repo: Path = args.repo
    if not (repo / SPEC_FILE).is_file():
        raise UsageError(
            f"no {SPEC_FILE} in {repo}",
            hint="run it in a repository made by 'mcg-gen new' or 'mcg-gen import'",
        )
    load_repository_spec(repo)  # a spec with problems is reported as it is, before any edit
    path = repofs.confine(repo, SPEC_FILE)
    text = repofs.read_bytes(path, display=SPEC_FILE).decode("utf-8")
    yaml = _round_trip()
    document = yaml.load(text)
    {"group": _add_group, "app": _add_app, "secret": _add_secret}[args.kind](document, args)
    buffer = io.StringIO()
    yaml.dump(document, buffer)
    edited = buffer.getvalue()
    pattern = parse_spec(edited, SPEC_FILE)  # the whole spec, checked before it is written
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.unlink(missing_ok=True)
    temporary.write_text(edited, encoding="utf-8")
    temporary.replace(path)
    print(f"mcg-gen: added {args.kind} {args.name!r} to {SPEC_FILE}")
    if args.no_generate:
        return EXIT_OK
    plan = generate(repo, pattern, out=sys.stdout)
    return 1 if plan.needs_user else EXIT_OK


def _round_trip() -> Any:
    from ruamel.yaml import YAML

    yaml = YAML()
    yaml.preserve_quotes = True
    yaml.width = 4096
    yaml.indent(mapping=2, sequence=4, offset=2)
    return yaml


def _group_names(document: Any) -> list[str]:
    hub = (document.get("hub") or {}).get("name", "hub")
    return [hub, *(str(group.get("name")) for group in document.get("groups") or [])]


def _known(document: Any, section: str) -> list[str]:
    return [str(key) for key in document.get(section) or {}]


def _refuse_unknown(names: list[str], known: list[str], what: str) -> None:
    for name in names:
        if name not in known:
            raise McgError(
                f"there is no {what} {name!r} in pattern.yaml",
                hint=f"{what}s: {', '.join(known) or 'none'} (add it first)",
            )


def _refuse_existing(name: str, existing: list[str], what: str) -> None:
    if name in existing:
        article = "an" if what[0] in "aeiou" else "a"
        raise McgError(
            f"pattern.yaml has {article} {what} {name!r} already",
            hint="choose another name, or edit the existing one in pattern.yaml",
        )


def _section(document: Any, key: str, empty: Any) -> Any:
    """The top-level section `key`, appended (at the end, after a blank line) when absent."""
    if document.get(key) is None:
        document[key] = empty
    return document[key]


def _append(parent: Any, key: str, name: str) -> None:
    """Add `name` to the list `parent[key]`, in the list's own style (a new list when none)."""
    from ruamel.yaml.comments import CommentedSeq

    if parent.get(key) is None:
        listing = CommentedSeq()
        listing.fa.set_flow_style()
        parent[key] = listing
    if name not in parent[key]:
        parent[key].append(name)


def _add_group(document: Any, args: argparse.Namespace) -> None:
    from ruamel.yaml.comments import CommentedMap, CommentedSeq

    _refuse_existing(args.name, _group_names(document), "cluster group")
    _refuse_unknown(args.app, _known(document, "apps"), "app")
    entry = CommentedMap(name=args.name)
    if args.app:
        entry["apps"] = _flow(args.app)
    if args.operator:
        entry["operators"] = _flow(args.operator)
    if args.label:
        labels = CommentedMap()
        for item in args.label:
            key, equals, value = item.partition("=")
            if not equals or not key:
                raise UsageError(f"label {item!r} is not KEY=VALUE", hint="e.g. --label site=edge")
            labels[key] = value
        entry["labels"] = labels
    _section(document, "groups", CommentedSeq()).append(entry)


def _add_app(document: Any, args: argparse.Namespace) -> None:
    from ruamel.yaml.comments import CommentedMap

    _refuse_existing(args.name, _known(document, "apps"), "app")
    groups = args.group or [_group_names(document)[0]]
    _refuse_unknown(groups, _group_names(document), "cluster group")
    _refuse_unknown(args.secret, _known(document, "secrets"), "secret")
    if args.chart and args.path:
        raise UsageError("an app has a --chart or a --path, not both")
    entry = CommentedMap()
    for key, value in (
        ("namespace", args.namespace),
        ("path", args.path),
        ("chart", args.chart),
        ("version", args.chart_version),
        ("repoURL", args.repo_url),
    ):
        if value:
            entry[key] = value
    if args.secret:
        entry["secrets"] = _flow(args.secret)
    _section(document, "apps", CommentedMap())[args.name] = entry
    hub = _group_names(document)[0]
    for group in groups:
        target = document["hub"] if group == hub else _group(document, group)
        _append(target, "apps", args.name)


def _add_secret(document: Any, args: argparse.Namespace) -> None:
    from ruamel.yaml.comments import CommentedMap

    _refuse_existing(args.name, _known(document, "secrets"), "secret")
    _refuse_unknown(args.app, _known(document, "apps"), "app")
    fields = CommentedMap()
    for item in args.field or ["password"]:
        name, equals, source = item.partition("=")
        source = source if equals else "generate"
        if source.startswith("file:"):
            fields[name] = CommentedMap(source="file", path=source.removeprefix("file:"))
        elif source in FIELD_SOURCES:
            fields[name] = source
        else:
            raise UsageError(
                f"field {item!r}: unknown source {source!r}",
                hint="use NAME, NAME=generate, NAME=prompt, NAME=required or NAME=file:PATH",
            )
    entry = CommentedMap()
    if args.description:
        entry["description"] = args.description
    if args.prefix:
        entry["prefixes"] = _flow(args.prefix)
    entry["fields"] = fields
    _section(document, "secrets", CommentedMap())[args.name] = entry
    for app in args.app:
        body = document["apps"][app]
        if body is None or (isinstance(body, dict) and not body):
            body = document["apps"][app] = CommentedMap()
        _append(body, "secrets", args.name)


def _group(document: Any, name: str) -> Any:
    return next(group for group in document["groups"] if group.get("name") == name)


def _flow(items: list[str]) -> Any:
    from ruamel.yaml.comments import CommentedSeq

    listing = CommentedSeq(items)
    listing.fa.set_flow_style()
    return listing
