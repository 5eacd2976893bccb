"""A problem's premises: facts about its inputs and sizes, beside the declarations (SPEC 1).

`C^\\top = C` (symmetric), `A \\succ 0` (positive definite), `Q^\\top Q = I` (orthonormal
columns; `Q Q^\\top = I` rows), `\\mathbf{1}^\\top t = 1` / `T\\mathbf{1} = \\mathbf{1}` /
`\\mathbf{1}^\\top T = \\mathbf{1}^\\top` (entries, rows or columns summing to 1: one-hot for
a {0,1} symbol, probabilities for a real one), `m \\geq n` / `m > n` (sizes), `\\epsilon > 0`
(positive). The sampler (verify/satisfy.py) draws every instance so that each holds; a
premise it cannot satisfy is an error naming its line. The same records, unstated, are the
candidates of the `premise` diagnosis.
"""
from __future__ import annotations

from ..errors import ModelError
from ..fastdataclass import dataclass
from ..model import ops as o
from ..model.graph import Model
from ..read import tree as t
from ..spans import Span

#: kind -> how the premise reads in messages, given the symbol (and, for sizes, op and bound)
GEQ = "\\geq"
KINDS = ("symmetric", "posdef", "orthonormal-cols", "orthonormal-rows", "sum1", "rows1", "cols1",
         "size", "positive")


@dataclass(frozen=True)
class Premise:
    """One fact: `kind` about `name` (a symbol, or a dimension for `size`)."""

    kind: str
    name: str
    op: str = ""                 # size premises: > or >=, with `name` on the larger side
    bound: str | int = 0         # size premises: the other side, a dimension or an integer
    span: Span | None = None
    signed: bool = False         # sums to 1 with entries of both signs (the diagnosis's weaker reading)

    @property
    def latex(self) -> str:
        n = self.name
        return {
            "symmetric": f"{n}^\\top = {n}",
            "posdef": f"{n} \\succ 0",
            "orthonormal-cols": f"{n}^\\top {n} = I",
            "orthonormal-rows": f"{n} {n}^\\top = I",
            "sum1": f"\\mathbf{{1}}^\\top {n} = 1",
            "rows1": f"{n}\\mathbf{{1}} = \\mathbf{{1}}",
            "cols1": f"\\mathbf{{1}}^\\top {n} = \\mathbf{{1}}^\\top",
            "positive": f"{n} > 0",
            "size": f"{n} {'>' if self.op == '>' else GEQ} {self.bound}",
        }[self.kind]

    @property
    def where(self) -> str:
        return f"line {self.span.line}" if self.span is not None else "the problem"

    def holds_for(self, sizes: dict[str, int]) -> bool:
        """Size premises at a size tuple (others always can)."""
        if self.kind != "size":
            return True
        a = sizes.get(self.name, 1)
        b = self.bound if isinstance(self.bound, int) else sizes.get(self.bound, 1)
        return a > b if self.op == ">" else a >= b


def _name(node: t.Node) -> str | None:
    return node.name if isinstance(node, t.Name) else None


def _transpose_of(node: t.Node) -> str | None:
    return _name(node.arg) if isinstance(node, t.Transpose) else None


def _is_ones(node: t.Node) -> bool:
    return isinstance(node, t.Ones)


def _is_ones_row(node: t.Node) -> bool:
    return isinstance(node, t.Transpose) and isinstance(node.arg, t.Ones)


def _is_number(node: t.Node, text: str) -> bool:
    return isinstance(node, t.Number) and node.text == text


def _pair(node: t.Node) -> tuple[t.Node, t.Node] | None:
    if isinstance(node, t.Product) and len(node.factors) == 2:
        return node.factors[0], node.factors[1]
    return None


def _equality(lhs: t.Node, rhs: t.Node) -> tuple[str, str] | None:
    """(kind, name) of an equality premise, or None when it is not one."""
    for a, b in ((lhs, rhs), (rhs, lhs)):
        if _transpose_of(a) is not None and _transpose_of(a) == _name(b):
            return "symmetric", _name(b)  # type: ignore[return-value]
    pair = _pair(lhs)
    if pair is None:
        return None
    x, y = pair
    if isinstance(rhs, t.Name) and rhs.name in ("I", "\\mathbb{I}", "\\mathbf{I}"):
        if _transpose_of(x) is not None and _transpose_of(x) == _name(y):
            return "orthonormal-cols", _name(y)  # type: ignore[return-value]
        if _transpose_of(y) is not None and _transpose_of(y) == _name(x):
            return "orthonormal-rows", _name(x)  # type: ignore[return-value]
        return None
    if _is_number(rhs, "1") and _is_ones_row(x) and _name(y):
        return "sum1", _name(y)  # type: ignore[return-value]
    if _is_number(rhs, "1") and _is_ones(y) and _transpose_of(x):
        return "sum1", _transpose_of(x)  # type: ignore[return-value]
    if _is_ones(rhs) and _is_ones(y) and _name(x):
        return "rows1", _name(x)  # type: ignore[return-value]
    if _is_ones(rhs) and _is_ones(y) and _transpose_of(x):
        return "cols1", _transpose_of(x)  # type: ignore[return-value]
    if _is_ones_row(rhs) and _is_ones_row(x) and _name(y):
        return "cols1", _name(y)  # type: ignore[return-value]
    return None


def _size_side(node: t.Node, model: Model) -> str | int | None:
    if isinstance(node, t.Name) and node.name in model.dims:
        return node.name
    if isinstance(node, t.Number) and node.text.isdigit() and len(node.text) <= 3:
        return int(node.text)
    return None


def _inequality(st: t.Statement, model: Model) -> Premise | None:
    lhs, rhs = st.parts
    op = st.relation
    if op in ("succ", "succeq"):
        if _name(lhs) and _is_number(rhs, "0"):
            return Premise("posdef", _name(lhs), span=st.span)  # type: ignore[arg-type]
        raise ModelError(f"`\\{op}` is read only as `A \\{op} 0` (A positive definite)", st.span)
    if op in ("<", "<="):
        lhs, rhs, op = rhs, lhs, op.replace("<", ">")
    big, small = _size_side(lhs, model), _size_side(rhs, model)
    if big is not None and small is not None and (isinstance(big, str) or isinstance(small, str)):
        if isinstance(big, int):  # 3 >= n: n is at most 3
            raise ModelError("an upper bound on a size is not supported; only `m \\geq n` or `n \\geq 2`",
                             st.span)
        return Premise("size", big, op, small, st.span)
    if _name(lhs) and _is_number(rhs, "0"):
        return Premise("positive", _name(lhs), span=st.span)  # type: ignore[arg-type]
    raise ModelError("a premise compares two sizes (`m \\geq n`) or a symbol with 0 (`\\epsilon > 0`)",
                     st.span)


def read_premise(st: t.Statement, model: Model) -> Premise | None:
    """The premise a problem statement states, checked against the declarations; None when
    the statement is not a premise. A premise about an unknown symbol, or one that cannot
    hold for its shape, is a ModelError at its line."""
    if st.error is not None or len(st.parts) != 2:
        return None
    if st.relation == "=":
        found = _equality(*st.parts)
        if found is None:
            return None
        premise = Premise(found[0], found[1], span=st.span)
    elif st.relation in (">", ">=", "<", "<=", "succ", "succeq"):
        premise = _inequality(st, model)
        assert premise is not None
    else:
        return None
    return premise if _check(premise, model) else None


def _check(p: Premise, model: Model) -> bool:
    """False for a fact about a forward node (a claim, not a premise); raises when it cannot hold."""
    if p.kind == "size":
        return True
    sym = model.symbols.get(p.name)
    if sym is None:
        raise ModelError(f"the premise {p.latex} is about {p.name}, which is not declared", p.span)
    if sym.is_node:
        return False
    rows, cols = sym.shape
    square = o.same(rows, cols)
    if p.kind in ("symmetric", "posdef") and not square:
        raise ModelError(f"the premise {p.latex} cannot hold: {p.name} is {o.shape_str(sym.shape)}, "
                         "not square", p.span)
    if p.kind == "sum1" and o.find(cols) != 1:
        raise ModelError(f"the premise {p.latex} is about a vector, but {p.name} is "
                         f"{o.shape_str(sym.shape)} (write {p.name}\\mathbf{{1}} = \\mathbf{{1}} for rows)", p.span)
    if p.kind == "sum1" and sym.domain in ("binary", "real"):
        sym.domain = "onehot" if sym.domain == "binary" else "simplex"
    if p.kind == "positive":
        if sym.domain == "binary":
            raise ModelError(f"the premise {p.latex} cannot hold for a {{0,1}} symbol", p.span)
        sym.domain = "positive"
    return True


def implied_sizes(p: Premise, model: Model) -> list[Premise]:
    """Size premises a premise brings: orthonormal columns need at least as many rows."""
    if p.kind not in ("orthonormal-cols", "orthonormal-rows"):
        return []
    rows, cols = (o.find(d) for d in model.shape(p.name))
    big, small = (rows, cols) if p.kind == "orthonormal-cols" else (cols, rows)
    if isinstance(big, str) and isinstance(small, (str, int)) and big != small:
        return [Premise("size", big, ">=", small, p.span)]
    if isinstance(big, int) and isinstance(small, int) and big < small:
        raise ModelError(f"the premise {p.latex} cannot hold: {p.name} is {o.shape_str(model.shape(p.name))}",
                         p.span)
    if isinstance(big, int) and isinstance(small, str):
        raise ModelError(f"the premise {p.latex} bounds the size {small} by {big}, which is not supported",
                         p.span)
    return []


__all__ = ["Premise", "implied_sizes", "read_premise"]
