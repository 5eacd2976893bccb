"""The one precedence table: the reader's grammar levels, the LaTeX printer and `unparse`.

Lowest first. Each level names the grammar rule of `latex.lark` that parses it and the
terminals that make it (tests/test_precedence.py checks the grammar against this table, so
a change to the grammar's levels that is not made here fails a test, not a user). An
operand is put in parentheses when its level is below what its operator needs.

Unary minus has no level of its own: the grammar takes a minus only at the start of a sum
(`-a \\odot b` is `-(a \\odot b)`, which is equal since negation commutes with products), or
right after `\\odot`, `\\cdot`, `/`. Printers therefore let a leading minus stand only where
it is first in a sum or product and parenthesise a negated operand anywhere else.
"""
from __future__ import annotations

from ..fastdataclass import dataclass
from . import tree as t


@dataclass(frozen=True)
class Level:
    name: str
    prec: int
    rule: str                    # the grammar rule (latex.lark) of this level
    terminals: tuple[str, ...]   # the operators the rule adds at this level


LEVELS = (
    Level("sum", 1, "sum", ("PLUS", "MINUS")),
    Level("hadamard", 2, "hterm", ("_ODOT", "OSLASH")),
    Level("product", 3, "factors", ("_CDOT", "SLASH")),  # `product` adds a trailing sum (\\sum) to it
    Level("postfix", 4, "postfix", ("TRANSPOSE", "PRIME", "CARET")),
    Level("atom", 5, "atom", ("_LPAR", "_LBRACK", "_LBRACE")),
)

SUM, HAD, PROD, POST, ATOM = (lv.prec for lv in LEVELS)

#: parse-tree nodes by level (every other node is an atom)
TREE = {t.Add: SUM, t.Hadamard: HAD, t.Product: PROD, t.Power: POST, t.Transpose: POST, t.Frac: ATOM}


def tree_prec(n: t.Node) -> int:
    """The level of a parse-tree node; `+a` (a one-term sum) is the level of `a`."""
    while isinstance(n, t.Add) and len(n.terms) == 1 and n.terms[0][0] > 0:
        n = n.terms[0][1]
    return TREE.get(type(n), ATOM)


def paren(s: str) -> str:
    return f"\\left({s}\\right)"
