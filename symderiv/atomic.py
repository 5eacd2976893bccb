"""The one way symderiv writes a file: atomically, and only where a file belongs.

`write_atomic` is used by `check -o`, `latex -o`, `grade` (results, CSV, per-submission
Gradescope files) and the autograder. The text goes to a fresh temporary file created with
`O_EXCL` in the destination's directory (`mkstemp`: an unpredictable name, so a planted
link is never followed), is flushed and fsynced, then moved over the destination with
`os.replace`. A reader sees the old file or the new one, never half of one, and a crash
leaves at worst a `.NAME.XXXXXXXX.tmp` that `sweep_temporaries` removes.

Only a regular file or a new path is written: a FIFO, a device (`/dev/full`, as root
`os.replace` would swap the device node for a file), a directory or a socket is refused, as
is a destination that is one of the inputs.
"""
from __future__ import annotations

import os
import stat
import tempfile
from collections.abc import Iterable


class OutputError(Exception):
    """The output cannot be written where it was asked to go (a usage error, exit 2)."""


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


_MODE = 0o666 & ~_umask()


def check_destination(path: str, inputs: Iterable[str] = ()) -> None:
    """Raise OutputError unless `path` is a new path or a regular file that is not an input."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return
    except OSError as err:
        raise OutputError(f"{path}: cannot write ({err.strerror or err})") from None
    if stat.S_ISDIR(st.st_mode):
        raise OutputError(f"{path}: is a directory, not a file")
    if not stat.S_ISREG(st.st_mode):
        raise OutputError(f"{path}: not a regular file (a FIFO, a device or a socket); "
                          "write to a regular file or a new path")
    for f in inputs:
        try:
            if os.path.samefile(path, f):
                raise OutputError(f"{path}: is one of the input files; choose another output")
        except OSError:
            continue


def write_atomic(path: str, text: str | bytes, inputs: Iterable[str] = ()) -> None:
    """Write `text` (str as UTF-8, or bytes) to `path` atomically; OutputError when it cannot
    or may not be."""
    check_destination(path, inputs)
    folder = os.path.dirname(os.path.abspath(path))
    try:
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{os.path.basename(path)}.", suffix=".tmp")
    except OSError as err:
        raise OutputError(f"{path}: cannot write ({err.strerror or err})") from None
    try:
        os.chmod(tmp, _MODE)  # mkstemp makes 0600; reports are ordinary files
        with os.fdopen(fd, "wb") as f:
            f.write(text.encode("utf-8", "backslashreplace") if isinstance(text, str) else text)
            f.flush()
            os.fsync(f.fileno())
        check_destination(path, inputs)  # it may have become a FIFO meanwhile
        os.replace(tmp, path)
    except BaseException as err:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        if isinstance(err, OSError):
            raise OutputError(f"{path}: cannot write ({err.strerror or err})") from None
        raise


def sweep_temporaries(paths: Iterable[str]) -> None:
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
