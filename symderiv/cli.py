"""symderiv check | latex | grade | autograder. Heavy imports happen inside the commands (cold start matters).

Exit codes: 0 all claims correct, 1 some claim not correct, 2 usage error, unreadable file,
or a problem that does not define a model.
"""
from __future__ import annotations

import argparse
import gc
import os
import sys
from collections.abc import Sequence

from .atomic import OutputError


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="symderiv", description="Check hand-written backpropagation derivations.")
    sub = p.add_subparsers(dest="command", required=True)
    c = sub.add_parser("check", help="give every claim of the answer sheets a verdict")
    c.add_argument("files", nargs="+", metavar="FILE")
    c.add_argument("--format", choices=("text", "json", "gradescope", "html"), default="text")
    c.add_argument("-o", "--output", metavar="OUT")
    c.add_argument("--seed", type=_seed, default=0, help="seed of the random spot checks (default 0)")
    c.add_argument("--all", action="store_true", help="also list the problem's declarations and definitions")
    c.add_argument("--show-answer", action="store_true", help="show the derived adjoint beside wrong steps")
    c.add_argument("--budget", type=_limit(float), metavar="SECONDS",
                   help="CPU seconds per document (default 20, or $SYMDERIV_BUDGET_SECONDS; 0: no limit)")
    c.add_argument("--memory", type=_limit(int), metavar="MIB",
                   help="MiB of memory per document (default 1024, or $SYMDERIV_BUDGET_MIB; 0: no limit)")
    la = sub.add_parser("latex", help="write the derived adjoints of a problem as LaTeX")
    la.add_argument("files", nargs="+", metavar="FILE")
    la.add_argument("--expanded", action="store_true", help="in inputs and parameters only")
    la.add_argument("--standalone", action="store_true", help="a complete LaTeX document")
    la.add_argument("-o", "--output", metavar="OUT")
    g = sub.add_parser("grade", help="grade many submissions against one problem, in parallel")
    g.add_argument("problem", metavar="PROBLEM")
    g.add_argument("submissions", nargs="+", metavar="SUBMISSION")
    g.add_argument("--out", required=True, metavar="RESULTS")
    g.add_argument("--jobs", type=_jobs, default=0, help="worker processes (default: the machine's cores)")
    g.add_argument("--format", choices=("json", "gradescope"), default="json")
    g.add_argument("--csv", metavar="CSV", help="also write a CSV summary")
    g.add_argument("--resume", action="store_true", help="skip submissions already in RESULTS")
    g.add_argument("--timeout", type=_timeout, default=60.0, help="seconds per sheet (default 60, at most 86400)")
    g.add_argument("--memory", type=_memory, default=1024, help="MiB per sheet (default 1024)")
    g.add_argument("--seed", type=_seed, default=0)
    a = sub.add_parser("autograder", help="make an autograder bundle for a course platform")
    asub = a.add_subparsers(dest="platform", required=True)
    ag = asub.add_parser("gradescope", help="a Gradescope autograder zip (setup.sh, run_autograder)")
    ag.add_argument("problem", metavar="PROBLEM")
    ag.add_argument("-o", "--output", required=True, metavar="ZIP")
    return p


def _write(text: str, out: str | None, inputs: Sequence[str] = ()) -> None:
    """To stdout, or atomically to `out` (symderiv.atomic: never over an input, a FIFO or a device)."""
    if not out:
        sys.stdout.write(text)
        return
    from .atomic import write_atomic

    write_atomic(out, text, inputs)


def _seed(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be a whole number >= 0, not {text}")
    return value


def _limit(kind: type):  # type: ignore[no-untyped-def]
    """An argparse type: a finite number >= 0 of `kind` (0 means no limit)."""
    def parse(text: str) -> float | int:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be a number >= 0, not {text}") from None
        if not (0 <= value < 1e9):  # also refuses inf and nan
            raise argparse.ArgumentTypeError(f"must be a number from 0 to 1e9, not {text}")
        return value
    return parse


MAX_TIMEOUT = 24 * 3600.0  # seconds per sheet
MAX_MEMORY = 1 << 20       # MiB per sheet (1 TiB)
MAX_JOBS = 1024


def _timeout(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number of seconds, not {text!r}") from None
    if not 0 < value <= MAX_TIMEOUT:  # also refuses nan and inf
        raise argparse.ArgumentTypeError(f"must be more than 0 and at most {MAX_TIMEOUT:g} seconds, not {text}")
    return value


def _whole(low: int, high: int, unit: str):
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be a whole number{unit}, not {text!r}") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"must be between {low} and {high}{unit}, not {text}")
        return value
    return parse


_memory = _whole(1, MAX_MEMORY, " of MiB")
_jobs = _whole(0, MAX_JOBS, " (0: all cores)")


def _fail(msg: str) -> int:
    from .report.escape import terminal_safe
    print(f"symderiv: {terminal_safe(msg)}", file=sys.stderr)
    return 2


def _check(args: argparse.Namespace) -> int:
    from .errors import SymderivError
    from .load import load_documents
    from .scoring import check_scored
    from .verify.budget import DEFAULT_MIB, Budget

    budget = Budget.from_env(args.budget, args.memory, default_mib=DEFAULT_MIB)
    try:  # a Gradescope report is a grading context: the problem given first is the TA's
        docs = load_documents(args.files, problem_given=args.format == "gradescope" and len(args.files) > 1)
        report = check_scored(docs, seed=args.seed, budget=budget)
    except SymderivError as err:
        return _fail(str(err))
    inputs = list(args.files) + [d.file for d in docs]
    if args.format == "json":
        from .report.json import render
        _write(render(report, args.all, args.show_answer), args.output, inputs)
    elif args.format == "gradescope":
        from .report.gradescope import render as gs
        _write(gs(report, report.score), args.output, inputs)
    elif args.format == "html":
        from .report.html import render as html
        _write(html(report, args.all, args.show_answer), args.output, inputs)
    elif args.output:
        from .report.text import render_plain
        _write(render_plain(report, args.all, args.show_answer), args.output, inputs)
    else:
        from .report.text import print_rich
        print_rich(report, args.all, args.show_answer)
    return 0 if report.ok else 1


def _latex(args: argparse.Namespace) -> int:
    from .errors import SymderivError
    from .load import load_model

    try:
        from .load import family_latex_of
        text = family_latex_of(args.files, args.expanded, args.standalone)  # steps or layers
        if text is None:
            model = load_model(args.files)
            from .derive.adjoints import derive
            from .report.latex import derivation_latex
            text = derivation_latex(derive(model), expanded=args.expanded, standalone=args.standalone)
    except SymderivError as err:
        return _fail(str(err))
    _write(text if text.endswith("\n") else text + "\n", args.output, args.files)
    return 0


def _grade(args: argparse.Namespace) -> int:
    from .grade import grade_command
    return grade_command(args)


def _autograder(args: argparse.Namespace) -> int:
    from .autograder.gradescope import bundle_command
    return bundle_command(args.problem, args.output)


BLAS_THREADS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


def _one_blas_thread() -> None:
    """One BLAS thread unless the user set one: symderiv's matrices are tiny, and OpenBLAS's thread
    start-up and spin-waiting after each call cost more CPU than they save (~100 ms of a cold
    `check`). Must run before numpy is first imported; `grade` parallelises across processes."""
    for var in BLAS_THREADS:
        os.environ.setdefault(var, "1")


#: objects allocated (net) between two young-generation collections while a command runs, for the
#: default 700: a cold `check` made ~60 collections, nearly all of long-lived start-up objects.
#: Cycles still become garbage at most this many objects apart (a few MB), so memory stays bounded.
YOUNG_COLLECTION = 50_000


def main(argv: Sequence[str] | None = None) -> int:
    _one_blas_thread()
    return _dispatch(_parser().parse_args(argv))


#: commands that start no process: they end without tearing down the interpreter (`run`)
QUICK_EXIT = frozenset({"check", "latex"})


def run() -> None:
    """The `symderiv` command: `main`, then, for a command in QUICK_EXIT, `os._exit` once the
    output is flushed. Freeing every object one by one at exit is ~20 ms of a cold `check` and
    buys nothing; `grade` and `autograder` exit normally (their process pools' exit handlers run)."""
    _one_blas_thread()
    args = _parser().parse_args()
    code = _dispatch(args)
    if args.command in QUICK_EXIT:
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except (BrokenPipeError, OSError, ValueError):  # a reader that went away: nothing to say
                pass
        os._exit(code)
    sys.exit(code)


def _dispatch(args: argparse.Namespace) -> int:
    threshold = gc.get_threshold()
    gc.set_threshold(YOUNG_COLLECTION, *threshold[1:])
    try:
        return {"check": _check, "latex": _latex, "grade": _grade, "autograder": _autograder}[args.command](args)
    except OutputError as err:
        return _fail(str(err))
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0
    finally:
        gc.set_threshold(*threshold)


if __name__ == "__main__":
    run()
