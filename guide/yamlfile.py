"""Parsing YAML safely: one document, plain data, a line for every part, and one-line errors; and writing
YAML that reads back exactly (sessions, preferences, documents' front matter).

Anchors, aliases, tags that build objects and nesting deeper than MAX_DEPTH are refused; `no`, `yes`,
`on`, `off` and dates stay strings; a duplicate key is an error. Kept apart from `guide.source`, whose
errors and documents it makes, because PyYAML takes longer to import than the app's start screen
needs (which reads no YAML).
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any, Callable

import yaml

from guide.source import GuideError, Lines, YamlDocument, decode, one_line, read_limited

MAX_DEPTH = 64

_FastLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _SafeLoader(_FastLoader):  # type: ignore[misc, valid-type]
    """SafeLoader (libyaml where available) that keeps `no`/`yes`/`on`/`off` and dates as strings."""

    def construct_mapping(self, node, deep=False):  # type: ignore[override]
        # YAML lets a later key silently replace an earlier one; in a bank or answers file that
        # hides a mistake (two answers to one question), so it is an error on the second key.
        seen: set[tuple[str, str]] = set()
        for key_node, _ in node.value:
            if isinstance(key_node, yaml.ScalarNode):
                if (key_node.tag, key_node.value) in seen:
                    raise yaml.constructor.ConstructorError(
                        None, None, f"duplicate key '{one_line(key_node.value, 80)}'", key_node.start_mark)
                seen.add((key_node.tag, key_node.value))
        return super().construct_mapping(node, deep)

    def construct_object(self, node, deep=False):  # type: ignore[override]
        try:
            return super().construct_object(node, deep)
        except (ValueError, KeyError):
            raise _not_of_its_tag(node) from None


def _not_of_its_tag(node: yaml.Node) -> yaml.constructor.ConstructorError:
    """`!!int abc`: a tag its value does not fit (the constructors raise a bare ValueError or KeyError), or a
    decimal number longer than Python's int() converts."""
    kind = str(node.tag).rsplit(":", 1)[-1]
    limit = sys.get_int_max_str_digits()
    digits = node.value.replace("_", "").lstrip("+-")
    if kind == "int" and limit and len(digits) > limit and digits.isascii() and digits.isdecimal():
        # said as too long, not as if it were no number
        return yaml.constructor.ConstructorError(None, None, f"a number longer than {limit} digits", node.start_mark)
    return yaml.constructor.ConstructorError(None, None, f"'{one_line(node.value, 80)}' is not a valid {kind}",
                                             node.start_mark)


_STR = "tag:yaml.org,2002:str"
_COLLECTIONS: dict[type, type[yaml.Node]] = {yaml.MappingStartEvent: yaml.MappingNode,
                                             yaml.SequenceStartEvent: yaml.SequenceNode}
_COLLECTION_ENDS = (yaml.MappingEndEvent, yaml.SequenceEndEvent)


def _refused(event: yaml.Event, problem: str) -> yaml.composer.ComposerError:
    return yaml.composer.ComposerError(None, None, problem, event.start_mark)


def _compose_single_document(loader: _SafeLoader) -> yaml.Node | None:
    """The nodes of the one document in the text, composed from the parser's events in one pass.

    Anchors, aliases (alias bombs) and nesting deeper than MAX_DEPTH are refused at the event that
    brings them, so they never get built (libyaml's own composer would resolve aliases and recurse
    as deep as the text nests). Nodes, tags and marks are the ones libyaml's composer makes.
    """
    get_event, resolve, implicit_resolvers = loader.get_event, loader.resolve, loader.yaml_implicit_resolvers
    scalar_event, scalar_node, mapping_node = yaml.ScalarEvent, yaml.ScalarNode, yaml.MappingNode
    get_event()  # the stream start
    documents: list[yaml.Event] = []
    roots: list[yaml.Node] = []
    add = roots.append  # adds a node to the collection being composed
    # Open collections, with the `add` of the one around each. A mapping collects its keys and values
    # in one list while it is open, and pairs them when it closes.
    open_nodes: list[tuple[yaml.CollectionNode, Callable[[yaml.Node], None]]] = []
    while True:
        event = get_event()
        kind = type(event)
        if kind is scalar_event:
            if event.anchor is not None:
                raise _refused(event, "anchors and aliases are not allowed")
            tag, value = event.tag, event.value
            if tag is None and event.implicit[0] and value[:1] not in implicit_resolvers:
                tag = _STR  # what `resolve` finds for a plain scalar no implicit resolver can match
            elif tag is None or tag == "!":
                tag = resolve(scalar_node, value, event.implicit)
            add(scalar_node(tag, value, event.start_mark, event.end_mark, event.style))
        elif kind in _COLLECTIONS:
            if event.anchor is not None:
                raise _refused(event, "anchors and aliases are not allowed")
            if len(open_nodes) == MAX_DEPTH:
                raise _refused(event, f"nesting deeper than {MAX_DEPTH} levels")
            node_class = _COLLECTIONS[kind]
            tag = event.tag
            if tag is None or tag == "!":
                tag = resolve(node_class, None, event.implicit)
            node = node_class(tag, [], event.start_mark, None, event.flow_style)
            add(node)
            open_nodes.append((node, add))
            add = node.value.append
        elif kind in _COLLECTION_ENDS:
            node, add = open_nodes.pop()
            node.end_mark = event.end_mark
            if type(node) is mapping_node:
                node.value = list(zip(node.value[::2], node.value[1::2]))
        elif kind is yaml.AliasEvent:
            raise _refused(event, "anchors and aliases are not allowed")
        elif kind is yaml.DocumentStartEvent:
            # A second document is an error, reported once the whole text parsed and passed the checks.
            documents.append(event)
        elif kind is yaml.StreamEndEvent:
            if len(documents) > 1:
                raise yaml.composer.ComposerError("expected a single document in the stream", roots[0].start_mark,
                                                  "but found another document", documents[1].start_mark)
            return roots[0] if roots else None


_TAG = "tag:yaml.org,2002:"
_SCALAR_CONSTRUCTORS = {_TAG + kind: _SafeLoader.yaml_constructors[_TAG + kind] for kind in ("null", "bool", "int", "float")}


class _Unusual(Exception):
    """A node other than a mapping, list, string, number, boolean or null, or a duplicate key."""


def _construct(loader: _SafeLoader, root: yaml.Node) -> Any:
    """The data of a document: plain mappings, lists and scalars directly, anything else (other tags,
    merge keys, duplicate keys, keys that are collections) by PyYAML's constructor, for its results
    and errors. Without aliases no node is shared, so building each node once is all it does too."""
    try:
        return _plain_data(loader, root)
    except _Unusual:
        return loader.construct_document(root)


def _plain_data(loader: _SafeLoader, node: yaml.Node) -> Any:
    kind, tag = type(node), node.tag
    if kind is yaml.ScalarNode:
        if tag == _STR:
            return node.value
        construct = _SCALAR_CONSTRUCTORS.get(tag)
        if construct is None:
            raise _Unusual
        try:
            return construct(loader, node)
        except (ValueError, KeyError):
            raise _not_of_its_tag(node) from None
    if kind is yaml.SequenceNode and tag == _TAG + "seq":
        return [_plain_data(loader, item) for item in node.value]
    if kind is not yaml.MappingNode or tag != _TAG + "map":
        raise _Unusual
    data = {}
    for key_node, value_node in node.value:
        if type(key_node) is not yaml.ScalarNode:
            raise _Unusual
        key = _plain_data(loader, key_node)
        if key in data:
            raise _Unusual  # perhaps a duplicate key, perhaps `1` and `01`: PyYAML tells which
        data[key] = _plain_data(loader, value_node)
    return data


_SafeLoader.yaml_implicit_resolvers = {
    first: [
        (tag, regexp if tag != "tag:yaml.org,2002:bool" else re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"))
        for tag, regexp in resolvers
        if tag != "tag:yaml.org,2002:timestamp"
    ]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def lines_of(node: yaml.Node) -> Lines:
    line = node.start_mark.line + 1
    if isinstance(node, yaml.SequenceNode):
        return line, [lines_of(item) for item in node.value]
    if isinstance(node, yaml.MappingNode):
        keys: dict[str, Lines] = {}
        for key, value in node.value:
            if isinstance(key, yaml.ScalarNode):  # a collection as a key is never looked up
                key_line = key.start_mark.line + 1
                keys.setdefault(key.value, key_line if isinstance(value, yaml.ScalarNode) else (key_line, lines_of(value)[1]))
        return line, keys
    return line


def parse_yaml(path: str | Path, text: str, line_offset: int = 0, *, language: str = "YAML") -> YamlDocument:
    """Parse one YAML document from text; errors carry the file and line.

    `line_offset` is where the text starts in its file (front matter starts on line 2): blank lines
    in front keep every line number right, since libyaml's marks cannot be shifted afterwards. `language` is
    what the errors call the text: JSON, read as YAML for its lines, is "JSON" to its author.
    """
    text = "\n" * line_offset + _joined_surrogate_pairs(text)
    try:
        loader = _SafeLoader(text)
        try:
            node = _compose_single_document(loader)
            data = _construct(loader, node) if node is not None else None
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = mark.line + 1 if mark else None
        problem = ", ".join(part for part in (error.context, error.problem) if part) or "invalid YAML"
        if "could not determine a constructor" in problem:
            problem = "tags such as !!python/object are not allowed"
        raise GuideError(path, line, None, f"{language}: {problem}") from None
    except yaml.reader.ReaderError as error:  # it names an offset (libyaml's in bytes, PyYAML's in characters)
        raise _unacceptable_character(path, text, chr(error.character), language) from None
    except yaml.YAMLError as error:
        raise GuideError(path, None, None, f"{language}: {one_line(str(error))}") from None
    except RecursionError:
        raise GuideError(path, None, None, f"{language} nested too deeply") from None
    return YamlDocument(str(path), data, lines_of(node) if node is not None else None)


# The abbreviations of the C0 control characters and DEL, as character tables print them.
_CONTROL_NAMES = ("NUL SOH STX ETX EOT ENQ ACK BEL BS HT LF VT FF CR SO SI DLE DC1 DC2 DC3 DC4 NAK SYN ETB CAN EM SUB "
                  "ESC FS GS RS US").split()


def _unacceptable_character(path: str | Path, text: str, character: str, language: str) -> GuideError:
    """The line and column of a character YAML does not allow, in words. The reader stops at the first such
    character, so the first place this one occurs is where it stopped."""
    position = text.index(character)
    line = text.count("\n", 0, position) + 1
    column = position - text.rfind("\n", 0, position)
    code = ord(character)
    name = _CONTROL_NAMES[code] + ", " if code < 0x20 else "DEL, " if code == 0x7F else ""
    control = code < 0x20 or 0x7F <= code <= 0x9F  # C0, DEL and C1
    what = f"a control character ({name}U+{code:04X})" if control else f"the character U+{code:04X}"
    return GuideError(path, line, None, f"{what} at column {column} is not allowed in {language}")


# JSON writes a character beyond U+FFFF as two escapes (a surrogate pair: what `json.tool` and
# `json.dumps` write by default); YAML knows only \U0001F600 and refuses each half. An even run of
# backslashes before an escape is text, not an escape.
_SURROGATE_PAIR = re.compile(r"(?<!\\)((?:\\\\)*)\\u(d[89ab][0-9a-f]{2})\\u(d[c-f][0-9a-f]{2})", re.IGNORECASE)


def _joined_surrogate_pairs(text: str) -> str:
    """JSON text (a mapping in braces) with each surrogate-pair escape as the character it stands for."""
    if not text.lstrip().startswith("{"):
        return text
    return _SURROGATE_PAIR.sub(lambda match: match[1] + chr(0x10000 + ((int(match[2], 16) - 0xD800) << 10)
                                                         + int(match[3], 16) - 0xDC00), text)


def read_yaml(path: str | Path, *, link_refused: str | None = None) -> YamlDocument:
    return parse_yaml(path, decode(path, read_limited(path, "a YAML file", link_refused=link_refused)))


# --- writing -----------------------------------------------------------------------------------------

# YAML 1.1 booleans, including the one-letter forms PyYAML itself does not resolve but other readers do.
_YAML11_BOOL = re.compile(r"^(?:y|Y|yes|Yes|YES|n|N|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF)$")
# Line breaks YAML knows besides "\n"; in a plain or literal scalar they would come back as "\n" or vanish.
_OTHER_BREAKS = re.compile("[\r\x85\u2028\u2029]")
_ASTRAL = re.compile("[\U00010000-\U0010FFFF]")


class _ReadableDumper(yaml.SafeDumper):
    pass


class _FastDumper(yaml.CSafeDumper):
    """libyaml's emitter: seven times faster, but it writes characters beyond U+FFFF (emoji) as escapes."""


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.Node:
    if _YAML11_BOOL.match(value):
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="'")
    if _OTHER_BREAKS.search(value):
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style='"')
    # PyYAML falls back to a quoted style by itself when a literal block cannot hold the text exactly.
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_ReadableDumper.add_representer(str, _represent_str)
_FastDumper.add_representer(str, _represent_str)


def dump_yaml(data: Any, *, for_people: bool = True) -> str:
    """YAML that reads back as exactly `data`, any text included. The session file, written after every
    answer, takes the fast emitter (`for_people=False`) unless its text holds characters that emitter would
    write as ten-byte escapes: a person may open the file, and a note of emoji must stay within the limits."""
    fast = not for_people and not _beyond_basic_plane(data)
    return yaml.dump(data, Dumper=_FastDumper if fast else _ReadableDumper, sort_keys=False,
                     allow_unicode=True, default_flow_style=False, width=100)


def _beyond_basic_plane(data: Any) -> bool:
    if isinstance(data, str):
        return _ASTRAL.search(data) is not None
    if isinstance(data, dict):
        return any(_beyond_basic_plane(key) or _beyond_basic_plane(value) for key, value in data.items())
    if isinstance(data, list):
        return any(_beyond_basic_plane(item) for item in data)
    return False
