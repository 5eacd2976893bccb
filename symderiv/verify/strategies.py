"""Public hypothesis strategies for a model's sizes and values, for users' own tests.

In the manner of `hypothesis.extra.numpy`: keyword-only options validated when the
strategy is built (`InvalidArgument`), dependent draws through `@st.composite` (sizes
first, then values of those shapes). The domain logic is `sampling.py`'s, reused with
hypothesis as the source of integers and arrays, so an instance drawn here obeys exactly
what the spot checks' `Sampler` obeys:

- a binary input (`t \\in \\{0,1\\}`) is 0 or 1;
- a positive input, or one under `\\log` or a negative/fractional power, is in [0.5, 2];
- a square input under an inverse or a determinant is strictly diagonally dominant with a
  positive diagonal (well-conditioned, positive determinant);
- every ReLU/indicator argument is mixed (both signs) where it has two entries or more;
- every forward value is finite.

    >>> from hypothesis import given
    >>> @given(instances(model))
    ... def test_my_adjoint(env): ...
"""
from __future__ import annotations

import numpy as np
from hypothesis import assume
from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument
from hypothesis.extra.numpy import arrays

from ..model.graph import Model
from .numeric import Env
from .sampling import draw_sizes, draw_values, forward, masks_mixed

__all__ = ["instances", "sizes", "values"]

#: edge sizes (`mixed`) are drawn from 1..EDGE_MAX, as in `sampling.draw_sizes`.
EDGE_MAX = 3


def _check_model(model: object) -> Model:
    """A `Model`, or the `SymModel` that `symderiv.new_model()` returns (its graph)."""
    graph = getattr(model, "graph", None)
    if isinstance(graph, Model):
        return graph
    if not isinstance(model, Model):
        raise InvalidArgument(f"model={model!r} must be a symderiv model (symderiv.new_model() or a Model)")
    return model


def _check_int(value: object, name: str, lo: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidArgument(f"{name}={value!r} must be an integer")
    if value < lo:
        raise InvalidArgument(f"{name}={value!r} must be at least {lo}")
    return value


def _distinct(dims: list[str], min_size: int, max_size: int) -> st.SearchStrategy[dict[str, int]]:
    lists = st.lists(st.integers(min_size, max_size), min_size=len(dims), max_size=len(dims), unique=True)
    return lists.map(lambda xs: dict(zip(dims, xs)))


@st.composite
def _edges(draw: st.DrawFn, dims: list[str], max_size: int) -> dict[str, int]:
    """`sampling.draw_sizes`' edge kinds: all ones, or small sizes that may repeat."""
    kind = draw(st.sampled_from(("ones", "mixed")))
    hi = min(EDGE_MAX, max_size)
    return draw_sizes(dims, kind, lambda lo, _hi: draw(st.integers(lo, min(_hi, hi))))


def sizes(model: Model, *, distinct: bool = True, min_size: int = 2,
          max_size: int = 7) -> st.SearchStrategy[dict[str, int]]:
    """A size for every dimension of `model`: a dict dim name -> int.

    With `distinct=True`, the sizes are pairwise distinct and in [min_size, max_size], so
    that a missing transpose or a swapped product cannot hide behind equal sizes. With
    `distinct=False`, the draw is one of: all ones, small sizes in 1..3 that may repeat
    (the size-1 edges where rows and columns blur), or distinct sizes as above.

    Shrinking: towards all ones (with `distinct=False`), then towards small sizes, the
    earliest-declared dimension first; distinct sizes shrink towards min_size, min_size+1, ...
    """
    model = _check_model(model)
    if not isinstance(distinct, bool):
        raise InvalidArgument(f"distinct={distinct!r} must be a bool")
    min_size = _check_int(min_size, "min_size", 1)
    max_size = _check_int(max_size, "max_size", min_size)
    dims = list(model.dims)
    if max_size - min_size + 1 < len(dims):
        raise InvalidArgument(f"{len(dims)} distinct sizes do not fit in [{min_size}, {max_size}] "
                              f"(dims {', '.join(dims)})")
    if distinct:
        return _distinct(dims, min_size, max_size)
    return st.one_of(_edges(dims, max_size), _distinct(dims, min_size, max_size))


def _floats(lo: float, hi: float) -> st.SearchStrategy[float]:
    return st.floats(lo, hi, allow_nan=False, allow_infinity=False, allow_subnormal=False)


@st.composite
def _values(draw: st.DrawFn, model: Model, dims: dict[str, int]) -> Env:
    env = Env(dict(dims), choice=draw(st.integers(0, 3)))  # which concrete function each generic one is

    def uniform(shape: tuple[int, int], lo: float, hi: float) -> np.ndarray:
        return draw(arrays(np.float64, shape, elements=_floats(lo, hi)))

    def binary(shape: tuple[int, int]) -> np.ndarray:
        return draw(arrays(np.float64, shape, elements=st.sampled_from((0.0, 1.0))))

    draw_values(model, env, uniform, binary)
    assume(forward(model, env))
    assume(masks_mixed(model, env))
    return env


def values(model: Model, sizes: dict[str, int]) -> st.SearchStrategy[Env]:
    """An `Env` with the given sizes, every input drawn in its domain (module docstring),
    and every forward node's value filled in.

    Draws whose forward pass is not finite, or whose ReLU masks are not mixed, are rejected
    (`assume`). Shrinking: every entry towards the simplest float in its range (0 for a
    real input, 1 for a positive one, 0 for a binary one); the fill of an array towards a
    single repeated value.
    """
    model = _check_model(model)
    if not isinstance(sizes, dict):
        raise InvalidArgument(f"sizes={sizes!r} must be a dict dim -> int")
    missing = [d for d in model.dims if d not in sizes]
    if missing:
        raise InvalidArgument(f"sizes has no size for {', '.join(missing)}")
    for d, n in sizes.items():
        _check_int(n, f"sizes[{d!r}]", 1)
    return _values(model, dict(sizes))


@st.composite
def _instances(draw: st.DrawFn, model: Model, distinct: bool, min_size: int, max_size: int) -> Env:
    dims = draw(sizes(model, distinct=distinct, min_size=min_size, max_size=max_size))
    return draw(values(model, dims))


def instances(model: Model, *, distinct: bool = False, min_size: int = 2,
              max_size: int = 7) -> st.SearchStrategy[Env]:
    """Sizes (as `sizes`), then values of those shapes (as `values`): an `Env` with the
    inputs in their domains and the forward values filled in.

    By default (`distinct=False`) edge sizes are drawn too. Shrinking: the sizes first
    (towards all ones, then small), then the values.
    """
    model = _check_model(model)
    sizes(model, distinct=distinct, min_size=min_size, max_size=max_size)  # validate up front
    return _instances(model, distinct, min_size, max_size)
