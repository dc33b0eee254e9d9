"""The SB3 adapter (skipped where stable-baselines3 is not installed; `make test-long`
installs it and runs the learning test)."""

import os

import numpy as np
import pytest

sb3 = pytest.importorskip("stable_baselines3")

from conftest import load_example  # noqa: E402
from rapt.sb3 import RaptVecEnv  # noqa: E402


def test_ended_envs_carry_terminal_observation_and_time_limit_truncated():
    env = RaptVecEnv("Reach-v0", num_envs=2, max_episode_steps=4)
    env.seed(3)
    obs = env.reset()
    assert obs.shape == (2, 13)
    for t in range(4):
        obs, rewards, dones, infos = env.step(np.zeros((2, 4), dtype=np.float32))
        assert rewards.dtype == np.float32 and len(infos) == 2
    assert dones.all(), "4-step episodes end at the 4th step"
    for info in infos:
        assert info["TimeLimit.truncated"] is True
        assert info["terminal_observation"].shape == (13,)
        assert "is_success" in info and "phi" in info
    # The returned observation is the new episode's, not the terminal one.
    assert not np.array_equal(obs[0], infos[0]["terminal_observation"])
    env.close()


@pytest.mark.skipif(os.environ.get("RAPT_LONG") != "1", reason="learning test: make test-long")
def test_sb3_ppo_example_reaches_ninety_percent_success_on_reach_within_200k_steps():
    example = load_example("sb3_ppo_reach")
    model = example.train(200_000)
    rate = example.success_rate(model, episodes=100)
    print(f"SB3 PPO on rapt/Reach-v0 after 200k steps: {rate:.0%} of 100 held-out episodes")
    assert rate >= 0.9, f"SB3 PPO success {rate:.0%}"


@pytest.mark.parametrize("env_id", __import__("rapt").ids())
def test_make_vec_env_works_on_every_id_as_sb3_users_call_it(env_id):
    """SB3's `make_vec_env` asks each env for `render_mode="rgb_array"`."""
    from stable_baselines3.common.env_util import make_vec_env

    venv = make_vec_env(f"rapt/{env_id}", n_envs=2, seed=0)
    obs = venv.reset()
    assert len(obs) == 2 if not isinstance(obs, dict) else True
    for _ in range(5):
        venv.step(np.array([venv.action_space.sample() for _ in range(2)]))
    frames = venv.get_images()
    assert len(frames) == 2 and frames[0].ndim == 3
    venv.close()
