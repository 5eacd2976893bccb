r"""A Markdown sheet rewritten as people write it elsewhere: a `.tex` document, a notebook, or
with Unicode math. Each rewrite says where every original line went, so verdicts can be
compared claim for claim.

- `as_tex`: front matter becomes `%` comments, `$$` becomes `\[`/`\]` (same width), a preamble
  with a macro (`\bb{z}` for `\bar{z}`) sits on the first line, `\end{document}` after the last;
  every line stays where it was.
- `as_notebook`: Markdown cells cut at blank lines outside math (never before a display that
  continues the previous one), a code cell between every two; (cell, line) of each line.
- `as_unicode`: commands inside math replaced by the characters autocorrect inserts
  (`σ ⊙ ᵀ ∈ ℝ − ′ ∂ · × λ W₁ x²`); lines stay where they were.
"""
from __future__ import annotations

import json
import re

_FRONT = re.compile(r"\A---\n.*?\n---\n", re.DOTALL)


def _front_lines(text: str) -> int:
    m = _FRONT.match(text)
    return m.group(0).count("\n") if m else 0


def as_tex(text: str) -> str:
    lines = text.split("\n")
    front = _front_lines(text)
    out = []
    for k, ln in enumerate(lines):
        if k < front:
            ln = "% " + ln
        else:
            ln = ln.replace("\\$", "\\textdollar{}")
            ln = re.sub(r"\$\$(.*?)\$\$", lambda m: "\\[" + m.group(1) + "\\]", ln)
            if ln.strip() == "$$":
                ln = ln.replace("$$", "\\[" if sum(x.count("\\[") - x.count("\\]") for x in out) <= 0 else "\\]")
            ln = re.sub(r"\\bar\{", r"\\bb{", ln)
        out.append(ln)
    out[0] = "\\documentclass{article}\\newcommand{\\bb}[1]{\\bar{#1}}\\begin{document}" + out[0]
    return "\n".join(out) + "\n\\end{document}\n"


def as_notebook(text: str) -> tuple[str, dict[int, tuple[int, int]]]:
    """(notebook JSON, original line -> (cell, line in cell))."""
    lines = text.split("\n")
    front = _front_lines(text)
    cells: list[list[str]] = [[]]
    where: dict[int, tuple[int, int]] = {}
    open_math = False
    for k, ln in enumerate(lines):
        nxt = lines[k + 1].lstrip() if k + 1 < len(lines) else ""
        cut = (k >= front and not ln.strip() and not open_math and cells[-1]
               and not re.match(r"(?:\$\$|\\\[)\s*&?\s*=", nxt))
        cells[-1].append(ln)
        where[k + 1] = (2 * (len(cells) - 1) + 1, len(cells[-1]))
        open_math ^= (ln.count("$$") % 2 == 1)
        if "\\begin{" in ln and "\\end{" not in ln:
            open_math = True
        if "\\end{" in ln and "\\begin{" not in ln:
            open_math = False
        if cut:
            cells.append([])
    nb = {"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": []}
    for k, cell in enumerate(cells):
        if k:
            nb["cells"].append({"cell_type": "code", "metadata": {}, "execution_count": None, "outputs": [],
                                "source": ["x = 1  # $$\\bar{x} = 2$$ in code is not read\n"]})
        src = [ln + "\n" for ln in cell[:-1]] + [cell[-1]] if cell else []
        nb["cells"].append({"cell_type": "markdown", "metadata": {}, "source": src})
    return json.dumps(nb, indent=1), where


_GREEK = {"alpha": "α", "beta": "β", "gamma": "γ", "delta": "δ", "epsilon": "ε", "eta": "η",
          "theta": "θ", "lambda": "λ", "mu": "μ", "pi": "π", "rho": "ρ", "sigma": "σ", "tau": "τ",
          "phi": "φ", "psi": "ψ", "omega": "ω", "Sigma": "Σ"}
_SUB = "₀₁₂₃₄₅₆₇₈₉"
_SUP = "⁰¹²³⁴⁵⁶⁷⁸⁹"


def _math_unicode(m: str) -> str:
    m = re.sub(r"\^\{\\top\}|\^\\top(?![A-Za-z])|\^\{\\intercal\}", "ᵀ", m)
    m = re.sub(r"\\(" + "|".join(_GREEK) + r")(?![A-Za-z])", lambda g: _GREEK[g.group(1)], m)
    for cmd, ch in (("odot", "⊙"), ("circ", "∘"), ("cdot", "·"), ("times", "×"), ("partial", "∂"),
                    ("in", "∈"), ("nabla", "∇")):
        m = re.sub(r"\\" + cmd + r"(?![A-Za-z])", ch, m)
    m = m.replace("\\mathbb{R}", "ℝ")
    m = re.sub(r"(?<=[A-Za-z}])_(?:\{(\d)\}|(\d)(?!\d))", lambda g: _SUB[int(g.group(1) or g.group(2))], m)
    m = re.sub(r"(?<=[A-Za-z)}])\^(\d)(?!\d)", lambda g: _SUP[int(g.group(1))], m)
    m = re.sub(r"(?<![\\^{_])-", "−", m)
    m = re.sub(r"(?<=[A-Za-z}])'", "′", m)
    return m


def as_unicode(text: str) -> str:
    """Unicode inside every `$...$`/`$$...$$`; front matter and prose untouched."""
    front = _FRONT.match(text)
    head = front.group(0) if front else ""
    body = text[len(head):]
    return head + re.sub(r"\$\$.*?\$\$|\$[^$\n]+\$", lambda g: _math_unicode(g.group(0)), body, flags=re.DOTALL)
