"""The HTML report: one self-contained page (no script, no network), the math as MathML.

`render(report, all_claims, show_answer)` is `symderiv check --format html`. Each line of
the sheet is an `align`-like table: the left side once, then every step with its mark
(✓ ✗ !), its verdict, the diagnosis, the offending text highlighted, the counterexample as
small tables, and the derived answer in a `<details>` "show answer" element (open with
`--show-answer`). `claim_fragment` is one claim alone (no page, classes only), for
Gradescope's `output_format: html` (`gradescope_results`) and notebooks.

Math goes through the sanitiser of `report/mathml.py` (`math`), so no string of a sheet can
inject markup.
"""
from __future__ import annotations

import json
import re
from html import escape
from importlib import resources
from typing import Any

from ..verify.verdicts import Claim, Report, Step
from .answers import expected, hint_text
from .mathml import math

MARK = {"correct": "✓", "incorrect": "✗", "invalid": "!"}
KIND = {"adjoint": "adjoint", "declaration": "declaration", "definition": "definition", "identity": "identity"}
_TICKS = re.compile(r"`([^`]+)`")
_DID_YOU_MEAN = re.compile(r"^did you mean (.+?)\?(?=\s|$)")


_PLAIN_MATH = re.compile(r"[-+=*/|<>]+|[0-9]+(?:\.[0-9]+)?|[A-Za-z]'*")


def _joinable(tok: str) -> bool:
    """Could this whitespace-separated token be part of a formula (`\bar{y}`, `x`, `-`, `p^\top)`)?"""
    core = tok.strip("()[]")
    return not core or any(ch in core for ch in "\\_^{}") or bool(_PLAIN_MATH.fullmatch(core))


def prose(text: str) -> str:
    """A message: prose escaped, `backticked` and bare `\\commands{...}` rendered as math."""
    out: list[str] = []
    pos = 0
    for m in _TICKS.finditer(text):
        out.append(_bare(text[pos:m.start()]))
        out.append(math(m.group(1)))
        pos = m.end()
    out.append(_bare(text[pos:]))
    return "".join(out)


def _bare(text: str) -> str:
    """Prose with bare LaTeX: maximal runs of formula-like tokens holding a `\\command` become math."""
    tokens = re.split(r"(\s+)", text)
    out: list[str] = []
    i = 0
    while i < len(tokens):
        if not tokens[i] or tokens[i].isspace():
            out.append(tokens[i])
            i += 1
            continue
        j, run, anchored = i, [], False
        while j < len(tokens):
            tok = tokens[j]
            if tok.isspace() or not tok:
                run.append(tok)
                j += 1
                continue
            core = tok.rstrip(",:;?.")
            if not core or not _joinable(core):
                break
            run.append(core)
            anchored = anchored or "\\" in core
            j += 1
            if core != tok:  # sentence punctuation ends the formula
                tokens.insert(j, tok[len(core):])
                break
        while run and (run[-1].isspace() or not run[-1]):
            run.pop()
            j -= 1
        if run and anchored:
            out.append(math("".join(run)))
            i = j
        elif run:
            out.append(escape("".join(run), quote=False))
            i = j
        else:
            out.append(escape(tokens[i], quote=False))
            i += 1
    return "".join(out)


def hint_html(hint: str) -> str:
    m = _DID_YOU_MEAN.match(hint)
    if m:
        return f"did you mean {math(m.group(1), True)}?{prose(hint[m.end():])}"
    return prose(hint)


# ---- counterexamples -------------------------------------------------------------------

def _num(v: Any) -> str:
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return escape(str(v))
    if isinstance(v, float):
        v = 0.0 if v == 0 else v
        return escape(format(v, ".6g").replace("-", "−"))
    return escape(str(v).replace("-", "−"))


def matrix_html(value: Any, limit: int = 8) -> str:
    """A number, or a small bracketed table (at most `limit` rows and columns shown)."""
    if not isinstance(value, list):
        return f'<span class="num">{_num(value)}</span>'
    rows = [r if isinstance(r, list) else [r] for r in value]
    if len(rows) == 1 and len(rows[0]) == 1:
        return f'<span class="num">{_num(rows[0][0])}</span>'
    body = []
    for r in rows[:limit]:
        cells = "".join(f"<td>{_num(x)}</td>" for x in r[:limit]) + ("<td>…</td>" if len(r) > limit else "")
        body.append(f"<tr>{cells}</tr>")
    if len(rows) > limit:
        body.append(f'<tr><td colspan="{min(len(rows[0]), limit)}">⋮</td></tr>')
    return f'<span class="matrix"><table>{"".join(body)}</table></span>'


def counterexample_html(c: dict[str, Any]) -> str:
    sizes = ", ".join(f"{escape(str(k))} = {escape(str(v))}" for k, v in (c.get("sizes") or {}).items())
    parts = [f'<div class="cex"><p class="cex-head">Counterexample at {sizes or "scalar sizes"}:</p>',
             '<div class="cex-pair">']
    for label in ("expected", "got"):
        if label in c:
            parts.append(f'<figure class="{label}"><figcaption>{label}</figcaption>{matrix_html(c[label])}</figure>')
    parts.append("</div>")
    values = c.get("values") or {}
    if values:
        rows = "".join(f"<tr><th>{math(str(k))}</th><td>{matrix_html(v)}</td></tr>" for k, v in values.items())
        parts.append(f'<details class="values"><summary>values of the inputs</summary>'
                     f'<table class="values">{rows}</table></details>')
    parts.append("</div>")
    return "".join(parts)


# ---- claims ----------------------------------------------------------------------------

def top_level_parts(latex: str) -> list[str]:
    """`latex` split at its `=` signs outside braces, brackets and parentheses."""
    parts, depth, start = [], 0, 0
    for i, ch in enumerate(latex):
        if ch in "{([":
            depth += 1
        elif ch in "})]":
            depth = max(0, depth - 1)
        elif ch == "=" and depth == 0 and latex[i - 1:i] not in ("\\", "<", ">", "!"):
            parts.append(latex[start:i])
            start = i + 1
    parts.append(latex[start:])
    return [p.strip().strip("&").strip() for p in parts]


def _lhs(c: Claim) -> str:
    """The left side as written, when the steps are the claim's later `=` parts."""
    if c.kind == "declaration" or not c.steps:
        return ""
    parts = top_level_parts(c.latex)
    return parts[0] if len(parts) == len(c.steps) + 1 and parts[0] else ""


def _source(c: Claim, s: Step) -> str:
    """The claim's source with the step's offending range highlighted (one-line spans only)."""
    sp, cs = s.span, c.span
    if sp is None or cs is None or sp.line != cs.line or sp.end_line != sp.line or "\n" in c.latex:
        return ""
    lo, hi = sp.col - cs.col, sp.end_col - cs.col
    if not (0 <= lo < hi <= len(c.latex)):
        return ""
    t = c.latex
    return (f'<pre class="src">{escape(t[:lo])}<mark>{escape(t[lo:hi])}</mark>{escape(t[hi:])}</pre>'
            f'<p class="where">{f"cell {sp.cell}, " if sp.cell else ""}line {sp.line}, column {sp.col}</p>')


def step_notes(c: Claim, s: Step, show_answer: bool = False, answers: bool = True) -> str:
    """The notes under a step; the derived answer (when `answers`) folded, open with `show_answer`."""
    method = f' <span class="method">({escape(s.method)})</span>' if s.method else ""
    reason = f' <span class="reason">{escape(s.reason)}</span>' if s.reason else ""
    message = f" — {prose(s.message)}" if s.message else ""
    out = [f'<p class="verdict"><strong>{escape(s.verdict)}</strong>{method}{reason}{message}</p>']
    if s.verdict == "invalid":
        out.append(_source(c, s))
    hint = hint_text(s)
    if hint:
        out.append(f'<p class="hint">{hint_html(hint)}</p>')
    if s.counterexample:
        out.append(counterexample_html(s.counterexample))
    answer = expected(c, s) if answers else None
    if answer:
        out.append(f'<details class="answer"{" open" if show_answer else ""}><summary>show answer</summary>'
                   f'<div class="answer-math">{math(answer, True)}</div></details>')
    return "".join(out)


def claim_what(c: Claim) -> str:
    if c.kind in ("adjoint", "entrywise") and c.target:
        from .latex import bar_latex
        return f"adjoint {math(bar_latex(c.target))}" + (" (entrywise)" if c.kind == "entrywise" else "")
    if c.kind in ("declaration", "definition") and c.target:
        return f"{c.kind} of {math(c.target)}"
    return escape(KIND.get(c.kind, c.kind))


def claim_fragment(c: Claim, show_answer: bool = False, anchor: str = "", answers: bool = True) -> str:
    """One claim as an `<article>`: a header, then an align-like grid of its steps."""
    v = c.verdict
    where = escape(c.where.rsplit('/', 1)[-1])
    link = f'<a href="#{anchor}">{where}</a>' if anchor else where
    side = ' <span class="tag">side note</span>' if c.side else ""
    ident = f' id="{anchor}"' if anchor else ""
    head = (f'<article class="claim v-{v}"{ident}><header><span class="mark">{MARK[v]}</span> {link} '
            f'<span class="what">{claim_what(c)}</span>{side}</header><div class="steps">')
    out = [head]
    lhs = _lhs(c)
    for i, s in enumerate(c.steps):
        left = math(lhs, True) if (lhs and i == 0) else ""
        notes = step_notes(c, s, show_answer, answers)
        inline = s.verdict == "correct" and not s.hint and not (answers and expected(c, s))
        out.append(f'<div class="step v-{s.verdict}"><span class="mark">{MARK[s.verdict]}</span>'
                   f'<span class="lhs">{left}</span><span class="rel">{"=" if lhs else ""}</span>'
                   f'<div class="expr{"" if inline else " wide"}">{math(s.latex, True)}</div>'
                   f'<div class="{"note" if inline else "notes"}">{notes}</div></div>')
    if not c.steps:
        out.append(f'<div class="step v-{v}"><span class="mark">{MARK[v]}</span><span class="lhs"></span>'
                   f'<span class="rel"></span><div class="expr wide">{math(c.latex, True)}</div></div>')
    out.append("</div></article>")
    return "".join(out)


# ---- the page --------------------------------------------------------------------------

def css() -> str:
    return resources.files("symderiv.report").joinpath("report.css").read_text(encoding="utf-8")


def render(report: Report, all_claims: bool = False, show_answer: bool = False) -> str:
    """The whole report as one HTML page (UTF-8, no external resources)."""
    claims = [c for c in report.claims if c.listed or all_claims]
    s = report.summary(all_claims)
    names = [f.rsplit("/", 1)[-1] for f in report.files]
    title = f"symderiv — {names[-1] if names else 'report'}"
    chips = "".join(f'<span class="chip v-{k}">{MARK[k]} {n} {k}</span>' for k, n in s.items())
    files = ", ".join(f"<code>{escape(f)}</code>" for f in report.files)
    loss = f" · loss {math(report.loss)}" if report.loss else ""
    body: list[str] = []
    toc: list[str] = []
    used: set[str] = set()
    current = None
    for c in claims:
        if c.file != current:
            current = c.file
            body.append(f'<h2 class="file"><code>{escape(c.file)}</code></h2>')
        anchor = _anchor(c, used)
        toc.append(f'<a class="dot v-{c.verdict}" href="#{anchor}" title="{escape(c.where)} '
                   f'{escape(c.verdict)}">{MARK[c.verdict]} {_short(c)}</a>')
        body.append(claim_fragment(c, show_answer, anchor))
    if not claims:
        body.append('<p class="empty">No claims: the sheet states nothing to check.</p>')
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f'<meta name="generator" content="symderiv"><title>{escape(title)}</title>'
            f'<style>{css()}</style></head><body>'
            f'<header class="page"><h1>{escape(title)}</h1><p class="files">{files}{loss}</p>'
            f'<p class="summary">{chips}</p><nav class="toc">{"".join(toc)}</nav></header>'
            f'<main>{"".join(body)}</main>'
            f'<footer>Checked by symderiv. ✓ correct · ✗ incorrect · ! invalid (cannot be evaluated).'
            f'</footer></body></html>\n')


def _short(c: Claim) -> str:
    return f"{c.cell}:{c.line}" if c.cell else str(c.line)


def _anchor(c: Claim, used: set[str]) -> str:
    stem = re.sub(r"[^A-Za-z0-9_-]+", "-", c.file.rsplit("/", 1)[-1]).strip("-") or "f"
    base = f"{stem}-C{c.cell}-L{c.line}" if c.cell else f"{stem}-L{c.line}"
    anchor, n = base, 1
    while anchor in used:
        n += 1
        anchor = f"{base}-{n}"
    used.add(anchor)
    return anchor


def gradescope_results(report: Report, score: Any = None) -> dict[str, Any]:
    """Gradescope `results.json` with each test's output as an HTML fragment."""
    from ..scoring import score_of
    from .gradescope import results

    score = score or score_of(report)
    out = results(report, score)
    for test, item in zip(out["tests"], score.items):
        parts = [f"<p>{escape(line)}</p>" for line in item.message.split("\n")]
        if item.claim is not None:
            parts.append(claim_fragment(item.claim))
        test["output"] = "".join(parts)
        test["output_format"] = "html"
    return out


def render_gradescope(report: Report, score: Any = None) -> str:
    return json.dumps(gradescope_results(report, score), indent=2, ensure_ascii=False) + "\n"
