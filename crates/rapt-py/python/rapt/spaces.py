"""rapt spaces as Gymnasium spaces, and rapt's flat float32 rows to and from them.

rapt stores every observation and action as a flat row of float32 slots: a Box takes one
slot per element, a Discrete one slot holding its value, a MultiDiscrete one per
component, a Tuple or Dict its parts in order.
"""

from __future__ import annotations

import numpy as np
from gymnasium import spaces


def to_gymnasium(data) -> spaces.Space:
    """The Gymnasium space of a rapt space given as data by the native module."""
    kind = data[0]
    if kind == "box":
        _, low, high, shape = data
        low = np.asarray(low, dtype=np.float32).reshape(shape)
        high = np.asarray(high, dtype=np.float32).reshape(shape)
        return spaces.Box(low=low, high=high, dtype=np.float32)
    if kind == "discrete":
        return spaces.Discrete(data[1], start=data[2])
    if kind == "multi_discrete":
        return spaces.MultiDiscrete(np.asarray(data[1], dtype=np.int64))
    if kind == "tuple":
        return spaces.Tuple([to_gymnasium(p) for p in data[1]])
    if kind == "dict":
        return spaces.Dict({name: to_gymnasium(p) for name, p in data[1]})
    raise ValueError(f"unknown rapt space {kind!r}")


def flat_size(space: spaces.Space) -> int:
    """Slots a value of `space` takes in a flat rapt row."""
    if isinstance(space, spaces.Box):
        return int(np.prod(space.shape))
    if isinstance(space, spaces.Discrete):
        return 1
    if isinstance(space, spaces.MultiDiscrete):
        return int(np.prod(space.shape))
    if isinstance(space, spaces.Tuple):
        return sum(flat_size(p) for p in space.spaces)
    if isinstance(space, spaces.Dict):
        return sum(flat_size(p) for p in space.spaces.values())
    raise TypeError(f"rapt has no flat layout for {space}")


def unflatten(space: spaces.Space, rows: np.ndarray):
    """Values of `space` from flat rows `(n, slots)`: batched (leading axis `n`)."""
    n = rows.shape[0]
    if isinstance(space, spaces.Box):
        return rows.reshape((n, *space.shape)).astype(space.dtype, copy=False)
    if isinstance(space, spaces.Discrete):
        return rows[:, 0].astype(np.int64)
    if isinstance(space, spaces.MultiDiscrete):
        return rows.reshape((n, *space.shape)).astype(np.int64)
    parts = space.spaces.items() if isinstance(space, spaces.Dict) else enumerate(space.spaces)
    out, at = {}, 0
    for key, part in parts:
        k = flat_size(part)
        out[key] = unflatten(part, rows[:, at : at + k])
        at += k
    if isinstance(space, spaces.Tuple):
        return tuple(out[i] for i in range(len(space.spaces)))
    return out


def flatten(space: spaces.Space, values, n: int) -> np.ndarray:
    """Flat float32 rows `(n, slots)` from batched values of `space`."""
    if isinstance(space, (spaces.Box, spaces.Discrete, spaces.MultiDiscrete)):
        arr = np.asarray(values, dtype=np.float32)
        k = flat_size(space)
        if arr.size != n * k:
            want = (n, *space.shape) if n > 1 else space.shape
            raise ValueError(f"action has shape {arr.shape}, expected {want} for {space}")
        return arr.reshape(n, k)
    parts = space.spaces.items() if isinstance(space, spaces.Dict) else enumerate(space.spaces)
    return np.concatenate([flatten(p, values[key], n) for key, p in parts], axis=1)


def first(batch):
    """Element 0 of a batched value (for the single-env wrapper)."""
    if isinstance(batch, dict):
        return {k: first(v) for k, v in batch.items()}
    if isinstance(batch, tuple):
        return tuple(first(v) for v in batch)
    value = batch[0]
    return value.item() if isinstance(value, np.generic) and value.shape == () and value.dtype.kind == "i" else value
