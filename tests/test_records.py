"""`@record` behaves as `@dataclass` does for what rigfit uses: the same class built both ways must act the same
(records.fields/replace/is_record standing for dataclasses.fields/replace/is_dataclass)."""

from __future__ import annotations

import dataclasses
import pickle
from dataclasses import dataclass, field

import pytest

from rigfit import records
from rigfit.records import record


def declare(decorate, field=records.field):
    @decorate
    class Gpu:
        name: str
        vram_mib: int | None = None
        flags: list[str] = field(default_factory=list)

    return Gpu


def both(**options: bool):
    return declare(record(**options)), declare(dataclass(**options), field)


class RECORDS:
    fields, replace, is_record = records.fields, records.replace, records.is_record


class DATACLASSES:
    fields, replace, is_record = dataclasses.fields, dataclasses.replace, dataclasses.is_dataclass


@pytest.mark.parametrize("frozen", [False, True])
def test_a_record_builds_compares_and_copies_like_a_dataclass(frozen: bool) -> None:
    mine, theirs = both(frozen=frozen)
    for cls, api in ((mine, RECORDS), (theirs, DATACLASSES)):
        gpu = cls("RX 580", vram_mib=8192)
        assert (gpu.name, gpu.vram_mib, gpu.flags) == ("RX 580", 8192, [])
        assert gpu == cls("RX 580", 8192) and gpu != cls("RX 570", 8192)
        assert cls("a").flags is not cls("a").flags  # a fresh list each time
        assert [f.name for f in api.fields(cls)] == ["name", "vram_mib", "flags"]
        assert api.replace(gpu, name="RX 570").name == "RX 570" and api.is_record(gpu) and not api.is_record(1)
        assert cls.__match_args__ == ("name", "vram_mib", "flags")
    assert repr(mine("x", 1)).replace(mine.__qualname__, "G") == repr(theirs("x", 1)).replace(theirs.__qualname__, "G")


def test_a_frozen_record_refuses_assignment_and_hashes_by_value() -> None:
    Gpu = declare(record(frozen=True))
    gpu = Gpu("RX 580", 8192, flags=[])
    with pytest.raises(records.FrozenInstanceError):
        gpu.name = "other"
    with pytest.raises(AttributeError):  # as dataclasses.FrozenInstanceError is
        del gpu.name
    frozen_pair = declare(record(frozen=True))
    assert hash(frozen_pair("a", 1, ())) == hash(frozen_pair("a", 1, ()))
    with pytest.raises(TypeError):
        hash(declare(record)("a"))  # mutable with __eq__: unhashable, as a dataclass


@pytest.mark.parametrize(
    ("args", "kwargs", "message"),
    [
        ((), {}, "missing required argument: 'name'"),
        (("a", 1, [], 4), {}, "takes 3 positional arguments but 4 were given"),
        (("a",), {"colour": 1}, "unexpected keyword argument 'colour'"),
        (("a",), {"name": "b"}, "multiple values for argument 'name'"),
    ],
)
def test_wrong_arguments_are_refused_as_a_dataclass_refuses_them(args: tuple, kwargs: dict, message: str) -> None:
    mine, theirs = both()
    with pytest.raises(TypeError, match=message):
        mine(*args, **kwargs)
    with pytest.raises(TypeError):
        theirs(*args, **kwargs)


def test_inheritance_post_init_and_field_order() -> None:
    @record
    class Base:
        name: str
        seen: list[str] = records.field(default_factory=list)

    @record
    class Child(Base):
        size: int = 0

        def __post_init__(self) -> None:
            self.seen.append(f"{self.name}:{self.size}")

    child = Child("a", size=2)
    assert [f.name for f in records.fields(child)] == ["name", "seen", "size"]
    assert child.seen == ["a:2"]
    with pytest.raises(TypeError, match="non-default argument 'late' follows default argument 'name'"):

        @record
        class Bad:
            name: str = "x"
            late: int


def test_records_pickle_and_keep_class_attributes_for_defaults() -> None:
    assert pickle.loads(pickle.dumps(PICKLED("a", 2))) == PICKLED("a", 2)
    assert PICKLED.size == 0 and "flags" not in PICKLED.__dict__


@record(frozen=True)
class PICKLED:
    name: str
    size: int = 0
    flags: tuple[str, ...] = records.field(default_factory=tuple)


@pytest.mark.parametrize("frozen", [False, True])
def test_keyword_only_slotted_records_as_the_kb_declares_them(frozen: bool) -> None:
    options = {"frozen": frozen, "kw_only": True, "slots": True, "repr": False}

    class Shown:
        __slots__ = ()

        def __repr__(self) -> str:
            return "shown"

    def declare_entry(decorate, api):
        @decorate
        class Entry(Shown):
            id: str = "x"
            size: int

        return Entry

    mine, theirs = declare_entry(record(**options), RECORDS), declare_entry(dataclass(**options), DATACLASSES)
    for cls, api in ((mine, RECORDS), (theirs, DATACLASSES)):
        entry = cls(size=2)
        assert (entry.id, entry.size, repr(entry)) == ("x", 2, "shown")
        assert not hasattr(entry, "__dict__") and cls.__slots__ == ("id", "size")
        with pytest.raises(TypeError):
            cls("x", 2)
        assert api.replace(entry, size=3).size == 3
    with pytest.raises(AttributeError):
        mine(size=1).colour = "red"


@record(frozen=True, kw_only=True, slots=True)
class PICKLED_SLOTS:
    name: str
    sizes: tuple[int, ...] = ()


def test_frozen_slotted_records_pickle() -> None:
    entry = PICKLED_SLOTS(name="a", sizes=(1, 2))
    assert pickle.loads(pickle.dumps(entry)) == entry
