"""Leibniz chains in a layout, judged independently of symderiv (SPEC 3.2).

For every pair `\\bar{a}\\frac{\\partial a}{\\partial b}` of the shipped answer sheets, the
transpositions a student can write — the adjoint transposed, the Jacobian transposed, the
factors swapped, the left side `\\bar{b}`, `\\bar{b}^\\top` or `\\frac{\\partial L}{\\partial b}` —
each in the numerator and the denominator layout. Whether a variant is right in a layout is
decided here with explicit matrices: Jacobians built column by column from the finite
differences of `mutate.Oracle` (never from symderiv), multiplied as written.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from mutate import Invalid, Oracle, Undecidable, adjoint_lines, check_lines

from symderiv.read import tree as t
from symderiv.read.document import read_document
from symderiv.read.unparse import unparse

LAYOUTS = ("numerator", "denominator")


@dataclass(frozen=True)
class Variant:
    source: str     # file:line of the chain
    lhs: str
    rhs: str
    lhs_node: tuple  # (kind, target): kind in bar, bar_t, dl
    factors: tuple   # ((kind, transposed), ...): kind bar or jac
    a: str
    b: str

    @property
    def latex(self) -> str:
        return f"{self.lhs} = {self.rhs}"

    @property
    def formal(self) -> bool:
        return self.factors == (("bar", False), ("jac", False))


def _vector(v: np.ndarray) -> bool:
    return v.shape[1] == 1 and v.shape[0] > 1


def pairs(answers: Path, orc: Oracle) -> list[tuple[str, t.Bar, t.Partial, str]]:
    """(file:line, bar, partial, target) for each `\\bar{a}\\frac{\\partial a}{\\partial b}` part."""
    out = []
    for line in adjoint_lines(answers, orc):
        for part in line.parts:
            if (isinstance(part, t.Product) and len(part.factors) == 2 and isinstance(part.factors[0], t.Bar)
                    and isinstance(part.factors[1], t.Partial)):
                bar, p = part.factors
                if orc.canonical(bar.name) == orc.canonical(p.num) and orc.canonical(p.den) == line.target:
                    out.append((f"{answers.parent.name}:{line.line}", bar, p, line.target))
    return out


def variants(source: str, bar: t.Bar, p: t.Partial, target: str, loss: str) -> list[Variant]:
    b_tex, j_tex = unparse(bar), unparse(p)
    tex = {("bar", False): b_tex, ("bar", True): f"{b_tex}^\\top",
           ("jac", False): j_tex, ("jac", True): f"\\left({j_tex}\\right)^\\top"}
    lhs = {"bar": f"\\bar{{{target}}}", "bar_t": f"\\bar{{{target}}}^\\top",
           "dl": f"\\frac{{\\partial {loss}}}{{\\partial {target}}}"}
    out = []
    for order in (("bar", "jac"), ("jac", "bar")):
        for tb in (False, True):
            for tj in (False, True):
                fs = tuple((k, tb if k == "bar" else tj) for k in order)
                for kind, ltex in lhs.items():
                    out.append(Variant(source, ltex, " ".join(tex[f] for f in fs), (kind, target), fs,
                                       p.num, p.den))
    return out


class LayoutOracle:
    """Right or not, in a layout, with explicit Jacobian matrices (finite differences)."""

    def __init__(self, orc: Oracle) -> None:
        self.orc = orc

    def _jacobian(self, inst, a: str, b: str) -> np.ndarray:
        """d a / d b in the numerator layout (m x n), one row per unit cotangent."""
        m = inst.values[a].shape[0]
        rows = []
        for i in range(m):
            e = np.zeros((m, 1))
            e[i, 0] = 1.0
            rows.append(self.orc.vjp(inst, a, b, e).reshape(-1))
        return np.array(rows)

    def _factor(self, inst, v: Variant, kind: str, tr: bool, layout: str) -> np.ndarray:
        a, b = self.orc.canonical(v.a), self.orc.canonical(v.b)
        if kind == "bar":
            m = inst.bars[a]
        else:
            va, vb = inst.values[a], inst.values[b]
            if va.shape == (1, 1):
                g = self.orc.vjp(inst, a, b, np.ones((1, 1)))
                m = g.T if (_vector(vb) and layout == "numerator") else g
            elif _vector(va) and _vector(vb):
                j = self._jacobian(inst, a, b)
                m = j if layout == "numerator" else j.T
            else:
                raise Undecidable("a tensor")
        return m.T if tr else m

    def _product(self, xs: list[np.ndarray]) -> np.ndarray:
        acc = xs[0]
        for x in xs[1:]:
            if acc.shape == (1, 1):
                acc = acc[0, 0] * x
            elif x.shape == (1, 1):
                acc = acc * x[0, 0]
            elif acc.shape[1] != x.shape[0]:
                raise Invalid("ill-shaped")
            else:
                acc = acc @ x
        return acc

    def right(self, v: Variant, layout: str) -> bool:
        """Is the variant right in `layout` on every instance? Undecidable propagates."""
        for inst in self.orc.instances:
            kind, target = v.lhs_node
            want = inst.bars[target]
            if kind == "bar_t" or (kind == "dl" and layout == "numerator" and _vector(inst.values[target])):
                want = want.T
            try:
                if v.formal:
                    got = self.orc.vjp(inst, self.orc.canonical(v.a), self.orc.canonical(v.b),
                                       inst.bars[self.orc.canonical(v.a)])
                else:
                    got = self._product([self._factor(inst, v, k, tr, layout) for k, tr in v.factors])
            except Invalid:
                return False
            if got.shape != want.shape and not (got.size == 1 and want.size == 1):
                return False
            if np.max(np.abs(got.reshape(want.shape) - want)) > 1e-5 * (1 + np.max(np.abs(want))):
                return False
        return True


def judged(problem: Path, vs: list[Variant], layout: str) -> dict[int, list]:
    """symderiv's claims for each variant, the problem's front matter setting `layout`."""
    doc = read_document(str(problem))
    doc = dataclasses.replace(doc, front_matter={**doc.front_matter, "layout": layout})
    return check_lines(doc, [v.latex for v in vs])


__all__ = ["LAYOUTS", "LayoutOracle", "Variant", "judged", "pairs", "variants"]
