"""The closed set of primitive operations: symderiv's own matrix-expression tree.

Every operation (derive, evaluate, print, convert to SymPy) is a table over these types.
Nodes compare by identity: expanded adjoints share subtrees, and structural hashing of a
shared DAG costs exponential time; `key()` gives a memoised structural key when needed.
Shapes are (rows, cols) of dims: an int, a dimension name (str), or a `SizeVar` that
unification binds (the size of `\\mathbf{1}` and `I`).
"""
from __future__ import annotations

from dataclasses import fields
from fractions import Fraction

from ..errors import ShapeError
from ..fastdataclass import dataclass
from ..spans import Span
from .shapes import (  # noqa: F401  (re-exported: ops is where callers find them)
    SCALAR,
    Dim,
    Shape,
    SizeVar,
    dim_str,
    find,
    is_scalar_shape,
    same,
    shape_str,
    unify,
)

REPR_BUDGET = 300  # characters: a shared DAG's full repr grows exponentially with depth


def _bounded_repr(e: Expr) -> str:
    """`Apply(fn='tanh', a=Var(name='x', shp=('n', 1)))`, cut off after REPR_BUDGET characters."""
    out: list[str] = []
    size = 0
    stack: list[object] = [e]
    while stack and size <= REPR_BUDGET:
        item = stack.pop()
        if isinstance(item, str):
            piece = item
        elif isinstance(item, Expr):
            parts: list[object] = [f"{type(item).__name__}("]
            for i, f in enumerate(fields(item)):
                v = getattr(item, f.name)
                parts.append(f"{', ' if i else ''}{f.name}=")
                if isinstance(v, tuple) and v and all(isinstance(x, Expr) for x in v):
                    parts.append("(")
                    for j, x in enumerate(v):
                        parts.extend(([", "] if j else []) + [x])
                    parts.append(")")
                else:
                    parts.append(v if isinstance(v, Expr) else repr(v))
            parts.append(")")
            stack.extend(reversed(parts))
            continue
        else:  # pragma: no cover
            piece = repr(item)
        out.append(piece)
        size += len(piece)
    text = "".join(out)
    return text if not stack and size <= REPR_BUDGET else text[:REPR_BUDGET] + "…"


@dataclass(frozen=True, eq=False)
class Expr:
    """Base: every node knows its shape; `span` points at the text it came from, if any.
    Reprs are bounded (`_bounded_repr`), so a model or a claim never prints 37 kB."""

    def __init_subclass__(cls, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        cls.__repr__ = _bounded_repr  # type: ignore[method-assign]  # set before @dataclass: kept

    def __post_init__(self) -> None:
        # computed once, bottom-up as nodes are built: a shape is never a recursive walk
        object.__setattr__(self, "_shape", self._shape_of())

    def _shape_of(self) -> Shape:  # pragma: no cover - every subclass defines it
        raise NotImplementedError

    @property
    def shape(self) -> Shape:
        return self._shape  # type: ignore[attr-defined]

    @property
    def args(self) -> tuple[Expr, ...]:
        return ()

    @property
    def is_scalar(self) -> bool:
        return is_scalar_shape(self.shape)


@dataclass(frozen=True, eq=False)
class Var(Expr):
    """A model symbol: input, parameter, target, or forward node (its value)."""

    name: str
    shp: Shape

    def _shape_of(self) -> Shape:
        return self.shp


@dataclass(frozen=True, eq=False)
class Bar(Expr):
    """The true adjoint of a model symbol, d loss / d name."""

    name: str
    shp: Shape

    def _shape_of(self) -> Shape:
        return self.shp


@dataclass(frozen=True, eq=False)
class Const(Expr):
    """An exact scalar constant."""

    value: Fraction

    def _shape_of(self) -> Shape:
        return SCALAR


@dataclass(frozen=True, eq=False)
class Ones(Expr):
    """A matrix of ones (the ones vector when cols is 1)."""

    shp: Shape

    def _shape_of(self) -> Shape:
        return self.shp


@dataclass(frozen=True, eq=False)
class Eye(Expr):
    """The identity of size n."""

    n: Dim

    def _shape_of(self) -> Shape:
        return (self.n, self.n)


@dataclass(frozen=True, eq=False)
class Zero(Expr):
    shp: Shape

    def _shape_of(self) -> Shape:
        return self.shp


@dataclass(frozen=True, eq=False)
class Unary(Expr):
    a: Expr

    @property
    def args(self) -> tuple[Expr, ...]:
        return (self.a,)

    def _shape_of(self) -> Shape:
        return self.a.shape


@dataclass(frozen=True, eq=False)
class Binary(Expr):
    a: Expr
    b: Expr

    @property
    def args(self) -> tuple[Expr, ...]:
        return (self.a, self.b)


@dataclass(frozen=True, eq=False)
class MatMul(Binary):
    def _shape_of(self) -> Shape:
        return (self.a.shape[0], self.b.shape[1])


@dataclass(frozen=True, eq=False)
class Add(Expr):
    terms: tuple[Expr, ...]

    @property
    def args(self) -> tuple[Expr, ...]:
        return self.terms

    def _shape_of(self) -> Shape:
        return self.terms[0].shape


@dataclass(frozen=True, eq=False)
class Scale(Binary):
    """a (1x1) times b."""

    def _shape_of(self) -> Shape:
        return self.b.shape


@dataclass(frozen=True, eq=False)
class Hadamard(Binary):
    def _shape_of(self) -> Shape:
        return self.a.shape


@dataclass(frozen=True, eq=False)
class Transpose(Unary):
    def _shape_of(self) -> Shape:
        s = self.a.shape
        return (s[1], s[0])


@dataclass(frozen=True, eq=False)
class Apply(Expr):
    """An elementwise scalar function: `fn` names its record in `model/elementwise.py`."""

    fn: str
    a: Expr

    @property
    def args(self) -> tuple[Expr, ...]:
        return (self.a,)

    def _shape_of(self) -> Shape:
        return self.a.shape


@dataclass(frozen=True, eq=False)
class Pow(Expr):
    """Elementwise power by an exact constant (for a scalar, the ordinary power)."""

    a: Expr
    k: Fraction

    @property
    def args(self) -> tuple[Expr, ...]:
        return (self.a,)

    def _shape_of(self) -> Shape:
        return self.a.shape


@dataclass(frozen=True, eq=False)
class Inverse(Unary):
    """The matrix inverse."""


@dataclass(frozen=True, eq=False)
class Det(Unary):
    def _shape_of(self) -> Shape:
        return SCALAR


@dataclass(frozen=True, eq=False)
class Trace(Unary):
    def _shape_of(self) -> Shape:
        return SCALAR


@dataclass(frozen=True, eq=False)
class Sum(Unary):
    """The sum of all entries."""

    def _shape_of(self) -> Shape:
        return SCALAR


@dataclass(frozen=True, eq=False)
class Diag(Unary):
    """A column vector to the diagonal matrix."""

    def _shape_of(self) -> Shape:
        return (self.a.shape[0], self.a.shape[0])


@dataclass(frozen=True, eq=False)
class DiagPart(Unary):
    """A square matrix to the column of its diagonal."""

    def _shape_of(self) -> Shape:
        return (self.a.shape[0], 1)


@dataclass(frozen=True, eq=False)
class Softmax(Unary):
    """softmax of a column vector; of a matrix, of each column (`rows`: of each row, the
    problem's `batch: rows`)."""

    rows: bool = False


@dataclass(frozen=True, eq=False)
class LogSoftmax(Unary):
    """log-softmax of a column vector; of a matrix, as Softmax."""

    rows: bool = False


# ---- smart constructors: check shapes, fold the obvious, keep 1x1 as scalars -------------

def _fail(op: str, a: Expr, b: Expr, span: Span | None) -> ShapeError:
    return ShapeError(f"{op}: shapes {shape_str(a.shape)} and {shape_str(b.shape)} do not fit", span)


def const(v: int | Fraction) -> Const:
    return Const(Fraction(v))


def is_const(e: Expr, v: int | Fraction | None = None) -> bool:
    return isinstance(e, Const) and (v is None or e.value == v)


def matmul(a: Expr, b: Expr, span: Span | None = None) -> Expr:
    """Matrix product, where a 1x1 factor acts as a scalar."""
    if a.is_scalar and not b.is_scalar:  # a 1x1 factor is a scalar: it never fixes a size
        return scale(a, b)
    if b.is_scalar and not a.is_scalar:
        return scale(b, a)
    if not unify(a.shape[1], b.shape[0]):
        raise _fail("matrix product", a, b, span)
    if isinstance(a, Zero) or isinstance(b, Zero):
        return Zero((a.shape[0], b.shape[1]))
    if isinstance(a, Eye):
        return b
    if isinstance(b, Eye):
        return a
    if a.is_scalar and b.is_scalar:
        return scale(a, b)
    return MatMul(a, b)


def scale(s: Expr, a: Expr) -> Expr:
    if isinstance(s, Const) and isinstance(a, Const):
        return Const(s.value * a.value)
    if is_const(s, 1):
        return a
    if is_const(a, 1) and a.is_scalar:
        return s
    if is_const(s, 0) or isinstance(a, Zero) or isinstance(s, Zero):
        return Zero(a.shape)
    if isinstance(a, Scale) and isinstance(s, Const) and isinstance(a.a, Const):
        return scale(Const(s.value * a.a.value), a.b)
    if not s.is_scalar or (isinstance(a, Const) and not isinstance(s, Const)):
        s, a = a, s
    if isinstance(a, Scale) and isinstance(s, Const) and isinstance(a.a, Const):
        return scale(Const(s.value * a.a.value), a.b)
    return Scale(s, a)


def ones_like(e: Expr) -> Expr:
    return const(1) if e.is_scalar else Ones(e.shape)


def neg(a: Expr) -> Expr:
    return scale(const(-1), a)


def add(*terms: Expr, span: Span | None = None) -> Expr:
    flat: list[Expr] = []
    for t in terms:
        flat.extend(t.terms if isinstance(t, Add) else (t,))
    first = flat[0]
    for t in flat[1:]:
        if not (unify(first.shape[0], t.shape[0]) and unify(first.shape[1], t.shape[1])):
            raise _fail("sum", first, t, span)
    kept = [t for t in flat if not isinstance(t, Zero) and not is_const(t, 0)]
    consts = [t for t in kept if isinstance(t, Const)]
    if len(consts) > 1:
        kept = [t for t in kept if not isinstance(t, Const)] + [Const(sum((c.value for c in consts), Fraction(0)))]
        kept = [t for t in kept if not is_const(t, 0)]
    if not kept:
        return Zero(first.shape)
    return kept[0] if len(kept) == 1 else Add(tuple(kept))


def sub(a: Expr, b: Expr, span: Span | None = None) -> Expr:
    return add(a, neg(b), span=span)


def hadamard(a: Expr, b: Expr, span: Span | None = None) -> Expr:
    """Elementwise product; a 1x1 operand acts as a scalar."""
    if a.is_scalar or b.is_scalar:
        return scale(a, b) if a.is_scalar else scale(b, a)
    if not (unify(a.shape[0], b.shape[0]) and unify(a.shape[1], b.shape[1])):
        raise _fail("elementwise product", a, b, span)
    if isinstance(a, Ones):
        return b
    if isinstance(b, Ones):
        return a
    if isinstance(a, Zero) or isinstance(b, Zero):
        return Zero(a.shape)
    return Hadamard(a, b)


def transpose(a: Expr) -> Expr:
    if a.is_scalar:
        return a
    if isinstance(a, Transpose):
        return a.a
    if isinstance(a, (Eye,)):
        return a
    if isinstance(a, (Zero, Ones)):
        return type(a)((a.shape[1], a.shape[0]))
    if isinstance(a, Scale):
        return scale(a.a, transpose(a.b))
    return Transpose(a)


MAX_CONST_BITS = 4096  # exact constants up to ~10^1233; nested powers of 10^64 would grow without end


def _small_power(v: Fraction, k: Fraction) -> bool:
    """Whether v^k is cheap to compute exactly; `((10^{64})^{64})^{64}...` is left a power."""
    return max(v.numerator.bit_length(), v.denominator.bit_length()) * abs(k) <= MAX_CONST_BITS


def power(a: Expr, k: Fraction) -> Expr:
    if k == 1:
        return a
    if k == 0:
        return Ones(a.shape) if not a.is_scalar else const(1)
    if isinstance(a, Const) and (k.denominator == 1) and (a.value != 0 or k > 0) and _small_power(a.value, k):
        return Const(a.value ** int(k))
    if isinstance(a, Pow) and k.denominator == 1 and abs(a.k * k) <= 64:
        return power(a.a, a.k * k)  # (a^p)^q = a^{pq} for whole q only: sqrt(h^2) is |h|, not h
    return Pow(a, k)


def apply(fn: str, a: Expr) -> Expr:
    return Apply(fn, a)


def size_value(d: Dim) -> Expr:
    """A dimension used as a value (`\\frac{1}{N}`): N = 𝟏ᵀ𝟏 with 𝟏 of size N, so that every
    table (evaluate, derive, print) already knows it."""
    return Sum(Ones((d, 1)))


def size_of_value(e: Expr) -> Dim | None:
    """The dimension a `size_value` stands for, or None."""
    if isinstance(e, Sum) and isinstance(e.a, Ones) and find(e.a.shape[1]) == 1 \
            and isinstance(find(e.a.shape[0]), str):
        return find(e.a.shape[0])
    return None


def broadcast_row(v: Expr, m: Expr) -> Expr | None:
    """`M + b` with b a vector as long as a row of M (SPEC 3.1): b added to every row, the
    matrix 𝟏bᵀ; None when that is not the case."""
    rows, cols = (find(d) for d in m.shape)
    if rows == 1 or cols == 1 or isinstance(rows, SizeVar):
        return None
    vr, vc = (find(d) for d in v.shape)
    if vc == 1 and vr != 1 and same(vr, cols):
        return MatMul(Ones((rows, 1)), transpose(v))
    if vr == 1 and vc != 1 and same(vc, cols):
        return MatMul(Ones((rows, 1)), v)
    return None
