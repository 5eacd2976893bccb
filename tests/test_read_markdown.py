"""Math out of Markdown at exact positions, split into statements (SPEC section 1)."""
from __future__ import annotations

from pathlib import Path

import pytest

from symderiv.errors import InputError
from symderiv.read.document import read_document, read_text
from symderiv.read.markdown import extract, parse_front_matter
from symderiv.read.show import sexpr_statement


def _read(text: str) -> list[tuple[int, int, str, str]]:
    """(line, col, flags, statement) of each statement; flags: s side, i inline, ! error."""
    out = []
    for st in read_text(text, "t.md").statements:
        flags = "s" * st.side + "i" * st.inline + "!" * (st.error is not None)
        out.append((st.span.line, st.span.col, flags, sexpr_statement(st)))
    return out


def _at(text: str, line: int, col: int, n: int) -> str:
    return text.split("\n")[line - 1][col - 1:col - 1 + n]


PLACES = [  # markdown, what each piece starts with
    ("$$x = 1$$", ["x = 1"]),
    ("para $$x = 1$$ more", ["x = 1"]),
    ("- $$x = 1$$\n- item $y \\in \\mathbb{R}$", ["x = 1", "y \\in"]),
    ("> quote\n> $$x = 1$$", ["x = 1"]),
    ("1. a\n\n   $$\n   x = 1\n   $$", ["\n   x"]),
    ("\\[ x = 1 \\]", [" x = 1"]),
    ("text \\(x \\in \\mathbb{R}\\) text", ["x \\in"]),
    ("\\begin{align}\nx &= 1\n\\end{align}", ["\\begin{align}"]),
    ("| a | $b \\in \\mathbb{R}$ |\n|---|---|\n| c | d |", ["b \\in"]),
    ("# Heading $h \\in \\mathbb{R}$", ["h \\in"]),
]


@pytest.mark.parametrize(("md", "starts"), PLACES, ids=[p[0][:30] for p in PLACES])
def test_pieces_start_where_the_file_says(md: str, starts: list[str]) -> None:
    _, pieces = extract(md)
    assert [p.text[:len(s)] for p, s in zip(pieces, starts)] == starts and len(pieces) == len(starts)
    for p, s in zip(pieces, starts):
        first = s.split("\n")[0]
        assert _at(md, p.line, p.col, len(first)) == first


def test_later_lines_keep_their_columns() -> None:
    md = "> $$a\n> = b$$\n\n- $$\n  c = d\n  $$\n"
    _, pieces = extract(md)
    lines = md.split("\n")
    assert len(pieces) == 2
    for p in pieces:
        for k, ln in enumerate(p.text.split("\n")[1:], start=1):
            body = ln.lstrip(" ")
            assert lines[p.line - 1 + k][len(ln) - len(body):].startswith(body)


def test_code_and_escaped_dollars_are_not_math() -> None:
    md = "`$x \\in R$` and \\$5 and\n\n```\n$$a = b$$\n```\n\n    $$c = d$$\n"
    assert extract(md)[1] == []


def test_rows_quads_commas_and_notes() -> None:
    md = ("\\begin{align}\n"
          "  \\bar{x} &= A \\label{e1} \\\\\n"
          "   &= B \\nonumber \\\\\n"
          "  y &= 2 \\quad \\text{(chain rule)}. \\\\\n"
          "  z &= w \\qquad \\because w = z \\\\[4pt]\n"
          "  W \\in \\mathbb{R}^{m \\times n}, b \\in \\mathbb{R}^m % sizes\n"
          "\\end{align}\n")
    assert _read(md) == [(2, 3, "", "bar(x) = A = B"), (4, 3, "", "y = 2"), (5, 3, "", "z = w"),
                         (5, 26, "s", "w = z"), (6, 3, "", "W in R^mxn"), (6, 34, "", "b in R^m")]


def test_continuation_rows() -> None:
    md = "$$\\begin{aligned} a &= b + \\\\ &\\quad c \\\\ &- d \\\\ e &= f \\end{aligned}$$"
    assert _read(md) == [(1, 19, "", "a = (+ b c -d)"), (1, 51, "", "e = f")]


def test_split_and_multline_rows() -> None:
    md = "\\begin{equation}\\begin{split} a &= b \\\\ &= c \\end{split}\\end{equation}"
    assert _read(md) == [(1, 31, "", "a = b = c")]


def test_commas_split_declarations_only() -> None:
    assert [s for *_, s in _read("$$x, y \\in \\mathbb{R}^n$$")] == ["x, y in R^n"]
    assert [s for *_, s in _read("$$t \\in \\{0,1\\}, s \\in \\mathbb{R}.$$")] == ["t in {0,1}", "s in R"]
    assert [s for *_, s in _read("$$x, y \\in \\mathbb{R}^n, W \\in \\mathbb{R}^{m \\times n}$$")] == [
        "x, y in R^n", "W in R^mxn"]
    (_line, _col, flags, text), = _read("$$a = b, c = d$$")
    assert flags == "!" and "`,`" in text


def test_bare_quad_next_to_an_operator_is_spacing() -> None:
    assert [s for *_, s in _read("$$a = \\quad b$$")] == ["a = b"]
    assert [s for *_, s in _read("$$a = b \\quad + c$$")] == ["a = (+ b c)"]
    assert _read("$$a = b \\quad \\text{so} - c = d$$")[1][2:] == ("s", "(+ -c) = d")


def test_trailing_notes_and_punctuation_dropped() -> None:
    assert _read("$$a = b.$$") == [(1, 3, "", "a = b")]
    assert _read("$$a = b, \\text{ as before}$$") == [(1, 3, "", "a = b")]
    assert _read("$$\\text{Hence } a = b \\;.$$") == [(1, 17, "", "a = b")]
    assert _read("$$\\quad * a = b$$") == [(1, 11, "", "a = b")]
    assert _read("$$ $$") == []


def test_inline_math_is_read_for_declarations_only() -> None:
    md = "Since $z \\in \\mathbb{R}^c$, $s = U\\eta = \\mathbb{R}^c$ and $x, y \\in \\R^n$, $a = b$.\n"
    assert _read(md) == [(1, 8, "i", "z in R^c"), (1, 61, "i", "x, y in R^n")]


def test_unclosed_display_math_is_reported() -> None:
    md = "intro\n\n$$\\bar{x} = y\n\nafter\n"
    ((line, col, flags, text),) = _read(md)
    assert (line, col, flags) == (3, 1, "!") and "unclosed `$$`" in text
    ((line, col, flags, text),) = _read("a \\[ x = 1\n")
    assert (line, col, flags) == (1, 3, "!") and "unclosed `\\[`" in text
    ((line, col, flags, text),) = _read("see \\begin{align} x = 1\n")
    assert (line, col, flags) == (1, 5, "!") and "unclosed `\\begin{align}`" in text


def test_unsupported_environment_is_one_error() -> None:
    ((line, _col, flags, text),) = _read("\\begin{pmatrix}\na \\\\ b\n\\end{pmatrix}\n")
    assert (line, flags) == (1, "!") and "pmatrix" in text


def test_front_matter() -> None:
    doc = read_text("---\nproblem: ../p/problem.md\nseed: 3\n---\n$$x = 1$$\n", "a.md")
    assert doc.front_matter == {"problem": "../p/problem.md", "seed": 3}
    assert doc.statements[0].span.line == 5
    assert read_text("$$x = 1$$", "a.md").front_matter == {}


def test_front_matter_yaml_subset() -> None:
    text = ("# comment\nproblem: 'p.md'\nflag: true\nnone: ~\nratio: 0.5\nname: two words # note\n"
            "tags: [a, \"b c\", 3]\nsizes:\n  n: 3\n  m: x\nfiles:\n  - a.md\n  - b.md\nempty:\n")
    assert parse_front_matter(text) == {
        "problem": "p.md", "flag": True, "none": None, "ratio": 0.5, "name": "two words",
        "tags": ["a", "b c", 3], "sizes": {"n": 3, "m": "x"}, "files": ["a.md", "b.md"], "empty": None}


def test_crlf_and_bom() -> None:
    doc = read_text("\ufeff---\r\nproblem: p.md\r\n---\r\n$$x = 1$$\r\n", "w.md")
    assert doc.front_matter == {"problem": "p.md"}
    assert (doc.statements[0].span.line, doc.statements[0].span.col) == (4, 3)


def test_read_document_errors(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such file"):
        read_document(tmp_path / "missing.md")
    with pytest.raises(InputError, match="directory"):
        read_document(tmp_path)
    (tmp_path / "bin.md").write_bytes(b"$$x$$\x00\x01")
    with pytest.raises(InputError, match="binary"):
        read_document(tmp_path / "bin.md")
    (tmp_path / "latin.md").write_bytes("$$x = \xe9$$".encode("latin-1"))
    with pytest.raises(InputError, match="UTF-8"):
        read_document(tmp_path / "latin.md")
    (tmp_path / "big.md").write_bytes(b"a" * 2_000_001)
    with pytest.raises(InputError, match="too large"):
        read_document(tmp_path / "big.md")
    (tmp_path / "ok.md").write_text("$$x = 1$$\n")
    doc = read_document(tmp_path / "ok.md")
    assert doc.file == str(tmp_path / "ok.md") and len(doc.statements) == 1
    (tmp_path / "empty.md").write_text("")
    assert read_document(tmp_path / "empty.md").statements == ()


def test_messages_are_one_line(tmp_path: Path) -> None:
    with pytest.raises(InputError) as info:
        read_document(tmp_path / "nope.md")
    assert "\n" not in str(info.value)
