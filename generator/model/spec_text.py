"""Edits of a pattern.yaml text that keep what the user wrote: comments, order, quoting (a
ruamel.yaml round trip). For the few settings commands set for the user (`new`'s name and
repository URL, `generate --hooks/--ci`)."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any


def edit_spec_text(text: str, change: Callable[[Any], None]) -> str:
    """`text` after `change` mutated its parsed mapping (comments and layout kept)."""
    from ruamel.yaml import YAML

    yaml = YAML()
    yaml.preserve_quotes = True
    yaml.width = 4096
    yaml.indent(mapping=2, sequence=4, offset=2)
    document = yaml.load(text)
    change(document)
    buffer = io.StringIO()
    yaml.dump(document, buffer)
    return buffer.getvalue()
