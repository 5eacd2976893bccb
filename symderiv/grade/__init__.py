"""`symderiv grade PROBLEM SUBMISSION... --out RESULTS`: a whole class against one problem.

The package is split by job: `job.py` (the problem, read once, and the per-sheet job),
`results.py` (the results file, its lock, the CSV, resuming), `progress.py` (the bar and
the summary line), `../limits.py` (the worker pool and what a submission may be),
`../scoring.py` (the policy) and `../atomic.py` (every write). This module is the run.

The parent reads and checks the problem once (a problem without a model, or with a bad
`scoring:` block, stops the run with exit 2 before any sheet is read), locks the results,
then hands the sheets to `limits.SheetPool`. Whatever happens to one sheet becomes an error
entry for that sheet; the others go on. `--resume` keeps the graded entries of RESULTS
whose submission is unchanged (same SHA-256) and grades the rest. Layouts (README "Grading
a class"): `--format json` (one JSON file) or `--format gradescope` (a directory of
Gradescope `results.json` files, one per submission, plus `summary.json`).

Exit status: 0 every submission graded, 1 some submission got an error entry, 2 usage,
a problem without a model, a bad policy, locked results, or results that cannot be written.
"""
from __future__ import annotations

import argparse
import os
import sys
import time

from ..atomic import OutputError, check_destination, sweep_temporaries
from ..limits import Outcome, PoolError, SheetPool, start_method
from . import job
from .job import Problem, grade_sheet, prepare, setup_worker
from .progress import Progress, summary_line
from .results import GradeError, Lock, Results, content_hash, error_entry, load_previous, sheet_keys

__all__ = ["GradeError", "Problem", "grade_command", "grade_sheet", "job", "prepare", "setup_worker",
           "sheet_keys"]


def _cpu_seconds() -> float:
    """CPU time (user + system) of this process and its ended children (the workers)."""
    import resource
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def default_jobs() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def _fail(msg: str) -> int:
    print(f"symderiv grade: {msg}", file=sys.stderr)
    return 2


def grade_command(args: argparse.Namespace) -> int:
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(var, "1")  # the parallelism is the pool's; before numpy is imported
    from ..errors import SymderivError

    run = _Run(args)
    try:
        try:
            run.start()
        except (GradeError, SymderivError, OutputError) as err:
            return _fail(str(err))
        except OSError as err:
            return _fail(f"cannot write the results: {err.strerror or err} ({err.filename or args.out})")
        try:
            run.grade()
        except (PoolError, OutputError) as err:
            return _fail(str(err))
        except OSError as err:
            return _fail(f"cannot write the results: {err.strerror or err} ({err.filename or args.out})")
    finally:
        if run.lock:
            run.lock.release()
    return 1 if run.errors else 0


class _Run:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.gradescope = args.format == "gradescope"
        self.errors = 0
        self.kept = 0
        self.changed = 0
        self.lock: Lock | None = None

    def _outputs(self) -> None:
        """RESULTS and CSV: regular files or new paths (a directory for --format gradescope)."""
        args, inputs = self.args, [self.args.problem, *self.args.submissions]
        if self.gradescope:
            if os.path.exists(args.out) and not os.path.isdir(args.out):
                raise GradeError(f"--format gradescope writes a directory, and {args.out} is not one")
            os.makedirs(args.out, exist_ok=True)
            check_destination(os.path.join(args.out, "summary.json"), inputs)
        else:
            if os.path.isdir(args.out):
                raise GradeError(f"--out {args.out} is a directory; the JSON results are one file")
            check_destination(args.out, inputs)
            os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
        if args.csv:
            check_destination(args.csv, inputs)

    def start(self) -> None:
        args = self.args
        self._outputs()
        problem = prepare(args.problem, args.seed, self.gradescope)
        self.problem = problem
        self.lock = Lock(args.out, self.gradescope)
        self.lock.acquire()
        seen: dict[str, str] = {}
        for p in args.submissions:
            seen.setdefault(os.path.abspath(p), p)
        self.sheets = list(seen.values())
        self.keys = sheet_keys(self.sheets)
        self.hashes = {a: content_hash(p) for a, p in seen.items()}
        header = {"problem": args.problem, "problem_sha256": problem.sha256, "format": args.format,
                  "policy": problem.policy.as_dict(), "seed": args.seed}
        self.results = Results(args.out, self.gradescope, header, args.csv, given=list(seen))
        sweep_temporaries([self.results.summary_path] + ([args.csv] if args.csv else []) + [
            os.path.join(args.out, f"{k}.json") for k in self.keys.values() if self.gradescope])
        done: set[str] = set()
        self.regraded: set[str] = set()
        if args.resume:
            for entry in load_previous(self.results.summary_path, problem.sha256):
                apath = os.path.abspath(entry["file"])
                if apath in seen:
                    if entry.get("status") != "graded":
                        continue  # errors are tried again
                    if entry.get("sha256") != self.hashes[apath] or self.hashes[apath] is None:
                        self.regraded.add(apath)  # the sheet changed since: graded again
                        continue
                    if self.gradescope and not os.path.exists(os.path.join(args.out, str(entry.get("results", "")))):
                        continue
                    self.kept += 1
                self.results.keep(entry)
                done.add(apath)
        self.todo = [p for p in self.sheets if os.path.abspath(p) not in done]
        self.results.pending = len(self.todo)
        self.results.flush()

    def grade(self) -> None:
        args, todo = self.args, self.todo
        jobs = min(args.jobs or default_jobs(), max(1, len(todo)))
        pool = SheetPool(setup_worker, (args.problem, args.seed, self.gradescope), jobs=jobs,
                         timeout=args.timeout, memory_mib=args.memory, method=start_method())
        progress = Progress(len(todo)) if sys.stderr.isatty() else None

        def done(index: int, outcome: Outcome) -> None:
            path = todo[index]
            apath = os.path.abspath(path)
            entry = outcome.value if outcome.ok else error_entry(path, outcome)
            entry["sha256"] = self.hashes.get(apath)
            entry["seconds"] = round(outcome.seconds, 3)
            if apath in self.regraded:
                entry["regraded"] = "the submission changed since the earlier results"
                self.changed += 1
            if entry.get("status") != "graded":
                self.errors += 1
            self.results.add(path, entry, self.keys[apath])
            if progress:
                progress.advance(self.errors)

        started, cpu = time.monotonic(), _cpu_seconds()
        try:
            if todo:
                pool.run(list(enumerate(todo)), done)  # closes the pool: its workers' CPU is counted
        finally:
            self.results.flush()
            if progress:
                progress.stop()
        line = summary_line(len(todo) - self.errors, len(todo), self.errors, self.kept, self.changed,
                            self.results.summary(), self.problem.policy.max_score,
                            time.monotonic() - started, self.results.summary_path, _cpu_seconds() - cpu)
        print(line, file=sys.stderr if sys.stdout.isatty() and progress else sys.stdout)

