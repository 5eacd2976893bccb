"""One statement's text -> a `Statement` of parse-tree nodes with file spans.

`parse_statement` never raises for bad text: it returns a Statement whose `error` is a
ParseError pointing at the offending token. `parse_expression` raises that ParseError.

Limits, enforced before any parsing so hostile input fails fast and never recurses deeply:
- `MAX_STATEMENT` characters per statement (5,000; the longest real line is ~350);
- `MAX_NESTING` levels of brackets of any kind (64);
- `MAX_TREE_DEPTH` levels of the finished tree (200), so later recursive passes are safe
  (a chain of 600 `\\odot` is flat text but a 600-deep tree).

Precedence, lowest to highest: `=`, `+ -`, `\\odot \\circ`, juxtaposition `\\cdot \\times /`,
unary minus (after an operator), postfix (`^T`, `'`, `^{...}`), atoms; see `latex.lark`.
"""
from __future__ import annotations

import re
from bisect import bisect_right
from typing import Any

from ..errors import ParseError
from ..spans import Span
from .lex import LexError, Tok, tokenize
from .tokens import CALLED_GREEK, GREEK

#: the letters a generic function may have (the lexer reads them as a function before a call)
GENERIC_LETTERS = frozenset(CALLED_GREEK)
from .tree import Name, Node, Statement
from .unicode import normalise

MAX_STATEMENT = 5000
MAX_NESTING = 64
MAX_TREE_DEPTH = 200

_BINARY = {"PLUS": "+", "MINUS": "-", "_ODOT": "\\odot", "_CDOT": "\\cdot", "SLASH": "/", "CARET": "^",
           "_EQ": "=", "_COMMA": ",", "_IN": "\\in", "_FRAC": "\\frac", "_PARTIAL": "\\partial"}
_OPEN = {"_LPAR", "_LBRACK", "_LBRACE", "_LSET", "_NORM_OPEN", "_IND_OPEN"}
_CLOSE = {"_RPAR", "_RBRACK", "_RBRACE", "_RSET", "NORM_CLOSE"}


class _Text:
    """Offsets of a statement's text -> file spans, for a text whose first character is at (line, col)."""

    def __init__(self, text: str, file: str, line: int, col: int) -> None:
        self.text, self.file, self.line, self.col = text, file, line, col
        self.starts = [0] + [i + 1 for i, c in enumerate(text) if c == "\n"]

    def local(self, offset: int) -> tuple[int, int]:
        k = bisect_right(self.starts, offset) - 1
        return k + 1, offset - self.starts[k] + 1

    def span(self, start: int, end: int) -> Span:
        (l1, c1), (l2, c2) = self.local(start), self.local(max(start, end))
        return Span(self.file, l1, c1, l2, c2).shifted(self.line, self.col)

    def error(self, message: str, start: int, end: int, hint: str | None = None) -> ParseError:
        return ParseError(message, self.span(start, end), hint)


def _strip(text: str, line: int, col: int) -> tuple[str, int, int]:
    """The text without surrounding blanks, and where its first character is."""
    lead = text[:len(text) - len(text.lstrip())]
    if "\n" in lead:
        line, col = line + lead.count("\n"), len(lead) - lead.rfind("\n")
    else:
        col += len(lead)
    return text.strip(), line, col


def parse_expression(text: str, file: str = "<string>", line: int = 1, col: int = 1) -> Node:
    """One expression (no `=`); raises ParseError."""
    body, line, col = _strip(text, line, col)
    result = _parse(_Text(body, file, line, col), "expression")
    assert isinstance(result, Node)
    return result


_REALS = r"(?:\\mathbb\s*\{\s*R\s*\}|\\mathbb\s*R|\\mathbf\s*\{\s*R\s*\}|\\R(?![A-Za-z])|\\Reals|\\reals)"
_POWER = r"(?:\s*\^\s*(?:\{[^{}]*\}|[A-Za-z0-9]))?"
#: `\phi : \mathbb{R} \to \mathbb{R}` (also `φ: ℝ → ℝ`): a generic function's declaration (SPEC 1)
SIGNATURE = re.compile(r"(?P<name>\\[A-Za-z]+|[A-Za-z])\s*:\s*(?P<dom>" + _REALS + _POWER + r")\s*"
                       r"(?:\\to|\\rightarrow|\\longrightarrow)\s*(?P<cod>" + _REALS + _POWER + r")\s*[.,]?")


def _signature(src: _Text) -> Statement | None:
    """A generic function's declaration (relation `maps`, its name in `names`), or None.
    Only scalar functions, applied elementwise, are generic: `\\mathbb{R}^n \\to ...` is an error."""
    if ":" not in src.text:
        return None
    text, starts, ends = normalise(src.text)
    m = SIGNATURE.fullmatch(text)
    if m is None:
        return None
    span = src.span(0, len(src.text))
    a, b = starts[m.start("name")], ends[m.end("name")]
    name = m.group("name")
    if "^" in m.group("dom") or "^" in m.group("cod"):
        err = ParseError("a generic function maps scalars to scalars (\\mathbb{R} \\to \\mathbb{R}) and "
                         "applies elementwise; vector-valued ones are not supported", span)
        return Statement(span, src.text, "=", error=err)
    if name.startswith("\\") and name[1:] not in GENERIC_LETTERS:
        err = ParseError(f"`{name}` cannot name a generic function: use \\phi, \\varphi or \\psi "
                         "(a call of another letter reads as a product)", src.span(a, b))
        return Statement(span, src.text, "=", error=err)
    if not name.startswith("\\"):
        err = ParseError(f"`{name}` cannot name a generic function: a letter before a bracket reads as a "
                         "product; use \\phi, \\varphi or \\psi", src.span(a, b))
        return Statement(span, src.text, "=", error=err)
    canonical = "\\" + GREEK[name[1:]]
    return Statement(span, src.text, "maps", (), (Name(src.span(a, b), canonical),))


def parse_statement(text: str, file: str = "<string>", line: int = 1, col: int = 1, *,
                    side: bool = False, inline: bool = False) -> Statement:
    """One statement: an `=` chain of parts or a declaration; errors are returned, not raised."""
    body, line, col = _strip(text, line, col)
    src = _Text(body, file, line, col)
    span = src.span(0, len(body))
    signature = _signature(src)
    if signature is not None:
        from dataclasses import replace
        return replace(signature, side=side, inline=inline)
    try:
        relation, parts, names = _parse(src, "statement")
    except ParseError as e:
        return Statement(span, body, "=", side=side, inline=inline, error=e)
    return Statement(span, body, relation, parts, names, side=side, inline=inline)


def _parse(src: _Text, start: str) -> Any:
    body = src.text
    if not body:
        raise src.error("empty statement", 0, 0)
    if len(body) > MAX_STATEMENT:
        raise src.error(f"statement too long ({len(body)} characters; the limit is {MAX_STATEMENT})", 0, 1)
    try:
        toks = tokenize(body, MAX_NESTING)
    except LexError as e:
        raise src.error(e.message, e.start, e.end, e.hint) from None
    if not toks:
        raise src.error("nothing to read in this statement", 0, len(body))
    from .lalr import Token, UnexpectedToken, parse
    from .transform import Builder
    feed = [Token(t.type, t.value, t.start, *src.local(t.start), *src.local(t.end), t.end) for t in toks]
    try:
        tree = parse(feed, start)
    except UnexpectedToken as e:
        raise _explain(src, toks, e.token) from None
    result = Builder(src.file, src.line, src.col).transform(tree)  # a ParseError of a part is raised as is
    root = result[1][0] if isinstance(result, tuple) else result
    if _depth(result[1] if isinstance(result, tuple) else (result,)) > MAX_TREE_DEPTH:
        raise ParseError(f"expression nested deeper than {MAX_TREE_DEPTH} levels", root.span)
    return result


def _explain(src: _Text, toks: list[Tok], bad: Any) -> ParseError:
    """A parser error in words, at the token that cannot continue the statement."""
    text = src.text
    if bad is None or bad.type == "$END":
        last = toks[-1]
        shown = text[last.start:last.end]
        if last.type in _BINARY or last.type in _OPEN:
            return src.error(f"dangling `{shown}` at the end", last.start, last.end)
        return src.error("the statement ends too early", last.start, last.end)
    idx = next(i for i, t in enumerate(toks) if t.start == bad.start_pos)
    t, prev = toks[idx], (toks[idx - 1] if idx else None)
    shown = text[t.start:t.end]
    where = (t.start, t.end)
    if t.type == "WORD":
        return src.error(f"text `{shown}` inside an expression", *where,
                         "notes go after `\\quad` or at the end of the line")
    if t.type == "SUB":
        return src.error(f"subscript `{shown}` is not allowed here", *where)
    if t.type == "CMP":
        return src.error(f"comparison `{shown}` outside an indicator such as `\\mathbb{{1}}[z > 0]`", *where)
    if t.type in ("REALS", "_LSET"):
        return src.error(f"the set `{shown}` belongs in a declaration such as `x \\in \\mathbb{{R}}^n`", *where)
    if t.type == "_IN":
        return src.error("`\\in` must follow the declared names, as in `x \\in \\mathbb{R}^n`", *where)
    if prev is None and t.type in _BINARY:
        return src.error(f"`{shown}` has nothing on its left", *where)
    if prev is not None and prev.type in _BINARY and (t.type in _BINARY or t.type in _CLOSE):
        before = text[prev.start:prev.end]
        return src.error(f"missing operand between `{before}` and `{shown}`", *where)
    if prev is not None and prev.type in _OPEN and t.type in _CLOSE:
        return src.error("empty brackets", prev.start, t.end)
    if t.type == "_EQ":
        return src.error("`=` inside brackets or an argument", *where)
    if t.type == "_COMMA":
        return src.error("unexpected `,`: a comma only separates declarations or function arguments", *where)
    return src.error(f"unexpected `{shown}`", *where)


def _depth(roots: tuple) -> int:
    """Depth of the node tree, iteratively."""
    best, stack = 0, [(r, 1) for r in roots]
    while stack:
        node, d = stack.pop()
        best = max(best, d)
        for value in vars(node).values():
            items = value if isinstance(value, tuple) else (value,)
            for item in items:
                if isinstance(item, tuple):
                    item = item[-1]
                if isinstance(item, Node):
                    stack.append((item, d + 1))
    return best
