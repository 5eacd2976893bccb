"""THE vector–Jacobian table: one named function per (op, argument).

Each rule takes the node, `out` (the expression that stands for the node's value: the
model's name for it where it has one, so that sigma' reads `y ⊙ (1 - y)`), and the
cotangent `g` (same shape as the node), and returns the argument's contribution. The
docstring is the identity, the very thing students' answers are compared with.
"""
from __future__ import annotations

from collections.abc import Callable

from ..errors import UnsupportedError
from ..model import ops as o
from ..model.elementwise import RECORDS, record
from ..model.ops import Expr, ones_like

Rule = Callable[[Expr, Expr, Expr], Expr]


def matmul_left(n: Expr, out: Expr, g: Expr) -> Expr:
    """C = A B  =>  Ā = C̄ Bᵀ."""
    return o.matmul(g, o.transpose(n.b))  # type: ignore[attr-defined]


def matmul_right(n: Expr, out: Expr, g: Expr) -> Expr:
    """C = A B  =>  B̄ = Aᵀ C̄."""
    return o.matmul(o.transpose(n.a), g)  # type: ignore[attr-defined]


def add_term(n: Expr, out: Expr, g: Expr) -> Expr:
    """C = A + B  =>  Ā = C̄, B̄ = C̄."""
    return g


def scale_scalar(n: Expr, out: Expr, g: Expr) -> Expr:
    """C = s B (s scalar)  =>  s̄ = Σᵢⱼ C̄ᵢⱼ Bᵢⱼ = tr(C̄ᵀ B)."""
    b = n.b  # type: ignore[attr-defined]
    if b.is_scalar:
        return o.scale(g, b)
    if o.find(b.shape[1]) == 1:
        return o.matmul(o.transpose(g), b)
    return o.Trace(o.matmul(o.transpose(g), b))


def scale_matrix(n: Expr, out: Expr, g: Expr) -> Expr:
    """C = s B  =>  B̄ = s C̄."""
    return o.scale(n.a, g)  # type: ignore[attr-defined]


def hadamard_left(n: Expr, out: Expr, g: Expr) -> Expr:
    """C = A ⊙ B  =>  Ā = C̄ ⊙ B."""
    return o.hadamard(g, n.b)  # type: ignore[attr-defined]


def hadamard_right(n: Expr, out: Expr, g: Expr) -> Expr:
    """C = A ⊙ B  =>  B̄ = C̄ ⊙ A."""
    return o.hadamard(g, n.a)  # type: ignore[attr-defined]


def transpose_arg(n: Expr, out: Expr, g: Expr) -> Expr:
    """C = Aᵀ  =>  Ā = C̄ᵀ."""
    return o.transpose(g)


def apply_arg(n: Expr, out: Expr, g: Expr) -> Expr:
    """C = f(A) elementwise  =>  Ā = C̄ ⊙ f'(A), with f' from `DERIVATIVES`."""
    fn = n.fn  # type: ignore[attr-defined]
    rule = DERIVATIVES.get(fn)
    if rule is None:
        try:
            rule = record(fn).derivative  # a generic function's (model/elementwise.py)
        except KeyError:
            raise UnsupportedError(f"no derivative rule for {fn}") from None
    return o.hadamard(g, rule(n.a, out))  # type: ignore[attr-defined]


def pow_arg(n: Expr, out: Expr, g: Expr) -> Expr:
    """C = A^{∘k}  =>  Ā = C̄ ⊙ k A^{∘(k-1)}."""
    k = n.k  # type: ignore[attr-defined]
    return o.hadamard(g, o.scale(o.Const(k), o.power(n.a, k - 1)))  # type: ignore[attr-defined]


def inverse_arg(n: Expr, out: Expr, g: Expr) -> Expr:
    """C = A⁻¹  =>  Ā = -A⁻ᵀ C̄ A⁻ᵀ."""
    t = o.transpose(out)
    return o.neg(o.matmul(o.matmul(t, g), t))


def det_arg(n: Expr, out: Expr, g: Expr) -> Expr:
    """c = det A  =>  Ā = c̄ det(A) A⁻ᵀ."""
    return o.scale(o.scale(g, out), o.transpose(o.Inverse(n.a)))  # type: ignore[attr-defined]


def trace_arg(n: Expr, out: Expr, g: Expr) -> Expr:
    """c = tr A  =>  Ā = c̄ I."""
    return o.scale(g, o.Eye(n.a.shape[0]))  # type: ignore[attr-defined]


def sum_arg(n: Expr, out: Expr, g: Expr) -> Expr:
    """c = Σᵢⱼ Aᵢⱼ  =>  Ā = c̄ 𝟏𝟏ᵀ."""
    return o.scale(g, ones_like(n.a))  # type: ignore[attr-defined]


def diag_arg(n: Expr, out: Expr, g: Expr) -> Expr:
    """C = diag(v)  =>  v̄ = diag(C̄) (the diagonal of C̄)."""
    return o.DiagPart(g)


def diagpart_arg(n: Expr, out: Expr, g: Expr) -> Expr:
    """c = diag(A) (the diagonal)  =>  Ā = diag(c̄)."""
    return o.Diag(g)


def _spread(n: Expr, h: Expr) -> Expr:
    """Each softmax group's total of h, spread over its group: h 𝟏𝟏ᵀ by rows, 𝟏𝟏ᵀ h by columns."""
    rows, cols = h.shape
    if n.rows:  # type: ignore[attr-defined]
        return o.matmul(o.matmul(h, o.Ones((cols, 1))), o.Ones((1, cols)))
    return o.matmul(o.Ones((rows, 1)), o.matmul(o.Ones((1, rows)), h))


def _is_vector_softmax(n: Expr) -> bool:
    return o.find(n.shape[1]) == 1 and not n.rows  # type: ignore[attr-defined]


def softmax_arg(n: Expr, out: Expr, g: Expr) -> Expr:
    """p = softmax(a)  =>  ā = p ⊙ p̄ - p (pᵀ p̄); of a matrix, per row (P ⊙ (P̄ - (P ⊙ P̄)𝟏𝟏ᵀ))
    or per column."""
    if _is_vector_softmax(n):
        return o.sub(o.hadamard(out, g), o.matmul(out, o.matmul(o.transpose(out), g)))
    return o.hadamard(out, o.sub(g, _spread(n, o.hadamard(out, g))))


def logsoftmax_arg(n: Expr, out: Expr, g: Expr) -> Expr:
    """q = log softmax(a)  =>  ā = q̄ - softmax(a) (𝟏ᵀ q̄); of a matrix, per row or column."""
    p = o.Softmax(n.a, n.rows)  # type: ignore[attr-defined]
    if _is_vector_softmax(n):
        return o.sub(g, o.scale(o.Sum(g), p))
    return o.sub(g, o.hadamard(p, _spread(n, g)))


#: op type -> one rule per argument (Add: the same rule for every term).
RULES: dict[type, tuple[Rule, ...]] = {
    o.MatMul: (matmul_left, matmul_right),
    o.Add: (add_term,),
    o.Scale: (scale_scalar, scale_matrix),
    o.Hadamard: (hadamard_left, hadamard_right),
    o.Transpose: (transpose_arg,),
    o.Apply: (apply_arg,),
    o.Pow: (pow_arg,),
    o.Inverse: (inverse_arg,),
    o.Det: (det_arg,),
    o.Trace: (trace_arg,),
    o.Sum: (sum_arg,),
    o.Diag: (diag_arg,),
    o.DiagPart: (diagpart_arg,),
    o.Softmax: (softmax_arg,),
    o.LogSoftmax: (logsoftmax_arg,),
}


def rule_for(node: Expr, i: int) -> Rule:
    rules = RULES.get(type(node))
    if rules is None:
        raise UnsupportedError(f"no vector-Jacobian rule for {type(node).__name__}")
    return rules[0] if len(rules) == 1 else rules[i]


#: f'(x) from x and out = f(x), per elementwise function: the records' named derivatives
DERIVATIVES: dict[str, Callable[[Expr, Expr], Expr]] = {f.name: f.derivative for f in RECORDS}
