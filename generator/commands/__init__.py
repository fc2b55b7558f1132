"""One module per subcommand; each defines `register(subparsers)`."""

from __future__ import annotations

import argparse
from pathlib import Path


def add_repo_argument(parser: argparse.ArgumentParser) -> None:
    """The optional repository folder every command that works on a repository takes."""
    parser.add_argument(
        "repo",
        nargs="?",
        default=".",
        type=Path,
        help="the repository (default: the current folder)",
    )
