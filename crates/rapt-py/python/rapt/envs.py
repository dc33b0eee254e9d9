"""Gymnasium `Env` and `VectorEnv` classes over rapt's native vector env."""

from __future__ import annotations

from typing import Any

import gymnasium
import numpy as np
from gymnasium.vector import AutoresetMode, VectorEnv
from gymnasium.vector.utils import batch_space

from . import _rapt
from .spaces import first, flatten, to_gymnasium, unflatten


def to_ron(value: Any) -> str:
    """A Python value as RON text for env parameters.

    Strings are taken as RON text as they are, so enum variants read naturally
    (`observation="Vector"`, `map='File("ring")'`); a RON string needs its quotes
    (`'"ring"'`). Dicts become structs, tuples tuples, lists lists.
    """
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "None"
    if isinstance(value, str):
        return value
    if isinstance(value, (int, float, np.integer, np.floating)):
        return repr(float(value)) if isinstance(value, (float, np.floating)) else str(int(value))
    if isinstance(value, dict):
        return "(" + ", ".join(f"{k}: {to_ron(v)}" for k, v in value.items()) + ")"
    if isinstance(value, tuple):
        return "(" + ", ".join(to_ron(v) for v in value) + ")"
    if isinstance(value, list):
        return "[" + ", ".join(to_ron(v) for v in value) + "]"
    raise TypeError(f"cannot pass {type(value).__name__} {value!r} as a rapt env parameter")


def params_text(params: dict[str, Any]) -> str:
    """Env parameters given as keyword arguments, as one RON struct (`""` for none)."""
    return to_ron(params) if params else ""


RENDER_FPS = 25
"""Frames per second videos of rapt envs are written at (the manipulation envs' control
rate, 1 / 0.04 s)."""


def _start_frames(native, env_id: str, render_mode: str | None, view: str | None, size: int):
    """Turn camera frames on for `render_mode="rgb_array"`: view `view` (default: the env's
    first), `size` × `size` px, rendered when `render()` asks (and, for the last state of an
    episode that ends, in that step, since the autoreset replaces it)."""
    if render_mode is None:
        return None
    if render_mode != "rgb_array":
        raise ValueError(f"render_mode={render_mode!r}: rapt envs render only 'rgb_array'")
    views = native.views
    if not views:
        raise ValueError(f"rapt/{env_id} has no camera views to render")
    if view is None:
        view = views[0]
    if view not in views:
        raise ValueError(f"view={view!r}: rapt/{env_id} has the views {views}")
    native.set_frames([view], size, on_demand=True)
    return view


def _info(info: dict, index: int | None = None) -> dict:
    """rapt's info arrays (of one env when `index` is given)."""
    if index is None:
        return dict(info)
    return {k: (bool(v[index]) if v.dtype == bool else float(v[index])) for k, v in info.items()}


class RaptEnv(gymnasium.Env):
    """One rapt env (`gymnasium.make("rapt/<Id>", **params)`).

    rapt applies the env's time limit itself (`truncated` at `max_episode_steps`).
    `render_mode="rgb_array"` renders camera view `view` (default: the env's first) at
    `render_size` px when `render()` is called, as uint8 `(render_size, render_size, 3)`,
    so Gymnasium's `RecordVideo` works; stepping without `render()` costs what it costs
    without `render_mode`, but for the last frame of each episode.
    """

    metadata = {"render_modes": ["rgb_array"], "render_fps": RENDER_FPS}

    def __init__(
        self,
        env_id: str,
        max_episode_steps: int | None = None,
        render_mode: str | None = None,
        view: str | None = None,
        render_size: int = 128,
        **params: Any,
    ):
        self._native = _rapt.VecEnv(
            env_id, num_envs=1, threads=1, params=params_text(params),
            max_episode_steps=max_episode_steps,
        )
        self.env_id = env_id
        self.render_mode = render_mode
        self.view = _start_frames(self._native, env_id, render_mode, view, render_size)
        self._ended = False
        self.observation_space = to_gymnasium(self._native.observation_space)
        self.action_space = to_gymnasium(self._native.action_space)

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        super().reset(seed=seed)
        obs, info = self._native.reset(seed=seed)
        self._ended = False
        return first(unflatten(self.observation_space, obs)), _info(info, 0)

    def step(self, action):
        rows = flatten(self.action_space, action, 1)
        obs, rewards, terminated, truncated, info, final_obs, final_info = self._native.step(rows)
        self._ended = bool(terminated[0] or truncated[0])
        if self._ended:
            # rapt reset the env within this step; report the episode's last state.
            obs, info = final_obs, final_info
        return (
            first(unflatten(self.observation_space, obs)),
            float(rewards[0]),
            bool(terminated[0]),
            bool(truncated[0]),
            _info(info, 0),
        )

    def render(self):
        """The camera frame of the state the last step or reset returned (None without
        `render_mode`)."""
        if self.render_mode is None:
            return None
        return self._native.frames(final=self._ended)[0, 0]

    def close(self):
        self._native.close()


class RaptVectorEnv(VectorEnv):
    """`num_envs` rapt envs stepped by `threads` native threads
    (`gymnasium.make_vec("rapt/<Id>", num_envs=64, threads=2, **params)`).

    Autoreset is Gymnasium's `SAME_STEP`, rapt's own semantics: where an episode ends,
    the returned observation and info are the new episode's, and
    `infos["final_obs"]` / `infos["final_info"]` (masks `_final_obs`, `_final_info`) hold
    the ended episode's last ones. `render_mode="rgb_array"` (with `view`, `render_size`
    as for `RaptEnv`) makes `render()` return one frame per sub-env, of the state each is
    in (a new episode's first where one ended), like `SyncVectorEnv`.
    """

    metadata = {
        "autoreset_mode": AutoresetMode.SAME_STEP,
        "render_modes": ["rgb_array"],
        "render_fps": RENDER_FPS,
    }

    def __init__(
        self,
        env_id: str,
        num_envs: int = 1,
        threads: int = 1,
        max_episode_steps: int | None = None,
        render_mode: str | None = None,
        view: str | None = None,
        render_size: int = 128,
        **params: Any,
    ):
        self._native = _rapt.VecEnv(
            env_id, num_envs=num_envs, threads=threads, params=params_text(params),
            max_episode_steps=max_episode_steps,
        )
        self.env_id = env_id
        self.render_mode = render_mode
        self.view = _start_frames(self._native, env_id, render_mode, view, render_size)
        self.num_envs = num_envs
        self.single_observation_space = to_gymnasium(self._native.observation_space)
        self.single_action_space = to_gymnasium(self._native.action_space)
        self.observation_space = batch_space(self.single_observation_space, num_envs)
        self.action_space = batch_space(self.single_action_space, num_envs)

    def reset(self, *, seed: int | list[int] | None = None, options: dict | None = None):
        if isinstance(seed, list):
            if seed != list(range(seed[0], seed[0] + self.num_envs)):
                raise ValueError("rapt seeds sub-env i with seed + i: pass an int seed")
            seed = seed[0]
        mask = None if options is None else options.get("reset_mask")
        if mask is not None:
            mask = np.asarray(mask, dtype=bool)
        obs, info = self._native.reset(seed=seed, mask=mask)
        return unflatten(self.single_observation_space, obs), _info(info)

    def step(self, actions):
        rows = flatten(self.single_action_space, actions, self.num_envs)
        obs, rewards, terminated, truncated, info, final_obs, final_info = self._native.step(rows)
        infos = _info(info)
        ended = terminated | truncated
        if ended.any():
            finals = unflatten(self.single_observation_space, final_obs)
            objects = np.empty(self.num_envs, dtype=object)
            for i in np.flatnonzero(ended):
                objects[i] = (
                    {k: v[i] for k, v in finals.items()} if isinstance(finals, dict) else finals[i]
                )
            infos["final_obs"] = objects
            infos["_final_obs"] = ended.copy()
            infos["final_info"] = {**_info(final_info), **{f"_{k}": ended.copy() for k in final_info}}
            infos["_final_info"] = ended.copy()
        return unflatten(self.single_observation_space, obs), rewards, terminated, truncated, infos

    def render(self):
        """One camera frame per sub-env, uint8 `(render_size, render_size, 3)` each (None
        without `render_mode`)."""
        if self.render_mode is None:
            return None
        return tuple(self._native.frames()[:, 0])

    def close_extras(self, **kwargs):
        self._native.close()
