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


def test_a_kw_only_record_takes_fields_by_keyword_in_any_default_order() -> None:
    @record(frozen=True, kw_only=True)
    class Base:
        id: str

    @record(frozen=True, kw_only=True)
    class Gpu(Base):
        vendor: str | None = None
        integrated: bool  # no default after one with a default: only a keyword-only class allows it

    gpu = Gpu(id="x", integrated=True)
    assert (gpu.id, gpu.vendor, gpu.integrated) == ("x", None, True)
    assert [f.name for f in records.fields(Gpu)] == ["id", "vendor", "integrated"]
    assert records.replace(gpu, vendor="amd").vendor == "amd" and Gpu.__match_args__ == ()
    with pytest.raises(TypeError, match="positional"):
        Gpu("x", None, True)
    with pytest.raises(TypeError, match="missing required argument: 'integrated'"):
        Gpu(id="x")
    with pytest.raises(records.FrozenInstanceError):
        gpu.vendor = "nvidia"
