"""`@record`: a drop-in for `@dataclass` that costs almost nothing at import.

`dataclasses.dataclass` writes `__init__`, `__repr__` and `__eq__` as source text and compiles each with `exec`: about
1.5-3 ms per class on the machines rigfit targets, and rigfit's doctor imports over a hundred typed classes (a third of
its start-up); importing dataclasses itself pulls in inspect (another tenth). A record gets the same methods as plain
functions that read the class's field list, so making a class costs microseconds; building an instance costs a few
microseconds more than a dataclass's.

Type checkers read a record as a dataclass (PEP 681). Supported: `@record`, `@record(frozen=True)`,
`@record(kw_only=True)` (fields only by keyword, so a field without default may follow one with a default),
`field(default=..., default_factory=..., metadata=..., repr=...)`, inheritance from other records, `__post_init__`.
This module's `fields`, `replace` and `is_record` stand for dataclasses' `fields`, `replace` and `is_dataclass` (a
record is not a dataclass to the standard library).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast, overload

if TYPE_CHECKING:
    from typing_extensions import dataclass_transform
else:  # only type checkers read it: at run time it would merely tag the function

    def dataclass_transform(**_: Any) -> Callable[[Any], Any]:
        return lambda function: function


_T = TypeVar("_T")


class _Missing:
    def __repr__(self) -> str:
        return "MISSING"


MISSING: Any = _Missing()


class FrozenInstanceError(AttributeError):
    """An assignment to a field of a frozen record."""


class Field:
    """One field of a record: its name, annotation (as written), default or default factory, metadata."""

    __slots__ = ("default", "default_factory", "metadata", "name", "repr", "type")

    def __init__(self, default: Any, default_factory: Any, metadata: Mapping[str, Any] | None, repr: bool) -> None:
        self.name, self.type = "", ""
        self.default, self.default_factory = default, default_factory
        self.metadata: Mapping[str, Any] = metadata or {}
        self.repr = repr


def field(
    *,
    default: Any = MISSING,
    default_factory: Callable[[], Any] | Any = MISSING,
    metadata: Mapping[str, Any] | None = None,
    repr: bool = True,
) -> Any:
    """A field's default or default factory (and metadata), as `dataclasses.field` declares them."""
    return Field(default, default_factory, metadata, repr)


def fields(record_or_class: object) -> tuple[Field, ...]:
    """The fields of a record (or record class), in declaration order, base classes' first."""
    found: dict[str, Field] | None = getattr(record_or_class, "__record_fields__", None)
    if found is None:
        raise TypeError(f"{record_or_class!r} is not a record")
    return tuple(found.values())


def is_record(value: object) -> bool:
    return hasattr(value, "__record_fields__")


def replace(value: _T, /, **changes: Any) -> _T:
    """A copy of the record `value` with `changes` (checked again by its `__post_init__`, as dataclasses does)."""
    current = {spec.name: getattr(value, spec.name) for spec in fields(value)}
    return cast("_T", type(value)(**(current | changes)))


def _is_class_var(annotation: object) -> bool:
    text = annotation if isinstance(annotation, str) else repr(annotation)
    return text.startswith(("ClassVar", "typing.ClassVar"))


def _own_fields(cls: type) -> list[Field]:
    """The fields a class declares itself."""
    found = []
    for name, annotation in cls.__dict__.get("__annotations__", {}).items():  # noqa: RUF063 - inspect costs 8%
        if _is_class_var(annotation):
            continue
        value = cls.__dict__.get(name, MISSING)
        spec = value if isinstance(value, Field) else Field(value, MISSING, None, True)
        spec.name, spec.type = name, annotation
        if spec.default is MISSING and name in cls.__dict__:
            delattr(cls, name)  # a default_factory: the class attribute would shadow nothing useful
        elif spec.default is not MISSING:
            setattr(cls, name, spec.default)
        found.append(spec)
    return found


def _all_fields(cls: type, kw_only: bool) -> dict[str, Field]:
    fields: dict[str, Field] = {}
    for base in reversed(cls.__mro__[1:]):
        fields.update(getattr(base, "__record_fields__", {}))
    for spec in _own_fields(cls):
        fields[spec.name] = spec
    seen_default = None
    for spec in fields.values():
        has_default = spec.default is not MISSING or spec.default_factory is not MISSING
        if seen_default and not has_default and not kw_only:
            raise TypeError(f"non-default argument '{spec.name}' follows default argument '{seen_default}'")
        seen_default = spec.name if has_default else seen_default
    return fields


def _make_init(cls: type, fields: dict[str, Field], frozen: bool, kw_only: bool) -> Callable[..., None]:
    """`__init__` from the field list. Instances keep their fields in their `__dict__`, filled with dict updates (no
    setattr per field): building one costs about what a dataclass's generated `__init__` does."""
    names = () if kw_only else tuple(fields)
    known = frozenset(fields)
    defaults = {s.name: s.default for s in fields.values() if s.default is not MISSING}
    factories: tuple[tuple[str, Any], ...] = tuple(
        (s.name, s.default_factory) for s in fields.values() if s.default_factory is not MISSING
    )
    required = tuple(n for n, s in fields.items() if s.default is MISSING and s.default_factory is MISSING)
    if not cls.__dictoffset__:  # instances without a __dict__ (__slots__)
        raise TypeError(f"{cls.__qualname__}: a record keeps its fields in the instance __dict__ (no __slots__)")
    qualname = cls.__qualname__

    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        if not kwargs and len(args) == len(names) and names:  # every field given in order: nothing to check or fill
            self.__dict__.update(zip(names, args, strict=False))
            if (post_init := getattr(self, "__post_init__", None)) is not None:
                post_init()
            return
        if args:
            if len(args) > len(names):
                raise TypeError(f"{qualname}() takes {len(names)} positional arguments but {len(args)} were given")
            for name, value in zip(names, args, strict=False):
                if name in kwargs:
                    raise TypeError(f"{qualname}() got multiple values for argument '{name}'")
                kwargs[name] = value
        if not known.issuperset(kwargs):
            name = next(n for n in kwargs if n not in known)
            raise TypeError(f"{qualname}() got an unexpected keyword argument '{name}'")
        state = self.__dict__  # frozen or not: the fields are written here, past __setattr__
        state.update(defaults)
        state.update(kwargs)
        for name, factory in factories:
            if name not in kwargs:
                state[name] = factory()
        for name in required:
            if name not in kwargs:
                raise TypeError(f"{qualname}() missing required argument: '{name}'")
        post_init = getattr(self, "__post_init__", None)
        if post_init is not None:
            post_init()

    return __init__


def _values(self: Any) -> tuple[Any, ...]:
    return tuple(getattr(self, name) for name in self.__record_fields__)


def _repr(self: Any) -> str:
    shown = ", ".join(f"{name}={getattr(self, name)!r}" for name in self.__record_fields__)
    return f"{type(self).__qualname__}({shown})"


def _eq(self: Any, other: object) -> bool:
    if other.__class__ is not self.__class__:
        return NotImplemented
    return _values(self) == _values(other)


def _frozen_setattr(self: Any, name: str, value: object) -> None:
    raise FrozenInstanceError(f"cannot assign to field '{name}'")


def _frozen_delattr(self: Any, name: str) -> None:
    raise FrozenInstanceError(f"cannot delete field '{name}'")


def _hash(self: Any) -> int:
    return hash(_values(self))


def _build(cls: type[_T], frozen: bool, kw_only: bool) -> type[_T]:
    fields = _all_fields(cls, kw_only)
    methods: dict[str, Any] = {
        "__record_fields__": fields,
        "__match_args__": () if kw_only else tuple(fields),
        "__init__": _make_init(cls, fields, frozen, kw_only),
        "__repr__": _repr,
        "__eq__": _eq,
        "__hash__": _hash if frozen else None,
    }
    if frozen:
        methods |= {"__setattr__": _frozen_setattr, "__delattr__": _frozen_delattr}
    for name, method in methods.items():
        if name in ("__repr__", "__eq__") and name in cls.__dict__:
            continue  # the class wrote its own, as dataclasses allows
        setattr(cls, name, method)
    return cls


@overload
def record(cls: type[_T], /) -> type[_T]: ...
@overload
def record(*, frozen: bool = False, kw_only: bool = False) -> Callable[[type[_T]], type[_T]]: ...
@dataclass_transform(field_specifiers=(field,))
def record(
    cls: type[_T] | None = None, /, *, frozen: bool = False, kw_only: bool = False
) -> type[_T] | Callable[[type[_T]], type[_T]]:
    """Make `cls` a record, with `@dataclass`'s options of the same names."""
    if cls is None:
        return lambda plain: _build(plain, frozen, kw_only)
    return _build(cls, frozen, kw_only)
