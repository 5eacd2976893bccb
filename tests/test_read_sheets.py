"""The seed sheet and the devset sheets read into the expected statements and trees."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from devset import DEVSET, SUPPORTED
from family_oracle import is_family_problem

from symderiv.read import tree as T
from symderiv.read.document import Document, read_document
from symderiv.read.show import sexpr, sexpr_statement

#: the shipped copy of the real seed sheet (test_seed.py checks it is the real one)
SEED = Path(__file__).resolve().parents[1] / "derivations" / "gated-unit" / "seed-answers.md"
SHEETS = sorted(p for p in DEVSET.glob("*/*.md") if p.parent.name in SUPPORTED)

# (sheet, line) -> (words of the message, column)
PARSE_ERRORS = {
    ("batch-softmax-ce/answers-3.md", 9): ("unclosed parenthesis `(`", 24),
    ("batchnorm/answers-3.md", 18): ("`\\right` without its delimiter", 102),
    ("cookbook-trace-xbxt/answers-2.md", 13): ("`\\right` without its delimiter", 31),
    ("gru-style-gate/answers-2.md", 12): ("dangling `\\odot` at the end", 38),
    ("two-layer-tanh-mse/answers-2.md", 45): ("unclosed brace `{`", 25),
    ("two-step-linear-chain/answers-2.md", 18): ("one `)` too many", 34),
    ("rnn-bptt/answers-3.md", 21): ("unclosed brace `{`", 24),
    ("mlp-layers-sigmoid/answers-3.md", 16): ("unclosed `\\left`", 18),
}
#: what a family problem's reader leaves to `meaning/families.py` (declarations and ranges with `\dots`)
FAMILY_SYNTAX = "`\\dots` is not supported"


def _by_line(doc: Document) -> dict[int, list[T.Statement]]:
    out: dict[int, list[T.Statement]] = {}
    for st in doc.statements:
        out.setdefault(st.span.line, []).append(st)
    return out


@pytest.fixture(scope="module")
def seed() -> dict[int, list[T.Statement]]:
    return _by_line(read_document(SEED))


def test_seed_declarations_line_16(seed: dict[int, list[T.Statement]]) -> None:
    sts = seed[16]
    assert [sexpr_statement(s) for s in sts] == ["W in R^cxd", "U in R^cxb", "v in R^c", "r in R^a"]
    assert [s.span.col for s in sts] == [3, 34, 65, 85]
    assert sts[0].latex == r"W \in \mathbb{R}^{c \times d}"
    assert not any(s.inline or s.side or s.error for s in sts)


def test_seed_inline_declarations_only(seed: dict[int, list[T.Statement]]) -> None:
    inline = [(ln, s.span.col, sexpr_statement(s)) for ln, sts in seed.items() for s in sts if s.inline]
    assert inline == [(10, 10, "z in R^c"), (10, 37, "s in R^c"), (11, 9, "s in R^c"), (12, 9, "z in R^c"),
                      (13, 9, "h in R^c"), (13, 31, "v in R^c"), (14, 9, "x in R^a"), (14, 31, "r in R^a")]


def test_seed_adjoint_chain_line_24(seed: dict[int, list[T.Statement]]) -> None:
    (st,) = seed[24]
    q = "(/ (+ t -y) (* y (+ 1 -y)))"
    assert [sexpr(p) for p in st.parts] == [
        "bar(z_y)", "(* bar(y) d(y/z_y))", f"(* {q} sigma'(z_y))",
        f"(* {q} sigma(z_y) (+ 1 -sigma(z_y)))"]


def test_seed_side_identity_line_26(seed: dict[int, list[T.Statement]]) -> None:
    main, side = seed[26]
    assert not main.side and side.side
    assert sexpr(main.parts[0]) == "bar(h)" and len(main.parts) == 3
    assert sexpr_statement(side) == "sigma'(z_y) = (* sigma(z_y) (+ 1 -sigma(z_y)))"
    assert side.span.col == 116 and side.latex.startswith(r"\sigma'(z_y) =")


def test_seed_hadamard_binds_looser_than_juxtaposition(seed: dict[int, list[T.Statement]]) -> None:
    q = "(/ (+ t -y) (* y (+ 1 -y)))"
    assert sexpr(seed[40][0].parts[2]) == f"(o (* {q} sigma'(z_y) v) (* diag(s) (T x)))"
    assert sexpr(seed[38][0].parts[2]) == f"(o (* {q} sigma'(z_y) v) (* diag(z) (T \\eta)))"
    _main, side = seed[32]
    assert sexpr_statement(side) == "(o z s) = (* diag(z) s) = (* diag((* s z)) z)"
    x = seed[42][0].parts
    assert sexpr(x[1]) == "(+ (* bar(z) d(z/x)) (* bar(r) d(z_y/x)))"
    assert sexpr(x[2]).startswith(f"(+ (o (* (T W) {q} sigma'(z_y) v) diag(s)) (*")


def test_seed_every_display_line_parses(seed: dict[int, list[T.Statement]]) -> None:
    lines = SEED.read_text().splitlines()
    display = [i + 1 for i, ln in enumerate(lines) if "$$" in ln]
    assert display == sorted(ln for ln, sts in seed.items() if any(not s.inline for s in sts))
    assert all(s.error is None for sts in seed.values() for s in sts)


@pytest.mark.parametrize("sheet", SHEETS, ids=[str(p.relative_to(DEVSET)) for p in SHEETS])
def test_devset_sheet(sheet: Path) -> None:
    doc = read_document(sheet)
    name = str(sheet.relative_to(DEVSET))
    if sheet.name.startswith("answers"):
        assert doc.front_matter == {"problem": "problem.md"}
    by_line = _by_line(doc)
    # one statement (or a main + side pair) per `$$` line; a display starting with `=` continues
    # the statement before it (SPEC 1)
    display = [i + 1 for i, ln in enumerate(sheet.read_text().splitlines())
               if "$$" in ln and not ln.strip().removeprefix("$$").lstrip().startswith("=")]
    assert sorted(by_line) == display
    for line, sts in by_line.items():
        if (name, line) in PARSE_ERRORS:
            words, col = PARSE_ERRORS[(name, line)]
            (st,) = sts
            assert st.error is not None and words in st.error.message, st.error
            assert (st.error.span.line, st.error.span.col) == (line, col)
            assert (st.span.line, st.span.col) == (line, 3)
        elif sheet.name == "problem.md" and is_family_problem(sheet):
            assert all(st.error is None or FAMILY_SYNTAX in st.error.message for st in sts), sts
        else:
            assert all(st.error is None for st in sts), [str(st.error) for st in sts]


def test_devset_expected_labels_match_the_statements() -> None:
    """expected.json: side lines hold two statements; adjoint/identity steps count the parts."""
    for entry in json.loads((DEVSET / "expected.json").read_text()):
        if entry["problem"] not in SUPPORTED:
            continue
        doc = read_document(DEVSET / entry["problem"] / entry["file"])
        sts = [st for st in _by_line(doc)[entry["line"]] if st.span.cell == entry.get("cell")]  # notebooks
        assert len(sts) == 1 + bool(entry.get("side")), entry
        main = sts[0]
        if entry.get("why") == "parse":
            assert main.error is not None
            continue
        assert main.error is None
        if entry["kind"] == "declaration":
            assert main.relation == "in"
        elif entry["steps"] is not None and entry["kind"] in ("adjoint", "identity"):
            annotated = bool(entry.get("annotation"))  # a trailing `\in \mathbb{R}^{q}`: the last step
            assert (main.annotation is not None) == annotated, entry
            assert len(main.parts) - 1 + annotated == len(entry["steps"]), entry


def test_devset_pinned_trees() -> None:
    def line(sheet: str, n: int) -> str:
        return sexpr_statement(_by_line(read_document(DEVSET / sheet))[n][0])

    assert line("residual-relu/answers-1.md", 9) == (
        "bar(u) = (* bar(a) d(a/u)) = (o relu'(u) bar(a)) = (o [u > 0] bar(a))")
    assert line("residual-relu/answers-1.md", 14) == "bar(u) = (* diag([u > 0]) (T W_2) (+ y -t))"
    assert line("residual-relu/answers-1.md", 15) == (
        r"grad_W_1(\mathcal{L}) = (* bar(u) d(u/W_1)) = (* bar(u) (T x))")
    assert line("two-step-linear-chain/answers-1.md", 7) == (
        "(^ normF((+ Y -T)) 2) = (* (T 1vec) (o (+ Y -T) (+ Y -T)) 1vec)")
    assert line("two-step-linear-chain/answers-1.md", 13) == (
        r"d(\mathcal{L}/X) = (* (T W) bar(H)) = (* (T W) (T V) (+ Y -T)) = (* (T (* V W)) (+ Y -T))")
    assert line("logistic-weight-decay/problem.md", 14) == (
        r"\mathcal{L} = (+ -(* t log(y)) -(* (+ 1 -t) log((+ 1 -y))) (* (/ \lambda 2) (^ norm2(w) 2)))")
    assert line("logistic-weight-decay/problem.md", 9) == "t in {0,1}"
    assert line("logistic-weight-decay/answers-1.md", 6) == "y = (/ 1 (+ 1 exp((+ -z))))"
    assert line("logistic-weight-decay/answers-1.md", 17) == "bar(t) = (+ log((+ 1 -y)) -log(y)) = (+ -z)"
    assert line("gaussian-nll-mean/answers-1.md", 8) == r"bar(\mu) = (* bar(r) d(r/\mu)) = (+ -bar(r))"
    assert line("gru-style-gate/answers-1.md", 17) == (
        "grad_x(L) = (+ (* bar(u) d(u/x)) (* bar(c) d(c/x))) = "
        "(+ (* (T A) (o bar(u) sigma'((* A x)))) (* (T B) (o bar(c) (+ 1vec -(o c c)))))")
    assert line("cookbook-trace-xbxt/answers-1.md", 21) == "d(f/B) = (T (* (T X) X))"
    assert line("two-layer-tanh-mse/answers-1.md", 8) == r"bar(\mathcal{L}) = 1"
    assert line("two-layer-tanh-mse/answers-2.md", 19) == (
        r"bar(y) = (* bar(\mathcal{L}) d(\mathcal{L}/y)) = (+ y -t)")
