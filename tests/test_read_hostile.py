"""Hostile and random input: the reader answers with ParseError (or InputError)
and never raises anything else, recurses too deep, or hangs."""
from __future__ import annotations

import pytest
from devset import DEVSET
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from symderiv.errors import InputError, ParseError
from symderiv.read import tree as T
from symderiv.read.document import MAX_STATEMENTS, read_text
from symderiv.read.parse import MAX_STATEMENT, parse_expression, parse_statement

LINES = sorted({ln.strip().strip("$") for p in DEVSET.glob("*/*.md") for ln in p.read_text().splitlines()
                if ln.startswith("$$")}) or [r"\bar{x} = W^\top \bar{y}"]
PIECES = [
    "x", "W_1", "z_{y}", " ", "+", "-", "=", "/", "^", "_", "'", "*", ",", ".", "(", ")", "[", "]", "{", "}",
    "|", "&", "~", "$", "$$", "0", "1", "2", "T", r"\frac", r"\bar", r"\odot", r"\circ", r"\cdot", r"\left",
    r"\right", r"\left(", r"\right)", r"\|", r"\{", r"\}", r"\mathbf{", r"\mathbb{1}", r"\mathbb{R}", r"\sigma",
    r"\tanh", r"\log", r"\in", r"\partial", r"\nabla_", r"\text{", r"\operatorname{", r"\top", r"\prime",
    r"\quad", r"\\", r"\,", "\\", r"\begin{align}", r"\end{align}", "\n", r"\[", r"\]", ">", r"\geq",
    r"\mathcal{L}", r"\hat", r"\sqrt", r"\R", "%", "#", "-", "\u2212", "\u00e9", "\x01",
]
latexish = st.lists(st.sampled_from(PIECES), max_size=40).map("".join)


def _check(stmt: T.Statement) -> None:
    assert isinstance(stmt, T.Statement)
    if stmt.error is not None:
        assert isinstance(stmt.error, ParseError) and stmt.error.span is not None
        assert stmt.parts == ()
    elif stmt.relation == "maps":  # a generic function's declaration: its name, no parts
        assert stmt.parts == () and len(stmt.names) == 1
    else:
        assert stmt.parts and stmt.relation in ("=", "in", ">", ">=", "<", "<=", "succ", "succeq")
        if stmt.relation not in ("=", "in"):
            assert len(stmt.parts) == 2


@pytest.mark.slow
@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(latexish)
def test_random_latex_never_raises(text: str) -> None:
    _check(parse_statement(text, "r.md", 3, 4))


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=80))
def test_random_unicode_never_raises(text: str) -> None:
    _check(parse_statement(text))


@st.composite
def edited_lines(draw: st.DrawFn) -> str:
    line = draw(st.sampled_from(LINES))
    for _ in range(draw(st.integers(1, 3))):
        i = draw(st.integers(0, max(0, len(line) - 1)))
        op = draw(st.sampled_from(["delete", "insert", "duplicate"]))
        if op == "delete":
            line = line[:i] + line[i + 1:]
        elif op == "insert":
            line = line[:i] + draw(st.sampled_from(PIECES)) + line[i:]
        else:
            line = line[:i] + line[i:i + 1] * 2 + line[i + 1:]
    return line


@pytest.mark.slow
@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(edited_lines())
@example(r"\phi: \mathbb{R} \to \mathbb{R}")  # a generic function's declaration (relation `maps`)
def test_edited_devset_lines_never_raise(text: str) -> None:
    stmt = parse_statement(text, "e.md", 9, 3)
    _check(stmt)
    if stmt.error is not None:  # the error points inside the statement
        span = stmt.error.span
        assert 9 <= span.line <= 9 + text.count("\n") and 1 <= span.col <= 3 + len(text)


@pytest.mark.slow
@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(PIECES + ["$", "$$", "\n\n", "- ", "> ", "---\n", "    ", "`"]),
                max_size=60).map("".join))
def test_random_markdown_reads(text: str) -> None:
    try:
        doc = read_text(text, "m.md")
    except InputError:
        assert "\x00" in text
        return
    for stmt in doc.statements:
        _check(stmt)
        assert 1 <= stmt.span.line <= text.count("\n") + 1


def test_deep_parentheses() -> None:
    stmt = parse_statement("(" * 50_000 + "x" + ")" * 50_000)
    assert "too long" in stmt.error.message  # the length cap fires before any parsing
    stmt = parse_statement("a = " + "(" * 65 + "x" + ")" * 65)
    assert "nested deeper than 64" in stmt.error.message
    stmt = parse_statement("a = " + "(" * 60 + "x" + ")" * 60)
    assert stmt.error is None


def test_long_sums_and_chains() -> None:
    stmt = parse_statement(" + ".join(["x"] * 200_000))
    assert "too long" in stmt.error.message
    terms = " + ".join(["x"] * 1200)
    assert len(terms) < MAX_STATEMENT and parse_statement(terms).error is None
    stmt = parse_statement(r" \odot ".join(["x"] * 600))
    assert "nested deeper than 200" in stmt.error.message
    assert parse_statement("a = " + " ".join(["x^T"] * 1000)).error is None


def test_towers_and_decorations() -> None:
    assert parse_expression("x^{9^{9^{9^9}}}") is not None
    assert parse_statement("a = " + r"\bar{" * 30 + "x" + "}" * 30).error is not None
    assert parse_statement("a = " + r"\mathbf{" * 30 + "x" + "}" * 30).error is None
    assert parse_statement("a = " + r"\bar{\hat{\mathbf{\tilde{x}}}}").error is None


def test_binary_garbage() -> None:
    garbage = bytes(range(256)).decode("latin-1") * 20
    _check(parse_statement(garbage[:4000]))
    with pytest.raises(InputError, match="binary"):
        read_text(garbage, "g.md")
    doc = read_text(garbage.replace("\x00", ""), "g.md")
    for stmt in doc.statements:
        _check(stmt)


def test_documents() -> None:
    assert read_text("", "e.md").statements == ()
    (stmt,) = read_text("$$" + " + ".join(["x"] * 200_000) + "$$\n", "l.md").statements
    assert "too long" in stmt.error.message
    (stmt,) = read_text("$$" + "(" * 50_000 + "x" + ")" * 50_000 + "$$", "p.md").statements
    assert "too long" in stmt.error.message
    doc = read_text("$$" + " \\\\ ".join(["a = b"] * (MAX_STATEMENTS + 50)) + "$$", "m.md")
    assert len(doc.statements) == MAX_STATEMENTS + 1 and "more than" in doc.statements[-1].error.message
    with pytest.raises(InputError, match="too large"):
        read_text("x" * 2_000_001, "big.md")


PATHOLOGICAL = {
    "unclosed-envs": "\\begin{align}\n" * 20_000, "unclosed-$$-items": "- $$x\n" * 20_000,
    "unclosed-parens": "\\( a " * 50_000, "many-inline": "$a$ " * 50_000, "emphasis": "*a **b " * 30_000,
    "links": "[a](" * 30_000, "blanks": "$$x" + " " * 500_000 + "y$$", "texts": "\\text{a}" * 50_000,
    "declarations": "$$" + ", ".join(["x \\in \\mathbb{R}"] * 20_000) + "$$", "quotes": ">" * 50_000 + " $$x$$",
}


@pytest.mark.parametrize("name", sorted(PATHOLOGICAL))
def test_pathological_markdown_is_linear(name: str) -> None:
    doc = read_text(PATHOLOGICAL[name], "h.md")  # speed: bench/, not here
    for stmt in doc.statements:
        _check(stmt)
