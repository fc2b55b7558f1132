"""The `mcg-gen` command line: parse, dispatch to one module per subcommand, report errors.

Command modules are imported when the command line is built, so they must import heavy
libraries (Helm, jsonschema, hvac) inside their functions, not at module level.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from generator import __version__
from generator.errors import EXIT_USAGE, McgError, printable

# Each module defines `register(subparsers)`, which adds its parser and sets `run=<callable>`.
COMMAND_MODULES = (
    "generator.commands.new",
    "generator.commands.generate",
    "generator.commands.render",
    "generator.commands.charts",
    "generator.commands.validate",
    "generator.commands.rules",
    "generator.commands.schemas",
    "generator.commands.secrets",
    "generator.commands.diff",
    "generator.commands.import_repo",
    "generator.commands.add",
    "generator.commands.graph",
)


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The whole command line; with `command`, when a module is named as it is, only that
    command's parser (what running one command needs: importing every command module costs
    start-up time on every run, the pre-commit hook's included)."""
    parser = _Parser(
        prog="mcg-gen",
        description="Generate, render, validate and feed secrets to Multicloud GitOps "
        "repositories.",
        epilog="Run 'mcg-gen COMMAND --help' for a command's options and examples.",
    )
    parser.add_argument("--version", action="version", version=f"mcg-gen {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    named = [name for name in COMMAND_MODULES if name.rpartition(".")[2] == command]
    for name in named or COMMAND_MODULES:
        importlib.import_module(name).register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    try:  # building the parser imports every command: Ctrl-C may land there too
        arguments = list(sys.argv[1:] if argv is None else argv)
        parser = build_parser(arguments[0] if arguments else None)
        args = parser.parse_args(arguments)
        if not getattr(args, "run", None):
            parser.print_help(sys.stderr)
            return EXIT_USAGE
        return int(args.run(args))
    except McgError as error:
        # a message may quote a repository's text (a chart's `fail`): escape what a terminal
        # would act on
        print(f"mcg-gen: error: {printable(str(error), keep_newlines=True)}", file=sys.stderr)
        return error.exit_code
    except KeyboardInterrupt:
        print("mcg-gen: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    sys.exit(main())
