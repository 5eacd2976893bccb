"""The test oracle's index notation: entries, deltas, sums and Jacobian entries, by loops.

Independent of symderiv's einsum evaluation on purpose: every entry of a part is computed
by binding its free indices to values and evaluating the tree as a number (sums are Python
loops, Jacobian entries come from the oracle's finite-difference VJPs with basis
cotangents). Used by `mutate.Oracle` for index-form definitions, entrywise answer lines
and their mutants (`index_mutants`).
"""
from __future__ import annotations

import dataclasses
import itertools
import re
from collections.abc import Iterator

import numpy as np

from symderiv.read import tree as t

_SUB = re.compile(r"^(.+?)_(?:\{([^{}]*)\}|([A-Za-z0-9]))$")


def letters_of(sub: str) -> list[str] | None:
    sub = sub.strip()
    parts = [p.strip() for p in sub.split(",")] if "," in sub else list(sub.replace(" ", ""))
    return parts if parts and all(len(p) == 1 and p.isalpha() for p in parts) else None


def split(oracle, name: str) -> tuple[str, list[str]] | None:
    """(base, letters) for an entry of a known array or a Kronecker delta."""
    if oracle.canonical(name) is not None:
        return None
    iv = re.fullmatch(r"\[([A-Za-z])=([A-Za-z])\]", name)
    if iv:
        return "\\delta", [iv.group(1), iv.group(2)]
    m = _SUB.match(name)
    if not m:
        return None
    base, letters = m.group(1), letters_of(m.group(2) if m.group(2) is not None else m.group(3))
    if letters is None or any(oracle.canonical(x) or x in oracle.problem.dims for x in letters):
        return None
    if oracle.canonical(base) is not None or (base == "\\delta" and len(letters) == 2):
        return base, letters
    return None


def squared_entry(oracle, name: str) -> tuple[str, list[str]] | None:
    """`\\sigma_j` squared, when the problem defines the name `\\sigma^2`: (`\\sigma^2`, [j])."""
    m = _SUB.match(name)
    if not m or oracle.canonical(name) is not None or oracle.canonical(m.group(1)) is not None:
        return None
    letters = letters_of(m.group(2) if m.group(2) is not None else m.group(3))
    full = oracle.canonical(m.group(1) + "^2")
    return (full, letters) if full and letters else None


def _kids(n: t.Node) -> list[t.Node]:
    out = []
    for value in vars(n).values():
        items = value if isinstance(value, tuple) else (value,)
        for item in items:
            item = item[-1] if isinstance(item, tuple) else item
            if isinstance(item, t.Node):
                out.append(item)
    return out


def _nodes(n: t.Node) -> Iterator[t.Node]:
    stack = [n]
    while stack:
        x = stack.pop()
        yield x
        stack.extend(_kids(x))


def _own_index(oracle, x: t.Node) -> bool:
    """Does this node itself (not its sub-trees) write a sum, an entry or a Kronecker delta?"""
    if isinstance(x, (t.BigSum, t.Subscript, t.PartialOf)):
        return True
    if isinstance(x, t.Derivative) and split(oracle, x.wrt):
        return True
    if isinstance(x, (t.Name, t.Bar)) and split(oracle, x.name):
        return True
    return isinstance(x, t.Partial) and bool(split(oracle, x.den) or split(oracle, x.num))


def is_indexed(oracle, n: t.Node, memo: dict[int, tuple[t.Node, bool]] | None = None) -> bool:
    """Whether any node of `n` is indexed; with `memo` (id -> (node, answer)) every node is
    decided once, bottom-up, so asking at every node of a big tree stays linear."""
    if memo is None:
        return any(_own_index(oracle, x) for x in _nodes(n))
    order, stack = [], [n]
    while stack:  # post-order without recursion: children are decided before their parent
        x = stack.pop()
        hit = memo.get(id(x))
        if hit is not None and hit[0] is x:
            continue
        order.append(x)
        stack.extend(_kids(x))
    for x in reversed(order):
        if memo.get(id(x), (None,))[0] is not x:
            kids = _kids(x)
            memo[id(x)] = (x, _own_index(oracle, x) or any(memo[id(k)][1] for k in kids))
    return memo[id(n)][1]


def _entry_letters(oracle, x: t.Node) -> list[tuple[str, int | None, str]]:
    """(letter, axis, array name) for each index an entry node writes."""
    out = []
    if isinstance(x, (t.Name, t.Bar)):
        s = split(oracle, x.name)
        if s and s[0] != "\\delta":
            for k, letter in enumerate(s[1]):
                out.append((letter, k, s[0]))
        elif s:
            out.extend((letter, None, "") for letter in s[1])
    elif isinstance(x, t.Partial):
        for side in (x.num, x.den):
            s = split(oracle, side)
            if s:
                out.extend((letter, k, s[0]) for k, letter in enumerate(s[1]))
    elif isinstance(x, t.Subscript):
        out.extend((letter, k, "") for k, letter in enumerate(letters_of(x.sub) or []))
    return out


def free_letters(oracle, n: t.Node, bound: frozenset = frozenset()) -> list[str]:
    """Free indices in order of appearance (a summed index is bound inside its sum)."""
    out: list[str] = []
    if isinstance(n, t.BigSum):
        inner = free_letters(oracle, n.body, bound | {n.index})
        if n.skip and n.skip not in bound:
            inner.append(n.skip)
        return list(dict.fromkeys(inner))
    out.extend(x for x, _, _ in _entry_letters(oracle, n) if x not in bound)
    if not isinstance(n, (t.Partial,)):
        for k in _kids(n):
            out.extend(free_letters(oracle, k, bound))
    return list(dict.fromkeys(out))


class Invalid(Exception):
    pass


class IndexEval:
    """Entry-by-entry values of index expressions for one `mutate.Oracle`."""

    def __init__(self, oracle) -> None:
        self.o = oracle

    # ---- ranges -----------------------------------------------------------------------------
    def ranges(self, n: t.Node, values, inst, sizes) -> dict[str, int]:
        out: dict[str, int] = {}

        def fix(letter: str, size: int) -> None:
            if out.setdefault(letter, size) != size:
                raise Invalid(f"index {letter} has two ranges")
        for x in _nodes(n):
            if isinstance(x, t.Subscript):
                v = np.atleast_2d(self.o._eval(x.base, values, inst))
                ls = letters_of(x.sub) or []
                self._fix_array(ls, v.shape, fix)
                continue
            if isinstance(x, t.BigSum) and x.hi and x.hi in sizes and (x.lo in (None, "1")):
                fix(x.index, sizes[x.hi])
            for side in ((x.name,) if isinstance(x, (t.Name, t.Bar)) else
                         (x.num, x.den) if isinstance(x, t.Partial) else ()):
                s = split(self.o, side)
                if s and s[0] != "\\delta":
                    self._fix_array(s[1], values[self.o.canonical(s[0])].shape, fix)
        return out

    @staticmethod
    def _fix_array(ls: list[str], shape: tuple, fix) -> None:
        if len(ls) == 1:
            if shape[1] == 1:
                fix(ls[0], shape[0])
            elif shape[0] == 1:
                fix(ls[0], shape[1])
            else:
                raise Invalid("one index on a matrix")
        elif len(ls) == 2:
            if 1 in shape:
                raise Invalid("two indices on a vector")
            fix(ls[0], shape[0])
            fix(ls[1], shape[1])
        else:
            raise Invalid("too many indices")

    # ---- one number -------------------------------------------------------------------------
    def entry(self, arr, ls: list[str], bind: dict[str, int]) -> float:
        arr = np.atleast_2d(np.asarray(arr, dtype=float))
        idx = [bind[x] for x in ls]
        if len(idx) == 1:
            idx = [idx[0], 0] if arr.shape[1] == 1 else [0, idx[0]]
        if not all(0 <= i < s for i, s in zip(idx, arr.shape)):
            raise Invalid("index out of range")
        return float(arr[idx[0], idx[1]])

    def num(self, n: t.Node, values, inst, bind: dict[str, int], rng: dict[str, int]) -> float:
        o = self.o
        go = lambda m: self.num(m, values, inst, bind, rng)
        if isinstance(n, t.Number):
            return float(n.text)
        if isinstance(n, t.Name) and o.canonical(n.name) is None and n.name in o.problem.dims:
            return float(inst_sizes(o, values)[n.name])  # a size as a value: this instance's \frac{1}{N}
        if isinstance(n, (t.Name, t.Bar)):
            s = split(o, n.name)
            if s is None:
                v = o._eval(n, values, inst)
                if not (isinstance(v, float) or v.shape == (1, 1)):
                    raise Invalid("a whole array inside an index expression")
                return float(np.asarray(v).reshape(-1)[0])
            if s[0] == "\\delta":
                return float(bind[s[1][0]] == bind[s[1][1]])
            src = inst.bars if isinstance(n, t.Bar) else values
            if isinstance(n, t.Bar) and inst is None:
                raise Invalid("adjoint in a definition")
            return self.entry(src[o.canonical(s[0])], s[1], bind)
        if isinstance(n, t.Subscript):
            return self.entry(o._eval(n.base, values, inst), letters_of(n.sub) or [], bind)
        if isinstance(n, t.Add):
            return sum(s * go(x) for s, x in n.terms)
        if isinstance(n, t.Product):
            out = 1.0
            for f in n.factors:
                out *= go(f)
            return out
        if isinstance(n, t.Hadamard):
            return go(n.left) * go(n.right)
        if isinstance(n, t.Transpose) and not isinstance(n.arg, t.Partial):
            return go(n.arg)  # every value in index notation is a number: its own transpose
        if isinstance(n, t.Frac):
            return go(n.num) / go(n.den)
        if isinstance(n, t.Power) and o.squared_name(n) is not None:  # sigma^2, a name
            return float(np.asarray(values[o.squared_name(n)]).reshape(-1)[0])
        if isinstance(n, t.Power) and isinstance(n.base, t.Name) and squared_entry(o, n.base.name):
            name, ls = squared_entry(o, n.base.name)  # sigma_j^2: entry j of sigma^2
            return self.entry(values[name], ls, bind)
        if isinstance(n, t.Power):
            base, k = go(n.base), o._exponent(n.exponent)
            if base < 0 and not float(k).is_integer():
                from mutate import Undecidable
                raise Undecidable("a fractional power of a negative number")
            return base ** k
        if isinstance(n, t.Call):
            from mutate import call
            v = call(n.func, n.deriv, np.array([[go(n.args[0])]]))
            v = float(np.asarray(v).reshape(-1)[0])
            return v ** o._exponent(n.power) if n.power is not None else v
        if isinstance(n, t.BigSum):
            size = rng.get(n.index)
            if size is None:
                raise Invalid("a sum over an index of unknown range")
            lo = int(n.lo) if n.lo and n.lo.isdigit() else 1
            hi = size
            if n.hi:
                m = re.fullmatch(r"\{?([A-Za-z0-9]+)(?:-(\d))?\}?", n.hi.replace(" ", ""))
                if not m:
                    raise Invalid("bound")
                base = int(m.group(1)) if m.group(1).isdigit() else inst_sizes(o, values)[m.group(1)]
                hi = base - int(m.group(2) or 0)
            total = 0.0
            for k in range(lo - 1, hi):
                if n.skip is not None and bind[n.skip] == k:
                    continue
                total += self.num(n.body, values, inst, {**bind, n.index: k}, rng)
            return total
        if isinstance(n, t.Partial):
            return self.partial(n, values, inst, bind)
        if isinstance(n, t.Derivative) and n.form == "partial":
            n = t.PartialOf(n.span, n.arg, n.wrt)
        if isinstance(n, t.PartialOf) and isinstance(n.num, t.Call) and isinstance(n.num.args[0], t.Name):
            y = go(n.num.args[0])
            from mutate import call
            h = 1e-6
            f = lambda v: float(np.asarray(call(n.num.func, n.num.deriv, np.array([[v]]))).reshape(-1)[0])
            return (f(y + h) - f(y - h)) / (2 * h) * self.partial(t.Partial(n.span, n.num.args[0].name, n.den),
                                                                  values, inst, bind)
        raise Invalid(type(n).__name__)

    def partial(self, n: t.Partial, values, inst, bind) -> float:
        o = self.o
        if inst is None:
            raise Invalid("a derivative in a definition")
        den = split(o, n.den)
        den_name, den_ls = (den[0], den[1]) if den else (n.den, [])
        if o.canonical(n.num) == o.problem.loss:
            return self.entry(inst.bars[o.canonical(den_name)], den_ls, bind) if den_ls else \
                float(inst.bars[o.canonical(den_name)].reshape(-1)[0])
        num = split(o, n.num)
        num_name, num_ls = (num[0], num[1]) if num else (n.num, [])
        a = o.canonical(num_name)
        up = np.zeros_like(values[a])
        idx = [bind[x] for x in num_ls]
        if len(idx) == 1:
            idx = [idx[0], 0] if up.shape[1] == 1 else [0, idx[0]]
        if not idx:
            idx = [0, 0]
        up[idx[0], idx[1]] = 1.0
        g = o.vjp(inst, num_name, den_name, up)
        return self.entry(g, den_ls, bind) if den_ls else float(g.reshape(-1)[0])

    # ---- a whole part -----------------------------------------------------------------------
    def array(self, n: t.Node, letters: list[str], shape: tuple[int, int] | None, values, inst,
              sizes, fixed: dict[str, int] | None = None) -> np.ndarray:
        """The part at every value of `letters` (the left side's free indices)."""
        rng = dict(fixed or {})
        for k, v in self.ranges(n, values, inst, sizes).items():
            if rng.setdefault(k, v) != v:
                raise Invalid(f"index {k} runs over two ranges")
        have = free_letters(self.o, n)
        if set(have) - set(letters) or (set(letters) - set(have) and _has_values(self.o, n)):
            raise Invalid("free indices differ between the sides")
        if any(x not in rng for x in letters):
            raise Invalid("an index of unknown range")
        dims = [rng[x] for x in letters]
        out = np.zeros(dims)
        for combo in itertools.product(*[range(d) for d in dims]):
            out[combo] = self.num(n, values, inst, dict(zip(letters, combo)), rng)
        if shape is None:
            return out.reshape(out.shape + (1,) * (2 - out.ndim)) if out.ndim < 2 else out
        return out.reshape(shape)


def _has_values(oracle, n: t.Node) -> bool:
    return any(isinstance(x, (t.Name, t.Bar, t.Partial, t.Subscript, t.PartialOf)) and not (
        isinstance(x, t.Name) and (split(oracle, x.name) or ("", [""]))[0] == "\\delta") for x in _nodes(n))


def inst_sizes(oracle, values) -> dict[str, int]:
    return oracle._sizes_of(values)


def lhs_entry(oracle, lhs: t.Node) -> tuple[str, list[str]] | None:
    """`\\bar{z}_j`, `\\bar{W}_{ij}`, `\\frac{\\partial L}{\\partial W_{ij}}` -> (target, letters)."""
    if isinstance(lhs, t.Subscript) and isinstance(lhs.base, t.Bar) and letters_of(lhs.sub):
        name = oracle.canonical(lhs.base.name)  # (\bar{a}_t)_i, \bar{W}^{(l)}_{ij}
        return (name, letters_of(lhs.sub)) if name is not None else None
    if isinstance(lhs, t.Bar):
        s = split(oracle, lhs.name)
    elif isinstance(lhs, t.Partial) and oracle.canonical(lhs.num) == oracle.problem.loss:
        s = split(oracle, lhs.den)
    else:
        return None
    if s is None or s[0] == "\\delta":
        return None
    return oracle.canonical(s[0]), s[1]


# ---- mutants -----------------------------------------------------------------------------------

def _renamed(oracle, n: t.Node, letters: list[str]) -> t.Node:
    s = split(oracle, n.name)  # type: ignore[attr-defined]
    assert s is not None
    sub = letters[0] if len(letters) == 1 else "{" + "".join(letters) + "}"
    return dataclasses.replace(n, name=f"{s[0]}_{sub}")


def index_mutants(oracle, part: t.Node, walk_paths, replace_at) -> Iterator[tuple[str, t.Node]]:
    """Swap, repeat or drop an index of an entry; change a sum's bounds, skip or index; drop a sum."""
    used = list(dict.fromkeys(x for n in _nodes(part) for x, _, _ in _entry_letters(oracle, n)))
    for path, n in walk_paths(part):
        if isinstance(n, (t.Name, t.Bar)) and split(oracle, n.name):
            base, ls = split(oracle, n.name)  # type: ignore[misc]
            if len(ls) == 2 and ls[0] != ls[1]:
                yield "index-swap", replace_at(part, path, _renamed(oracle, n, [ls[1], ls[0]]))
            for k in range(len(ls)):
                for other in used:
                    if other != ls[k]:
                        new = list(ls)
                        new[k] = other
                        yield "index-repeat", replace_at(part, path, _renamed(oracle, n, new))
            if len(ls) == 2 and base != "\\delta":
                yield "index-drop", replace_at(part, path, _renamed(oracle, n, [ls[0]]))
        if isinstance(n, t.Subscript) and letters_of(n.sub):
            ls = letters_of(n.sub) or []
            sub = lambda new: "".join(new)
            if len(ls) == 2 and ls[0] != ls[1]:
                yield "index-swap", replace_at(part, path, dataclasses.replace(n, sub=sub([ls[1], ls[0]])))
            for k in range(len(ls)):
                for other in used:
                    if other != ls[k]:
                        new = list(ls)
                        new[k] = other
                        yield "index-repeat", replace_at(part, path, dataclasses.replace(n, sub=sub(new)))
            if len(ls) == 2:
                yield "index-drop", replace_at(part, path, dataclasses.replace(n, sub=ls[0]))
        if isinstance(n, t.BigSum):
            yield "sum-bounds", replace_at(part, path, dataclasses.replace(n, lo="2"))
            if n.hi:
                yield "sum-bounds", replace_at(part, path, dataclasses.replace(n, lo=n.lo or "1",
                                                                               hi=f"{n.hi}-1"))
            yield "sum-drop", replace_at(part, path, n.body)
            for other in used:  # the sum over the wrong index: `\\sum_k \\bar{y}_{kj}` -> `\\sum_j`
                if other != n.index and other != n.skip:
                    yield "sum-index", replace_at(part, path, dataclasses.replace(n, index=other))
            for other in used:
                if other != n.index and n.skip is None:
                    yield "sum-bounds", replace_at(part, path, dataclasses.replace(n, skip=other))
            if n.skip is not None:
                yield "sum-bounds", replace_at(part, path, dataclasses.replace(n, skip=None))
    # one index each on two entries, exchanged: (\bar{a}_t)_i (h_{t-1})_j -> (\bar{a}_t)_j (h_{t-1})_i
    singles = [(path, n) for path, n in walk_paths(part)
               if isinstance(n, t.Subscript) and len(letters_of(n.sub) or []) == 1]
    for (p1, n1), (p2, n2) in itertools.combinations(singles, 2):
        if n1.sub != n2.sub and p1[:len(p2)] != p2 and p2[:len(p1)] != p1:
            swapped = replace_at(part, p1, dataclasses.replace(n1, sub=n2.sub))
            yield "index-swap", replace_at(swapped, p2, dataclasses.replace(n2, sub=n1.sub))
