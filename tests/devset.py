"""Where the development set lies, and which of its problems the suite holds symderiv to.

The development set grows with the notation SPEC marks (new); a problem joins `SUPPORTED`
when symderiv reads it (its problem and sheets parse, its adjoints derive). Adding a name
here is how a new notation is switched on in the reader, soundness and KaTeX tests.

The shared set beside the checkout (`../shared/devset`, or `$SYMDERIV_DEVSET`) is used when
it is there; otherwise the copy of the supported problems in `tests/data/devset`, so a fresh
clone runs every test. `python tests/devset.py` refreshes that copy from the shared set
(`test_vendored_devset_is_current` fails until it is refreshed).
"""
from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

SHARED = Path(os.environ.get("SYMDERIV_DEVSET", str(Path(__file__).resolve().parents[2] / "shared" / "devset")))
VENDORED = Path(__file__).resolve().parent / "data" / "devset"
DEVSET = SHARED if SHARED.is_dir() else VENDORED

SUPPORTED = frozenset({
    "two-layer-tanh-mse", "residual-relu", "gru-style-gate", "logistic-weight-decay",
    "cookbook-trace-xbxt", "gaussian-nll-mean", "two-step-linear-chain",
    "layouts-jacobians", "cookbook-operators", "softmax-index",
    "quadratic-symmetric", "quadratic-general", "least-squares-tall",
    "logistic-newton-hessian",
    "generic-phi",
    "batchnorm", "batch-softmax-ce",
    "rnn-bptt", "mlp-layers-sigmoid",
})


def problems() -> list[str]:
    """The supported problems present in the development set."""
    return sorted(p.parent.name for p in DEVSET.glob("*/problem.md") if p.parent.name in SUPPORTED)


def vendored_files(root: Path) -> dict[str, str]:
    """relative path -> text of what the copy holds: the supported problems' sheets and their labels."""
    out = {str(p.relative_to(root)): p.read_text(encoding="utf-8")
           for name in sorted(SUPPORTED) for ext in ("md", "tex", "ipynb") for p in sorted((root / name).glob(f"*.{ext}"))}
    labels = [e for e in json.loads((root / "expected.json").read_text(encoding="utf-8"))
              if e["problem"] in SUPPORTED]
    out["expected.json"] = json.dumps(labels, indent=1, ensure_ascii=False)
    return out


def vendor() -> None:
    """Refresh tests/data/devset from the shared set."""
    if VENDORED.exists():
        shutil.rmtree(VENDORED)
    for rel, text in vendored_files(SHARED).items():
        path = VENDORED / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    vendor()
    print(f"copied {len(vendored_files(VENDORED))} files of {len(SUPPORTED)} problems to {VENDORED}")
