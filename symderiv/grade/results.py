"""The results of `symderiv grade`: one JSON file (or a Gradescope directory), a CSV, a lock.

Every write goes through `atomic.write_atomic` (a temporary file, fsync, `os.replace`), as
sheets finish (at most every `FLUSH_SECONDS`) and once at the end, so a killed run leaves a
valid file with the sheets done so far. The results are locked for the whole run (`flock`
on a `.NAME.lock` beside them): a second `grade` on the same results stops with exit 2
instead of both keeping half the entries. Each entry records the SHA-256 of the submission
it graded, so `--resume` regrades a sheet whose content changed and says so.
"""
from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import re
import stat
import time
from collections import Counter
from dataclasses import field
from pathlib import Path
from typing import Any

from ..atomic import write_atomic
from ..fastdataclass import dataclass
from ..limits import Outcome

FLUSH_SECONDS = 0.25
MAX_HASHED = 2 * 1024 * 1024  # larger files are refused by the reader anyway


class GradeError(Exception):
    """A usage or set-up problem: the run does not start (exit 2)."""


# ---- the lock ----------------------------------------------------------------------------------
class Lock:
    """An exclusive lock on the results for the life of a run (released when the process ends)."""

    def __init__(self, results: str, directory: bool) -> None:
        folder, name = (results, "") if directory else os.path.split(os.path.abspath(results))
        self.path = os.path.join(folder, f".{name or 'results'}.lock")
        self.fd: int | None = None

    def acquire(self) -> None:
        import fcntl

        self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o644)
        try:
            fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(self.fd)
            self.fd = None
            raise GradeError(f"another symderiv grade is writing these results ({self.path} is locked); "
                             "wait for it, or choose another --out") from None

    def release(self) -> None:
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None


# ---- what identifies a submission ----------------------------------------------------------------
def content_hash(path: str) -> str | None:
    """SHA-256 of a submission that is a regular file (never opens a FIFO or a device)."""
    try:
        st = os.stat(path)
        if not stat.S_ISREG(st.st_mode) or st.st_size > MAX_HASHED:
            return None
        with open(path, "rb") as f:
            return hashlib.sha256(f.read(MAX_HASHED + 1)).hexdigest()
    except OSError:
        return None


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


def _dumps(value: Any) -> str:
    try:
        text = json.dumps(value, ensure_ascii=False)
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:  # a lone surrogate from a hostile sheet: escape it
        return json.dumps(value, ensure_ascii=True)


def _cell(v: Any) -> Any:
    """No spreadsheet formulas from file names or messages."""
    if isinstance(v, str) and v[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + v
    return "" if v is None else v


# ---- the file ----------------------------------------------------------------------------------
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
                from ..report.gradescope import error_results
                results = error_results("symderiv could not grade this submission: "
                                        + str(entry.get("error", {}).get("message", "")))
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
