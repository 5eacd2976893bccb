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

Every function here is iterative or bounded (name folding recurses at most `_NAME_DEPTH`).
"""
from __future__ import annotations

import re
from typing import NamedTuple

_NAME_DEPTH = 6


class LexError(Exception):
    """A lexical or bracket error at text offsets [start, end)."""

    def __init__(self, message: str, start: int, end: int | None = None, hint: str | None = None):
        super().__init__(message)
        self.message, self.start, self.end, self.hint = message, start, end or start + 1, hint


class Tok(NamedTuple):
    type: str
    value: str
    start: int
    end: int
    sized: str = ""  # "left" / "right" for \left( and \right)


_GREEK_LETTERS = [
    "alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta", "iota", "kappa", "lambda",
    "mu", "nu", "xi", "pi", "rho", "sigma", "tau", "upsilon", "phi", "chi", "psi", "omega", "Gamma",
    "Delta", "Theta", "Lambda", "Xi", "Pi", "Sigma", "Upsilon", "Phi", "Psi", "Omega", "ell"]
GREEK = {g: g for g in _GREEK_LETTERS}
GREEK.update(varepsilon="epsilon", vartheta="theta", varphi="phi", varrho="rho", varpi="pi",
             varsigma="sigma")
FUNC_CMDS = {"tanh": "tanh", "exp": "exp", "log": "log", "ln": "log", "det": "det", "sqrt": "sqrt",
             "sin": "sin", "cos": "cos", "tan": "tan", "sinh": "sinh", "cosh": "cosh", "max": "max",
             "min": "min", "tr": "tr", "Tr": "tr", "trace": "tr", "diag": "diag", "softmax": "softmax",
             "relu": "relu", "ReLU": "relu", "sigmoid": "sigma"}
WORD_FUNCS = {"relu": "relu", "softmax": "softmax", "logsoftmax": "logsoftmax", "diag": "diag",
              "tr": "tr", "trace": "tr", "softplus": "softplus", "sum": "sum", "sigmoid": "sigma",
              "sigma": "sigma", "tanh": "tanh", "exp": "exp", "log": "log", "ln": "log", "det": "det",
              "sqrt": "sqrt"}
PLAIN_FUNCS = {"ReLU": "relu", "relu": "relu", "Relu": "relu", "RELU": "relu", "softmax": "softmax",
               "diag": "diag", "sigmoid": "sigma", "softplus": "softplus", "tanh": "tanh", "exp": "exp",
               "log": "log", "logsoftmax": "logsoftmax"}
TEXT_CMDS = {"text", "textrm", "textnormal", "textit", "textbf", "textsf", "texttt", "mbox",
             "operatorname", "mathrm", "mathsf", "mathtt"}
DECOR = {"mathbf", "boldsymbol", "bm", "vec", "mathit", "pmb", "bold", "mathbfit", "symbf"}
ACCENT = {"hat": "hat", "widehat": "hat", "tilde": "tilde", "widetilde": "tilde", "dot": "dot",
          "check": "check", "breve": "breve"}
SCRIPT = {"mathcal", "mathscr", "mathfrak"}
BLACKBOARD = {"mathbb", "mathds", "mathbbm", "Bbb"}
SPACING = {"quad", "qquad", "displaystyle", "textstyle", "nonumber", "notag", "limits", "nolimits",
           "enspace", "thinspace", "medspace", "thickspace", "negthinspace"}
SKIP_ARG = {"label", "tag", "hspace", "vspace", "phantom"}
CMP_CMDS = {"geq": ">=", "ge": ">=", "geqslant": ">=", "leq": "<=", "le": "<=", "leqslant": "<=",
            "gt": ">", "lt": "<"}
SIMPLE_CMDS = {"odot": "_ODOT", "circ": "_ODOT", "cdot": "_CDOT", "times": "_CDOT", "ast": "_CDOT",
               "in": "_IN", "partial": "_PARTIAL", "frac": "_FRAC", "tfrac": "_FRAC",
               "dfrac": "_FRAC", "cfrac": "_FRAC", "coloneqq": "_EQ", "prime": "PRIME"}
RELATIONS = {"neq", "ne", "approx", "to", "mapsto", "Rightarrow", "implies", "iff", "sim", "propto",
             "equiv", "rightarrow", "leftarrow", "Leftarrow", "simeq", "cong"}
UNSUPPORTED = {"sum", "prod", "int", "lim", "dots", "ldots", "cdots", "vdots", "ddots", "otimes",
               "oplus", "wedge", "vee", "cap", "cup", "infty", "forall", "exists", "because",
               "therefore", "begin", "end", "pm", "mp", "div", "cdotp"}
ABS = {"vert", "lvert", "rvert", "mid"}
SINGLE = {"+": "PLUS", "-": "MINUS", "*": "_CDOT", "/": "SLASH", "=": "_EQ", ",": "_COMMA",
          "'": "PRIME", "(": "_LPAR", ")": "_RPAR", "[": "_LBRACK", "]": "_RBRACK", "{": "_LBRACE",
          "}": "_RBRACE"}
UNICODE = {"\u2212": "MINUS", "\u00b7": "_CDOT", "\u00d7": "_CDOT", "\u2299": "_ODOT",
           "\u2218": "_ODOT", "\u2208": "_IN", "\u1d40": "TRANSPOSE", "\u2032": "PRIME",
           "\u2202": "_PARTIAL"}
OPENERS = {"_LPAR": "_RPAR", "_LBRACK": "_RBRACK", "_LBRACE": "_RBRACE", "_LSET": "_RSET",
           "_NORM_OPEN": "NORM_CLOSE"}
CLOSERS = {"_RPAR": ")", "_RBRACK": "]", "_RBRACE": "}", "_RSET": "\\}", "NORM_CLOSE": "\\|"}
OPERAND_END = {"NAME", "BAR", "NUMBER", "ONES", "_RPAR", "_RBRACK", "_RBRACE", "_RSET",
               "NORM_CLOSE", "TRANSPOSE", "PRIME"}
TRANSPOSE_MARKS = {"T", "\\top", "\\intercal", "\\mathsf{T}", "\\mathrm{T}", "\\mathsfT", "\\mathrmT",
                   "\\textsf{T}", "\\text{T}", "\\mathbf{T}", "\\rmT", "\\sfT"}
PRIME_MARKS = {"\\prime": 1, "'": 1, "\\prime\\prime": 2, "''": 2}
_WS = " \t\r\n~&"
_CMD = re.compile(r"\\([A-Za-z]+)")
_NUM = re.compile(r"\d+(?:\.\d+)?")
_LETTERS = re.compile(r"[A-Za-z]+")
_SIZE = re.compile(r"\\(?:big|Big|bigg|Bigg)[lrm]?(?![A-Za-z])")
_SUB_PIECE = re.compile(r"\s*(?:\\(?:text|mathrm|textrm|mathsf|operatorname)\s*\{\s*([A-Za-z0-9]+)\s*\}"
                        r"|\\([A-Za-z]+)|([A-Za-z0-9,+\-]))")
_SIZE_NAMES = {m + s for m in ("big", "Big", "bigg", "Bigg") for s in ("", "l", "r", "m")}


def _is_letter(c: str) -> bool:
    return "a" <= c <= "z" or "A" <= c <= "Z"


def check_brackets(s: str, max_depth: int) -> None:
    """Braces must balance and brackets of any kind nest at most `max_depth` deep."""
    stack: list[int] = []
    depth, i, n = 0, 0, len(s)
    while i < n:
        c = s[i]
        if c == "\\":
            i += 2
            continue
        if c in "([{":
            depth += 1
            if depth > max_depth:
                raise LexError(f"brackets nested deeper than {max_depth} levels", i)
            if c == "{":
                stack.append(i)
        elif c in ")]}":
            depth = max(0, depth - 1)
            if c == "}":
                if not stack:
                    raise LexError("unbalanced brace: one `}` too many", i)
                stack.pop()
        i += 1
    if stack:
        raise LexError("unclosed brace `{`", stack[-1], hint="add the matching `}`")


class _Lexer:
    def __init__(self, s: str) -> None:
        self.s, self.n, self.out = s, len(s), []  # type: ignore[var-annotated]

    def emit(self, type_: str, value: str, start: int, end: int, sized: str = "") -> int:
        self.out.append(Tok(type_, value, start, end, sized))
        return end

    def ws(self, i: int) -> int:
        s, n = self.s, self.n
        while i < n:
            if s[i] in _WS:
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
        mc = _CMD.match(self.s, i)
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
                return base + sub[0], sub[1]
        return base, j

    def core(self, i: int, depth: int) -> tuple[str, int] | None:
        if depth > _NAME_DEPTH or i >= self.n:
            return None
        s, c = self.s, self.s[i]
        if _is_letter(c):
            return c, i + 1
        if c == "{":
            inner = self.name(self.ws(i + 1), depth + 1)
            if inner and self.at(self.ws(inner[1])) == "}":
                return inner[0], self.ws(inner[1]) + 1
            return None
        mc = _CMD.match(s, i)
        if not mc:
            return None
        cmd, j = mc.group(1), mc.end()
        if cmd in GREEK:
            return "\\" + GREEK[cmd], j
        if cmd in SCRIPT:
            a = self.arg(j)
            return (f"\\{cmd}{{{a[0]}}}", a[1]) if a and len(a[0]) == 1 and _is_letter(a[0]) else None
        if cmd in DECOR or cmd in ACCENT:
            inner = self.core(self.ws(j), depth + 1)
            if inner is None:
                return None
            return (inner if cmd in DECOR else (f"\\{ACCENT[cmd]}{{{inner[0]}}}", inner[1]))
        if cmd in TEXT_CMDS and cmd != "operatorname":
            a = self.arg(j)
            if a and len(a[0]) == 1 and _is_letter(a[0]):
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
            mc = _CMD.match(self.s, k)
            text, end = (mc.group(0), mc.end()) if mc else (self.at(k), k + 1)
            if not text:
                return None
        parts, pos = [], 0
        while pos < len(text.rstrip()):
            mp = _SUB_PIECE.match(text, pos)
            if not mp or (mp.group(2) and mp.group(2) not in GREEK):
                return None
            piece = mp.group(1) or (f"\\{GREEK[mp.group(2)]}" if mp.group(2) else mp.group(3))
            if parts and parts[-1].startswith("\\") and _is_letter(piece[0]):
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
        ms = _SIZE.match(s, k)
        if ms:
            return self.at(self.ws(ms.end())) == "("
        if c == "^" and allow_sup:
            a = self.arg(k + 1)
            return a is not None and (a[0].replace(" ", "") in PRIME_MARKS or self.call_follows(a[1], False))
        return False

    def indicator(self, j: int) -> tuple[int, str, str] | None:
        """After a ones symbol: (end of the opening bracket, closer type, sized) if a bracket
        holding a comparison follows (`[u > 0]`, `(u>0)`, `_{u>0}`, `\\{u>0\\}`)."""
        s, k = self.s, self.ws(j)
        sized = ""
        if s.startswith("\\left", k):
            k, sized = self.ws(k + 5), "left"
        elif (ms := _SIZE.match(s, k)):
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
                mc = _CMD.match(s, p)
                if mc and mc.group(1) in CMP_CMDS and depth == 0:
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

    # -- the scanner -----------------------------------------------------------------------
    def run(self) -> list[Tok]:
        s, i = self.s, 0
        while i < self.n:
            c = s[i]
            if c in _WS:
                i += 1
            elif c == "\\":
                i = self.command(i)
            elif "0" <= c <= "9":
                m = _NUM.match(s, i)
                assert m
                i = self.emit("NUMBER", m.group(0), i, m.end())
            elif _is_letter(c):
                i = self.letters(i)
            elif c == "^":
                i = self.superscript(i)
            elif c == "_":
                a = self.arg(i + 1)
                i = self.emit("SUB", a[0] if a else "", i, a[1] if a else i + 1)
            elif c in SINGLE:
                i = self.emit(SINGLE[c], c, i, i + 1)
            elif c in "<>":
                eq = self.at(i + 1) == "="
                i = self.emit("CMP", c + "=" * eq, i, i + 1 + eq)
            elif c == ":" and self.at(i + 1) == "=":
                i = self.emit("_EQ", ":=", i, i + 2)
            elif c == "|" and self.at(i + 1) == "|":
                i = self.norm_bar("NORMBAR", i, i + 2)
            elif c == "|":
                raise LexError("absolute value bars `|x|` are not supported", i, hint="write a norm `\\|x\\|`")
            elif c in UNICODE:
                i = self.emit(UNICODE[c], c, i, i + 1)
            elif c in "\u2265\u2264":
                i = self.emit("CMP", ">=" if c == "\u2265" else "<=", i, i + 1)
            else:
                raise LexError(f"unexpected character `{c}`", i)
        return self.out

    def letters(self, i: int) -> int:
        m = _LETTERS.match(self.s, i)
        assert m
        run = m.group(0)
        if run in PLAIN_FUNCS:
            return self.emit("FUNC", PLAIN_FUNCS[run], i, m.end())
        for k in range(i, m.end() - 1):
            self.emit("NAME", self.s[k], k, k + 1)
        last = self.name(m.end() - 1)
        assert last
        return self.emit("NAME", last[0], m.end() - 1, last[1])

    def superscript(self, i: int) -> int:
        s, j = self.s, self.ws(i + 1)
        if self.at(j) == "{":
            m = self.brace(j)
            inner = re.sub(r"\s+", "", s[j + 1:m])
            if inner in TRANSPOSE_MARKS:
                return self.emit("TRANSPOSE", s[i:m + 1], i, m + 1)
            if inner in PRIME_MARKS:
                for _ in range(PRIME_MARKS[inner]):
                    self.emit("PRIME", "'", i, m + 1)
                return m + 1
            return self.emit("CARET", "^", i, i + 1)
        a = self.arg(j)
        if a is not None:
            mark = re.sub(r"\s+", "", a[0])
            if mark in TRANSPOSE_MARKS:
                return self.emit("TRANSPOSE", s[i:a[1]], i, a[1])
            if mark in ("\\mathsf", "\\mathrm") and (b := self.arg(a[1])) and b[0] == "T":
                return self.emit("TRANSPOSE", s[i:b[1]], i, b[1])
            if mark == "\\prime":
                return self.emit("PRIME", "'", i, a[1])
        self.emit("CARET", "^", i, i + 1)
        c = self.at(j)
        if "0" <= c <= "9" or _is_letter(c):  # an unbraced superscript is one character
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
        mc = _CMD.match(s, k)
        word = mc.group(1) if mc else ""
        if s.startswith("\\{", k) or s.startswith("\\}", k):
            return self.emit("_LSET" if s[k + 1] == "{" else "_RSET", s[k:k + 2], start, k + 2, sized)
        if s.startswith("\\|", k) or word in ("Vert", "lVert", "rVert"):
            end = k + 2 if s.startswith("\\|", k) else mc.end()  # type: ignore[union-attr]
            if sized == "left":
                return self.emit("_NORM_OPEN", "", start, end, sized)
            return self.norm_bar("NORM_CLOSE", start, end, sized)
        if c == "|" or word in ABS:
            raise LexError("absolute value bars `|x|` are not supported", start, k + 1,
                           hint="write a norm `\\|x\\|`")
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
        mc = _CMD.match(s, i)
        if not mc:
            raise LexError(f"unexpected `\\{c}`" if c else "lone backslash `\\` at the end", i, i + 2)
        cmd, j = mc.group(1), mc.end()
        if cmd in SPACING or cmd in _SIZE_NAMES:
            return j
        if cmd in SKIP_ARG:
            k = self.ws(j)
            k = self.ws(k + 1) if self.at(k) == "*" else k
            return self.brace(k) + 1 if self.at(k) == "{" else j
        if cmd in ("left", "right"):
            return self.delimiter(cmd, i, j)
        if cmd == "sigma" and self.call_follows(j):
            return self.emit("FUNC", "sigma", i, j)
        if cmd in ("bar", "overline"):
            inner = self.name(self.ws(j))
            if inner is None:
                raise LexError(f"`\\{cmd}` must be applied to a symbol, e.g. `\\bar{{z}}`", i, j)
            return self.emit("BAR", inner[0], i, inner[1])
        if cmd in DECOR:
            a = self.arg(j)
            if a and a[0] == "1":
                return self.ones(i, a[1])
        if cmd in BLACKBOARD or cmd == "R":
            return self.blackboard(cmd, i, j)
        if cmd in TEXT_CMDS:
            return self.text(cmd, i, j)
        named = self.name(i)
        if named is not None:
            return self.emit("NAME", named[0], i, named[1])
        if cmd in DECOR:  # decoration of something bigger: `\mathbf{W x}` is just a group
            return j
        return self.operator(cmd, i, j)

    def operator(self, cmd: str, i: int, j: int) -> int:
        if cmd in FUNC_CMDS:
            return self.emit("FUNC", FUNC_CMDS[cmd], i, j)
        if cmd in SIMPLE_CMDS:
            return self.emit(SIMPLE_CMDS[cmd], "\\" + cmd, i, j)
        if cmd in CMP_CMDS:
            return self.emit("CMP", CMP_CMDS[cmd], i, j)
        if cmd == "nabla":
            return self.nabla(i, j)
        if cmd in ("Vert", "lVert", "rVert"):
            if cmd == "lVert":
                return self.emit("_NORM_OPEN", "", i, j)
            return self.norm_bar("NORM_CLOSE" if cmd == "rVert" else "NORMBAR", i, j)
        if cmd in ("top", "intercal"):
            raise LexError(f"`\\{cmd}` must follow `^`, as in `x^\\top`", i, j)
        if cmd in ABS:
            raise LexError("absolute value bars `|x|` are not supported", i, j, hint="write a norm `\\|x\\|`")
        if cmd in RELATIONS:
            raise LexError(f"relation `\\{cmd}` is not supported (only `=` and `\\in`)", i, j)
        if cmd in ("begin", "end"):
            a = self.arg(j)
            env = a[0] if a else ""
            raise LexError(f"environment `{env}` is not supported here", i, a[1] if a else j)
        if cmd in UNSUPPORTED:
            raise LexError(f"`\\{cmd}` is not supported", i, j)
        raise LexError(f"unknown command `\\{cmd}`", i, j)

    def ones(self, i: int, j: int) -> int:
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
        if len(word) == 1 and _is_letter(word) and cmd != "operatorname":
            named = self.name(i)
            assert named
            return self.emit("NAME", named[0], i, named[1])
        if word.lower() in WORD_FUNCS:
            return self.emit("FUNC", WORD_FUNCS[word.lower()], i, end)
        if self.call_follows(end) and re.fullmatch(r"[A-Za-z][A-Za-z0-9]*", word):
            return self.emit("FUNC", word, i, end)
        return self.emit("WORD", word, i, end)

    def nabla(self, i: int, j: int) -> int:
        k = self.ws(j)
        if self.at(k) != "_":
            raise LexError("`\\nabla` needs a subscript, e.g. `\\nabla_{x} \\mathcal{L}`", i, j)
        k = self.ws(k + 1)
        if self.at(k) == "{":
            m = self.brace(k)
            inner = self.name(self.ws(k + 1))
            if inner is None or self.ws(inner[1]) != m:
                raise LexError("`\\nabla_{...}` needs one symbol as its subscript", i, m + 1)
            return self.emit("NABLA", inner[0], i, m + 1)
        core = self.core(k, 0)
        if core is None:
            raise LexError("`\\nabla_{...}` needs one symbol as its subscript", i, k + 1)
        return self.emit("NABLA", core[0], i, core[1])


def pair(tokens: list[Tok]) -> list[Tok]:
    """Pair brackets (reporting the first imbalance) and direct the `\\|` norm bars."""
    out: list[Tok] = []
    stack: list[Tok] = []
    for t in tokens:
        if t.type == "NORMBAR":
            closes = stack and stack[-1].type == "_NORM_OPEN" and out and out[-1].type in OPERAND_END
            if closes:
                t = Tok("NORM_CLOSE", t.value or "2", t.start, t.end)
            elif t.value:
                raise LexError("a subscript belongs after the closing `\\|`", t.start, t.end)
            else:
                t = Tok("_NORM_OPEN", "", t.start, t.end)
        elif t.type == "SUB" and _fold_norm_kind(out, t):
            continue
        if t.type in OPENERS or t.type == "_IND_OPEN":
            stack.append(t)
        elif t.type in CLOSERS:
            _close(stack, t)
            if t.type == "NORM_CLOSE" and not t.value:
                t = t._replace(value="2")
        out.append(t)
    if stack:
        o = stack[-1]
        what = {"_LPAR": "parenthesis `(`", "_LBRACK": "bracket `[`", "_LBRACE": "brace `{`",
                "_LSET": "`\\{`", "_NORM_OPEN": "norm `\\|`", "_IND_OPEN": "indicator bracket"}[o.type]
        if o.sized:
            raise LexError(f"unclosed `\\left`: its {what} is never closed by `\\right`", o.start, o.end)
        raise LexError(f"unclosed {what}", o.start, o.end)
    return out


def _close(stack: list[Tok], t: Tok) -> None:
    shown = ("\\right" if t.sized else "") + CLOSERS[t.type]
    if not stack:
        if t.sized:
            raise LexError(f"`{shown}` without a matching `\\left`", t.start, t.end)
        kind = {"_RPAR": "parenthesis", "_RBRACK": "bracket", "_RBRACE": "brace"}.get(t.type, "delimiter")
        raise LexError(f"unbalanced {kind}: one `{shown}` too many", t.start, t.end)
    o = stack[-1]
    want = o.value if o.type == "_IND_OPEN" else OPENERS[o.type]
    if want != t.type:
        raise LexError(f"`{shown}` does not match the opening one", t.start, t.end,
                       hint=f"expected `{CLOSERS[want]}`")
    if bool(o.sized) != bool(t.sized):
        raise LexError(f"`{shown}` closes a bracket opened without `\\left`" if t.sized
                       else f"`\\left` bracket closed by a plain `{shown}`", t.start, t.end,
                       hint="pair `\\left(` with `\\right)`")
    stack.pop()


def _fold_norm_kind(out: list[Tok], sub: Tok) -> bool:
    """`\\|X\\|^2_F`: the subscript after the power still names the norm."""
    j = len(out) - 1
    if j >= 0 and out[j].type == "_RBRACE":
        depth = 0
        while j >= 0:
            depth += (out[j].type == "_RBRACE") - (out[j].type == "_LBRACE")
            if depth == 0:
                break
            j -= 1
    j -= 1
    if j < 1 or out[j].type != "CARET" or out[j - 1].type != "NORM_CLOSE" or sub.value.strip("{} ") == "":
        return False
    kind = sub.value.strip("{} ")
    out[j - 1] = out[j - 1]._replace(value="F" if kind in ("F", "fro") else kind)
    return True


def tokenize(s: str, max_depth: int = 64) -> list[Tok]:
    """The statement's tokens, brackets paired; raises LexError."""
    check_brackets(s, max_depth)
    return pair(_Lexer(s).run())
