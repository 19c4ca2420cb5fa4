"""The structural check, compiled from the published JSON Schema.

``edi_pipeline/schemas/encounter.schema.json`` is the contract. Running the reference
``jsonschema`` validator on every record costs several hundred microseconds, far too slow for
the throughput intake aims at (20,000 records/s), and its messages do not name rules. So the
schema is compiled once into Python source (one function per object ``$def``, every check
inline, field paths built only when a problem is reported; ``generated_source()`` shows it)
that checks a record in one pass, names the rule each failure breaks, describes the *kind* of
value found (never the value), and returns the record's canonical projection (known fields
only, in schema order) used for the record hash.

Only the keywords the schema uses are supported; any other keyword makes compilation fail, so a
schema edit can never be silently ignored. Two extension keywords steer the compiler:
``x-rule`` names the rule that a node's failures report (``icd10_shape``, ``dose_one_of``…), and
``x-enforced-by`` marks a constraint (``if``/``then``) that intake checks with the named Python
rule instead (its message can say more than a schema can). Tests check that this compiled check
and ``jsonschema`` agree on generated records.

Regexes are ECMA-262 in JSON Schema, where ``$`` is the end of the input; Python's ``$`` also
matches before a final newline, so a trailing ``$`` is compiled as ``\\Z`` (stricter than the
Python ``jsonschema`` package, exactly what the standard says).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from decimal import Decimal
from functools import cache
from importlib.resources import files
from typing import Any

# One problem found by a check: (field path, rule, message, severity).
Issue = tuple[str, str, str, str]
Check = Callable[[Any, str, list[Issue]], Any]

ANNOTATIONS = frozenset(
    {"$schema", "$id", "$comment", "title", "description", "default", "examples", "$defs"}
)
SUPPORTED = frozenset(
    {
        "type",
        "properties",
        "required",
        "additionalProperties",
        "items",
        "minItems",
        "maxItems",
        "minLength",
        "maxLength",
        "pattern",
        "enum",
        "const",
        "minimum",
        "exclusiveMinimum",
        "maximum",
        "$ref",
        "allOf",
        "oneOf",
        "if",
        "then",
        "x-rule",
        "x-enforced-by",
    }
)


class SchemaCompileError(Exception):
    """The schema uses something this compiler does not implement (a bug to fix here)."""


def schema_text() -> str:
    """The published encounter schema, exactly as shipped in the package."""
    return (files("edi_pipeline") / "schemas" / "encounter.schema.json").read_text("utf-8")


@cache
def schema() -> dict[str, Any]:
    return json.loads(schema_text())


def kind_of(value: Any) -> str:
    """What a value is, in words, without the value itself."""
    if value is None:
        return "null"
    if value is True or value is False:
        return "true/false"
    if isinstance(value, int | float | Decimal):
        return "a number"
    if isinstance(value, str):
        if value == "":
            return "empty text"
        if value.strip() == "":
            return "blank text"
        return f"text of {len(value)} character{'s' if len(value) != 1 else ''}"
    if isinstance(value, list):
        return f"a list of {len(value)} item{'s' if len(value) != 1 else ''}"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def shown(path: str, value: Any) -> str:
    """``got …`` for a message: the kind of value, never the value.

    Even code fields are not quoted: an export with shifted columns puts a member id where the
    payer goes, or a birth date where the date of service goes.
    """
    return f"got {kind_of(value)}"


def label(path: str) -> str:
    return path or "record"


def child(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


_TYPE_WORDS = {
    "object": "an object",
    "array": "a list",
    "string": "text",
    "number": "a number",
    "integer": "a whole number",
    "boolean": "true or false",
    "null": "null",
}
_TYPE_TESTS = {
    "object": "type({v}) is dict",
    "array": "type({v}) is list",
    "string": "type({v}) is str",
    "integer": "type({v}) is int",
    "number": "type({v}) in _NUMBER",
    "boolean": "type({v}) is bool",
    "null": "{v} is None",
}
_NUMBER = frozenset({int, Decimal, float})


def _ecma(pattern: str) -> str:
    """A JSON Schema (ECMA-262) pattern for Python's ``re.search``: ``$`` is end of input."""
    if pattern.endswith("$") and not pattern.endswith("\\$"):
        pattern = pattern[:-1] + r"\Z"
    return pattern


def _json_equal(a: Any, b: Any) -> bool:
    """JSON equality: true/false are not the numbers 1/0."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    return a == b


def _unknown(value: dict[str, Any], known: frozenset[str], path: str, out: list[Issue]) -> None:
    for key in value:
        if key not in known:
            sub = child(path, key)
            out.append(
                (
                    sub,
                    "unknown_field",
                    f"{sub}: is not a field of the encounter format; kept and ignored",
                    "warning",
                )
            )


def _has_errors(issues: list[Issue]) -> bool:
    # A list comprehension: called for every drug, cheaper than any(<generator>).
    return "error" in [issue[3] for issue in issues]


class _Writer:
    """Python source being generated, with fresh names and the constants it refers to."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.consts: dict[str, Any] = {}
        self._n = 0

    def name(self, stem: str) -> str:
        self._n += 1
        return f"{stem}{self._n}"

    def const(self, value: Any, stem: str = "K") -> str:
        key = self.name(f"_{stem}")
        self.consts[key] = value
        return key

    def emit(self, indent: int, text: str) -> None:
        self.lines.append("    " * indent + text)


class CodeGen:
    """Generates one Python function per object/array ``$def`` plus the root check.

    The generated code reads each known property with one ``dict.get``, checks it inline,
    builds the canonical projection in schema order, and computes field paths only when it
    reports a problem. ``source`` keeps the text for inspection (``generated_source()``).
    """

    def __init__(self, root: dict[str, Any]) -> None:
        self.root = root
        self.defs = root.get("$defs", {})
        self.enforced_by: set[str] = set()
        self.w = _Writer()
        self._functions: dict[tuple[str, bool], str] = {}
        self._pending: list[tuple[str, dict[str, Any], bool]] = []

    # ------------------------------------------------------------------ entry points

    def build(self) -> tuple[Check, str]:
        self._function("_check_root", self.root, warn=True)
        while self._pending:
            fname, node, warn = self._pending.pop()
            self._function(fname, node, warn)
        source = "\n".join(self.w.lines) + "\n"
        namespace: dict[str, Any] = {
            "_MISSING": _MISSING,
            "_NUMBER": _NUMBER,
            "Decimal": Decimal,
            "_child": child,
            "_index": _index,
            "_label": label,
            "_shown": shown,
            "_kind_of": kind_of,
            "_unknown": _unknown,
            "_has_errors": _has_errors,
            "_json_equal": _json_equal,
            **self.w.consts,
        }
        exec(compile(source, "<encounter-schema>", "exec"), namespace)
        return namespace["_check_root"], source

    def _function(self, fname: str, node: dict[str, Any], warn: bool) -> None:
        self.w.emit(0, f"def {fname}(x, p, out):")
        result = self._node(node, "x", "p", 1, warn, None)
        self.w.emit(1, f"return {result}")
        self.w.emit(0, "")

    def _ref(self, ref: str, warn: bool) -> tuple[str, dict[str, Any]]:
        if not ref.startswith("#/$defs/"):
            raise SchemaCompileError(f"only local #/$defs references are supported ({ref})")
        target = self.defs.get(ref[len("#/$defs/") :])
        if target is None:
            raise SchemaCompileError(f"unresolved reference {ref}")
        return ref[len("#/$defs/") :], target

    # ------------------------------------------------------------------ one node

    def _node(self, node: Any, v: str, pe: str, ind: int, warn: bool, rule: str | None) -> str:
        """Emit checks of value ``v`` (path expression ``pe``); return its projection."""
        w = self.w
        if node is True or node == {}:
            return v
        if not isinstance(node, dict):
            raise SchemaCompileError(f"schema node must be an object (got {node!r})")
        unknown = set(node) - SUPPORTED - ANNOTATIONS
        if unknown:
            raise SchemaCompileError(f"unsupported schema keywords: {sorted(unknown)}")
        if "$ref" in node:
            if set(node) - ANNOTATIONS != {"$ref"}:
                raise SchemaCompileError("$ref must stand alone (besides annotations)")
            name, target = self._ref(node["$ref"], warn)
            if target.get("type") in ("object", "array"):
                fname = self._functions.get((name, warn))
                if fname is None:
                    fname = self._functions[(name, warn)] = f"_def_{name}_{int(warn)}"
                    self._pending.append((fname, target, warn))
                out = w.name("r")
                w.emit(ind, f"{out} = {fname}({v}, {pe}, out)")
                return out
            return self._node(target, v, pe, ind, warn, rule)

        rule = node.get("x-rule", rule)
        if node.get("additionalProperties", True) is not True:
            raise SchemaCompileError("additionalProperties must stay true: unknown fields warn")
        if "x-enforced-by" in node and not ("if" in node or "then" in node):
            raise SchemaCompileError("x-enforced-by only marks an if/then pair")

        kind = node.get("type")
        shaped = "properties" in node or "required" in node
        result = v
        if shaped or "items" in node or kind == "number":
            result = w.name("r")
        if kind is not None:
            if not isinstance(kind, str) or kind not in _TYPE_TESTS:
                raise SchemaCompileError(f"type must be one type name (got {kind!r})")
            self._problem_if(
                ind,
                f"not ({_TYPE_TESTS[kind].format(v=v)})",
                pe,
                "structure_type",
                f"must be {_TYPE_WORDS[kind]} ({{_shown(_P, {v})}})",
            )
            if result != v:
                w.emit(ind + 1, f"{result} = {v}")
            w.emit(ind, "else:")
            ind += 1
            w.emit(ind, "pass")
        typed = kind
        if "enum" in node or "const" in node:
            self._enum(node, v, pe, ind, rule)
        if {"minLength", "maxLength", "pattern"} & node.keys():
            self._string(node, v, pe, ind, rule, typed == "string")
        if {"minimum", "exclusiveMinimum", "maximum"} & node.keys():
            self._number(node, v, pe, ind, rule, typed in ("number", "integer"))
        if {"minItems", "maxItems"} & node.keys():
            self._count(node, v, pe, ind, rule)
        if "oneOf" in node:
            self._one_of(node["oneOf"], v, pe, ind, rule)
        if "if" in node or "then" in node:
            if "x-enforced-by" in node:
                self.enforced_by.add(node["x-enforced-by"])
            else:
                self._if_then(node, v, pe, ind, rule)
        for sub in node.get("allOf", ()):
            self._node(sub, v, pe, ind, False, rule)
        if shaped:
            self._object(node, v, pe, ind, warn, rule, result, typed == "object")
        elif "items" in node:
            self._array(node["items"], v, pe, ind, warn, result, typed == "array")
        elif kind == "number":
            w.emit(ind, f"{result} = Decimal({v}) if type({v}) is int else {v}")
        return result

    def _problem_if(self, ind: int, cond: str, pe: str, code: str, text: str) -> None:
        self.w.emit(ind, f"if {cond}:")
        self._problem(ind + 1, pe, code, text)

    def _problem(self, ind: int, pe: str, code: str, text: str) -> None:
        self.w.emit(ind, f"_P = {pe}")
        self.w.emit(ind, f"out.append((_P, {code!r}, f\"{{_label(_P)}}: {text}\", 'error'))")

    # ------------------------------------------------------------------ keywords

    def _enum(self, node: dict[str, Any], v: str, pe: str, ind: int, rule: str | None) -> None:
        allowed = list(node["enum"]) if "enum" in node else [node["const"]]
        words = ", ".join(str(a) for a in allowed).replace("{", "{{").replace("}", "}}")
        if all(type(a) is str for a in allowed):
            members = self.w.const(frozenset(allowed), "E")
            cond = f"not (type({v}) is str and {v} in {members})"
        else:
            values = self.w.const(tuple(allowed), "E")
            cond = f"not any(_json_equal({v}, a) for a in {values})"
        self._problem_if(
            ind, cond, pe, rule or "structure_enum", f"must be one of {words} ({{_shown(_P, {v})}})"
        )

    def _string(
        self, node: dict[str, Any], v: str, pe: str, ind: int, rule: str | None, typed: bool
    ) -> None:
        low, high = node.get("minLength", 0), node.get("maxLength")
        title = node.get("title")
        w = self.w
        w.emit(ind, "if True:" if typed else f"if type({v}) is str:")
        cond = f"len({v}) < {low}" + (f" or len({v}) > {high}" if high is not None else "")
        need = (
            f"at least {low} character{'s' if low != 1 else ''}"
            if high is None
            else f"{low} to {high} characters"
        )
        keyword = "if"
        if low > 0 or high is not None:
            self._problem_if(
                ind + 1,
                cond,
                pe,
                rule or "structure_length",
                f"must be {need} ({{_shown(_P, {v})}})",
            )
            keyword = "elif"
        if "pattern" in node:
            regex = w.const(re.compile(_ecma(node["pattern"])).search, "R")
            expect = (
                (title or f"text matching {node['pattern']}").replace("{", "{{").replace("}", "}}")
            )
            w.emit(ind + 1, f"{keyword} {regex}({v}) is None:")
            self._problem(
                ind + 2, pe, rule or "structure_pattern", f"must be {expect} ({{_shown(_P, {v})}})"
            )
        elif keyword == "if":
            w.emit(ind + 1, "pass")

    def _number(
        self, node: dict[str, Any], v: str, pe: str, ind: int, rule: str | None, typed: bool
    ) -> None:
        code = rule or "structure_range"
        self.w.emit(ind, "if True:" if typed else f"if type({v}) in _NUMBER:")
        keyword = "if"
        for key, op, words in (
            ("exclusiveMinimum", "<=", "greater than"),
            ("minimum", "<", "at least"),
            ("maximum", ">", "at most"),
        ):
            if key in node:
                limit = self.w.const(node[key], "L")
                self.w.emit(ind + 1, f"{keyword} {v} {op} {limit}:")
                self._problem(
                    ind + 2, pe, code, f"must be {words} {node[key]} ({{_shown(_P, {v})}})"
                )
                keyword = "elif"

    def _count(self, node: dict[str, Any], v: str, pe: str, ind: int, rule: str | None) -> None:
        low, high = node.get("minItems", 0), node.get("maxItems")
        need = f"at least {low}" if high is None else f"{low} to {high}"
        cond = f"type({v}) is list and (len({v}) < {low}" + (
            f" or len({v}) > {high})" if high is not None else ")"
        )
        self._problem_if(
            ind,
            cond,
            pe,
            rule or "structure_items",
            f"must hold {need} items (got {{_kind_of({v})}})",
        )

    def _one_of(self, branches: Any, v: str, pe: str, ind: int, rule: str | None) -> None:
        names: list[str] = []
        for b in branches:
            if not (isinstance(b, dict) and set(b) == {"required"} and len(b["required"]) == 1):
                raise SchemaCompileError("oneOf is supported only as one-field required branches")
            names.append(b["required"][0])
        present = " + ".join(f"({n!r} in {v})" for n in names)
        count = self.w.name("c")
        self.w.emit(ind, f"if type({v}) is dict:")
        self.w.emit(ind + 1, f"{count} = {present}")
        many = "both" if len(names) == 2 else "several"
        self._problem_if(
            ind + 1,
            f"{count} != 1",
            pe,
            rule or "structure_one_of",
            f"exactly one of {', '.join(names)} must be given "
            f"(got {{'neither' if {count} == 0 else {many!r}}})",
        )

    def _if_then(self, node: dict[str, Any], v: str, pe: str, ind: int, rule: str | None) -> None:
        then = node.get("then", True)
        if not (isinstance(then, dict) and set(then) - ANNOTATIONS <= {"required"}):
            raise SchemaCompileError("then is supported only as a required list")
        pred = self.w.name("_if")
        self._pending.append((pred, node.get("if", {}), False))
        why = node.get("description")
        reason = f" ({why})" if why else _condition_words(node.get("if"))
        scratch = self.w.name("s")
        self.w.emit(ind, f"if type({v}) is dict:")
        self.w.emit(ind + 1, f"{scratch} = []")
        self.w.emit(ind + 1, f"{pred}({v}, {pe}, {scratch})")
        self.w.emit(ind + 1, f"if not _has_errors({scratch}):")
        for key in then.get("required", ()):
            self.w.emit(ind + 2, f"if {key!r} not in {v}:")
            self.w.emit(ind + 3, f"_P = _child({pe}, {key!r})")
            text = f"is required{reason}".replace("{", "{{").replace("}", "}}")
            self.w.emit(
                ind + 3,
                f"out.append((_P, {rule or 'structure_required'!r}, f\"{{_P}}: {text}\", 'error'))",
            )

    def _object(
        self,
        node: dict[str, Any],
        v: str,
        pe: str,
        ind: int,
        warn: bool,
        rule: str | None,
        proj: str,
        typed: bool,
    ) -> None:
        w = self.w
        required = set(node.get("required", ()))
        props = node.get("properties", {})
        seen = w.name("k")
        w.emit(ind, f"{proj} = {{}}")
        if not typed:
            w.emit(ind, f"if type({v}) is not dict:")
            w.emit(ind + 1, f"{proj} = {v}")
            w.emit(ind, "else:")
            ind += 1
        w.emit(ind, f"{seen} = 0")
        for key in [*props, *sorted(required - set(props))]:
            sub = w.name("v")
            w.emit(ind, f"{sub} = {v}.get({key!r}, _MISSING)")
            w.emit(ind, f"if {sub} is not _MISSING:")
            w.emit(ind + 1, f"{seen} += 1")
            if key in props:
                result = self._node(props[key], sub, f"_child({pe}, {key!r})", ind + 1, warn, None)
                w.emit(ind + 1, f"{proj}[{key!r}] = {result}")
            if key in required:
                w.emit(ind, "else:")
                w.emit(ind + 1, f"_P = _child({pe}, {key!r})")
                code = rule or "structure_required"
                w.emit(ind + 1, f"out.append((_P, {code!r}, f\"{{_P}}: is required\", 'error'))")
        if warn and "properties" in node:
            known = w.const(frozenset(props), "F")
            w.emit(ind, f"if {seen} != len({v}):")
            w.emit(ind + 1, f"_unknown({v}, {known}, {pe}, out)")

    def _array(
        self, items: Any, v: str, pe: str, ind: int, warn: bool, proj: str, typed: bool
    ) -> None:
        w = self.w
        i, item = w.name("i"), w.name("y")
        if typed:
            w.emit(ind, f"{proj} = []")
        else:
            w.emit(ind, f"{proj} = [] if type({v}) is list else {v}")
            w.emit(ind, f"if type({v}) is list:")
            ind += 1
        w.emit(ind, f"for {i}, {item} in enumerate({v}):")
        result = self._node(items, item, f"_index({pe}, {i})", ind + 1, warn, None)
        w.emit(ind + 1, f"{proj}.append({result})")


def _index(path: str, i: int) -> str:
    return f"{path}[{i}]"


def _condition_words(cond: Any) -> str:
    """``when route is IV or IV_PUSH`` from a simple ``if`` on one enum property."""
    try:
        [(name, sub)] = cond["properties"].items()
        return f" when {name} is {' or '.join(sub['enum'])}"
    except (KeyError, TypeError, ValueError, AttributeError):
        return ""


_MISSING: Any = object()


@cache
def _compiled() -> tuple[Check, frozenset[str], str]:
    gen = CodeGen(schema())
    check, source = gen.build()
    return check, frozenset(gen.enforced_by), source


def compiled() -> tuple[Check, frozenset[str]]:
    """The compiled encounter check and the Python rules it delegates to."""
    check, enforced, _ = _compiled()
    return check, enforced


def generated_source() -> str:
    """The Python source the schema was compiled to (for reading and debugging)."""
    return _compiled()[2]


def check_structure(record: Any) -> tuple[Any, list[Issue]]:
    """(canonical projection, issues) of one parsed record."""
    out: list[Issue] = []
    clean = _compiled()[0](record, "", out)
    return clean, out
