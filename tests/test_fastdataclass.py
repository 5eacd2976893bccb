"""`symderiv.fastdataclass.dataclass` behaves as `dataclasses.dataclass`: the same classes made
both ways give the same reprs, equality, hash values, frozen errors and dataclass API."""
from __future__ import annotations

import dataclasses
import math
from dataclasses import FrozenInstanceError, field

import pytest
from hypothesis import given
from hypothesis import strategies as st

from symderiv import fastdataclass
from symderiv.fastdataclass import dataclass as fast


def _pair(body: dict, **options):
    """The class `body` describes, made by the standard library and by fastdataclass."""
    made = []
    for deco in (dataclasses.dataclass, fast):
        ns = {"__annotations__": dict(body["annotations"]), **body.get("defaults", {})}
        made.append(deco(type("C", (), ns), **options))
    return made


SHAPES = [
    {"annotations": {}},
    {"annotations": {"a": "int"}},
    {"annotations": {"a": "int", "b": "object"}},
    {"annotations": {"a": "int", "b": "object", "c": "tuple"}, "defaults": {"c": ()}},
    {"annotations": {"a": "int", "b": "object", "hidden": "object"},
     "defaults": {"hidden": field(default=0, repr=False, compare=False)}},
]
OPTIONS = [{}, {"frozen": True}, {"frozen": True, "eq": False}, {"eq": False}, {"unsafe_hash": True},
           {"order": True}, {"repr": False}]
values = st.one_of(st.integers(), st.text(max_size=3), st.none(), st.floats(allow_nan=True),
                   st.tuples(st.integers(), st.text(max_size=2)))


def _r(obj: object) -> str:
    """repr without the address of an object that has no dataclass repr (`repr=False`)."""
    return repr(obj).split(" object at ")[0]


def _outcome(f):
    try:
        return f()
    except TypeError as err:
        return str(err)


def _args(shape: dict, draw: list) -> list:
    return draw[: len(shape["annotations"]) - len(shape.get("defaults", {}))]


@pytest.mark.parametrize("options", OPTIONS, ids=str)
@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: ",".join(s["annotations"]) or "none")
@given(draw=st.lists(values, min_size=3, max_size=3), other=st.lists(values, min_size=3, max_size=3))
def test_same_methods_as_the_standard_library(shape: dict, options: dict, draw: list, other: list) -> None:
    std, ours = _pair(shape, **options)
    a, b = std(*_args(shape, draw)), ours(*_args(shape, draw))
    a2, b2 = std(*_args(shape, other)), ours(*_args(shape, other))
    assert _r(a) == _r(b)
    same_a, same_b = std(*_args(shape, draw)), ours(*_args(shape, draw))  # equal fields, other objects
    assert (a == same_a) == (b == same_b) and (a == a2) == (b == b2)
    assert (a == object()) == (b == object())
    assert (std.__hash__ is None) == (ours.__hash__ is None)
    if std.__hash__ is not None and std.__hash__ is not object.__hash__:
        assert hash(a) == hash(b) and hash(a2) == hash(b2)
    assert [f.name for f in dataclasses.fields(a)] == [f.name for f in dataclasses.fields(b)]
    assert dataclasses.astuple(a) == dataclasses.astuple(b) or any(
        isinstance(v, float) and math.isnan(v) for v in draw)
    assert _r(dataclasses.replace(b)) == _r(b)
    assert std.__match_args__ == ours.__match_args__
    if options.get("order"):
        assert _outcome(lambda: a < a2) == _outcome(lambda: b < b2)


def test_frozen_errors_match() -> None:
    std, ours = _pair(SHAPES[2], frozen=True)
    for obj in (std(1, 2), ours(1, 2)):
        with pytest.raises(FrozenInstanceError, match="cannot assign to field 'a'"):
            obj.a = 3
        with pytest.raises(FrozenInstanceError, match="cannot delete field 'b'"):
            del obj.b
        with pytest.raises(FrozenInstanceError, match="cannot assign to field 'new'"):
            obj.new = 1


def test_frozen_subclass_and_inherited_equality() -> None:
    @fast(frozen=True)
    class Base:
        span: int

    @fast(frozen=True)
    class Named(Base):
        name: str

    assert Named(1, "x") == Named(1, "x") and Named(1, "x") != Named(1, "y")
    assert Named(1, "x") != Base(1) and hash(Named(1, "x")) == hash((1, "x"))
    assert repr(Named(1, "x")) == "test_frozen_subclass_and_inherited_equality.<locals>.Named(span=1, name='x')"
    with pytest.raises(FrozenInstanceError):
        Named(1, "x").span = 2
    with pytest.raises(TypeError, match="frozen"):
        @fast
        class Thawed(Base):
            more: int


def test_explicit_methods_are_kept_and_repr_is_recursion_safe() -> None:
    @fast(frozen=True)
    class Keep:
        a: int

        def __repr__(self) -> str:
            return "mine"

        def __eq__(self, other: object) -> bool:
            return True

        __hash__ = object.__hash__

    assert repr(Keep(1)) == "mine" and Keep(1) == Keep(2)
    assert Keep.__hash__ is object.__hash__

    @fast
    class Loop:
        items: list

    loop = Loop([])
    loop.items.append(loop)
    assert repr(loop) == "test_explicit_methods_are_kept_and_repr_is_recursion_safe.<locals>.Loop(items=[...])"


def test_the_standard_library_is_left_as_it_was() -> None:
    before = {name: getattr(dataclasses, name) for name in fastdataclass._EXPECTED}
    fast(type("D", (), {"__annotations__": {"a": "int"}}), frozen=True)
    assert {name: getattr(dataclasses, name) for name in fastdataclass._EXPECTED} == before
    assert fastdataclass.SUPPORTED or not fastdataclass._ORIGINAL
