"""`symderiv latex` of a problem with families: the generic local adjoints, with boundary cases.

The problem is unrolled at a count of `COUNT` and derived as usual; each family's members
are then read back in the generic step: a member's adjoint at a middle step, with every
family member renamed relative to that step (`\\bar{h}_2 = V^\\top \\bar{o}_2 + W^\\top \\bar{a}_3`
-> `\\bar{h}_t = V^\\top \\bar{o}_t + W^\\top \\bar{a}_{t+1}`), at the last step relative to the count
(`\\bar{h}_T = V^\\top \\bar{o}_T`) when it differs, and at the first step when it differs; a
parameter shared by the steps is the sum of its per-step terms (`\\sum_{t=1}^{T}`). Boundary
members (`h_0`, `a^{(0)}`) are printed as they are. With `expanded`, each row is in the values
its step starts from: the adjoints and forward values of the same step are substituted (down to
the inputs, the parameters and the previous step's values), the next step's adjoints
(`\\bar{a}_{t+1}`) stay, since a recurrence has no closed form in the inputs for every count. The output reads back through `check`
(which checks it at several counts), and a form that does not generalise is left out rather
than printed for one count only.
"""
from __future__ import annotations

import dataclasses
import re

from ..derive.adjoints import derive
from ..derive.simplify import rebuild, simplify
from ..meaning.build import build_model
from ..meaning.families import Family, FamilyProblem, unrolled
from ..model import ops as o
from ..model.walk import nodes
from ..names import bar_latex
from .latex import PREAMBLE, Printer

COUNT = 4


def _bases(fp: FamilyProblem) -> dict[str, tuple[str, str, bool]]:
    """Family base name -> (step letter, count letter, layer-style superscript?)."""
    out: dict[str, tuple[str, str, bool]] = {}
    for item in fp.items:
        if isinstance(item, Family):
            name = item.statement.parts[0].name  # type: ignore[attr-defined]
            m = re.match(r"^(.+?)(?:_\{?[A-Za-z](?:[+-]\d)?\}?|\^\{\([A-Za-z](?:[+-]\d)?\)\})$", name)
            if m:
                out[m.group(1)] = (item.letter, item.count, "^{(" in name)
        elif isinstance(item, tuple):
            _, base, sup, count, _, _ = item
            letter = next((x for x, c in fp.letters.items() if c == count), count.lower())
            out[base] = (letter, count, sup is not None)
    return out


def _rel(d: int, letter: str) -> str:
    return letter if d == 0 else f"{letter}{d:+d}"


def generic(text: str, bases: dict[str, tuple[str, str, bool]], origin: int | None, count: int) -> str:
    """Family members renamed relative to step `origin` (or to the count when None)."""
    for base, (letter, count_letter, layer) in bases.items():
        b = re.escape(base)
        if layer:
            pattern = re.compile(rf"(?<![A-Za-z\\])({b})\^\{{\((\d+)\)\}}")
        else:
            pattern = re.compile(rf"(?<![A-Za-z\\])({b}\}}?)_(?:\{{(\d+)\}}|(\d))")

        def sub(m: re.Match, layer: bool = layer, letter: str = letter, cl: str = count_letter) -> str:
            k = int(m.group(2) if m.group(2) is not None else m.group(3) if not layer else m.group(2))
            if k == 0 and origin is None:  # a boundary member stays; relative to a step it is one
                return m.group(0)
            rel = _rel(k - origin, letter) if origin is not None else _rel(k - count, cl)
            shown = rel if len(rel) == 1 else "{" + rel + "}"
            return f"{m.group(1)}^{{({rel})}}" if layer else f"{m.group(1)}_{shown}"
        text = pattern.sub(sub, text)
    return text


def _in_step(model, adj, step_of):
    """(adjoint name -> its form in its own step's values, per-term form) for `--expanded`."""
    bars: dict[str, o.Expr] = {}
    values: dict[tuple, o.Expr] = {}

    def key(name: str):
        s = step_of(name)
        return s[1] if s is not None else None

    def leaf_for(k, with_bars: bool = True):
        def leaf(x: o.Expr) -> o.Expr | None:
            if isinstance(x, o.Var) and x.name in model.nodes and x.name != model.loss and key(x.name) == k:
                return value(x.name, k)
            if with_bars and isinstance(x, o.Bar) and x.name in adj.local and key(x.name) == k:
                return bar(x.name)
            return None
        return leaf

    def value(name: str, k) -> o.Expr:
        if (name, k) not in values:
            values[(name, k)] = simplify(model.symbols[name].definition, leaf_for(k))
        return values[(name, k)]

    def bar(name: str) -> o.Expr:
        if name not in bars:
            bars[name] = simplify(adj.local[name], leaf_for(key(name)))
        return bars[name]

    # a shared parameter's term keeps its step's adjoint (`\\bar{a}_t`, a row of its own): at the
    # last step that adjoint has another form, and the sum over steps must have one
    return bar, lambda term: simplify(term.expr, leaf_for(key(term.consumer), with_bars=False))


def _summed(expr: o.Expr, printer: Printer, bases, fp: FamilyProblem, COUNT: int) -> str | None:
    """The LaTeX of `expr` with one sum over every member's like term (`\\|W^{(1)}\\|_F^2 + \\dots
    + \\|W^{(4)}\\|_F^2`) written as `\\sum_{l=1}^{L}`; None when it has no such sum."""
    if len(fp.letters) != 1:
        return None
    (letter, count), = fp.letters.items()
    for x in nodes(expr):
        if isinstance(x, o.Add) and len(x.terms) == COUNT:
            forms = {generic(printer.latex(term), bases, k, COUNT) for k, term in enumerate(x.terms, 1)}
            if len(forms) != 1:
                continue
            mark = o.Var("SUMMEDTERMS", x.shape)
            text = Printer().latex(rebuild(expr, lambda y, x=x, mark=mark: mark if y is x else None))
            form = forms.pop()
            if re.search(r"\^\{\(\d+\)\}|_\{?\d+\}?", form) or "SUMMEDTERMS" in form:
                return None
            whole = text == "SUMMEDTERMS" or re.search(r"\{SUMMEDTERMS\}", text)
            shown = f"\\sum_{{{letter}=1}}^{{{count}}} {form}"
            return text.replace("SUMMEDTERMS", shown if whole else f"\\left({shown}\\right)")
    return None


def family_latex(doc, fp: FamilyProblem, standalone: bool = False, expanded: bool = False) -> str:
    """The generic rows, read off the problem unrolled at `COUNT` and at `COUNT + 1`: a row
    that differs between the two only by the count used as a value (`\\frac{1}{4}` and
    `\\frac{1}{5}`) writes the count (`\\frac{1}{T}`); one that differs otherwise is left out."""
    at, after = _rows(doc, fp, expanded, COUNT), dict(_rows(doc, fp, expanded, COUNT + 1))
    rows = []
    for lhs, rhs in at:
        other = after.get(lhs)
        text = rhs if other == rhs else _with_count(rhs, other, fp, COUNT) if other is not None else None
        if text is not None:
            rows.append(f"{lhs} &= {text}")
    body = "\\begin{align*}\n" + " \\\\\n".join(rows) + "\n\\end{align*}\n"
    return PREAMBLE + body + "\\end{document}\n" if standalone else body


#: a written number, not a step or member index (`h_{12}`, `W^{(3)}`) nor an exponent (`^2`)
_NUMBER = re.compile(r"(?<![_^\d])(?<!_\{)(?<!\^\{)(?<!\^\{\()\d+")


def _with_count(a: str, b: str, fp: FamilyProblem, count: int) -> str | None:
    """`a` (at `count`) with its numbers that are one more in `b` (at `count + 1`) written as the
    count letter with an offset; None when the two differ otherwise or there are two counts."""
    if len(fp.counts) != 1:
        return None
    pa, pb = _NUMBER.split(a), _NUMBER.split(b)
    na, nb = _NUMBER.findall(a), _NUMBER.findall(b)
    if pa != pb or len(na) != len(nb):
        return None
    out = [pa[0]]
    for x, y, rest in zip(na, nb, pa[1:]):
        if int(y) == int(x):
            out.append(x)
        elif int(y) == int(x) + 1 and int(x) >= count - 2:
            off = int(x) - count
            out.append(fp.counts[0] if off == 0 else f"\\left({fp.counts[0]}{off:+d}\\right)")
        else:
            return None
        out.append(rest)
    return "".join(out)


def _rows(doc, fp: FamilyProblem, expanded: bool, COUNT: int) -> list[tuple[str, str]]:
    """(left side, right side) of every generic row at one count."""
    counts = {c: COUNT for c in fp.counts}
    model, _ = build_model(dataclasses.replace(doc, statements=tuple(unrolled(fp, counts))))
    adj = derive(model)
    printer = Printer()
    bases = _bases(fp)
    member = re.compile(r"^(.+?)(?:_\{?(\d+)\}?|\^\{\((\d+)\)\})$")
    done: set[str] = set()
    rows: list[tuple[str, str]] = []

    def step_of(name: str) -> tuple[str, int] | None:
        m = member.match(name)
        if m and m.group(1) in bases:
            return m.group(1), int(m.group(2) or m.group(3))
        return None

    if expanded:
        local, term_expr = _in_step(model, adj, step_of)
    else:
        local, term_expr = adj.local.__getitem__, (lambda term: term.expr)

    def name_of(base: str, k: int) -> str:
        return f"{base}^{{({k})}}" if bases[base][2] else (f"{base}_{k}" if k < 10 else f"{base}_{{{k}}}")

    for name in adj.order():
        s = step_of(name)
        if s is not None and s[1] >= 1:
            base = s[0]
            if base in done:
                continue
            done.add(base)
            letter, count_letter, _ = bases[base]
            last = generic(printer.latex(local(name_of(base, COUNT))), bases, None, COUNT)
            mid = generic(printer.latex(local(name_of(base, 2))), bases, 2, COUNT)
            first = generic(printer.latex(local(name_of(base, 1))), bases, 1, COUNT)
            at_mid = generic(printer.latex(local(name_of(base, COUNT - 1))), bases, COUNT - 1, COUNT)
            if at_mid != mid:
                continue  # no single generic form: left out
            lhs = generic(bar_latex(name_of(base, COUNT)), bases, None, COUNT)
            generic_lhs = generic(bar_latex(name_of(base, 2)), bases, 2, COUNT)
            if generic(printer.latex(local(name_of(base, COUNT))), bases, COUNT, COUNT) != mid:
                rows.append((lhs, last))  # the last step differs: its own row
            rows.append((generic_lhs, mid))
            if first != mid:
                rows.append((generic(bar_latex(name_of(base, 1)), bases, 1, COUNT), first))
            continue
        if s is not None:  # a boundary member (`h_0`): as it is
            rows.append((bar_latex(name), printer.latex(local(name))))
            continue
        terms = adj.terms.get(name, [])
        stepped = [(step_of(tm.consumer), tm) for tm in terms]
        if name != model.loss and terms and all(st is not None and st[1] >= 1 for st, _ in stepped):
            forms = {generic(printer.latex(term_expr(tm)), bases, st[1], COUNT) for st, tm in stepped}  # type: ignore[index]
            letters = {bases[st[0]][:2] for st, _ in stepped}  # type: ignore[index]
            if len(forms) == 1 and len(letters) == 1 and len(terms) == COUNT:
                letter, count_letter = letters.pop()
                rows.append((bar_latex(name), f"\\sum_{{{letter}=1}}^{{{count_letter}}} {forms.pop()}"))
            continue
        text = generic(printer.latex(local(name)), bases, None, COUNT)
        if any(re.search(rf"{re.escape(c)}-\d", text) for c in fp.counts):
            text = _summed(local(name), printer, bases, fp, COUNT) or text  # \bar{\lambda}: a sum over layers
        if any(re.search(rf"{re.escape(c)}-\d", text) for c in fp.counts):
            continue  # it names members before the last: no generic form known
        rows.append((bar_latex(name), text))
    return rows
