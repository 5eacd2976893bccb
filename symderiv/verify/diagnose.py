"""Why a step is wrong: the cheap, checkable explanations a TA would give, most specific first.

Each diagnosis is itself checked numerically on every instance: a reason is given only when
a precise repair (negate, rescale, transpose, add or drop one term, use another adjoint, or
carry the student's own earlier value forward, or assume a premise the problem does not state)
makes the step agree with the truth.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from ..derive.simplify import BUILD, rebuild
from ..model import ops as o
from ..model.ops import Expr
from ..model.walk import nodes
from ..names import bar_latex
from .equivalence import Instances, Values, agree


@dataclass
class Target:
    """What a step should equal: its values, and what is known about how it is made."""

    name: str | None          # the node whose adjoint this is (None for identities)
    latex: str                # how to name it in messages: \bar{W}
    truth: Values
    world: Values | None = None       # the truth given the student's earlier wrong adjoints
    world_from: str = ""              # which earlier answers that world carries
    terms: list[tuple[str, Values]] | None = None  # the true terms (one per occurrence)
    world_envs: list | None = None    # the instances with the student's world as bars
    make_terms: Callable[[], list[tuple[str, Values]]] | None = None  # `terms`, when first needed

    def true_terms(self) -> list[tuple[str, Values]]:
        """`terms`, evaluated on first use (only a wrong step is diagnosed)."""
        if self.terms is None and self.make_terms is not None:
            self.terms, self.make_terms = self.make_terms(), None
        return self.terms or []


def _ratio(s: Values, t: Values) -> Fraction | None:
    """k with s = k t on every instance, when it exists and is a simple number."""
    ks = []
    for a, b in zip(s, t):
        den = float(np.sum(b * b))
        if not np.isfinite(den) or den < 1e-12 or not np.all(np.isfinite(a)):
            continue
        ks.append(float(np.sum(a * b)) / den)
    if not ks:
        return None
    k = Fraction(ks[0]).limit_denominator(64)
    if abs(float(k) - ks[0]) > 1e-7 * max(1.0, abs(ks[0])) or not agree(s, [float(k) * b for b in t]):
        return None
    return k


def _fmt(k: Fraction) -> str:
    return str(k.numerator) if k.denominator == 1 else f"{k.numerator}/{k.denominator}"


def _bars_in(e: Expr) -> list[o.Bar]:
    return [x for x in nodes(e) if isinstance(x, o.Bar)]


def _wrong_adjoint(expr: Expr, s: Values, tgt: Target, inst: Instances) -> str | None:
    model = inst.adjoints.model
    for name in model.backward_order():
        other = inst.bars(name)
        if name != tgt.name and other[0].shape == tgt.truth[0].shape and agree(s, other):
            return f"this is {bar_latex(name)}, the adjoint of {name}, not {tgt.latex}"
    for bar in {b.name: b for b in _bars_in(expr)}.values():
        for name in model.backward_order():
            if name == bar.name or not (o.same(model.shape(name)[0], bar.shape[0])
                                        and o.same(model.shape(name)[1], bar.shape[1])):
                continue
            def swap(x: Expr, b: str = bar.name, n: str = name) -> Expr | None:
                return o.Bar(n, x.shape) if isinstance(x, o.Bar) and x.name == b else None
            swapped = rebuild(expr, swap)
            if agree(inst.values(swapped), tgt.truth):
                return f"{bar_latex(bar.name)} is used where {bar_latex(name)} belongs"
    return None


MAX_TERMS = 16


def expand_terms(e: Expr) -> list[Expr]:
    """The summands of e with products distributed over sums: X (B - Bᵀ) -> X B, -X Bᵀ."""
    def go(x: Expr) -> list[Expr]:
        if isinstance(x, o.Add):
            return [t for term in x.terms for t in go(term)]
        if isinstance(x, o.Scale):
            return [o.scale(x.a, t) for t in go(x.b)]
        if isinstance(x, o.Transpose):
            return [o.transpose(t) for t in go(x.a)]
        if isinstance(x, (o.MatMul, o.Hadamard)):
            left, right = go(x.a), go(x.b)
            if len(left) * len(right) > MAX_TERMS:
                return [x]
            build = o.matmul if isinstance(x, o.MatMul) else o.hadamard
            return [build(a, b) for a in left for b in right]
        return [x]
    out = go(e)
    return out if len(out) <= MAX_TERMS else (list(e.terms) if isinstance(e, o.Add) else [e])


def _student_terms(expr: Expr, diff: Values, inst: Instances) -> tuple[str, str] | None:
    """One of the student's own terms is extra, or off by a sign or a factor."""
    own = getattr(expr, "summands", None)  # an index expression's top-level terms
    top = list(expr.terms) if isinstance(expr, o.Add) else (own() if own is not None else [])
    mine = top + [x for x in expand_terms(expr) if len(top) < 2 or x not in top]
    if len(mine) < 2:
        return None
    for term in mine:
        tv = inst.values(term)
        if agree(diff, tv):
            return "extra-term", "one term does not belong: without it the step would be right"
    for term in mine:
        k = _ratio(diff, inst.values(term))
        if k is not None and k != 0:
            fix = 1 - k
            if fix == -1:
                return "sign", "one term has the wrong sign"
            return "scale", f"one term is off by a constant factor (it should be {_fmt(fix)} times as large)"
    return None


def _missing(diff: Values, tgt: Target) -> str | None:
    """The truth minus the step is one path's contribution, one occurrence's, or one summand
    of the derived form (never the whole truth: a step of zero is not "missing a term")."""
    terms = tgt.true_terms()
    paths: dict[str, Values] = {}
    for consumer, tv in terms:
        if consumer:
            paths[consumer] = tv if consumer not in paths else [a + b for a, b in zip(paths[consumer], tv)]
    missing = [-d for d in diff]
    if agree(missing, tgt.truth):
        return None
    for consumer, tv in list(paths.items()) + terms:
        if agree(missing, tv):
            via = f" (its contribution through {consumer}'s equation)" if consumer else ""
            return f"a term of {tgt.latex} is missing{via}"
    return None


def _transpose(expr: Expr, s: Values, tgt: Target, inst: Instances) -> str | None:
    square = all(x.shape[0] == x.shape[1] for x in s) and any(x.shape[0] > 1 for x in s)
    if square and agree(s, [t.T for t in tgt.truth]):
        return f"this is the transpose of {tgt.latex}"
    model = inst.adjoints.model
    if any(o.same(s_[0], s_[1]) and o.find(s_[0]) != 1 for s_ in (model.shape(n) for n in model.inputs)):
        return _toggled(expr, tgt, inst)
    return None


def _toggled(expr: Expr, tgt: Target, inst: Instances) -> str | None:
    """Adding or removing the transpose on one occurrence of a square input makes it right
    (`X (K + K^\\top) X v` for `X^\\top (K + K^\\top) X v`: the occurrence, not every X)."""
    model = inst.adjoints.model

    def square(x: Expr) -> bool:
        return (isinstance(x, o.Var) and x.name in model.symbols and o.same(x.shape[0], x.shape[1])
                and o.find(x.shape[0]) != 1)
    tries = 0
    for parent in nodes(expr):
        if isinstance(parent, o.Transpose) or type(parent) not in BUILD:
            continue  # a transposed input is toggled from the node that holds the transpose
        for k, a in enumerate(parent.args):
            t = a if isinstance(a, o.Transpose) and square(a.a) else None
            v = t.a if t is not None else a
            if not square(v):
                continue
            tries += 1
            if tries > MAX_TOGGLES:
                return None
            args = list(parent.args)
            args[k] = v if t is not None else o.transpose(v)
            new = BUILD[type(parent)](parent, args)
            fixed = rebuild(expr, lambda x, old=parent, new=new: new if x is old else None)
            if fixed is not expr and agree(inst.values(fixed), tgt.truth):
                name = v.name  # type: ignore[attr-defined]
                how = f"{name}, not {name}^\\top" if t is not None else f"{name}^\\top, not {name}"
                return f"a transpose is misplaced: one factor should be {how}"
    return None


#: at most this many single transposes are tried for one step
MAX_TOGGLES = 12


#: at most this many unstated premises are tried for one step (each is one more sampling)
MAX_CANDIDATES = 6


def _candidates(model) -> list[tuple]:
    """Premises the problem could have stated but did not: a square input symmetric (all of
    them together too), a vector's entries or a matrix's rows summing to 1."""
    from ..meaning.premises import Premise
    stated = {(p.kind, p.name) for p in model.premises}
    out: list[tuple] = []
    square = []
    for name in model.inputs:
        sym = model.symbols[name]
        rows, cols = sym.shape
        if sym.domain in ("onehot", "simplex"):
            continue
        if o.same(rows, cols) and o.find(rows) != 1:
            if not stated & {("symmetric", name), ("posdef", name)}:
                square.append(Premise("symmetric", name))
        elif o.find(cols) == 1 and o.find(rows) != 1 and sym.domain in ("real", "binary"):
            out.append((Premise("sum1", name, signed=True),))
        elif o.find(cols) != 1 and o.find(rows) != 1 and sym.domain in ("real", "binary") \
                and ("rows1", name) not in stated:
            out.append((Premise("rows1", name, signed=True),))
    both = [(p,) for p in square] + ([tuple(square)] if len(square) > 1 else [])
    return (both + out)[:MAX_CANDIDATES]


def _premise(expr: Expr, tgt: Target, inst: Instances, truth_at) -> str | None:
    """Right on instances where an unstated premise holds: `right if C^\\top = C, which the
    problem does not state`."""
    if truth_at is None:
        return None
    for premises in _candidates(inst.adjoints.model):
        if inst.agrees_under(premises, expr, truth_at):
            said = " and ".join(f"`{p.latex}`" for p in premises)
            verb = "does" if len(premises) == 1 else "do"
            return f"right if {said}, which the problem {verb} not state"
    return None


def diagnose(expr: Expr, s: Values, tgt: Target, inst: Instances, truth_sym=None) -> tuple[str | None, str]:
    """(reason, message) for a step whose values `s` disagree with the target's."""
    t = tgt.truth
    # the most specific repair first: exactly the transpose, or one transpose toggled
    exact = _transpose(expr, s, tgt, inst) if tgt.world is None else None
    if exact:
        return "transpose", exact
    negated = agree(s, [-x for x in t])
    msg = _premise(expr, tgt, inst, truth_sym) if not negated else None
    if msg:
        return "premise", msg
    if tgt.world is not None and agree(s, tgt.world) and (
            tgt.world_envs is None or agree(inst.values(expr, tgt.world_envs), tgt.world)):
        # the step is right when read in the student's world too: not just a lucky multiple
        verb = "are" if " and " in tgt.world_from else "is"
        return "carried-forward", (f"right given your earlier {tgt.world_from}, which {verb} wrong: "
                                   "the mistake is carried forward")
    if negated:
        return "sign", f"the sign is wrong: this is -{tgt.latex}"
    k = _ratio(s, t)
    if k is not None and k not in (0, 1):
        return "scale", f"off by a constant factor: this is {_fmt(k)} times {tgt.latex}"
    diff = [a - b for a, b in zip(s, t)]
    found = _student_terms(expr, diff, inst)
    if found:
        return found
    msg = _missing(diff, tgt)
    if msg:
        return "missing-term", msg
    if tgt.name is not None:
        msg = _wrong_adjoint(expr, s, tgt, inst)
        if msg:
            return "wrong-adjoint", msg
    msg = _transpose(expr, s, tgt, inst) or _transposed_term(expr, tgt, inst)
    if msg:
        return "transpose", msg
    return None, ""


def _transposed_term(expr: Expr, tgt: Target, inst: Instances) -> str | None:
    """One summand of the step is the transpose of what belongs there."""
    own = getattr(expr, "summands", None)  # an index line's terms (`\\delta_j a_i + \\lambda W_{ij}`)
    if own is not None and not isinstance(expr, o.Add):
        vals = [inst.values(x) for x in own()]
        for i, v in enumerate(vals):
            if not all(np.ndim(a) == 2 and a.shape[0] == a.shape[1] for a in v) or all(a.size == 1 for a in v):
                continue
            fixed = [sum(w[k].T if j == i else w[k] for j, w in enumerate(vals)) for k in range(len(v))]
            if agree(fixed, tgt.truth):
                return "one term has its indices swapped: with them swapped back the step would be right"
        return None
    if not isinstance(expr, o.Add):
        return None
    for i, term in enumerate(expr.terms):
        if not o.same(term.shape[0], term.shape[1]) or o.find(term.shape[0]) == 1:
            continue
        fixed = o.add(*[o.transpose(x) if j == i else x for j, x in enumerate(expr.terms)])
        if agree(inst.values(fixed), tgt.truth):
            return "one term is transposed: with its transpose the step would be right"
    return None
