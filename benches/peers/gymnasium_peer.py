"""Steps/s of a Gymnasium env, the peer of `rapt bench`: a SyncVectorEnv of N envs in one
process (one core), uniformly random actions sampled each step, same-step autoreset,
resets included. Prints one JSON object. Fetch* ids come from gymnasium-robotics (MuJoCo),
highway-* and intersection-* ids from highway-env.

    python benches/peers/gymnasium_peer.py CartPole-v1 --envs 16 --seconds 5
    python benches/peers/gymnasium_peer.py FetchPush-v4 --envs 16 --seconds 5
"""

import argparse
import json
import time

import gymnasium as gym
import numpy as np


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("env")
    p.add_argument("--envs", type=int, default=16)
    p.add_argument("--seconds", type=float, default=5.0)
    p.add_argument("--seed", type=int, default=0)
    a = p.parse_args()
    peer = f"gymnasium {gym.__version__}"
    if a.env.startswith("Fetch"):
        import gymnasium_robotics
        import mujoco

        gym.register_envs(gymnasium_robotics)
        peer += f", gymnasium-robotics {gymnasium_robotics.__version__}, mujoco {mujoco.__version__}"
    if a.env.startswith(("highway", "intersection", "racetrack", "parking")):
        import highway_env

        gym.register_envs(highway_env)
        peer += f", highway-env {highway_env.__version__}"
    venv = gym.vector.SyncVectorEnv(
        [lambda: gym.make(a.env) for _ in range(a.envs)],
        autoreset_mode=gym.vector.AutoresetMode.SAME_STEP,
    )
    venv.reset(seed=a.seed)
    venv.action_space.seed(a.seed)
    warm = time.perf_counter()
    while time.perf_counter() - warm < 0.5:
        venv.step(venv.action_space.sample())
    steps, episodes = 0, 0
    start = time.perf_counter()
    while time.perf_counter() - start < a.seconds:
        _, _, term, trunc, _ = venv.step(venv.action_space.sample())
        episodes += int(np.count_nonzero(term | trunc))
        steps += 1
    elapsed = time.perf_counter() - start
    sps = steps * a.envs / elapsed
    print(json.dumps({
        "env": a.env, "envs": a.envs, "threads": 1, "seconds": elapsed,
        "env_steps": steps * a.envs, "episodes": episodes, "sps": sps, "sps_per_core": sps,
        "peer": peer,
    }))


if __name__ == "__main__":
    main()
