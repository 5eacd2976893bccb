"""Cold and warm cost of `symderiv check` on the seed sheet, as CPU time and as ratios to a
reference measured in the same run (so a loaded machine changes the figures, not the ratios).

    python bench/bench_check.py [--repeats N]

Cold: a fresh `python -m symderiv.cli check` (output to a pipe) against `python -c "import
numpy"`, CPU time of the child (user + system), median of N, the commands taking turns;
bytecode is compiled first (into a private PYTHONPYCACHEPREFIX when the environment forbids
writing it). Also against `import numpy` with one BLAS thread: symderiv runs numpy that way,
and the reference's own BLAS threads (their start-up and spin-waiting) vary the most.
Warm: `symderiv.check_files` per seed sheet, in this process, CPU time. Goals (issue 11): cold <= 1.5x import numpy; warm
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


def child_cpu(cmds: dict[str, tuple[list[str], dict[str, str]]], repeats: int) -> dict[str, float]:
    """Median CPU seconds (user + system) of each command run afresh (with its own extra
    environment), the commands taking turns so that a change of load falls on all of them."""
    env = _env()
    times: dict[str, list[float]] = {name: [] for name in cmds}
    for turn in range(repeats + 1):
        for name, (cmd, extra) in cmds.items():
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env={**env, **extra},
                           check=False)
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            if turn:  # the first turn compiles bytecode and warms the file cache
                times[name].append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return {name: statistics.median(t) for name, t in times.items()}


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
    one = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    got = child_cpu({"numpy": ([py, "-c", "import numpy"], {}), "numpy1": ([py, "-c", "import numpy"], one),
                     "bare": ([py, "-c", "pass"], {}),
                     "cold": ([py, "-m", "symderiv.cli", "check", PROBLEM, SHEET], {})}, args.repeats)
    numpy, numpy1, bare, cold = got["numpy"], got["numpy1"], got["bare"], got["cold"]
    w, w1 = warm(args.repeats), warm(args.repeats, first=True)
    print(f"load average {os.getloadavg()[0]:.2f}; CPU seconds, median of {args.repeats}")
    print(f"{'what':50} {'CPU ms':>8} {'x import numpy':>15}")
    for name, t in [("python -c pass", bare), ("python -c 'import numpy'  (reference)", numpy),
                    ("  the same with one BLAS thread", numpy1),
                    ("symderiv check seed sheet, cold", cold),
                    ("check_files(seed sheet), warm, problem's first", w1),
                    ("check_files(seed sheet), warm, next sheet", w)]:
        print(f"{name:50} {t * 1000:8.1f} {t / numpy:15.2f}")
    met = {True: "met", False: "NOT met"}
    print(f"\ncold check: {cold / numpy:.2f}x import numpy (goal <= 1.5x: {met[cold <= 1.5 * numpy]}); "
          f"{cold / numpy1:.2f}x import numpy with one BLAS thread (as symderiv runs it)")
    print(f"warm check: {w * 1000:.0f} ms per seed sheet of a problem checked before, {w1 * 1000:.0f} ms as "
          f"its first (goal <= 40 ms: {met[w <= 0.040]})")


if __name__ == "__main__":
    main()
