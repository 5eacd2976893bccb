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
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np

from . import ops as o
from .ops import Expr, ones_like

Array = np.ndarray


@dataclass(frozen=True)
class Function:
    """One elementwise scalar function (see the module docstring)."""

    name: str  #: the `Apply.fn` and the reader's name for a call `name(x)`
    latex: str  #: the printed command (`\\sigma`); a mask prints as `\\mathbb{1}[x > 0]` instead
    numpy: Callable[[Array], Array]
    sympy: Callable[[Any, Any], Any]  #: (the sympy module, x) -> the body in x
    derivative: Callable[[Expr, Expr], Expr]  #: (x, out = f(x)) -> f'(x)
    commands: tuple[str, ...] = ()  #: `\\tanh`: backslash commands the lexer reads as this function
    words: tuple[str, ...] = ()  #: `\\operatorname{tanh}`, `\\text{tanh}` (matched lower-cased)
    plain: tuple[str, ...] = ()  #: `tanh` as bare letters
    called: bool = True  #: `name(x)` reads as this function (not so for σ', written `\\sigma'`)
    prime: str | bool = False  #: f' as written: a record's name, True (the derivative), False (not read)
    domain: str = "real"  #: "positive": an input directly under it is drawn positive
    kink: bool = False  #: not smooth at 0: samples make its argument take both signs
    indicator: str | None = None  #: a 0/1 mask [x op 0] (op `>` or `\\geq`): thresholds compared


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
    Function("step", "\\mathbb{1}", lambda x: (x > 0).astype(float), lambda sp, x: sp.Heaviside(x, 0),
             d_step, called=False, kink=True, indicator=">"),
    Function("stepge", "\\mathbb{1}", lambda x: (x >= 0).astype(float), lambda sp, x: sp.Heaviside(x, 1),
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
)

BY_NAME: dict[str, Function] = {f.name: f for f in RECORDS}
FUNCTIONS: tuple[str, ...] = tuple(BY_NAME)
assert len(BY_NAME) == len(RECORDS), "two records with one name"


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
