"""How symbols are written back to people: one place, so every message and printout agrees."""
from __future__ import annotations


def _split_sub(name: str) -> tuple[str, str | None]:
    """`z_y` -> (`z`, `y`); `W_{12}` -> (`W`, `{12}`); the first `_` outside braces."""
    depth = 0
    for i, c in enumerate(name):
        depth += (c == "{") - (c == "}")
        if c == "_" and depth == 0:
            sub = name[i + 1:]
            if len(sub) > 1 and not (sub.startswith("{") and sub.endswith("}")):
                sub = "{" + sub + "}"
            return name[:i], sub
    return name, None


#: the Greek letters (and \\ell) as commands: a name `mu` (from SymPy's `MatrixSymbol("mu")`)
#: prints as `\\mu`; a LaTeX sheet's `mu` is two letters, so no written name is changed
GREEK_LETTERS = (
    "alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta", "iota", "kappa", "lambda",
    "mu", "nu", "xi", "pi", "rho", "sigma", "tau", "upsilon", "phi", "chi", "psi", "omega", "Gamma",
    "Delta", "Theta", "Lambda", "Xi", "Pi", "Sigma", "Upsilon", "Phi", "Psi", "Omega", "ell")
_COMMANDS = frozenset(GREEK_LETTERS) | {"varepsilon", "vartheta", "varphi", "varrho", "varpi", "varsigma"}


def _base(base: str) -> str:
    return f"\\{base}" if base in _COMMANDS else base


def name_latex(name: str) -> str:
    """A symbol's name as LaTeX: `W_12` gets its braces, `W_{12}`; `mu` is `\\mu`."""
    base, sub = _split_sub(name)
    return _base(base) if sub is None else f"{_base(base)}_{sub}"


def bar_latex(name: str) -> str:
    """`\\bar{z}_y` for `z_y`, `\\bar{W}_2` for `W_2`, `\\bar{\\eta}` (also for `eta`), `\\bar{\\mathcal{L}}`."""
    base, sub = _split_sub(name)
    return f"\\bar{{{_base(base)}}}" + ("" if sub is None else f"_{sub}")
