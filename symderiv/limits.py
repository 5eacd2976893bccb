"""Run one job per sheet in a bounded set of worker processes, each sheet under a time and a memory limit.

`SheetPool` is the only process machinery of `symderiv grade`:

- up to `jobs` long-lived workers; each runs `setup()` once (the problem is parsed once per
  worker, or once in all when workers are forked from a parent that already parsed it), then
  grades one sheet at a time, so a time-out is charged to the sheet that caused it;
- memory: before each sheet the worker sets its soft `RLIMIT_AS` to its current address
  space plus `memory_mib`; an allocation past it raises MemoryError in the worker, which
  reports the sheet and then exits (it is replaced). A worker whose address space has
  grown by more than `memory_mib` since it started is recycled too, so later sheets keep
  their full allowance. No core files are written (`RLIMIT_CORE` 0);
- time: the parent keeps a wall-clock deadline per sheet and kills (SIGKILL) a worker that
  passes it; a worker that dies for any reason (killed, crashed, out of memory at the C
  level) is replaced, and the sheet it held gets an error, never a hung pool;
- workers ignore SIGINT (the parent stops them) and write nothing on stdout or stderr: every
  outcome, including an unexpected exception, comes back as data.

The job (`work`) returns a picklable value, or raises; `on_done(index, Outcome)` is called
in the parent, in completion order. `read_sheet` is the other limit: what a submission may be
(a regular file, or a link that stays in its directory; the reader's own size and text checks).
"""
from __future__ import annotations

import multiprocessing as mp
import os
import signal
import stat
import sys
import time
import warnings
from collections import deque
from collections.abc import Callable
from multiprocessing.connection import Connection, wait
from typing import Any

from .fastdataclass import dataclass
from .verify.budget import address_space, limit_memory

DEFAULT_TIMEOUT = 60.0  # seconds per sheet
DEFAULT_MEMORY = 1024   # MiB per sheet, beyond what the loaded worker uses
_STARTUP = 120.0        # seconds a new worker may take to run its setup
_MAX_FAILED_STARTS = 3

Setup = Callable[..., Callable[[Any], Any]]


@dataclass
class Outcome:
    """What became of one sheet: `value` when ok, else an error `reason` and `message`."""

    ok: bool
    value: Any = None
    reason: str = ""
    message: str = ""
    seconds: float = 0.0


class PoolError(Exception):
    """The workers cannot run at all (their setup fails): the whole run stops."""


# ---- what a sheet may be ----------------------------------------------------------------------
def _escaping_link(path: str) -> tuple[str, str] | None:
    """The first symbolic link along `path` (every component, not only the last) whose target
    leaves the directory holding the link: (link, target), or None when there is none."""
    parts = os.path.normpath(path).split(os.sep)
    prefix = os.sep if os.path.isabs(path) else ""
    for part in parts:
        if not part:
            continue
        here = os.path.join(prefix, part) if prefix else part
        if os.path.islink(here):
            home = os.path.realpath(os.path.dirname(os.path.abspath(here)))
            target = os.path.realpath(here)
            if os.path.commonpath([home, target]) != home:
                return here, target
        prefix = here
    return None


def read_sheet(path: str) -> Any:
    """The submission's Document, or InputError. Every symbolic link along the path is followed
    only when its target stays inside the link's own directory; FIFOs, devices and
    directories are refused."""
    from .errors import InputError
    from .read.document import read_document

    try:
        escape = _escaping_link(path)
        if escape is not None:
            raise InputError(f"{path}: a symbolic link out of the submission's directory "
                             f"({escape[0]} -> {escape[1]}); refused")
        st = os.stat(path)
    except FileNotFoundError:
        raise InputError(f"{path}: no such file (or a broken link)") from None
    except OSError as err:
        raise InputError(f"{path}: cannot read ({err.strerror or err})") from None
    if stat.S_ISDIR(st.st_mode):
        raise InputError(f"{path}: is a directory, not a Markdown file")
    if not stat.S_ISREG(st.st_mode):
        raise InputError(f"{path}: not a regular file")
    return read_document(path)


# ---- in the worker -----------------------------------------------------------------------------
# address_space and limit_memory live in verify/budget.py (check's memory budget uses them too)


def _quiet_worker() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    warnings.simplefilter("ignore")
    sys.stdout = sys.stderr = open(os.devnull, "w", encoding="utf-8")  # noqa: SIM115 - for the life of the worker
    try:
        import resource
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    except (ImportError, ValueError, OSError):
        pass


def _describe(err: BaseException) -> tuple[str, str]:
    reason = getattr(err, "reason", None)
    message = getattr(err, "message", None)
    if isinstance(reason, str) and isinstance(message, str):  # a SymderivError: said on purpose
        return reason, str(err)
    if isinstance(err, RecursionError):
        return "too-deep", "the sheet is nested too deeply to be read"
    return "internal", f"symderiv failed on this sheet ({type(err).__name__}: {str(err)[:300]})"


def _die_with_parent() -> None:
    """Linux: be killed when the parent dies, even mid-sheet (no orphan keeps computing)."""
    if not sys.platform.startswith("linux"):
        return
    try:
        import ctypes
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def _worker(conn: Connection, setup: Setup, setup_args: tuple, memory_mib: int, timeout: float,
            inherited: list[int]) -> None:
    parent = os.getppid()
    _die_with_parent()
    if os.getppid() != parent:
        return
    for fd in inherited:  # forked: the parent's ends of every pipe, so EOF means the parent is gone
        try:
            os.close(fd)
        except OSError:
            pass
    _quiet_worker()
    try:
        work = setup(*setup_args)
    except BaseException as err:  # noqa: BLE001 - reported to the parent as data
        conn.send(("fatal", _describe(err)[1]))
        return
    start = address_space()
    conn.send(("ready", None))
    while True:
        try:
            task = conn.recv()
        except (EOFError, OSError):
            return
        if task is None:
            return
        index, item = task
        limit_memory(memory_mib)
        signal.alarm(int(timeout) + 10)  # a backstop only: the parent kills at `timeout`
        t0 = time.perf_counter()
        reply: tuple[Any, ...]
        out_of_memory = False
        try:
            reply = ("ok", index, work(item), time.perf_counter() - t0)
        except MemoryError:
            out_of_memory = True
            why = f"the sheet needed more than {memory_mib} MiB (the --memory limit)"
            reply = ("error", index, ("memory", why), time.perf_counter() - t0)
        except BaseException as err:  # noqa: BLE001 - every outcome is data
            reply = ("error", index, _describe(err), time.perf_counter() - t0)
        signal.alarm(0)
        now = address_space()
        retire = out_of_memory or bool(start and now and now - start > memory_mib * 1024 * 1024)
        try:
            conn.send(reply + (retire,))
        except (OSError, EOFError):
            return  # the parent is gone
        except Exception:  # noqa: BLE001 - e.g. an unpicklable value
            try:
                conn.send(("error", index, ("internal", "the result could not be sent back"), reply[-1], retire))
            except (OSError, EOFError):
                return
        if retire:
            return  # replaced by a fresh worker


# ---- in the parent -----------------------------------------------------------------------------
@dataclass
class _Slot:
    proc: Any
    conn: Connection
    ready: bool = False
    task: tuple[int, Any] | None = None
    started: float = 0.0
    born: float = 0.0
    retiring: bool = False


def start_method() -> str:
    """`fork` on Linux (workers inherit the parsed problem), else `spawn`."""
    return "fork" if sys.platform.startswith("linux") else "spawn"


class SheetPool:
    def __init__(self, setup: Setup, setup_args: tuple = (), jobs: int = 1,
                 timeout: float = DEFAULT_TIMEOUT, memory_mib: int = DEFAULT_MEMORY,
                 method: str | None = None) -> None:
        self.setup, self.setup_args = setup, setup_args
        self.jobs, self.timeout, self.memory_mib = max(1, jobs), timeout, memory_mib
        self.ctx = mp.get_context(method or start_method())
        self.slots: list[_Slot] = []
        self.failed_starts = 0

    def run(self, items: list[tuple[int, Any]], on_done: Callable[[int, Outcome], None]) -> None:
        queue = deque(items)
        try:
            while queue or any(s.task for s in self.slots):
                while self._live() < min(self.jobs, len(queue) + self._busy()):
                    self._spawn()
                for slot in self.slots:
                    if slot.ready and slot.task is None and queue:
                        self._assign(slot, queue.popleft())
                self._step(on_done, queue)
        finally:
            self.close()

    # ---- one turn of the loop ---------------------------------------------------------------
    def _live(self) -> int:
        return sum(1 for s in self.slots if not s.retiring)

    def _busy(self) -> int:
        return sum(1 for s in self.slots if s.task is not None)

    def _spawn(self) -> None:
        parent, child = self.ctx.Pipe()
        inherited = [parent.fileno()] + [s.conn.fileno() for s in self.slots]
        if self.ctx.get_start_method() != "fork":
            inherited = []
        proc = self.ctx.Process(target=_worker, daemon=True, args=(  # type: ignore[attr-defined]
            child, self.setup, self.setup_args, self.memory_mib, self.timeout, inherited))
        proc.start()
        child.close()
        self.slots.append(_Slot(proc, parent, born=time.monotonic()))

    def _assign(self, slot: _Slot, task: tuple[int, Any]) -> None:
        slot.task, slot.started = task, time.monotonic()
        try:
            slot.conn.send(task)
        except (OSError, ValueError):
            pass  # the worker is gone: its sentinel says so on the next turn

    def _deadline(self, slot: _Slot) -> float:
        if slot.task:
            return slot.started + self.timeout
        return slot.born + _STARTUP if not (slot.ready or slot.retiring) else float("inf")

    def _step(self, on_done: Callable[[int, Outcome], None], queue: deque) -> None:
        now = time.monotonic()
        first = min((self._deadline(s) for s in self.slots), default=now)
        wait_for = None if first == float("inf") else max(0.0, first - now)
        ready = wait([s.conn for s in self.slots] + [s.proc.sentinel for s in self.slots], wait_for)
        for slot in list(self.slots):
            if slot.conn in ready and self._receive(slot, on_done):
                continue
            if slot.proc.sentinel in ready or not slot.proc.is_alive():
                self._lost(slot, on_done, queue)
            elif time.monotonic() >= self._deadline(slot):
                self._kill(slot)
                if slot.task:
                    self._finish(slot, on_done, Outcome(False, reason="timeout", message=(
                        f"grading took longer than {self.timeout:g} s (the --timeout limit)"),
                        seconds=self.timeout))
                else:
                    self._failed_start("a worker did not start in time")

    def _receive(self, slot: _Slot, on_done: Callable[[int, Outcome], None]) -> bool:
        try:
            msg = slot.conn.recv()
        except (EOFError, OSError):
            return False
        kind = msg[0]
        if kind == "ready":
            slot.ready = True
            self.failed_starts = 0
        elif kind == "fatal":
            self._kill(slot)
            raise PoolError(f"the graders could not start: {msg[1]}")
        else:
            if msg[4]:  # the worker exits after this sheet: give it no more
                slot.ready = False
                slot.retiring = True
            if kind == "ok":
                outcome = Outcome(True, value=msg[2], seconds=msg[3])
            else:
                outcome = Outcome(False, reason=msg[2][0], message=msg[2][1], seconds=msg[3])
            self._finish(slot, on_done, outcome)
        return True

    def _finish(self, slot: _Slot, on_done: Callable[[int, Outcome], None], outcome: Outcome) -> None:
        assert slot.task is not None
        index = slot.task[0]
        slot.task = None
        on_done(index, outcome)

    def _lost(self, slot: _Slot, on_done: Callable[[int, Outcome], None], queue: deque) -> None:
        """A worker that exited: its sheet (if any) gets an error; it is replaced on the next turn."""
        while slot.conn.poll(0):  # a reply sent just before exiting still counts
            if not self._receive(slot, on_done):
                break
        slot.proc.join(1)
        code = slot.proc.exitcode
        self._drop(slot)
        if slot.task is not None:
            why = f"signal {-code}" if code is not None and code < 0 else f"exit status {code}"
            self._finish(slot, on_done, Outcome(False, reason="crash", message=(
                f"the grading process died ({why}) on this sheet"),
                seconds=time.monotonic() - slot.started))
        elif not (slot.ready or slot.retiring):
            self._failed_start(f"a worker exited during its start-up (exit status {code})")

    def _failed_start(self, why: str) -> None:
        self.failed_starts += 1
        if self.failed_starts >= _MAX_FAILED_STARTS:
            raise PoolError(why)

    def _kill(self, slot: _Slot) -> None:
        if slot.proc.is_alive():
            slot.proc.kill()
        slot.proc.join(5)
        self._drop(slot)

    def _drop(self, slot: _Slot) -> None:
        slot.conn.close()
        if slot in self.slots:
            self.slots.remove(slot)

    def close(self) -> None:
        for slot in list(self.slots):
            try:
                slot.conn.send(None)
            except (OSError, ValueError):
                pass
        deadline = time.monotonic() + 2.0
        for slot in list(self.slots):
            slot.proc.join(max(0.0, deadline - time.monotonic()))
            self._kill(slot)
