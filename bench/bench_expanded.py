"""`symderiv latex --expanded` of L-layer tanh networks: output size and CPU time, linear in L.

    h_0 = x,  h_{k+1} = tanh(W_k h_k)  (k < L),  loss = h_L^T h_L

For each L (doubling), the CPU seconds of `derive` plus the expanded derivation, its size in
bytes, and both as ratios to the previous run in this process (the reference): a linear
printer doubles both, a quadratic one quadruples them. Goal (issues 11, 16): O(L) output,
1024 layers under 5 s.

    python bench/bench_expanded.py [--layers 32 64 128 256 512 1024]
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))


def run(layers: int) -> tuple[float, int]:
    from bench_derive import tanh_network

    from symderiv.derive.adjoints import derive
    from symderiv.report.latex import derivation_latex

    model = tanh_network(layers)
    t0 = time.process_time()
    text = derivation_latex(derive(model), expanded=True)
    return time.process_time() - t0, len(text.encode())


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--layers", type=int, nargs="+", default=[32, 64, 128, 256, 512, 1024])
    args = ap.parse_args()
    run(4)  # imports and SymPy's first call out of the figures
    print(f"{'layers':>7} {'CPU s':>8} {'bytes':>10} {'time x':>7} {'size x':>7}")
    prev: tuple[float, int] | None = None
    for n in args.layers:
        cpu, size = run(n)
        ratios = f"{cpu / prev[0]:7.2f} {size / prev[1]:7.2f}" if prev else f"{'-':>7} {'-':>7}"
        print(f"{n:7d} {cpu:8.2f} {size:10d} {ratios}")
        prev = (cpu, size)
    return 0


if __name__ == "__main__":
    sys.exit(main())
