"""Tokens of the homework LaTeX dialect: the context decisions an LALR grammar cannot make.

The grammar (`latex.lark`) sees abstract tokens. This module turns one statement's text into
them and settles what needs a look at the neighbours first, so the grammar stays
conflict-free:

- names are folded into one canonical token (`\\mathbf{W}_{1}` -> NAME `W_1`,
  `\\bar{z}_y` -> BAR `z_y`, `\\hat{y}` -> NAME `\\hat{y}`);
- `\\sigma` is a function only when a call follows (`(`, `'`, `^{\\prime}`);
- `^T`, `^{\\top}`, `^{\\intercal}`, `^{\\mathsf{T}}` become TRANSPOSE, `^{\\prime}` PRIME;
- `\\mathbf{1}` is ONES unless a bracket holding a comparison follows (an indicator);
- `\\|` is paired into opening and closing norm bars;
- brackets are checked before parsing, so "unclosed brace" points at the brace.

Every function here is iterative or bounded (name folding recurses at most `NAME_DEPTH`).
"""
from __future__ import annotations

import re

from ..lazyre import lazy
from . import tokens as v
from .brackets import check_brackets, pair
from .names import CMD, LETTERS, NUM, SIZE_NAMES, WS, TextReader, is_letter
from .tokens import LexError, Tok
from .unicode import normalise

__all__ = ["LexError", "Tok", "tokenize"]


#: `[i = j]`, `_{i=j}`: a Kronecker delta over two index letters (read as the name `[i=j]`)
KRONECKER = lazy(r"(?:\[|\\\{|\(|\\left\s*[\[(])\s*([A-Za-z])\s*=\s*([A-Za-z])\s*(?:\\right\s*)?(?:\]|\\\}|\))")
KRONECKER_SUB = lazy(r"_\{\s*([A-Za-z])\s*=\s*([A-Za-z])\s*\}")
#: `\\partial`, `\\partial^2`, `d`, `\\mathrm{d}` opening a derivative's numerator or denominator
DIFF = re.compile(r"\s*(?:\\partial(?![A-Za-z])|(\\mathrm\s*\{\s*d\s*\}|\\operatorname\s*\{\s*d\s*\}|"
                  r"\\text\s*\{\s*d\s*\}|\\mathrm\s+d|d(?![a-zA-Z]{2})))\s*(\^\s*\{?\s*2\s*\}?)?")
TRANSPOSE_SUP = re.compile(r"\s*\^\s*(?:\{\s*)?(?:\\top|T|\\intercal|\\mathsf\{T\})(?:\s*\})?")
SQUARE_SUP = re.compile(r"\s*\^\s*(?:\{\s*2\s*\}|2)")


class _Lexer(TextReader):
    """One pass over the text, emitting `Tok`s; raises LexError at the first bad token."""

    def __init__(self, s: str) -> None:
        super().__init__(s)
        self.out: list[Tok] = []
        self.jumps: dict[int, int] = {}  # after a derivative's numerator: skip its denominator
        self.abs_open = 0  # absolute-value bars `|X|` still open
        #: a derivative's variable read as one name (`\partial \sigma^2`, `\partial (W_2)_{jk}`): start -> name, end
        self.folds: dict[int, tuple[str, int]] = {}

    def frac_argument(self) -> bool:
        """Is the next token an unbraced argument of `\\frac` (TeX takes one character)?"""
        out = self.out
        if out and out[-1].type == "_FRAC":
            return True
        return (len(out) >= 2 and out[-2].type == "_FRAC" and out[-1].type == "NUMBER"
                and len(out[-1].value) == 1)

    def emit(self, type_: str, value: str, start: int, end: int, sized: str = "") -> int:
        self.out.append(Tok(type_, value, start, end, sized))
        return end

    # -- the scanner -----------------------------------------------------------------------
    def run(self) -> list[Tok]:
        s, i = self.s, 0
        while i < self.n:
            if i in self.jumps:
                i = self.jumps.pop(i)
                continue
            if i in self.folds:
                name, end = self.folds.pop(i)
                i = self.emit("NAME", name, i, end)
                continue
            c = s[i]
            if c in WS:
                i += 1
            elif c == "\\":
                i = self.command(i)
            elif "0" <= c <= "9":
                m = NUM.match(s, i)
                assert m
                if self.frac_argument():  # \frac12 is \frac{1}{2}: an unbraced argument is one digit
                    i = self.emit("NUMBER", c, i, i + 1)
                else:
                    i = self.emit("NUMBER", m.group(0), i, m.end())
            elif is_letter(c):
                i = self.letters(i)
            elif c == "^":
                i = self.superscript(i)
            elif c == "_":
                a = self.arg(i + 1)
                i = self.emit("SUB", a[0] if a else "", i, a[1] if a else i + 1)
            elif c == "[" and (m := KRONECKER.match(s, i)):  # [i = j]: a Kronecker delta
                i = self.emit("NAME", f"[{m.group(1)}={m.group(2)}]", i, m.end())
            elif c in v.SINGLE:
                i = self.emit(v.SINGLE[c], c, i, i + 1)
            elif c in "<>":
                eq = self.at(i + 1) == "="
                i = self.emit("CMP", c + "=" * eq, i, i + 1 + eq)
            elif c == ":" and self.at(i + 1) == "=":
                i = self.emit("_EQ", ":=", i, i + 2)
            elif c == "|" and self.at(i + 1) == "|":
                i = self.norm_bar("NORMBAR", i, i + 2)
            elif c == "|":
                i = self.abs_bar(i, i + 1)
            elif c in v.UNICODE:
                i = self.emit(v.UNICODE[c], c, i, i + 1)
            elif c in "\u2265\u2264":
                i = self.emit("CMP", ">=" if c == "\u2265" else "<=", i, i + 1)
            else:
                raise LexError(f"unexpected character `{c}`", i)
        return self.out

    def letters(self, i: int) -> int:
        m = LETTERS.match(self.s, i)
        assert m
        run = m.group(0)
        if run in v.PLAIN_FUNCS:
            return self.emit("FUNC", v.PLAIN_FUNCS[run], i, m.end())
        if self.arguments_follow(m.end()):  # CE(y, t): a product has no comma, so a call
            return self.emit("FUNC", run, i, m.end())
        for k in range(i, m.end() - 1):
            self.emit("NAME", self.s[k], k, k + 1)
        last = self.name(m.end() - 1)
        assert last
        if m.end() - i == 1:
            last = self.after_partial(last)
        return self.emit("NAME", last[0], m.end() - 1, last[1])

    def arguments_follow(self, j: int) -> bool:
        """Whether `(` follows, holding a comma at its own level (`(y, t)`) before it closes."""
        k = self.ws(j)
        if self.at(k) != "(":
            return False
        depth = 0
        for c in self.s[k:k + 400]:
            if c in "([{":
                depth += 1
            elif c in ")]}":
                depth -= 1
                if depth == 0:
                    return False
            elif c == "," and depth == 1:
                return True
        return False

    def superscript(self, i: int) -> int:
        s, j = self.s, self.ws(i + 1)
        if self.at(j) == "{":
            m = self.brace(j)
            inner = re.sub(r"\s+", "", s[j + 1:m])
            if inner in v.TRANSPOSE_MARKS:
                return self.emit("TRANSPOSE", s[i:m + 1], i, m + 1)
            if inner[:1] == "-" and inner[1:] in v.TRANSPOSE_MARKS:  # X^{-\top}: (X^{-1})^\top
                for typ, val in (("CARET", "^"), ("_LBRACE", "{"), ("MINUS", "-"), ("NUMBER", "1"),
                                 ("_RBRACE", "}")):
                    self.emit(typ, val, i, m + 1)
                return self.emit("TRANSPOSE", s[i:m + 1], i, m + 1)
            if inner in v.PRIME_MARKS:
                for _ in range(v.PRIME_MARKS[inner]):
                    self.emit("PRIME", "'", i, m + 1)
                return m + 1
            return self.emit("CARET", "^", i, i + 1)
        a = self.arg(j)
        if a is not None:
            mark = re.sub(r"\s+", "", a[0])
            if mark in v.TRANSPOSE_MARKS:
                return self.emit("TRANSPOSE", s[i:a[1]], i, a[1])
            if mark in ("\\mathsf", "\\mathrm") and (b := self.arg(a[1])) and b[0] == "T":
                return self.emit("TRANSPOSE", s[i:b[1]], i, b[1])
            if mark == "\\prime":
                return self.emit("PRIME", "'", i, a[1])
        self.emit("CARET", "^", i, i + 1)
        c = self.at(j)
        if "0" <= c <= "9" or is_letter(c):  # an unbraced superscript is one character
            return self.emit("NUMBER" if c.isdigit() else "NAME", c, j, j + 1)
        return j

    def norm_bar(self, type_: str, start: int, j: int, sized: str = "") -> int:
        """A norm bar; a subscript after it (`\\|X\\|_F`) is kept as the norm's kind."""
        sub = self.sub(j) if self.at(self.ws(j)) == "_" else None
        kind = ""
        if sub:
            kind = sub[0].lstrip("_").strip("{}")
            kind, j = ("F" if kind in ("F", "fro") else kind), sub[1]
        return self.emit(type_, kind, start, j, sized)

    def delimiter(self, cmd: str, start: int, j: int) -> int:
        k = self.ws(j)
        s, sized = self.s, ("left" if cmd == "left" else "right")
        c = self.at(k)
        table = {"(": "_LPAR", ")": "_RPAR", "[": "_LBRACK", "]": "_RBRACK"}
        if c in table:
            return self.emit(table[c], c, start, k + 1, sized)
        mc = CMD.match(s, k)
        word = mc.group(1) if mc else ""
        if s.startswith("\\{", k) or s.startswith("\\}", k):
            return self.emit("_LSET" if s[k + 1] == "{" else "_RSET", s[k:k + 2], start, k + 2, sized)
        if s.startswith("\\|", k) or word in ("Vert", "lVert", "rVert"):
            end = k + 2 if s.startswith("\\|", k) else mc.end()  # type: ignore[union-attr]
            if sized == "left":
                return self.emit("_NORM_OPEN", "", start, end, sized)
            return self.norm_bar("NORM_CLOSE", start, end, sized)
        if c == "|" or word in v.ABS:
            end = k + 1 if c == "|" else mc.end()  # type: ignore[union-attr]
            return self.abs_bar(start, end, sized)
        if c == ".":
            raise LexError(f"`\\{cmd}.` (an invisible delimiter) is not supported", start, k + 1)
        shown = "\\left(" if cmd == "left" else "\\right)"
        raise LexError(f"`\\{cmd}` without its delimiter", start, j, hint=f"write `{shown}`")

    def command(self, i: int) -> int:
        s, c = self.s, self.at(i + 1)
        if c == "\\":
            raise LexError("line break `\\\\` inside a statement", i, i + 2)
        if c and c in ",;:! >":
            return i + 2
        if c in ("{", "}"):
            return self.emit("_LSET" if c == "{" else "_RSET", s[i:i + 2], i, i + 2)
        if c == "|":
            return self.norm_bar("NORMBAR", i, i + 2)
        mc = CMD.match(s, i)
        if not mc:
            raise LexError(f"unexpected `\\{c}`" if c else "lone backslash `\\` at the end", i, i + 2)
        cmd, j = mc.group(1), mc.end()
        if cmd in v.SPACING or cmd in SIZE_NAMES:
            return j
        if cmd in v.SKIP_ARG:
            k = self.ws(j)
            k = self.ws(k + 1) if self.at(k) == "*" else k
            return self.brace(k) + 1 if self.at(k) == "{" else j
        if cmd in ("left", "right"):
            return self.delimiter(cmd, i, j)
        if cmd == "sum":
            return self.bigsum(i, j)
        if cmd in v.CALLED_GREEK and self.call_follows(j):  # \Phi(z): the normal CDF (unless declared)
            return self.emit("FUNC", v.GREEK[cmd], i, j)
        if cmd == "dot":  # \dot\phi(z), \dot{\phi}(z): Newton's dot, the derivative phi'(z)
            a = self.arg(j)
            if a and a[0].startswith("\\") and a[0][1:] in v.CALLED_GREEK and self.call_follows(a[1], False):
                self.emit("FUNC", v.GREEK[a[0][1:]], i, a[1])
                return self.emit("PRIME", "'", i, a[1])
        if cmd in ("bar", "overline"):
            inner = self.name(self.ws(j)) or self.squared_group(self.ws(j))
            if inner is None:
                raise LexError(f"`\\{cmd}` must be applied to a symbol, e.g. `\\bar{{z}}`", i, j)
            return self.emit("BAR", inner[0], i, inner[1])
        if cmd in v.DECOR:
            a = self.arg(j)
            if a and a[0] == "1":
                return self.ones(i, a[1])
        if cmd in v.BLACKBOARD or cmd == "R":
            return self.blackboard(cmd, i, j)
        if cmd in v.TEXT_CMDS:
            return self.text(cmd, i, j)
        named = self.name(i)
        if named is not None:
            named = self.after_partial(named)
            return self.emit("NAME", named[0], i, named[1])
        if cmd in v.DECOR:  # decoration of something bigger: `\mathbf{W x}` is just a group
            return j
        return self.operator(cmd, i, j)

    def after_partial(self, named: tuple[str, int]) -> tuple[str, int]:
        """`\\partial z^l / \\partial W^l`: right after `\\partial` a layer superscript is the name's."""
        if self.out and self.out[-1].type == "_PARTIAL":
            return self.layered(named) or named
        return named

    def bracketed_entry(self, k: int) -> tuple[str, int] | None:
        """`(W_2)_{jk}`, `[b_1]_j` as a derivative's variable: the entry's name `W_2_{jk}`."""
        close = {"(": ")", "[": "]"}.get(self.at(k))
        if close is None:
            return None
        inner = self.name(self.ws(k + 1))
        if inner is None or self.at(self.ws(inner[1])) != close:
            return None
        sub = self.sub(self.ws(inner[1]) + 1)
        return (inner[0] + sub[0], sub[1]) if sub is not None else None

    def squared_group(self, k: int) -> tuple[str, int] | None:
        """`{\\sigma^2}` after a bar: the squared name, when the braces hold nothing else."""
        if self.at(k) != "{":
            return None
        sq = self.squared(self.name(self.ws(k + 1)))
        if sq is None or self.at(self.ws(sq[1])) != "}":
            return None
        return sq[0], self.ws(sq[1]) + 1

    def operator(self, cmd: str, i: int, j: int) -> int:
        if cmd in ("frac", "dfrac", "tfrac"):
            d = self.derivative(i, j)
            if d is not None:
                return d
        if cmd in v.FUNC_CMDS:
            return self.emit("FUNC", v.FUNC_CMDS[cmd], i, j)
        if cmd in v.SIMPLE_CMDS:
            return self.emit(v.SIMPLE_CMDS[cmd], "\\" + cmd, i, j)
        if cmd in v.CMP_CMDS:
            return self.emit("CMP", v.CMP_CMDS[cmd], i, j)
        if cmd == "nabla":
            return self.nabla(i, j)
        if cmd in ("lbrace", "rbrace"):
            return self.emit("_LSET" if cmd == "lbrace" else "_RSET", "\\" + cmd, i, j)
        if cmd in ("Vert", "lVert", "rVert"):
            if cmd == "lVert":
                return self.emit("_NORM_OPEN", "", i, j)
            return self.norm_bar("NORM_CLOSE" if cmd == "rVert" else "NORMBAR", i, j)
        if cmd in ("top", "intercal"):
            raise LexError(f"`\\{cmd}` must follow `^`, as in `x^\\top`", i, j)
        if cmd in ("vert", "lvert", "rvert"):
            return self.abs_bar(i, j, {"lvert": "left", "rvert": "right"}.get(cmd, ""))
        if cmd in v.ABS:
            raise LexError(f"`\\{cmd}` is not supported", i, j)
        if cmd in v.RELATIONS:
            raise LexError(f"relation `\\{cmd}` is not supported (only `=` and `\\in`)", i, j)
        if cmd in ("begin", "end"):
            a = self.arg(j)
            env = a[0] if a else ""
            raise LexError(f"environment `{env}` is not supported here", i, a[1] if a else j)
        if cmd in v.UNSUPPORTED:
            raise LexError(f"`\\{cmd}` is not supported", i, j)
        raise LexError(f"unknown command `\\{cmd}`", i, j)

    def ones(self, i: int, j: int) -> int:
        k = self.ws(j)
        m = KRONECKER.match(self.s, k) or KRONECKER_SUB.match(self.s, k)
        if m:  # \mathbb{1}[i = j], \mathbb{1}_{i=j}: a Kronecker delta
            return self.emit("NAME", f"[{m.group(1)}={m.group(2)}]", i, m.end())
        ind = self.indicator(j)
        if ind is not None:
            return self.emit("_IND_OPEN", ind[1], i, ind[0], ind[2])
        sub = self.sub(j)  # `\mathbf{1}_n`: the size is inferred anyway
        return self.emit("ONES", "1", i, sub[1] if sub else j)

    def blackboard(self, cmd: str, i: int, j: int) -> int:
        letter, end = ("R", j) if cmd == "R" else (self.arg(j) or ("", j))
        if letter == "1":
            return self.ones(i, end)
        if letter == "I":
            k = self.ws(end)
            m = KRONECKER.match(self.s, k) or KRONECKER_SUB.match(self.s, k)
            if m:  # \mathbb{I}[i = j]: a Kronecker delta
                return self.emit("NAME", f"[{m.group(1)}={m.group(2)}]", i, m.end())
            ind = self.indicator(end)
            if ind is not None:
                return self.emit("_IND_OPEN", ind[1], i, ind[0], ind[2])
            sub = self.sub(end)
            return self.emit("NAME", "I" + (sub[0] if sub else ""), i, sub[1] if sub else end)
        if letter != "R":
            raise LexError(f"`\\{cmd}{{{letter}}}` is not supported", i, end)
        k = self.ws(end)
        if self.at(k) != "_":
            return self.emit("REALS", "", i, end)
        a = self.arg(k + 1)
        if a is None or re.sub(r"\s+", "", a[0]) not in ("+", ">0", "\\geq0", "\\ge0", "\\geqslant0"):
            raise LexError("unsupported subscript on `\\mathbb{R}`", k, a[1] if a else k + 1,
                           hint="write `\\mathbb{R}_{+}` for positive numbers")
        return self.emit("REALS", "+", i, a[1])

    def text(self, cmd: str, i: int, j: int) -> int:
        k = self.ws(j)
        if cmd == "operatorname" and self.at(k) == "*":
            k = self.ws(k + 1)
        if self.at(k) != "{":
            raise LexError(f"`\\{cmd}` needs a braced argument", i, j)
        m = self.brace(k)
        word, end = self.s[k + 1:m].strip(), m + 1
        if not word:
            return end
        if len(word) == 1 and is_letter(word) and cmd != "operatorname":
            named = self.name(i)
            assert named
            return self.emit("NAME", named[0], i, named[1])
        if word.lower() in v.WORD_FUNCS:
            return self.emit("FUNC", v.WORD_FUNCS[word.lower()], i, end)
        if self.call_follows(end) and re.fullmatch(r"[A-Za-z][A-Za-z0-9]*", word):
            return self.emit("FUNC", word, i, end)
        return self.emit("WORD", word, i, end)

    def bigsum(self, i: int, j: int) -> int:
        """`\\sum_{j=1}^{n}`, `\\sum_i`, `\\sum\\limits_{j \\neq i}`: SUM whose value is
        the subscript and the superscript's text, joined by a tab."""
        parts = {"_": "", "^": ""}
        k = self.ws(j)
        while True:
            mc = CMD.match(self.s, k)
            if mc and mc.group(1) in ("limits", "nolimits"):
                k = self.ws(mc.end())
                continue
            c = self.at(k)
            if c not in parts or parts[c]:
                break
            a = self.arg(k + 1)
            if a is None or not a[0]:
                raise LexError(f"`\\sum{c}` needs an argument", i, k + 1)
            parts[c], k = a[0], a[1]
            k = self.ws(k)
        if not parts["_"]:
            raise LexError("`\\sum` needs its index, as in `\\sum_{i}` or `\\sum_{i=1}^{n}`", i, j)
        return self.emit("SUM", parts["_"] + "\t" + parts["^"], i, k)
    def abs_bar(self, start: int, end: int, sized: str = "") -> int:
        """`|X|`: a bar closes an open one when it follows the end of an operand."""
        ends = ("NAME", "NUMBER", "_RPAR", "_RBRACK", "_RBRACE", "TRANSPOSE", "PRIME", "BAR", "ONES",
                "ABS_CLOSE", "NORM_CLOSE")
        closing = sized == "right" or (sized != "left" and self.abs_open > 0 and self.out
                                       and self.out[-1].type in ends)
        if closing:
            if self.abs_open == 0:
                raise LexError("closing `|` without an opening one", start, end)
            self.abs_open -= 1
            return self.emit("ABS_CLOSE", "|", start, end, sized)
        self.abs_open += 1
        return self.emit("_ABS_OPEN", "|", start, end, sized)

    def derivative(self, i: int, j: int) -> int | None:
        """`\\frac{d\\mathcal{L}}{dW}` (a total derivative), `\\frac{\\partial}{\\partial X}`,
        `\\frac{\\partial E}{\\partial X}` of an expression E, `\\frac{\\partial^2 f}{\\partial x
        \\partial x^\\top}`; None for any other fraction (a plain partial is the grammar's)."""
        k = self.ws(j)
        if self.at(k) != "{":
            return None
        m1 = self.brace(k)
        k2 = self.ws(m1 + 1)
        if self.at(k2) != "{":
            return None
        m2 = self.brace(k2)
        head = DIFF.match(self.s, k + 1)
        if head is None:
            return None
        op, order = ("d" if head.group(1) else "partial"), 2 if head.group(2) else 1
        wrt = self.wrt(k2 + 1, m2, op, order)
        if wrt is None:
            return None
        rest = self.ws(head.end())
        if rest == m1:  # the operator alone: it applies to the next factor
            return self.emit("HESS" if order == 2 else "DOP", f"{op}|{wrt}", i, m2 + 1)
        named = self.name(rest)
        named = self.layered(named) or named  # `\partial a^l`: a name, as `\partial a^{(l)}` is
        if order == 1 and named is not None and self.ws(named[1]) == m1:
            if op == "partial":
                return None
            return self.emit("TOTAL", f"{named[0]}|{wrt}", i, m2 + 1)
        # an expression in the numerator: the operator, then the numerator as a group
        self.emit("HESS" if order == 2 else "DOP", f"{op}|{wrt}|{m2 + 1}", i, rest)
        self.emit("_LBRACE", "{", rest, rest)
        self.jumps[m1 + 1] = m2 + 1
        return rest

    def wrt(self, k: int, end: int, op: str, order: int) -> str | None:
        """The variable of a derivative's denominator: `\\partial X`, `dX`, `\\partial w \\partial w^\\top`."""
        names: list[str] = []
        while True:
            k = self.ws(k)
            if k >= end:
                break
            m = DIFF.match(self.s, k)
            if m is None or m.group(2) or bool(m.group(1)) != (op == "d"):
                return None
            start = self.ws(m.end())
            named = self.name(start)
            fold = self.bracketed_entry(start) if named is None and order == 1 else None
            fold = fold or (self.squared(named) if order == 1 else None)  # the batch variance
            fold = fold or (self.layered(named) if order == 1 else None)  # `\partial z^l`: a layer
            if fold is not None:
                named = self.folds[start] = fold
            if named is None:
                return None
            names.append(named[0])
            k = self.ws(named[1])
            t = TRANSPOSE_SUP.match(self.s, k)
            if t is not None and order == 2 and len(names) == 2:
                k = t.end()
            sq = SQUARE_SUP.match(self.s, k)
            if sq is not None and order == 2 and len(names) == 1:
                names.append(names[0])
                k = sq.end()
        want = 2 if order == 2 else 1
        if len(names) != want:
            return None
        if len(set(names)) != 1:  # `\partial w_j \partial w_k`: a mixed entry, the two joined by a tab
            return "\t".join(names)
        return names[0]

    def nabla(self, i: int, j: int) -> int:
        k = self.ws(j)
        after = self.nabla_sub_then_square(k)
        if after is not None:  # \nabla_w^2 f: the same Hessian as \nabla^2_w f
            return self.emit("HESS", f"nabla|{after[0]}", i, after[1])
        hess = SQUARE_SUP.match(self.s, k)
        if hess is not None:  # \nabla^2_w f: the Hessian
            k = self.ws(hess.end())
            if self.at(k) != "_":
                raise LexError("`\\nabla^2` needs a subscript, e.g. `\\nabla^2_{w} \\mathcal{L}`", i, k)
            a = self.name(self.ws(k + 1) + (1 if self.at(self.ws(k + 1)) == "{" else 0))
            if a is None:
                raise LexError("`\\nabla^2_{...}` needs one symbol as its subscript", i, k + 1)
            end = self.ws(a[1])
            end = end + 1 if self.at(self.ws(k + 1)) == "{" and self.at(end) == "}" else a[1]
            return self.emit("HESS", f"nabla|{a[0]}", i, end)
        if self.at(k) != "_":
            raise LexError("`\\nabla` needs a subscript, e.g. `\\nabla_{x} \\mathcal{L}`", i, j)
        k = self.ws(k + 1)
        if self.at(k) == "{":
            m = self.brace(k)
            inner = self.name(self.ws(k + 1))
            inner = self.squared(inner) or inner  # `\nabla_{\sigma^2}`: the squared name
            if inner is None or self.ws(inner[1]) != m:
                raise LexError("`\\nabla_{...}` needs one symbol as its subscript", i, m + 1)
            return self.emit("NABLA", inner[0], i, m + 1)
        core = self.core(k, 0)
        if core is None:
            raise LexError("`\\nabla_{...}` needs one symbol as its subscript", i, k + 1)
        return self.emit("NABLA", core[0], i, core[1])


    def nabla_sub_then_square(self, k: int) -> tuple[str, int] | None:
        """`_{w}^{2}` or `_w^2` after `\nabla`: (w, the end), else None."""
        if self.at(k) != "_":
            return None
        k = self.ws(k + 1)
        if self.at(k) == "{":
            m = self.brace(k)
            inner = self.name(self.ws(k + 1))
            if inner is None or self.ws(inner[1]) != m:
                return None
            name, end = inner[0], m + 1
        else:
            core = self.core(k, 0)
            if core is None:
                return None
            name, end = core
        sq = SQUARE_SUP.match(self.s, end)
        return (name, sq.end()) if sq is not None else None


def tokenize(s: str, max_depth: int = 64) -> list[Tok]:
    """The statement's tokens, brackets paired; raises LexError. Unicode math is rewritten to
    its commands first (`read/unicode.py`); offsets are mapped back to the text as written."""
    text, starts, ends = normalise(s)
    last = len(text)
    try:
        check_brackets(text, max_depth)
        toks = pair(_marked(_Lexer(text).run()))
    except LexError as e:
        if text is s:
            raise
        a, b = min(e.start, last), min(max(e.end, e.start), last)
        raise LexError(e.message, starts[a], max(ends[b], starts[a] + 1), e.hint) from None
    if text is s:
        return toks
    return [t._replace(start=starts[t.start], end=ends[t.end]) for t in toks]


def _marked(toks: list[Tok]) -> list[Tok]:
    """`\\log\\sum_k`: a bare function whose argument is a sum (SUMFUNC for the grammar)."""
    for k in range(len(toks) - 1):
        if toks[k].type == "FUNC" and toks[k + 1].type == "SUM":
            toks[k] = toks[k]._replace(type="SUMFUNC")
    return toks
