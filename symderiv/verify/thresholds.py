"""Masks written with another threshold than the model's: a symbolic check behind the numbers.

`\\mathbb{1}[u > 0.001]` and `\\mathbb{1}[u > 0]` differ only for u in (0, 0.001], where a
spot check may never land. A step whose mask compares a continuous quantity with a constant
the model's own masks do not use is not the model's mask, whatever the samples say.
"""
from __future__ import annotations

from fractions import Fraction

import numpy as np

from ..model import ops as o
from ..model.elementwise import named
from ..model.graph import Model
from ..model.ops import Expr
from ..model.walk import nodes
from .equivalence import Instances

MASKS = named("indicator")


def _constant_part(arg: Expr) -> tuple[Fraction, list[Expr]]:
    """The written constant of a mask's argument (`u - 0.2` -> -0.2) and the other terms."""
    terms = list(arg.terms) if isinstance(arg, o.Add) else [arg]
    c, rest = Fraction(0), []
    for t in terms:
        if isinstance(t, o.Const):
            c += t.value
        elif isinstance(t, o.Scale) and isinstance(t.a, o.Const) and isinstance(t.b, o.Ones):
            c += t.a.value
        else:
            rest.append(t)
    return c, rest


def model_thresholds(model: Model) -> set[Fraction]:
    found = {Fraction(0)}
    for name in model.nodes:
        for x in nodes(model.symbols[name].definition):  # type: ignore[arg-type]
            if isinstance(x, o.Apply) and x.fn in MASKS:
                found.add(_constant_part(x.a)[0])
    return found


def foreign_threshold(expr: Expr, model: Model, inst: Instances) -> Fraction | None:
    """A constant in one of expr's masks that the model's masks do not have, compared with a
    quantity that is not 0/1-valued (`\\mathbb{1}[t > 0.5]` for a label t is just t)."""
    allowed: set[Fraction] | None = None  # the model's, read when the step has a mask
    for x in nodes(expr):
        if not (isinstance(x, o.Apply) and x.fn in MASKS):
            continue
        c, rest = _constant_part(x.a)
        allowed = model_thresholds(model) if allowed is None else allowed
        if c in allowed or not rest:
            continue
        values = inst.values(o.add(*rest))
        if all(np.all((v == 0) | (v == 1)) for v in values):
            continue
        return c
    return None
