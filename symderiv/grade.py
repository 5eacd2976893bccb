"""`symderiv grade PROBLEM SUBMISSION... --out RESULTS`: a whole class against one problem.

The parent reads and checks the problem once (a problem without a model stops the run with
exit 2 before any sheet is read), then hands the sheets to `limits.SheetPool`: a bounded
set of worker processes, each sheet under a wall-clock and a memory limit. Whatever happens
to one sheet (too slow, too big, a crash, not a text file, a link out of its directory)
becomes an error entry for that sheet; the others go on.

Results are rewritten atomically (a temporary file in the same directory, fsync, then
`os.replace`) as sheets finish, at most every `FLUSH_SECONDS`, and once at the end, so a run
that is killed leaves a valid file with the sheets done so far; `--resume` keeps the graded
entries of that file and grades the rest. Layouts (README "Grading a class"):

- `--format json` (default): RESULTS is one JSON file.
- `--format gradescope`: RESULTS is a directory holding one Gradescope `results.json` per
  submission, named `<key>.json`, and `summary.json` (the JSON file of the default format,
  each entry naming its `results` file).

Exit status: 0 every submission graded, 1 some submission got an error entry, 2 usage,
a problem without a model, or results that cannot be written.
"""
from __future__ import annotations

import argparse
import csv
import hashlib
import io
import json
import os
import re
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .limits import Outcome, PoolError, SheetPool, read_sheet, start_method

FLUSH_SECONDS = 0.25
MAX_LATEX = 2000  # characters of a claim's text kept in the results (a hostile line can be 1 MB)
POLICY_KEYS = ("points", "carried_forward")


class GradeError(Exception):
    """A usage or set-up problem: the run does not start (exit 2)."""


# ---- the scoring policy ------------------------------------------------------------------------
def read_policy(front_matter: Any, where: str) -> dict[str, float]:
    """`points` and `carried_forward` from the problem's front matter, over DEFAULT_POLICY."""
    from .report.gradescope import DEFAULT_POLICY

    policy = dict(DEFAULT_POLICY)
    fm = front_matter if isinstance(front_matter, dict) else {}
    for key in POLICY_KEYS:
        if fm.get(key) is None:
            continue
        value = fm[key]
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise GradeError(f"{where}: front matter `{key}: {value}` is not a number")
        if key == "points" and not value > 0:
            raise GradeError(f"{where}: front matter `points` must be positive (it is {value})")
        if key == "carried_forward" and not 0 <= value <= 1:
            raise GradeError(f"{where}: front matter `carried_forward` must be between 0 and 1 "
                             f"(it is {value})")
        policy[key] = float(value)
    return policy


# ---- the worker's job --------------------------------------------------------------------------
@dataclass
class Problem:
    path: str
    doc: Any
    seed: int
    policy: dict[str, float]
    gradescope: bool
    sha256: str


_PREPARED: dict[tuple, Problem] = {}


def prepare(path: str, seed: int, gradescope: bool) -> Problem:
    """Read the problem and check that it defines a model (raises SymderivError or GradeError)."""
    key = (os.path.abspath(path), seed, gradescope)
    if key not in _PREPARED:
        from .read.document import read_document
        from .verify.check import check_documents

        doc = read_document(path)
        check_documents([doc], seed=seed)  # raises ModelError without a model; warms every import
        with open(path, "rb") as f:
            sha = hashlib.sha256(f.read()).hexdigest()
        _PREPARED[key] = Problem(path, doc, seed, read_policy(doc.front_matter, path), gradescope, sha)
    return _PREPARED[key]


def setup_worker(path: str, seed: int, gradescope: bool) -> Callable[[str], dict]:
    """In a worker: the problem (inherited when forked, else read again) -> the job."""
    problem = prepare(path, seed, gradescope)
    return lambda sheet: grade_sheet(problem, sheet)


def _clip(text: str) -> str:
    return text if len(text) <= MAX_LATEX else f"{text[:MAX_LATEX]}… ({len(text):,} characters)"


def grade_sheet(problem: Problem, path: str) -> dict:
    """One submission -> its entry (score, max score, the per-claim verdicts)."""
    from .report.gradescope import claim_score
    from .report.json import report_dict
    from .verify.check import check_documents
    from .verify.verdicts import Report

    sheet = read_sheet(path)
    if not sheet.statements:
        from .errors import InputError
        raise InputError(f"{path}: no math found (no display or inline math): nothing to grade")
    full = check_documents([problem.doc, sheet], seed=problem.seed)
    report = Report(full.files, full.loss, [c for c in full.claims if c.file == sheet.file])
    listed = [c for c in report.claims if c.listed]
    for c in report.claims:
        c.latex = _clip(c.latex)
        for s in c.steps:
            s.latex = _clip(s.latex)
    entry: dict[str, Any] = {
        "file": path, "status": "graded",
        "score": round(sum(claim_score(c, problem.policy) for c in listed), 4),
        "max_score": round(problem.policy["points"] * len(listed), 4),
        "report": report_dict(report)}
    if problem.gradescope:
        from .report.gradescope import results
        entry["_gradescope"] = results(report, problem.policy)
    return entry


# ---- the results -------------------------------------------------------------------------------
def write_atomic(path: str, text: str) -> None:
    """Write `text` to `path` through a temporary file in the same directory and os.replace."""
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{os.path.basename(path)}.", suffix=".tmp")
    try:
        os.chmod(tmp, _MODE)  # mkstemp makes 0600; results are ordinary files
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def sweep_temporaries(paths: list[str]) -> None:
    """Remove what a killed run left of its atomic writes of `paths` (`.NAME.XXXXXXXX.tmp`)."""
    folders: dict[str, set[str]] = {}
    for p in paths:
        folder, name = os.path.split(os.path.abspath(p))
        folders.setdefault(folder, set()).add(name)
    for folder, names in folders.items():
        try:
            found = os.listdir(folder)
        except OSError:
            continue
        for f in found:
            if f.startswith(".") and f.endswith(".tmp") and f[1:-4].rsplit(".", 1)[0] in names:
                try:
                    os.unlink(os.path.join(folder, f))
                except OSError:
                    pass


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


_MODE = 0o666 & ~_umask()


def _dumps(value: Any) -> str:
    try:
        text = json.dumps(value, ensure_ascii=False)
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:  # a lone surrogate from a hostile sheet: escape it
        return json.dumps(value, ensure_ascii=True)


def sheet_keys(paths: list[str]) -> dict[str, str]:
    """A file name per submission: its stem, or its path below the submissions' common
    directory (`alice/answers.md` -> `alice__answers`) when stems clash; `summary` is taken."""
    absolute = [os.path.abspath(p) for p in paths]
    stems = Counter(Path(p).stem for p in absolute)
    try:
        common = os.path.commonpath([os.path.dirname(p) for p in absolute]) if absolute else ""
    except ValueError:
        common = ""
    taken = {"summary"}
    keys: dict[str, str] = {}
    for p in absolute:
        stem = Path(p).stem
        if stems[stem] > 1 or stem in taken:
            stem = str(Path(os.path.relpath(p, common) if common else p).with_suffix(""))
            stem = stem.replace(os.sep, "__")
        stem = re.sub(r"[^A-Za-z0-9._-]", "_", stem).lstrip(".") or "sheet"
        key, n = stem, 1
        while key in taken:
            n += 1
            key = f"{stem}-{n}"
        taken.add(key)
        keys[p] = key
    return keys


def error_entry(path: str, outcome: Outcome) -> dict:
    return {"file": path, "status": "error", "score": 0.0, "max_score": None,
            "error": {"reason": outcome.reason, "message": outcome.message}}


@dataclass
class Results:
    """The results file (or directory), rewritten atomically as sheets are done."""

    out: str
    gradescope: bool
    header: dict[str, Any]
    csv_path: str | None = None
    given: list[str] = field(default_factory=list)    # this run's sheets (absolute), in the order given
    extra: list[str] = field(default_factory=list)    # entries of earlier runs for other sheets
    lines: dict[str, str] = field(default_factory=dict)  # absolute path -> serialised entry
    rows: dict[str, list[Any]] = field(default_factory=dict)
    scores: dict[str, tuple[str, float]] = field(default_factory=dict)
    pending: int = 0
    last: float = 0.0

    @property
    def summary_path(self) -> str:
        return os.path.join(self.out, "summary.json") if self.gradescope else self.out

    def keep(self, entry: dict) -> None:
        """An entry of an earlier run (--resume)."""
        self._store(os.path.abspath(str(entry.get("file"))), entry)

    def add(self, path: str, entry: dict, key: str) -> None:
        results = entry.pop("_gradescope", None)
        if self.gradescope:
            if results is None:
                results = {"score": 0.0, "tests": [], "output": "symderiv could not grade this submission: "
                           + str(entry.get("error", {}).get("message", ""))}
            write_atomic(os.path.join(self.out, f"{key}.json"), json.dumps(results, indent=2) + "\n")
            entry["results"] = f"{key}.json"
        self._store(os.path.abspath(path), entry)
        self.pending -= 1
        if time.monotonic() - self.last >= FLUSH_SECONDS:
            self.flush()

    @property
    def order(self) -> list[str]:
        return self.extra + [p for p in self.given if p in self.lines]

    def _store(self, apath: str, entry: dict) -> None:
        if apath not in self.lines and apath not in self.given:
            self.extra.append(apath)
        self.lines[apath] = _dumps(entry)
        summary = (entry.get("report") or {}).get("summary") or {}
        self.rows[apath] = [entry.get("file"), entry.get("status"), entry.get("score"), entry.get("max_score"),
                            summary.get("correct", ""), summary.get("incorrect", ""), summary.get("invalid", ""),
                            (entry.get("error") or {}).get("message", "")]
        self.scores[apath] = (str(entry.get("status")), float(entry.get("score") or 0.0))

    def summary(self) -> dict[str, Any]:
        graded = [s for st, s in self.scores.values() if st == "graded"]
        return {"submissions": len(self.lines), "graded": len(graded),
                "errors": len(self.lines) - len(graded), "pending": self.pending,
                "mean_score": round(sum(graded) / len(graded), 4) if graded else None}

    def flush(self) -> None:
        head = {**self.header, "complete": self.pending == 0, "summary": self.summary()}
        parts = [f"  {json.dumps(k)}: {json.dumps(v, ensure_ascii=False)}" for k, v in head.items()]
        body = ",\n".join(f"    {self.lines[p]}" for p in self.order)
        text = "{\n" + ",\n".join(parts) + ',\n  "submissions": [\n' + body + ("\n" if body else "") + "  ]\n}\n"
        write_atomic(self.summary_path, text)
        if self.csv_path:
            write_atomic(self.csv_path, self._csv())
        self.last = time.monotonic()

    def _csv(self) -> str:
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(["file", "status", "score", "max_score", "correct", "incorrect", "invalid", "error"])
        for p in self.order:
            w.writerow([_cell(v) for v in self.rows[p]])
        return buf.getvalue()


def _cell(v: Any) -> Any:
    """No spreadsheet formulas from file names or messages."""
    if isinstance(v, str) and v[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + v
    return "" if v is None else v


def load_previous(path: str, sha: str) -> list[dict]:
    """Graded entries of an earlier run for the same problem (--resume); [] when there is none."""
    try:
        with open(path, encoding="utf-8") as f:
            old = json.load(f)
    except FileNotFoundError:
        return []
    except (OSError, ValueError) as err:
        raise GradeError(f"--resume: {path} is not a results file of symderiv grade ({err})") from None
    if not isinstance(old, dict) or not isinstance(old.get("submissions"), list):
        raise GradeError(f"--resume: {path} is not a results file of symderiv grade")
    if old.get("problem_sha256") != sha:
        raise GradeError(f"--resume: {path} was made against a different problem (or a changed one); "
                         "grade again without --resume, or choose another --out")
    return [e for e in old["submissions"] if isinstance(e, dict) and isinstance(e.get("file"), str)]


# ---- the command -------------------------------------------------------------------------------
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
    from .errors import SymderivError

    try:
        run = _Run(args)
        run.start()
    except (GradeError, SymderivError) as err:
        return _fail(str(err))
    except OSError as err:
        return _fail(f"cannot write the results: {err.strerror or err} ({err.filename or args.out})")
    try:
        run.grade()
    except PoolError as err:
        return _fail(str(err))
    except OSError as err:
        return _fail(f"cannot write the results: {err.strerror or err} ({err.filename or args.out})")
    return 1 if run.errors else 0


class _Run:
    def __init__(self, args: argparse.Namespace) -> None:
        if args.jobs < 0:
            raise GradeError("--jobs must be 0 (all cores) or more")
        if not args.timeout > 0 or args.memory <= 0:
            raise GradeError("--timeout and --memory must be positive")
        for out in (args.out, getattr(args, "csv", None)):
            if out and os.path.exists(out) and any(
                    os.path.exists(f) and os.path.samefile(out, f) for f in [args.problem, *args.submissions]):
                raise GradeError(f"{out}: is one of the input files; choose another output")
        self.args = args
        self.gradescope = args.format == "gradescope"
        self.errors = 0

    def start(self) -> None:
        args = self.args
        problem = prepare(args.problem, args.seed, self.gradescope)
        sha = problem.sha256
        seen: dict[str, str] = {}
        for p in args.submissions:
            seen.setdefault(os.path.abspath(p), p)
        self.sheets = list(seen.values())
        self.keys = sheet_keys(self.sheets)
        out = args.out
        if self.gradescope:
            if os.path.exists(out) and not os.path.isdir(out):
                raise GradeError(f"--format gradescope writes a directory, and {out} is a file")
            os.makedirs(out, exist_ok=True)
        else:
            if os.path.isdir(out):
                raise GradeError(f"--out {out} is a directory; the JSON results are one file")
            os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
        header = {"problem": args.problem, "problem_sha256": sha, "format": args.format,
                  "policy": problem.policy, "seed": args.seed}
        self.results = Results(out, self.gradescope, header, args.csv, given=list(seen))
        sweep_temporaries([self.results.summary_path] + ([args.csv] if args.csv else []) + [
            os.path.join(out, f"{k}.json") for k in self.keys.values() if self.gradescope])
        done: set[str] = set()
        if args.resume:
            for entry in load_previous(self.results.summary_path, sha):
                apath = os.path.abspath(entry["file"])
                if entry.get("status") != "graded" and apath in seen:
                    continue  # errors are tried again
                if self.gradescope and apath in seen and not os.path.exists(
                        os.path.join(out, str(entry.get("results", "")))):
                    continue
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
        progress = _Progress(len(todo)) if sys.stderr.isatty() else None

        def done(index: int, outcome: Outcome) -> None:
            path = todo[index]
            entry = outcome.value if outcome.ok else error_entry(path, outcome)
            entry["seconds"] = round(outcome.seconds, 3)
            if entry.get("status") != "graded":
                self.errors += 1
            self.results.add(path, entry, self.keys[os.path.abspath(path)])
            if progress:
                progress.advance(self.errors)

        started = time.monotonic()
        try:
            if todo:
                pool.run(list(enumerate(todo)), done)
        finally:
            self.results.flush()
            if progress:
                progress.stop()
        if progress:
            s = self.results.summary()
            print(f"graded {len(todo) - self.errors} of {len(todo)} submissions in "
                  f"{time.monotonic() - started:.1f} s ({self.errors} errors) -> {self.results.summary_path}",
                  file=sys.stderr)
            if s["mean_score"] is not None:
                print(f"mean score {s['mean_score']}", file=sys.stderr)


class _Progress:
    """A rich progress bar on stderr, redrawn by hand (no refresh thread: workers are forked)."""

    def __init__(self, total: int) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        self.bar = Progress(TextColumn("grading"), BarColumn(), MofNCompleteColumn(),
                            TextColumn("errors: {task.fields[errors]}"), TimeRemainingColumn(),
                            console=Console(stderr=True), auto_refresh=False)
        self.task = self.bar.add_task("grading", total=total, errors=0)
        self.bar.start()
        self.bar.refresh()

    def advance(self, errors: int) -> None:
        self.bar.update(self.task, advance=1, errors=errors)
        self.bar.refresh()

    def stop(self) -> None:
        self.bar.stop()
