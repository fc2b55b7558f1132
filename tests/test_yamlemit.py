"""The YAML writer: whatever it writes, YAML 1.1 (PyYAML, Helm) and 1.2 (ruamel) parsers read back
as the same data."""

from __future__ import annotations

from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML

from generator.yamlemit import dump

RUAMEL = YAML(typ="safe", pure=True)
KEYS = st.text(min_size=1, max_size=12)
SCALARS = (
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30)
)
DATA = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(KEYS, inner, max_size=4),
    max_leaves=20,
)


@settings(max_examples=400, deadline=None)
@given(st.dictionaries(KEYS, DATA, max_size=5))
def test_both_yaml_versions_read_back_what_was_written(data: dict[str, Any]) -> None:
    text = dump(data)
    assert yaml.safe_load(text) == data
    assert RUAMEL.load(text) == data


@pytest.mark.parametrize(
    "value",
    [
        "yes",
        "on",
        "No",
        "0755",
        "1e3",
        "0o17",
        "0x1F",
        "1:20",
        "1:20.5",
        "null",
        "~",
        "",
        "2024-01-01",
        "<<",
        "=",
        "-v",
        "a: b",
        "a #b",
        "ends:",
        "{{ .Values.x }}",
        "*alias",
        "&a",
        "!tag",
        "%x",
        "@x",
        "`x",
        "'q'",
        '"q"',
        " padded ",
        "tab\there",
        "multi\nline\n",
        "keep\n\n",
        "strip\nend",
        "\nleading",
        "  indented\nblock\n",
        "\u2028",
        "\x85",
        "\ufeff",
    ],
)
def test_ambiguous_strings_stay_strings(value: str) -> None:
    text = dump({"key": value, "list": [value]})
    assert yaml.safe_load(text) == {"key": value, "list": [value]}
    assert RUAMEL.load(text) == {"key": value, "list": [value]}


def test_layout_is_kubernetes_style() -> None:
    text = dump({"a": {"b": [{"c": 1, "d": "x"}, "z"], "e": {}, "f": []}, "g": "line\nnext\n"})
    assert text == (
        "a:\n  b:\n    - c: 1\n      d: x\n    - z\n  e: {}\n  f: []\ng: |\n  line\n  next\n"
    )


def test_plain_where_unambiguous() -> None:
    assert dump({"url": "https://git.example.com/a.git", "v": "0.1.*", "p": "$patternref/x"}) == (
        "url: https://git.example.com/a.git\nv: 0.1.*\np: $patternref/x\n"
    )


def test_reader_takes_yaml_1_1_oddities_as_helm_does() -> None:
    from generator.yamlio import parse_document

    document = parse_document("a: =\nb: <<\nc: 2024-01-01\nd: &x {k: 1}\ne:\n  <<: *x\n", "f")
    assert document.data == {"a": "=", "b": "<<", "c": "2024-01-01", "d": {"k": 1}, "e": {"k": 1}}
