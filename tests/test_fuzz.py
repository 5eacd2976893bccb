"""Fuzz smoke test: token-level mutants of the shipped sheets never raise or hang.

Each mutant takes one math line of a shipped problem or sheet (alone with the line before it,
or, one mutant in eight, in the whole sheet) and deletes, duplicates,
swaps or replaces one to three of its LaTeX tokens (the replacements include brackets,
scripts, environment markers, control characters and huge numbers); the line is then checked
as an answer sheet against its problem and rendered as text and JSON. The only exception
allowed is symderiv's own one-line error (exit 2 at the command line). A mutant that runs
past `HANG_SECONDS` is a hang (a SIGALRM fails the test; this is not a speed assertion).
"""
from __future__ import annotations

import random
import re
import signal
from pathlib import Path

import pytest

from symderiv.errors import SymderivError
from symderiv.read.document import read_document, read_text
from symderiv.report.json import render as render_json
from symderiv.report.text import render_plain
from symderiv.verify.budget import Budget
from symderiv.verify.check import check_documents

ROOT = Path(__file__).resolve().parents[1]
MUTANTS = 2000
HANG_SECONDS = 30
TOKEN = re.compile(r"\\[A-Za-z]+|\\.|[A-Za-z]+|\d+(?:\.\d+)?|\s+|.", re.DOTALL)
POOL = ["{", "}", "(", ")", "[", "]", "\\left(", "\\right)", "^", "_", "^{", "_{", "'", "^\\top", "^T",
        "\\frac", "\\frac{\\partial", "\\partial", "\\bar{", "\\bar", "\\sqrt", "\\sum_{i=1}^{n}", "\\odot",
        "\\cdot", "+", "-", "=", "&", "\\\\", "$", "$$", "\\[", "\\]", "\\begin{align}", "\\end{align}",
        "\\text{", "\\quad", "\\mathbb{1}[", ">", "\\|", "|", ",", "0", "1", "10^{64}", "1e308",
        "9" * 400, "\\exp", "\\log", "\\sigma'", "\\operatorname{diag}", "\\mathbf{1}", "\x1b[2J", "\x00",
        "\u202e", "\n", "\n\n", "  ", "\\in", "\\mathbb{R}^{", "x", "W", "z_y", "\\eta"]


def _corpus() -> list[tuple[object, Path, list[str]]]:
    """(problem Document, file, its math lines) for every shipped problem and sheet."""
    out = []
    for problem in sorted((ROOT / "derivations").glob("*/problem.md")):
        doc = read_document(problem)
        for sheet in sorted(problem.parent.glob("*.md")):
            lines = [ln for ln in sheet.read_text(encoding="utf-8").split("\n") if "$" in ln or "\\" in ln]
            out.append((doc, sheet, lines))
    return out


def _mutate(rng: random.Random, line: str) -> str:
    toks = TOKEN.findall(line)
    for _ in range(rng.randint(1, 3)):
        if not toks:
            toks = [rng.choice(POOL)]
        i = rng.randrange(len(toks))
        op = rng.randrange(4)
        if op == 0:
            del toks[i]
        elif op == 1:
            toks.insert(i, toks[i])
        elif op == 2 and i + 1 < len(toks):
            toks[i], toks[i + 1] = toks[i + 1], toks[i]
        else:
            toks[i] = rng.choice(POOL)
    return "".join(toks)


def _hang(signum: int, frame: object) -> None:
    raise TimeoutError(f"a mutant ran past {HANG_SECONDS} s")


@pytest.mark.slow
def test_token_mutants_of_the_shipped_sheets_never_raise_or_hang() -> None:
    rng = random.Random(11)
    corpus = [c for c in _corpus() if c[2]]
    budget = Budget(seconds=5)
    old = signal.signal(signal.SIGALRM, _hang)
    done = errors = 0
    try:
        for n in range(MUTANTS):
            problem, sheet, lines = corpus[n % len(corpus)]
            k = rng.randrange(len(lines))
            if n % 8:  # the line and the one before it
                text = "\n".join(lines[max(0, k - 1):k] + [_mutate(rng, lines[k])]) + "\n"
            else:      # the whole sheet with one line mutated (carried-forward, abbreviations)
                text = "\n".join(lines[:k] + [_mutate(rng, lines[k])] + lines[k + 1:]) + "\n"
            signal.alarm(HANG_SECONDS)
            try:
                doc = read_text(text, f"mutant-{n}.md")
                report = check_documents([problem, doc], budget=budget)
                render_plain(report, all_claims=True, show_answer=False)
                render_json(report)
            except SymderivError:
                errors += 1  # a clear one-line error (binary data, no model, ...)
            except Exception as err:
                raise AssertionError(f"mutant {n} of {sheet.name} raised {type(err).__name__}: {err}\n"
                                     f"{text!r}") from err
            finally:
                signal.alarm(0)
            done += 1
    finally:
        signal.signal(signal.SIGALRM, old)
    assert done == MUTANTS and errors < MUTANTS // 2
