"""1. text -> statements: Markdown math, split into statements, parsed into trees (SPEC section 1).

`read_document(path)` / `read_text(text, file)` -> `Document`; `parse_statement`,
`parse_expression` for one piece of LaTeX. Loaded lazily: markdown-it costs ~40 ms.
"""
from __future__ import annotations

from typing import Any

__all__ = ["Document", "parse_expression", "parse_statement", "read_document", "read_text"]


def __getattr__(name: str) -> Any:
    if name in ("Document", "read_document", "read_text"):
        from . import document
        return getattr(document, name)
    if name in ("parse_expression", "parse_statement"):
        from . import parse
        return getattr(parse, name)
    raise AttributeError(name)
