"""symderiv: checks hand-written backpropagation derivations, line by line.

The public API (heavier parts load on first use):

- `new_model()`, `SymModel`: build a model from SymPy `MatrixSymbol`s;
- `adjoints`, `gradient`: derived adjoints as SymPy matrix expressions;
- `check_expression`: is an expression (SymPy or LaTeX) a node's adjoint?
- `latex`: the derivation in LaTeX;
- `check_files`: judge answer sheets, as `symderiv check` does;
- `symderiv.testing.assert_adjoint`, `symderiv.verify.strategies`: for users' own tests.
"""
from __future__ import annotations

from typing import Any

__all__ = ["CheckResult", "SymModel", "adjoints", "check_expression", "check_files", "elementwise",
           "gradient", "latex", "new_model"]


def check_files(files: list[str], seed: int = 0) -> Any:
    """The `Report` of `symderiv check FILE...` (problem first, or named in front matter),
    with `.score`: the `scoring.Score` under the problem's policy (`score`, `max_score`,
    `targets`, `items`), the same as `check --format json` and `grade` give."""
    from .load import load_documents
    from .scoring import check_scored
    return check_scored(load_documents(list(files)), seed=seed)


def __getattr__(name: str) -> Any:  # keep `import symderiv` (and the CLI's start) light
    if name in __all__:
        from . import api
        return getattr(api, name)
    raise AttributeError(f"module 'symderiv' has no attribute {name!r}")
