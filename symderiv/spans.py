"""Source positions, so every verdict and error can point at the text it is about."""
from __future__ import annotations

from dataclasses import dataclass


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


def caret_excerpt(source_line: str, col: int, end_col: int | None = None, width: int = 100) -> str:
    """The source line with a caret line under columns [col, end_col), clipped to `width` characters."""
    start = max(0, col - 1 - width // 2) if len(source_line) > width else 0
    text = source_line[start:start + width]
    lo = max(0, col - 1 - start)
    hi = max(lo + 1, min(len(text), (end_col or col + 1) - 1 - start))
    return f"  {text}\n  {' ' * lo}{'^' * (hi - lo)}"
