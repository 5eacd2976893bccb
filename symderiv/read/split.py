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
from bisect import bisect_left, bisect_right
from dataclasses import field, replace

from ..errors import ParseError
from ..fastdataclass import dataclass
from ..spans import Span
from .decorations import read_through
from .markdown import CLAIM_FORM, ENVIRONMENTS, MathPiece, read_inline
from .parse import parse_statement
from .tree import Statement

_CMD = re.compile(r"\\([A-Za-z]+)\*?")
#: connectors between parts: each starts a new statement (SPEC section 1)
CONNECTORS = {"implies", "Rightarrow", "Longrightarrow", "therefore", "because"}
_UNICODE_CONNECTORS = "\u21d2\u27f9\u2234\u2235"
_NOTES = {"text", "textrm", "textit", "textbf", "textnormal", "mbox"}
_DROP_ARG = {"label", "tag", "intertext"}
_LEAD_OP = re.compile(r"\s*(?:\+|-|\\odot|\\cdot|\\times|\\circ)")
_ROW_SKIP = re.compile(r"\s*\[\s*-?\d*\.?\d+\s*(?:pt|em|ex|mm|cm|in|mu|bp|pc)\s*\]")
_TRAIL_OP = re.compile(r"(?:=|\+|-|\\odot|\\cdot|\\times|\\circ)\Z")


@dataclass
class _Scan:
    chars: list[str]
    rows: list[tuple[int, int, bool]] = field(default_factory=list)  # start, end, began with `&`
    quads: list[tuple[int, int, bool]] = field(default_factory=list)  # start, end, with a marker
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
    s = read_through(s)
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
            m = _ROW_SKIP.match(s, end)  # `\\[4pt]`: extra row spacing
            if m:
                end = m.end()
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
            elif c in _UNICODE_CONNECTORS and depth <= 0:
                sc.quads.append((i, i + 1, True))
                drop(i, i + 1)
            elif c == "\u2208" and depth <= 0:
                sc.ins.append(i)
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
            if name == "begin" and env == "alignat" and s[_skip_ws(s, arg_end):_skip_ws(s, arg_end) + 1] == "{":
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
        if name in _NOTES and depth <= 0 and s[arg_end - 1:arg_end] == "}":
            sc.notes.append((i, arg_end))
        return arg_end
    if name in CONNECTORS and depth <= 0:  # `a = b \implies c = d`: two statements
        q_end, _ = _marker_end(s, end)
        sc.quads.append((i, q_end, True))
        drop(i, q_end)
        return q_end
    if name in ("quad", "qquad") and depth <= 0:
        q_end, marked = _marker_end(s, end)
        sc.quads.append((i, q_end, marked))
        drop(i, q_end)
        return q_end
    if name == "in" and depth <= 0:
        sc.ins.append(i)
    return end


def _marker_end(s: str, i: int) -> tuple[int, bool]:
    r"""After `\quad`: more spacing, then optionally `*`, `\text{...}`, `\because`; and
    whether such a marker was there."""
    marked = False
    while True:
        k = _skip_ws(s, i)
        m = _CMD.match(s, k)
        if s[k:k + 1] == "*":
            i, marked = k + 1, True
        elif m and m.group(1) in ("quad", "qquad", "because", "therefore"):
            i, marked = m.end(), marked or m.group(1) in ("because", "therefore")
        elif m and m.group(1) in _NOTES and s[_skip_ws(s, m.end()):_skip_ws(s, m.end()) + 1] == "{":
            i, marked = _brace_end(s, _skip_ws(s, m.end())), True
        elif s[k:k + 2] in ("\\,", "\\;", "\\!", "\\:"):
            i = k + 2
        else:
            return i, marked


def _rtrim(t: str, a: int, b: int) -> int:
    """End of [a, b) without trailing spacing (`\\,`, `\\quad`, blanks) and punctuation."""
    while b > a:
        if b - 2 >= a and t[b - 2] == "\\" and t[b - 1] in ",;:! ":
            b -= 2
        elif t[b - 1].isspace() or t[b - 1] in ".,;:":
            b -= 1
        elif t.endswith("\\quad", a, b) or t.endswith("\\qquad", a, b):
            b -= 5 if t.endswith("\\quad", a, b) else 6
        else:
            break
    return b


_LEAD = re.compile(r"(?:\s|\\[,;:! ]|\\q?quad(?![A-Za-z])|\*|\\because|\\therefore)+")


class _Piece:
    """One scanned piece: blanked text, event indexes, and offset -> file position."""

    def __init__(self, piece: MathPiece, file: str) -> None:
        self.piece, self.file = piece, file
        self.sc = sc = _scan(piece.text)
        self.t = "".join(sc.chars)
        self.note_end = {nb: na for na, nb in sc.notes}
        self.note_start = {na: nb for na, nb in sc.notes}
        self.lines = [i for i, c in enumerate(piece.text) if c == "\n"]

    def pos(self, offset: int) -> tuple[int, int]:
        k = bisect_left(self.lines, offset)
        if k == 0:
            return self.piece.line, self.piece.col + offset
        return self.piece.line + k, offset - self.lines[k - 1]

    def called(self, end: int) -> bool:
        k = _skip_ws(self.t, end)
        return self.t[k:k + 1] in ("(", "'")

    def trim(self, a: int, b: int) -> tuple[int, int]:
        r"""Shrink [a, b) past spacing, punctuation, markers and `\text{...}` notes at its ends."""
        while a < b:
            start, end = a, b
            b = _rtrim(self.t, a, b)
            m = _LEAD.match(self.t, a, b)
            a = m.end() if m else a
            if b in self.note_end and self.note_end[b] >= a and not self.called(b):
                b = self.note_end[b]
            if a in self.note_start and self.note_start[a] <= b and not self.called(self.note_start[a]):
                a = self.note_start[a]
            if (a, b) == (start, end):
                break
        return a, b

    def units(self) -> list[tuple[int, int]]:
        """Rows, with continuation rows merged into the statement they continue."""
        t, units = self.t, []  # type: ignore[var-annotated]
        for start, end, amp in self.sc.rows:
            k = _skip_ws(t, start)
            if k >= end:
                continue
            last = units[-1] if units else (0, 0)
            e = last[1]
            while e > last[0] and t[e - 1].isspace():
                e -= 1
            cont = units and (t.startswith("=", k) or (amp and _LEAD_OP.match(t, k, end) is not None)
                              or _TRAIL_OP.search(t, max(last[0], e - 8), e) is not None)
            if cont:
                units[-1] = (units[-1][0], end)
            else:
                units.append((k, end))
        return units

    def spacing(self, quad: tuple[int, int, bool]) -> bool:
        """A bare `\\quad` next to an operator (`a = \\quad b`) is spacing, not a new statement."""
        if quad[2]:
            return False
        t, e = self.t, quad[0]
        while e > 0 and t[e - 1].isspace():
            e -= 1
        k = _skip_ws(t, quad[1])
        return bool(_TRAIL_OP.search(t, max(0, e - 8), e) or t.startswith("=", k) or _LEAD_OP.match(t, k))

    def between(self, items: list[int], a: int, b: int) -> list[int]:
        return items[bisect_right(items, a):bisect_left(items, b)]

    def one(self, a: int, b: int, side: bool) -> Statement:
        a = _skip_ws(self.t, a)
        cut = self.annotation(a, b)
        st = parse_statement(self.t[a:cut], self.file, *self.pos(a), side=side, inline=not self.piece.display)
        if cut < b and st.error is None:
            line, col = self.pos(cut)  # `x` stands for the annotated part, one column before `\in`
            ann = parse_statement("x" + self.t[cut:b], self.file, line, col - 1)
            if ann.error is not None or ann.relation != "in":
                st = replace(st, error=ann.error or st.error)
            else:
                st = replace(st, annotation=ann.parts[0], span=Span(st.span.file, st.span.line, st.span.col,
                                                                      ann.span.end_line, ann.span.end_col))
        return replace(st, latex=" ".join(self.t[a:b].split()) if cut < b else " ".join(st.latex.split()))

    def annotation(self, a: int, b: int) -> int:
        r"""Where a trailing `\in \mathbb{R}^{q}` after an `=` chain starts (SPEC: a shape claim
        on the last part), or b."""
        ins = self.between(self.sc.ins, a, b)
        if not ins:
            return b
        depth = 0
        for k in range(a, ins[-1]):
            c = self.t[k]
            if c == "\\":
                continue
            if c in "([{":
                depth += 1
            elif c in ")]}":
                depth -= 1
            elif c == "=" and depth <= 0 and (k == 0 or self.t[k - 1] != "\\"):
                return ins[-1]
        return b

    def parse(self, a: int, b: int, side: bool, limit: int) -> list[Statement]:
        """One statement, or several (at most limit + 1) declarations separated by top-level commas."""
        commas = self.between(self.sc.commas, a, b)
        ins = self.sc.ins
        if commas and self.between(ins, a - 1, b):
            groups, begin = [], a
            for end in commas + [b]:
                if self.between(ins, begin - 1, end):
                    groups.append((begin, end))
                    begin = end + 1
            if begin >= b and len(groups) > 1:
                parsed = [self.one(x, y, side) for x, y in groups[:limit + 1]]
                if all(st.relation == "in" and st.error is None for st in parsed):
                    return parsed
        return [self.one(a, b, side)]


def statements(piece: MathPiece, file: str, limit: int = 1 << 30) -> list[Statement]:
    """The statements of one math piece (at most about `limit`); for inline math, only its
    declarations."""
    if not piece.display and not read_inline(piece.text):
        return []
    if piece.error:
        first = piece.text.split("\n", 1)[0].rstrip()
        span = Span(file, piece.line, piece.col, piece.line, piece.col + max(1, len(first)))
        err = ParseError(piece.error, Span(file, piece.line, piece.col, piece.line, piece.col + 2))
        return [Statement(span, first.strip(), "=", error=err)]
    p = _Piece(piece, file)
    out: list[Statement] = []
    row_starts = [r[0] for r in p.sc.rows]
    row_firsts = [_skip_ws(p.t, r[0]) for r in p.sc.rows]  # quads were blanked: skipped too
    quad_starts = [q[0] for q in p.sc.quads]
    for ua, ub in p.units():
        lo, hi = bisect_right(quad_starts, ua), bisect_left(quad_starts, ub)
        cuts = [q for q in p.sc.quads[lo:hi]  # a quad that opens its row is only spacing
                if row_firsts[bisect_right(row_starts, q[0]) - 1] < q[0] and not p.spacing(q)]
        bounds = [ua] + [x for q in cuts for x in q[:2]] + [ub]
        for n in range(0, len(bounds), 2):
            a, b = p.trim(bounds[n], bounds[n + 1])
            if a < b:
                out.extend(p.parse(a, b, n > 0, limit - len(out)))
            if len(out) > limit:
                return out
    if not piece.display:  # a declaration, or what has the form of a claim (errors included)
        claim = CLAIM_FORM.match(piece.text) is not None
        out = [st for st in out if (st.relation == "in" and st.error is None) or claim]
    return out
