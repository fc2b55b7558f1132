"""Writing YAML: deterministic block style for the data mcg-gen generates, fast.

The output means the same to YAML 1.1 parsers (PyYAML, Helm's Go parser) and YAML 1.2 parsers
(ruamel, editors): a string that either could read as something else (`yes`, `on`, `0755`,
`1e3`, `null`, `0o17`) is quoted, and so is anything that is not plainly safe. Key order is kept,
sequences are indented under their key as hand-written Kubernetes YAML is, and multi-line strings
are literal blocks. PyYAML's own emitter produced the same shapes, but is pure Python and
dominated the time of generating large patterns.
"""

from __future__ import annotations

import math
import re
from typing import Any

_INDENT = "  "
_PLAIN = re.compile(r"^[\w./$(][\w./$()+*=~@%^:#,-]*(?: [\w./$()+*=~@%^:#,-]+)*$")
# strings a YAML 1.1 or 1.2 parser would read as null, a boolean or a number
_RESERVED = re.compile(
    r"""^(?:
        ~|null|Null|NULL
      | y|Y|yes|Yes|YES|n|N|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF
      | [-+]?[0-9][0-9_]*(?::[0-5]?[0-9])*
      | [-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*
      | [-+]?(?:\.[0-9]+|[0-9][0-9_]*(?:\.[0-9_]*)?)(?:[eE][-+]?[0-9]+)?
      | 0o[0-7]+|0x[0-9a-fA-F]+|0b[0-1_]+
      | [-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN)
      | [0-9]{4}-[0-9]{1,2}-[0-9]{1,2}.*
      | <<|=
    )$""",
    re.VERBOSE,
)
# outside YAML's printable set, or line breaks to YAML 1.1: only a double-quoted escape holds them
_UNSAFE_IN_QUOTES = re.compile(
    "[^\t\n\r\x20-\x7e\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]|[\u2028\u2029\ufeff]"
)
_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\t": "\\t", "\r": "\\r", "\x00": "\\0"}


def _escape(character: str) -> str:
    if character in _ESCAPES:
        return _ESCAPES[character]
    code = ord(character)
    if code <= 0xFF:
        return f"\\x{code:02x}"
    if code <= 0xFFFF:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


_DOUBLE_QUOTED = re.compile("[\t\n\r]|" + _UNSAFE_IN_QUOTES.pattern)
_ESCAPED = re.compile('[\\\\"\t\n\r]|' + _UNSAFE_IN_QUOTES.pattern)


def _quoted(text: str) -> str:
    """Single quotes when they can hold the text as is, else double quotes with escapes."""
    if not _DOUBLE_QUOTED.search(text):
        return "'" + text.replace("'", "''") + "'"
    return '"' + _ESCAPED.sub(lambda match: _escape(match.group()), text) + '"'


def scalar(value: Any) -> str:
    """One scalar as it appears after `key: ` or `- `."""
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return ".nan"
        if math.isinf(value):
            return ".inf" if value > 0 else "-.inf"
        text = repr(value)
        if "e" in text and "." not in text:  # 1e-05 is a string to YAML 1.1
            text = text.replace("e", ".0e")
        return text
    if isinstance(value, str):
        if (
            _PLAIN.match(value)
            and not _RESERVED.match(value)
            and ": " not in value
            and " #" not in value
            and not value.endswith(":")
        ):
            return value
        return _quoted(value)
    raise TypeError(f"cannot write {type(value).__name__} as YAML")


def _block(text: str, indent: str) -> str | None:
    """A literal block for a multi-line string, when one can hold it exactly."""
    if _UNSAFE_IN_QUOTES.search(text) or "\t" in text or "\r" in text or text[0] in " \n":
        return None
    body = text.rstrip("\n")
    trailing = len(text) - len(body)
    if trailing == 0:
        header = "|-"
    elif trailing == 1:
        header = "|"
    else:
        header = "|+"
    lines = [f"{indent}{line}" if line else "" for line in text.split("\n")]
    if trailing:
        lines = lines[:-1]  # the last line break ends the last line
    return header + "\n" + "\n".join(lines)


def _value(value: Any, indent: str) -> str:
    """What follows `key:` or `-`: ` scalar`, a block, or a newline and nested content."""
    if isinstance(value, dict):
        if not value:
            return " {}"
        return "\n" + _mapping(value, indent + _INDENT)
    if isinstance(value, list):
        if not value:
            return " []"
        return "\n" + _sequence(value, indent + _INDENT)
    if isinstance(value, str) and "\n" in value:
        block = _block(value, indent + _INDENT)
        if block is not None:
            return " " + block
    return " " + scalar(value)


def _key(key: Any) -> str:
    if isinstance(key, str) and "\n" in key:
        return _quoted(key)
    return scalar(key)


def _mapping(data: dict[Any, Any], indent: str) -> str:
    return "\n".join(f"{indent}{_key(key)}:{_value(value, indent)}" for key, value in data.items())


def _sequence(items: list[Any], indent: str) -> str:
    lines = []
    for item in items:
        if isinstance(item, dict) and item:
            nested = _mapping(item, indent + _INDENT)
            lines.append(f"{indent}- {nested[len(indent) + len(_INDENT) :]}")
        elif isinstance(item, list) and item:
            lines.append(f"{indent}-\n{_sequence(item, indent + _INDENT)}")
        else:
            lines.append(f"{indent}-{_value(item, indent)}")
    return "\n".join(lines)


def dump(data: Any) -> str:
    """A whole document; a mapping or sequence at the top, as every file mcg-gen writes."""
    if isinstance(data, dict):
        return (_mapping(data, "") if data else "{}") + "\n"
    if isinstance(data, list):
        return (_sequence(data, "") if data else "[]") + "\n"
    return scalar(data) + "\n"
