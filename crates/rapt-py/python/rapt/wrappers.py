"""Reward shaping for rapt envs, computed natively with the Rust trainer's rules."""

from __future__ import annotations

import gymnasium
from gymnasium.vector import VectorWrapper

from .envs import RaptEnv, RaptVectorEnv


def _enable(env, scale: float, gamma: float) -> None:
    base = env.unwrapped
    if not isinstance(base, (RaptEnv, RaptVectorEnv)):
        raise TypeError(f"PotentialShaping shapes rapt envs, not {type(base).__name__}")
    if not scale > 0:
        raise ValueError(f"scale = {scale} must be > 0")
    if not 0 <= gamma <= 1:
        raise ValueError(f"gamma = {gamma} must be in [0, 1]")
    base._native.set_shaping(f"Potential(model: Oracle, scale: {float(scale)!r})", float(gamma))


class _EnvShaping(gymnasium.Wrapper):
    def __init__(self, env, scale, gamma):
        super().__init__(env)
        _enable(env, scale, gamma)


class _VectorShaping(VectorWrapper):
    def __init__(self, env, scale, gamma):
        super().__init__(env)
        _enable(env, scale, gamma)


class PotentialShaping:
    """`r + γ·k·Φ(s') − k·Φ(s)` with the env's own progress Φ (Ng et al. 1999; the
    Robo-Dopamine shaping rapt trains with): policy-invariant when `gamma` is the
    learner's discount. Φ of a terminal state is 0; a truncated episode keeps its real Φ.
    Works on a rapt `Env` or `VectorEnv`; computed in Rust, as `rapt train` does.

    `scale` is k (default 1), `gamma` the learner's discount (default 0.99).
    """

    def __new__(cls, env, scale: float = 1.0, gamma: float = 0.99):
        if isinstance(env, gymnasium.vector.VectorEnv):
            return _VectorShaping(env, scale, gamma)
        return _EnvShaping(env, scale, gamma)
