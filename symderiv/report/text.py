"""The human report: per line a mark, then each step with its reason, message and evidence."""
from __future__ import annotations

import os
import sys

from ..names import bar_latex
from ..verify.verdicts import Claim, Report, Step
from .answers import expected, hint_text
from .escape import terminal_safe

MARK = {"correct": "✓", "incorrect": "✗", "invalid": "!"}
STYLE = {"correct": "green", "incorrect": "red", "invalid": "yellow"}


def _cex(s: Step) -> str:
    c = s.counterexample
    if not c:
        return ""
    import json  # only for a counterexample (a cold start without one skips the import)

    sizes = " ".join(f"{k}={v}" for k, v in c["sizes"].items())
    return f"counterexample at sizes {sizes or '(scalars)'}: expected {json.dumps(c['expected'])}, got {json.dumps(c['got'])}"


MAX_SHOWN = 300  # characters of a step's LaTeX shown in text output


def _clip(text: str) -> str:
    return text if len(text) <= MAX_SHOWN else text[:MAX_SHOWN] + f" … ({len(text)} characters)"


def step_lines(s: Step, answer: str | None = None) -> list[str]:
    """The lines of one step; `answer` (the derived answer, for --show-answer) last."""
    head = f"{MARK[s.verdict]} {_clip(s.latex)}"
    why = f"{s.reason}: " if s.reason else ""
    lines = [head, f"    {s.verdict}{' (' + s.method + ')' if s.method else ''}: {why}{s.message}".rstrip()]
    if s.span is not None and s.verdict == "invalid":
        cell = f"cell {s.span.cell}, " if s.span.cell else ""
        lines.append(f"    at {cell}line {s.span.line}, column {s.span.col}")
    hint = hint_text(s)
    if hint:
        lines.append(f"    {hint}")
    if s.counterexample:
        lines.append(f"    {_cex(s)}")
    if answer:
        lines.append(f"    answer: {answer}")
    return [terminal_safe(x) for x in lines]


def claim_header(c: Claim) -> str:
    what = {"adjoint": bar_latex(c.target or ""), "entrywise": f"{bar_latex(c.target or '')} (entrywise)",
            "declaration": f"{c.target} ∈ ...",
            "definition": f"{c.target} = ...", "identity": "identity"}.get(c.kind, c.kind)
    side = " (side note)" if c.side else ""
    return terminal_safe(f"{c.where} {MARK[c.verdict]} {what}{side}")


def plain_claim(c: Claim, show_answer: bool = False) -> str:
    out = [claim_header(c)]
    for s in c.steps:
        out.extend("  " + x for x in step_lines(s, expected(c, s) if show_answer else None))
    return "\n".join(out)


def summary_line(r: Report, all_claims: bool = False) -> str:
    s = r.summary(all_claims)
    n = sum(s.values())
    return f"{n} claim{'' if n == 1 else 's'}: {s['correct']} correct, {s['incorrect']} incorrect, {s['invalid']} invalid"


def render_plain(r: Report, all_claims: bool = False, show_answer: bool = False) -> str:
    blocks = [plain_claim(c, show_answer) for c in r.claims if c.listed or all_claims]
    return "\n\n".join(blocks + [summary_line(r, all_claims)]) + "\n"


def print_rich(r: Report, all_claims: bool = False, show_answer: bool = False, file=None) -> None:
    """Coloured output on a terminal (rich); plain text when not a terminal, without importing
    rich (~40 ms of a cold start), unless FORCE_COLOR asks for colour anyway."""
    out = sys.stdout if file is None else file
    if not os.environ.get("FORCE_COLOR") and not (hasattr(out, "isatty") and out.isatty()):
        out.write(render_plain(r, all_claims, show_answer))
        return
    from rich.console import Console
    from rich.text import Text

    console = Console(file=file, highlight=False, soft_wrap=True)
    for c in r.claims:
        if not (c.listed or all_claims):
            continue
        console.print(Text(claim_header(c), style=f"bold {STYLE[c.verdict]}"))
        for s in c.steps:
            lines = step_lines(s, expected(c, s) if show_answer else None)
            console.print(Text("  " + lines[0], style=STYLE[s.verdict]))
            for extra in lines[1:]:
                console.print(Text("  " + extra, style="dim" if s.verdict == "correct" else ""))
        console.print()
    console.print(Text(summary_line(r, all_claims), style="bold"))
