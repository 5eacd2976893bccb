"""Acceptance (issue 15): every shipped sheet and every supported development-set sheet,
rewritten as a `.tex` document, as a notebook and with Unicode math, gets the same verdicts,
claim for claim, at the same positions (a notebook's at its cell and line)."""
from __future__ import annotations

from pathlib import Path

import pytest
from devset import DEVSET, SUPPORTED
from rewrite import as_notebook, as_tex, as_unicode

from symderiv.read.document import read_document, read_text
from symderiv.verify.check import check_documents

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = sorted(p for p in (ROOT / "derivations").glob("*/*.md") if p.name != "problem.md")
DEV = sorted(p for p in DEVSET.glob("*/*.md") if p.parent.name in SUPPORTED and p.name != "problem.md")
SHEETS = SHIPPED + DEV


def _verdicts(problem: Path, doc) -> list[tuple]:  # type: ignore[no-untyped-def]
    rep = check_documents([read_document(problem), doc], seed=0)
    return [(c.cell, c.line, c.kind, c.target, c.verdict, tuple((s.verdict, s.reason) for s in c.steps))
            for c in rep.claims if c.file == doc.file]


def _name(p: Path) -> str:
    return f"{p.parent.parent.name}/{p.parent.name}/{p.name}"


@pytest.fixture(scope="module")
def originals() -> dict[Path, list[tuple]]:
    return {}


def _original(p: Path, cache: dict[Path, list[tuple]]) -> list[tuple]:
    if p not in cache:
        cache[p] = _verdicts(p.parent / "problem.md", read_document(p))
    return cache[p]


@pytest.mark.parametrize("sheet", SHEETS, ids=_name)
def test_rewritten_sheets_get_the_same_verdicts(sheet: Path, originals: dict) -> None:
    want = _original(sheet, originals)
    assert want, "the sheet has claims"
    text = sheet.read_text(encoding="utf-8")
    problem = sheet.parent / "problem.md"
    assert _verdicts(problem, read_text(as_tex(text), str(sheet.with_suffix(".tex")))) == want
    assert _verdicts(problem, read_text(as_unicode(text), str(sheet.with_suffix(".u.md")))) == want
    nb, where = as_notebook(text)
    got = _verdicts(problem, read_text(nb, str(sheet.with_suffix(".ipynb"))))
    assert [((g[0], g[1]), g[2:]) for g in got] == [(where[w[1]], w[2:]) for w in want]


def test_the_rewrites_really_rewrite() -> None:
    """The rewrites are not the identity: Unicode, `\\[`, macros and cells are all exercised."""
    text = (ROOT / "derivations" / "mlp-relu" / "answers.md").read_text(encoding="utf-8")
    tex, uni = as_tex(text), as_unicode(text)
    nb, where = as_notebook(text)
    assert "\\[" in tex and "$$" not in tex and "\\bb{" in tex and "\\begin{document}" in tex
    assert any(c in uni for c in "ᵀ⊙₁") and "$$" in uni
    assert len({c for c, _ in where.values()}) > 1


def _mutant_lines(problem: Path, answers: Path) -> tuple[list[str], list[bool | None]]:
    from mutate import (
        Oracle,
        Undecidable,
        adjoint_lines,
        dedupe,
        lhs_latex,
        mutants,
        parse_statement,
        unparse,
    )

    orc = Oracle(problem)
    lines, equal = [], []
    for line in adjoint_lines(answers, orc):
        for part in line.parts:
            for _kind, _tree, latex in dedupe(mutants(part, orc.shapes), unparse(part)):
                statement = f"{lhs_latex(line.lhs)} = {latex}"
                reparsed = parse_statement(statement)
                try:
                    same = False if reparsed.error or len(reparsed.parts) != 2 else orc.equal(
                        reparsed.parts[1], line.target)
                except Undecidable:
                    same = None
                lines.append(statement)
                equal.append(same)
    return lines, equal


MAX_MUTANTS = 60  # every kind appears well within this many; the full run is test_soundness's


@pytest.mark.parametrize("name", ["mlp-relu"])
def test_mutants_in_every_format_are_not_accepted(name: str) -> None:
    """Mutants (sign, transpose, swaps, dropped terms, scale, ...) of the shipped answers, written
    as `.tex`, as a notebook, with Unicode and boxed: the same verdicts as in Markdown, and no
    wrong one accepted."""
    base = ROOT / "derivations" / name
    answers = base / ("answers.md" if (base / "answers.md").exists() else "seed-answers.md")
    lines, equal = _mutant_lines(base / "problem.md", answers)
    step = max(1, len(lines) // MAX_MUTANTS)  # spread over the sheet's lines
    lines, equal = lines[::step], equal[::step]
    assert len(lines) > 20
    text = "".join(f"$${s}$$\n" for s in lines)
    boxed = "".join(f"$$\\boxed{{{s}}}.$$\n" for s in lines)

    def by_line(doc, where=None) -> dict:  # type: ignore[no-untyped-def]
        rep = check_documents([read_document(base / "problem.md"), doc], seed=0)
        out: dict = {}
        for c in rep.claims:
            if c.file == doc.file and not c.side:
                key = where[c.cell][c.line] if where else c.line
                out.setdefault(key, []).append(c.verdict)
        return out

    want = by_line(read_text(text, "m.md"))
    for k, same in enumerate(equal, 1):
        if same is False:
            assert want.get(k) and "correct" not in want[k], (lines[k - 1], want.get(k))
    assert by_line(read_text(as_tex(text), "m.tex")) == want
    assert by_line(read_text(as_unicode(text), "m.md")) == want
    assert by_line(read_text(boxed, "m.md")) == want
    nb, where = as_notebook(text)
    back: dict = {}
    for original, (cell, ln) in where.items():
        back.setdefault(cell, {})[ln] = original
    assert by_line(read_text(nb, "m.ipynb"), back) == want
