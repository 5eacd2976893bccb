"""A Markdown derivation file -> its front matter and statements, in order (SPEC section 1).

Limits, checked before any parsing: a document is at most `MAX_DOCUMENT_BYTES` (2 MB) of
UTF-8 text without NUL bytes, and yields at most `MAX_STATEMENTS` statements (the rest are
replaced by one error statement). Per-statement limits are in `parse.py`.
"""
from __future__ import annotations

import re
from dataclasses import field, fields, is_dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import InputError, ParseError, SymderivError
from ..fastdataclass import dataclass
from ..spans import Span
from .markdown import MathPiece, extract, parse_front_matter
from .split import statements
from .tree import Statement

if TYPE_CHECKING:  # .tex and .ipynb readers load with the first such file (start-up of a .md check)
    from .tex import TexSource

MAX_DOCUMENT_BYTES = 2_000_000
MAX_STATEMENTS = 5_000


@dataclass(frozen=True)
class Document:
    file: str
    front_matter: dict = field(default_factory=dict)
    statements: tuple[Statement, ...] = ()
    lines: tuple[str, ...] = field(default=(), repr=False)  # the text, to quote what was written
    #: a .tex file's macro uses: where each expansion lies in `lines` (read/tex.py Expansion)
    expansions: tuple = field(default=(), repr=False)

    def macro_at(self, span: Span | None) -> Any:
        """The macro expansion `span` starts in (an Expansion), or None."""
        return macro_at(self.expansions, self.lines, span)


def read_text(text: str, file: str = "<string>") -> Document:
    """Read a derivation from text; raises only InputError (binary or too large)."""
    if len(text) > MAX_DOCUMENT_BYTES or len(text.encode("utf-8", "surrogatepass")) > MAX_DOCUMENT_BYTES:
        raise InputError(f"{file}: too large (more than {MAX_DOCUMENT_BYTES:,} bytes)")
    if "\x00" in text:
        raise InputError(f"{file}: binary data (NUL bytes), not a Markdown text")
    text = text.replace("\r\n", "\n").replace("\r", "\n").lstrip("\ufeff")
    kind = file.rsplit(".", 1)[-1].lower() if "." in file.rsplit("/", 1)[-1] else ""
    if kind == "ipynb":
        return _notebook(text, file)
    if kind == "tex":
        return _tex(text, file)
    front, pieces = extract(text)
    lines = tuple(text.split("\n"))
    out = with_source(read_pieces(pieces, file), lines)
    return Document(file, parse_front_matter(front) if front else {}, tuple(out), lines)


def _tex(text: str, file: str) -> Document:
    """A LaTeX document; a parse error inside a macro's expansion names the macro and its use
    (other errors are blamed the same way once the sheet is checked: `blame_macro`)."""
    from .tex import read_tex
    src = read_tex(text, file)
    lines = tuple(src.text.split("\n"))
    out = with_source(read_pieces(src.pieces, file), lines)
    if src.expansions:
        out = [_blame_macro(st, src, lines) for st in out]
    return Document(file, {}, tuple(out), lines, tuple(src.expansions))


def macro_at(expansions: Any, lines: tuple[str, ...], span: Span | None) -> Any:
    """The expansion (read/tex.py) that `span`, a position in the expanded `lines`, starts in."""
    if not expansions or span is None or span.line > len(lines):
        return None
    offset = sum(len(ln) + 1 for ln in lines[:span.line - 1]) + span.col - 1
    for x in expansions:
        if x.start <= offset < max(x.end, x.start + 1):
            return x
    return None


def blame_macro(message: str, span: Span, x: Any) -> tuple[str, Span]:
    """An error inside a macro's expansion: the message names the macro, the span is its use."""
    return (f"{message} (in the expansion of `\\{x.name}`, used at line {x.line})",
            Span(span.file, x.line, x.col, x.line, x.col + x.width, span.cell))


def _blame_macro(st: Statement, src: TexSource, lines: tuple[str, ...]) -> Statement:
    err = st.error
    span = getattr(err, "span", None)
    if not isinstance(err, ParseError) or span is None:
        return st
    x = macro_at(src.expansions, lines, span)
    if x is None:
        return st
    message, where = blame_macro(err.message, span, x)
    return replace(st, error=ParseError(message, where, err.hint))


def _notebook(text: str, file: str) -> Document:
    """A notebook's Markdown cells, each read as a Markdown document; every span carries its cell."""
    from .notebook import markdown_cells
    out: list[Statement] = []
    front: dict = {}
    for cell in markdown_cells(text, file):
        fm, pieces = extract(cell.source)
        if fm and not front:
            front = parse_front_matter(fm)
        cell_lines = tuple(cell.source.split("\n"))
        out.extend(in_cell(st, cell.index) for st in with_source(read_pieces(pieces, file), cell_lines))
        if len(out) > MAX_STATEMENTS:
            break
    return Document(file, front, tuple(out[:MAX_STATEMENTS + 1]), ())


def in_cell(value: Any, cell: int) -> Any:
    """A copy of a statement (its nodes, spans and error) with every span in `cell`."""
    if isinstance(value, Span):
        return replace(value, cell=cell)
    if isinstance(value, tuple):
        return tuple(in_cell(v, cell) for v in value)
    if isinstance(value, SymderivError):
        if getattr(value, "span", None) is not None:
            value.span = in_cell(value.span, cell)
        return value
    if is_dataclass(value) and not isinstance(value, type):
        changes = {f.name: in_cell(getattr(value, f.name), cell) for f in fields(value)
                   if isinstance(getattr(value, f.name), (Span, tuple, SymderivError)) or is_dataclass(getattr(value, f.name))}
        return replace(value, **changes) if changes else value
    return value


_CONTINUES = re.compile(r"\s*(?:\\begin\s*\{[A-Za-z]+\*?\}\s*)?&?\s*=")


def _end(piece: MathPiece) -> tuple[int, int]:
    """(line, col) just after a piece's text."""
    lines = piece.text.split("\n")
    return piece.line + len(lines) - 1, (piece.col if len(lines) == 1 else 1) + len(lines[-1])


def continued(pieces: list[MathPiece]) -> list[MathPiece]:
    """A display that starts with `=` continues the previous display's statement (SPEC 1): the
    two are joined into one piece, blanks in between, so every offset keeps its position."""
    out: list[MathPiece] = []
    for p in pieces:
        prev = out[-1] if out else None
        if (prev is not None and p.display and prev.display and not p.error and not prev.error
                and _CONTINUES.match(p.text)):
            line, col = _end(prev)
            if p.line > line:
                gap = "\n" * (p.line - line) + " " * (p.col - 1)
            elif p.line == line and p.col >= col:
                gap = " " * (p.col - col)
            else:
                out.append(p)
                continue
            out[-1] = replace(prev, text=prev.text + gap + p.text)
            continue
        out.append(p)
    return out


def read_pieces(pieces: list[MathPiece], file: str) -> list[Statement]:
    """The statements of a document's math pieces, in order, at most `MAX_STATEMENTS`."""
    out: list[Statement] = []
    for piece in continued(pieces):
        out.extend(statements(piece, file, MAX_STATEMENTS - len(out)))
        if len(out) > MAX_STATEMENTS:
            last = out[MAX_STATEMENTS]
            error = ParseError(f"more than {MAX_STATEMENTS:,} statements; the rest is not read", last.span)
            out[MAX_STATEMENTS:] = [Statement(last.span, last.latex, "=", error=error)]
            break
    return out


def with_source(out: list[Statement], lines: tuple[str, ...]) -> list[Statement]:
    """The statements, each carrying its lines of `lines` (the text its spans are in)."""
    return [replace(st, source=lines[st.span.line - 1:st.span.end_line]) for st in out]


def read_document(path: str | Path) -> Document:
    """Read a derivation file; raises InputError with a one-line message when it cannot."""
    p = Path(path)
    name = str(path)
    try:
        if p.is_dir():
            raise InputError(f"{name}: is a directory, not a Markdown file")
        if p.exists() and not p.is_file():  # a FIFO or a device would block or never end
            raise InputError(f"{name}: not a regular file")
        size = p.stat().st_size
        if size > MAX_DOCUMENT_BYTES:
            raise InputError(f"{name}: too large ({size:,} bytes; the limit is {MAX_DOCUMENT_BYTES:,})")
        with p.open("rb") as f:
            data = f.read(MAX_DOCUMENT_BYTES + 1)
    except FileNotFoundError:
        raise InputError(f"{name}: no such file") from None
    except OSError as e:
        raise InputError(f"{name}: cannot read ({e.strerror or e})") from None
    if b"\x00" in data:
        raise InputError(f"{name}: binary file (NUL bytes), not a Markdown text")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise InputError(f"{name}: not UTF-8 text (bad byte at offset {e.start})") from None
    return read_text(text, name)
