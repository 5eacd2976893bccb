"""The token vocabulary of the homework LaTeX dialect: token and error types, and the tables
of commands the lexer knows (Greek letters, functions, decorations, operators).

Adding a notation usually means one entry here, one grammar line and one builder method.
"""
from __future__ import annotations

from typing import NamedTuple

from ..model.elementwise import spellings
from ..names import GREEK_LETTERS


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


GREEK = {g: g for g in GREEK_LETTERS}
GREEK.update(varepsilon="epsilon", vartheta="theta", varphi="phi", varrho="rho", varpi="pi",
             varsigma="sigma")
#: Greek letters that are a function before a call (`\\sigma(z)`, `\\phi'(z)`) and a symbol
#: elsewhere: σ and Φ name fixed functions unless declared; φ, ψ only generic ones (SPEC 1)
CALLED_GREEK = ("sigma", "Phi", "phi", "varphi", "psi", "Psi")
# function spellings: the elementwise functions' come from their records (model/elementwise.py)
FUNC_CMDS = spellings("commands") | {
    "det": "det", "sqrt": "sqrt", "tan": "tan", "max": "max", "min": "min", "tr": "tr", "Tr": "tr",
    "trace": "tr", "diag": "diag", "softmax": "softmax"}
WORD_FUNCS = spellings("words") | {
    "softmax": "softmax", "logsoftmax": "logsoftmax", "diag": "diag", "tr": "tr", "trace": "tr",
    "sum": "sum", "det": "det", "sqrt": "sqrt"}
PLAIN_FUNCS = spellings("plain") | {"softmax": "softmax", "diag": "diag", "logsoftmax": "logsoftmax"}
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
            "gt": ">", "lt": "<", "succ": "succ", "succeq": "succeq"}
SIMPLE_CMDS = {"odot": "_ODOT", "circ": "_ODOT", "oslash": "OSLASH", "cdot": "_CDOT", "times": "_CDOT", "ast": "_CDOT",
               "in": "_IN", "partial": "_PARTIAL", "frac": "_FRAC", "tfrac": "_FRAC",
               "dfrac": "_FRAC", "cfrac": "_FRAC", "coloneqq": "_EQ", "prime": "PRIME"}
RELATIONS = {"neq", "ne", "approx", "to", "mapsto", "Rightarrow", "implies", "iff", "sim", "propto",
             "equiv", "rightarrow", "leftarrow", "Leftarrow", "simeq", "cong"}
UNSUPPORTED = {"prod", "int", "lim", "dots", "ldots", "cdots", "vdots", "ddots", "otimes",
               "oplus", "wedge", "vee", "cap", "cup", "infty", "forall", "exists", "because",
               "therefore", "begin", "end", "pm", "mp", "div", "cdotp"}
ABS = {"vert", "lvert", "rvert", "mid"}
SINGLE = {"+": "PLUS", "-": "MINUS", "*": "_CDOT", "/": "SLASH", "=": "_EQ", ",": "_COMMA",
          "'": "PRIME", "(": "_LPAR", ")": "_RPAR", "[": "_LBRACK", "]": "_RBRACK", "{": "_LBRACE",
          "}": "_RBRACE"}
UNICODE = {"\u2212": "MINUS", "\u00b7": "_CDOT", "\u00d7": "_CDOT", "\u2299": "_ODOT",
           "\u2218": "_ODOT", "\u2208": "_IN", "\u1d40": "TRANSPOSE", "\u2032": "PRIME",
           "\u2202": "_PARTIAL"}
TRANSPOSE_MARKS = {"T", "\\top", "\\intercal", "\\mathsf{T}", "\\mathrm{T}", "\\mathsfT", "\\mathrmT",
                   "\\textsf{T}", "\\text{T}", "\\mathbf{T}", "\\rmT", "\\sfT"}
PRIME_MARKS = {"\\prime": 1, "'": 1, "\\prime\\prime": 2, "''": 2}
