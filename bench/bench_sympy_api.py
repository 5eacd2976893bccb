"""The public SymPy API on an L-layer tanh network built with `new_model()` and MatrixSymbols.

    h_0 = x,  h_{k+1} = tanh(W_k h_k)  (k < L),  l = h_L^T h_L

For each L: building the model (`define` from SymPy expressions), `adjoints(m)` (local forms
as SymPy), `latex(m)`, `gradient(m, "W_1")` (the expanded form as SymPy) and `to_sympy` of
the loss's definition chain, each as CPU seconds; then the 1024-vs-256 ratio (linear: ~4).
Goal (issue 11): 1024 layers in <= 5 s in all, never an exception. Each L runs in a
subprocess (a fresh SymPy cache, and a RecursionError or a hang cannot end the benchmark).

    python bench/bench_sympy_api.py [--layers 64 256 1024] [--timeout 120]
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

CHILD = r"""
import json, sys, time
import sympy as sp
import symderiv
from symderiv.model.sympy_bridge import to_sympy

L = int(sys.argv[1])
out = {}
def timed(name, fn):
    t0 = time.process_time()
    try:
        r = fn()
    except Exception as err:  # reported, not raised: the benchmark goes on
        out[name] = f"raises {type(err).__name__}"
        return None
    out[name] = time.process_time() - t0
    return r

def build():
    n = sp.Symbol("n", integer=True, positive=True)
    m = symderiv.new_model()
    h = m.input(sp.MatrixSymbol("x", n, 1))
    for k in range(L):
        W = m.input(sp.MatrixSymbol(f"W_{k}", n, n))
        h = m.define(f"h_{k + 1}", symderiv.elementwise("tanh", W * h))
    m.define("l", h.T * h)
    return m

m = timed("build", build)
if m is not None:
    timed("adjoints", lambda: symderiv.adjoints(m))
    timed("latex", lambda: symderiv.latex(m))
    timed("gradient W_1", lambda: symderiv.gradient(m, "W_1" if L > 1 else "W_0"))
    timed("to_sympy of the loss", lambda: to_sympy(m.graph.symbols[m.loss].definition, m.dims))
raised = [k for k, v in out.items() if not isinstance(v, float)]
out["total"] = f"{raised[0]} raises" if raised else sum(out.values())
print(json.dumps(out))
"""


def run(layers: int, timeout: float) -> dict:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    try:
        p = subprocess.run([sys.executable, "-c", CHILD, str(layers)], capture_output=True, text=True,
                           timeout=timeout, env=env, check=False)
    except subprocess.TimeoutExpired:
        return {"total": f"over {timeout:g} s"}
    if p.returncode != 0:
        return {"total": f"failed: {p.stderr.strip().splitlines()[-1] if p.stderr.strip() else p.returncode}"}
    return json.loads(p.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--layers", type=int, nargs="+", default=[64, 256, 1024])
    ap.add_argument("--timeout", type=float, default=120)
    args = ap.parse_args()
    print(f"load average {os.getloadavg()[0]:.2f}; CPU seconds per call")
    cols = ["build", "adjoints", "latex", "gradient W_1", "to_sympy of the loss", "total"]
    print(f"{'layers':>6}  " + "  ".join(f"{c:>20}" for c in cols))
    totals = {}
    for L in args.layers:
        r = run(L, args.timeout)
        totals[L] = r.get("total")

        def cell(v: object) -> str:
            return f"{v:20.2f}" if isinstance(v, float) else f"{v!s:>20}"
        print(f"{L:>6}  " + "  ".join(cell(r.get(c, "")) for c in cols), flush=True)
    big = max(args.layers)
    if isinstance(totals.get(big), float):
        print(f"\n{big} layers: {totals[big]:.2f} s (goal <= 5 s: {'met' if totals[big] <= 5 else 'NOT met'})")
        small = [L for L in args.layers if L < big and isinstance(totals.get(L), float) and totals[L] > 0]
        if small:
            s = max(small)
            print(f"{big} vs {s} layers: {totals[big] / totals[s]:.1f}x (linear: {big / s:.1f}x)")


if __name__ == "__main__":
    main()
