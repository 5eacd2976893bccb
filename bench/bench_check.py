"""Cold-start cost of `symderiv check` on the seed sheet, next to `import sympy` (the floor),
and the time to read (parse) the seed sheet, in the same run. Prints a table.

    python bench/bench_check.py [--repeats N]

Goal (issue "check"): a cold check of the seed sheet within 3x a bare `import sympy`.
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PROBLEM = os.path.join(ROOT, "derivations", "gated-unit", "problem.md")
SHEET = os.path.join(ROOT, "derivations", "gated-unit", "seed-answers.md")


def cold(cmd: list[str], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def warm_read(repeats: int) -> tuple[float, float]:
    from symderiv.read.document import read_document
    from symderiv.load import load_documents
    from symderiv.verify.check import check_documents

    read_document(SHEET)  # build the parser once
    t_read, t_check = [], []
    for _ in range(repeats):
        t0 = time.perf_counter()
        read_document(SHEET)
        t_read.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        check_documents(load_documents([PROBLEM, SHEET]))
        t_check.append(time.perf_counter() - t0)
    return statistics.median(t_read), statistics.median(t_check)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=7)
    args = ap.parse_args()
    py = sys.executable
    floor = cold([py, "-c", "import sympy"], args.repeats)
    bare = cold([py, "-c", "pass"], args.repeats)
    check = cold([py, "-m", "symderiv.cli", "check", PROBLEM, SHEET, "--format", "json"], args.repeats)
    read, warm = warm_read(args.repeats)
    rows = [
        ("python -c pass", bare, bare / floor),
        ("python -c 'import sympy'  (floor)", floor, 1.0),
        ("symderiv check seed sheet, cold", check, check / floor),
        ("read the seed sheet, warm", read, read / floor),
        ("check the seed sheet, warm", warm, warm / floor),
    ]
    print(f"{'what':40} {'median s':>10} {'x import sympy':>15}")
    for name, t, r in rows:
        print(f"{name:40} {t:10.3f} {r:15.2f}")
    print(f"\ngoal: cold check <= 3x import sympy: {'met' if check <= 3 * floor else 'NOT met'} "
          f"({check / floor:.2f}x)")


if __name__ == "__main__":
    main()
