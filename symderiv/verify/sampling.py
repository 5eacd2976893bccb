"""Random instances of a model for spot checks: sizes first, then values of those shapes.

Sizes: two tuples of distinct sizes >= 2 (so transposes and factor order show), one of all
ones and one of small mixed sizes (edges). Values: float64 of order one that respect the
declared domains (`t \\in \\{0,1\\}` draws 0 and 1, `\\mathbb{R}_+` positive), stay where the
model's functions are defined (an input under log or a fractional power is drawn positive; a
square input under an inverse or det is made diagonally dominant, so well-conditioned with a
positive determinant), and make every ReLU/indicator mask mixed (neither all on nor all off)
wherever its size allows. `draw_sizes`/`draw_values` take any integer source, so the public
hypothesis strategies (strategies.py) share this exact logic.
"""
from __future__ import annotations

import random
from collections.abc import Callable

import numpy as np

from ..errors import ModelError
from ..model import ops as o
from ..model.elementwise import named, with_domain
from ..model.graph import Model
from ..model.walk import nodes
from .numeric import Env, Plan
from .satisfy import inverted, no_sizes, satisfy, usable, well_conditioned

IntSource = Callable[[int, int], int]  # (lo, hi) inclusive -> an int
POSITIVE = with_domain("positive")  # an input directly under one of these is drawn positive
UNIT = with_domain("unit")  # ... in (-0.9, 0.9): arcsin, arccos
KINKS = named("kink")  # these functions' arguments are sampled with both signs


def draw_sizes(dims: list[str], kind: str, integers: IntSource) -> dict[str, int]:
    """kind `distinct`: distinct sizes >= 2; `ones`: all 1; `mixed`: small, may repeat."""
    if kind == "ones":
        return {d: 1 for d in dims}
    if kind == "mixed":
        return {d: integers(1, 3) for d in dims}
    pool = list(range(2, 2 + max(len(dims) + 3, 5)))
    out: dict[str, int] = {}
    for d in dims:
        out[d] = pool.pop(integers(0, len(pool) - 1))
    return out


def _special_inputs(model: Model) -> tuple[set[str], set[str], set[str], set[str]]:
    """Inputs that must be positive (under log or a fractional power), nonzero (under a
    negative whole power: both signs still drawn), well-conditioned square inputs (under an
    inverse or det), and those whose det must be positive (under log det). Nothing is made
    more special than the model needs: a domain drawn too narrow hides mistakes (|x| for x)."""
    positive, nonzero, conditioned, logdet = set(), set(), set(), set()
    for node in model.nodes:
        for e in nodes(model.symbols[node].definition):  # type: ignore[arg-type]
            arg = e.args[0] if e.args else None
            if not isinstance(arg, (o.Var, o.Det)):
                continue
            if isinstance(e, o.Apply) and e.fn in POSITIVE or isinstance(e, o.Pow) and e.k.denominator > 1:
                if isinstance(arg, o.Var):
                    positive.add(arg.name)
                elif isinstance(arg.a, o.Var):
                    logdet.add(arg.a.name)
            elif isinstance(e, o.Pow) and e.k < 0 and isinstance(arg, o.Var):
                nonzero.add(arg.name)
            if isinstance(e, (o.Inverse, o.Det)) and isinstance(arg, o.Var):
                conditioned.add(arg.name)
    inputs = set(model.inputs)
    return positive & inputs, nonzero & inputs, conditioned & inputs, logdet & inputs


def _under(model: Model, fns: frozenset[str]) -> set[str]:
    """Inputs directly under one of the functions `fns` in the model's definitions."""
    return {e.a.name for node in model.nodes for e in nodes(model.symbols[node].definition)  # type: ignore[arg-type]
            if isinstance(e, o.Apply) and e.fn in fns and isinstance(e.a, o.Var)}


class Facts:
    """What sampling needs to know of a model, found by one walk of its definitions (not one
    walk per drawn value: a sampler draws hundreds of instances). The model must not change
    afterwards."""

    def __init__(self, model: Model) -> None:
        self.positive, self.nonzero, self.conditioned, self.logdet = _special_inputs(model)
        self.unit = _under(model, UNIT)
        self.kinks = [Plan(e.a) for node in model.nodes for e in nodes(model.symbols[node].definition)  # type: ignore[arg-type]
                      if isinstance(e, o.Apply) and e.fn in KINKS]
        self.forward = [(node, Plan(model.symbols[node].definition)) for node in model.nodes]  # type: ignore[arg-type]
        self.inverted = inverted(model)


def draw_values(model: Model, env: Env, uniform: Callable[[tuple[int, int], float, float], np.ndarray],
                binary: Callable[[tuple[int, int]], np.ndarray], scale: float = 1.0,
                premises: list | None = None, facts: Facts | None = None) -> None:
    """`scale` shrinks the real inputs (small instances put values near every threshold).
    Values then satisfy the model's premises and any `premises` given (satisfy.py)."""
    facts = Facts(model) if facts is None else facts
    positive, nonzero, conditioned, logdet = facts.positive, facts.nonzero, facts.conditioned, facts.logdet
    for name in model.inputs:
        sym = model.symbols[name]
        shape = env.shape(sym.shape)
        if sym.domain == "binary":
            v = binary(shape)
        elif sym.domain == "onehot":  # one 1 per column, at a random place
            u = uniform(shape, 0.0, 1.0)
            v = (u == u.max(axis=0, keepdims=True)).astype(float)
        elif sym.domain == "simplex":
            u = uniform(shape, 0.1, 1.0)
            v = u / u.sum(axis=0, keepdims=True)
        elif sym.domain == "positive" or name in positive:
            v = uniform(shape, 0.5, 2.0)
        elif sym.domain == "unit" or name in facts.unit:
            v = uniform(shape, -0.9 * min(scale, 1.0), 0.9 * min(scale, 1.0))
        elif name in nonzero:  # both signs, away from 0
            u = uniform(shape, -1.2 * scale, 1.2 * scale)
            v = np.where(u >= 0, u + 0.3 * scale, u - 0.3 * scale)
        else:
            v = uniform(shape, -1.5 * scale, 1.5 * scale)
        if name in conditioned and shape[0] == shape[1]:
            v = v + (2.0 * shape[0] + 1.0) * np.eye(shape[0])  # > max row sum of |off-diagonal|
            if name not in logdet and uniform((1, 1), 0.0, 1.0)[0, 0] < 0.5:
                v[0, :] = -v[0, :]  # a negative det too, unless its log is taken
        env.values[name] = v
    satisfy(model, env, list(model.premises) + list(premises or ()), uniform)


def forward(model: Model, env: Env, facts: Facts | None = None) -> bool:
    """Fill the node values; False when a value is not finite."""
    for node, plan in (Facts(model) if facts is None else facts).forward:
        v = plan.run([env])[0]
        if not np.all(np.isfinite(v)):
            return False
        env.values[node] = v
    return True


def masks_mixed(model: Model, env: Env, facts: Facts | None = None) -> bool:
    """Every kinked function's (step, ReLU) argument in the model has both signs where it has two entries or more."""
    for plan in (Facts(model) if facts is None else facts).kinks:
        v = plan.run([env])[0]
        if v.size >= 2 and (np.all(v > 0) or np.all(v <= 0)):
            return False
    return True


class Draws:
    """Seeded random numbers for sampling: the standard library's generator (numpy.random's
    import is ~9 ms of a cold check, and an instance needs a few hundred numbers, not a
    vectorised stream). A seed is an int or a str; the same seed draws the same numbers."""

    def __init__(self, seed: int | str) -> None:
        self._r = random.Random(seed)

    def integer(self, lo: int, hi: int) -> int:
        """An int in [lo, hi], inclusive."""
        return self._r.randint(lo, hi)

    def uniform(self, shape: tuple[int, int], lo: float, hi: float) -> np.ndarray:
        u = self._r.uniform
        return np.array([u(lo, hi) for _ in range(shape[0] * shape[1])], dtype=float).reshape(shape)

    def bits(self, shape: tuple[int, int]) -> np.ndarray:
        b = self._r.getrandbits
        return np.array([b(1) for _ in range(shape[0] * shape[1])], dtype=float).reshape(shape)

    def normal(self, shape: tuple[int, int]) -> np.ndarray:
        g = self._r.gauss
        return np.array([g(0.0, 1.0) for _ in range(shape[0] * shape[1])], dtype=float).reshape(shape)


class Sampler:
    """A seeded, reproducible list of instances (smallest sizes first)."""

    #: (sizes, scale of the real values): the small and tiny instances put values within 0.1
    #: and 0.01 of 0, where a mask written with a wrong threshold (`[u > 0.2]`) shows
    KINDS = (("ones", 1.0), ("mixed", 1.0), ("distinct", 1.0), ("distinct", 1.0),
             ("distinct", 0.1), ("distinct", 0.01))
    PER_SIZE = 2

    #: draws of a size tuple before a kind is given up (premises and singular inverses)
    SIZE_TRIES = 40

    def __init__(self, model: Model, seed: int = 0, premises: tuple = (), first: int | None = None,
                 facts: Facts | None = None) -> None:
        """`premises`: facts to hold beyond the model's own (the `premise` diagnosis's
        candidates, meaning/premises.py). `first`: draw only the first kinds (`more` draws
        the rest, continuing the same random stream: the same instances as drawn at once).
        `facts`: the model's, when known (the premise samplers of one model share them)."""
        self.model = model
        self.rng = Draws(seed)
        self.premises = list(premises)
        self.envs: list[Env] = []
        self.tried: list[dict[str, int]] = []
        self._turn = 0  # generic functions: each concrete choice in turn (one a choice cannot serve is skipped)
        self._binary_turn = 0
        self._facts = Facts(model) if facts is None else facts
        self._done = 0
        self.more(len(self.KINDS) if first is None else first)

    @property
    def complete(self) -> bool:
        return self._done == len(self.KINDS)

    def _integers(self, lo: int, hi: int) -> int:
        return self.rng.integer(lo, hi)

    def _binary(self, shape: tuple[int, int]) -> np.ndarray:
        self._binary_turn += 1
        if shape == (1, 1):
            return np.array([[float(self._binary_turn % 2)]])
        return self.rng.bits(shape)

    def _uniform(self, shape: tuple[int, int], lo: float, hi: float) -> np.ndarray:
        return self.rng.uniform(shape, lo, hi)

    def more(self, count: int | None = None) -> list[Env]:
        """Draw the next `count` kinds (all that are left if None); the instances drawn."""
        every = list(self.model.premises) + self.premises
        end = len(self.KINDS) if count is None else min(len(self.KINDS), self._done + count)
        new: list[Env] = []
        for kind, scale in self.KINDS[self._done:end]:
            sizes = self._sizes(kind, every)
            if sizes is None:
                continue
            for _ in range(self.PER_SIZE):
                finite: Env | None = None
                self._turn += 1
                for _attempt in range(40):
                    env = Env(dict(sizes), choice=self._turn - 1)
                    draw_values(self.model, env, self._uniform, self._binary, scale, self.premises, self._facts)
                    if forward(self.model, env, self._facts) and well_conditioned(self.model, env,
                                                                                  self._facts.inverted):
                        finite = env
                        if masks_mixed(self.model, env, self._facts):
                            break
                if finite is not None:  # an instance whose values overflow is no evidence
                    new.append(finite)
        self._done = end
        self.envs = sorted(self.envs + new, key=lambda e: sum(e.dims.values()))
        if self.complete and not self.envs:
            if not any(usable(self.model, s, every) for s in self.tried):
                raise no_sizes(self.model, every, self.tried)
            raise ModelError("the model's values are not finite on any sampled instance "
                             "(an overflow, or a function used outside its domain)")
        return new

    def _sizes(self, kind: str, premises: list) -> dict[str, int] | None:
        """A size tuple of this kind that every size premise allows and under which no
        inverted matrix is always singular; None when none is found."""
        for _ in range(1 if kind == "ones" else self.SIZE_TRIES):
            sizes = draw_sizes(self.model.dims, kind, self._integers)
            self.tried.append(sizes)
            if usable(self.model, sizes, premises):
                return sizes
        return None
