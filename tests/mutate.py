"""LaTeX-level mutation of answer lines, and an independent numeric oracle to judge mutants.

This module is test support for `test_soundness.py` and `test_completeness.py`. It uses
symderiv only to *read* LaTeX (`parse_statement`, `read_document`) and to *print* it back
(`unparse`); everything that decides what a line means numerically is written here, with
numpy, from the problem's own definitions:

* `Oracle(problem_path)` reads the problem's declarations and definitions, draws a few
  random instances (distinct sizes >= 2, a different size tuple per instance; `{0,1}`
  labels take both values across the instances), runs the forward pass with its own
  evaluator of the parse tree, and takes the true adjoint of every symbol by central
  finite differences of the loss (never from symderiv's derivation).
* `Oracle.value(part)` evaluates one `=`-part of an answer line (parse tree) at every
  instance; a Leibniz pair `\\bar{a} \\frac{\\partial a}{\\partial b}` (either order) is
  the vector-Jacobian product of a's definition w.r.t. b, again by finite differences.
  `\\mathbf{1}` and `I` get their size by trial (every size of the instance, then 1): the
  part means what its well-shaped readings agree on. It raises `Invalid` for a shape error
  and `Undecidable` for what this small evaluator does not model (readings that disagree,
  a Jacobian standing alone, a log of a negative number, ...).
* `Oracle.equal(part, target)` says whether a part equals the true adjoint of `target` at
  every instance. Genuine equality is decided this way, per mutant, so mutation kinds that
  can be harmless (transposing a scalar, swapping a scalar factor, doubling a zero) need
  no special casing: a harmless mutant is simply excluded from the soundness assertion.
* `mutants(part, shapes)` yields `(kind, tree)` for the mutation kinds listed in `KINDS`.

Sizes: in every instance each dimension letter gets its own size, drawn without replacement
from 2 .. (number of letters + 3), and the instances use different size tuples; so shapes
that differ symbolically differ numerically, and a 1x1 result is a genuine scalar.
"""
from __future__ import annotations

import dataclasses
import itertools
import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import index_oracle as ix
import numpy as np

from symderiv.read import tree as t
from symderiv.read.document import Document, read_document, read_text
from symderiv.read.parse import parse_statement
from symderiv.read.unparse import unparse

IDENTITY = ("I", "\\mathbb{I}", "\\mathbf{I}")
LOSS_ALIASES = ("\\mathcal{L}", "L", "\\ell", "l", "\\mathcal{l}", "f", "J", "E")


class Invalid(Exception):
    """The expression is not well formed (a shape error, an unknown name)."""


class Undecidable(Exception):
    """This evaluator does not model the expression; the mutant is skipped, not judged."""


# ---------------------------------------------------------------------------------------
# values: 2-D float arrays; written numbers stay Python floats until they meet an array.
# `\mathbf{1}` and `I` get their size by trial: every candidate size is tried (see
# `Oracle.value`), and the expression means what its one well-shaped reading gives.
# ---------------------------------------------------------------------------------------
def _is_scalar(v) -> bool:
    return isinstance(v, float) or (isinstance(v, np.ndarray) and v.shape == (1, 1))


def _sc(v) -> float:
    return float(v) if isinstance(v, float) else float(v[0, 0])


def add(a, b, sign: int = 1):
    b = -b if sign < 0 else b
    if isinstance(a, float) or isinstance(b, float):  # a written number broadcasts (`1 - u`)
        return a + b
    if (_is_scalar(a) and 1 in b.shape) or (_is_scalar(b) and 1 in a.shape):  # any 1x1 beside a vector
        return (_sc(a) if _is_scalar(a) else a) + (_sc(b) if _is_scalar(b) else b)
    a, b = _row_broadcast(a, b), _row_broadcast(b, a)
    if a.shape != b.shape:
        raise Invalid(f"sum of {a.shape} and {b.shape}")
    return a + b


def _row_broadcast(v, m):
    """SPEC 3.1's one broadcasting rule: a vector as long as a row of matrix m, added to every row."""
    if 1 in m.shape or 1 not in v.shape or v.size == 1 or v.size != m.shape[1]:
        return v
    return np.tile(v.reshape(1, -1), (m.shape[0], 1))


def matmul(a, b):
    """Juxtaposition: a number or a 1x1 scales, anything else is a matrix product."""
    if _is_scalar(a):
        return _sc(a) * b
    if _is_scalar(b):
        return _sc(b) * a
    if a.shape[1] != b.shape[0]:
        raise Invalid(f"product of {a.shape} and {b.shape}")
    return a @ b


def hadamard(a, b):
    """`\\odot`: equal shapes, or a number / 1x1 that acts as a scalar (SPEC: a 1x1 matrix
    acts as a scalar)."""
    if _is_scalar(a) or _is_scalar(b):
        return matmul(a, b)
    if a.shape != b.shape:
        raise Invalid(f"elementwise product of {a.shape} and {b.shape}")
    return a * b


def transpose(a):
    return a if isinstance(a, float) else a.T


def _sigma(x):
    return 0.5 * (1.0 + np.tanh(0.5 * x))


def _softmax(x, axis=0):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


ELEMENTWISE = {
    ("sigma", 0): _sigma, ("sigma", 1): lambda x: _sigma(x) * (1 - _sigma(x)),
    ("tanh", 0): np.tanh, ("tanh", 1): lambda x: 1 - np.tanh(x) ** 2,
    ("exp", 0): np.exp, ("exp", 1): np.exp,
    ("log", 0): np.log, ("log", 1): lambda x: 1.0 / x,
    ("relu", 0): lambda x: np.maximum(x, 0.0), ("relu", 1): lambda x: (x > 0).astype(float),
    ("softplus", 0): lambda x: np.logaddexp(0.0, x), ("softplus", 1): _sigma,
    ("sqrt", 0): np.sqrt, ("sqrt", 1): lambda x: 0.5 / np.sqrt(x),
}


#: generic functions (`\\phi : \\mathbb{R} \\to \\mathbb{R}`): this oracle's own concrete choices, chosen
#: independently of symderiv's (model/elementwise.py CHOICES), one per instance in turn; each
#: is (f, f', f'') in closed form
GENERIC_CHOICES = (
    (lambda x: np.exp(x / 2) - x ** 2 / 4, lambda x: np.exp(x / 2) / 2 - x / 2, lambda x: np.exp(x / 2) / 4 - 0.5),
    (lambda x: x * np.cos(x), lambda x: np.cos(x) - x * np.sin(x), lambda x: -2 * np.sin(x) - x * np.cos(x)),
    (lambda x: np.log(1 + x ** 2) + x, lambda x: 2 * x / (1 + x ** 2) + 1, lambda x: 2 * (1 - x ** 2) / (1 + x ** 2) ** 2),
)
GENERIC_LETTERS = ("phi", "psi", "Psi")
_CHOICE = [0]  # the instance being evaluated picks the concrete generic function (Oracle sets it)


def call(func: str, deriv: int, a, batch: str = "rows"):
    if func in GENERIC_LETTERS:
        if deriv >= len(GENERIC_CHOICES[0]):
            raise Undecidable(f"{func} with {deriv} primes")
        f = GENERIC_CHOICES[_CHOICE[0] % len(GENERIC_CHOICES)][deriv]
        return float(f(np.array(a))) if isinstance(a, float) else f(a)
    f = ELEMENTWISE.get((func, deriv))
    if f is not None:
        if isinstance(a, float):
            return float(f(np.array(a)))
        return f(a)
    if deriv:
        raise Undecidable(f"{func}'")
    if isinstance(a, float):
        if func in ("diag", "tr", "det", "sum"):
            return a
        raise Undecidable(func)
    if func == "diag":
        if a.shape[1] == 1:
            return np.diagflat(a)
        if a.shape[0] == a.shape[1]:
            return np.diag(a).reshape(-1, 1).copy()
        raise Invalid("diag of a non-square matrix")
    if func == "tr":
        if a.shape[0] != a.shape[1]:
            raise Invalid("trace of a non-square matrix")
        return np.array([[np.trace(a)]])
    if func == "det":
        if a.shape[0] != a.shape[1]:
            raise Invalid("det of a non-square matrix")
        return np.array([[np.linalg.det(a)]])
    if func == "sum":
        return np.array([[a.sum()]])
    if func in ("softmax", "logsoftmax"):  # a vector, or each row (batch: rows) / column of a matrix
        axis = 0 if a.shape[1] == 1 else 1 if a.shape[0] == 1 or batch != "columns" else 0
        p = _softmax(a, axis)
        return p if func == "softmax" else np.log(p)
    raise Undecidable(f"function {func}")


# ---------------------------------------------------------------------------------------
# the problem
# ---------------------------------------------------------------------------------------
@dataclass
class Decl:
    name: str
    dims: tuple  # of str | int
    domain: str = "real"  # real | binary | positive


@dataclass
class Problem:
    path: str
    doc: Document
    decls: dict[str, Decl] = field(default_factory=dict)
    defs: dict[str, t.Node] = field(default_factory=dict)  # in order
    loss: str = ""
    index_defs: dict[str, list[str]] = field(default_factory=dict)  # z_i = ...: z -> [i]
    #: premises, read here independently: (kind, name, other) with kind symmetric, posdef,
    #: rows1 (T 1 = 1), sum1 (1^T t = 1), positive, geq/gt (sizes name >= other)
    premises: list = field(default_factory=list)
    batch: str = "rows"
    named: dict[str, tuple] = field(default_factory=dict)  # CE(y, t) = ...: CE -> (params, body)

    @property
    def dims(self) -> list[str]:
        out: list[str] = []
        for d in self.decls.values():
            for x in d.dims:
                if isinstance(x, str) and x not in out:
                    out.append(x)
        return out


def read_problem(path: str | Path | Document) -> Problem:
    doc = path if isinstance(path, Document) else read_document(str(path))
    prob = Problem(doc.file if isinstance(path, Document) else str(path), doc)
    prob.batch = str((doc.front_matter or {}).get("batch", "rows"))
    for st in doc.statements:
        if st.error is not None or st.inline:
            continue
        if st.relation == "in":
            space = st.parts[0]
            for n in st.names:
                if isinstance(space, t.BinarySet):
                    dims = tuple(int(d.text) if isinstance(d, t.Number) else d.name for d in space.dims)
                    prob.decls[n.name] = Decl(n.name, dims, "binary")
                elif isinstance(space, t.RealSpace):
                    dims = tuple(int(d.text) if isinstance(d, t.Number) else d.name for d in space.dims)
                    prob.decls[n.name] = Decl(n.name, dims, "positive" if space.positive else "real")
        elif st.relation == "maps":  # \phi : \mathbb{R} \to \mathbb{R}: realised by GENERIC_CHOICES
            continue
        elif (len(st.parts) == 2 and isinstance(st.parts[0], t.Call) and st.parts[0].args
              and all(isinstance(a, t.Name) for a in st.parts[0].args)):  # CE(y, t) = -t^\top \log y
            prob.named[st.parts[0].func] = (tuple(a.name for a in st.parts[0].args), st.parts[1])
        elif st.relation != "=":
            prob.premises.append(_inequality(st))
        elif not prob.defs and _premise(st.parts) is not None:
            prob.premises.append(_premise(st.parts))
        elif len(st.parts) == 2 and _squared_lhs(st.parts[0], prob) is not None:
            name, letters = _squared_lhs(st.parts[0], prob)  # sigma^2 = ...: a name of its own
            prob.defs[name] = st.parts[1]
            if letters:  # sigma^2_j = \frac{1}{N} \sum_i ...: its entries
                prob.index_defs[name] = letters
        elif (len(st.parts) == 2 and isinstance(st.parts[0], t.Name)
              and st.parts[0].name not in prob.decls and st.parts[0].name not in prob.defs):
            m = ix._SUB.match(st.parts[0].name)
            letters = ix.letters_of(m.group(2) or m.group(3)) if m else None
            if m and letters and m.group(1) not in prob.decls and m.group(1) not in prob.defs and not any(
                    x in prob.decls or x in prob.defs for x in letters) and any(
                    isinstance(x, t.BigSum) or "_" in getattr(x, "name", "") for x in ix._nodes(st.parts[1])):
                prob.defs[m.group(1)] = st.parts[1]  # z_i = \sum_j W_{ij} x_j + b_i
                prob.index_defs[m.group(1)] = letters
            else:
                prob.defs[st.parts[0].name] = st.parts[1]
    prob.loss = list(prob.defs)[-1]
    return prob


def squared(n: t.Node) -> str | None:
    """`X^2` written as a power of a bare name: the name `X^2` it may stand for (batch norm's
    `\\sigma^2`); whether it does is the problem's business (`Oracle.squared_name`)."""
    if (isinstance(n, t.Power) and isinstance(n.base, t.Name) and isinstance(n.exponent, t.Number)
            and n.exponent.text == "2"):
        return n.base.name + "^2"
    return None


def _squared_lhs(lhs: t.Node, prob: Problem) -> tuple[str, list[str] | None] | None:
    """A definition's left side `X^2`, `X_j^2` or `X^2_j` (X not declared): (`X^2`, letters)."""
    letters = None
    if isinstance(lhs, t.Subscript):
        letters, lhs = ix.letters_of(lhs.sub), lhs.base
    name = squared(lhs)
    if name is None:
        return None
    base = lhs.base.name  # type: ignore[attr-defined]
    m = ix._SUB.match(base)
    if m and letters is None:
        base, letters = m.group(1), ix.letters_of(m.group(2) or m.group(3))
    if base in prob.decls or base + "^2" in prob.defs or base + "^2" in prob.decls:
        return None
    return base + "^2", letters


def _inequality(st: t.Statement) -> tuple:
    a, b = st.parts
    op = st.relation
    if op in ("<", "<="):
        a, b, op = b, a, op.replace("<", ">")
    if op in ("succ", "succeq"):
        return ("posdef", a.name, None)
    if isinstance(b, t.Number) and b.text == "0" and op == ">" and isinstance(a, t.Name):
        return ("positive", a.name, None)
    other = int(b.text) if isinstance(b, t.Number) else b.name
    return ("gt" if op == ">" else "geq", a.name, other)


def _premise(parts: tuple) -> tuple | None:
    """`C^T = C`, `T 1 = 1`, `1^T t = 1`."""
    if len(parts) != 2:
        return None
    a, b = parts
    if isinstance(a, t.Transpose) and isinstance(a.arg, t.Name) and isinstance(b, t.Name) and a.arg.name == b.name:
        return ("symmetric", b.name, None)
    if isinstance(a, t.Product) and len(a.factors) == 2:
        x, y = a.factors
        if isinstance(x, t.Name) and isinstance(y, t.Ones) and isinstance(b, t.Ones):
            return ("rows1", x.name, None)
        if isinstance(x, t.Transpose) and isinstance(x.arg, t.Ones) and isinstance(y, t.Name) \
                and isinstance(b, t.Number) and b.text == "1":
            return ("sum1", y.name, None)
    return None


def _sizes_hold(premises: list, sizes: dict[str, int]) -> bool:
    for kind, name, other in premises:
        if kind in ("geq", "gt"):
            a = sizes[name]
            b = other if isinstance(other, int) else sizes[other]
            if a < b or (kind == "gt" and a == b):
                return False
    return True


def _shape_of(decl: Decl, sizes: dict[str, int]) -> tuple[int, int]:
    dims = [sizes[d] if isinstance(d, str) else d for d in decl.dims]
    if not dims:
        return (1, 1)
    if len(dims) == 1:
        return (dims[0], 1)
    return (dims[0], dims[1])


@dataclass
class Instance:
    sizes: dict[str, int]
    values: dict[str, np.ndarray]
    bars: dict[str, np.ndarray] = field(default_factory=dict)
    vjp_cache: dict = field(default_factory=dict)
    choice: int = 0  # which of GENERIC_CHOICES realises the generic functions here


class Oracle:
    """Independent numeric semantics of a problem and of answer parts (see module doc)."""

    H = 1e-6
    RTOL = 1e-5

    def __init__(self, problem_path: str | Path, seed: int = 0, n_instances: int = 3) -> None:
        self.problem = read_problem(problem_path)
        self.abbreviations: set[str] = set()
        self._ix = ix.IndexEval(self)
        self.rng = np.random.default_rng(seed)
        self.instances: list[Instance] = []
        self._lazy: Iterator[int] = iter(())
        self._size_cache: dict = {}
        self._sizes: dict[str, int] | None = None
        dims = self.problem.dims
        pool = list(range(2, 4 + len(dims)))
        seen_sizes: list[tuple] = []
        binary = [d.name for d in self.problem.decls.values() if d.domain == "binary" and not d.dims]
        tries = 0
        while len(self.instances) < n_instances:
            tries += 1
            if tries > 400:
                raise RuntimeError(f"{problem_path}: could not draw {n_instances} usable instances")
            k = len(self.instances)
            perm = tuple(int(x) for x in self.rng.choice(pool, size=len(dims), replace=False))
            if perm in seen_sizes and tries < 50:
                continue
            sizes = {d: perm[i] for i, d in enumerate(dims)}
            if not _sizes_hold(self.problem.premises, sizes):
                continue
            labels = {b: float(k % 2) if k < 2 else float(self.rng.integers(0, 2)) for b in binary}
            inst = self._draw(sizes, labels, k)
            if inst is not None:
                self.instances.append(inst)
                seen_sizes.append(perm)
        self.symbols = list(self.problem.decls) + list(self.problem.defs)
        self.shapes = {name: self.instances[0].values[name].shape for name in self.symbols}

    # ---- drawing --------------------------------------------------------------------------
    def _draw(self, sizes: dict[str, int], labels: dict[str, float], choice: int = 0) -> Instance | None:
        _CHOICE[0] = choice
        values: dict[str, np.ndarray] = {}
        for d in self.problem.decls.values():
            shape = _shape_of(d, sizes)
            if d.domain == "binary" and d.dims:  # a {0,1} array
                values[d.name] = self.rng.integers(0, 2, shape).astype(float)
            elif d.domain == "binary":
                values[d.name] = np.array([[labels[d.name]]])
            elif d.domain == "positive":
                values[d.name] = self.rng.uniform(0.5, 2.0, shape)
            elif shape[0] == shape[1] and shape[0] > 1:
                # square: well conditioned, positive determinant (log det), not symmetric
                values[d.name] = self.rng.normal(0, 0.6, shape) + 1.5 * np.eye(shape[0])
            else:
                values[d.name] = self.rng.normal(0, 1.0, shape)
        for kind, name, _other in self.problem.premises:
            v = values.get(name)
            if kind == "symmetric":
                values[name] = (v + v.T) / 2
            elif kind == "posdef":
                values[name] = v @ v.T + np.eye(v.shape[0])
            elif kind == "positive":
                values[name] = np.abs(v) + 0.5
            elif kind in ("rows1", "sum1"):
                axis = 1 if kind == "rows1" else 0
                u = self.rng.uniform(0.2, 1.0, v.shape)
                if self.problem.decls[name].domain == "binary":  # one-hot
                    values[name] = (u == u.max(axis=axis, keepdims=True)).astype(float)
                else:
                    values[name] = u / u.sum(axis=axis, keepdims=True)
        try:
            self._forward(values)
        except (Invalid, Undecidable, FloatingPointError):
            return None
        if not all(np.all(np.isfinite(v)) for v in values.values()):
            return None
        if any(np.any(np.abs(v) > 1e3) for v in values.values()):
            return None
        inst = Instance(sizes, values, choice=choice)
        if not self._adjoints(inst):
            return None
        return inst

    def _forward(self, values: dict[str, np.ndarray], override: dict[str, np.ndarray] | None = None,
                 start: int = 0, sizes: dict[str, int] | None = None) -> None:
        sizes = sizes if sizes is not None else self._sizes_of(values)
        for i, (name, expr) in enumerate(self.problem.defs.items()):
            if i < start:
                continue
            if override and name in override:
                values[name] = override[name]
                continue
            if name in self.problem.index_defs:
                try:
                    v = self._ix.array(expr, self.problem.index_defs[name], None, values, None, sizes)
                except ix.Invalid as e:
                    raise Invalid(str(e)) from None
            else:
                v = self.resolve(expr, values, None, sizes)
            values[name] = np.array([[v]]) if isinstance(v, float) else np.asarray(v, dtype=float)

    def _sizes_of(self, values: dict[str, np.ndarray]) -> dict[str, int]:
        sizes: dict[str, int] = {}
        for d in self.problem.decls.values():
            shape = values[d.name].shape
            for k, dim in enumerate(d.dims):
                if isinstance(dim, str):
                    sizes[dim] = shape[k]
        return sizes

    def _loss_with(self, inst: Instance, name: str, value: np.ndarray) -> float:
        _CHOICE[0] = inst.choice
        vals = dict(inst.values)
        vals[name] = value
        start = 0
        names = list(self.problem.defs)
        if name in self.problem.defs:
            start = names.index(name) + 1
        with np.errstate(all="raise"):
            self._forward(vals, {name: value}, start, inst.sizes)
        return float(vals[self.problem.loss][0, 0])

    def _grad(self, f, x: np.ndarray, h: float) -> np.ndarray:
        g = np.zeros_like(x)
        for idx in np.ndindex(x.shape):
            xp, xm = x.copy(), x.copy()
            xp[idx] += h
            xm[idx] -= h
            g[idx] = (f(xp) - f(xm)) / (2 * h)
        return g

    def _adjoints(self, inst: Instance) -> bool:
        """Every symbol's true adjoint; False when finite differences are unstable (a kink)."""
        try:
            for name in list(self.problem.decls) + list(self.problem.defs):
                x = inst.values[name]
                f = (lambda v, n=name: self._loss_with(inst, n, v))
                g1 = self._grad(f, x, self.H)
                g2 = self._grad(f, x, 4 * self.H)
                if not np.allclose(g1, g2, rtol=1e-6, atol=1e-6 * (1 + np.abs(g1).max())):
                    return False
                inst.bars[name] = g1
        except (FloatingPointError, Invalid, Undecidable):
            return False
        return True

    # ---- evaluation -----------------------------------------------------------------------
    def define(self, name: str, part: t.Node) -> None:
        """An abbreviation row (`\\delta_1 = ...` of `--expanded` output): evaluated once per
        instance and kept as a value, so later rows that use it never evaluate it again."""
        for inst, v in zip(self.instances, self.value(part)):
            inst.values[name] = np.array([[v]]) if isinstance(v, float) else np.asarray(v, dtype=float)
        self.abbreviations.add(name)

    def canonical(self, name: str) -> str | None:
        if name in self.problem.decls or name in self.problem.defs or name in self.abbreviations:
            return name
        if name in LOSS_ALIASES and self.problem.loss in LOSS_ALIASES:
            return self.problem.loss
        return None

    def squared_name(self, n: t.Node) -> str | None:
        """The defined name `X^2` that the power `X^2` is, when X itself is not a symbol."""
        name = squared(n)
        if name is None or self.canonical(n.base.name) is not None:  # type: ignore[attr-defined]
            return None
        return self.canonical(name)

    def _lazy_count(self, n: t.Node) -> int:
        return sum(1 for m in walk(n) if isinstance(m, t.Ones) or
                   (isinstance(m, t.Name) and self.canonical(m.name) is None and m.name in IDENTITY))

    def resolve(self, n: t.Node, values: dict[str, np.ndarray], inst: Instance | None,
                sizes: dict[str, int]):
        """The value of `n`, trying every size for its `\\mathbf{1}`s and `I`s: the sizes of
        the instance's dimensions (then 1, if nothing else fits). Invalid when no reading is
        well shaped, Undecidable when two well-shaped readings disagree."""
        self._sizes = sizes
        m = self._lazy_count(n)
        if m == 0:
            self._lazy = iter(())
            return self._eval(n, values, inst)
        key = (n, tuple(sorted(sizes.items())))
        fixed = self._size_cache.get(key)
        if fixed is not None:
            self._lazy = iter(fixed)
            return self._eval(n, values, inst)
        found = []
        last: Exception | None = None
        # sizes >= 2 first: a ones vector or identity of size 1 is only the reading of last
        # resort (every dimension of an instance is >= 2, so size 1 is a degenerate reading)
        for cands in (sorted(set(sizes.values())), sorted(set(sizes.values()) | {1})):
            # fewest size-1 readings first: a ones vector of size 1 only where nothing else fits
            fewest = None
            for combo in sorted(itertools.product(cands, repeat=m), key=lambda c: c.count(1)):
                if fewest is not None and combo.count(1) > fewest:
                    break
                self._lazy = iter(combo)
                try:
                    v = self._eval(n, values, inst)
                except Invalid as e:
                    last = e
                    continue
                found.append((combo, v))
                fewest = combo.count(1)
            if found:
                break
        if not found:
            raise last if last is not None else Invalid("no well-shaped reading")
        ref = found[0][1]
        for _, v in found[1:]:
            if (np.shape(v) != np.shape(ref)) or not np.allclose(v, ref, rtol=1e-9, atol=1e-9):
                raise Undecidable("the size of a ones vector or identity is ambiguous")
        self._size_cache[key] = found[0][0]
        return ref

    def _next_size(self) -> int:
        try:
            return next(self._lazy)
        except StopIteration:
            raise Undecidable("more lazy constants than counted") from None

    def _is_indexed(self, n: t.Node) -> bool:
        """`ix.is_indexed`, once per node: asked at every node of a big tree, it is quadratic."""
        return ix.is_indexed(self, n, self.__dict__.setdefault("_indexed_memo", {}))

    def _eval(self, n: t.Node, values: dict[str, np.ndarray], inst: Instance | None):
        ev = lambda m: self._eval(m, values, inst)
        if self._is_indexed(n):  # a sum or entries with no free index: a number
            try:
                return float(self._ix.array(n, [], None, values, inst, self._sizes_of(values))[0, 0])
            except ix.Invalid as e:
                raise Invalid(str(e)) from None
        if isinstance(n, t.Number):
            return float(n.text)
        if isinstance(n, t.Name):
            name = self.canonical(n.name)
            if name is not None:
                return values[name]
            if n.name in IDENTITY:
                return np.eye(self._next_size())
            if n.name in self.problem.dims and self._sizes is not None:
                return float(self._sizes[n.name])  # a size used as a value: \frac{1}{N}
            raise Invalid(f"unknown symbol {n.name}")
        if isinstance(n, t.Bar):
            if inst is None:
                raise Invalid("adjoint inside a definition")
            name = self.canonical(n.name)
            if name is None:
                raise Invalid(f"unknown adjoint {n.name}")
            return inst.bars[name]
        if isinstance(n, t.Ones):
            return np.ones((self._next_size(), 1))
        if isinstance(n, t.Add):
            out = None
            for sign, term in n.terms:
                v = ev(term)
                if out is None:
                    out = -v if sign < 0 else v
                else:
                    out = add(out, v, sign)
            return out
        if isinstance(n, t.Product):
            factors = _flatten(n)
            if any(isinstance(f, t.Partial) for f in factors):
                return self._leibniz(factors, values, inst)
            acc = ev(n.factors[0])
            for f in n.factors[1:]:
                acc = matmul(acc, ev(f))
            return acc
        if isinstance(n, t.Hadamard):
            return hadamard(ev(n.left), ev(n.right))
        if isinstance(n, t.Frac):
            num, den = ev(n.num), ev(n.den)
            if _is_scalar(den):
                if _sc(den) == 0:
                    raise Undecidable("division by zero")
                return num / _sc(den)
            if _is_scalar(num):
                return _sc(num) / den
            den = _row_broadcast(den, num)
            if num.shape != den.shape:
                raise Invalid("elementwise division of different shapes")
            return num / den
        if isinstance(n, t.Power) and self.squared_name(n) is not None:
            return values[self.squared_name(n)]
        if isinstance(n, t.Power):
            k = self._exponent(n.exponent)
            if isinstance(n.base, t.Norm):
                a = ev(n.base.arg)
                a = np.array([[a]]) if isinstance(a, float) else a
                return np.array([[np.sum(a * a) ** (k / 2)]])
            b = ev(n.base)
            if isinstance(b, float) or b.shape == (1, 1):
                return b ** k
            if b.shape[0] == b.shape[1]:
                if k == -1:
                    return np.linalg.inv(b)
                if float(k).is_integer() and k > 0:
                    return np.linalg.matrix_power(b, int(k))
                raise Undecidable("matrix power")
            return b ** k
        if isinstance(n, t.Transpose):
            if isinstance(n.arg, t.Partial):
                raise Undecidable("transposed Jacobian")
            return transpose(ev(n.arg))
        if isinstance(n, t.Call) and n.func in self.problem.named:  # CE(y, t): the body, arguments put in
            params, body = self.problem.named[n.func]
            if len(n.args) != len(params) or n.deriv or n.power is not None:
                raise Invalid(f"{n.func} with {len(n.args)} arguments")
            return ev(_put(body, dict(zip(params, n.args))))
        if isinstance(n, t.Call) and n.func == "prod":  # the formal product bar{o} d o / d W
            return self._prod(n, values, inst)
        if isinstance(n, t.Call):
            if len(n.args) != 1:
                raise Invalid("function of several arguments")
            name = self.canonical(n.func) or self.canonical("\\" + n.func)
            if name is not None:  # `h(x)` with a declared h: a product
                return matmul(values[name], ev(n.args[0]))
            out = call(n.func, n.deriv, ev(n.args[0]), self.problem.batch)
            if n.power is not None:
                out = out ** self._exponent(n.power)
            return out
        if isinstance(n, t.Norm):
            a = ev(n.arg)
            a = np.array([[a]]) if isinstance(a, float) else a
            return np.array([[math.sqrt(float(np.sum(a * a)))]])
        if isinstance(n, t.Indicator):
            left, right = ev(n.left), ev(n.right)
            d = add(left, right, -1)
            d = np.array([[d]]) if isinstance(d, float) else d
            if n.op in ("<", "<="):
                d = -d
            return (d > 0).astype(float)
        if isinstance(n, t.Abs):  # |A| of a square matrix: its determinant
            a = ev(n.arg)
            if isinstance(a, float) or a.shape[0] != a.shape[1] or a.shape == (1, 1):
                raise Undecidable("absolute value")
            return np.array([[float(np.linalg.det(a))]])
        if isinstance(n, t.Partial):
            raise Undecidable("a Jacobian standing alone")
        raise Undecidable(type(n).__name__)

    def _exponent(self, n: t.Node) -> float:
        if isinstance(n, t.Number):
            return float(n.text)
        if isinstance(n, t.Add) and len(n.terms) == 1:  # -1, -3/2
            return n.terms[0][0] * self._exponent(n.terms[0][1])
        if isinstance(n, t.Frac) and isinstance(n.num, t.Number) and isinstance(n.den, t.Number):
            return float(n.num.text) / float(n.den.text)
        raise Undecidable("symbolic exponent")

    def _prod(self, n: t.Call, values, inst: Instance | None):
        """`\\text{prod}(\\frac{\\partial J}{\\partial o}, \\frac{\\partial o}{\\partial W})`, either order."""
        if len(n.args) != 2:
            raise Invalid("prod of one argument")
        for up, local in (n.args, n.args[::-1]):
            if isinstance(up, t.Partial) and self.canonical(up.num) == self.problem.loss:
                up = t.Bar(up.span, up.den)
            if isinstance(up, t.Bar) and isinstance(local, t.Partial) and \
                    self.canonical(local.num) != self.problem.loss:
                return self._leibniz([up, local], values, inst)
        raise Invalid("prod without an adjoint and a partial")

    def _leibniz(self, factors: list[t.Node], values, inst: Instance | None):
        """`\\bar{a} \\frac{\\partial a}{\\partial b}` in either order, times scalar factors."""
        if inst is None:
            raise Invalid("a Jacobian inside a definition")
        idx = [i for i, f in enumerate(factors) if isinstance(f, t.Partial)]
        if len(idx) != 1:
            raise Undecidable("several Jacobians in one product")
        i = idx[0]
        part = factors[i]
        assert isinstance(part, t.Partial)
        nbrs = [j for j in (i - 1, i + 1) if 0 <= j < len(factors) and isinstance(factors[j], t.Bar)]
        if len(nbrs) != 1:
            raise Undecidable("a Jacobian without exactly one adjacent adjoint")
        j = nbrs[0]
        up = self._eval(factors[j], values, inst)
        out = self.vjp(inst, part.num, part.den, up)
        for k, f in enumerate(factors):
            if k in (i, j):
                continue
            v = self._eval(f, values, inst)
            if not _is_scalar(v):
                raise Undecidable("a Leibniz pair times a non-scalar")
            out = _sc(v) * out
        return out

    def vjp(self, inst: Instance, num: str, den: str, up: np.ndarray) -> np.ndarray:
        """bar{a} d a / d b: the vector-Jacobian product of a's definition w.r.t. b, with
        the other symbols of the definition held fixed (finite differences)."""
        a, b = self.canonical(num), self.canonical(den)
        if a is None or b is None:
            raise Invalid("unknown symbol in a Jacobian")
        if a not in self.problem.defs:
            raise Undecidable("Jacobian of an input")
        if up.shape != inst.values[a].shape:
            raise Invalid("adjoint of the wrong shape for this Jacobian")
        if b not in _names(self.problem.defs[a]):
            raise Undecidable("Jacobian w.r.t. a symbol not in the definition")
        key = (a, b, up.tobytes())
        if key in inst.vjp_cache:
            return inst.vjp_cache[key]
        expr = self.problem.defs[a]
        saved = self._lazy

        def f(v: np.ndarray) -> float:
            _CHOICE[0] = inst.choice
            vals = dict(inst.values)
            vals[b] = v
            out = self.resolve(expr, vals, None, inst.sizes)
            out = np.array([[out]]) if isinstance(out, float) else out
            return float(np.sum(up * out))

        g = self._grad(f, inst.values[b], self.H)
        self._lazy = saved
        inst.vjp_cache[key] = g
        return g

    def value(self, part: t.Node) -> list:
        """The part's value at every instance (Invalid / Undecidable as documented)."""
        out = []
        with np.errstate(all="raise"):
            for inst in self.instances:
                _CHOICE[0] = inst.choice
                try:
                    v = self.resolve(part, inst.values, inst, inst.sizes)
                except FloatingPointError:
                    raise Undecidable("floating point error") from None
                out.append(v)
        return out

    def equal(self, part: t.Node, target: str, letters: list[str] | None = None) -> bool:
        """Does `part` equal the true adjoint of `target` at every instance? Raises
        Undecidable; a shape error (Invalid) means not equal. `letters`: an entrywise line's
        left-side indices (`\\bar{W}_{ij}`), in the order of target's rows and columns."""
        name = self.canonical(target)
        if name is None:
            raise Undecidable(f"unknown target {target}")
        try:
            if letters is not None:
                with np.errstate(all="raise"):
                    vals = [self._ix.array(part, letters, inst.bars[name].shape, inst.values, inst, inst.sizes,
                                           self._lhs_ranges(letters, inst.values[name].shape))
                            for inst in self.instances if not _CHOICE.__setitem__(0, inst.choice)]
            else:
                vals = self.value(part)
        except (Invalid, ix.Invalid, IndexError):
            return False
        except (FloatingPointError, ZeroDivisionError):
            raise Undecidable("floating point error") from None
        for inst, v in zip(self.instances, vals):
            truth = inst.bars[name]
            if isinstance(v, float):
                v = np.array([[v]])
            if v.shape != truth.shape:
                return False
            if not np.all(np.isfinite(v)):
                raise Undecidable("non-finite value")
            if np.max(np.abs(v - truth)) > self.RTOL * (1 + np.max(np.abs(truth))):
                return False
        return True


    @staticmethod
    def _lhs_ranges(letters: list[str], shape: tuple) -> dict[str, int]:
        if len(letters) == 1:
            return {letters[0]: shape[0] if shape[1] == 1 else shape[1]}
        return {letters[0]: shape[0], letters[1]: shape[1]}


def _flatten(n: t.Product) -> list[t.Node]:
    out: list[t.Node] = []
    for f in n.factors:
        if isinstance(f, t.Product):
            out.extend(_flatten(f))
        else:
            out.append(f)
    return out


def _names(n: t.Node) -> set[str]:
    out: set[str] = set()
    for node in walk(n):
        if squared(node):
            out.add(squared(node))
        if isinstance(node, t.Name):
            out.add(node.name)
        elif isinstance(node, t.Call):
            out.add(node.func)
            out.add("\\" + node.func)
    return out


# ---------------------------------------------------------------------------------------
# trees: walking and replacing by path
# ---------------------------------------------------------------------------------------
Path_ = tuple  # of (field, index|None)


def children(n: t.Node) -> list[tuple[tuple, t.Node]]:
    if isinstance(n, t.Add):
        return [(("terms", i), term) for i, (_, term) in enumerate(n.terms)]
    if isinstance(n, t.Product):
        return [(("factors", i), f) for i, f in enumerate(n.factors)]
    if isinstance(n, t.Hadamard):
        return [(("left", None), n.left), (("right", None), n.right)]
    if isinstance(n, t.Frac):
        return [(("num", None), n.num), (("den", None), n.den)]
    if isinstance(n, (t.Power,)):
        return [(("base", None), n.base)]
    if isinstance(n, (t.Transpose, t.Norm)):
        return [(("arg", None), n.arg)]
    if isinstance(n, t.Call):
        return [(("args", i), a) for i, a in enumerate(n.args)]
    if isinstance(n, t.Indicator):
        return [(("left", None), n.left), (("right", None), n.right)]
    if isinstance(n, t.BigSum):
        return [(("body", None), n.body)]
    if isinstance(n, t.Subscript):
        return [(("base", None), n.base)]
    return []


def walk(n: t.Node, path: Path_ = ()) -> Iterator[t.Node]:
    yield n
    for _, c in children(n):
        yield from walk(c)


def walk_paths(n: t.Node, path: Path_ = ()) -> Iterator[tuple[Path_, t.Node]]:
    yield path, n
    for step, c in children(n):
        yield from walk_paths(c, path + (step,))


def _set_child(n: t.Node, step: tuple, new: t.Node) -> t.Node:
    fld, i = step
    if fld == "terms":
        terms = list(n.terms)  # type: ignore[attr-defined]
        terms[i] = (terms[i][0], new)
        return dataclasses.replace(n, terms=tuple(terms))
    if fld in ("factors", "args"):
        items = list(getattr(n, fld))
        items[i] = new
        return dataclasses.replace(n, **{fld: tuple(items)})
    return dataclasses.replace(n, **{fld: new})


def replace_at(root: t.Node, path: Path_, new: t.Node) -> t.Node:
    if not path:
        return new
    step, rest = path[0], path[1:]
    child = dict(children(root))[step]
    return _set_child(root, step, replace_at(child, rest, new))


# ---------------------------------------------------------------------------------------
# mutations
# ---------------------------------------------------------------------------------------
KINDS = ("sign", "transpose", "swap", "drop-term", "scale", "hadamard", "bar-swap", "index-swap",
         "index-repeat", "index-drop", "sum-bounds", "sum-drop", "sum-index", "size-value", "derivative",
         "drop-factor", "step-shift")


def _put(body: t.Node, args: dict[str, t.Node]) -> t.Node:
    """A named function's body with its parameters' names replaced by the argument trees."""
    leaves = [(path, n) for path, n in walk_paths(body) if isinstance(n, t.Name) and n.name in args]
    for path, n in leaves:  # leaves only: replacing one keeps the others' paths
        body = args[n.name] if not path else replace_at(body, path, args[n.name])
    return body


def _in_leibniz(n: t.Node) -> bool:
    return isinstance(n, t.Product) and any(isinstance(f, t.Partial) for f in _flatten(n))


def _neg(n: t.Node) -> t.Node:
    return t.Add(n.span, ((-1, n),))


def _generic_call(n: t.Node) -> bool:
    """A generic function's call, possibly under diag (`\\phi'(z)`, `\\operatorname{diag}(\\phi'(z))`)."""
    if isinstance(n, t.Call) and n.func == "diag" and len(n.args) == 1:
        n = n.args[0]
    return isinstance(n, t.Call) and n.func in GENERIC_LETTERS


def mutants(part: t.Node, shapes: dict[str, tuple[int, int]]) -> Iterator[tuple[str, t.Node]]:
    """Every single mutation of `part` (see KINDS). `shapes` (symbol -> numeric shape at an
    instance with distinct sizes) picks the replacements of `bar-swap`: every other symbol
    with the same shape."""
    yield "sign", _neg(part)
    yield "scale", t.Product(part.span, (t.Number(part.span, "2"), part))
    for path, n in walk_paths(part):
        if isinstance(n, t.Add):
            for i, (sign, term) in enumerate(n.terms):
                terms = list(n.terms)
                terms[i] = (-sign, term)
                yield "sign", replace_at(part, path, dataclasses.replace(n, terms=tuple(terms)))
                if len(n.terms) >= 2:
                    rest = tuple(x for k, x in enumerate(n.terms) if k != i)
                    yield "drop-term", replace_at(part, path, dataclasses.replace(n, terms=rest))
                    terms = list(n.terms)
                    terms[i] = (sign, t.Product(term.span, (t.Number(term.span, "2"), term)))
                    yield "scale", replace_at(part, path, dataclasses.replace(n, terms=tuple(terms)))
        if isinstance(n, t.Product) and not _in_leibniz(n):
            fs = n.factors
            for i, f in enumerate(fs):
                g = f.arg if isinstance(f, t.Transpose) else t.Transpose(f.span, f)
                yield "transpose", replace_at(part, path + (("factors", i),), g)
            for i in range(len(fs) - 1):
                swapped = list(fs)
                swapped[i], swapped[i + 1] = swapped[i + 1], swapped[i]
                yield "swap", replace_at(part, path, dataclasses.replace(n, factors=tuple(swapped)))
            if len(fs) == 2:
                yield "hadamard", replace_at(part, path, t.Hadamard(n.span, fs[0], fs[1]))
        if isinstance(n, t.Hadamard):
            yield "hadamard", replace_at(part, path, t.Product(n.span, (n.left, n.right)))
            for side in ("left", "right"):
                f = getattr(n, side)
                g = f.arg if isinstance(f, t.Transpose) else t.Transpose(f.span, f)
                yield "transpose", replace_at(part, path + ((side, None),), g)
        if isinstance(n, t.Transpose) and not isinstance(n.arg, t.Partial):
            yield "transpose", replace_at(part, path, n.arg)
        if isinstance(n, t.Call) and n.func in GENERIC_LETTERS:  # phi <-> phi', phi' -> phi''
            for deriv in {0, 1, n.deriv + 1} - {n.deriv}:
                yield "derivative", replace_at(part, path, dataclasses.replace(n, deriv=deriv))
        if isinstance(n, t.Hadamard):
            for keep, drop in (("left", "right"), ("right", "left")):
                if _generic_call(getattr(n, drop)):
                    yield "drop-factor", replace_at(part, path, getattr(n, keep))
        if isinstance(n, t.Product) and len(n.factors) >= 2:
            for i, f in enumerate(n.factors):
                if _generic_call(f):
                    rest = n.factors[:i] + n.factors[i + 1:]
                    yield "drop-factor", replace_at(part, path, rest[0] if len(rest) == 1 else
                                                    dataclasses.replace(n, factors=rest))
        if isinstance(n, t.Bar) and n.name in shapes:
            own = shapes.get(n.name)
            for other, shape in shapes.items():
                if other != n.name and shape == own:
                    yield "bar-swap", replace_at(part, path, t.Bar(n.span, other))


def size_mutants(part: t.Node, dims: list[str]) -> Iterator[tuple[str, t.Node]]:
    """A size used as a value one off: `\\frac{1}{N}` -> `\\frac{1}{N - 1}` (the unbiased
    variance's slip) and `N - 1` -> `N`."""
    for path, n in walk_paths(part):
        if isinstance(n, t.Name) and n.name in dims:
            one = t.Number(n.span, "1")
            yield "size-value", replace_at(part, path, t.Add(n.span, ((1, n), (-1, one))))
        if (isinstance(n, t.Add) and len(n.terms) == 2 and isinstance(n.terms[0][1], t.Name)
                and n.terms[0][1].name in dims and isinstance(n.terms[1][1], t.Number)):
            yield "size-value", replace_at(part, path, n.terms[0][1])


def all_mutants(part: t.Node, oracle: Oracle) -> Iterator[tuple[str, t.Node]]:
    """`mutants`, sizes used as values one off, and for a part in index notation the index
    mutants (index_oracle.py)."""
    yield from mutants(part, oracle.shapes)
    yield from size_mutants(part, [d for d in oracle.problem.dims if oracle.canonical(d) is None])
    if ix.is_indexed(oracle, part):
        yield from ix.index_mutants(oracle, part, walk_paths, replace_at)
    if hasattr(oracle, "letters"):  # a family problem (family_oracle.py): shifted steps and layers
        from family_oracle import step_mutants
        yield from step_mutants(oracle, part, walk_paths, replace_at)


def dedupe(items: Iterator[tuple[str, t.Node]], original: str) -> list[tuple[str, t.Node, str]]:
    """(kind, tree, latex) with distinct LaTeX, none equal to the original's."""
    seen = {original}
    out = []
    for kind, tree in items:
        latex = unparse(tree)
        if latex in seen:
            continue
        seen.add(latex)
        out.append((kind, tree, latex))
    return out


# ---------------------------------------------------------------------------------------
# answer sheets
# ---------------------------------------------------------------------------------------
@dataclass
class AdjointLine:
    file: str
    line: int
    latex: str
    target: str
    lhs: t.Node
    parts: tuple[t.Node, ...]
    letters: list[str] | None = None  # an entrywise line's left-side indices


def adjoint_lines(path: str | Path, oracle: Oracle) -> list[AdjointLine]:
    """The adjoint claims of an answers file (main statements, not side notes)."""
    doc = read_document(str(path))
    out = []
    aliases = oracle.learn(doc) if hasattr(oracle, "learn") else []  # `\delta^{(l)} = ...` (families)
    for st in doc.statements:
        if st.error is not None or st.relation != "=" or len(st.parts) < 2 or st.side or st.span.line in aliases:
            continue
        shown = st.parts[0]
        lhs = oracle.normalize(shown) if hasattr(oracle, "normalize") else shown
        target = None
        entry = ix.lhs_entry(oracle, lhs)
        if entry is not None:
            out.append(AdjointLine(str(path), st.span.line, st.latex, entry[0], shown, st.parts[1:], entry[1]))
            continue
        if isinstance(lhs, t.Bar):
            target = oracle.canonical(lhs.name)
        elif isinstance(lhs, t.Partial) and oracle.canonical(lhs.num) == oracle.problem.loss:
            target = oracle.canonical(lhs.den)
        if target is None:
            continue
        out.append(AdjointLine(str(path), st.span.line, st.latex, target, shown, st.parts[1:]))
    return out


def lhs_latex(lhs: t.Node) -> str:
    return unparse(lhs)


def sheet(lines: list[str]) -> str:
    """An answers document: one `$$...$$` statement per line (line i+1 holds lines[i])."""
    return "\n".join(f"$${s}$$" for s in lines) + "\n"


def check_lines(problem_doc: Document, lines: list[str], name: str = "mutants.md"):
    """Check each LaTeX statement on its own line; returns {line number: [claims]}."""
    from symderiv.verify.check import check_documents

    doc = read_text(sheet(lines), name)
    report = check_documents([problem_doc, doc])
    by_line: dict[int, list] = {}
    for c in report.claims:
        if c.file == name:
            by_line.setdefault(c.line, []).append(c)
    return by_line


def check_lines_robust(problem_doc: Document, lines: list[str], name: str = "mutants.md",
                       preamble: tuple[str, ...] = ()):
    """`check_lines` that survives a symderiv crash: a batch that raises is split in halves
    until the crashing lines are found. Returns ({line: [claims]}, {line: exception}).
    `preamble`: lines put before every batch (a sheet's own names), not in the results."""
    k = len(preamble)
    results: dict[int, list] = {}
    crashes: dict[int, BaseException] = {}

    def run(lo: int, hi: int) -> None:  # lines[lo:hi], 1-based line = index + 1
        if lo >= hi:
            return
        try:
            got = check_lines(problem_doc, list(preamble) + lines[lo:hi], name)
        except Exception as e:  # noqa: BLE001 - a crash is what we are looking for
            if hi - lo == 1:
                crashes[lo + 1] = e
                return
            mid = (lo + hi) // 2
            run(lo, mid)
            run(mid, hi)
            return
        for line, claims in got.items():
            if line > k:
                results[line - k + lo] = claims

    run(0, len(lines))
    return results, crashes


__all__ = [
    "KINDS",
    "Invalid",
    "Oracle",
    "Undecidable",
    "adjoint_lines",
    "all_mutants",
    "check_lines",
    "check_lines_robust",
    "dedupe",
    "lhs_latex",
    "mutants",
    "parse_statement",
    "read_problem",
    "sheet",
    "unparse",
]
