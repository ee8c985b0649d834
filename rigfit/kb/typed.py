"""Typed data without pydantic: records (rigfit/records.py) checked against their type hints when they come from a
file.

`load_as(cls, data, where)` builds a record from JSON/YAML data, walking its fields by their type hints (str, int,
float, bool, None, Literal, unions, list[T], tuple[T, ...], dict[K, T], nested records). Unknown keys are refused
(`extra="forbid"`, the KB) or skipped (`extra="ignore"`, rigfit's own JSON files, which may gain keys), defaults are
applied, an int is accepted where a float is expected (and made a float). The first problem raises one
`ValidationError` naming the input (`where`), the field path, what was found and what was expected. Checks beyond the
types live in each class's `__post_init__`; one about a single field raises `FieldError(field, message)` so the error
names that field.

`dump(obj)` is the JSON form: records as dicts in field order (a field's `metadata={"key": ...}` renames its key),
lists and tuples as lists. Importing pydantic and building its models took a third of doctor's run; this module and
rigfit's typed classes (`@record`, rigfit/records.py) cost a few milliseconds.
"""

from __future__ import annotations

import sys
import types
import typing
from collections.abc import Callable
from typing import Any, Literal, TypeVar

from rigfit.records import MISSING, is_record, record
from rigfit.records import fields as fields_of

T = TypeVar("T")
Extra = Literal["forbid", "ignore"]
Loc = tuple[str | int, ...]
Converter = Callable[[object, Loc], object]


class ValidationError(ValueError):
    """Data that does not fit its type: where it came from, the field path, the problem."""

    def __init__(self, loc: Loc, msg: str, where: str = "") -> None:
        self.loc, self.msg, self.where = loc, msg, where
        path = ".".join(map(str, loc)) or "entry"
        super().__init__(f"{where}: {path}: {msg}" if where else f"{path}: {msg}")

    def errors(self) -> list[dict[str, object]]:
        """The problem as pydantic listed them: [{"loc": (...), "msg": "..."}]."""
        return [{"loc": self.loc, "msg": self.msg}]


class FieldError(ValueError):
    """Raised by a `__post_init__` check about one field: the error then names that field."""

    def __init__(self, field: str, msg: str) -> None:
        self.field, self.msg = field, msg
        super().__init__(f"{field}: {msg}")


def _found(value: object) -> str:
    text = repr(value)
    return f"{text[:60]}... ({type(value).__name__})" if len(text) > 60 else f"{text} ({type(value).__name__})"


def _fail(loc: Loc, expected: str, value: object) -> ValidationError:
    return ValidationError(loc, f"expected {expected}, found {_found(value)}")


def _scalar(kind: type) -> Converter:
    name = _describe(kind)

    def convert(value: object, loc: Loc) -> object:
        if type(value) is kind or (kind is str and isinstance(value, str)):
            return value
        raise _fail(loc, name, value)

    return convert


def _float(value: object, loc: Loc) -> object:
    if type(value) is float:
        return value
    if type(value) is int:
        return float(value)
    raise _fail(loc, "a number", value)


def _none(value: object, loc: Loc) -> object:
    if value is None:
        return None
    raise _fail(loc, "null", value)


def _anything(value: object, loc: Loc) -> object:
    return value


def _literal(args: tuple[object, ...]) -> Converter:
    expected = "one of " + ", ".join(repr(a) for a in args)

    def convert(value: object, loc: Loc) -> object:
        if any(value == a and type(value) is type(a) for a in args):
            return value
        raise _fail(loc, expected, value)

    return convert


def _accepts(tp: Any) -> tuple[type, ...]:
    """The Python types of the values a union member takes (JSON/YAML data has no others)."""
    origin = typing.get_origin(tp)
    if tp is float:
        return (float, int)
    if isinstance(tp, type) and not is_record(tp):
        return (type(None),) if tp is type(None) else (tp,)
    if tp is None:
        return (type(None),)
    if origin is Literal:
        return tuple({type(a) for a in typing.get_args(tp)})
    if origin in (list, tuple):
        return (list, tuple)
    if origin is dict or is_record(tp):
        return (dict,)
    raise TypeError(f"rigfit.kb.typed cannot check a union member of type {tp!r}")


def _union(args: tuple[Any, ...], extra: Extra) -> Converter:
    """A union is decided by the value's type: the first member taking that type checks it (bool before int, int
    before float, as pydantic's smart mode picks), so no member is tried and failed."""
    expected = " or ".join(_describe(a) for a in args)
    by_type: dict[type, Converter] = {}
    for member in args:
        convert_member = _converter(member, extra)
        for kind in _accepts(member):
            by_type.setdefault(kind, convert_member)

    def convert(value: object, loc: Loc) -> object:
        member = by_type.get(type(value))
        if member is None:
            raise _fail(loc, expected, value)
        return member(value, loc)

    return convert


def _sequence(item: Converter, make: type) -> Converter:
    def convert(value: object, loc: Loc) -> object:
        if not isinstance(value, (list, tuple)):
            raise _fail(loc, "a list", value)
        return make([item(v, (*loc, i)) for i, v in enumerate(value)])

    return convert


def _mapping(key: Converter, item: Converter) -> Converter:
    def convert(value: object, loc: Loc) -> object:
        if not isinstance(value, dict):
            raise _fail(loc, "a mapping", value)
        return {key(k, (*loc, str(k))): item(v, (*loc, str(k))) for k, v in value.items()}

    return convert


def _nested(cls: type, extra: Extra) -> Converter:
    def convert(value: object, loc: Loc) -> object:
        return _build(cls, value, loc, extra)

    return convert


def _describe(tp: Any) -> str:
    if isinstance(tp, type):
        names = {str: "a string", int: "an integer", float: "a number", bool: "true or false", type(None): "null"}
        return names.get(tp, tp.__name__)
    return str(tp).replace("typing.", "")


def _converter(tp: Any, extra: Extra) -> Converter:
    """The function that checks (and converts) a value of type `tp`."""
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if tp in (str, int, bool):
        return _scalar(tp)
    if tp is float:
        return _float
    if tp is type(None) or tp is None:
        return _none
    if tp is object or tp is Any:
        return _anything
    if is_record(tp):
        return _nested(tp, extra)
    if origin is Literal:
        return _literal(args)
    if origin is typing.Union or origin is types.UnionType:
        return _union(args, extra)
    if origin is list:
        return _sequence(_converter(args[0], extra), list)
    if origin is tuple and len(args) == 2 and args[1] is Ellipsis:
        return _sequence(_converter(args[0], extra), tuple)
    if origin is dict:
        return _mapping(_converter(args[0], extra), _converter(args[1], extra))
    raise TypeError(f"rigfit.kb.typed cannot check values of type {tp!r}")


@record(frozen=True)
class _FieldPlan:
    """How `load_as` checks one field of a class."""

    name: str
    key: str
    convert: Converter
    required: bool


_EVALUATED: dict[tuple[str, str], Any] = {}


def _hints(cls: type) -> dict[str, Any]:
    """The class's field types, its string annotations evaluated in the module of the class that declares each one:
    typing.get_type_hints without its forward-reference machinery, and each "str | None" evaluated once."""
    hints: dict[str, Any] = {}
    for klass in reversed(cls.__mro__):
        namespace = vars(sys.modules[klass.__module__])
        for name, annotation in vars(klass).get("__annotations__", {}).items():
            if not isinstance(annotation, str):
                hints[name] = annotation
                continue
            key = (annotation, klass.__module__)
            if key not in _EVALUATED:
                _EVALUATED[key] = eval(annotation, namespace)
            hints[name] = _EVALUATED[key]
    return hints


_PLANS: dict[tuple[type, Extra], tuple[dict[str, _FieldPlan], str]] = {}


def _plan(cls: type, extra: Extra) -> tuple[dict[str, _FieldPlan], str]:
    """Per class (resolved once): key -> how to check its field, and the keys in words for error messages."""
    found = _PLANS.get((cls, extra))
    if found is None:
        hints = _hints(cls)
        fields = {}
        for f in fields_of(cls):
            key = f.metadata.get("key", f.name)
            required = f.default is MISSING and f.default_factory is MISSING
            fields[key] = _FieldPlan(f.name, key, _converter(hints[f.name], extra), required)
        found = _PLANS[(cls, extra)] = (fields, ", ".join(fields))
    return found


def _build(cls: type[T], data: object, loc: Loc, extra: Extra) -> T:
    if not isinstance(data, dict):
        raise _fail(loc, f"a mapping ({cls.__name__})", data)
    fields, known = _plan(cls, extra)
    values = {}
    for key, value in data.items():
        plan = fields.get(key)
        if plan is None:
            if extra == "forbid":
                raise ValidationError((*loc, str(key)), f"extra key {key!r} is not allowed; known keys: {known}")
            continue
        values[plan.name] = plan.convert(value, (*loc, key))
    for plan in fields.values():
        if plan.required and plan.name not in values:
            raise ValidationError((*loc, plan.key), f"missing: {cls.__name__} needs `{plan.key}`")
    try:
        return cls(**values)
    except FieldError as exc:
        raise ValidationError((*loc, exc.field), exc.msg) from exc
    except ValueError as exc:
        if isinstance(exc, ValidationError):
            raise
        raise ValidationError(loc, str(exc)) from exc


def load_as(cls: type[T], data: object, where: str = "", *, extra: Extra = "forbid") -> T:
    """`data` (parsed JSON/YAML) as a `cls`, checked against its type hints; ValidationError names `where`."""
    try:
        return _build(cls, data, (), extra)
    except ValidationError as exc:
        if not where:
            raise
        raise ValidationError(exc.loc, exc.msg, where) from exc


_DUMP_KEYS: dict[type, tuple[tuple[str, str], ...]] = {}


def _dump_keys(cls: type) -> tuple[tuple[str, str], ...]:
    keys = _DUMP_KEYS.get(cls)
    if keys is None:
        keys = _DUMP_KEYS[cls] = tuple((f.name, f.metadata.get("key", f.name)) for f in fields_of(cls))
    return keys


def dump(obj: Any) -> Any:
    """The JSON form of a record (or list/dict of them): the keys and order pydantic's model_dump gave."""
    if hasattr(type(obj), "__record_fields__"):
        return {key: dump(getattr(obj, name)) for name, key in _dump_keys(type(obj))}
    if isinstance(obj, (list, tuple)):
        return [dump(v) for v in obj]
    if isinstance(obj, dict):
        return {k: dump(v) for k, v in obj.items()}
    return obj


__all__ = ["FieldError", "ValidationError", "dump", "load_as"]
