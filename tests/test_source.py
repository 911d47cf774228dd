"""guide.source composes YAML itself (one pass that refuses anchors, aliases and deep nesting as they
come): for any YAML without those, it reads the same data, with the same node lines, as PyYAML does
with the same loader."""

from __future__ import annotations

import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from guide.source import _SafeLoader, parse_yaml

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
    assert (document.node is None) == (node is None)
    if node is not None:
        assert _shape(document.node) == _shape(node)
