"""`mcg-gen rules`: the rules validate reports, and what each one means."""

from __future__ import annotations

import argparse
import sys
import textwrap
from collections.abc import Iterable
from itertools import groupby
from typing import TYPE_CHECKING, Any

from generator.errors import EXIT_OK, UsageError

if TYPE_CHECKING:
    from generator.rules import Rule

EPILOG = """\
examples:
  mcg-gen rules                       every rule: id, default severity, summary
  mcg-gen rules values                the rules of one layer
  mcg-gen rules values/unknown-key    what one rule catches, why it matters, how to fix it

Rule ids are what 'mcg-gen validate' prints next to each finding (and the ruleId of its SARIF
output). A finding may carry another severity than its rule's default.
"""


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "rules",
        help="list the rules validate reports, or explain one",
        description="List the rules 'mcg-gen validate' reports, grouped by layer, or explain one.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "rule", nargs="?", help="a rule id (values/unknown-key) to explain, or a layer (values)"
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from generator.rules import all_rules, layer_of, rule, similar

    if args.rule is None:
        sys.stdout.write(listing(all_rules().values()))
    elif "/" not in args.rule and any(layer_of(known) == args.rule for known in all_rules()):
        sys.stdout.write(listing(r for r in all_rules().values() if layer_of(r.id) == args.rule))
    else:
        try:
            sys.stdout.write(explanation(rule(args.rule)))
        except KeyError:
            close = similar(args.rule)
            hint = f"did you mean {' or '.join(close)}? " if close else ""
            raise UsageError(
                f"unknown rule '{args.rule}'", hint=hint + "'mcg-gen rules' lists them all"
            ) from None
    return EXIT_OK


def listing(rules: Iterable[Rule]) -> str:
    """Rules grouped by layer, one per line in aligned columns: id, severity, summary."""
    from generator.rules import layer_of

    shown = list(rules)
    width = max(len(rule.id) for rule in shown)
    blocks = []
    for layer, members in groupby(shown, key=lambda rule: layer_of(rule.id)):
        lines = [f"{layer}:"]
        lines += [f"  {r.id:<{width}}  {r.severity.value:<7}  {r.summary}" for r in members]
        blocks.append("\n".join(lines) + "\n")
    return "\n".join(blocks)


def explanation(rule: Rule) -> str:
    body = textwrap.fill(rule.explanation, width=80)
    return f"{rule.id} ({rule.severity.value} by default)\n{rule.summary}\n\n{body}\n"
