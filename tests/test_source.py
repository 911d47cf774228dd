"""guide.source composes YAML itself (one pass that refuses anchors, aliases and deep nesting as they
come): for any YAML without those, it reads the same data, with the same node lines, as PyYAML does
with the same loader."""

from __future__ import annotations

import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from guide.yamlfile import _compose_single_document, _SafeLoader, lines_of, parse_yaml

KEYS = st.one_of(st.text(max_size=12), st.sampled_from(["no", "yes", "on", "1", "01", "1.0", "~", "<<", "=", "&a", "*a"]),
                 st.integers(-5, 5), st.booleans(), st.none())
SCALARS = st.one_of(KEYS, st.floats(allow_nan=False), st.sampled_from(["2026-01-01", "0x1F", "1_000", ".inf", "!x", "- a"]))
DATA = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(KEYS, inner, max_size=4),
                    max_leaves=25)


class _NoAliasDumper(yaml.SafeDumper):
    def ignore_aliases(self, data):  # type: ignore[override]
        return True


def _shape(node: yaml.Node) -> tuple:
    marks = (type(node).__name__, node.tag, node.start_mark.line, node.start_mark.column, node.end_mark.line,
             node.end_mark.column)
    if isinstance(node, yaml.ScalarNode):
        return (*marks, node.value, node.style)
    if isinstance(node, yaml.SequenceNode):
        return (*marks, node.flow_style, *(_shape(item) for item in node.value))
    return (*marks, node.flow_style, *((_shape(key), _shape(value)) for key, value in node.value))


def _pyyaml(text: str) -> tuple[object, yaml.Node | None]:
    loader = _SafeLoader(text)
    try:
        node = loader.get_single_node()
        return (loader.construct_document(node) if node is not None else None), node
    finally:
        loader.dispose()


@settings(max_examples=300, deadline=None)
@given(data=DATA, flow=st.sampled_from([None, True, False]))
def test_any_yaml_without_aliases_reads_as_pyyaml_reads_it(data, flow):
    text = yaml.dump(data, Dumper=_NoAliasDumper, default_flow_style=flow, allow_unicode=True)
    expected, node = _pyyaml(text)
    document = parse_yaml("x.yaml", text)
    assert repr(document.data) == repr(expected)
    loader = _SafeLoader(text)
    try:
        composed = _compose_single_document(loader)
    finally:
        loader.dispose()
    assert (composed is None) == (node is None) == (document.lines is None)
    if node is not None:
        assert _shape(composed) == _shape(node)
        assert document.lines == lines_of(node), "the lines kept are PyYAML's"


def test_line_numbers_reach_keys_items_and_what_they_hold():
    document = parse_yaml("x.yaml", "title: a\nquestions:\n  - id: q1\n    choices:\n      - id: c1\n"
                                    "      - id: c2\n  - id: q2\n    from: x\nanswers_file:\n  answers:\n    q1: c1\n")
    assert document.line_of(()) == 1
    assert document.line_of(("title",)) == 1
    assert document.line_of(("questions",)) == 2, "a key holding a list is found at the key"
    assert document.line_of(("questions", 1)) == 7
    assert document.line_of(("questions", 0, "choices", 1, "id")) == 6
    assert document.line_of(("questions", 1, "from_")) == 8, "a field named with a trailing _ finds its key"
    assert document.line_of(("questions", 0, "missing")) == 3, "what is not there: the deepest part found"
    assert document.line_of(("questions", 5)) == 2
    assert document.item_lines(("questions", 0, "choices"), 3) == [5, 6, 4]
    assert document.part("answers_file").line_of(("answers", "q1")) == 11
