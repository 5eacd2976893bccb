"""`dataclass` exactly as the standard library makes it, cheaper to create (cold start matters).

Python 3.11 and 3.12 compile every generated method from source: about 0.1 ms each, six for
a frozen class with `eq`, and symderiv creates ~100 dataclasses on the way to a first verdict
(~40 ms of a cold `check`). Here `__repr__`, `__eq__`, `__hash__`, `__setattr__` and
`__delattr__` are closures over the field names, with the same behaviour as the generated
ones (same results, same hash values, same errors); only `__init__` is still compiled. The
standard library still decides which methods a class gets, so every flag means what it
does there. Where its internals differ (Python 3.13 builds all methods in one compile) this
is `dataclasses.dataclass` unchanged.
"""
from __future__ import annotations

import dataclasses
import inspect
import operator
import threading
from collections.abc import Callable
from dataclasses import FrozenInstanceError
from typing import Any

__all__ = ["dataclass"]

_EXPECTED = {"_frozen_get_del_attr": ["cls", "fields", "globals"], "_repr_fn": ["fields", "globals"],
             "_hash_fn": ["fields", "globals"], "_cmp_fn": ["name", "op", "self_tuple", "other_tuple", "globals"]}
_LOCK = threading.Lock()


def _supported() -> bool:
    for name, params in _EXPECTED.items():
        fn = getattr(dataclasses, name, None)
        if fn is None or list(inspect.signature(fn).parameters) != params:
            return False
    return hasattr(dataclasses, "_recursive_repr")


SUPPORTED = _supported()


def _values(names: tuple[str, ...]) -> Callable[[Any], tuple]:
    """`obj -> (obj.a, obj.b, ...)`, a tuple for any number of names (as `_tuple_str` writes)."""
    if not names:
        return lambda obj: ()
    if len(names) == 1:
        one = operator.attrgetter(names[0])
        return lambda obj: (one(obj),)
    return operator.attrgetter(*names)


def _frozen_get_del_attr(cls: type, fields: list, globals: dict) -> tuple:
    names = tuple(f.name for f in fields)

    def __setattr__(self, name, value):
        if type(self) is cls or name in names:
            raise FrozenInstanceError(f"cannot assign to field {name!r}")
        super(cls, self).__setattr__(name, value)

    def __delattr__(self, name):
        if type(self) is cls or name in names:
            raise FrozenInstanceError(f"cannot delete field {name!r}")
        super(cls, self).__delattr__(name)

    return __setattr__, __delattr__


def _repr_fn(fields: list, globals: dict) -> Callable:
    names = tuple(f.name for f in fields)

    def __repr__(self):
        return self.__class__.__qualname__ + "(" + ", ".join([f"{n}={getattr(self, n)!r}" for n in names]) + ")"

    return dataclasses._recursive_repr(__repr__)  # type: ignore[attr-defined]


def _hash_fn(fields: list, globals: dict) -> Callable:
    values = _values(tuple(f.name for f in fields))

    def __hash__(self):
        return hash(values(self))

    return __hash__


def _tuple_names(text: str) -> tuple[str, ...] | None:
    """`(self.a,self.b,)` -> ("a", "b"); None for any other shape."""
    if not (text.startswith("(") and text.endswith(")")):
        return None
    parts = [p for p in text[1:-1].split(",") if p]
    if not all(p.startswith("self.") and p[5:].isidentifier() for p in parts):
        return None
    return tuple(p[5:] for p in parts)


def _cmp_fn(name: str, op: str, self_tuple: str, other_tuple: str, globals: dict) -> Callable:
    names = _tuple_names(self_tuple)
    if name != "__eq__" or op != "==" or names is None or other_tuple != self_tuple.replace("self.", "other."):
        return _ORIGINAL["_cmp_fn"](name, op, self_tuple, other_tuple, globals)
    values = _values(names)

    def __eq__(self, other):
        if other.__class__ is self.__class__:
            return values(self) == values(other)
        return NotImplemented

    return __eq__


_ORIGINAL = {name: getattr(dataclasses, name) for name in _EXPECTED} if SUPPORTED else {}
_CHEAP = {"_frozen_get_del_attr": _frozen_get_del_attr, "_repr_fn": _repr_fn, "_hash_fn": _hash_fn,
          "_cmp_fn": _cmp_fn}


def dataclass(cls: type | None = None, /, **options: Any) -> Any:
    """`dataclasses.dataclass(cls, **options)`, its methods made without compiling source."""
    if cls is None:
        return lambda c: dataclass(c, **options)
    if not SUPPORTED:
        return dataclasses.dataclass(cls, **options)
    with _LOCK:  # the standard library's helpers are swapped only while this class is made
        for name, fn in _CHEAP.items():
            setattr(dataclasses, name, fn)
        try:
            return dataclasses.dataclass(cls, **options)
        finally:
            for name, fn in _ORIGINAL.items():
                setattr(dataclasses, name, fn)
