"""The public Python API: build a model from SymPy matrix symbols, derive, check, render.

`symderiv/__init__.py` should re-export::

    from .api import (CheckResult, SymModel, adjoints, check_expression, elementwise,
                      gradient, latex, new_model)

(`symderiv.model` is the subpackage of the model graph, so a new model is `new_model()`.)

Example (tests/test_api.py runs it)::

    import sympy as sp, symderiv
    from sympy import MatrixSymbol, Symbol
    a, c = sp.symbols("a c", integer=True, positive=True)
    m = symderiv.new_model()
    x = m.input(MatrixSymbol("x", a, 1))
    W = m.input("W", (c, a))
    v = m.input("v", ("c", 1))
    t = m.input(Symbol("t"), domain="binary")
    z = m.define("z", W * x)
    y = m.define("y", symderiv.elementwise("sigma", v.T * z))   # a 1x1: a SymPy scalar
    m.define("l", -t * sp.log(y) - (1 - t) * sp.log(1 - y))
    symderiv.gradient(m, "W")                                   # (y - t)*v*x.T
    symderiv.check_expression(m, W, r"(y - t) v x^\top").equal  # True
    symderiv.latex(m, expanded=True)                            # \begin{align*} ...

SymPy is imported lazily; its own `.diff` is never called: every derivative comes from
symderiv's rule table (`derive/rules.py`).
"""
from __future__ import annotations

from dataclasses import field
from typing import Any

from .derive.adjoints import Adjoints, derive
from .errors import ShapeError, SymderivError, UnsupportedError
from .fastdataclass import dataclass
from .model import ops as o
from .model.graph import Model
from .model.sympy_bridge import elementwise, from_sympy, to_sympy

__all__ = ["CheckResult", "SymModel", "adjoints", "check_expression", "elementwise", "gradient",
           "latex", "new_model"]


@dataclass
class SymModel:
    """A model built from SymPy: inputs are declared, nodes defined in order; the last node
    defined is the loss (it must be scalar). `graph` is the underlying `Model`."""

    graph: Model = field(default_factory=Model)
    dims: dict[str, Any] = field(default_factory=dict)  # dimension name -> SymPy Symbol
    _derived: Adjoints | None = None
    _instances: dict[int, Any] = field(default_factory=dict)

    def __repr__(self) -> str:
        """Bounded (the graph's names and shapes), however much has been derived or checked."""
        return f"SymModel({self.graph!r})"

    def input(self, symbol: Any, shape: tuple[Any, Any] | None = None, domain: str = "real") -> Any:
        """Declare an input or parameter: a `MatrixSymbol`, a scalar `Symbol`, or a name with a
        shape (dims are names, SymPy symbols or whole numbers). `domain` is `real`, `binary`
        (a 0/1 label) or `positive`. Returns the SymPy symbol to build definitions with."""
        import sympy as sp
        if isinstance(symbol, str):
            if shape is None:
                raise ShapeError(f"give the shape of {symbol}, e.g. ('a', 1)")
            name, dims = symbol, shape
        elif isinstance(symbol, sp.MatrixSymbol):
            name, dims = str(symbol.name), symbol.shape
        elif isinstance(symbol, sp.Symbol):
            name, dims = str(symbol.name), (1, 1)
        else:
            raise UnsupportedError(f"an input must be a MatrixSymbol, a Symbol or a name, not {symbol!r}")
        self.graph.declare(name, (self._dim(dims[0]), self._dim(dims[1])), domain)
        self._changed()
        return self.symbol(name)

    def define(self, name: str, expr: Any) -> Any:
        """Define the next forward node from a SymPy expression over the model's symbols (or
        one of our `ops` expressions). Returns its SymPy symbol."""
        e = expr if isinstance(expr, o.Expr) else from_sympy(expr, self.graph)
        self.graph.define(name, e)
        self._changed()
        return self.symbol(name)

    def symbol(self, name: str) -> Any:
        """The SymPy symbol of a declared or defined name (a `Symbol` when it is 1x1)."""
        return to_sympy(self.graph.symbols[name].var(), self.dims)

    @property
    def loss(self) -> str:
        return self.graph.loss

    def derived(self) -> Adjoints:
        if self._derived is None:
            self._derived = derive(self.graph)
        return self._derived

    def instances(self, seed: int = 0) -> Any:
        from .verify.equivalence import Instances
        if seed not in self._instances:
            self._instances[seed] = Instances(self.derived(), seed)
        return self._instances[seed]

    def _dim(self, d: Any) -> o.Dim:
        if isinstance(d, (int, str)):
            return d
        if getattr(d, "is_Integer", False):
            return int(d)
        if getattr(d, "is_Symbol", False):
            self.dims.setdefault(str(d.name), d)
            return str(d.name)
        raise UnsupportedError(f"a size must be a name or a whole number, not {d}")

    def _changed(self) -> None:
        self._derived = None
        self._instances.clear()


def new_model() -> SymModel:
    """A new, empty model (also `symderiv.model()`)."""
    return SymModel()


def _name(model: SymModel, symbol: Any) -> str:
    name = symbol if isinstance(symbol, str) else str(getattr(symbol, "name", symbol))
    if name not in model.graph.symbols:
        raise SymderivError(f"{name} is not a symbol of the model")
    return name


def _expanded(model: SymModel, name: str) -> o.Expr:
    from .derive.scalar import scalar_simplify
    return scalar_simplify(model.derived().expanded(name))


def adjoints(model: SymModel, expanded: bool = False) -> dict[str, Any]:
    """Every symbol's adjoint (d loss / d symbol) as SymPy, in backprop order. Local form (in
    the downstream adjoints, `MatrixSymbol`s named `\\bar{z}`) or, with `expanded`, in the
    inputs, parameters and forward values only."""
    adj = model.derived()
    return {n: to_sympy(_expanded(model, n) if expanded else adj.local[n], model.dims) for n in adj.order()}


def gradient(model: SymModel, symbol: Any) -> Any:
    """d loss / d symbol, expanded, as SymPy."""
    return to_sympy(_expanded(model, _name(model, symbol)), model.dims)


@dataclass
class CheckResult:
    """The verdict on one expression: `correct`, `incorrect` or `invalid` (see SPEC §2)."""

    verdict: str
    method: str | None = None          # "symbolic" or "numeric"
    reason: str | None = None          # a diagnosis (sign, transpose, ...) or why it is invalid
    message: str = ""
    counterexample: dict[str, Any] | None = None

    @property
    def equal(self) -> bool:
        return self.verdict == "correct"

    def __bool__(self) -> bool:
        return self.equal


def _resolve_latex(model: SymModel, text: str) -> o.Expr:
    try:
        from .read.parse import parse_expression
    except ImportError:  # pragma: no cover - the reader ships with symderiv
        raise UnsupportedError("reading LaTeX needs symderiv.read.parse") from None
    from .meaning.resolve import Scope, resolve
    return resolve(parse_expression(text), Scope(model.graph, source=text))


def check_expression(model: SymModel, symbol: Any, expr: Any, seed: int = 0) -> CheckResult:
    """Is `expr` (SymPy, one of our expressions, or a LaTeX string) equal to d loss / d symbol?

    Decided on seeded random instances (distinct sizes >= 2 and edge sizes, values in the
    declared domains); `method` is `symbolic` when it is literally the derived local form."""
    from .verify.diagnose import Target, diagnose
    from .verify.equivalence import agree, first_disagreement, structurally_equal
    name = _name(model, symbol)
    shape = model.graph.shape(name)
    try:
        e = _resolve_latex(model, expr) if isinstance(expr, str) else (
            expr if isinstance(expr, o.Expr) else from_sympy(expr, model.graph))
        if not (o.unify(e.shape[0], shape[0]) and o.unify(e.shape[1], shape[1])):
            raise ShapeError(f"this is {o.shape_str(e.shape)}, but the adjoint of {name} is {o.shape_str(shape)}")
        inst = model.instances(seed)
        got = inst.values(e)
    except SymderivError as err:
        return CheckResult("invalid", reason=err.reason, message=str(err))
    truth = inst.bars(name)
    if agree(got, truth):
        if structurally_equal(e, model.derived().local[name]):
            return CheckResult("correct", "symbolic", message="the same expression as the derived adjoint")
        return CheckResult("correct", "numeric", message=f"agrees on {len(got)} random instances")
    terms = [(tm.consumer, inst.values(tm.expr)) for tm in model.derived().terms.get(name, [])]
    target = Target(name, f"\\bar{{{name}}}", truth, terms=terms)
    reason, why = diagnose(e, got, target, inst, lambda envs: [env.bars[name] for env in envs])
    i = first_disagreement(got, truth) or 0
    env = inst.envs[i]
    cex = {"sizes": dict(env.dims), "values": {n: env.values[n].tolist() for n in model.graph.inputs},
           "expected": truth[i].tolist(), "got": got[i].tolist()}
    return CheckResult("incorrect", "numeric", reason, why or f"not equal to the adjoint of {name}", cex)


def latex(model: SymModel, expanded: bool = False, standalone: bool = False) -> str:
    """The derivation, every adjoint in backprop order, as a LaTeX `align*` block."""
    from .report.latex import derivation_latex
    return derivation_latex(model.derived(), expanded=expanded, standalone=standalone)
