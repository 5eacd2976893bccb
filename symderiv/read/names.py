"""Reading ahead in a statement's text: canonical names and the lookahead the lexer needs.

`name()` folds a symbol and its subscript into one canonical string: `\\mathbf{W}_{1}` ->
`W_1`, `\\bar{z}_y`'s base `z_y`, `\\hat{y}` -> `\\hat{y}`, `\\boldsymbol{\\mu}` -> `\\mu`
(decorations that mean the same symbol are dropped; accents that make a new one are kept).
A layer index in a superscript belongs to the name too: `W^{(1)}`, `h^{[2]}`, and a family's
generic layer `a^{(l-1)}` (`meaning/families.py` gives it a value).
`squared()` reads a squared name (`\\sigma^2`, the batch variance) where one symbol is required.
`call_follows()` and `indicator()` look past the current token to decide what it is.
Recursion is bounded by `NAME_DEPTH`; every scan is linear in what it reads.
"""
from __future__ import annotations

import re

from ..lazyre import lazy
from . import tokens as v
from .tokens import LexError

NAME_DEPTH = 12
WS = " \t\r\n~&"
CMD = re.compile(r"\\([A-Za-z]+)")
NUM = re.compile(r"\d+(?:\.\d+)?")
LETTERS = re.compile(r"[A-Za-z]+")
SIZE = lazy(r"\\(?:big|Big|bigg|Bigg)[lrm]?(?![A-Za-z])")
SUB_PIECE = re.compile(r"\s*(?:\\(?:text|mathrm|textrm|mathsf|operatorname)\s*\{\s*([A-Za-z0-9]+)\s*\}"
                        r"|\\([A-Za-z]+)|([A-Za-z0-9,+\-]))")
#: `h^{out}`, `W^{in}`: a superscript word folded into the name; the meaning reads it back as
#: a power (`e^{ab}`) when no such name is declared (meaning/resolve.py)
WORD_SUP = re.compile(r"\{\s*([A-Za-z]{2,})\s*\}")
SUPERSCRIPT_COMMANDS = frozenset({"top", "prime"})  # written without their backslash: not names
LAYER = lazy(r"\{\s*([(\[])\s*([A-Za-z0-9]+(?:\s*[+-]\s*[0-9]+)?|\\[A-Za-z]+)\s*([)\]])\s*\}")
#: `z^l`, `W^{l+1}`, `\\delta^{L}`: a layer index without brackets (one letter, maybe an offset)
BARE_LAYER = re.compile(r"\s*\^\s*(?:\{\s*([A-Za-z](?:\s*[+-]\s*[0-9]+)?)\s*\}|([A-Za-z]))")
SQUARE = re.compile(r"\s*\^\s*(?:\{\s*2\s*\}|2(?![0-9]))")
TAIL_SUB = re.compile(r"^(?P<stem>[^_^]+)(?P<sub>_(?:\{[^{}]*\}|[^{}]))$")
SIZE_NAMES = {m + s for m in ("big", "Big", "bigg", "Bigg") for s in ("", "l", "r", "m")}


def is_letter(c: str) -> bool:
    return "a" <= c <= "z" or "A" <= c <= "Z"


class TextReader:
    """A statement's text with the read-ahead helpers; `_Lexer` builds on it."""

    def __init__(self, s: str) -> None:
        self.s, self.n = s, len(s)

    def ws(self, i: int) -> int:
        s, n = self.s, self.n
        while i < n:
            if s[i] in WS:
                i += 1
            elif s[i] == "\\" and i + 1 < n and s[i + 1] in ",;:! ":
                i += 2
            else:
                break
        return i

    def at(self, i: int) -> str:
        return self.s[i] if i < self.n else ""

    def brace(self, i: int) -> int:
        """Index of the `}` matching the `{` at i (brackets were checked, so it exists)."""
        depth, s = 0, self.s
        while i < self.n:
            if s[i] == "\\":
                i += 2
                continue
            depth += (s[i] == "{") - (s[i] == "}")
            if depth == 0:
                return i
            i += 1
        raise LexError("unclosed brace `{`", i)

    def arg(self, i: int) -> tuple[str, int] | None:
        """A command's argument: a braced group's text, or one character / command."""
        i = self.ws(i)
        if self.at(i) == "{":
            m = self.brace(i)
            return self.s[i + 1:m].strip(), m + 1
        mc = CMD.match(self.s, i)
        if mc:
            return mc.group(0), mc.end()
        return (self.s[i], i + 1) if i < self.n else None

    # -- names -----------------------------------------------------------------------------
    def name(self, i: int, depth: int = 0) -> tuple[str, int] | None:
        """A canonical name at i with its subscript folded in, or None."""
        core = self.core(i, depth)
        if core is None:
            return None
        base, j = core
        if "_" not in base:
            sub = self.sub(j)
            if sub is not None:
                base, j = base + sub[0], sub[1]
        k = self.ws(j)  # a layer index is part of the name: `W^{(1)}`, `h^{[2]}`
        if self.at(k) == "^" and self.at(self.ws(k + 1)) == "{":
            m = LAYER.match(self.s, self.ws(k + 1))
            if m and m.group(1) + m.group(3) in ("()", "[]"):
                inner = re.sub(r"\s+", "", m.group(2))  # a layer of a family: `l-1`, `l+1`
                layer = f"^{{{m.group(1)}{inner}{m.group(3)}}}"
                tail = TAIL_SUB.match(base)  # `W_{ij}^{(l)}`: the entry's subscript last, as
                if tail:                     # in `W^{(l)}_{ij}`, so both spellings read alike
                    return f"{tail.group('stem')}{layer}{tail.group('sub')}", m.end()
                return f"{base}{layer}", m.end()
            w = WORD_SUP.match(self.s, self.ws(k + 1))
            if w and w.group(1) not in SUPERSCRIPT_COMMANDS:
                return f"{base}^{{{w.group(1)}}}", w.end()
        return base, j

    def squared(self, named: tuple[str, int] | None) -> tuple[str, int] | None:
        """A name squared, `\\sigma^2`, `\\sigma^{2}`, `\\sigma_j^2` or `\\sigma^2_j`, as one name
        (`\\sigma^2`, `\\sigma^2_j`: the subscript last, so it reads as an entry), or None. Only
        where one symbol is required (a bar, a derivative's variable): elsewhere `x^2` is a power,
        and `meaning/squares.py` reads it as the name when the problem defines one."""
        if named is None or "^" in named[0]:
            return None
        m = SQUARE.match(self.s, named[1])
        if m is None:
            return None
        tail = TAIL_SUB.match(named[0])
        stem, sub = (tail.group("stem"), tail.group("sub")) if tail else (named[0], "")
        end = m.end()
        if not sub and (after := self.sub(end)) is not None:
            sub, end = after
        return stem + "^2" + sub, end

    def layered(self, named: tuple[str, int] | None) -> tuple[str, int] | None:
        """A name with a layer index written without brackets, `z^l`, `W^{l+1}`, `z^l_j` or
        `z_j^l`, as one name (`z^{l}`, `W^{l+1}`, `z^{l}_j`, `z_j^{l}`), or None. Only where one
        symbol is required (a derivative's variable): elsewhere `z^l` is a power. A problem with
        layers reads it as the member `z^{(l)}` (`meaning/families.py`); in any other it stays an
        unknown symbol, never a power. `^T` is a transpose and `^2` a square, not a layer."""
        if named is None or "^" in named[0]:
            return None
        m = BARE_LAYER.match(self.s, named[1])
        if m is None:
            return None
        text = re.sub(r"\s+", "", m.group(1) or m.group(2))
        if text in v.TRANSPOSE_MARKS:
            return None
        tail = TAIL_SUB.match(named[0])  # `z_j^l`: the entry's subscript last, as in `z^{(l)}_j`
        stem, sub = (tail.group("stem"), tail.group("sub")) if tail else (named[0], "")
        end = m.end()
        if not sub and (after := self.sub(end)) is not None:
            sub, end = after
        return f"{stem}^{{{text}}}{sub}", end

    def core(self, i: int, depth: int) -> tuple[str, int] | None:
        if depth > NAME_DEPTH or i >= self.n:
            return None
        s, c = self.s, self.s[i]
        if is_letter(c):
            return c, i + 1
        if c == "{":
            inner = self.name(self.ws(i + 1), depth + 1)
            if inner and self.at(self.ws(inner[1])) == "}":
                return inner[0], self.ws(inner[1]) + 1
            return None
        mc = CMD.match(s, i)
        if not mc:
            return None
        cmd, j = mc.group(1), mc.end()
        if cmd in v.GREEK:
            return "\\" + v.GREEK[cmd], j
        if cmd in v.SCRIPT:
            a = self.arg(j)
            return (f"\\{cmd}{{{a[0]}}}", a[1]) if a and len(a[0]) == 1 and is_letter(a[0]) else None
        if cmd in v.DECOR or cmd in v.ACCENT:
            inner = self.core(self.ws(j), depth + 1)
            if inner is None:
                return None
            return (inner if cmd in v.DECOR else (f"\\{v.ACCENT[cmd]}{{{inner[0]}}}", inner[1]))
        if cmd in v.TEXT_CMDS and cmd != "operatorname":
            a = self.arg(j)
            if a and len(a[0]) == 1 and is_letter(a[0]):
                return a[0], a[1]
        return None

    def sub(self, j: int) -> tuple[str, int] | None:
        """`_c` or `_{...}` after a name, canonical: `_c` for one character, `_{cc}` for more."""
        k = self.ws(j)
        if self.at(k) != "_":
            return None
        k = self.ws(k + 1)
        if self.at(k) == "{":
            m = self.brace(k)
            text, end = self.s[k + 1:m], m + 1
        else:
            mc = CMD.match(self.s, k)
            text, end = (mc.group(0), mc.end()) if mc else (self.at(k), k + 1)
            if not text:
                return None
        parts: list[str] = []
        pos = 0
        while pos < len(text.rstrip()):
            mp = SUB_PIECE.match(text, pos)
            if not mp or (mp.group(2) and mp.group(2) not in v.GREEK):
                return None
            piece = mp.group(1) or (f"\\{v.GREEK[mp.group(2)]}" if mp.group(2) else mp.group(3))
            if parts and parts[-1].startswith("\\") and is_letter(piece[0]):
                piece = " " + piece
            parts.append(piece)
            pos = mp.end()
        canon = "".join(parts)
        if not canon:
            return None
        return ("_" + canon if len(canon) == 1 else "_{" + canon + "}"), end

    # -- context ---------------------------------------------------------------------------
    def call_follows(self, j: int, allow_sup: bool = True) -> bool:
        """Whether a function call's `(`, `'` or `^{\\prime}` comes next."""
        s, k = self.s, self.ws(j)
        c = self.at(k)
        if c in ("(", "'"):
            return True
        if s.startswith("\\left", k):
            return self.at(self.ws(k + 5)) in ("(", "[")
        ms = SIZE.match(s, k)
        if ms:
            return self.at(self.ws(ms.end())) == "("
        if c == "^" and allow_sup:
            a = self.arg(k + 1)
            return a is not None and (a[0].replace(" ", "") in v.PRIME_MARKS or self.call_follows(a[1], False))
        return False

    def indicator(self, j: int) -> tuple[int, str, str] | None:
        """After a ones symbol: (end of the opening bracket, closer type, sized) if a bracket
        holding a comparison follows (`[u > 0]`, `(u>0)`, `_{u>0}`, `\\{u>0\\}`)."""
        s, k = self.s, self.ws(j)
        sized = ""
        if s.startswith("\\left", k):
            k, sized = self.ws(k + 5), "left"
        elif (ms := SIZE.match(s, k)):
            k = self.ws(ms.end())
        c = self.at(k)
        if c == "_" and not sized and self.at(self.ws(k + 1)) == "{":
            k, closer = self.ws(k + 1), "_RBRACE"
        elif c in ("[", "("):
            closer = "_RBRACK" if c == "[" else "_RPAR"
        elif s.startswith("\\{", k):
            k, closer = k + 1, "_RSET"
        else:
            return None
        depth, p = 0, k + 1
        while p < self.n:
            ch = s[p]
            if ch == "\\":
                mc = CMD.match(s, p)
                if mc and mc.group(1) in v.CMP_CMDS and depth == 0:
                    return k + 1, closer, sized
                if not mc and p + 1 < self.n and s[p + 1] in "{}":
                    depth += 1 if s[p + 1] == "{" else -1
                p = mc.end() if mc else p + 2
                if depth < 0:
                    return None
                continue
            if ch in "<>" and depth == 0:
                return k + 1, closer, sized
            depth += (ch in "([{") - (ch in ")]}")
            if depth < 0:
                return None
            p += 1
        return None
