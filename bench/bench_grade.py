"""Sheets per second of `symderiv grade` on the gated-unit problem.

    python bench/bench_grade.py [--sheets 200] [--jobs 1 2]

Writes SHEETS variants into a temporary directory, half of them of the seed sheet (a real
student's, with mistakes) and half of a correct sheet (the output of `symderiv latex`, one
line per adjoint), each with small edits (a flipped sign, a dropped transpose, a reordered
line, prose), then times the whole command — start-up included — for each `--jobs` value:
wall-clock sheets per second, and the CPU time of the command and its workers (which other
load on the machine does not inflate).
"""
from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PROBLEM = ROOT / "derivations" / "gated-unit" / "problem.md"
SEED = ROOT / "derivations" / "gated-unit" / "seed-answers.md"


def correct_sheet() -> str:
    out = subprocess.run([sys.executable, "-m", "symderiv.cli", "latex", str(PROBLEM)],
                         capture_output=True, text=True, check=True).stdout
    rows = [r.strip().rstrip("\\").strip().replace("&=", "=") for r in out.splitlines()
            if r.strip().startswith("\\bar")]
    return "".join(f"$${r}$$\n\n" for r in rows)


def _edit(lines: list[str], rng: random.Random) -> list[str]:
    math = [i for i, ln in enumerate(lines) if ln.startswith("$$") and "=" in ln]
    if not math:
        return lines
    i = rng.choice(math)
    kind = rng.randrange(4)
    if kind == 0:  # a sign
        lines[i] = lines[i].replace("= ", "= -", 1)
    elif kind == 1 and "^\\top" in lines[i]:  # a transpose
        lines[i] = lines[i].replace("^\\top", "", 1)
    elif kind == 2 and len(math) > 1:  # two lines swapped
        j = rng.choice(math)
        lines[i], lines[j] = lines[j], lines[i]
    return lines


def make_sheets(folder: Path, n: int) -> list[str]:
    rng = random.Random(0)
    seed, right = SEED.read_text(encoding="utf-8"), correct_sheet()
    paths = []
    for k in range(n):
        text = seed if k % 2 == 0 else right
        lines = text.splitlines()
        if rng.random() < 0.7:
            lines = _edit(lines, rng)
        lines.insert(0, f"Student {k}, problem 2.3")
        path = folder / f"student{k:03d}.md"
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        paths.append(str(path))
    return paths


def _cpu() -> float:
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def run(paths: list[str], jobs: int, folder: Path) -> tuple[float, float, dict]:
    out = folder / f"results-{jobs}.json"
    c0, t0 = _cpu(), time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "symderiv.cli", "grade", str(PROBLEM), *paths,
                           "--out", str(out), "--jobs", str(jobs)], check=False, capture_output=True, text=True)
    seconds, cpu = time.perf_counter() - t0, _cpu() - c0
    if proc.returncode not in (0, 1):
        sys.exit(f"grade failed ({proc.returncode}): {proc.stderr}")
    return seconds, cpu, json.loads(out.read_text())["summary"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sheets", type=int, default=200)
    ap.add_argument("--jobs", type=int, nargs="+", default=[1, 2])
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        paths = make_sheets(folder, args.sheets)
        print(f"{args.sheets} sheets of gated-unit, {os.cpu_count()} cores, Python {sys.version.split()[0]}")
        print(f"load average before: {os.getloadavg()[0]:.2f} (other processes skew wall-clock figures)")
        print(f"{'jobs':>4}  {'wall s':>7}  {'sheets/s':>8}  {'CPU s':>6}  {'CPU ms/sheet':>12}  "
              f"{'graded':>6}  {'errors':>6}  {'mean score':>10}")
        for jobs in args.jobs:
            seconds, cpu, s = run(paths, jobs, folder)
            print(f"{jobs:>4}  {seconds:>7.2f}  {args.sheets / seconds:>8.1f}  {cpu:>6.2f}  "
                  f"{1000 * cpu / args.sheets:>12.1f}  {s['graded']:>6}  {s['errors']:>6}  {s['mean_score']!s:>10}")


if __name__ == "__main__":
    main()
