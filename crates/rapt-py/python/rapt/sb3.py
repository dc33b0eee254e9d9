"""Stable-Baselines3 adapter: a rapt vector env as an SB3 `VecEnv`.

SB3 wraps any Gymnasium `VectorEnv` as a single env, so rapt's vector env needs this
adapter. Unlike EnvPool's SB3 adapter, it sets both `terminal_observation` and
`TimeLimit.truncated` in each ended env's info, so SB3's on-policy algorithms bootstrap
`r + γV(s_T)` through time limits instead of treating them as terminal. Episode
statistics come from SB3's own `VecMonitor`:

    from stable_baselines3 import PPO
    from stable_baselines3.common.vec_env import VecMonitor
    env = VecMonitor(rapt.sb3.RaptVecEnv("Reach-v0", num_envs=16))
    PPO("MlpPolicy", env).learn(200_000)

Requires `stable-baselines3` (not a dependency of the `rapt` package).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from stable_baselines3.common.vec_env.base_vec_env import VecEnv

from .envs import RaptVectorEnv


class RaptVecEnv(VecEnv):
    """`num_envs` copies of rapt env `env_id` (parameters as keyword arguments) for SB3."""

    def __init__(self, env_id: str, num_envs: int = 16, threads: int = 1, **params: Any):
        self.venv = RaptVectorEnv(env_id, num_envs=num_envs, threads=threads, **params)
        self.render_mode = None
        super().__init__(num_envs, self.venv.single_observation_space, self.venv.single_action_space)
        self._actions = None

    def reset(self):
        seed = self._seeds[0] if self._seeds and self._seeds[0] is not None else None
        obs, infos = self.venv.reset(seed=seed)
        self._reset_seeds()
        self.reset_infos = self._split(infos)
        return obs

    def step_async(self, actions: np.ndarray) -> None:
        self._actions = actions

    def step_wait(self):
        obs, rewards, terminated, truncated, infos = self.venv.step(self._actions)
        dones = terminated | truncated
        per_env = self._split(infos)
        if dones.any():
            final_obs = infos["final_obs"]
            for i in np.flatnonzero(dones):
                per_env[i]["terminal_observation"] = final_obs[i]
                per_env[i]["TimeLimit.truncated"] = bool(truncated[i] and not terminated[i])
                for key, values in infos["final_info"].items():
                    if not key.startswith("_"):
                        per_env[i][key] = values[i].item()
                # SB3 logs the success rate of ended episodes from `is_success`.
                per_env[i]["is_success"] = per_env[i]["success"]
        return obs, rewards.astype(np.float32), dones, per_env

    def _split(self, infos: dict) -> list[dict]:
        keys = [k for k in infos if not k.startswith("_") and k not in ("final_obs", "final_info")]
        return [{k: infos[k][i].item() for k in keys} for i in range(self.num_envs)]

    def close(self) -> None:
        self.venv.close()

    def get_attr(self, attr_name: str, indices=None) -> list[Any]:
        value = getattr(self, attr_name) if attr_name == "render_mode" else getattr(self.venv, attr_name)
        return [value for _ in self._get_indices(indices)]

    def set_attr(self, attr_name: str, value: Any, indices=None) -> None:
        setattr(self.venv, attr_name, value)

    def env_method(self, method_name: str, *args, indices=None, **kwargs) -> list[Any]:
        raise NotImplementedError("rapt envs have no per-env methods")

    def env_is_wrapped(self, wrapper_class, indices=None) -> list[bool]:
        return [False for _ in self._get_indices(indices)]
