"""Families over steps and layers (SPEC 1 and 3.3): a problem stated for a generic step,
unrolled at a concrete count, and statements instantiated at concrete steps.

A family definition carries its range after it: `a_t = W h_{t-1} + U x_t + b \\quad \\text{for }
t = 1, \\dots, T` (the range arrives as the side statement after `\\quad`), `, \\; t = 1, \\dots,
T` or `(t = 1, \\dots, T)`. `x_1, \\dots, x_T \\in \\mathbb{R}^{d}` declares an input family.
The count (`T`) is a size of its own: every check runs on the model unrolled at several
counts. Instantiating is a rewrite of the parse tree: a subscript or a layer superscript
whose text is an affine expression of the step letter or the count (`h_{t-1}`, `\\bar{a}_{t+1}`,
`o_T`, `W^{(l+1)}`) becomes the member's name (`h_1`, `W^{(3)}`), and a sum over the step
letter (`\\sum_{t=1}^{T}`) becomes the sum of its members.
"""
from __future__ import annotations

import dataclasses
import re
from dataclasses import field

from ..errors import ParseError
from ..fastdataclass import dataclass
from ..read import tree as t
from ..read.parse import parse_statement

_DOTS = r"\\(?:l|c)?dots"
_FOR = r"(?:\\(?:text|mathrm|textrm)\s*\{\s*for\s*\}\s*|\\forall\s*)?"
#: `t = 1, \dots, T` (also after `\text{for}`)
RANGE = re.compile(rf"^\s*\(?\s*{_FOR}([A-Za-z])\s*=\s*1\s*,\s*{_DOTS}\s*,\s*([A-Za-z])\s*\)?\s*[.,]?\s*$")
#: a definition with its range after a comma or in parentheses, on one statement
TRAILING = re.compile(rf"^(.*?)\s*(?:,\s*(?:\\[;,:!]\s*|\\quad\s*)*|\(\s*){_FOR}([A-Za-z])\s*=\s*1\s*,\s*"
                      rf"{_DOTS}\s*,\s*([A-Za-z])\s*\)?\s*[.,]?\s*$")
#: `x_1, \dots, x_T \in ...` and `W^{(1)}, \dots, W^{(L)} \in ...`
DECL_SUB = re.compile(rf"^\s*(\\?[A-Za-z]+)_\{{?1\}}?\s*,\s*{_DOTS}\s*,\s*\1_\{{?([A-Za-z])\}}?\s*\\in\s*(.+)$", re.DOTALL)
DECL_SUP = re.compile(rf"^\s*(\\?[A-Za-z]+)\^\{{\s*([(\[])1[)\]]\s*\}}\s*,\s*{_DOTS}\s*,\s*\1\^\{{\s*[(\[]"
                      rf"([A-Za-z])[)\]]\s*\}}\s*\\in\s*(.+)$", re.DOTALL)
#: a subscript or layer superscript at the end of a name
_AFFINE = re.compile(r"^([A-Za-z])(?:([+-])(\d+))?$")
_TAIL_SUB = re.compile(r"_(\{([^{}]*)\}|([A-Za-z0-9]))$")
_LAYER = re.compile(r"\^\{([(\[])([^{}()\[\]]*)([)\]])\}")
#: a layer index the reader folded into a derivative's variable without brackets (`z^{l}`)
_BARE_LAYER = re.compile(r"\^\{([A-Za-z](?:[+-][0-9]+)?)\}")


@dataclass
class Family:
    """One definition over a range: the statement and its step letter and count letter."""

    statement: t.Statement
    letter: str
    count: str


@dataclass
class FamilyProblem:
    """A problem with families: plain statements and families, in written order."""

    items: list = field(default_factory=list)  # t.Statement | Family | ("decl", base, sup, count, space, st)
    counts: list[str] = field(default_factory=list)
    letters: dict[str, str] = field(default_factory=dict)  # step letter -> its count

    def add_count(self, count: str) -> None:
        if count not in self.counts:
            self.counts.append(count)


def _reparse(text: str, st: t.Statement) -> t.Statement:
    return parse_statement(text, st.span.file, st.span.line, st.span.col)


def read_families(statements: tuple[t.Statement, ...]) -> FamilyProblem | None:
    """The problem's families, or None when it states none."""
    out = FamilyProblem()
    found = False
    for st in statements:
        m = RANGE.match(st.latex) if st.side else None
        if m and out.items and isinstance(out.items[-1], t.Statement) and out.items[-1].error is None:
            prev = out.items.pop()
            out.items.append(Family(prev, m.group(1), m.group(2)))
            out.letters[m.group(1)] = m.group(2)
            out.add_count(m.group(2))
            found = True
            continue
        if st.error is not None:
            m = TRAILING.match(st.latex)
            if m:
                inner = _reparse(m.group(1), st)
                if inner.error is None:
                    out.items.append(Family(inner, m.group(2), m.group(3)))
                    out.letters[m.group(2)] = m.group(3)
                    out.add_count(m.group(3))
                    found = True
                    continue
            d = DECL_SUB.match(st.latex)
            e = DECL_SUP.match(st.latex)
            if d or e:
                base, count, space = (d.group(1), d.group(2), d.group(3)) if d else (e.group(1), e.group(3),
                                                                                  e.group(4))
                sup = None if d else e.group(2)  # type: ignore[union-attr]
                parsed = _reparse(f"{base} \\in {space}", st)
                if parsed.error is None:
                    out.items.append(("decl", base, sup, count, parsed.parts[0], st))
                    out.add_count(count)
                    found = True
                    continue
        out.items.append(st)
    return out if found else None


# ---- instantiation ---------------------------------------------------------------------------

def _value(text: str, env: dict[str, int]) -> int | None:
    m = _AFFINE.match(text.replace(" ", ""))
    if not m or m.group(1) not in env:
        return None
    off = int(m.group(3) or 0) * (-1 if m.group(2) == "-" else 1)
    return env[m.group(1)] + off


def _sub(v: int) -> str:
    return f"_{v}" if 0 <= v <= 9 else f"_{{{v}}}"


def rename(name: str, env: dict[str, int]) -> str:
    """`h_{t-1}` -> `h_1` at t = 2; `W^{(l+1)}` -> `W^{(3)}`; other names unchanged."""
    def layer(m: re.Match) -> str:
        v = _value(m.group(2), env)
        return m.group(0) if v is None else f"^{{{m.group(1)}{v}{m.group(3)}}}"
    out = _LAYER.sub(layer, name)
    m = _TAIL_SUB.search(out)
    if m:
        v = _value(m.group(2) if m.group(2) is not None else m.group(3), env)
        if v is not None:
            out = out[:m.start()] + _sub(v)
    return out


def mentions(name: str, letters: set[str]) -> set[str]:
    """Which of `letters` a name's step subscript or layer superscript uses."""
    found: set[str] = set()
    for m in _LAYER.finditer(name):
        a = _AFFINE.match(m.group(2).replace(" ", ""))
        if a and a.group(1) in letters:
            found.add(a.group(1))
    m = _TAIL_SUB.search(name)
    if m:
        a = _AFFINE.match((m.group(2) if m.group(2) is not None else m.group(3)).replace(" ", ""))
        if a and a.group(1) in letters:
            found.add(a.group(1))
    return found


def _names(n: t.Node) -> list[str]:
    if isinstance(n, (t.Name, t.Bar)):
        return [n.name]
    if isinstance(n, t.Partial):
        return [n.num, n.den]
    if isinstance(n, t.PartialOf):
        return [n.den]
    return []


def layer_letters(fp: FamilyProblem) -> set[str]:
    """The layer letters (`l`) and their counts (`L`): those whose members are superscripts."""
    out: set[str] = set()
    for item in fp.items:
        if isinstance(item, Family):
            lhs = item.statement.parts[0] if item.statement.parts else None
            if isinstance(lhs, t.Name) and _LAYER.search(lhs.name):
                out |= {item.letter, item.count}
        elif isinstance(item, tuple) and item[2] is not None:
            out |= {item[3]} | {x for x, c in fp.letters.items() if c == item[3]}
    return out


def _exponent_text(e: t.Node) -> str | None:
    if isinstance(e, t.Name):
        return e.name
    if isinstance(e, t.Add) and len(e.terms) == 2 and e.terms[0][0] > 0 and isinstance(e.terms[0][1], t.Name) \
            and isinstance(e.terms[1][1], t.Number):
        return f"{e.terms[0][1].name}{'+' if e.terms[1][0] > 0 else '-'}{e.terms[1][1].text}"
    return None


def layer_superscripts(n: t.Node, letters: set[str]) -> t.Node:
    """`z^l`, `W^{l+1}`, `\\delta^L`, `\\bar{b}^l` (a layer index without brackets) as the
    members `z^{(l)}`, `W^{(l+1)}`, ...: a power whose exponent is a layer letter or count
    (`letters`, from `layer_letters`) with an offset, of a name or an adjoint."""
    if isinstance(n, t.Power) and isinstance(n.base, (t.Name, t.Bar)):
        text = _exponent_text(n.exponent)
        if text is not None and _value(text, {x: 0 for x in letters}) is not None:
            return dataclasses.replace(n.base, span=n.span, name=f"{n.base.name}^{{({text})}}")
    if isinstance(n, (t.Name, t.Bar)):
        return dataclasses.replace(n, name=_bracketed(n.name, letters))
    if isinstance(n, t.Partial):
        return dataclasses.replace(n, num=_bracketed(n.num, letters), den=_bracketed(n.den, letters))
    if isinstance(n, t.PartialOf):
        return dataclasses.replace(n, num=layer_superscripts(n.num, letters), den=_bracketed(n.den, letters))
    if isinstance(n, t.Derivative):
        wrt2 = _bracketed(n.wrt2, letters) if n.wrt2 is not None else None
        return dataclasses.replace(n, wrt=_bracketed(n.wrt, letters), wrt2=wrt2,
                                   arg=layer_superscripts(n.arg, letters))
    changes = {}
    for f in dataclasses.fields(n):
        value = getattr(n, f.name)
        if isinstance(value, t.Node):
            changes[f.name] = layer_superscripts(value, letters)
        elif isinstance(value, tuple) and value and isinstance(value[0], tuple):
            changes[f.name] = tuple((s, layer_superscripts(x, letters)) for s, x in value)
        elif isinstance(value, tuple) and value and isinstance(value[0], t.Node):
            changes[f.name] = tuple(layer_superscripts(x, letters) for x in value)
    return dataclasses.replace(n, **changes) if changes else n


def _bracketed(name: str, letters: set[str]) -> str:
    """`z^{l}_j` (a derivative's variable, `read/names.py`) -> `z^{(l)}_j` when `l` is a layer
    letter or count; any other name unchanged."""
    def one(m: re.Match) -> str:
        ok = _value(m.group(1), {x: 0 for x in letters}) is not None
        return f"^{{({m.group(1)})}}" if ok else m.group(0)
    return _BARE_LAYER.sub(one, name) if "^{" in name else name


def free_steps(node: t.Node, letters: set[str], bound: frozenset = frozenset()) -> set[str]:
    """The step letters a tree uses outside the sums over them."""
    if isinstance(node, t.BigSum) and node.index in letters:
        return free_steps(node.body, letters, bound | {node.index})
    out = {x for name in _names(node) for x in mentions(name, letters) if x not in bound}
    for child in t.children(node):
        out |= free_steps(child, letters, bound)
    return out


class Unroll:
    """Rewrites trees at concrete steps; `steps` are the step letters (t, l) and `env` binds
    them and the counts."""

    def __init__(self, steps: set[str], env: dict[str, int]) -> None:
        self.steps, self.env = steps, env

    def node(self, n: t.Node, env: dict[str, int] | None = None) -> t.Node:
        env = self.env if env is None else env
        if isinstance(n, t.Name) and n.name in env and n.name not in self.steps:
            return t.Number(n.span, str(env[n.name]))  # a count as a value: \frac{1}{T}
        if isinstance(n, (t.Name, t.Bar)):
            return dataclasses.replace(n, name=rename(n.name, env))
        if isinstance(n, t.Partial):
            return dataclasses.replace(n, num=rename(n.num, env), den=rename(n.den, env))
        if isinstance(n, t.PartialOf):
            return dataclasses.replace(n, num=self.node(n.num, env), den=rename(n.den, env))
        if isinstance(n, t.Derivative):
            wrt2 = rename(n.wrt2, env) if n.wrt2 is not None else None
            return dataclasses.replace(n, arg=self.node(n.arg, env), wrt=rename(n.wrt, env), wrt2=wrt2)
        if isinstance(n, t.BigSum) and n.index in self.steps:
            return self._expand(n, env)
        changes = {}
        for f in dataclasses.fields(n):
            value = getattr(n, f.name)
            if isinstance(value, t.Node):
                changes[f.name] = self.node(value, env)
            elif isinstance(value, tuple) and value and isinstance(value[0], tuple):
                changes[f.name] = tuple((s, self.node(x, env)) for s, x in value)
            elif isinstance(value, tuple) and value and isinstance(value[0], t.Node):
                changes[f.name] = tuple(self.node(x, env) for x in value)
        return dataclasses.replace(n, **changes) if changes else n

    def _bound(self, text: str | None, default: int, env: dict[str, int], span) -> int:
        if text is None:
            return default
        s = text.replace(" ", "").strip("{}")
        if s.isdigit():
            return int(s)
        v = _value(s, env)
        if v is None:
            raise ParseError(f"the bound `{text}` of a sum over steps: write a number or the count "
                             f"(`T`, `T-1`)", span)
        return v

    def _expand(self, n: t.BigSum, env: dict[str, int]) -> t.Node:
        count = env.get(n.hi.replace(" ", "") if n.hi else "", None)
        lo = self._bound(n.lo, 1, env, n.span)
        hi = self._bound(n.hi, count if count is not None else 0, env, n.span)
        if n.hi is None:
            raise ParseError(f"a sum over the steps {n.index} needs its range, as in "
                             f"\\sum_{{{n.index}=1}}^{{T}}", n.span)
        terms = [(1, self.node(n.body, {**env, n.index: v})) for v in range(lo, hi + 1)]
        if not terms:  # an empty sum is a zero of the body's shape (at a count where none of its
            # members exist, the line says nothing there: an unknown member)
            return t.Product(n.span, (t.Number(n.span, "0"), self.node(n.body, {**env, n.index: lo})))
        return terms[0][1] if len(terms) == 1 else t.Add(n.span, tuple(terms))

    def statement(self, st: t.Statement, env: dict[str, int] | None = None) -> t.Statement:
        saved = self.env
        if env is not None:
            self.env = env
        try:
            parts = tuple(self.node(p) for p in st.parts)
            names = tuple(dataclasses.replace(x, name=rename(x.name, self.env)) for x in st.names)
        finally:
            self.env = saved
        return dataclasses.replace(st, parts=parts, names=names)


def unrolled(fp: FamilyProblem, counts: dict[str, int]) -> list[t.Statement]:
    """The problem's statements at the given counts: families step by step, in order."""
    steps = set(fp.letters)
    u = Unroll(steps, dict(counts))
    out: list[t.Statement] = []
    i = 0
    items = fp.items
    while i < len(items):
        item = items[i]
        if isinstance(item, Family):
            group = [item]
            while i + 1 < len(items) and isinstance(items[i + 1], Family) and items[i + 1].letter == item.letter:
                i += 1
                group.append(items[i])
            for v in range(1, counts[item.count] + 1):
                for fam in group:
                    out.append(u.statement(fam.statement, {**counts, fam.letter: v}))
        elif isinstance(item, tuple):
            _, base, sup, count, space, st = item
            names = []
            for v in range(1, counts[count] + 1):
                name = f"{base}^{{{sup}{v}{')' if sup == '(' else ']'}}}" if sup else f"{base}{_sub(v)}"
                names.append(t.Name(st.span, name))
            out.append(dataclasses.replace(st, relation="in", parts=(space,), names=tuple(names), error=None))
        else:
            out.append(u.statement(item) if item.error is None else item)
        i += 1
    return out
