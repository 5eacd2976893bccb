"""Is a written expression equal to the truth? Symbolic fast path, then numeric spot checks.

The truth is known on a list of sampled instances (`Instances`): the forward values, the
true adjoints, and, when the student has given wrong adjoints earlier, the adjoints of the
"student's world" in which those wrong values are carried forward.
"""
from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from ..derive.adjoints import Adjoints
from ..errors import ModelError
from ..model import ops as o
from ..model.ops import Expr
from ..model.walk import KeyMemo, nodes
from .numeric import Env, Plan, Shared, close
from .sampling import Draws, Facts, Sampler

Values = list[np.ndarray]
#: the premise instances' kinds drawn before the rest (Sampler.KINDS: the ones and mixed sizes)
QUICK_KINDS = 2


@dataclass
class Instances:
    """Sampled instances with true adjoints filled in; the world cache keyed by overrides."""

    adjoints: Adjoints
    seed: int = 0
    envs: list[Env] = field(default_factory=list)

    _under: dict[tuple, list] = field(default_factory=dict)  # premises: [their sampler, its instances]
    _world: dict[tuple, tuple[list[dict[str, np.ndarray]], list[Env]]] = field(default_factory=dict)
    _shared: Shared = field(default_factory=Shared)

    def __repr__(self) -> str:
        return f"Instances({len(self.envs)} instances, seed {self.seed}, of {self.adjoints.model!r})"

    def __post_init__(self) -> None:
        # found once per problem, shared by every sheet's copy (`fresh`) and premise sampler:
        # what sampling needs to know of the model, each adjoint's plan and the adjoints it reads
        model, local = self.adjoints.model, self.adjoints.local
        self._facts = Facts(model)
        self._plans = [(n, Plan(local[n])) for n in model.backward_order()]
        self._reads = {n: {x.name for x in nodes(local[n]) if isinstance(x, o.Bar)} for n in model.backward_order()}
        self.envs = Sampler(model, self.seed, facts=self._facts).envs
        self._fill_bars(self.envs)
        self._probes(self.envs, self.seed)

    @property
    def base(self) -> Instances:
        """The instances this one was made `fresh` from (itself if none)."""
        return self.__dict__.get("_base", self)

    def fresh(self) -> Instances:
        """The same instances (and premise instances, sampled once) for another sheet: the
        student's-world cache and the shared values are a sheet's own (keyed by that sheet's
        judge, and by its expressions)."""
        other = copy.copy(self.base)
        other._world = {}
        other._shared = Shared()
        other.__dict__["_base"] = self.base
        return other

    def _probes(self, envs: list[Env], seed: int, start: int = 0) -> None:
        """A random vector for every size (`\\probe:n`): a matrix claim (a Jacobian, a
        Hessian) is compared by what it does to it, new on every instance."""
        model = self.adjoints.model
        dims = {d for s in model.symbols.values() for d in s.shape if isinstance(o.find(d), (int, str))}
        for i, env in enumerate(envs, start):
            rng = Draws(f"probe {seed} {i}")
            for d in sorted(dims, key=str):
                env.values[f"\\probe:{o.dim_str(o.find(d))}"] = rng.normal((env.size(d), 1))

    def _fill_bars(self, envs: list[Env]) -> None:
        model = self.adjoints.model
        for n, plan in self._plans:
            for env, v in zip(envs, plan.run(envs)):
                env.bars[n] = v
        for env in envs:
            env.bars[model.loss] = np.ones((1, 1))

    def under(self, premises: tuple, quick: bool = False) -> list[Env]:
        """Instances where `premises` hold too (to tell a step right only under a premise the
        problem does not state); empty when the sampler cannot satisfy them. `quick`: only
        the first of them (the smallest sizes), which the full list extends."""
        key = tuple(p.latex for p in premises)
        entry = self._under.get(key)
        if entry is None:
            try:
                sampler: Sampler | None = Sampler(self.adjoints.model, self.seed + 1, premises=premises,
                                                  first=QUICK_KINDS, facts=self._facts)
            except ModelError:
                sampler = None
            envs = sampler.envs if sampler is not None else []
            self._fill_bars(envs)
            self._probes(envs, self.seed + 1)
            entry = self._under[key] = [sampler, envs]
        sampler, envs = entry
        if not quick and sampler is not None and not sampler.complete:
            try:
                new = sampler.more()
            except ModelError:
                new, sampler.envs = [], []
            self._fill_bars(new)
            self._probes(new, self.seed + 1, start=len(envs))
            entry[1] = sampler.envs
        return entry[1]

    def agrees_under(self, premises: tuple, e: Expr, truth_at: Callable[[list[Env]], Values]) -> bool:
        """`e` equals the truth where `premises` hold: looked at first on the smallest of those
        instances, where most candidates already differ (drawing the rest costs more)."""
        quick = self.under(premises, quick=True)
        if quick and first_disagreement(self.values(e, quick), truth_at(quick)) is not None:
            return False
        envs = self.under(premises)
        return bool(envs) and agree(self.values(e, envs), truth_at(envs))

    def values(self, e: Expr, envs: list[Env] | None = None) -> Values:
        return self._shared.values(e, self.envs if envs is None else envs)

    def bars(self, name: str) -> Values:
        return [env.bars[name] for env in self.envs]

    def world(self, overrides: dict[str, Expr], key: tuple) -> tuple[list[dict[str, np.ndarray]], list[Env]]:
        """Per instance: each adjoint recomputed from the student's earlier (wrong) values.

        The entry for a name is its local form on the downstream adjoints as the student had
        them, not the student's own value for that name. Also the instances with those
        adjoints as bars, to read a step the way the student would."""
        if key not in self._world:
            model, local = self.adjoints.model, self.adjoints.local
            order, done, busy = model.backward_order(), [0], [False]
            changed = set(overrides)
            for n in order:  # a name comes after every adjoint its local form reads
                if self._reads[n] & changed:
                    changed.add(n)

            def grow(name: str) -> None:
                """Compute the next names in backward order, on every instance at once, until
                `name` is known (a target near the loss does not pay for the whole network)."""
                if busy[0]:
                    return  # a name missing while its own consumers are computed: a KeyError
                busy[0] = True
                try:
                    while done[0] < len(order) and not dict.__contains__(worlds[0], name):
                        n = order[done[0]]
                        if n == model.loss:
                            own = [np.ones((1, 1)) for _ in envs]
                        elif n in changed:
                            own = self.values(local[n], envs)
                        else:  # no adjoint it reads is the student's: its own is the truth
                            own = self.bars(n)
                        mine = self.values(overrides[n]) if n in overrides else own
                        for i, (a, b) in enumerate(zip(own, mine)):
                            dict.__setitem__(out[i], n, a)
                            dict.__setitem__(worlds[i], n, b)
                        done[0] += 1
                finally:
                    busy[0] = False
            worlds = [_Lazy(grow) for _ in self.envs]
            out = [_Lazy(grow) for _ in self.envs]
            envs = [Env(env.dims, env.values, world, env.choice) for env, world in zip(self.envs, worlds)]
            self._world[key] = (out, envs)  # type: ignore[assignment]
        return self._world[key]


class _Lazy(dict):
    """One instance's entries of a student's world, filled in (`grow`) as lookups need them."""

    def __init__(self, grow) -> None:  # type: ignore[no-untyped-def]
        super().__init__()
        self._grow = grow

    def __missing__(self, name: str) -> np.ndarray:
        self._grow(name)
        if dict.__contains__(self, name):
            return dict.__getitem__(self, name)
        raise KeyError(name)


def _finite(b: np.ndarray) -> bool:
    return bool(np.isfinite(b).all())


def agree(a: Values, b: Values) -> bool:
    """Equal on every instance where the truth `b` is defined (finite), and there is one."""
    pairs = [(x, y) for x, y in zip(a, b) if _finite(y)]
    return bool(pairs) and all(close(x, y) for x, y in pairs)


def first_disagreement(a: Values, b: Values) -> int | None:
    for i, (x, y) in enumerate(zip(a, b)):
        if _finite(y) and not close(x, y):
            return i
    return None


def structurally_equal(a: Expr, b: Expr) -> bool:
    key = KeyMemo()
    return key(a) == key(b)
