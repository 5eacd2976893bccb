"""Instances that satisfy the problem's premises, and inverses that exist.

How each premise is satisfied (meaning/premises.py reads them):
- `C^\\top = C`: the drawn C is replaced by (C + Cᵀ)/2 (a diagonally dominant C stays so);
- `A \\succ 0`: A = M Mᵀ/n + I/2 from the drawn M (eigenvalues ≥ 1/2);
- `Q^\\top Q = I`: Q is the orthonormal factor of the drawn Q (QR); `Q Q^\\top = I` likewise
  by rows; both need as many rows as columns (or columns as rows), a size premise;
- `\\mathbf{1}^\\top t = 1`, `T\\mathbf{1} = \\mathbf{1}`, `\\mathbf{1}^\\top T = \\mathbf{1}^\\top`:
  a {0,1} symbol gets one 1 per vector, row or column; a real one positive entries
  normalised to sum to 1;
- `\\epsilon > 0`: drawn in [0.5, 2] (the `positive` domain);
- `m \\geq n`, `m > n`: size tuples that break one are not used.

A matrix the model inverts (or takes the determinant of) that is singular at every value of
a size tuple — `X^\\top X` with fewer rows than columns, by a rank bound — makes that tuple
unusable too; and an instance whose inverted matrices are ill conditioned (condition number
above `MAX_COND`) is drawn again.
"""
from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..errors import ModelError
from ..model import ops as o
from ..model.graph import Model
from ..model.walk import fold, nodes
from .numeric import Env, evaluate

MAX_COND = 1e6
Uniform = Callable[[tuple[int, int], float, float], np.ndarray]


def satisfy(model: Model, env: Env, premises: list, uniform: Uniform) -> None:
    """Make the drawn values of `env` satisfy every value premise (module docstring)."""
    for p in premises:
        if p.kind in ("size", "positive") or p.name not in env.values:
            continue
        v = env.values[p.name]
        binary = model.symbols[p.name].domain in ("binary", "onehot")
        if p.kind == "symmetric":
            v = (v + v.T) / 2
        elif p.kind == "posdef":
            v = v @ v.T / v.shape[0] + 0.5 * np.eye(v.shape[0])
        elif p.kind == "orthonormal-cols":
            v = _orthonormal(v)
        elif p.kind == "orthonormal-rows":
            v = _orthonormal(v.T).T
        elif p.kind in ("sum1", "rows1", "cols1"):
            axis = 1 if p.kind == "rows1" else 0
            u = uniform(v.shape, 0.1, 1.0)
            if p.signed and not binary:  # only the sum is 1: entries of both signs
                u = uniform(v.shape, -1.5, 1.5)
                v = u - u.mean(axis=axis, keepdims=True) + 1.0 / v.shape[axis]
            elif binary:
                v = (u == u.max(axis=axis, keepdims=True)).astype(float)
            else:
                v = u / u.sum(axis=axis, keepdims=True)
        env.values[p.name] = v


def _orthonormal(v: np.ndarray) -> np.ndarray:
    if v.shape[0] < v.shape[1]:
        return np.full(v.shape, np.nan)  # cannot hold at these sizes (the size premise prevents it)
    q, r = np.linalg.qr(v)
    signs = np.where(np.diag(r) < 0, -1.0, 1.0)
    return q * signs


# ---- sizes ----------------------------------------------------------------------------------

def _bound(model: Model, sizes: dict[str, int]) -> Callable[[o.Expr], int]:
    """An upper bound on the rank of an expression at these sizes (0 for a zero matrix)."""
    env = Env(dict(sizes))
    memo: dict[int, int] = {}
    keep: list = []

    def small(x: o.Expr) -> int:
        r, c = env.shape(x.shape)
        return min(r, c)

    def f(x: o.Expr, args: list[int]) -> int:
        if isinstance(x, o.Var):
            sym = model.symbols.get(x.name)
            if sym is not None and sym.is_node:
                return min(small(x), rank(sym.definition))  # type: ignore[arg-type]
            return small(x)
        if isinstance(x, o.Zero) or (isinstance(x, o.Const) and x.value == 0):
            return 0
        if isinstance(x, o.Ones):
            return 1
        if isinstance(x, o.MatMul):
            return min(args)
        if isinstance(x, o.Add):
            return min(small(x), sum(args))
        if isinstance(x, o.Scale):
            return args[1] if args[0] else 0
        if isinstance(x, o.Hadamard):
            return min(small(x), args[0] * args[1])
        if isinstance(x, o.Transpose):
            return args[0]
        return small(x)

    def rank(e: o.Expr) -> int:
        return fold(e, f, memo=memo, keep=keep)
    return rank


def inverted(model: Model) -> list[tuple[str, o.Expr]]:
    """(node, matrix) for every matrix the model's definitions invert or take the det of."""
    out = []
    for node in model.nodes:
        for e in nodes(model.symbols[node].definition):  # type: ignore[arg-type]
            if isinstance(e, (o.Inverse, o.Det)) and not e.a.is_scalar:
                out.append((node, e.a))
    return out


def singular(model: Model, sizes: dict[str, int]) -> o.Expr | None:
    """A matrix the model inverts that is singular whatever the values at these sizes."""
    rank = _bound(model, sizes)
    env = Env(dict(sizes))
    for _node, m in inverted(model):
        if rank(m) < env.size(m.shape[0]):
            return m
    return None


def usable(model: Model, sizes: dict[str, int], premises: list) -> bool:
    return all(p.holds_for(sizes) for p in premises) and singular(model, sizes) is None


def well_conditioned(model: Model, env: Env, found: list[tuple[str, o.Expr]] | None = None) -> bool:
    """`found`: `inverted(model)`, when the caller has it already."""
    for _node, m in inverted(model) if found is None else found:
        v = evaluate(m, env)
        with np.errstate(all="ignore"):
            if not np.all(np.isfinite(v)) or np.linalg.cond(v) > MAX_COND:
                return False
    return True


def no_sizes(model: Model, premises: list, tried: list[dict[str, int]]) -> ModelError:
    """Why no size tuple can be used: the premise that no tuple met, or the matrix that is
    always singular at the tuples that met every premise."""
    met = [s for s in tried if all(p.holds_for(s) for p in premises)]
    if not met:
        for p in premises:
            if not any(p.holds_for(s) for s in tried):
                return ModelError(f"the premise {p.latex} cannot be satisfied by the sizes the "
                                  "sampler draws", p.span)
        lines = ", ".join(p.where for p in premises if p.kind == "size")
        return ModelError(f"the size premises ({lines}) cannot all hold together",
                          next((p.span for p in premises if p.kind == "size"), None))
    m = singular(model, met[0])
    node = next((n for n, e in inverted(model) if e is m), None)
    span = model.symbols[node].span if node else None
    shown = m.name if isinstance(m, o.Var) else "the matrix it inverts"
    return ModelError(f"{shown} (inverted in the definition of {node}) is singular at every size the premises allow: "
                      "it is never invertible (state a premise such as `m \\geq n` if a size must be "
                      "large enough)", span)


__all__ = ["MAX_COND", "inverted", "no_sizes", "satisfy", "singular", "usable", "well_conditioned"]
