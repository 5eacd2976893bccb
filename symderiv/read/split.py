r"""One math piece -> its statements (SPEC section 1).

- every `\\` row is a statement; a row that starts with `=` (or with `&` and then `+`, `-`,
  `\odot`, `\cdot`, `\times`), or follows a row ending in one of those, continues the
  previous row's statement, as in `a &= b \\ &= c`;
- a top-level `\quad`/`\qquad` (optionally followed by `*`, `\text{...}`, `\because`,
  `\therefore`) starts a new statement, marked `side`; one at the start of a row is spacing;
- top-level commas separate declarations, only when every piece is one
  (`x, y \in \mathbb{R}^n` stays one statement);
- `&`, `%` comments, `\label`, `\tag`, `\nonumber`, `\intertext`, the `\begin`/`\end` of the
  environments of SPEC section 1, trailing `.`/`,`/`;` and `\text{...}` notes are dropped.

Dropped text is replaced by blanks, never removed, so offsets (and spans) stay those of
the file. The scan is one linear pass over the piece.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

from ..errors import ParseError
from ..spans import Span
from .markdown import ENVIRONMENTS, MathPiece
from .parse import parse_statement
from .tree import Statement

_CMD = re.compile(r"\\([A-Za-z]+)\*?")
_NOTES = {"text", "textrm", "textit", "textbf", "textnormal", "mbox"}
_DROP_ARG = {"label", "tag", "intertext"}
_MARKERS = {"because", "therefore"}
_LEAD_OP = re.compile(r"\s*(?:\+|-|\\odot|\\cdot|\\times|\\circ)")
_TRAIL_OP = re.compile(r"(?:=|\+|-|\\odot|\\cdot|\\times|\\circ)\s*$")
_SPACES = re.compile(r"(?:\s|\\[,;:! ]|\\q?quad(?![A-Za-z])|[.,;])+")


@dataclass
class _Scan:
    chars: list[str]
    rows: list[tuple[int, int, bool]] = field(default_factory=list)  # start, end, began with `&`
    quads: list[tuple[int, int]] = field(default_factory=list)
    commas: list[int] = field(default_factory=list)
    ins: list[int] = field(default_factory=list)
    notes: list[tuple[int, int]] = field(default_factory=list)


def _brace_end(s: str, i: int) -> int:
    """Index after the group starting at i (a `{`), or after the argument's end of text."""
    depth = 0
    while i < len(s):
        if s[i] == "\\":
            i += 2
            continue
        depth += (s[i] == "{") - (s[i] == "}")
        i += 1
        if depth <= 0:
            return i
    return len(s)


def _skip_ws(s: str, i: int) -> int:
    while i < len(s) and s[i] in " \t\n":
        i += 1
    return i


def _scan(s: str) -> _Scan:
    sc = _Scan(list(s))
    blank = sc.chars

    def drop(a: int, b: int) -> None:
        for k in range(a, b):
            if blank[k] != "\n":
                blank[k] = " "

    depth, i, row_start = 0, 0, 0
    while i < len(s):
        c = s[i]
        if c == "%":
            end = s.find("\n", i)
            end = len(s) if end < 0 else end
            drop(i, end)
            i = end
        elif c == "&":
            drop(i, i + 1)
            i += 1
        elif c == "\\" and s.startswith("\\\\", i):
            end = i + 2 + (s[i + 2:i + 3] == "*")
            k = _skip_ws(s, end)
            if s[k:k + 1] == "[" and "]" in s[k:k + 12]:
                end = s.index("]", k) + 1
            drop(i, end)
            if depth <= 0:
                sc.rows.append((row_start, i, s[row_start:i].lstrip().startswith("&")))
                row_start, depth = end, 0
            i = end
        elif s.startswith(("\\{", "\\}"), i):
            depth += 1 if s[i + 1] == "{" else -1
            i += 2
        elif c == "\\":
            i = _command(s, i, depth, sc, drop)
        else:
            if c in "([{":
                depth += 1
            elif c in ")]}":
                depth -= 1
            elif c == "," and depth <= 0:
                sc.commas.append(i)
            i += 1
    sc.rows.append((row_start, len(s), s[row_start:].lstrip().startswith("&")))
    return sc


def _command(s: str, i: int, depth: int, sc: _Scan, drop) -> int:  # type: ignore[no-untyped-def]
    m = _CMD.match(s, i)
    if not m:  # `\{`, `\|`, `\,` ...: two characters, no bracket
        return i + 2
    name, end = m.group(1), m.end()
    if name in ("begin", "end"):
        k = _skip_ws(s, end)
        arg_end = _brace_end(s, k) if s[k:k + 1] == "{" else k
        env = s[k + 1:arg_end - 1].strip().rstrip("*")
        if env in ENVIRONMENTS:
            if name == "begin" and env == "alignat" and s[_skip_ws(s, arg_end):][:1] == "{":
                arg_end = _brace_end(s, _skip_ws(s, arg_end))
            drop(i, arg_end)
            return arg_end
        return end
    if name in ("nonumber", "notag"):
        drop(i, end)
        return end
    if name in _DROP_ARG:
        k = _skip_ws(s, end)
        arg_end = _brace_end(s, k) if s[k:k + 1] == "{" else end
        drop(i, arg_end)
        return arg_end
    if name in _NOTES or name in ("operatorname", "mathrm", "mathsf"):
        k = _skip_ws(s, end)
        arg_end = _brace_end(s, k) if s[k:k + 1] == "{" else end
        if name in _NOTES and depth <= 0:
            sc.notes.append((i, arg_end))
        return arg_end
    if name in ("quad", "qquad") and depth <= 0:
        q_end = _marker_end(s, end)
        sc.quads.append((i, q_end))
        drop(i, q_end)
        return q_end
    if name == "in" and depth <= 0:
        sc.ins.append(i)
    return end


def _marker_end(s: str, i: int) -> int:
    r"""After `\quad`: more spacing, then optionally `*`, `\text{...}`, `\because`."""
    while True:
        k = _skip_ws(s, i)
        m = _CMD.match(s, k)
        if s[k:k + 1] == "*":
            i = k + 1
        elif m and m.group(1) in ("quad", "qquad", "because", "therefore"):
            i = m.end()
        elif m and m.group(1) in _NOTES and s[_skip_ws(s, m.end()):][:1] == "{":
            i = _brace_end(s, _skip_ws(s, m.end()))
        elif s[k:k + 2] in ("\\,", "\\;", "\\!", "\\:"):
            i = k + 2
        else:
            return i



_TRAIL = re.compile(r"(?:\s|\\[,;:! ]|\\q?quad(?![A-Za-z])|[.,;:])+\Z")
_LEAD = re.compile(r"(?:\s|\\[,;:! ]|\\q?quad(?![A-Za-z])|\*|\\because|\\therefore)+")


def _called(text: str, end: int) -> bool:
    return text[_skip_ws(text, end):][:1] in ("(", "'")


def _trim(t: str, a: int, b: int, notes: list[tuple[int, int]]) -> tuple[int, int]:
    r"""Shrink [a, b) past spacing, punctuation, markers and `\text{...}` notes at its ends."""
    while a < b:
        start, end = a, b
        m = _TRAIL.search(t, a, b)
        if m:
            b = m.start()
        m = _LEAD.match(t, a, b)
        if m:
            a = m.end()
        for na, nb in notes:
            if a <= na and nb == b and not _called(t, nb):
                b = na
            elif na == a and nb <= b and not _called(t, nb):
                a = nb
        if (a, b) == (start, end):
            break
    return a, b


def _units(t: str, sc: _Scan) -> list[tuple[int, int]]:
    """Rows, with continuation rows merged into the statement they continue."""
    units: list[tuple[int, int]] = []
    for start, end, amp in sc.rows:
        k = _skip_ws(t, start)
        if k >= end:
            continue
        row = t[k:end]
        cont = units and (row.startswith("=") or (amp and _LEAD_OP.match(row) is not None)
                          or _TRAIL_OP.search(t, units[-1][0], units[-1][1]) is not None)
        if cont:
            units[-1] = (units[-1][0], end)
        else:
            units.append((k, end))
    return units


def _pos(piece: MathPiece, offset: int) -> tuple[int, int]:
    nl = piece.text.rfind("\n", 0, offset)
    if nl < 0:
        return piece.line, piece.col + offset
    return piece.line + piece.text.count("\n", 0, offset), offset - nl


def statements(piece: MathPiece, file: str) -> list[Statement]:
    """The statements of one math piece; for inline math, only its declarations."""
    if piece.error:
        line, col = _pos(piece, 0)
        span = Span(file, line, col, line, col + max(1, len(piece.text.split("\n")[0].rstrip())))
        err = ParseError(piece.error, Span(file, line, col, line, col + 2))
        return [Statement(span, piece.text.split("\n")[0].strip(), "=", error=err)]
    sc = _scan(piece.text)
    t = "".join(sc.chars)
    out: list[Statement] = []
    row_starts = [_skip_ws(t, r[0]) for r in sc.rows]
    for ua, ub in _units(t, sc):
        cuts = [q for q in sc.quads if ua < q[0] < ub and q[0] not in row_starts]
        bounds = [ua] + [x for q in cuts for x in q] + [ub]
        for n in range(0, len(bounds), 2):
            a, b = _trim(t, bounds[n], bounds[n + 1], sc.notes)
            if a < b:
                out.extend(_parse(piece, file, t, a, b, sc, side=n > 0))
    if not piece.display:
        out = [st for st in out if st.relation == "in" and st.error is None]
    return out


def _parse(piece: MathPiece, file: str, t: str, a: int, b: int, sc: _Scan, side: bool) -> list[Statement]:
    def one(x: int, y: int) -> Statement:
        x = _skip_ws(t, x)
        st = parse_statement(t[x:y], file, *_pos(piece, x), side=side, inline=not piece.display)
        return replace(st, latex=" ".join(st.latex.split()))

    commas = [c for c in sc.commas if a < c < b]
    if commas and any(a <= i < b for i in sc.ins):
        groups, begin = [], a
        for end in commas + [b]:
            if any(begin <= i < end for i in sc.ins):
                groups.append((begin, end))
                begin = end + 1
        if begin >= b and len(groups) > 1:
            parsed = [one(x, y) for x, y in groups]
            if all(st.relation == "in" and st.error is None for st in parsed):
                return parsed
    return [one(a, b)]
