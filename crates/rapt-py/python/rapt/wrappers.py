"""Reward shaping for rapt envs, computed natively with the Rust trainer's rules."""

from __future__ import annotations

import gymnasium
from gymnasium.vector import VectorWrapper

from .envs import RaptEnv, RaptVectorEnv


def _enable(env, scale: float, gamma: float, model: str) -> None:
    base = env.unwrapped
    if not isinstance(base, (RaptEnv, RaptVectorEnv)):
        raise TypeError(f"PotentialShaping shapes rapt envs, not {type(base).__name__}")
    if not scale > 0:
        raise ValueError(f"scale = {scale} must be > 0")
    if not 0 <= gamma <= 1:
        raise ValueError(f"gamma = {gamma} must be in [0, 1]")
    base._native.set_shaping(f"Potential(model: {model}, scale: {float(scale)!r})", float(gamma))


class _EnvShaping(gymnasium.Wrapper):
    def __init__(self, env, scale, gamma, model):
        super().__init__(env)
        _enable(env, scale, gamma, model)


class _VectorShaping(VectorWrapper):
    def __init__(self, env, scale, gamma, model):
        super().__init__(env)
        _enable(env, scale, gamma, model)


class PotentialShaping:
    """`r + γ·k·Φ(s') − k·Φ(s)` (Ng et al. 1999; the Robo-Dopamine shaping rapt trains
    with): policy-invariant when `gamma` is the learner's discount. Φ of a terminal state
    is 0; a truncated episode keeps its real Φ. Works on a rapt `Env` or `VectorEnv`;
    computed in Rust, as `rapt train` does.

    `scale` is k (default 1), `gamma` the learner's discount (default 0.99). `model` is
    where Φ comes from, as RON text of a shaping model: `"Oracle"` (default, the env's
    own progress) or a server on the OpenAI-compatible API, e.g.
    `'Remote(url: "http://127.0.0.1:8000/v1", model: "push", protocol: Progress,
    views: ["front", "side", "wrist"], image_size: 32)'` (`rapt reward-serve`, or a VLM
    with `protocol: Grm` / `Rubric5`; docs/reward-models.md). A remote model reads camera
    frames: reset the env after wrapping it.
    """

    def __new__(cls, env, scale: float = 1.0, gamma: float = 0.99, model: str = "Oracle"):
        if isinstance(env, gymnasium.vector.VectorEnv):
            return _VectorShaping(env, scale, gamma, model)
        return _EnvShaping(env, scale, gamma, model)
