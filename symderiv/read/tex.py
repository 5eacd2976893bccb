r"""A LaTeX document -> its math pieces (SPEC section 1): what Overleaf users hand in.

- `%` comments are blanked (`\%` is a percent sign);
- the preamble (before `\begin{document}`) and everything after `\end{document}` are skipped,
  except for macro definitions: `\newcommand`/`\renewcommand`/`\providecommand` (with `[n]`
  arguments), `\def\name#1#2{...}` and `\DeclareMathOperator`, here or in the body;
- macros are expanded before reading, within a budget (`MAX_EXPANSIONS` expansions,
  `MAX_EXPANDED` characters, `MAX_MACRO_DEPTH` nested levels): a definition that expands
  forever or explodes is an error naming the macro and the line where it was used;
- math is read as in Markdown: `$$...$$`, `\[...\]`, the environments of SPEC section 1 (each
  row a statement), and inline `$...$`/`\(...\)` for declarations and claims; prose and
  sectioning are ignored.

The tokenizer is our own small scanner, not a general LaTeX parser: it only has to find
comments, definitions, invocations and math delimiters, and keeping every line where the
user wrote it (an expansion never adds or removes a line) is what makes positions exact.
"""
from __future__ import annotations

import re
from dataclasses import field

from ..errors import InputError
from ..fastdataclass import dataclass
from .markdown import ENVIRONMENTS, MathPiece

MAX_EXPANSIONS = 10_000
MAX_EXPANDED = 2_000_000
MAX_MACRO_DEPTH = 32
_CMD = re.compile(r"\\([A-Za-z]+|.)")
_DEFINERS = {"newcommand", "renewcommand", "providecommand", "DeclareMathOperator", "def"}


@dataclass(frozen=True)
class Macro:
    name: str
    nargs: int
    body: str
    line: int  # where it was defined


@dataclass
class Expansion:
    """Where a macro's expansion lies in the expanded text, and where it was used."""

    start: int
    end: int
    name: str
    line: int
    col: int
    width: int  # length of the invocation as written


@dataclass
class TexSource:
    text: str  # the expanded body, lines where the file has them
    pieces: list[MathPiece]
    expansions: list[Expansion] = field(default_factory=list)


def _line_of(text: str, offset: int) -> int:
    return text.count("\n", 0, offset) + 1


def _blank(chars: list[str], a: int, b: int) -> None:
    for k in range(a, min(b, len(chars))):
        if chars[k] != "\n":
            chars[k] = " "


def strip_comments(text: str) -> str:
    """`%` to the end of its line blanked; `\\%` kept."""
    out, i = list(text), 0
    while i < len(text):
        c = text[i]
        if c == "\\":
            i += 2
        elif c == "%":
            end = text.find("\n", i)
            end = len(text) if end < 0 else end
            _blank(out, i, end)
            i = end
        else:
            i += 1
    return "".join(out)


def _group(text: str, i: int) -> tuple[str, int] | None:
    """A braced group's inside and the index after it, or None."""
    while i < len(text) and text[i] in " \t\n":
        i += 1
    if i >= len(text) or text[i] != "{":
        return None
    depth, k = 0, i
    while k < len(text):
        if text[k] == "\\":
            k += 2
            continue
        depth += (text[k] == "{") - (text[k] == "}")
        k += 1
        if depth == 0:
            return text[i + 1:k - 1], k
    return None


def _arg(text: str, i: int) -> tuple[str, int] | None:
    """A macro argument: a braced group, a command or one character."""
    g = _group(text, i)
    if g is not None:
        return g
    while i < len(text) and text[i] in " \t\n":
        i += 1
    if i >= len(text) or text[i] == "}":
        return None
    m = _CMD.match(text, i)
    return (m.group(0), m.end()) if m else (text[i], i + 1)


def _definition(text: str, i: int, cmd: str, end: int) -> tuple[Macro, int] | None:
    """A definition starting at `\\cmd` (ending at end) -> (macro, index after it)."""
    line = _line_of(text, i)
    if cmd == "def":
        m = re.compile(r"\s*\\([A-Za-z]+)((?:#\d)*)").match(text, end)
        if not m:
            return None
        body = _group(text, m.end())
        return (Macro(m.group(1), len(m.group(2)) // 2, body[0], line), body[1]) if body else None
    k = end + (text[end:end + 1] == "*")
    name = _group(text, k)
    if name is None:
        m = re.compile(r"\s*\\([A-Za-z]+)").match(text, k)
        if not m:
            return None
        name, k = ("\\" + m.group(1), m.end())
    else:
        name, k = name[0].strip(), name[1]
    if not re.fullmatch(r"\\[A-Za-z]+", name):
        return None
    if cmd == "DeclareMathOperator":
        body = _group(text, k)
        return (Macro(name[1:], 0, f"\\operatorname{{{body[0]}}}", line), body[1]) if body else None
    nargs = 0
    m = re.compile(r"\s*\[(\d)\]").match(text, k)
    if m:
        nargs, k = int(m.group(1)), m.end()
    if re.compile(r"\s*\[").match(text, k):  # an optional argument's default: not supported
        return None
    body = _group(text, k)
    return (Macro(name[1:], nargs, body[0], line), body[1]) if body else None


def definitions(text: str) -> tuple[dict[str, Macro], str]:
    """Every macro definition in the text, and the text with the definitions blanked."""
    macros: dict[str, Macro] = {}
    out = list(text)
    for m in re.finditer(r"\\(newcommand|renewcommand|providecommand|DeclareMathOperator|def)(?![A-Za-z])",
                         text):
        got = _definition(text, m.start(), m.group(1), m.end())
        if got is not None:
            macro, end = got
            if not (m.group(1) == "providecommand" and macro.name in macros):
                macros[macro.name] = macro
            _blank(out, m.start(), end)
    return macros, "".join(out)


class _Expander:
    def __init__(self, macros: dict[str, Macro], file: str) -> None:
        self.macros, self.file = macros, file
        self.count, self.size = 0, 0
        self.expansions: list[Expansion] = []
        self.at_line = 0  # the line of the top-level invocation being expanded

    def fail(self, what: str, name: str) -> InputError:
        return InputError(f"{self.file}:{self.at_line}: macro `\\{name}` {what}; it is not expanded")

    def expand(self, text: str, depth: int = 0, base: int = 0, out_base: int = 0) -> str:
        """The text with every invocation replaced by its expansion (newlines inside an
        invocation's arguments are kept after it, so lines stay where they are)."""
        parts: list[str] = []
        i, n, written = 0, len(text), out_base
        while i < n:
            j = text.find("\\", i)
            if j < 0:
                j = n
            parts.append(text[i:j])
            written += j - i
            if j >= n:
                break
            m = _CMD.match(text, j)
            name = m.group(1) if m else ""
            macro = self.macros.get(name)
            if macro is None or not m:
                step = m.end() if m else j + 1
                parts.append(text[j:step])
                written += step - j
                i = step
                continue
            k, args = m.end(), []
            for _ in range(macro.nargs):
                a = _arg(text, k)
                if a is None:
                    break
                args.append(a[0])
                k = a[1]
            if depth == 0:
                self.at_line = _line_of(text, j)
            if len(args) < macro.nargs:
                raise self.fail(f"needs {macro.nargs} argument(s), given {len(args)}", name)
            self.count += 1
            if self.count > MAX_EXPANSIONS:
                raise self.fail(f"expands more than {MAX_EXPANSIONS:,} times in this document", name)
            if depth >= MAX_MACRO_DEPTH:
                raise self.fail(f"expands into itself (more than {MAX_MACRO_DEPTH} levels)", name)
            body = re.sub(r"#(\d)", lambda g: args[int(g.group(1)) - 1] if 0 < int(g.group(1)) <= len(args)
                          else g.group(0), macro.body)
            inner = self.expand(body.replace("\n", " "), depth + 1).replace("\n", " ")
            spacer = " " if k < n and text[k].isalpha() and re.search(r"\\[A-Za-z]+\Z", inner) else ""
            kept = "\n" * text.count("\n", j, k)
            piece = inner + spacer + kept
            self.size += len(piece)
            if self.size > MAX_EXPANDED:
                raise self.fail(f"expands to more than {MAX_EXPANDED:,} characters", name)
            if depth == 0:
                line_start = text.rfind("\n", 0, j) + 1
                self.expansions.append(Expansion(written, written + len(inner), name, self.at_line,
                                                 j - line_start + 1, k - j))
            parts.append(piece)
            written += len(piece)
            i = k
        return "".join(parts)


def _body(text: str) -> str:
    """The document body: preamble and anything after `\\end{document}` blanked."""
    out = list(text)
    begin = re.search(r"\\begin\s*\{document\}", text)
    if begin:
        _blank(out, 0, begin.end())
    end = re.search(r"\\end\s*\{document\}", text)
    if end and (not begin or end.start() > begin.end()):
        _blank(out, end.start(), len(text))
    return "".join(out)


_PARAGRAPH = re.compile(r"\n[ \t]*\n")
_OPEN = re.compile(r"\$\$|\$|\\\[|\\\(|\\begin\s*\{([A-Za-z]+)(\*?)\}")


def math_pieces(text: str) -> list[MathPiece]:
    """The math of a (comment-free, expanded) LaTeX body, in order, with file positions."""
    starts = [0] + [i + 1 for i, c in enumerate(text) if c == "\n"]

    def pos(offset: int) -> tuple[int, int]:
        lo, hi = 0, len(starts) - 1
        while lo < hi:
            mid = (lo + hi + 1) // 2
            if starts[mid] <= offset:
                lo = mid
            else:
                hi = mid - 1
        return lo + 1, offset - starts[lo] + 1

    pieces: list[MathPiece] = []
    i = 0
    while True:
        m = _OPEN.search(text, i)
        if not m:
            return pieces
        if m.start() > 0 and text[m.start() - 1] == "\\" and m.group(0).startswith("$"):
            i = m.start() + 1  # `\$`: a dollar sign
            continue
        tok = m.group(0)
        env = ""
        if tok.startswith("\\begin"):
            env = m.group(1)
            if env not in ENVIRONMENTS:
                i = m.end()  # a prose environment (document, itemize, ...): read inside
                continue
            close, begin, keep = f"\\end{{{env}{m.group(2)}}}", m.start(), True
        else:
            close = {"$$": "$$", "$": "$", "\\[": "\\]", "\\(": "\\)"}[tok]
            begin, keep = m.end(), False
        end = text.find(close, begin if not keep else m.end())
        while end > 0 and close.startswith("$") and text[end - 1] == "\\":
            end = text.find(close, end + 1)
        line, col = pos(begin)
        display = tok not in ("$", "\\(")
        if not display and (end < 0 or _PARAGRAPH.search(text, begin, end)):
            i = m.end()  # a lone `$` in prose (inline math never spans a paragraph in TeX)
            continue
        if end < 0:
            rest = text[m.start():].split("\n", 1)[0]
            pieces.append(MathPiece(rest, *pos(m.start()), True,
                                    error=f"unclosed `{tok}`: the math never ends"))
            return pieces
        body = text[begin:end + len(close)] if keep else text[begin:end]
        pieces.append(MathPiece(body, line, col, display, env + m.group(2) if env else ""))
        i = end + len(close)


def read_tex(text: str, file: str) -> TexSource:
    """Comments dropped, definitions collected, macros expanded, math found."""
    clean = strip_comments(text)
    macros, clean = definitions(clean)
    body = _body(clean)
    expander = _Expander(macros, file)
    expanded = expander.expand(body) if macros else body
    return TexSource(expanded, math_pieces(expanded), expander.expansions)
