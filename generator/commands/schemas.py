"""`mcg-gen schemas`: manage the JSON Schemas that `mcg-gen validate` checks resources against."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

_IMPORT_EPILOG = """\
Each served version of each CRD becomes {group}/{kind}_{version}.json below the output
folder (kubeconform's layout), strict: unknown fields are errors. Point
'mcg-gen validate --schema-location DIR' at the folder to check custom resources that
mcg-gen has no schema for, or whose CRD is newer than the bundled schema.

examples:
  mcg-gen schemas import my-operator-crds.yaml --output-dir schemas
  oc get crd widgets.example.com -o yaml > widget-crd.yaml
  mcg-gen schemas import widget-crd.yaml gadget-crd.yaml -o schemas --force
"""


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "schemas",
        help="manage the schemas resources are validated against",
        description="Manage the JSON Schemas that 'mcg-gen validate' checks resources against.",
        epilog="Run 'mcg-gen schemas COMMAND --help' for a command's options and examples.",
    )
    commands = parser.add_subparsers(dest="schemas_command", metavar="COMMAND")
    importer = commands.add_parser(
        "import",
        help="convert CustomResourceDefinitions into schema files",
        description="Convert CustomResourceDefinition YAML files into strict JSON Schemas.",
        epilog=_IMPORT_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    importer.add_argument("crds", nargs="+", type=Path, metavar="CRD.yaml", help="CRD manifests")
    importer.add_argument(
        "-o",
        "--output-dir",
        type=Path,
        default=Path("schemas"),
        metavar="DIR",
        help="where to write the schemas (default: ./schemas)",
    )
    importer.add_argument("--force", action="store_true", help="replace existing schema files")
    importer.set_defaults(run=run_import)
    parser.set_defaults(run=lambda _args: _usage(parser))


def _usage(parser: argparse.ArgumentParser) -> int:
    from generator.errors import EXIT_USAGE

    parser.print_help(sys.stderr)
    return EXIT_USAGE


def run_import(args: argparse.Namespace) -> int:
    from generator.crd_import import convert_crds, write_schemas
    from generator.errors import EXIT_OK

    converted = [schema for path in args.crds for schema in convert_crds(path)]
    for path in write_schemas(converted, args.output_dir, force=args.force):
        print(f"wrote {path}")
    return EXIT_OK
