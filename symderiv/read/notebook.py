"""A Jupyter notebook -> its Markdown cells, in order (SPEC section 1).

The file is read as JSON (never unpickled, never executed) and checked against the part of
the nbformat 4 schema we rely on: a top-level object with `nbformat` 4 and a `cells` list,
each cell an object with a string `cell_type` and a `source` that is a string or a list of
strings. Anything else is an `InputError` that says what is wrong and where. We validate
these few fields ourselves rather than depend on `nbformat` (and its jsonschema and traitlets):
code cells and outputs are never looked at, and a cold start stays cheap.

A claim's position is `cell` (1-based among all cells, code cells included) and `line`
(1-based in the cell's source).
"""
from __future__ import annotations

import json

from ..errors import InputError
from ..fastdataclass import dataclass


@dataclass(frozen=True)
class Cell:
    index: int  # 1-based among all cells
    source: str


def markdown_cells(text: str, file: str) -> list[Cell]:
    """The Markdown cells of a notebook's JSON text, validated."""
    try:
        nb = json.loads(text)
    except json.JSONDecodeError as e:
        raise InputError(f"{file}:{e.lineno}:{e.colno}: not a notebook: invalid JSON ({e.msg})") from None
    except RecursionError:
        raise InputError(f"{file}: not a notebook: JSON nested too deeply") from None
    if not isinstance(nb, dict) or not isinstance(nb.get("cells"), list):
        raise InputError(f"{file}: not a notebook: no `cells` list (nbformat 4 is supported)")
    if nb.get("nbformat") != 4:
        raise InputError(f"{file}: nbformat {nb.get('nbformat')!r} is not supported (save it as nbformat 4)")
    out: list[Cell] = []
    for k, cell in enumerate(nb["cells"], 1):
        if not isinstance(cell, dict) or not isinstance(cell.get("cell_type"), str):
            raise InputError(f"{file}: cell {k} is not a notebook cell (no `cell_type`)")
        if cell["cell_type"] != "markdown":
            continue
        source = cell.get("source", "")
        if isinstance(source, list) and all(isinstance(x, str) for x in source):
            source = "".join(source)
        if not isinstance(source, str):
            raise InputError(f"{file}: cell {k}: `source` must be a string or a list of strings")
        out.append(Cell(k, source.replace("\r\n", "\n").replace("\r", "\n")))
    return out
