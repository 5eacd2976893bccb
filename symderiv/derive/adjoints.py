"""Every symbol's adjoint, in two forms: local (in downstream adjoints) and expanded."""
from __future__ import annotations

from dataclasses import field

from ..fastdataclass import dataclass
from ..model import ops as o
from ..model.graph import Model
from ..model.ops import Expr
from ..model.walk import KeyMemo
from .reverse import vjp_terms
from .simplify import simplify


@dataclass(frozen=True)
class Term:
    """One occurrence's contribution: through `consumer`'s defining equation."""

    consumer: str
    expr: Expr


@dataclass
class Adjoints:
    model: Model
    local: dict[str, Expr]
    terms: dict[str, list[Term]]
    _expanded: dict[str, Expr] = field(default_factory=dict)
    _key: KeyMemo = field(default_factory=KeyMemo)
    _order: list[str] = field(default_factory=list)

    def expanded(self, name: str) -> Expr:
        """The adjoint in inputs, parameters and forward-node values only, simplified."""
        done = self._expanded
        if name in done:
            return done[name]

        def known(x: Expr) -> Expr | None:  # downstream adjoints, already expanded
            return done.get(x.name) if isinstance(x, o.Bar) else None

        self._order = self._order or self.model.backward_order()  # once: asked for every symbol
        for n in self._order:
            if name in done:
                break
            if n not in done:
                done[n] = simplify(self.local[n], known, key=self._key)
        return done[name]

    def __repr__(self) -> str:
        """Bounded: which adjoints, never their expressions (print them with `symderiv latex`)."""
        return f"Adjoints({len(self.local)} adjoints of {self.model!r})"

    def _repr_latex_(self) -> str:
        from ..report.notebook import adjoints_latex
        return adjoints_latex(self)

    def order(self) -> list[str]:
        return self.model.backward_order()


def cotangent(model: Model, node: str) -> Expr:
    """What stands for node's adjoint inside the local forms: 1 for the loss."""
    return o.const(1) if node == model.loss else o.Bar(node, model.shape(node))


def derive(model: Model) -> Adjoints:
    """The reverse sweep over the model graph: u-bar = sum over consumers c of c's VJP."""
    loss = model.loss
    consumers = model.consumers()
    local: dict[str, Expr] = {loss: o.const(1)}
    terms: dict[str, list[Term]] = {loss: []}
    for u in model.backward_order():
        if u == loss:
            continue
        ts: list[Term] = []
        for c in consumers[u]:
            sym = model.symbols[c]
            for t in vjp_terms(sym.definition, u, cotangent(model, c), o.Var(c, sym.shape)):  # type: ignore[arg-type]
                ts.append(Term(c, simplify(t)))
        terms[u] = ts
        local[u] = simplify(o.add(*(t.expr for t in ts))) if ts else o.Zero(model.shape(u))
    return Adjoints(model, local, terms)
