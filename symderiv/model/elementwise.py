"""THE elementwise functions: one frozen record each, and every table derived from them.

A record says how the function is spelled (for the lexer), printed (LaTeX), evaluated
(numpy), written in SymPy (its body in one variable), differentiated (a named function whose
docstring is the identity), and sampled (its domain; whether it has a kink that the sampled
values must straddle; whether it is a 0/1 mask compared with a threshold). Adding a function
is one record here plus its test (see the README's "Adding a function").

The derivative takes `x` (the argument) and `out` (the expression standing for f(x), the
model's name for it where it has one, so that σ' reads `y ⊙ (1 - y)`).
"""
from __future__ import annotations

from collections.abc import Callable
from fractions import Fraction
from typing import Any

import numpy as np

from ..fastdataclass import dataclass
from . import ops as o
from .ops import Expr, ones_like

Array = np.ndarray


@dataclass(frozen=True)
class Function:
    """One elementwise scalar function (see the module docstring)."""

    name: str  #: the `Apply.fn` and the reader's name for a call `name(x)`
    latex: str  #: the printed command (`\\sigma`); a mask prints as `\\mathbb{I}[x > 0]` instead
    #: (`\\mathbb{1}` has no glyph in amssymb)
    numpy: Callable[[Array], Array]
    sympy: Callable[[Any, Any], Any]  #: (the sympy module, x) -> the body in x
    derivative: Callable[[Expr, Expr], Expr]  #: (x, out = f(x)) -> f'(x)
    commands: tuple[str, ...] = ()  #: `\\tanh`: backslash commands the lexer reads as this function
    words: tuple[str, ...] = ()  #: `\\operatorname{tanh}`, `\\text{tanh}` (matched lower-cased)
    plain: tuple[str, ...] = ()  #: `tanh` as bare letters
    called: bool = True  #: `name(x)` reads as this function (not so for σ', written `\\sigma'`)
    prime: str | bool = False  #: f' as written: a record's name, True (the derivative), False (not read)
    domain: str = "real"  #: "positive"/"unit": an input directly under it is drawn positive / in (-1, 1)
    kink: bool = False  #: not smooth at 0: samples make its argument take both signs
    #: an indicator prints as \mathbb{I}[...]: \mathbb{1} has no glyph under pdflatex with amssymb
    indicator: str | None = None  #: a 0/1 mask [x op 0] (op `>` or `\\geq`): thresholds compared
    #: a generic function's k-th derivative (`\\phi : \\mathbb{R} \\to \\mathbb{R}`): its value is
    #: one of `CHOICES`, drawn per instance, so `numpy` is None
    order: int | None = None


def _sigma(x: Array) -> Array:
    return 0.5 * (1.0 + np.tanh(0.5 * x))


def _sp_sigma(sp: Any, x: Any) -> Any:
    return 1 / (1 + sp.exp(-x))


# ---- derivatives: f'(x) from x and out = f(x) --------------------------------------------

def d_sigma(x: Expr, out: Expr) -> Expr:
    """σ'(x) = σ(x)(1 - σ(x))."""
    return o.hadamard(out, o.sub(ones_like(out), out))


def d_tanh(x: Expr, out: Expr) -> Expr:
    """tanh'(x) = 1 - tanh²(x)."""
    return o.sub(ones_like(out), o.hadamard(out, out))


def d_exp(x: Expr, out: Expr) -> Expr:
    """exp' = exp."""
    return out


def d_log(x: Expr, out: Expr) -> Expr:
    """log'(x) = 1/x."""
    return o.power(x, Fraction(-1))


def d_relu(x: Expr, out: Expr) -> Expr:
    """ReLU'(x) = 1[x > 0]."""
    return o.apply("step", x)


def d_softplus(x: Expr, out: Expr) -> Expr:
    """softplus'(x) = σ(x)."""
    return o.apply("sigma", x)


def d_step(x: Expr, out: Expr) -> Expr:
    """1[x > 0]' = 1[x >= 0]' = 0 almost everywhere."""
    return o.Zero(x.shape)


def d_dsigma(x: Expr, out: Expr) -> Expr:
    """σ''(x) = σ'(x)(1 - 2σ(x))."""
    return o.hadamard(out, o.sub(ones_like(x), o.scale(o.const(2), o.apply("sigma", x))))


def d_dtanh(x: Expr, out: Expr) -> Expr:
    """tanh''(x) = -2 tanh(x) tanh'(x)."""
    return o.scale(o.const(-2), o.hadamard(o.apply("tanh", x), out))


def d_cosh(x: Expr, out: Expr) -> Expr:
    """cosh' = sinh."""
    return o.apply("sinh", x)


def d_sinh(x: Expr, out: Expr) -> Expr:
    """sinh' = cosh."""
    return o.apply("cosh", x)


def d_sech(x: Expr, out: Expr) -> Expr:
    """sech'(x) = -sech(x) tanh(x)."""
    return o.neg(o.hadamard(out, o.apply("tanh", x)))


def d_sin(x: Expr, out: Expr) -> Expr:
    """sin' = cos."""
    return o.apply("cos", x)


def d_cos(x: Expr, out: Expr) -> Expr:
    """cos' = -sin."""
    return o.neg(o.apply("sin", x))


def d_tan(x: Expr, out: Expr) -> Expr:
    """tan'(x) = 1 + tan²(x)."""
    return o.add(ones_like(out), o.hadamard(out, out))


def _one_minus_square(x: Expr) -> Expr:
    return o.sub(ones_like(x), o.hadamard(x, x))


def d_arcsin(x: Expr, out: Expr) -> Expr:
    """arcsin'(x) = 1/√(1 - x²)."""
    return o.power(_one_minus_square(x), Fraction(-1, 2))


def d_arccos(x: Expr, out: Expr) -> Expr:
    """arccos'(x) = -1/√(1 - x²)."""
    return o.neg(d_arcsin(x, out))


def d_arctan(x: Expr, out: Expr) -> Expr:
    """arctan'(x) = 1/(1 + x²)."""
    return o.power(o.add(ones_like(x), o.hadamard(x, x)), Fraction(-1))


def d_abs(x: Expr, out: Expr) -> Expr:
    """|x|' = sign(x) (away from 0)."""
    return o.apply("sign", x)


def d_sign(x: Expr, out: Expr) -> Expr:
    """sign'(x) = 0 (away from 0)."""
    return o.Zero(x.shape)


def d_Phi(x: Expr, out: Expr) -> Expr:
    """Φ'(x) = φ(x), the standard normal density."""
    return o.apply("dPhi", x)


def d_dPhi(x: Expr, out: Expr) -> Expr:
    """φ'(x) = -x φ(x)."""
    return o.neg(o.hadamard(x, out))


def d_erf(x: Expr, out: Expr) -> Expr:
    """erf'(x) = 2 e^{-x²}/√π."""
    return o.apply("derf", x)


def d_derf(x: Expr, out: Expr) -> Expr:
    """erf''(x) = -2x erf'(x)."""
    return o.scale(o.const(-2), o.hadamard(x, out))


def d_gelu(x: Expr, out: Expr) -> Expr:
    """GELU(x) = x Φ(x)  =>  GELU'(x) = Φ(x) + x φ(x)."""
    return o.add(o.apply("Phi", x), o.hadamard(x, o.apply("dPhi", x)))


def d_leakyrelu(x: Expr, out: Expr) -> Expr:
    """LeakyReLU(x) = max(x, x/100)  =>  LeakyReLU'(x) = 1/100 + 99/100 · 1[x > 0]."""
    return o.add(o.scale(o.Const(Fraction(1, 100)), ones_like(x)),
                 o.scale(o.Const(Fraction(99, 100)), o.apply("step", x)))


def _erf(x: Array) -> Array:
    from math import erf
    return np.vectorize(erf, otypes=[float])(x)


def _Phi(x: Array) -> Array:
    return 0.5 * (1.0 + _erf(x / np.sqrt(2.0)))


# ---- the records ---------------------------------------------------------------------------

RECORDS: tuple[Function, ...] = (
    Function("sigma", "\\sigma", _sigma, _sp_sigma, d_sigma,
             commands=("sigmoid",), words=("sigmoid", "sigma"), plain=("sigmoid",), prime="dsigma"),
    Function("tanh", "\\tanh", np.tanh, lambda sp, x: sp.tanh(x), d_tanh,
             commands=("tanh",), words=("tanh",), plain=("tanh",), prime="dtanh"),
    Function("exp", "\\exp", np.exp, lambda sp, x: sp.exp(x), d_exp,
             commands=("exp",), words=("exp",), plain=("exp",), prime=True),
    Function("log", "\\log", np.log, lambda sp, x: sp.log(x), d_log,
             commands=("log", "ln"), words=("log", "ln"), plain=("log",), prime=True, domain="positive"),
    Function("relu", "\\mathrm{ReLU}", lambda x: np.maximum(x, 0.0), lambda sp, x: sp.Max(x, 0), d_relu,
             commands=("relu", "ReLU"), words=("relu",), plain=("ReLU", "relu", "Relu", "RELU"),
             prime=True, kink=True),
    Function("softplus", "\\operatorname{softplus}", lambda x: np.logaddexp(0.0, x),
             lambda sp, x: sp.log(1 + sp.exp(x)), d_softplus,
             words=("softplus",), plain=("softplus",), prime=True),
    Function("step", "\\mathbb{I}", lambda x: (x > 0).astype(float), lambda sp, x: sp.Heaviside(x, 0),
             d_step, called=False, kink=True, indicator=">"),
    Function("stepge", "\\mathbb{I}", lambda x: (x >= 0).astype(float), lambda sp, x: sp.Heaviside(x, 1),
             d_step, called=False, kink=True, indicator="\\geq"),
    Function("dsigma", "\\sigma'", lambda x: _sigma(x) * (1.0 - _sigma(x)),
             lambda sp, x: _sp_sigma(sp, x) * (1 - _sp_sigma(sp, x)), d_dsigma, called=False),
    Function("dtanh", "\\tanh'", lambda x: 1.0 - np.tanh(x) ** 2, lambda sp, x: 1 - sp.tanh(x) ** 2,
             d_dtanh, called=False),
    Function("cosh", "\\cosh", np.cosh, lambda sp, x: sp.cosh(x), d_cosh, commands=("cosh",)),
    Function("sinh", "\\sinh", np.sinh, lambda sp, x: sp.sinh(x), d_sinh, commands=("sinh",)),
    Function("sech", "\\operatorname{sech}", lambda x: 1.0 / np.cosh(x), lambda sp, x: sp.sech(x), d_sech),
    Function("sin", "\\sin", np.sin, lambda sp, x: sp.sin(x), d_sin, commands=("sin",), prime=True),
    Function("cos", "\\cos", np.cos, lambda sp, x: sp.cos(x), d_cos, commands=("cos",), prime=True),
    Function("tan", "\\tan", np.tan, lambda sp, x: sp.tan(x), d_tan, commands=("tan",), words=("tan",),
             prime=True),
    Function("arcsin", "\\arcsin", np.arcsin, lambda sp, x: sp.asin(x), d_arcsin, commands=("arcsin",),
             words=("arcsin", "asin"), prime=True, domain="unit"),
    Function("arccos", "\\arccos", np.arccos, lambda sp, x: sp.acos(x), d_arccos, commands=("arccos",),
             words=("arccos", "acos"), prime=True, domain="unit"),
    Function("arctan", "\\arctan", np.arctan, lambda sp, x: sp.atan(x), d_arctan, commands=("arctan",),
             words=("arctan", "atan"), prime=True),
    Function("abs", "\\operatorname{abs}", np.abs, lambda sp, x: sp.Abs(x), d_abs, words=("abs",),
             prime=True, kink=True),
    Function("sign", "\\operatorname{sign}", np.sign, lambda sp, x: sp.sign(x), d_sign,
             words=("sign", "sgn"), commands=("sgn",), prime=True, kink=True),
    Function("erf", "\\operatorname{erf}", _erf, lambda sp, x: sp.erf(x), d_erf, words=("erf",), prime="derf"),
    Function("Phi", "\\Phi", _Phi, lambda sp, x: (1 + sp.erf(x / sp.sqrt(2))) / 2, d_Phi, commands=("Phi",), prime="dPhi"),
    Function("gelu", "\\operatorname{GELU}", lambda x: x * _Phi(x),
             lambda sp, x: x * (1 + sp.erf(x / sp.sqrt(2))) / 2, d_gelu, words=("gelu",), prime=True),
    Function("leakyrelu", "\\operatorname{LeakyReLU}", lambda x: np.where(x > 0, x, 0.01 * x),
             lambda sp, x: x / 100 + sp.Rational(99, 100) * sp.Max(x, 0), d_leakyrelu, words=("leakyrelu",), prime=True, kink=True),
    Function("dPhi", "\\Phi'", lambda x: np.exp(-x * x / 2) / np.sqrt(2 * np.pi),
             lambda sp, x: sp.exp(-x ** 2 / 2) / sp.sqrt(2 * sp.pi), d_dPhi, called=False),
    Function("derf", "\\operatorname{erf}'", lambda x: 2 * np.exp(-x * x) / np.sqrt(np.pi),
             lambda sp, x: 2 * sp.exp(-x ** 2) / sp.sqrt(sp.pi), d_derf, called=False),
)

BY_NAME: dict[str, Function] = {f.name: f for f in RECORDS}
FUNCTIONS: tuple[str, ...] = tuple(BY_NAME)
assert len(BY_NAME) == len(RECORDS), "two records with one name"


# ---- generic functions (`\phi : \mathbb{R} \to \mathbb{R}`) ---------------------------------
#
# A problem may declare a function it does not fix; a claim about it must hold for every smooth
# choice. Its records are made on demand from its name (`generic("phi", 1)` is φ', printed
# `\phi'`): symbolically φ stays opaque (a SymPy undefined function), numerically every
# instance realises it as one of CHOICES, cycling, so each claim meets several unrelated
# functions (none is tanh or σ, whose special identities a generic answer must not use).

GENERIC = "~"  #: the prefix of a generic function's record name: `~phi`, `~phi'`, `~phi''`
MAX_ORDER = 3  #: derivatives of a generic function known to every choice


def _sp(x: Array) -> Array:  # softplus and its derivatives
    return np.logaddexp(0.0, x)


#: per choice, the function and its first MAX_ORDER derivatives, in closed form
CHOICES: tuple[tuple[Callable[[Array], Array], ...], ...] = (
    (lambda x: np.sin(x) + 0.5 * x, lambda x: np.cos(x) + 0.5, lambda x: -np.sin(x), lambda x: -np.cos(x)),
    (_sp, _sigma, lambda x: _sigma(x) * (1 - _sigma(x)),
     lambda x: _sigma(x) * (1 - _sigma(x)) * (1 - 2 * _sigma(x))),
    (lambda x: 0.5 + x - 0.2 * x ** 2 + 0.3 * x ** 3, lambda x: 1 - 0.4 * x + 0.9 * x ** 2,
     lambda x: -0.4 + 1.8 * x, lambda x: 1.8 + 0 * x),
    (lambda x: 1.5 * np.tanh(0.8 * x), lambda x: 1.2 * (1 - np.tanh(0.8 * x) ** 2),
     lambda x: -1.92 * np.tanh(0.8 * x) * (1 - np.tanh(0.8 * x) ** 2),
     lambda x: -1.536 * (1 - np.tanh(0.8 * x) ** 2) * (1 - 3 * np.tanh(0.8 * x) ** 2)),
)


def generic_name(name: str, order: int = 0) -> str:
    """The record name of the `order`-th derivative of the generic function `name` (`phi`)."""
    return GENERIC + name + "'" * order


def generic_of(fn: str) -> tuple[str, int] | None:
    """(name, order) of a generic function's record name; None for a fixed function."""
    if not fn.startswith(GENERIC):
        return None
    base = fn[len(GENERIC):].rstrip("'")
    return base, len(fn) - len(GENERIC) - len(base)


def _generic_latex(name: str) -> str:
    return name if len(name) == 1 else "\\" + name


_GENERIC_RECORDS: dict[str, Function] = {}


def record(fn: str) -> Function:
    """The record of `fn`: a fixed function's, or a generic function's (made once); KeyError else."""
    f = BY_NAME.get(fn) or _GENERIC_RECORDS.get(fn)
    if f is not None:
        return f
    parsed = generic_of(fn)
    if parsed is None or not parsed[0]:
        raise KeyError(fn)
    name, k = parsed
    nxt = generic_name(name, k + 1)

    def derivative(x: Expr, out: Expr) -> Expr:
        if k + 1 > MAX_ORDER:
            from ..errors import UnsupportedError
            raise UnsupportedError(f"derivatives of {name} beyond order {MAX_ORDER} are not supported")
        return o.apply(nxt, x)

    def body(sp: Any, x: Any) -> Any:
        g = sp.Function(name)(x)
        return sp.diff(g, x, k) if k else g

    f = Function(fn, _generic_latex(name) + "'" * k, None, body, derivative,  # type: ignore[arg-type]
                 called=False, order=k)
    _GENERIC_RECORDS[fn] = f
    return f


def realise(fn: str, choice: int) -> Callable[[Array], Array]:
    """numpy for `fn`; a generic function is its `choice`-th concrete realisation."""
    f = record(fn)
    if f.order is None:
        return f.numpy
    return CHOICES[choice % len(CHOICES)][f.order]


def spellings(kind: str) -> dict[str, str]:
    """The lexer's table for `kind` (commands, words, plain): spelling -> function name."""
    return {s: f.name for f in RECORDS for s in getattr(f, kind)}


def named(flag: str) -> frozenset[str]:
    """The names of the records with `flag` set (kink, indicator, ...)."""
    return frozenset(f.name for f in RECORDS if getattr(f, flag))


def with_domain(domain: str) -> frozenset[str]:
    return frozenset(f.name for f in RECORDS if f.domain == domain)


def as_written(name: str, primes: int) -> Callable[[Expr], Expr] | None:
    """How `name` with `primes` primes, as written in a call, is built from its argument."""
    f = BY_NAME.get(name)
    if f is None or not f.called or primes > 1:
        return None
    if primes == 0:
        return lambda a: o.apply(name, a)
    if isinstance(f.prime, str):
        p = f.prime
        return lambda a: o.apply(p, a)
    if f.prime:
        return lambda a: f.derivative(a, o.apply(name, a))
    return None
