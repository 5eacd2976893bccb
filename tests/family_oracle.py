"""The test oracle's families: a problem over steps or layers, unrolled by the oracle itself.

Independent of symderiv's `meaning/families.py` on purpose. The problem's text is unrolled by
string substitution at counts 1, 2 and 3 (`unrolled_text`: `x_1, \\dots, x_T` becomes one
declaration per step, a definition `for t = 1, \\dots, T` one definition per step, a sum over
steps its terms), and each unrolled problem gets its own `mutate.Oracle` (finite differences).

A generic answer part (`\\bar{h}_t = V^\\top \\bar{o}_t + W^\\top \\bar{a}_{t+1}`) is judged by
`FamilyOracle.equal`: the part is instantiated, as a tree, at every step of every count where
the members it names exist (`h_{t-1}` -> `h_1`, `W^{(l+1)}` -> `W^{(3)}`, `\\sum_{t=1}^{T}` -> its
terms, a count used as a value -> its number) and compared there; it is equal when it is equal
at every such step. A step index free on the right but not on the left makes the part wrong.
Names the sheet defines as adjoints (`\\delta^{(l)} = \\frac{\\partial L}{\\partial z^{(l)}}`) are
read as those adjoints at every layer; `z^l`, `W^{l+1}` (no brackets) are layer members.
"""
from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator
from pathlib import Path

from mutate import LOSS_ALIASES, Oracle, Undecidable

from symderiv.read import tree as t
from symderiv.read.document import Document, read_text

COUNTS = (1, 2, 3)

_SUB = re.compile(r"_(?:\{([^{}]*)\}|([A-Za-z0-9]))")
_SUP = re.compile(r"\^\{\(([^{}()]*)\)\}")
_RANGE = re.compile(r"\s*(?:,\s*\\;|\\quad\s*\(|\\quad\s*\\text\{for\s*\}|\\quad)\s*([a-z])\s*=\s*1\s*,"
                    r"\s*\\dots\s*,\s*([A-Z])\s*\)?\s*$")
_UNBRACKETED = re.compile(r"\^(?:\{([A-Za-z](?:[+-]\d+)?)\}|([A-Za-z]))(?![A-Za-z])")
_MEMBER = re.compile(r"^(.+?)(?:_(?:\{([^{}]*)\}|([A-Za-z0-9]))|\^\{\(([^{}()]*)\)\})$")


def affine(text: str, env: dict[str, int]) -> int | None:
    """`t-1` at t = 2 -> 1; a number -> itself; None when `text` is not a step expression of env."""
    s = text.replace(" ", "")
    if s.isdigit():
        return int(s)
    m = re.fullmatch(r"([A-Za-z])(?:([+-])(\d+))?", s)
    if not m or m.group(1) not in env:
        return None
    return env[m.group(1)] + int(m.group(3) or 0) * (-1 if m.group(2) == "-" else 1)


def _sub(v: int) -> str:
    return f"_{v}" if 0 <= v < 10 else f"_{{{v}}}"


def inst(text: str, env: dict[str, int]) -> str:
    """Steps and counts replaced by numbers: `h_{t-1}` -> `h_1`, `W^{(l+1)}` -> `W^{(3)}`."""
    def sub(m: re.Match) -> str:
        body = m.group(1) if m.group(1) is not None else m.group(2)
        v = affine(body, env) if not body.isdigit() else None
        return m.group(0) if v is None else _sub(v)

    def sup(m: re.Match) -> str:
        v = affine(m.group(1), env)
        return m.group(0) if v is None else f"^{{({v})}}"
    return _SUP.sub(sup, _SUB.sub(sub, text))


def expand_sum(rhs: str, env: dict[str, int]) -> str:
    """`\\sum_{t=a}^{b} REST` (a sum over the rest of the right side) as the sum of its terms."""
    m = re.match(r"\s*(.*?)\\sum_\{([a-z])=(\d)\}\^(?:\{([^{}]*)\}|([A-Za-z0-9]))(.*)$", rhs)
    if not m:
        return inst(rhs, env)
    pre, x, lo, hi, hi1, rest = m.groups()
    hi = hi if hi is not None else hi1
    top = int(hi) if hi.isdigit() else affine(hi, env)
    assert top is not None, hi
    terms = [f"\\left({inst(rest, {**env, x: v})}\\right)" for v in range(int(lo), top + 1)]
    return inst(pre, env) + "\\left(" + (" + ".join(terms) or "0") + "\\right)"


def family_letters(text: str) -> dict[str, str]:
    """step letter -> count letter, from the ranges a problem's definitions carry."""
    out: dict[str, str] = {}
    for line in text.splitlines():
        m = _RANGE.search(line.strip().strip("$"))
        if m:
            out[m.group(1)] = m.group(2)
    return out


def unrolled_text(text: str, count: int) -> str:
    """The problem written out at one count (every count letter takes `count`)."""
    out: list[str] = []
    fams: list[tuple[str, str]] = []
    counts = {c: count for c in family_letters(text).values()}

    def flush() -> None:
        for k in range(1, count + 1):
            out.extend(inst(d, {letter: k, **counts}) for letter, d in fams)
        fams.clear()

    for line in text.splitlines():
        if not line.startswith("$$"):
            continue
        body = line.strip().strip("$")
        for c, v in counts.items():  # a count used as a value: \frac{1}{T}
            body = re.sub(rf"(\\frac\{{[^{{}}]*\}})\{{{c}\}}", rf"\g<1>{{{v}}}", body)
        decl = re.match(r"(.+?)(_1|\^\{\(1\)\})\s*,\s*\\dots\s*,.*?\\in\s*(.+)$", body)
        if decl:
            base, mark, space = decl.groups()
            for k in range(1, count + 1):
                out.append(f"{base}{_sub(k) if mark == '_1' else f'^{{({k})}}'} \\in {space}")
            continue
        rng = _RANGE.search(body)
        if rng:
            fams.append((rng.group(1), body[:rng.start()]))
            continue
        flush()
        lhs, eq, rhs = body.partition("=")
        out.append(f"{lhs}= {expand_sum(rhs, counts)}" if eq and rhs and not re.search(r"[<>]", body) else body)
    flush()
    return "\n".join(f"$${s}$$" for s in out) + "\n"


def is_family_problem(path: str | Path) -> bool:
    return bool(family_letters(Path(path).read_text(encoding="utf-8")))


def oracle_for(path: str | Path):
    """The oracle of a problem: `FamilyOracle` over steps or layers, else `mutate.Oracle`."""
    return FamilyOracle(path) if is_family_problem(path) else Oracle(path)


# ---- trees -------------------------------------------------------------------------------------

def _map(n: t.Node, f) -> t.Node:
    """`n` with `f` applied to each direct child node (tuples of nodes and of (sign, node) too)."""
    changes = {}
    for fld in dataclasses.fields(n):
        v = getattr(n, fld.name)
        if isinstance(v, t.Node):
            changes[fld.name] = f(v)
        elif isinstance(v, tuple) and v and all(isinstance(x, t.Node) for x in v):
            changes[fld.name] = tuple(f(x) for x in v)
        elif isinstance(v, tuple) and v and all(isinstance(x, tuple) and len(x) == 2 for x in v):
            changes[fld.name] = tuple((s, f(x)) if isinstance(x, t.Node) else (s, x) for s, x in v)
    return dataclasses.replace(n, **changes) if changes else n


def _nodes(n: t.Node) -> Iterator[t.Node]:
    yield n
    seen: list[t.Node] = []
    _map(n, lambda c: seen.append(c) or c)
    for c in seen:
        yield from _nodes(c)


def _names_of(n: t.Node) -> list[str]:
    """Every symbol name a node writes (names, adjoints, both sides of a derivative)."""
    if isinstance(n, (t.Name, t.Bar)):
        return [n.name]
    if isinstance(n, t.Partial):
        return [n.num, n.den]
    if isinstance(n, (t.PartialOf, t.Derivative)):
        return [n.den if isinstance(n, t.PartialOf) else n.wrt]
    return []


class Missing(Exception):
    """A member the part names does not exist at this step (`a_{T+1}`)."""


class FamilyOracle:
    """`mutate.Oracle`'s interface for a problem with families (see the module doc)."""

    def __init__(self, problem_path: str | Path, counts: tuple[int, ...] = COUNTS, n_instances: int = 2) -> None:
        text = Path(problem_path).read_text(encoding="utf-8")
        self.letters = family_letters(text)  # t -> T
        self.counts = counts
        self.oracles = {c: Oracle(read_text(unrolled_text(text, c), f"unrolled-{c}.md"), n_instances=n_instances)
                        for c in counts}
        big = self.oracles[max(counts)]
        self.problem = dataclasses.replace(big.problem)
        self.aliases: dict[str, str] = {}  # \delta -> z: `\delta^{(l)}` is the adjoint of z^{(l)}
        self.preamble: list[str] = []  # the sheet's alias definitions, to put before its lines
        self.bases = {m.group(1) for name in big.symbols if (m := _MEMBER.match(name))}
        self.shapes = self._shapes()
        self.symbols = list(self.shapes)

    # ---- names --------------------------------------------------------------------------------
    def _env(self, v: int = 2) -> dict[str, int]:
        top = max(self.counts)
        return {**{s: v for s in self.letters}, **{c: top for c in self.letters.values()}}

    def canonical(self, name: str) -> str | None:
        """The generic name itself when it names a problem symbol at a middle step."""
        big = self.oracles[max(self.counts)]
        if name in LOSS_ALIASES:
            return big.canonical(name)
        name = self._unaliased(name)
        return name if big.canonical(inst(name, self._env())) is not None else None

    def _unaliased(self, name: str) -> str:
        name = _UNBRACKETED.sub(lambda m: f"^{{({m.group(1) or m.group(2)})}}" if affine(
            m.group(1) or m.group(2), self._env()) is not None else m.group(0), name)  # `z^l` in a derivative
        m = _MEMBER.match(name)
        if m and m.group(1) in self.aliases:
            return self.aliases[m.group(1)] + name[len(m.group(1)):]
        return name

    def _shapes(self) -> dict[str, tuple]:
        big = self.oracles[max(self.counts)]
        out = {}
        for name, shape in big.shapes.items():
            m = _MEMBER.match(name)
            if not (m and m.group(1) in self.bases):
                out[name] = shape
                continue
            for s, c in self.letters.items():
                for form in (s, f"{s}-1", f"{s}+1", c):
                    out[f"{m.group(1)}^{{({form})}}" if m.group(4) is not None else
                        f"{m.group(1)}_{form}" if len(form) == 1 else f"{m.group(1)}_{{{form}}}"] = shape
        return out

    def learn(self, doc: Document) -> list[int]:
        """Read the sheet's adjoint names (`\\delta^{(l)} = \\frac{\\partial L}{\\partial z^{(l)}}`);
        returns the lines that define them (they are definitions, not claims)."""
        lines = []
        for st in doc.statements:
            if st.error is not None or st.relation != "=" or len(st.parts) != 2:
                continue
            lhs, rhs = self._bracketed(st.parts[0]), st.parts[1]
            if isinstance(rhs, t.Partial):
                rhs = dataclasses.replace(rhs, den=self._unaliased(rhs.den))
            if isinstance(lhs, t.Name) and isinstance(rhs, t.Partial):
                a, b = _MEMBER.match(lhs.name), _MEMBER.match(rhs.den)
                if a and b and (a.group(1) in self.aliases or self.canonical(lhs.name) is None) and self.canonical(rhs.num) == self.problem.loss and \
                        lhs.name[len(a.group(1)):] == rhs.den[len(b.group(1)):]:
                    self.aliases[a.group(1)] = b.group(1)
                    if st.latex not in self.preamble:
                        self.preamble.append(st.latex)
                    lines.append(st.span.line)
        return lines

    def _bracketed(self, n: t.Node) -> t.Node:
        """`\\delta^l` -> `\\delta^{(l)}` (a name the sheet is about to define)."""
        if isinstance(n, t.Power) and isinstance(n.base, t.Name):
            text = n.exponent.name if isinstance(n.exponent, t.Name) else None
            if text and affine(text, self._env()) is not None:
                return t.Name(n.span, f"{n.base.name}^{{({text})}}")
        return n

    def normalize(self, n: t.Node) -> t.Node:
        """Layer powers as members (`z^l` -> `z^{(l)}`), and adjoint names as adjoints."""
        if isinstance(n, t.Power) and isinstance(n.base, t.Name):
            e = n.exponent
            text = e.name if isinstance(e, t.Name) else None
            if isinstance(e, t.Add) and len(e.terms) == 2 and isinstance(e.terms[0][1], t.Name) \
                    and isinstance(e.terms[1][1], t.Number):
                text = f"{e.terms[0][1].name}{'+' if e.terms[1][0] > 0 else '-'}{e.terms[1][1].text}"
            if text and affine(text, self._env()) is not None and not text.isdigit():
                return self.normalize(t.Name(n.span, f"{n.base.name}^{{({text})}}"))
        if isinstance(n, t.Power) and isinstance(n.base, t.Bar):
            e = self.normalize(t.Power(n.span, t.Name(n.span, n.base.name), n.exponent))
            if isinstance(e, (t.Name, t.Bar)):
                return t.Bar(n.span, e.name)
        if isinstance(n, t.Name):
            un = self._unaliased(n.name)
            if un != n.name:
                return t.Bar(n.span, un)
            return n
        if isinstance(n, t.Bar):
            return dataclasses.replace(n, name=self._unaliased(n.name))
        if isinstance(n, t.Partial):
            return dataclasses.replace(n, num=self._unaliased(n.num), den=self._unaliased(n.den))
        return _map(n, self.normalize)

    def free_steps(self, n: t.Node, bound: frozenset = frozenset()) -> set[str]:
        if isinstance(n, t.BigSum) and n.index in self.letters:
            return self.free_steps(n.body, bound | {n.index})
        out = {s for name in _names_of(n) for s in self.letters if s not in bound and _uses(name, s)}
        if isinstance(n, t.Name) and n.name in self.letters:
            out.add(n.name)
        kids: list[t.Node] = []
        _map(n, lambda c: kids.append(c) or c)
        for k in kids:
            out |= self.free_steps(k, bound)
        return out

    # ---- instantiation ------------------------------------------------------------------------
    def instantiate(self, n: t.Node, env: dict[str, int], orc: Oracle, in_sum: bool = False) -> t.Node:
        """The part at one step of one count; Missing when a member does not exist there."""
        def name(x: str) -> str:
            y = inst(x, env)
            m = _MEMBER.match(y)
            if m and m.group(1) not in self.bases and m.group(4) is None:
                m = _MEMBER.match(m.group(1))  # an entry of a member: `z^{(3)}_k`
            if orc.canonical(y) is None and not _entry_of(orc, y) and m and m.group(1) in self.bases:
                raise Missing(y)  # `a_{T+1}`, `W^{(2)}` at L = 1, `z^{(2)}_k` at L = 1
            return y
        if isinstance(n, t.Name):
            if n.name in env and n.name in self.letters.values():
                return t.Number(n.span, str(env[n.name]))  # a count used as a value
            if n.name in self.letters:
                raise Missing(n.name)
            return dataclasses.replace(n, name=name(n.name))
        if isinstance(n, t.Bar):
            return dataclasses.replace(n, name=name(n.name))
        if isinstance(n, t.Partial):
            return dataclasses.replace(n, num=name(n.num), den=name(n.den))
        if isinstance(n, t.PartialOf):
            return dataclasses.replace(n, num=self.instantiate(n.num, env, orc, in_sum), den=name(n.den))
        if isinstance(n, t.BigSum) and n.index in self.letters:
            lo = affine(n.lo or "1", env)
            hi = affine(n.hi, env) if n.hi else env.get(self.letters[n.index])
            if lo is None or hi is None:
                raise Undecidable(f"sum bounds {n.lo}, {n.hi}")
            terms = []
            for v in range(lo, hi + 1):
                try:
                    terms.append((1, self.instantiate(n.body, {**env, n.index: v}, orc, True)))
                except Missing:
                    raise _SumMissing() from None
            return t.Add(n.span, tuple(terms)) if terms else t.Number(n.span, "0")
        return _map(n, lambda c: self.instantiate(c, env, orc, in_sum))

    # ---- judging ------------------------------------------------------------------------------
    def equal(self, part: t.Node, target: str, letters: list[str] | None = None) -> bool:
        part = self.normalize(part)
        target = self._unaliased(target)
        steps = sorted(self.free_steps(part))
        own = [s for s in self.letters if _uses(target, s)]
        if set(steps) - set(own):
            return False  # a step free on the right side only: the line cannot hold
        seen = False
        for count, orc in self.oracles.items():
            base = {c: count for c in self.letters.values()}
            envs = [base] if not own else [{**base, own[0]: v} for v in range(1, count + 1)]
            for env in envs:
                name = inst(target, env)
                if orc.canonical(name) is None:
                    continue
                try:
                    p = self.instantiate(part, env, orc)
                except Missing:
                    continue
                except _SumMissing:
                    return False  # a sum over steps that do not exist
                seen = True
                if not orc.equal(p, name, letters):
                    return False
        if not seen:
            raise Undecidable("no step where the line's members exist")
        return True


class _SumMissing(Exception):
    pass


def _uses(name: str, letter: str) -> bool:
    """Does a member name use the step or count `letter` (`h_{t-1}`, `W^{(l)}_{ij}`)?"""
    return any(affine(b, {letter: 1}) is not None and not b.isdigit()
               for b in [m.group(1) or m.group(2) for m in _SUB.finditer(name)] + _SUP.findall(name))


def _entry_of(orc: Oracle, name: str) -> bool:
    m = re.match(r"^(.+?)_(?:\{[^{}]*\}|[A-Za-z])$", name)
    return bool(m and orc.canonical(m.group(1)) is not None)


# ---- mutants -----------------------------------------------------------------------------------
_SHIFTS = {"0": ("1",), "1": ("2", "0")}


def _shifted(body: str, letters: dict[str, str]) -> list[str]:
    s = body.replace(" ", "")
    out = []
    for x in list(letters) + list(letters.values()):
        if s == x:
            out += [f"{x}+1", f"{x}-1"] if x in letters else [f"{x}-1"]
        elif s in (f"{x}-1", f"{x}+1"):
            out += [x]
    if s.isdigit():
        out += [str(int(s) + 1)] + ([str(int(s) - 1)] if int(s) > 0 else [])
    return out


def shift_name(name: str, letters: dict[str, str]) -> list[str]:
    """Every one-step shift of one step index of a member name."""
    out = []
    for m in _SUB.finditer(name):
        body = m.group(1) if m.group(1) is not None else m.group(2)
        for new in _shifted(body, letters):
            out.append(name[:m.start()] + (f"_{new}" if len(new) == 1 else f"_{{{new}}}") + name[m.end():])
    for m in _SUP.finditer(name):
        for new in _shifted(m.group(1), letters):
            out.append(name[:m.start()] + f"^{{({new})}}" + name[m.end():])
    return out


def step_mutants(oracle: FamilyOracle, part: t.Node, walk_paths, replace_at) -> Iterator[tuple[str, t.Node]]:
    """Shift one step or layer index (`t` <-> `t+1`, `t-1`; `T` -> `T-1`; `l` <-> `l+1`; `0` <-> `1`)
    of one member the part names; move the bounds of one sum over steps."""
    for path, n in walk_paths(part):
        if isinstance(n, (t.Name, t.Bar)):
            for new in shift_name(n.name, oracle.letters):
                yield "step-shift", replace_at(part, path, dataclasses.replace(n, name=new))
        elif isinstance(n, t.Partial):
            for fld in ("num", "den"):
                for new in shift_name(getattr(n, fld), oracle.letters):
                    yield "step-shift", replace_at(part, path, dataclasses.replace(n, **{fld: new}))
        elif isinstance(n, t.BigSum) and n.index in oracle.letters:
            count = oracle.letters[n.index]
            for lo, hi in ((n.lo, f"{count}-1"), ("2", n.hi), ("0", n.hi)):
                if (lo, hi) != (n.lo, n.hi):
                    yield "sum-bounds", replace_at(part, path, dataclasses.replace(n, lo=lo, hi=hi))


__all__ = ["FamilyOracle", "expand_sum", "inst", "is_family_problem", "oracle_for", "step_mutants", "unrolled_text"]
