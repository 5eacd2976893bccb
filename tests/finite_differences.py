"""Central finite differences of a model's loss: the check every derived adjoint is held to
(batches, batch norm in index form)."""
from __future__ import annotations

import numpy as np

from symderiv.verify.numeric import Env, evaluate


def loss_with(model, env: Env, name: str, value: np.ndarray) -> float:
    """The loss of `model` on `env` with `name` set to `value` (the forward pass run again)."""
    e = Env(env.dims, {**env.values, name: value})
    for node in model.nodes:
        e.values[node] = evaluate(model.symbols[node].definition, e)
    return float(e.values[model.loss][0, 0])


def gradient(model, env: Env, name: str, h: float = 1e-6) -> np.ndarray:
    """d loss / d name on `env`, entry by entry, by central differences of step `h`."""
    v = env.values[name]
    out = np.zeros_like(v)
    for idx in np.ndindex(v.shape):
        up, down = v.copy(), v.copy()
        up[idx] += h
        down[idx] -= h
        out[idx] = (loss_with(model, env, name, up) - loss_with(model, env, name, down)) / (2 * h)
    return out
