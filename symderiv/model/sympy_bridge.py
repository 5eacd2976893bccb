"""Our expressions <-> SymPy matrix expressions (SymPy is imported lazily, on first use).

`to_sympy`: a `Var` is a `MatrixSymbol` of its name, a `Bar` one named `\\bar{z}`; a 1x1 node
becomes a SymPy *scalar* (`Symbol` for a 1x1 symbol, `Trace(v.T*h)` for a 1x1 matrix product),
so scalars multiply matrices as SymPy expects. Elementwise functions are
`ElementwiseApplyFunction`s of `Lambda`s (`sigma` is `1/(1 + exp(-x))`); applied to a scalar the
`Lambda` is simply evaluated. Dimension names map to `Symbol(integer=True, positive=True)`.

`from_sympy`: the inverse, for expressions users build by hand, with names looked up in the
model. A scalar SymPy expression is read elementwise, which is also how a `Lambda`'s body is
read: `1 - tanh(x)**2` applied to a vector is `1 - tanh(a) ⊙ tanh(a)`. Both directions are
iterative over the expression (deep networks are fine).
"""
from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from fractions import Fraction
from typing import Any

from ..errors import UnknownSymbolError, UnsupportedError
from . import ops as o
from .elementwise import FUNCTIONS, RECORDS, generic_name, record
from .graph import Model
from .ops import Expr
from .walk import fold

BAR_PREFIX, BAR_SUFFIX = "\\bar{", "}"
_lambdas: dict[str, Any] = {}
_heads: dict[Any, list[tuple[str, Any]]] = {}


def bar_name(name: str) -> str:
    return f"{BAR_PREFIX}{name}{BAR_SUFFIX}"


def lambdas() -> dict[str, Any]:
    """Our elementwise functions as SymPy Lambdas of one variable (built once, from the records)."""
    if not _lambdas:
        import sympy as sp
        x = sp.Dummy("x")
        _lambdas.update({f.name: sp.Lambda(x, f.sympy(sp, x)) for f in RECORDS})
    return _lambdas


def _by_head() -> dict[Any, list[tuple[str, Any]]]:
    """SymPy head (`exp`, `Pow`, `log`, ...) -> the records whose body has it, largest first
    (so `log(1 + exp(u))` is softplus before it is log)."""
    if not _heads:
        import sympy as sp
        for fn, lam in sorted(lambdas().items(), key=lambda kv: -sp.count_ops(kv[1].expr)):
            _heads.setdefault(lam.expr.func, []).append((fn, lam))
    return _heads


def _argument(pattern: Any, e: Any, x: Any) -> Any:
    """The u with pattern[x := u] == e, found along x's path in the pattern (None if none).
    Through a sum or product the other terms are taken off e (`1 + exp(-x)` against `1 +
    exp(-a - b)` gives `exp(-a - b)`, then `a + b`); elsewhere the heads must agree."""
    while pattern != x:
        if e.func is not pattern.func and not (pattern.is_Add or pattern.is_Mul):
            return None
        inner = [a for a in pattern.args if a.has(x)]
        if len(inner) != 1:
            return None
        others = [a for a in pattern.args if not a.has(x)]
        if pattern.is_Add:
            e = e - pattern.func(*others)
        elif pattern.is_Mul:
            e = e / pattern.func(*others)
        else:
            rest = list(e.args)
            for a in others:
                if a not in rest:
                    return None
                rest.remove(a)
            if len(rest) != 1:
                return None
            e = rest[0]
        pattern = inner[0]
    return e


def dim_symbol(d: o.Dim, dims: dict[str, Any]) -> Any:
    import sympy as sp
    d = o.find(d)
    if isinstance(d, int):
        return sp.Integer(d)
    if isinstance(d, str):
        if d not in dims:
            dims[d] = sp.Symbol(d, integer=True, positive=True)
        return dims[d]
    raise UnsupportedError("a size that could not be inferred has no SymPy form")


def elementwise(fn: str, arg: Any) -> Any:
    """`fn` (a record of model/elementwise.py) applied to a SymPy scalar, or elementwise to a
    SymPy matrix expression."""
    from sympy.matrices.expressions import MatrixExpr
    from sympy.matrices.expressions.applyfunc import ElementwiseApplyFunction
    lam = lambdas().get(fn)
    if lam is None:  # a generic function (`\\phi`): an undefined SymPy function, or its derivative
        import sympy as sp
        x = sp.Dummy("x")
        lam = sp.Lambda(x, record(fn).sympy(sp, x))
    return ElementwiseApplyFunction(lam, arg) if isinstance(arg, MatrixExpr) else lam(arg)


# ---- to SymPy ----------------------------------------------------------------------------

def to_sympy(expr: Expr, dims: dict[str, Any] | None = None) -> Any:
    """The SymPy form of an expression; `dims` (name -> Symbol) is used and filled in.

    Linear in the size of `expr`'s DAG: each node is canonicalised at its own level only
    (`doit(deep=False)`; SymPy's `*` and `+` re-canonicalise the whole subtree, quadratic in
    depth), a shared node becomes one SymPy object, and each object's hash is taken as it is
    built (bottom-up), so SymPy never hashes a deep tree recursively.

    SymPy itself recurses over depth (a product's `.shape` asks its factors'), so the
    recursion limit is raised for the call to what the depth needs; beyond `MAX_SYMPY_DEPTH`
    (where the C stack itself could overflow) the depth is refused with an UnsupportedError."""
    dims = {} if dims is None else dims
    deep = depth(expr)
    if deep > MAX_SYMPY_DEPTH:
        raise UnsupportedError(f"this expression is nested {deep} levels deep; SymPy's recursive "
                               f"algorithms hold about {MAX_SYMPY_DEPTH} (use symderiv's own forms: "
                               "Adjoints.local/expanded, symderiv.latex)")

    def one(x: Expr, args: list[tuple[Any, int]]) -> tuple[Any, int]:
        v = _to(x, [a for a, _ in args], dims, [d for _, d in args])
        hash(v)  # SymPy caches it: later hashing of a parent stops here
        return v, 1 + max((d for _, d in args), default=0)
    old = sys.getrecursionlimit()
    sys.setrecursionlimit(max(old, 1000 + FRAMES_PER_LEVEL * deep))
    try:
        return fold(expr, one)[0]
    finally:
        sys.setrecursionlimit(old)


#: SymPy's Python frames per level of nesting, at most (a `.shape` through a product, a sum
#: and an elementwise function), and the deepest expression converted (measured: 4096 levels
#: convert without overflowing an 8 MiB C stack)
FRAMES_PER_LEVEL = 12
MAX_SYMPY_DEPTH = 20_000


def depth(expr: Expr) -> int:
    """The longest path from `expr` to a leaf (iterative)."""
    return fold(expr, lambda x, args: 1 + max(args, default=0))


def _scalar(v: Any) -> Any:
    """A 1x1 matrix expression as a SymPy scalar (its trace)."""
    import sympy as sp
    from sympy.matrices.expressions import MatrixExpr
    return sp.Trace(v) if isinstance(v, MatrixExpr) else v


def _flat(op: Any, args: list[Any]) -> Any:
    """`op(*args)` with nested `op`s spliced in, and nothing else canonicalised."""
    flat = [b for a in args for b in (a.args if isinstance(a, op) else (a,))]
    return op(*flat)


def _to(x: Expr, a: list[Any], dims: dict[str, Any], depths: list[int]) -> Any:
    """`depths`: of the arguments (a Hadamard product puts the shallower factor first: SymPy
    reads a product's shape from its first factor, recursively and uncached, so a deep first
    factor makes every shape query, and so building a deep expression, quadratic)."""
    import sympy as sp
    from sympy.matrices.expressions.applyfunc import ElementwiseApplyFunction
    from sympy.matrices.expressions.diagonal import DiagMatrix, DiagonalOf
    from sympy.matrices.expressions.hadamard import HadamardPower, HadamardProduct

    def shape() -> tuple[Any, Any]:
        return dim_symbol(x.shape[0], dims), dim_symbol(x.shape[1], dims)

    scalar = x.is_scalar
    s = [_scalar(v) for v in a] if all(arg.is_scalar for arg in x.args) else a
    if isinstance(x, (o.Var, o.Bar)):
        name = x.name if isinstance(x, o.Var) else bar_name(x.name)
        return sp.Symbol(name) if scalar else sp.MatrixSymbol(name, *shape())
    if isinstance(x, o.Const):
        return sp.Rational(x.value.numerator, x.value.denominator)
    if isinstance(x, (o.Ones, o.Eye, o.Zero)):
        if scalar:
            return sp.Integer(0 if isinstance(x, o.Zero) else 1)
        if isinstance(x, o.Eye):
            return sp.Identity(shape()[0])
        return (sp.OneMatrix if isinstance(x, o.Ones) else sp.ZeroMatrix)(*shape())
    if isinstance(x, o.Add):
        return sp.Add(*s) if scalar else _flat(sp.MatAdd, a)
    if isinstance(x, (o.MatMul, o.Scale, o.Hadamard)):
        l, r = x.args
        if l.is_scalar and r.is_scalar:
            return _scalar(a[0]) * _scalar(a[1])
        if l.is_scalar or r.is_scalar:
            return _flat(sp.MatMul, [_scalar(a[0]) if l.is_scalar else a[0], _scalar(a[1]) if r.is_scalar else a[1]])
        if isinstance(x, o.Hadamard):
            return HadamardProduct(a[1], a[0]) if depths[1] < depths[0] else HadamardProduct(a[0], a[1])
        return _flat(sp.MatMul, a)
    if isinstance(x, o.Transpose):
        return s[0] if scalar else sp.Transpose(a[0])
    if isinstance(x, o.Apply):
        return elementwise(x.fn, s[0])
    if isinstance(x, o.Pow):
        k = sp.Rational(x.k.numerator, x.k.denominator)
        return s[0] ** k if scalar else HadamardPower(a[0], k)
    if isinstance(x, o.Inverse):
        return 1 / s[0] if scalar else sp.Inverse(a[0])
    if isinstance(x, (o.Det, o.Trace, o.Diag, o.DiagPart)) and x.args[0].is_scalar:
        return s[0]
    if isinstance(x, o.Det):
        return sp.Determinant(a[0])
    if isinstance(x, o.Trace):
        return sp.Trace(a[0])
    if isinstance(x, o.Diag):
        return DiagMatrix(a[0])
    if isinstance(x, o.DiagPart):
        return DiagonalOf(a[0])
    arg = x.args[0]
    rows, cols = dim_symbol(arg.shape[0], dims), dim_symbol(arg.shape[1], dims)
    if isinstance(x, o.Sum):
        if arg.is_scalar:
            return s[0]
        m = a[0] if o.find(arg.shape[0]) == 1 else sp.OneMatrix(1, rows) * a[0]
        return _scalar(m if o.find(arg.shape[1]) == 1 else m * sp.OneMatrix(cols, 1))
    if isinstance(x, (o.Softmax, o.LogSoftmax)):
        if x.rows or o.find(arg.shape[1]) != 1:
            raise UnsupportedError("softmax of a matrix has no SymPy form here")
        if scalar:
            return sp.Integer(1 if isinstance(x, o.Softmax) else 0)
        e = ElementwiseApplyFunction(lambdas()["exp"], a[0])
        total = sp.Trace(sp.OneMatrix(1, rows) * e)
        if isinstance(x, o.Softmax):
            return (1 / total) * e
        return a[0] - sp.log(total) * sp.OneMatrix(rows, 1)
    raise UnsupportedError(f"{type(x).__name__} has no SymPy form")


# ---- from SymPy --------------------------------------------------------------------------

Plan = tuple[list[Any], Callable[[list[Expr]], Expr]]


class _From:
    def __init__(self, model: Model) -> None:
        import sympy as sp
        self.sp = sp
        self.model = model
        self.placeholders: dict[Any, Expr] = {}

    def convert(self, expr: Any) -> Expr:
        memo: dict[Any, Expr] = {}
        plans: dict[Any, Plan] = {}
        stack: list[tuple[Any, bool]] = [(expr, False)]
        while stack:
            e, ready = stack.pop()
            if e in memo:
                continue
            if e not in plans:
                plans[e] = self.plan(e)
            children, build = plans[e]
            if not ready and children:
                stack.append((e, True))
                stack.extend((c, False) for c in children if c not in memo)
                continue
            memo[e] = build([memo[c] for c in children])
        return memo[expr]

    # -- leaves --
    def dim(self, d: Any) -> o.Dim:
        if d.is_Integer:
            return int(d)
        if d.is_Symbol:
            return str(d.name)
        raise UnsupportedError(f"the size {d} is not a name or a number")

    def name(self, name: str) -> Expr:
        if name.startswith(BAR_PREFIX) and name.endswith(BAR_SUFFIX):
            inner = name[len(BAR_PREFIX):-len(BAR_SUFFIX)]
            if inner in self.model.symbols:
                return o.Bar(inner, self.model.shape(inner))
        if name in self.model.symbols:
            return self.model.symbols[name].var()
        raise UnknownSymbolError(f"unknown symbol {name}")

    # -- one node: its children and how to build it from them --
    def plan(self, e: Any) -> Plan:
        sp = self.sp
        from sympy.matrices.expressions.applyfunc import ElementwiseApplyFunction
        from sympy.matrices.expressions.diagonal import DiagMatrix, DiagonalOf
        from sympy.matrices.expressions.hadamard import HadamardPower, HadamardProduct
        from sympy.matrices.expressions.matexpr import MatrixElement

        if e in self.placeholders:
            v = self.placeholders[e]
            return [], lambda c: v
        if isinstance(e, (sp.MatrixSymbol, sp.Symbol)):
            v = self.name(str(e.name))
            return [], lambda c: v
        if e.is_Number:
            if e.is_Rational:
                v = o.Const(Fraction(int(e.p), int(e.q)))
            elif e.is_Float:
                v = o.Const(Fraction(repr(float(e))))
            else:
                raise UnsupportedError(f"the number {e} is not supported")
            return [], lambda c: v
        if e == sp.pi:  # in the normal density's body (the Phi' record): its float value
            pi = o.Const(Fraction(repr(float(e))))
            return [], lambda c: pi
        if e == sp.E:
            return [], lambda c: o.apply("exp", o.const(1))
        if isinstance(e, (sp.Identity, sp.OneMatrix, sp.ZeroMatrix)):
            shape = (self.dim(e.shape[0]), self.dim(e.shape[1]))
            v = (o.Eye(shape[0]) if isinstance(e, sp.Identity) else
                 o.Ones(shape) if isinstance(e, sp.OneMatrix) else o.Zero(shape))
            return [], lambda c: v
        if isinstance(e, (sp.MatMul, sp.Mul, HadamardProduct)):
            fold = o.matmul if isinstance(e, sp.MatMul) else o.hadamard
            return list(e.args), lambda c: functools.reduce(fold, c)
        if isinstance(e, (sp.MatAdd, sp.Add)):
            return list(e.args), _add
        if isinstance(e, sp.Transpose):
            return [e.arg], lambda c: o.transpose(c[0])
        if isinstance(e, sp.Inverse):
            return [e.arg], _inverse
        if isinstance(e, sp.MatPow):
            return [e.base], lambda c: _matpow(c[0], e.exp)
        if isinstance(e, (sp.Trace, sp.Determinant)):
            op = o.Trace if isinstance(e, sp.Trace) else o.Det
            return [e.arg], lambda c: c[0] if c[0].is_scalar else op(c[0])
        if isinstance(e, HadamardPower):
            return [e.base], lambda c: o.power(c[0], _fraction(e.exp))
        if isinstance(e, DiagMatrix):
            return [e.args[0]], lambda c: c[0] if c[0].is_scalar else o.Diag(
                c[0] if o.find(c[0].shape[1]) == 1 else o.transpose(c[0]))
        if isinstance(e, DiagonalOf):
            return [e.arg], lambda c: c[0] if c[0].is_scalar else o.DiagPart(c[0])
        if isinstance(e, MatrixElement):
            if e.parent.shape != (1, 1):
                raise UnsupportedError(f"the matrix entry {e} is not supported")
            return [e.parent], lambda c: c[0]
        if isinstance(e, ElementwiseApplyFunction):
            return [e.expr], lambda c: self.lambda_of(e.function, c[0])
        known = self.record_plan(e)
        if known is not None:
            return known
        if e.is_Pow:
            return self.pow_plan(e)
        return self.function_plan(e)

    def record_plan(self, e: Any) -> Plan | None:
        """One of our functions, by its body: `1/(1 + exp(-u))` is sigma(u), `cosh(u)` cosh."""
        for fn, lam in _by_head().get(e.func, ()):
            x = lam.variables[0]
            u = _argument(lam.expr, e, x)
            if u is not None and lam.expr.xreplace({x: u}) == e:
                return [u], lambda c, fn=fn: o.apply(fn, c[0])  # type: ignore[misc]
        return None

    def pow_plan(self, e: Any) -> Plan:
        base, k = e.base, e.exp
        if not k.is_Rational:
            raise UnsupportedError(f"the power {e} has a symbolic exponent")
        return [base], lambda c: o.power(c[0], _fraction(k))

    def function_plan(self, e: Any) -> Plan:
        sp = self.sp
        if isinstance(e, sp.core.function.AppliedUndef) and e.func.__name__ in FUNCTIONS and len(e.args) == 1:
            return [e.args[0]], lambda c: o.apply(e.func.__name__, c[0])
        if isinstance(e, sp.core.function.AppliedUndef) and len(e.args) == 1:  # a generic function
            return [e.args[0]], lambda c: o.apply(generic_name(e.func.__name__), c[0])
        if (isinstance(e, sp.Derivative) and isinstance(e.expr, sp.core.function.AppliedUndef)
                and len(e.expr.args) == 1 and e.expr.args[0].is_Symbol and len(e.variable_count) == 1
                and e.variable_count[0][0] == e.expr.args[0]):  # phi'(u), as SymPy writes it of a symbol
            k = int(e.variable_count[0][1])
            return [e.expr.args[0]], lambda c: o.apply(generic_name(e.expr.func.__name__, k), c[0])
        raise UnsupportedError(f"{type(e).__name__} is not supported: {e}")

    def lambda_of(self, lam: Any, arg: Expr) -> Expr:
        """An elementwise function: one of ours by its body, else its body read elementwise."""
        var = lam.variables[0]
        for fn, known in lambdas().items():
            if lam.expr.xreplace({var: known.variables[0]}) == known.expr:
                return o.apply(fn, arg)
        slot = self.sp.Dummy("u")
        self.placeholders[slot] = arg
        return self.convert(lam.expr.xreplace({var: slot}))


def _fraction(k: Any) -> Fraction:
    if not k.is_Rational:
        raise UnsupportedError(f"the exponent {k} is not an exact number")
    return Fraction(int(k.p), int(k.q))


def _add(c: list[Expr]) -> Expr:
    big = next((t for t in c if not t.is_scalar), None)
    if big is not None:  # a number added to a matrix, as in a Lambda body 1 - tanh(x)**2
        c = [o.scale(t, o.Ones(big.shape)) if t.is_scalar else t for t in c]
    return o.add(*c)


def _inverse(c: list[Expr]) -> Expr:
    return o.power(c[0], Fraction(-1)) if c[0].is_scalar else o.Inverse(c[0])


def _matpow(a: Expr, k: Any) -> Expr:
    if a.is_scalar:
        return o.power(a, _fraction(k))
    if k == -1:
        return o.Inverse(a)
    if k.is_Integer and 0 < int(k) <= 16:
        return functools.reduce(o.matmul, [a] * int(k))
    raise UnsupportedError(f"the matrix power {k} is not supported")


def from_sympy(expr: Any, model: Model) -> Expr:
    """Our expression for a SymPy (matrix) expression over the model's symbols."""
    return _From(model).convert(expr)
