"""Where the files that ship with mcg-gen (schemas, base charts, example patterns) are found.

In a source checkout they are the top-level `schemas/`, `charts/` and `patterns/` folders; in an
installed wheel the same folders are mapped into the package as `generator.assets.*`.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

_CHECKOUT = Path(__file__).resolve().parent.parent


@cache
def _root(kind: str) -> Path:
    checkout = _CHECKOUT / kind
    if (_CHECKOUT / "pyproject.toml").is_file() and checkout.is_dir():
        return checkout
    return Path(__file__).resolve().parent / "assets" / kind


def schemas_dir() -> Path:
    return _root("schemas")


def charts_dir() -> Path:
    return _root("charts")


def patterns_dir() -> Path:
    return _root("patterns")
