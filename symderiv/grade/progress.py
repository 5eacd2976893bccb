"""What `grade` tells the person at the terminal: a progress bar, then one summary line."""
from __future__ import annotations

from typing import Any


class Progress:
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


def summary_line(graded: int, todo: int, errors: int, kept: int, changed: int, summary: dict[str, Any],
                 max_score: float, seconds: float, where: str, cpu: float | None = None) -> str:
    """`graded 38 of 40 submissions (2 errors; 10 kept, 3 changed and regraded), mean 5.5 / 7
    in 1.2 s (31 ms CPU per sheet) -> results.json`: the wall time, and the CPU time of the
    command and its workers per sheet (what other load on the machine does not inflate)."""
    notes = [f"{errors} error{'' if errors == 1 else 's'}"]
    if kept:
        notes.append(f"{kept} kept from the results")
    if changed:
        notes.append(f"{changed} changed since and regraded")
    mean = summary.get("mean_score")
    score = f", mean score {mean:g} / {max_score:g}" if mean is not None else ""
    per = f" ({1000 * cpu / todo:.0f} ms CPU per sheet)" if cpu is not None and todo else ""
    return (f"symderiv grade: graded {graded} of {todo} submissions ({'; '.join(notes)}){score} "
            f"in {seconds:.1f} s{per} -> {where}")
