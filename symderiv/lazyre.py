"""A regular expression compiled when first used (cold start matters).

Every `re.compile` at import costs its compile (0.1-0.6 ms for the reader's larger patterns)
in every process, also where the pattern is never used: a sheet without errors never needs
the family or signature fallbacks. `lazy(pattern)` is used exactly like the compiled
pattern's methods and attributes (`.match`, `.sub`, `.pattern`, ...); it is not a
`re.Pattern`, so pass it to no `re.*` function.
"""
from __future__ import annotations

import re
from typing import Any

__all__ = ["LazyPattern", "lazy"]


class LazyPattern:
    """`re.compile(pattern, flags)`, compiled at the first attribute asked for."""

    __slots__ = ("_compiled", "_flags", "_pattern")

    def __init__(self, pattern: str, flags: int = 0) -> None:
        self._pattern, self._flags, self._compiled = pattern, flags, None

    def compiled(self) -> re.Pattern:
        if self._compiled is None:
            self._compiled = re.compile(self._pattern, self._flags)
        return self._compiled

    def __getattr__(self, name: str) -> Any:
        return getattr(self.compiled(), name)

    def __repr__(self) -> str:
        return f"lazy({self._pattern!r}{', ' + str(re.RegexFlag(self._flags)) if self._flags else ''})"


def lazy(pattern: str, flags: int = 0) -> LazyPattern:
    return LazyPattern(pattern, flags)
