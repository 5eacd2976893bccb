"""The work budget of one document in `check`: CPU time and memory.

Every statement is bounded by the reader's limits, but a legal sheet of thousands of long
lines could still take minutes. So each document gets `seconds` of CPU time (default 20; a
real sheet takes well under one): statements reached after it is spent are `invalid`
(`unsupported`, "not checked: ...") rather than judged, so nothing is dropped silently.
Memory: the command line (and a caller who asks) allows each document `mib` MiB of address
space beyond what the process holds when the document starts (soft `RLIMIT_AS`, restored
after); an allocation past it fails that statement with a clear message.

Overrides: `symderiv check --budget SECONDS --memory MIB`, or the environment variables
`SYMDERIV_BUDGET_SECONDS` and `SYMDERIV_BUDGET_MIB` (`0` = no limit).
"""
from __future__ import annotations

import math
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager

from ..fastdataclass import dataclass

DEFAULT_SECONDS = 20.0
DEFAULT_MIB = 1024
ENV_SECONDS = "SYMDERIV_BUDGET_SECONDS"
ENV_MIB = "SYMDERIV_BUDGET_MIB"


def _env(name: str, cast: type, default: float | None) -> float | int | None:
    text = os.environ.get(name, "").strip()
    if not text:
        return default
    try:
        value = cast(text)
    except ValueError:
        return default
    return None if value <= 0 or math.isnan(value) else value


@dataclass(frozen=True)
class Budget:
    """CPU seconds and MiB per document; None means no limit."""

    seconds: float | None = DEFAULT_SECONDS
    mib: int | None = None

    @classmethod
    def from_env(cls, seconds: float | None = None, mib: int | None = None, *,
                 default_mib: int | None = None) -> Budget:
        """Explicit values (0 = no limit) win over the environment, which wins over defaults."""
        s = _env(ENV_SECONDS, float, DEFAULT_SECONDS) if seconds is None else (seconds or None)
        m = _env(ENV_MIB, int, default_mib) if mib is None else (mib or None)
        return cls(s, m)

    def clock(self) -> Clock:
        return Clock(self)


class Clock:
    """CPU time spent on the current document."""

    def __init__(self, budget: Budget) -> None:
        self.budget, self.file, self.start = budget, None, time.process_time()

    def spent(self, file: str) -> bool:
        """True when `file`'s budget is used up; a new file starts a new budget."""
        if file != self.file:
            self.file, self.start = file, time.process_time()
            return False
        return self.budget.seconds is not None and time.process_time() - self.start > self.budget.seconds

    def message(self) -> str:
        return (f"not checked: this document's work budget ({self.budget.seconds:g} s of CPU time) is "
                f"spent; raise it with `--budget SECONDS` or {ENV_SECONDS}")


def address_space() -> int | None:
    """This process's virtual memory size in bytes (Linux), or None where it is not known."""
    try:
        with open("/proc/self/statm", "rb") as f:
            return int(f.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return None


def limit_memory(memory_mib: int) -> bool:
    """Allow this process `memory_mib` MiB more address space than it has now (soft RLIMIT_AS)."""
    try:
        import resource
    except ImportError:  # pragma: no cover - not POSIX
        return False
    now = address_space()
    if now is None:
        return False
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    want = now + memory_mib * 1024 * 1024
    if hard != resource.RLIM_INFINITY:
        want = min(want, hard)
    try:
        resource.setrlimit(resource.RLIMIT_AS, (want, hard))
    except (ValueError, OSError):
        return False
    return True


@contextmanager
def memory_limit(mib: int | None) -> Iterator[None]:
    """Allow `mib` MiB more address space than now, inside the block (no-op for None)."""
    if mib is None:
        yield
        return
    try:
        import resource
    except ImportError:  # pragma: no cover - not POSIX
        yield
        return
    old = resource.getrlimit(resource.RLIMIT_AS)
    limited = limit_memory(mib)
    try:
        yield
    finally:
        if limited:
            resource.setrlimit(resource.RLIMIT_AS, old)


def memory_message(mib: int | None) -> str:
    return (f"not checked: past this document's memory budget ({mib} MiB); raise it with "
            f"`--memory MIB` or {ENV_MIB}")
