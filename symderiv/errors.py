"""The error types users see. Each carries a span and a reason (SPEC section 2), never a traceback."""
from __future__ import annotations

from .spans import Span


class SymderivError(Exception):
    """Base of every error symderiv raises on purpose; `reason` is the SPEC verdict reason."""

    reason = "invalid"

    def __init__(self, message: str, span: Span | None = None, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.span = span
        self.hint = hint

    def __str__(self) -> str:
        where = f"{self.span}: " if self.span else ""
        tail = f" ({self.hint})" if self.hint else ""
        return f"{where}{self.message}{tail}"


class ParseError(SymderivError):
    """Text that is not well-formed homework LaTeX."""

    reason = "parse"


class ShapeError(SymderivError):
    """Operands whose shapes do not fit the operator."""

    reason = "shape"


class UnknownSymbolError(SymderivError):
    """A name that no declaration or definition introduces."""

    reason = "unknown-symbol"


class UnsupportedError(SymderivError):
    """Well-formed notation that symderiv cannot evaluate."""

    reason = "unsupported"


class WrongAdjointError(SymderivError):
    """A Leibniz product that pairs the adjoint of one node with another node's partial."""

    reason = "wrong-adjoint"


class ModelError(SymderivError):
    """A problem that does not define a usable model (no loss, non-scalar loss, ...)."""

    reason = "model"


def no_model(file: str) -> ModelError:
    """The one message for a first document that builds no model."""
    return ModelError(f"{file} defines no model: it has no definition of a forward node (give the "
                      "problem first, or name it in the sheet's front matter: `problem: problem.md`)")


class InputError(SymderivError):
    """A file that cannot be read as a derivation."""

    reason = "input"
