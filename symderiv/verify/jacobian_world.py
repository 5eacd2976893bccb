"""Entrywise Jacobian claims in diagnoses: their summands, and the student's wrong Jacobian.

A Jacobian entry claim (`\\frac{\\partial y_i}{\\partial z_j} = ...`) has no adjoint of its own,
so the judge's student's world (wrong adjoints carried forward) does not cover it. Here: the
summands of the entry's pull-back (softmax: `y_i \\delta_{ij}` and `-y_i y_j`), which is what a
missing term of such a claim can be; and, after a wrong vector-by-vector Jacobian claim, the
adjoint of its denominator with the student's Jacobian in place of the true one, so a later
step built on it is diagnosed `carried-forward` (a right Jacobian claim of the pair forgets it).
"""
from __future__ import annotations

from typing import Any

from ..meaning import ir
from ..meaning.indices import Entries, split_entry
from ..meaning.resolve import Scope
from ..model import ops as o
from ..read import tree as t
from ..read.unparse import unparse
from .verdicts import Step


def jacobian_entry_terms(inst: Any, lhs: o.Expr) -> list[tuple[str, list]] | None:
    """The values of each summand of a Jacobian entry's pull-back (at most six)."""
    tree = lhs.tree if isinstance(lhs, Entries) else None
    if not isinstance(tree, ir.IJac) or not isinstance(tree.pulled, o.Add) or len(tree.pulled.terms) > 6:
        return None
    return [("", inst.values(Entries(ir.IJac(x, tree.num_shape, tree.num_axes, tree.den_axes),
                                     lhs.out, lhs.dims, lhs.shp))) for x in tree.pulled.terms]


def remember_jacobian(judge: Any, st: t.Statement, lhs: o.Expr, scope: Scope, final: Step,
                      expr: o.Expr | None) -> None:
    """After a vector-by-vector Jacobian entry claim: keep the student's value when it is wrong
    (`judge.jacobians`, num x den per instance), forget it when the claim is right."""
    p = st.parts[0]
    tree = lhs.tree if isinstance(lhs, Entries) else None
    if not isinstance(p, t.Partial) or not isinstance(tree, ir.IJac) or len(lhs.out) != 2:
        return
    num, den = split_entry(p.num, scope), split_entry(p.den, scope)
    if num is None or den is None or len(num[1]) != 1 or len(den[1]) != 1:
        return
    key = (scope.canonical(num[0]), scope.canonical(den[0]))
    if None in key:
        return
    if final.verdict == "correct":
        if judge.jacobians.pop(key, None) is not None:
            judge.version += 1
    elif final.verdict == "incorrect" and expr is not None and final.reason != "carried-forward":
        rows_are_num = lhs.out[0] == num[1][0]
        judge.jacobians[key] = ([v if rows_are_num else v.T for v in judge.inst.values(expr)],
                                f"{scope.text(p) or unparse(p)} (line {st.span.line})")
        judge.version += 1


def jacobian_world(judge: Any, name: str, truth: list, terms: list) -> tuple[list, str] | None:
    """name's adjoint with the student's wrong Jacobian (num by name) in place of the true one:
    the truth, less the true term through num, plus the student's Jacobian pulling num's adjoint."""
    for (num, den), (jac, origin) in judge.jacobians.items():
        through = [v for consumer, v in terms if consumer == num]
        if den != name or len(through) != 1:
            continue
        bars = judge.inst.bars(num)
        return [t_ - th + j.T @ b for t_, th, j, b in zip(truth, through[0], jac, bars)], origin
    return None
