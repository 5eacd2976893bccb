"""`symderiv latex` of a problem with families: the generic local adjoints, with boundary cases.

The problem is unrolled at a count of `COUNT` and derived as usual; each family's members
are then read back in the generic step: a member's adjoint at a middle step, with every
family member renamed relative to that step (`\\bar{h}_2 = V^\\top \\bar{o}_2 + W^\\top \\bar{a}_3`
-> `\\bar{h}_t = V^\\top \\bar{o}_t + W^\\top \\bar{a}_{t+1}`), at the last step relative to the count
(`\\bar{h}_T = V^\\top \\bar{o}_T`) when it differs, and at the first step when it differs; a
parameter shared by the steps is the sum of its per-step terms (`\\sum_{t=1}^{T}`). Boundary
members (`h_0`, `a^{(0)}`) are printed as they are. The output reads back through `check`
(which checks it at several counts), and a form that does not generalise is left out rather
than printed for one count only.
"""
from __future__ import annotations

import dataclasses
import re

from ..derive.adjoints import derive
from ..meaning.build import build_model
from ..meaning.families import Family, FamilyProblem, unrolled
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


def family_latex(doc, fp: FamilyProblem, standalone: bool = False) -> str:
    counts = {c: COUNT for c in fp.counts}
    model, _ = build_model(dataclasses.replace(doc, statements=tuple(unrolled(fp, counts))))
    adj = derive(model)
    printer = Printer()
    bases = _bases(fp)
    member = re.compile(r"^(.+?)(?:_\{?(\d+)\}?|\^\{\((\d+)\)\})$")
    done: set[str] = set()
    rows: list[str] = []

    def step_of(name: str) -> tuple[str, int] | None:
        m = member.match(name)
        if m and m.group(1) in bases:
            return m.group(1), int(m.group(2) or m.group(3))
        return None

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
            last = generic(printer.latex(adj.local[name_of(base, COUNT)]), bases, None, COUNT)
            mid = generic(printer.latex(adj.local[name_of(base, 2)]), bases, 2, COUNT)
            first = generic(printer.latex(adj.local[name_of(base, 1)]), bases, 1, COUNT)
            at_mid = generic(printer.latex(adj.local[name_of(base, COUNT - 1)]), bases, COUNT - 1, COUNT)
            if at_mid != mid:
                continue  # no single generic form: left out
            lhs = generic(bar_latex(name_of(base, COUNT)), bases, None, COUNT)
            generic_lhs = generic(bar_latex(name_of(base, 2)), bases, 2, COUNT)
            if generic(printer.latex(adj.local[name_of(base, COUNT)]), bases, COUNT, COUNT) != mid:
                rows.append(f"{lhs} &= {last}")  # the last step differs: its own row
            rows.append(f"{generic_lhs} &= {mid}")
            if first != mid:
                rows.append(f"{generic(bar_latex(name_of(base, 1)), bases, 1, COUNT)} &= {first}")
            continue
        if s is not None:  # a boundary member (`h_0`): as it is
            rows.append(f"{bar_latex(name)} &= {printer.latex(adj.local[name])}")
            continue
        terms = adj.terms.get(name, [])
        stepped = [(step_of(tm.consumer), tm) for tm in terms]
        if name != model.loss and terms and all(st is not None and st[1] >= 1 for st, _ in stepped):
            forms = {generic(printer.latex(tm.expr), bases, st[1], COUNT) for st, tm in stepped}  # type: ignore[index]
            letters = {bases[st[0]][:2] for st, _ in stepped}  # type: ignore[index]
            if len(forms) == 1 and len(letters) == 1 and len(terms) == COUNT:
                letter, count_letter = letters.pop()
                rows.append(f"{bar_latex(name)} &= \\sum_{{{letter}=1}}^{{{count_letter}}} {forms.pop()}")
            continue
        text = generic(printer.latex(adj.local[name]), bases, None, COUNT)
        if any(re.search(rf"{re.escape(c)}-\d", text) for c in fp.counts):
            continue  # it names members before the last: no generic form known
        rows.append(f"{bar_latex(name)} &= {text}")
    body = "\\begin{align*}\n" + " \\\\\n".join(rows) + "\n\\end{align*}\n"
    return PREAMBLE + body + "\\end{document}\n" if standalone else body
