"""Source positions, so every verdict and error can point at the text it is about."""
from __future__ import annotations

from collections.abc import Sequence

from .fastdataclass import dataclass


@dataclass(frozen=True)
class Span:
    """A 1-based, end-exclusive region of a source file; in a notebook, of one cell's source
    (`cell` is 1-based among all cells, lines count from the cell's first line)."""

    file: str
    line: int
    col: int
    end_line: int
    end_col: int
    cell: int | None = None

    def __str__(self) -> str:
        return f"{self.where}:{self.col}"

    @property
    def where(self) -> str:
        """`file:line`, or `file:cell N:line` in a notebook."""
        return f"{self.file}:cell {self.cell}:{self.line}" if self.cell else f"{self.file}:{self.line}"

    def shifted(self, line: int, col: int) -> Span:
        """This span, taken as relative to a text that starts at (line, col) of its file."""
        c0 = col - 1 if self.line == 1 else 0
        ce = col - 1 if self.end_line == 1 else 0
        return Span(self.file, self.line + line - 1, self.col + c0,
                    self.end_line + line - 1, self.end_col + ce, self.cell)


def excerpt(lines: Sequence[str], span: Span, first_line: int = 1) -> str:
    """The written text of `span` in `lines` (line `first_line` of its file first), when the
    span lies on one of them; "" otherwise (a span across lines is not quoted)."""
    k = span.line - first_line
    if span.line != span.end_line or not 0 <= k < len(lines):
        return ""
    return lines[k][span.col - 1:span.end_col - 1].strip()
