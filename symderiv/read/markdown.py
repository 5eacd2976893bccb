"""Math out of Markdown, with the exact file line and column of its first character.

markdown-it-py decides what is math (so `$` in code spans, escaped `\\$` and prose are left
alone); mdit-py-plugins reads `$...$`, `$$...$$` (also inside list items and paragraphs) and
top-level amsmath environments; small rules of our own read `\\[...\\]`, `\\(...\\)` and
`\\begin{align}...` inside paragraphs, and report an unclosed `$$` or `\\[` instead of
silently turning it into prose. Rules are wrapped to record where each piece starts, since
markdown-it does not keep offsets for inline tokens.

Each `MathPiece.text` keeps the file's layout: character j of its first line is at
(line, col + j), character j of any later line is at column j + 1 of its file line.
"""
from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Callable
from typing import Any

from ..fastdataclass import dataclass

ENVIRONMENTS = {"equation", "align", "aligned", "gather", "gathered", "split", "multline", "alignat",
                "flalign", "eqnarray"}
_BEGIN = re.compile(r"\\begin\s*\{([A-Za-z]+)(\*?)\}")
_AMS_OPEN = re.compile(r"\\begin\{([A-Za-z]+)(\*?)\}")
_md: Any = None
_md_no_tables: Any = None
#: markdown-it gives every row of a table as many cells as its header, so a wide header over
#: many rows costs header x rows tokens (a 2 MB table took 1.27 GB); past this many cells in a
#: document its tables are read as plain paragraphs (their math is still read)
MAX_TABLE_CELLS = 20_000
_DELIMITER_ROW = re.compile(r"^ {0,3}\|?\s*:?-+:?\s*(\|\s*:?-+:?\s*)*\|?\s*$")
#: block nesting the Markdown parser follows (a list level is two); math deeper is reported
MAX_NESTING = 100
#: inline math read as a claim: an adjoint or Jacobian left side, then `=` (SPEC section 1)
CLAIM_FORM = re.compile(r"\s*(?:\\bar|\\overline|\\frac\s*\{\s*(?:\\partial|d)|\\dfrac\s*\{\s*(?:\\partial|d)"
                        r"|\\nabla|\\delta\b|\u2202|\u2207)[^=]*=")


def read_inline(text: str) -> bool:
    """Is this inline math read (a declaration, or a claim by its form)? Other inline math names
    symbols in prose."""
    return "\\in" in text or "\u2208" in text or CLAIM_FORM.match(text) is not None


@dataclass(frozen=True)
class MathPiece:
    text: str
    line: int
    col: int
    display: bool
    env: str = ""     # `align*` etc. for an environment block
    error: str = ""   # set when the math never closes, or its environment is not supported


def table_cells(text: str) -> int:
    """An upper bound on the cells markdown-it would make of `text`'s tables (one pass)."""
    lines = text.split("\n")
    total, i = 0, 1
    while i < len(lines):
        if "-" in lines[i] and "|" in lines[i - 1] and _DELIMITER_ROW.match(lines[i]):
            columns = max(lines[i].count("|") + 1, lines[i - 1].count("|") + 1)
            rows = 2
            i += 1
            while i < len(lines) and lines[i].strip():
                rows, i = rows + 1, i + 1
            total += columns * rows
        i += 1
    return total


def _parser(tables: bool = True) -> Any:
    global _md, _md_no_tables
    if not tables:
        if _md_no_tables is None:
            _md_no_tables = _build().disable("table")
        return _md_no_tables
    if _md is None:
        _md = _build()
    return _md


def _build() -> Any:
    """A markdown-it parser with the math rules (and the table rule, unless disabled)."""
    from markdown_it import MarkdownIt
    from mdit_py_plugins.amsmath import amsmath_block
    from mdit_py_plugins.dollarmath.index import math_block_dollar, math_inline_dollar
    from mdit_py_plugins.front_matter import front_matter_plugin
    md = MarkdownIt("commonmark").enable("table")
    md.options["maxNesting"] = MAX_NESTING
    # inline markup that cannot hide math only costs time (and has slow cases)
    # (and a token per line break: `newline` made 2 MB of short lines cost 570 MiB)
    md.disable(["emphasis", "link", "image", "autolink", "html_inline", "entity", "balance_pairs",
                "fragments_join", "newline"])
    md.use(front_matter_plugin)
    md.block.ruler.before("blockquote", "amsmath", _memo_failures(amsmath_block, _ams_probe),
                          {"alt": ["paragraph", "reference", "blockquote", "list", "footnote_def"]})
    md.inline.ruler.before("escape", "math_inline", _inline_dollar(math_inline_dollar(True, True, True)))
    md.inline.ruler.before("escape", "math_tex", _inline_tex)
    md.block.ruler.before("fence", "math_block",
                          _memo_failures(_block_dollar(math_block_dollar(True, None, False)), _dollar_probe))
    return md


def _escaped(src: str, pos: int) -> bool:
    n = 0
    while pos - n - 1 >= 0 and src[pos - n - 1] == "\\":
        n += 1
    return n % 2 == 1


def _inline_dollar(rule: Callable) -> Callable:
    """dollarmath's inline rule, recording where the math starts; an unclosed `$$` is reported."""
    def wrapped(state: Any, silent: bool) -> bool:
        start, count = state.pos, len(state.tokens)
        if rule(state, silent):
            if not silent and len(state.tokens) > count:
                tok = state.tokens[-1]
                tok.meta = {"pos": start + len(tok.markup)}
            return True
        if silent or not state.src.startswith("$$", start) or _escaped(state.src, start):
            return False
        tok = state.push("math_unclosed", "math", 0)
        tok.markup, tok.meta = "$$", {"pos": start}
        state.pos = state.posMax
        return True
    return wrapped


def _inline_tex(state: Any, silent: bool) -> bool:
    r"""`\[...\]` (display), `\(...\)` (inline) and `\begin{env}...\end{env}` inside a paragraph."""
    src, pos = state.src, state.pos
    if src[pos] != "\\" or _escaped(src, pos) or pos + 1 >= state.posMax:
        return False
    m = _BEGIN.match(src, pos)
    if src[pos + 1] in "[(":
        close = "\\]" if src[pos + 1] == "[" else "\\)"
        kind, begin, env = ("math_bracket" if close == "\\]" else "math_paren"), pos + 2, ""
    elif m and m.group(1) in ENVIRONMENTS:
        close, kind, begin, env = f"\\end{{{m.group(1)}{m.group(2)}}}", "math_env", pos, m.group(1)
    else:
        return False
    unclosed = state.__dict__.setdefault("symderiv_unclosed", set())
    end = -1 if close in unclosed else src.find(close, begin)
    if end < 0 and kind == "math_paren":
        unclosed.add(close)  # no `\)` ahead: later `\(` need not search again
        return False
    if not silent:
        tok = state.push("math_unclosed" if end < 0 else kind, "math", 0)
        tok.markup = m.group(0) if env and m else src[pos:pos + 2]
        tok.meta = {"pos": begin if end >= 0 else pos, "env": env}
        tok.content = "" if end < 0 else src[begin:end + (len(close) if env else 0)]
    state.pos = state.posMax if end < 0 else end + len(close)
    return True


def _line(state: Any, line: int) -> str:
    return state.src[state.bMarks[line] + state.tShift[line]:state.eMarks[line]]


def _dollar_probe(state: Any, start: int, end: int) -> tuple[str, int] | None:
    """A `$$` line makes the rule search ahead; the search stops at a blank line."""
    text = _line(state, start)
    if not text.startswith("$$") or "$$" in text[2:]:
        return None
    return "$$", -1


def _ams_probe(state: Any, start: int, end: int) -> tuple[str, int] | None:
    """A `\\begin{env}` line makes the rule search to `end` for `\\end{env}`."""
    m = _AMS_OPEN.match(_line(state, start))
    return (m.group(0), end) if m else None


def _memo_failures(rule: Callable, probe: Callable) -> Callable:
    """A block rule that searches ahead for its closing line, made linear overall: once a
    search from line L failed, a search for the same closing from inside [L, stop) fails too."""
    def wrapped(state: Any, start: int, end: int, silent: bool) -> bool:
        hit = probe(state, start, end)
        if hit is None:
            return bool(rule(state, start, end, silent))
        memo = state.env.setdefault("symderiv.failed", {})
        lo, hi = memo.get((hit[0], end), (-1, -1))
        if lo <= start < hi:
            return False
        if rule(state, start, end, silent):
            return True
        stop = hit[1]
        if stop < 0:  # the `$$` search ran to the first blank line
            stop = start + 1
            while stop < end and not state.isEmpty(stop):
                stop += 1
        memo[(hit[0], end)] = (start, stop)
        return False
    return wrapped


def _block_dollar(rule: Callable) -> Callable:
    """dollarmath's block rule, recording the absolute offset where each content line starts."""
    def wrapped(state: Any, start: int, end: int, silent: bool) -> bool:
        count = len(state.tokens)
        ok = rule(state, start, end, silent)
        if ok and not silent and len(state.tokens) > count:
            tok = state.tokens[-1]
            first = state.bMarks[start] + state.tShift[start] + 2
            tok.meta = {"starts": [first] + [state.bMarks[k] for k in range(start + 1, tok.map[1])]}
        return ok
    return wrapped


class _Lines:
    """1-based line/column of offsets in the normalised source."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.lines = text.split("\n")
        self.starts = [0]
        for ln in self.lines[:-1]:
            self.starts.append(self.starts[-1] + len(ln) + 1)

    def pos(self, offset: int) -> tuple[int, int]:
        k = bisect_right(self.starts, offset) - 1
        return k + 1, offset - self.starts[k] + 1

    def col_of(self, line: int, content: str) -> int:
        """Column where a content line (a suffix of file line `line`, maybe trimmed) starts."""
        src = self.lines[line - 1] if 0 < line <= len(self.lines) else ""
        body = content.rstrip()
        if body and src.rstrip().endswith(body):
            return len(src.rstrip()) - len(body) + 1
        found = src.find(body) if body else -1
        return found + 1 if found >= 0 else 1


def _padded(lines: list[str], cols: list[int]) -> str:
    return "\n".join([lines[0]] + [" " * (c - 1) + ln for ln, c in zip(lines[1:], cols[1:])])


def extract(text: str) -> tuple[str | None, list[MathPiece]]:
    """(front matter text or None, math pieces in document order) of a normalised text."""
    src = _Lines(text)
    front, pieces = None, []
    covered = bytearray(len(src.lines) + 1)
    for tok in _parser(table_cells(text) <= MAX_TABLE_CELLS).parse(text):
        if tok.map and tok.type not in _CONTAINERS:
            a, b = tok.map[0], max(tok.map[1], tok.map[0] + 1 + tok.content.count("\n"))
            covered[a:b] = b"\x01" * (len(covered[a:b]))
        if tok.type == "front_matter":
            front = tok.content
        elif tok.type in ("math_block", "math_block_label"):
            starts = tok.meta["starts"]
            lines = tok.content.split("\n")
            first = src.pos(starts[0])
            cols = [first[1]] + [src.pos(s)[1] for s in starts[1:len(lines)]]
            pieces.append(MathPiece(_padded(lines, cols), first[0], first[1], True))
        elif tok.type == "amsmath":
            lines = tok.content.rstrip("\n").split("\n")
            line0 = tok.map[0] + 1
            cols = [src.col_of(line0 + k, ln) for k, ln in enumerate(lines)]
            env = tok.meta.get("environment", "") + tok.meta.get("numbered", "")
            error = "" if env.rstrip("*") in ENVIRONMENTS else f"environment `{env}` is not supported"
            pieces.append(MathPiece(_padded(lines, cols), line0, cols[0], True, env, error))
        elif tok.type == "inline" and tok.children and tok.map:
            pieces.extend(_inline_pieces(src, tok))
    return front, pieces + _unread(src, covered, front is not None)


_CONTAINERS = {"bullet_list_open", "ordered_list_open", "list_item_open", "blockquote_open"}
_MATH_MARK = re.compile(r"\$|\\\[|\\begin\s*\{")


def _unread(src: _Lines, covered: bytearray, has_front: bool) -> list[MathPiece]:
    """Math on lines the Markdown parser never reached (lists or quotes nested deeper than
    it follows): an error piece each, so nothing is dropped silently (SPEC section 1)."""
    out = []
    for k, ln in enumerate(src.lines):
        if covered[k] or (m := _MATH_MARK.search(ln)) is None:
            continue
        out.append(MathPiece(ln[m.start():], k + 1, m.start() + 1, True,
                             error=f"math nested deeper than the reader follows (lists or quotes more "
                                   f"than {MAX_NESTING // 2} levels deep) is not read: move it up a level"))
    return out


def _inline_pieces(src: _Lines, parent: Any) -> list[MathPiece]:
    para = parent.content.split("\n")
    line0 = parent.map[0] + 1
    cols = [src.col_of(line0 + k, ln) for k, ln in enumerate(para)]
    starts = [0]
    for ln in para[:-1]:
        starts.append(starts[-1] + len(ln) + 1)
    out = []
    for tok in parent.children:
        if not tok.type.startswith("math_"):
            continue
        offset = tok.meta.get("pos", 0)
        k = bisect_right(starts, offset) - 1
        line, col = line0 + k, cols[k] + offset - starts[k]
        display = tok.type in ("math_inline_double", "math_bracket", "math_env", "math_unclosed")
        if not display and not read_inline(tok.content):
            continue  # inline math is read for declarations and claims only
        if tok.type == "math_unclosed":
            rest = parent.content[offset:].split("\n")[0]
            out.append(MathPiece(rest, line, col, True, error=f"unclosed `{tok.markup}`: the math never ends"))
            continue
        lines = tok.content.split("\n")
        pcols = [col] + [cols[min(k + i, len(cols) - 1)] for i in range(1, len(lines))]
        out.append(MathPiece(_padded(lines, pcols), line, col, display, tok.meta.get("env", "")))
    return out


_SCALAR_INT = re.compile(r"[-+]?\d+")
_SCALAR_FLOAT = re.compile(r"[-+]?(\d+\.\d*|\.\d+|\d+)([eE][-+]?\d+)?")


def _scalar(value: str) -> Any:
    v = value.strip()
    if len(v) >= 2 and v[0] == v[-1] and v[0] in "'\"":
        return v[1:-1]
    v = re.sub(r"\s+#.*$", "", v)
    if v.startswith("[") and v.endswith("]"):
        return [_scalar(x) for x in v[1:-1].split(",") if x.strip()]
    low = v.lower()
    if low in ("true", "false"):
        return low == "true"
    if low in ("null", "~", ""):
        return None
    if _SCALAR_INT.fullmatch(v):
        return int(v)
    if _SCALAR_FLOAT.fullmatch(v):
        return float(v)
    return v


def parse_front_matter(text: str) -> dict:
    """YAML front matter as a dict (`yaml.safe_load`: data only, nothing constructed or run), so
    nested blocks such as `scoring: {targets: {W: 2}}` read as written; text that is not a
    YAML mapping falls back to the simple reader below (a sheet's front matter never fails)."""
    import yaml

    try:
        value = yaml.safe_load(text)
    except (yaml.YAMLError, ValueError, RecursionError):
        value = None
    if isinstance(value, dict) and all(isinstance(k, str) for k in value):
        return value
    return simple_front_matter(text)


def simple_front_matter(text: str) -> dict:
    """Simple YAML: `key: scalar`, `key: [a, b]`, and one level of indented `sub: value` or `- item`."""
    result: dict = {}
    key = None
    for raw in text.split("\n"):
        if not raw.strip() or raw.lstrip().startswith("#"):
            continue
        if raw[0] in " \t" and key is not None:
            item = raw.strip()
            if item.startswith("-"):
                if not isinstance(result[key], list):
                    result[key] = []
                result[key].append(_scalar(item[1:]))
            elif ":" in item and isinstance(result[key], dict):
                sub, _, value = item.partition(":")
                result[key][sub.strip()] = _scalar(value)
            continue
        name, sep, value = raw.partition(":")
        if not sep or not name.strip():
            key = None
            continue
        key = name.strip()
        if value.strip():
            result[key], key = _scalar(value), None
        else:
            result[key] = {}
    return {k: (None if v == {} else v) for k, v in result.items()}
