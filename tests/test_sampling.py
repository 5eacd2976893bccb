"""Instances for spot checks: the public hypothesis strategies and the seeded `Sampler`.

Both must draw distinct sizes >= 2 (and size-1 edges), respect declared domains, stay
where the functions are defined, keep inverse/det inputs well-conditioned and ReLU masks
mixed; the Sampler must be reproducible for a seed.
"""
from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest
from hypothesis import HealthCheck, find, given, settings
from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument

from symderiv.meaning.premises import Premise
from symderiv.model import ops as o
from symderiv.model.graph import Model
from symderiv.verify.numeric import Env, evaluate
from symderiv.verify.sampling import Draws, Sampler, masks_mixed
from symderiv.verify.strategies import instances, sizes, values

FEW = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])


def domains_model() -> Model:
    """One input of every kind: binary, declared positive, under log, under a fractional and
    a negative power, under det and inverse, and under a ReLU."""
    m = Model()
    t = m.declare("t", ("k", 1), "binary")
    p = m.declare("p", ("k", 1), "positive")
    q = m.declare("q", ("k", 1))
    w = m.declare("w", ("k", 1))
    X = m.declare("X", ("n", "n"))
    Y = m.declare("Y", ("n", "n"))
    W = m.declare("W", ("h", "k"))
    a = m.define("a", o.apply("relu", o.matmul(W, q)))
    m.define("l", o.add(
        o.matmul(o.transpose(t), o.apply("log", p)),
        o.Sum(o.apply("log", q)),
        o.Sum(o.power(w, Fraction(1, 2))),
        o.Sum(o.power(w, Fraction(-1))),
        o.apply("log", o.Det(X)),
        o.Trace(o.Inverse(Y)),
        o.Sum(a),
    ))
    return m


DOMAINS = domains_model()


def check_domains(model: Model, env: Env) -> None:
    v = env.values
    assert set(np.unique(v["t"])) <= {0.0, 1.0}
    for name in ("p", "q", "w"):
        assert np.all(v[name] > 0), name
    for name in ("X", "Y"):
        A = v[name]
        off = np.sum(np.abs(A), axis=1) - np.abs(np.diag(A))
        assert np.all(np.abs(np.diag(A)) - off > 0), f"{name} is not strictly diagonally dominant:\n{A}"
        assert np.linalg.cond(A) < 1e3
    assert np.linalg.det(v["X"]) > 0  # under log det; Y (under an inverse only) may have either sign
    assert masks_mixed(model, env)
    u = evaluate(o.matmul(o.Var("W", ("h", "k")), o.Var("q", ("k", 1))), env)
    if u.size >= 2:
        assert np.any(u > 0) and np.any(u <= 0)
    for node in model.nodes:
        expected = evaluate(model.symbols[node].definition, env)  # type: ignore[arg-type]
        assert np.array_equal(v[node], expected) and np.all(np.isfinite(v[node])), node


def gated_dims_model() -> Model:
    m = Model()
    m.declare("W", ("c", "a"))
    m.declare("U", ("c", "b"))
    return m


GATED = gated_dims_model()


# ---- the strategies ---------------------------------------------------------------------

@pytest.mark.parametrize("kwargs", [
    {"min_size": 0}, {"min_size": 1.5}, {"min_size": True}, {"max_size": 1}, {"max_size": "7"},
    {"distinct": "yes"}, {"min_size": 2, "max_size": 3},
], ids=str)
def test_sizes_validates_its_arguments_up_front(kwargs: dict) -> None:
    with pytest.raises(InvalidArgument):
        sizes(GATED, **kwargs)


def test_arguments_are_keyword_only() -> None:
    with pytest.raises(TypeError):
        sizes(GATED, False)  # type: ignore[misc]
    with pytest.raises(TypeError):
        instances(GATED, True)  # type: ignore[misc]


def test_bad_model_or_sizes_are_invalid_arguments() -> None:
    with pytest.raises(InvalidArgument):
        sizes("not a model")  # type: ignore[arg-type]
    with pytest.raises(InvalidArgument):
        values(GATED, {"a": 2, "b": 3})
    with pytest.raises(InvalidArgument):
        values(GATED, {"a": 2, "b": 3, "c": 0})
    with pytest.raises(InvalidArgument):
        values(GATED, [2, 3, 4])  # type: ignore[arg-type]
    with pytest.raises(InvalidArgument):
        instances(GATED, min_size=3, max_size=4)


@FEW
@given(sizes(GATED))
def test_distinct_sizes_are_distinct_and_at_least_two(s: dict[str, int]) -> None:
    assert set(s) == {"a", "b", "c"}
    assert len(set(s.values())) == 3
    assert all(2 <= n <= 7 for n in s.values())


@FEW
@given(sizes(GATED, min_size=4, max_size=6))
def test_size_bounds_are_respected(s: dict[str, int]) -> None:
    assert sorted(s.values()) == [4, 5, 6]


def test_edges_include_size_one_and_distinct_sizes() -> None:
    edges = sizes(GATED, distinct=False)
    assert find(edges, lambda s: set(s.values()) == {1}) == {"a": 1, "b": 1, "c": 1}
    assert 1 in find(edges, lambda s: 1 in s.values() and len(set(s.values())) > 1).values()
    assert min(find(edges, lambda s: min(s.values()) >= 2 and len(set(s.values())) == 3).values()) >= 2


def test_shrinking_goes_to_the_simplest_instance() -> None:
    """As the docstrings say: sizes shrink to all ones (edges) or to min_size, min_size+1, ...;
    values to the simplest float in range."""
    assert GATED.dims == ["c", "a", "b"]  # in order of first appearance
    assert find(sizes(GATED), lambda s: True) == {"c": 2, "a": 3, "b": 4}
    env = find(instances(GATED), lambda e: True)
    assert env.dims == {"a": 1, "b": 1, "c": 1}
    assert all(np.all(v == 0) for v in env.values.values())


@pytest.mark.slow
@FEW
@given(instances(DOMAINS))
def test_instances_respect_domains(env: Env) -> None:
    check_domains(DOMAINS, env)


@pytest.mark.slow
@FEW
@given(st.data())
def test_values_of_given_sizes(data: st.DataObject) -> None:
    dims = {"k": 3, "n": 2, "h": 4}
    env = data.draw(values(DOMAINS, dims))
    assert env.dims == dims
    for name in DOMAINS.inputs:
        assert env.values[name].shape == env.shape(DOMAINS.shape(name))
    check_domains(DOMAINS, env)


# ---- the Sampler ------------------------------------------------------------------------

def test_sampler_is_deterministic_for_a_seed() -> None:
    a, b, c = Sampler(DOMAINS, seed=5), Sampler(DOMAINS, seed=5), Sampler(DOMAINS, seed=6)
    assert [e.dims for e in a.envs] == [e.dims for e in b.envs]
    for ea, eb in zip(a.envs, b.envs):
        assert ea.values.keys() == eb.values.keys()
        assert all(np.array_equal(ea.values[k], eb.values[k]) for k in ea.values)
    assert any(not np.array_equal(ea.values["W"], ec.values["W"]) for ea, ec in zip(a.envs, c.envs)
               if ea.values["W"].shape == ec.values["W"].shape) or [e.dims for e in a.envs] != [
        e.dims for e in c.envs]


@pytest.mark.parametrize("seed", range(5))
def test_sampler_respects_domains(seed: int) -> None:
    for env in Sampler(DOMAINS, seed=seed).envs:
        check_domains(DOMAINS, env)


@pytest.mark.parametrize("seed", range(5))
def test_sampler_sizes(seed: int) -> None:
    envs = Sampler(DOMAINS, seed=seed).envs
    dims = [e.dims for e in envs]
    assert any(set(d.values()) == {1} for d in dims), "no all-ones instance"
    assert any(len(set(d.values())) == len(d) and min(d.values()) >= 2 for d in dims), "no distinct sizes >= 2"
    totals = [sum(d.values()) for d in dims]
    assert totals == sorted(totals), "smallest sizes first"


@pytest.mark.parametrize("first", [0, 1, 2, 5])
def test_sampler_drawn_in_stages_draws_the_same_instances(first: int) -> None:
    """The premise diagnosis draws the first kinds, then (for a candidate not already ruled
    out) the rest: the same instances, values and generic-function choices as drawn at once."""
    both = (Premise("symmetric", "X"),)
    at_once, staged = Sampler(DOMAINS, seed=3, premises=both), Sampler(DOMAINS, seed=3, premises=both, first=first)
    head = list(staged.envs)
    assert not staged.complete
    staged.more()
    assert staged.complete and all(any(e is f for f in staged.envs) for e in head)
    assert [(e.dims, e.choice) for e in staged.envs] == [(e.dims, e.choice) for e in at_once.envs]
    for a, b in zip(at_once.envs, staged.envs):
        assert a.values.keys() == b.values.keys()
        assert all(np.array_equal(a.values[k], b.values[k]) for k in a.values)


def test_sampler_draws_both_values_of_a_binary_scalar() -> None:
    m = Model()
    t = m.declare("t", (1, 1), "binary")
    x = m.declare("x", (1, 1))
    m.define("l", o.scale(t, x))
    seen = {float(e.values["t"][0, 0]) for e in Sampler(m, seed=0).envs}
    assert seen == {0.0, 1.0}


def test_sampler_symmetric_instances_are_symmetric() -> None:
    both = (Premise("symmetric", "X"), Premise("symmetric", "Y"))
    for env in Sampler(DOMAINS, seed=1, premises=both).envs:
        for name in ("X", "Y"):
            assert np.allclose(env.values[name], env.values[name].T)


# ---- the random numbers -------------------------------------------------------------------

def test_draws_are_reproducible_and_in_range() -> None:
    a, b, c = Draws(4), Draws(4), Draws("probe 4 0")
    u, v = a.uniform((3, 5), -1.5, 1.5), b.uniform((3, 5), -1.5, 1.5)
    assert u.shape == (3, 5) and u.dtype == float and np.array_equal(u, v)
    assert np.all((-1.5 <= u) & (u <= 1.5)) and not np.array_equal(u, c.uniform((3, 5), -1.5, 1.5))
    bits = a.bits((40, 5))
    assert set(np.unique(bits)) == {0.0, 1.0}
    ints = {a.integer(2, 4) for _ in range(200)}
    assert ints == {2, 3, 4}  # both ends included
    z = Draws(0).normal((4000, 1))
    assert z.shape == (4000, 1) and abs(z.mean()) < 0.1 and abs(z.std() - 1.0) < 0.1


def test_checking_does_not_import_numpy_random() -> None:
    """numpy.random's import is ~9 ms of a cold check; the sampler's numbers come from Draws."""
    import os
    import subprocess
    import sys
    from pathlib import Path
    root = Path(__file__).resolve().parent.parent
    code = ("import sys, symderiv; symderiv.check_files(sys.argv[1:3]); "
            "print('numpy.random' in sys.modules)")
    got = subprocess.run([sys.executable, "-c", code, str(root / "derivations/gated-unit/problem.md"),
                          str(root / "derivations/gated-unit/seed-answers.md")],
                         capture_output=True, text=True, check=True, env={**os.environ, "PYTHONPATH": str(root)})
    assert got.stdout.strip() == "False"
