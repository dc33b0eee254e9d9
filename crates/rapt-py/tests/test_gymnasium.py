"""The rapt Python package against Gymnasium 1.x's contract."""

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env
from gymnasium.vector import AutoresetMode, SyncVectorEnv

import rapt


@pytest.mark.parametrize("env_id", rapt.ids())
def test_check_env_passes_on_every_registered_id(env_id):
    env = gym.make(f"rapt/{env_id}")
    check_env(env.unwrapped, skip_render_check=True)
    env.close()


def test_make_takes_env_parameters_as_keywords():
    env = gym.make("rapt/Drive-v0", observation="Vector", traffic={"vehicles": 0})
    assert isinstance(env.observation_space, gym.spaces.Box)
    obs, _ = env.reset(seed=0)
    assert env.observation_space.contains(obs)


def test_vector_env_matches_sync_vector_env_same_step_through_episode_ends():
    kwargs = {"max_episode_steps": 5}
    native = gym.make_vec("rapt/Reach-v0", num_envs=3, **kwargs)
    reference = SyncVectorEnv(
        [lambda: gym.make("rapt/Reach-v0", **kwargs) for _ in range(3)],
        autoreset_mode=AutoresetMode.SAME_STEP,
    )
    assert native.metadata["autoreset_mode"] == AutoresetMode.SAME_STEP
    obs_a, _ = native.reset(seed=7)
    obs_b, _ = reference.reset(seed=7)
    np.testing.assert_array_equal(obs_a, obs_b)
    rng = np.random.default_rng(0)
    ends = 0
    for _ in range(12):
        actions = rng.uniform(-1, 1, size=(3, 4)).astype(np.float32)
        a = native.step(actions)
        b = reference.step(actions)
        for x, y in zip(a[:4], b[:4]):
            np.testing.assert_array_equal(x, y)
        ia, ib = a[4], b[4]
        assert ("final_obs" in ia) == ("final_obs" in ib)
        if "final_obs" in ia:
            ends += 1
            np.testing.assert_array_equal(ia["_final_obs"], ib["_final_obs"])
            np.testing.assert_array_equal(ia["_final_info"], ib["_final_info"])
            for i in np.flatnonzero(ia["_final_obs"]):
                np.testing.assert_array_equal(ia["final_obs"][i], ib["final_obs"][i])
                assert ia["final_info"]["success"][i] == ib["final_info"]["success"][i]
                assert ia["final_info"]["phi"][i] == pytest.approx(ib["final_info"]["phi"][i])
    assert ends == 2, "5-step episodes end twice in 12 steps"


def test_same_seed_gives_the_same_observations_for_one_and_two_threads():
    def rollout(threads):
        env = gym.make_vec("rapt/Push-v0", num_envs=4, threads=threads)
        obs, _ = env.reset(seed=3)
        out = [obs]
        actions = np.full((4, 4), 0.3, dtype=np.float32)
        for _ in range(20):
            out.append(env.step(actions)[0])
        env.close()
        return np.stack(out)

    np.testing.assert_array_equal(rollout(1), rollout(2))


def test_bad_input_raises_python_exceptions():
    with pytest.raises(gym.error.Error):
        gym.make("rapt/Nope-v0")
    with pytest.raises(ValueError, match="substeps"):
        gym.make("rapt/Reach-v0", substeps=-1)
    with pytest.raises(ValueError, match="unexpected field named `no_such_param`"):
        gym.make("rapt/Reach-v0", no_such_param=1)
    env = gym.make_vec("rapt/Reach-v0", num_envs=2)
    env.reset(seed=0)
    with pytest.raises(ValueError, match="shape"):
        env.step(np.zeros((3, 4), dtype=np.float32))
    with pytest.raises(ValueError, match="num_envs"):
        gym.make_vec("rapt/Reach-v0", num_envs=0)
    env.close()
    with pytest.raises(RuntimeError, match="closed"):
        env.step(np.zeros((2, 4), dtype=np.float32))
    env.close()  # a second close is fine


def test_potential_shaping_adds_gamma_phi_next_minus_phi_with_the_trainers_end_rules():
    gamma, scale, n = 0.9, 10.0, 3
    plain = gym.make_vec("rapt/Reach-v0", num_envs=n, max_episode_steps=6)
    shaped = rapt.wrappers.PotentialShaping(
        gym.make_vec("rapt/Reach-v0", num_envs=n, max_episode_steps=6), scale=scale, gamma=gamma
    )
    _, info = plain.reset(seed=5)
    shaped.reset(seed=5)
    phi = info["phi"].astype(np.float64)
    rng = np.random.default_rng(1)
    truncations = 0
    for _ in range(14):
        actions = rng.uniform(-1, 1, size=(n, 4)).astype(np.float32)
        _, r, term, trunc, info = plain.step(actions)
        _, r_shaped, *_ = shaped.step(actions)
        ended = term | trunc
        phi_next = info["phi"].astype(np.float64)
        if ended.any():
            phi_next = np.where(ended, info["final_info"]["phi"], phi_next)
        phi_next = np.where(term, 0.0, phi_next)  # Φ(terminal) = 0; truncation keeps Φ
        expected = r + scale * (gamma * phi_next - phi)
        np.testing.assert_allclose(r_shaped, expected, rtol=1e-5, atol=1e-4)
        truncations += int(trunc.sum())
        phi = info["phi"].astype(np.float64)  # the new episode's Φ where one ended
    assert truncations > 0, "the test must cross a time limit"
    with pytest.raises(TypeError):
        rapt.wrappers.PotentialShaping(gym.make("CartPole-v1"))
    with pytest.raises(ValueError, match="phi"):
        rapt.wrappers.PotentialShaping(gym.make("rapt/CartPole-v1"))
