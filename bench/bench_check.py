"""Cold and warm cost of `symderiv check` on the seed sheet, as CPU time and as ratios to a
reference measured in the same run (so a loaded machine changes the figures, not the ratios).

    python bench/bench_check.py [--repeats N]

Cold: a fresh `python -m symderiv.cli check` (output to a pipe) against `python -c "import
numpy"`, CPU time of the child (user + system), median of N; bytecode is compiled first (into
a private PYTHONPYCACHEPREFIX when the environment forbids writing it). Warm: `symderiv.check_files`
per seed sheet, in this process, CPU time. Goals (issue 11): cold <= 1.5x import numpy; warm
<= 40 ms per seed sheet.
"""
from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PROBLEM = os.path.join(ROOT, "derivations", "gated-unit", "problem.md")
SHEET = os.path.join(ROOT, "derivations", "gated-unit", "seed-answers.md")


def _env() -> dict[str, str]:
    env = dict(os.environ, PYTHONPATH=ROOT)
    if env.pop("PYTHONDONTWRITEBYTECODE", None):
        env.setdefault("PYTHONPYCACHEPREFIX", os.path.join(tempfile.gettempdir(), "symderiv-bench-pyc"))
    return env


def child_cpu(cmd: list[str], repeats: int) -> float:
    """Median CPU seconds (user + system) of `cmd` run afresh."""
    env = _env()
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, check=False)
    times = []
    for _ in range(repeats):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, check=False)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        times.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return statistics.median(times)


def warm(repeats: int, first: bool = False) -> float:
    """`first`: each time as a problem's first sheet (read, its model built and sampled again), else
    as the next sheet of a problem checked before (what `grade` pays per sheet)."""
    sys.path.insert(0, ROOT)
    import symderiv
    from symderiv import load
    from symderiv.verify import check
    symderiv.check_files([PROBLEM, SHEET])
    times = []
    for _ in range(repeats):
        if first:  # the problem read, built and sampled again
            check._PREPARED.clear()
            load._PROBLEMS.clear()
        t0 = time.process_time()
        symderiv.check_files([PROBLEM, SHEET])
        times.append(time.process_time() - t0)
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=7)
    args = ap.parse_args()
    py = sys.executable
    numpy = child_cpu([py, "-c", "import numpy"], args.repeats)
    bare = child_cpu([py, "-c", "pass"], args.repeats)
    cold = child_cpu([py, "-m", "symderiv.cli", "check", PROBLEM, SHEET], args.repeats)
    w, w1 = warm(args.repeats), warm(args.repeats, first=True)
    print(f"load average {os.getloadavg()[0]:.2f}; CPU seconds, median of {args.repeats}")
    print(f"{'what':50} {'CPU ms':>8} {'x import numpy':>15}")
    for name, t in [("python -c pass", bare), ("python -c 'import numpy'  (reference)", numpy),
                    ("symderiv check seed sheet, cold", cold),
                    ("check_files(seed sheet), warm, problem's first", w1),
                    ("check_files(seed sheet), warm, next sheet", w)]:
        print(f"{name:50} {t * 1000:8.1f} {t / numpy:15.2f}")
    met = {True: "met", False: "NOT met"}
    print(f"\ncold check: {cold / numpy:.2f}x import numpy (goal <= 1.5x: {met[cold <= 1.5 * numpy]})")
    print(f"warm check: {w * 1000:.0f} ms per seed sheet of a problem checked before, {w1 * 1000:.0f} ms as "
          f"its first (goal <= 40 ms: {met[w <= 0.040]})")


if __name__ == "__main__":
    main()
