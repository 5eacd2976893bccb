"""A Markdown derivation file -> its front matter and statements, in order (SPEC section 1).

Limits, checked before any parsing: a document is at most `MAX_DOCUMENT_BYTES` (2 MB) of
UTF-8 text without NUL bytes, and yields at most `MAX_STATEMENTS` statements (the rest are
replaced by one error statement). Per-statement limits are in `parse.py`.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

from ..errors import InputError, ParseError
from ..spans import Span, excerpt
from .markdown import extract, parse_front_matter
from .split import statements
from .tree import Statement

MAX_DOCUMENT_BYTES = 2_000_000
MAX_STATEMENTS = 5_000


@dataclass(frozen=True)
class Document:
    file: str
    front_matter: dict = field(default_factory=dict)
    statements: tuple[Statement, ...] = ()
    lines: tuple[str, ...] = field(default=(), repr=False)  # the text, to quote what was written

    def excerpt(self, span: Span) -> str:
        """The written text of a one-line span of this document ("" otherwise)."""
        return excerpt(self.lines, span)


def read_text(text: str, file: str = "<string>") -> Document:
    """Read a derivation from text; raises only InputError (binary or too large)."""
    if len(text) > MAX_DOCUMENT_BYTES or len(text.encode("utf-8", "surrogatepass")) > MAX_DOCUMENT_BYTES:
        raise InputError(f"{file}: too large (more than {MAX_DOCUMENT_BYTES:,} bytes)")
    if "\x00" in text:
        raise InputError(f"{file}: binary data (NUL bytes), not a Markdown text")
    text = text.replace("\r\n", "\n").replace("\r", "\n").lstrip("\ufeff")
    front, pieces = extract(text)
    out: list[Statement] = []
    for piece in pieces:
        out.extend(statements(piece, file, MAX_STATEMENTS - len(out)))
        if len(out) > MAX_STATEMENTS:
            last = out[MAX_STATEMENTS]
            error = ParseError(f"more than {MAX_STATEMENTS:,} statements; the rest is not read", last.span)
            out[MAX_STATEMENTS:] = [Statement(last.span, last.latex, "=", error=error)]
            break
    lines = tuple(text.split("\n"))
    out = [replace(st, source=lines[st.span.line - 1:st.span.end_line]) for st in out]
    return Document(file, parse_front_matter(front) if front else {}, tuple(out), lines)


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
