"""How symbols are written back to people: one place, so every message agrees."""
from __future__ import annotations


def bar_latex(name: str) -> str:
    """`\\bar{z}_y` for z_y and `\\bar{W}_2` for W_2, as students write them; `\\bar{\\eta}`."""
    base, sep, sub = name.partition("_")
    if sep and len(base) == 1:
        return f"\\bar{{{base}}}_{sub}"
    return f"\\bar{{{name}}}"
