"""rapt's environments for Python: every registered env as a Gymnasium `Env`
(`gymnasium.make("rapt/Push-v1")`) and `VectorEnv`
(`gymnasium.make_vec("rapt/Push-v1", num_envs=64)`), registered on import.
"""

from __future__ import annotations

import gymnasium

from . import _rapt, wrappers
from .dataset import read_dataset
from .envs import RaptEnv, RaptVectorEnv

__all__ = ["RaptEnv", "RaptVectorEnv", "ids", "read_dataset", "register_all", "wrappers"]


def ids() -> list[str]:
    """Every rapt env id (without the `rapt/` namespace)."""
    return list(_rapt.ids())


def register_all() -> None:
    """Register every rapt env as `rapt/<Id>` (done on import)."""
    for env_id in ids():
        name = f"rapt/{env_id}"
        if name in gymnasium.registry:
            continue
        gymnasium.register(
            id=name,
            entry_point=RaptEnv,
            vector_entry_point=RaptVectorEnv,
            kwargs={"env_id": env_id},
            # rapt applies its own time limit; Gymnasium adds no TimeLimit wrapper.
            max_episode_steps=None,
            disable_env_checker=True,
        )


register_all()
