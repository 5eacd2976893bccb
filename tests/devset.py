"""Where the shared development set lies, and which of its problems the suite holds symderiv to.

The development set grows with the notation SPEC marks (new); a problem joins `SUPPORTED`
when symderiv reads it (its problem and sheets parse, its adjoints derive). Adding a name
here is how a new notation is switched on in the reader, soundness and KaTeX tests.
"""
from __future__ import annotations

import os
from pathlib import Path

DEVSET = Path(os.environ.get("SYMDERIV_DEVSET", str(Path(__file__).resolve().parents[2] / "shared" / "devset")))

SUPPORTED = frozenset({
    "two-layer-tanh-mse", "residual-relu", "gru-style-gate", "logistic-weight-decay",
    "cookbook-trace-xbxt", "gaussian-nll-mean", "two-step-linear-chain",
    "layouts-jacobians", "cookbook-operators", "softmax-index",
})


def problems() -> list[str]:
    """The supported problems present in the development set beside this checkout."""
    if not DEVSET.is_dir():
        return []
    return sorted(p.parent.name for p in DEVSET.glob("*/problem.md") if p.parent.name in SUPPORTED)
