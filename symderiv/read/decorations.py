r"""Decorations carry no meaning and are read through (SPEC section 1).

`\boxed{...}`, `\fbox{...}`, `\color{c}`, `\textcolor{c}{...}`, `\colorbox{c}{...}`,
`\underbrace{x}_{...}` and `\overbrace{x}^{...}` (the braced part), `\phantom{...}`,
`\displaystyle` and friends are replaced by blanks before a piece is split, so offsets stay
those of the file. The braces of a decorated group stay (they group what they hold), except
when the group holds a whole statement (a top-level `=`, `\in` or connector), as in
`\boxed{\bar{z} = \dots}`: then the statement inside is read as if the box were not there.
One linear pass; braces are matched with the same scan as the splitter's.
"""
from __future__ import annotations

import re

from ..lazyre import lazy

_CMD = re.compile(r"\\([A-Za-z]+)")
#: command -> (arguments to blank, then how many groups are decorated content)
WRAPPERS = {"boxed": (0, 1), "fbox": (0, 1), "textcolor": (1, 1), "colorbox": (1, 1),
            "underbrace": (0, 1), "overbrace": (0, 1), "underset": (1, 1), "overset": (1, 1),
            "color": (1, 1)}
SWITCHES = {"phantom": 1, "hphantom": 1, "vphantom": 1, "displaystyle": 0,
            "textstyle": 0, "scriptstyle": 0, "nonumber": 0, "notag": 0}
_STATEMENT = lazy(r"=|\\in(?![A-Za-z])|\\implies|\\Rightarrow|\\therefore|\\because|\\q?quad"
                  r"|\u2208|\u21d2|\u27f9|\u2234")


def _skip_ws(s: str, i: int) -> int:
    while i < len(s) and s[i] in " \t\n":
        i += 1
    return i


def _group_end(s: str, i: int) -> int:
    """Index after the group at i (`{...}`, a command, or one character)."""
    if i >= len(s):
        return i
    if s[i] == "{":
        depth = 0
        while i < len(s):
            if s[i] == "\\":
                i += 2
                continue
            depth += (s[i] == "{") - (s[i] == "}")
            i += 1
            if depth == 0:
                return i
        return len(s)
    m = _CMD.match(s, i)
    return m.end() if m else i + 1


def _top_level_statement(s: str, a: int, b: int) -> bool:
    depth, i = 0, a
    while i < b:
        c = s[i]
        if c == "\\" and not _STATEMENT.match(s, i):
            i += 2
            continue
        if c in "{([":
            depth += 1
        elif c in "})]":
            depth -= 1
        elif depth == 0 and _STATEMENT.match(s, i):
            return True
        i += 1
    return False


def read_through(s: str) -> str:
    """The text with decorations blanked (same length, newlines kept)."""
    if "\\" not in s:
        return s
    out = list(s)

    def blank(a: int, b: int) -> None:
        for k in range(a, min(b, len(out))):
            if out[k] != "\n":
                out[k] = " "

    i = 0
    while i < len(s):
        m = _CMD.match(s, i) if s[i] == "\\" else None
        if m is None:
            i += 2 if s[i] == "\\" else 1
            continue
        name, end = m.group(1), m.end()
        if name in SWITCHES:
            k = end
            for _ in range(SWITCHES[name]):
                k = _group_end(s, _skip_ws(s, k))
            blank(i, k)
            i = k
        elif name in WRAPPERS:
            drop, _ = WRAPPERS[name]
            k = end
            for _ in range(drop):
                k = _group_end(s, _skip_ws(s, k))
            blank(i, k)
            g = _skip_ws(s, k)
            g_end = _group_end(s, g)
            if s[g:g + 1] == "{" and _top_level_statement(s, g + 1, g_end - 1):
                blank(g, g + 1)
                blank(g_end - 1, g_end)
            if name in ("underbrace", "overbrace"):  # and its label: `_{\text{...}}` / `^{...}`
                k2 = _skip_ws(s, g_end)
                if s[k2:k2 + 1] == ("_" if name == "underbrace" else "^"):
                    blank(k2, _group_end(s, _skip_ws(s, k2 + 1)))
            i = g + 1 if s[g:g + 1] == "{" else g  # read inside: decorations nest
        else:
            i = end
    return "".join(out)
