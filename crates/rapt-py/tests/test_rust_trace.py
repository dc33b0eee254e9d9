"""The Python envs against the Rust envs: `rapt rollout --trace` writes every action and
observation of seeded episodes; replaying the actions from Python gives the same
observations, rewards and flags bit for bit, through the single env and through the
threaded vector env.

The `rapt` binary is `$RAPT_BIN` (`make test` sets it), else the newest of
`target/{debug,release}/rapt` in the repository; the test is skipped only when no
binary exists and `RAPT_BIN` is unset.
"""

import json
import os
import subprocess
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest

import rapt
from rapt.spaces import flatten

ROOT = Path(__file__).resolve().parents[3]

CASES = [
    ("Push-v0", ""),
    ("Drive-v0", "(observation: Vector)"),
    ("CartPole-v1", ""),
    ("Pendulum-v1", ""),
]


def rapt_bin() -> Path:
    if "RAPT_BIN" in os.environ:
        path = Path(os.environ["RAPT_BIN"])
        assert path.is_file(), f"RAPT_BIN={path} is not a file"
        return path
    found = [p for p in (ROOT / "target/debug/rapt", ROOT / "target/release/rapt") if p.is_file()]
    if not found:
        pytest.skip("no rapt binary: build it (cargo build) or set RAPT_BIN")
    return max(found, key=lambda p: p.stat().st_mtime)


def rust_trace(tmp_path, env_id: str, params: str, seed: int, episodes: int) -> dict:
    out = tmp_path / f"{env_id}.json"
    args = [str(rapt_bin()), "rollout", env_id, "--seed", str(seed), "--policy", "random",
            "--episodes", str(episodes), "--quiet", "--trace", str(out)]
    if params:
        args += ["--params", params]
    subprocess.run(args, check=True, capture_output=True)
    trace = json.loads(out.read_text())
    assert trace["env"] == env_id and len(trace["episodes"]) == episodes
    return trace


def kwargs_of(params: str) -> dict:
    return {"observation": "Vector"} if "Vector" in params else {}


def action_of(space, row):
    row = np.asarray(row, dtype=np.float32)
    return int(row[0]) if isinstance(space, gym.spaces.Discrete) else row


@pytest.mark.parametrize(("env_id", "params"), CASES)
def test_single_env_replays_the_rust_trace_bit_for_bit(tmp_path, env_id, params):
    trace = rust_trace(tmp_path, env_id, params, seed=11, episodes=2)
    env = gym.make(f"rapt/{env_id}", **kwargs_of(params))
    for episode in trace["episodes"]:
        obs, _ = env.reset(seed=episode["seed"])
        np.testing.assert_array_equal(
            flatten(env.observation_space, obs, 1)[0], np.float32(episode["obs"][0]))
        for k, action in enumerate(episode["actions"]):
            obs, reward, terminated, truncated, _ = env.step(action_of(env.action_space, action))
            np.testing.assert_array_equal(
                flatten(env.observation_space, obs, 1)[0], np.float32(episode["obs"][k + 1]),
                err_msg=f"{env_id} seed {episode['seed']} step {k + 1}")
            assert np.float32(reward) == np.float32(episode["rewards"][k])
            assert (terminated, truncated) == (episode["terminated"][k], episode["truncated"][k])
        assert terminated or truncated, "the trace ends with the episode"
    env.close()


@pytest.mark.parametrize(("env_id", "params"), CASES[:2])
def test_threaded_vector_env_replays_the_rust_trace(tmp_path, env_id, params):
    # Sub-env i of a vector env seeded s is seeded s + i, as the trace's episode i.
    trace = rust_trace(tmp_path, env_id, params, seed=20, episodes=3)
    episodes = trace["episodes"]
    env = gym.make_vec(f"rapt/{env_id}", num_envs=3, threads=2, **kwargs_of(params))
    space = env.single_observation_space
    obs, _ = env.reset(seed=20)
    for i, episode in enumerate(episodes):
        np.testing.assert_array_equal(flatten(space, obs, 3)[i], np.float32(episode["obs"][0]))
    act_dim = len(episodes[0]["actions"][0])
    for k in range(max(len(e["actions"]) for e in episodes)):
        rows = np.zeros((3, act_dim), dtype=np.float32)
        for i, episode in enumerate(episodes):
            if k < len(episode["actions"]):
                rows[i] = episode["actions"][k]
        obs, rewards, terminated, truncated, infos = env.step(rows)
        flat = flatten(space, obs, 3)
        for i, episode in enumerate(episodes):
            if k >= len(episode["actions"]):
                continue
            last = k + 1 == len(episode["actions"])
            got = infos["final_obs"][i] if last else flat[i]
            np.testing.assert_array_equal(
                np.asarray(got).ravel(), np.float32(episode["obs"][k + 1]),
                err_msg=f"{env_id} sub-env {i} step {k + 1}")
            assert rewards[i] == np.float32(episode["rewards"][k])
            assert (terminated[i], truncated[i]) == (
                episode["terminated"][k], episode["truncated"][k])
            assert terminated[i] or truncated[i] or not last
    env.close()
