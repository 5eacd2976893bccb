"""Every format and spelling people write in (SPEC section 1, issue 15): `.tex` and `.ipynb`
documents, Unicode math, decorations, connectors, continuation displays, trailing shape
annotations, inline claims, and math that is never dropped silently."""
from __future__ import annotations

import json

import pytest
from devset import DEVSET
from hypothesis import given, settings
from hypothesis import strategies as st

from symderiv.errors import InputError
from symderiv.read import tree as T
from symderiv.read.document import read_document, read_text
from symderiv.read.lex import tokenize
from symderiv.read.show import sexpr_statement
from symderiv.read.unicode import normalise
from symderiv.report.json import report_dict
from symderiv.report.text import claim_header, plain_claim
from symderiv.verify.check import check_documents

PROBLEM = DEVSET / "two-layer-tanh-mse" / "problem.md"  # x n, W_1 m x n, W_2 p x m, t p
needs_devset = pytest.mark.skipif(not PROBLEM.exists(), reason="development set not available")


def _statements(text: str, file: str = "a.md") -> list[tuple[int, str, bool]]:
    return [(s.span.line, sexpr_statement(s), s.side) for s in read_text(text, file).statements]


def _claims(text: str, file: str = "a.md") -> list[tuple[int, str, list[str]]]:
    rep = check_documents([read_document(PROBLEM), read_text(text, file)], seed=0)
    return [(c.line, c.verdict, [s.verdict for s in c.steps]) for c in rep.claims if c.file == file]


# ---- Unicode -------------------------------------------------------------------------------

PAIRS = [("\\sigma", "σ"), ("^{\\top}", "ᵀ"), ("^{\\top}", "⊤"), ("\\odot", "⊙"), ("\\circ", "∘"),
         ("\\cdot", "·"), ("\\times", "×"), ("-", "−"), ("\\partial", "∂"), ("\\in", "∈"),
         ("\\mathbb{R}", "ℝ"), ("'", "′"), ("'", "’"), ("\\lambda", "λ"), ("\\phi", "φ"),
         ("_{1}", "₁"), ("_{12}", "₁₂"), ("^{2}", "²"), ("\\nabla", "∇")]
ATOMS = ["x", "W", "(", ")", "+", " ", "h", "{", "}"]


@given(st.lists(st.sampled_from(range(len(PAIRS) + len(ATOMS))), min_size=1, max_size=12))
@settings(max_examples=200, deadline=None)
def test_unicode_tokens_are_the_commands_tokens(picks: list[int]) -> None:
    """Unicode text lexes to the same tokens as its commands, at offsets of the text as written."""
    ascii_, uni = "", ""
    for k in picks:
        a, u = PAIRS[k] if k < len(PAIRS) else (ATOMS[k - len(PAIRS)],) * 2
        ascii_, uni = ascii_ + a + " ", uni + u + " "
    try:
        want = [(t.type, t.value) for t in tokenize(ascii_)]
    except Exception as e:  # noqa: BLE001 - the same failure both ways
        with pytest.raises(type(e)):
            tokenize(uni)
        return
    toks = tokenize(uni)
    assert [(t.type, t.value) for t in toks] == want
    assert all(0 <= t.start <= t.end <= len(uni) for t in toks)
    text, starts, ends = normalise(uni)
    assert len(starts) == len(ends) == len(text) + 1
    assert starts == sorted(starts) and ends == sorted(ends) and ends[-1] == len(uni)


def test_unicode_errors_point_at_what_was_written() -> None:
    text = "$$\\bar{z} = \\bar{h} ⊙ σ′(a) ⊙ W₁ᵀ ⊙ @$$"
    (st_,) = read_text(text, "a.md").statements
    assert st_.error is not None and st_.error.span.col == text.index("@") + 1
    assert sexpr_statement(read_text("$$\\bar{W}₁ = \\bar{a}\\, xᵀ ∈ ℝ^{m × n}$$", "a.md").statements[0]) \
        == "bar(W_1) = (* bar(a) (T x))"


@needs_devset
def test_unicode_sheet_verdicts() -> None:
    text = ("$$\\bar{y} = y − t$$\n$$\\bar{h} = W₂ᵀ (y − t)$$\n$$\\bar{h} = W₂ (y − t)$$\n"
            "$$\\bar{W}₁ = \\bar{a}\\, xᵀ$$\n$$\\bar{W}₁ = x\\, \\bar{a}ᵀ$$\n$$\\bar{a} = \\bar{h} ⊙ (𝟙 − h ⊙ h)$$\n"
            "$$\\bar{a} = \\bar{h} ⊙ (𝟙 − h)$$\n")
    got = [(ln, v) for ln, v, _ in _claims(text)]
    assert got == [(1, "correct"), (2, "correct"), (3, "invalid"), (4, "correct"), (5, "invalid"),
                   (6, "correct"), (7, "incorrect")]


# ---- decorations, connectors, continuations ------------------------------------------------

RIGHT = ["\\bar{h} = W_2^\\top \\bar{y}", "\\bar{W}_1 = \\bar{a} x^\\top", "\\bar{b}_2 = y - t"]
WRONG = ["\\bar{h} = -W_2^\\top \\bar{y}", "\\bar{W}_1 = x \\bar{a}^\\top", "\\bar{b}_2 = t - y",
         "\\bar{h} = 2 W_2^\\top \\bar{y}", "\\bar{W}_1 = \\bar{a}^\\top x"]
DECORATE = ["\\boxed{{{}}}", "\\color{{red}}{{{}}}", "\\textcolor{{blue}}{{{}}}", "{}.", "{},",
            "\\displaystyle {} \\nonumber", "{} \\tag{{3}}", "{} \\label{{eq:1}} \\notag", "{}\\phantom{{xx}}"]


def _decorate_inside(line: str, k: int) -> str:
    lhs, rhs = line.split(" = ", 1)
    return [f"{lhs} = \\underbrace{{{rhs}}}_{{\\text{{by the chain rule}}}}",
            f"{lhs} = \\overbrace{{{rhs}}}^{{\\text{{upstream}}}}",
            f"{lhs} = \\boxed{{{rhs}}}", f"{lhs} = \\color{{red}}{{{rhs}}}"][k]


@needs_devset
def test_decorations_are_read_through_and_mutants_are_not_accepted() -> None:
    lines = [d.format(x) for x in RIGHT + WRONG for d in DECORATE]
    lines += [_decorate_inside(x, k) for x in RIGHT + WRONG for k in range(4)]
    got = _claims("".join(f"$${x}$$\n" for x in lines))
    assert len(got) == len(lines)
    for (line, verdict, _), text in zip(got, lines):
        right = any(text.count(r.split(" = ")[1]) and "-W" not in text and "2 W" not in text
                    and "x \\bar{a}^" not in text and "t - y" not in text and "\\bar{a}^\\top x" not in text
                    for r in RIGHT)
        assert (verdict == "correct") == right, (line, text, verdict)


@needs_devset
def test_connectors_start_new_statements() -> None:
    text = "".join(f"$$\\bar{{y}} = y - t {c} {rhs}$$\n" for c in
                   ("\\implies", "\\Rightarrow", "\\therefore", "\\because", "⇒") for rhs in (RIGHT[0], WRONG[0]))
    sts = read_text(text, "a.md").statements
    assert [s.side for s in sts] == [False, True] * 10 and all(s.error is None for s in sts)
    got = _claims(text)
    assert [v for _, v, _ in got] == ["correct", "correct", "correct", "incorrect"] * 5


@needs_devset
def test_a_display_starting_with_equals_continues_the_previous_one() -> None:
    text = ("$$\\bar{h} = W_2^\\top \\bar{y}$$\n\nso\n\n$$= W_2^\\top (y - t)$$\n"
            "$$\\bar{h} = W_2^\\top \\bar{y}$$\n$$= W_2^\\top (t - y)$$\n"
            "$$\\bar{h} = W_2^\\top \\bar{y}$$\n\\[ = W_2^\\top (y - t + 0) \\]\n")
    assert _claims(text) == [(1, "correct", ["correct", "correct"]),
                             (6, "incorrect", ["correct", "incorrect"]),
                             (8, "correct", ["correct", "correct"])]
    (first,) = [s for s in read_text(text, "a.md").statements if s.span.line == 1]
    assert first.parts[2].span.line == 5 and first.parts[2].span.col == 5


# ---- trailing shape annotations -------------------------------------------------------------

@needs_devset
@pytest.mark.parametrize(("line", "steps"), [
    ("\\bar{h} = W_2^\\top \\bar{y} \\in \\mathbb{R}^{m}", ["correct", "correct"]),
    ("\\bar{h} = W_2^\\top \\bar{y} ∈ ℝ^{m}", ["correct", "correct"]),
    ("\\bar{h} = W_2^\\top \\bar{y} \\in \\mathbb{R}^{p}", ["correct", "incorrect"]),
    ("\\bar{h} = W_2^\\top \\bar{y} \\in \\mathbb{R}^{m \\times m}", ["correct", "incorrect"]),
    ("\\bar{h} = -W_2^\\top \\bar{y} \\in \\mathbb{R}^{m}", ["incorrect", "correct"]),
    ("\\bar{W}_1 = \\bar{a} x^\\top \\in \\mathbb{R}^{m \\times n}", ["correct", "correct"]),
    ("\\bar{W}_1 = \\bar{a} x^\\top \\in \\mathbb{R}^{n \\times m}", ["correct", "incorrect"]),
    ("\\bar{W}_1 = \\bar{a} x^\\top = \\bar{h} x^\\top \\in \\mathbb{R}^{m \\times n}",
     ["correct", "incorrect", "correct"]),
])
def test_trailing_annotation_is_a_shape_claim_on_the_last_part(line: str, steps: list[str]) -> None:
    ((_, verdict, got),) = _claims(f"$${line}$$\n")
    assert got == steps
    assert verdict == ("correct" if set(steps) == {"correct"} else "incorrect")


def test_annotation_that_does_not_read_is_a_parse_error() -> None:
    (s,) = read_text("$$\\bar{h} = W x \\in \\mathbb{R}^{m +}$$", "a.md").statements
    assert s.error is not None
    (d,) = read_text("$$x, y \\in \\mathbb{R}^{n}$$", "a.md").statements[:1]
    assert d.annotation is None


# ---- inline claims, math never dropped ------------------------------------------------------

def test_inline_claims_are_read_and_prose_math_is_not() -> None:
    text = ("We get $\\bar{h} = W_2^\\top \\bar{y}$, where $o_t$ is an output and $h$ a state;\n"
            "$\\frac{\\partial \\mathcal{L}}{\\partial y} = y - t$ and $\\bar{x} = ($ too.\n")
    sts = read_text(text, "a.md").statements
    assert [(s.span.line, s.span.col, s.error is None) for s in sts] == [(1, 9, True), (2, 2, True), (2, 56, False)]
    assert all(s.inline for s in sts)


def test_math_nested_deeper_than_the_reader_follows_is_invalid_not_dropped() -> None:
    deep = "".join("  " * k + "- level\n" for k in range(60)) + "  " * 60 + "- $$\\bar{x} = W$$\n"
    sts = read_text(deep, "a.md").statements
    assert len(sts) == 1 and sts[0].error is not None and "nested deeper" in sts[0].error.message
    assert sts[0].span.line == 61
    shallow = "".join("  " * k + "- level\n" for k in range(12)) + "  " * 12 + "- $$\\bar{x} = W$$\n"
    (ok,) = read_text(shallow, "a.md").statements
    assert ok.error is None and ok.span.line == 13


# ---- .tex -------------------------------------------------------------------------------------

TEX = r"""\documentclass{article}
\usepackage{amsmath}
\newcommand{\adj}[1]{\bar{#1}}
\def\res{(y - t)}
\newcommand\bad{W_2^\top (}
$$\bar{q} = 1$$ % the preamble is not read
\begin{document}
\section{Backward} Some prose, 100\% sure. % $$\bar{x} = 0$$
\[ \adj{b}_2 = \res \]
\begin{align*}
\adj{h} &= W_2^\top \adj{y} \\ % a comment
        &= W_2^\top \res \\
\adj{b}_1 &= \bad
\end{align*}
$\adj{h} = W_2 \res$ inline.
\end{document}
$$\bar{z} = 1$$
"""


def test_tex_reader_positions_macros_and_comments() -> None:
    doc = read_text(TEX, "a.tex")
    got = [(s.span.line, sexpr_statement(s)) for s in doc.statements]
    assert got[:2] == [(9, "bar(b_2) = (+ y -t)"), (11, "bar(h) = (* (T W_2) bar(y)) = (* (T W_2) (+ y -t))")]
    assert got[2][0] == 13 and got[2][1].startswith("ERROR")
    err = doc.statements[2].error
    assert "in the expansion of `\\bad`, used at line 13" in err.message and err.span.line == 13
    assert got[3] == (15, "bar(h) = (* W_2 (+ y -t))") and doc.statements[3].inline
    assert len(got) == 4


@pytest.mark.parametrize("defs", [
    r"\def\a{\a}",
    r"\newcommand{\a}{\a x}",
    r"\def\e{xxxxxxxxxx}\def\d{\e\e\e\e\e\e\e\e\e\e}\def\c{\d\d\d\d\d\d\d\d\d\d}\def\b{\c\c\c\c\c\c\c\c\c\c}"
    r"\def\a{\b\b\b\b\b\b\b\b\b\b}",
])
def test_macro_bombs_are_refused_with_the_macro_and_its_line(defs: str) -> None:
    text = f"\\documentclass{{article}}\n{defs}\n\\begin{{document}}\n\n\\[ \\a = 1 \\]\n\\end{{document}}\n"
    with pytest.raises(InputError) as e:
        read_text(text, "bomb.tex")
    assert "bomb.tex:5" in str(e.value) and "macro `\\" in str(e.value)


def test_tex_without_document_environment_and_unclosed_math() -> None:
    sts = read_text("\\[ \\bar{x} = 1 \\]\n\\begin{equation}\n\\bar{y} = 2\n", "a.tex").statements
    assert [(s.span.line, s.error is None) for s in sts] == [(1, True), (2, False)]
    assert "unclosed" in sts[1].error.message


# ---- .ipynb ------------------------------------------------------------------------------------

def _nb(cells: list[tuple[str, str]]) -> str:
    return json.dumps({"nbformat": 4, "nbformat_minor": 5, "metadata": {},
                       "cells": [{"cell_type": k, "metadata": {}, "source": s.splitlines(True)} for k, s in cells]})


NB = _nb([("markdown", "# Answers\n\n$$\\bar{h} = W_2^\\top \\bar{y}$$"), ("code", "$$\\bar{h} = 0$$"),
          ("markdown", "text\n$$\\bar{h} = W_2 \\bar{y}$$\n$$\\bar{W}_1 = \\bar{a} x^\\top$$\n")])


@needs_devset
def test_notebook_positions_in_every_report_format() -> None:
    from symderiv.pytest_plugin import claim_item_name
    from symderiv.report.gradescope import results
    from symderiv.report.html import render as html
    from symderiv.scoring import Policy, score_report

    doc = read_text(NB, "hw.ipynb")
    assert [(s.span.cell, s.span.line) for s in doc.statements] == [(1, 3), (3, 2), (3, 3)]
    rep = check_documents([read_document(PROBLEM), doc], seed=0)
    mine = [c for c in rep.claims if c.file == "hw.ipynb"]
    assert [(c.cell, c.line, c.verdict) for c in mine] == [(1, 3, "correct"), (3, 2, "invalid"), (3, 3, "correct")]
    js = [c for c in report_dict(rep)["claims"] if c["file"] == "hw.ipynb"]
    assert [(c["cell"], c["line"]) for c in js] == [(1, 3), (3, 2), (3, 3)]
    assert claim_header(mine[1]).startswith("hw.ipynb:cell 3:2 ")
    assert "at cell 3, line 2" in plain_claim(mine[1])
    assert [claim_item_name(c) for c in mine] == ["\\bar{h}@1:3", "\\bar{h}@3:2", "\\bar{W_1}@3:3"]
    out = results(rep, score_report(rep, Policy((("h", 1.0), ("W_1", 1.0)))))
    assert "hw.ipynb:cell 3:2 " in out["output"]
    assert any("final answer on cell 3, line 2" in t["output"] for t in out["tests"])
    page = html(rep)
    assert "hw.ipynb:cell 3:2" in page and "hw-ipynb-C3-L2" in page


@pytest.mark.parametrize(("text", "words"), [
    ("{not json", "invalid JSON"),
    ("[1, 2]", "no `cells` list"),
    (json.dumps({"nbformat": 3, "cells": []}), "nbformat 3"),
    (json.dumps({"nbformat": 4, "cells": [{"source": "x"}]}), "cell 1"),
    (json.dumps({"nbformat": 4, "cells": [{"cell_type": "markdown", "source": 3}]}), "cell 1: `source`"),
    ("[" * 100_000 + "]" * 100_000, "not a notebook"),
])
def test_bad_notebooks_are_clear_errors(text: str, words: str) -> None:
    with pytest.raises(InputError) as e:
        read_text(text, "hw.ipynb")
    assert words in str(e.value) and "hw.ipynb" in str(e.value)


# ---- the development set's format sheets: reading exactly right ------------------------------

FORMAT_SHEETS = ["generic-phi/answers-2.md", "generic-phi/answers-3.tex", "rnn-bptt/answers-2.tex",
                 "mlp-layers-sigmoid/answers-2.ipynb"]
#: notation engineers other than `formats` are building; an error about anything else is ours
OTHERS = ("`\\sum` is not supported",)


def _expected(sheet: str) -> list[dict]:
    rows = json.loads((DEVSET / "expected.json").read_text(encoding="utf-8"))
    prob, name = sheet.split("/")
    return [r for r in rows if r["problem"] == prob and r["file"] == name]


def _kinds(s: T.Statement) -> set[str]:
    """The kinds a statement's form allows (the model decides among them)."""
    if s.relation == "in":
        return {"declaration"}
    lhs = s.parts[0]
    if isinstance(lhs, T.Bar) or (isinstance(lhs, T.Partial) and lhs.num == "\\mathcal{L}"):
        return {"adjoint"}
    if isinstance(lhs, T.Partial):
        return {"jacobian"}
    if isinstance(lhs, T.Name):  # `\delta^{(l)}` is an adjoint once the sheet defines it so
        return {"definition", "identity"} | ({"adjoint"} if lhs.name.startswith("\\delta") else set())
    return {"identity"}


@pytest.mark.skipif(not (DEVSET / "expected.json").exists(), reason="development set not available")
@pytest.mark.parametrize("sheet", FORMAT_SHEETS)
def test_format_sheets_read_at_their_labelled_positions(sheet: str) -> None:
    rows = _expected(sheet)
    sts = read_document(DEVSET / sheet).statements
    at: dict[tuple, list[T.Statement]] = {}
    for s in sts:
        at.setdefault((s.span.cell, s.span.line), []).append(s)
    assert sorted(at, key=str) == sorted({(r.get("cell"), r["line"]) for r in rows}, key=str)
    for r in rows:
        found = at[(r.get("cell"), r["line"])]
        main = found[0]
        assert len(found) == 1 + (r.get("side") or 0), r
        assert all(x.side for x in found[1:])
        if main.error is not None:
            assert any(w in main.error.message for w in OTHERS), (r, main.error)
            continue
        assert r["kind"] in _kinds(main), r
        assert (main.annotation is not None) == bool(r.get("annotation")), r
        if r.get("steps") is not None:
            assert len(main.parts) - 1 + (main.annotation is not None) == len(r["steps"]), r


# ---- hostile input: a clear error or a document, never a traceback -------------------------------

FRAGMENTS = ["\\newcommand{\\a}[1]{#1#1}", "\\def\\b{\\a{\\b}}", "\\a{x}", "\\b", "$$", "$", "\\[", "\\]",
             "\\begin{align*}", "\\end{align*}", "\\begin{document}", "\\end{document}", "%", "\\%", "\n",
             "{", "}", "=", "\\bar{x}", "σ", "₁", "ᵀ", "\\boxed{", "\\implies", "\\in \\mathbb{R}^{n}", "#1",
             "\\def", "\\newcommand", "[2]", "\\\\", "&"]


@given(st.lists(st.sampled_from(FRAGMENTS), max_size=40), st.sampled_from(["a.tex", "a.md"]))
@settings(max_examples=300, deadline=None)
def test_random_documents_read_or_fail_clearly(parts: list[str], name: str) -> None:
    try:
        doc = read_text("".join(parts), name)
    except InputError as e:
        assert name in str(e)
        return
    for s in doc.statements:
        assert s.span.line >= 1 and s.span.col >= 1


@given(st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=5),
                    lambda kids: st.lists(kids, max_size=4) | st.dictionaries(
                        st.sampled_from(["cells", "cell_type", "source", "nbformat", "markdown"]), kids, max_size=4),
                    max_leaves=20))
@settings(max_examples=300, deadline=None)
def test_random_json_notebooks_read_or_fail_clearly(value: object) -> None:
    try:
        read_text(json.dumps(value), "hw.ipynb")
    except InputError as e:
        assert "hw.ipynb" in str(e)


# ---- the generic-φ format sheets, with sin standing for φ ------------------------------------------

@pytest.mark.skipif(not (DEVSET / "generic-phi" / "problem.md").exists(), reason="development set not available")
@pytest.mark.parametrize("sheet", ["answers-1.md", "answers-2.md", "answers-3.tex"])
def test_generic_phi_sheets_with_sin_for_phi(sheet: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Until generic functions land, φ = sin measures these sheets' reading: the labels' oracle
    checks every line with sin as one of its φ, and a wrong line must fail on every draw, so a
    line wrong for a generic φ is wrong for sin (and a right one right). Lines stay in place."""
    def sin_for_phi(text: str) -> str:
        text = text.replace("$$\\phi : \\mathbb{R} \\to \\mathbb{R}$$", "$$q \\in \\mathbb{R}$$")
        return text.replace("\\phi", "\\sin").replace("φ", "\\sin ")

    src = DEVSET / "generic-phi"
    problem = tmp_path / "problem.md"
    problem.write_text(sin_for_phi((src / "problem.md").read_text(encoding="utf-8")), encoding="utf-8")
    answers = tmp_path / sheet
    answers.write_text(sin_for_phi((src / sheet).read_text(encoding="utf-8")), encoding="utf-8")
    rep = check_documents([read_document(problem), read_document(answers)], seed=0)
    verdicts: dict[int, list[str]] = {}
    for c in rep.claims:
        if c.file == str(answers):
            verdicts.setdefault(c.line, []).append(c.verdict)
    rows = [r for r in json.loads((DEVSET / "expected.json").read_text(encoding="utf-8"))
            if r["problem"] == "generic-phi" and r["file"] == sheet]
    assert rows and set(verdicts) == {r["line"] for r in rows}
    for r in rows:
        accepted = all(v == "correct" for v in verdicts[r["line"]])
        assert accepted == (r["expect"] == "correct"), (r["line"], r.get("why"), verdicts[r["line"]])


def test_a_lone_dollar_in_tex_prose_is_not_math() -> None:
    sts = read_text("costs $5 today.\n\n$$\\bar{x} = 1$$\nand $\\bar{y} = 2$.\n", "a.tex").statements
    assert [(s.span.line, s.latex) for s in sts] == [(3, "\\bar{x} = 1"), (4, "\\bar{y} = 2")]


MACRO_ERRORS = r"""\documentclass{article}
\newcommand{\res}{(y - t)}
\newcommand{\wrongway}{W_2 \bar{h}}
\newcommand{\plus}[1]{#1 + q}
\begin{document}
\[ \bar{y} = \res \]
\[ \bar{h} = \wrongway \]
\[ \bar{h} = W_2^\top \bar{y} + \plus{0} \]
\[ \bar{h} = W_2 \bar{y} \]
\end{document}
"""


@needs_devset
def test_a_shape_or_unknown_name_error_in_a_macro_names_it_and_its_use() -> None:
    rep = check_documents([read_document(PROBLEM), read_text(MACRO_ERRORS, "m.tex")], seed=0)
    steps = {c.line: c.steps[-1] for c in rep.claims if c.file == "m.tex"}
    assert steps[6].verdict == "correct"
    for line, macro, reason in ((7, "wrongway", "shape"), (8, "plus", "unknown-symbol")):
        s = steps[line]
        assert s.verdict == "invalid" and s.reason == reason
        assert s.message.endswith(f"(in the expansion of `\\{macro}`, used at line {line})"), s.message
        col = MACRO_ERRORS.splitlines()[line - 1].index("\\" + macro) + 1
        assert (s.span.line, s.span.col) == (line, col)
        assert s.span.end_col == col + len(macro) + 1 + (3 if macro == "plus" else 0)
    plain = steps[9]  # the same error written out: no macro is blamed
    assert plain.verdict == "invalid" and "expansion" not in plain.message


# ---- superscript names: only declared names are names --------------------------------------

SUPNAMES = r"""
$$x \in \mathbb{R}^{n}$$
$$W^{in} \in \mathbb{R}^{m \times n}$$
$$a \in \mathbb{R}$$
$$h^{out} = W^{in} x$$
$$\mathcal{L} = \mathbf{1}^\top h^{out} + a^{2}$$
"""


def _sup(line: str):
    rep = check_documents([read_text(SUPNAMES, "p.md"), read_text(f"$${line}$$", "a.md")], seed=0)
    (claim,) = [c for c in rep.claims if c.file == "a.md"]
    return claim.steps[-1]


@pytest.mark.parametrize("line", [
    r"\bar{h}^{out} = \mathbf{1}",
    r"\bar{x} = (W^{in})^\top \bar{h^{out}}",
    r"\frac{\partial \mathcal{L}}{\partial W^{in}} = \bar{h}^{out} x^\top",
    r"\overline{W^{in}} = \mathbf{1} x^\top",
    r"\bar{a} = e^{aa} - e^{a^{2}} + 2a",  # undeclared superscript words: powers, as written
])
def test_declared_superscript_names_are_names(line: str) -> None:
    assert _sup(line).verdict == "correct"


@pytest.mark.parametrize("line, words, hint", [
    (r"\bar{x} = (W^{in})^\top \bar{h^{in}}", "unknown symbol h^{in}", "did you mean h^{out}?"),
    (r"\bar{x} = x^{out}", "`out` is not a number", "x^{out} is not declared, x is"),
    (r"\bar{a} = 2 a^{(1)}", "unknown symbol a^{(1)}", "a power is written a^{2}"),
    (r"\bar{x} = (W^{(2)})^\top \mathbf{1}", "unknown symbol W^{(2)}", "did you mean W^{in}?"),
])
def test_undeclared_superscript_names_are_invalid_with_a_hint(line: str, words: str, hint: str) -> None:
    step = _sup(line)
    assert step.verdict == "invalid" and step.reason == "unknown-symbol"
    assert words in step.message and hint in (step.hint or ""), (step.message, step.hint)


def test_a_superscript_word_is_one_name_token() -> None:
    assert [(t.type, t.value) for t in tokenize(r"h^{out} + x^{T} + \bar{h}^{ out }")] == [
        ("NAME", "h^{out}"), ("PLUS", "+"), ("NAME", "x"), ("TRANSPOSE", "^{T}"), ("PLUS", "+"),
        ("BAR", "h^{out}")]
