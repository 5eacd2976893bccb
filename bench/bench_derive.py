"""Derivation time for L-layer tanh networks, symderiv against SymPy's own MatrixExpr.diff.

    h_0 = x,  h_{k+1} = tanh(W_k h_k)  (k < L),  loss = h_L^T h_L

For L in 1, 8, 16, 32, 64: symderiv's local adjoints of every symbol (`derive`), then the
expanded forms of every symbol (`Adjoints.expanded`, on top of `derive`), and SymPy 1.x's
`MatrixExpr.diff` of the same loss with respect to every parameter, each SymPy case in a
subprocess capped at --timeout seconds (it is reported as "raises <Error>" when it raises).
Prints a table and the 64-vs-32-layer ratios; writes bench/derive.png if matplotlib is
importable.

    python bench/bench_derive.py [--layers 1 8 16 32 64] [--timeout 20] [--no-sympy]
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def tanh_network(layers: int):  # type: ignore[no-untyped-def]
    from symderiv.model import ops as o
    from symderiv.model.graph import Model

    m = Model()
    h = m.declare("x", ("n", 1))
    ws = [m.declare(f"W_{k}", ("n", "n")) for k in range(layers)]
    for k, w in enumerate(ws):
        h = m.define(f"h_{k + 1}", o.apply("tanh", o.matmul(w, h)))
    m.define("l", o.matmul(o.transpose(h), h))
    return m


def time_symderiv(layers: int, repeats: int = 5) -> tuple[float, float]:
    """Best-of-`repeats` seconds for (local adjoints, expanded forms of every symbol)."""
    from symderiv.derive.adjoints import derive

    best_local = best_expanded = float("inf")
    for _ in range(repeats):
        m = tanh_network(layers)
        t0 = time.perf_counter()
        adj = derive(m)
        t1 = time.perf_counter()
        for name in adj.order():
            adj.expanded(name)
        t2 = time.perf_counter()
        best_local, best_expanded = min(best_local, t1 - t0), min(best_expanded, t2 - t1)
    return best_local, best_expanded


def sympy_case(layers: int) -> dict:
    """Run in the child process: SymPy's MatrixExpr.diff w.r.t. x and every W_k."""
    import sympy as sp
    from sympy.matrices.expressions.applyfunc import ElementwiseApplyFunction

    n = sp.Symbol("n", integer=True, positive=True)
    x = sp.MatrixSymbol("x", n, 1)
    ws = [sp.MatrixSymbol(f"W_{k}", n, n) for k in range(layers)]
    h = x
    for w in ws:
        h = ElementwiseApplyFunction(sp.tanh, w * h)
    loss = h.T * h
    t0 = time.perf_counter()
    try:
        for wrt in [x, *ws]:
            loss.diff(wrt)
    except Exception as e:  # noqa: BLE001 - reporting what SymPy raises is the point
        return {"raises": type(e).__name__, "seconds": time.perf_counter() - t0}
    return {"seconds": time.perf_counter() - t0}


def time_sympy(layers: int, timeout: float) -> dict:
    cmd = [sys.executable, str(Path(__file__).resolve()), "--sympy-case", str(layers)]
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        return {"timeout": timeout}
    if out.returncode != 0:
        return {"crashed": out.stderr.strip().splitlines()[-1:] or ["?"]}
    return json.loads(out.stdout.strip().splitlines()[-1])


def describe(r: dict | None) -> str:
    if r is None:
        return "skipped"
    if "timeout" in r:
        return f"> {r['timeout']:.0f} s (timeout)"
    if "crashed" in r:
        return f"crashed: {r['crashed'][0]}"
    if "raises" in r:
        return f"raises {r['raises']}"
    return f"{r['seconds']:.4f}"


def ratio(a: float | None, b: float | None) -> str:
    return f"{a / b:.2f}x" if a is not None and b else "n/a"


def plot(rows: list[dict], path: Path) -> str:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return "matplotlib is not importable: no plot written (pip install matplotlib)"
    layers = [r["L"] for r in rows]
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.plot(layers, [r["local"] for r in rows], "o-", label="symderiv local")
    ax.plot(layers, [r["expanded"] for r in rows], "s-", label="symderiv expanded")
    sym = [(r["L"], r["sympy"]["seconds"]) for r in rows
           if r["sympy"] and "seconds" in r["sympy"] and "raises" not in r["sympy"]]
    if sym:
        ax.plot(*zip(*sym), "^-", label="SymPy MatrixExpr.diff")
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    ax.set_xlabel("layers L")
    ax.set_ylabel("seconds")
    ax.set_title("Deriving an L-layer tanh network")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    return f"plot written to {path}"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--layers", type=int, nargs="+", default=[1, 8, 16, 32, 64])
    ap.add_argument("--timeout", type=float, default=20.0, help="cap per SymPy case, seconds")
    ap.add_argument("--no-sympy", action="store_true")
    ap.add_argument("--sympy-case", type=int, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.sympy_case is not None:
        print(json.dumps(sympy_case(args.sympy_case)))
        return 0

    rows = []
    print(f"{'L':>4}  {'local (s)':>10}  {'expanded (s)':>12}  {'SymPy MatrixExpr.diff (s)':>26}")
    for L in args.layers:
        local, expanded = time_symderiv(L)
        sym = None if args.no_sympy else time_sympy(L, args.timeout)
        rows.append({"L": L, "local": local, "expanded": expanded, "sympy": sym})
        print(f"{L:>4}  {local:>10.4f}  {expanded:>12.4f}  {describe(sym):>26}", flush=True)

    by = {r["L"]: r for r in rows}
    if 64 in by and 32 in by:
        a, b = by[64], by[32]

        def sym_s(r: dict) -> float | None:
            s = r["sympy"]
            return s["seconds"] if s and "seconds" in s and "raises" not in s else None

        print("\n64 vs 32 layers:")
        print(f"  local     {ratio(a['local'], b['local'])}")
        print(f"  expanded  {ratio(a['expanded'], b['expanded'])}")
        print(f"  SymPy     {ratio(sym_s(a), sym_s(b))}")
    print("\n" + plot(rows, HERE / "derive.png"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
