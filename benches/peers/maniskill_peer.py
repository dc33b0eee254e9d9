"""Steps/s of a ManiSkill3 task on its CPU backend (PhysX CPU, one env per process, as
ManiSkill3 runs CPU simulation), the peer of `rapt bench PandaPush-v0`: uniformly random
actions sampled each step, reset when an episode ends, resets included, state
observations, no rendering. Prints one JSON object.

    python benches/peers/maniskill_peer.py PushCube-v1 --seconds 10 \
        --control-mode pd_ee_delta_pos --sim-freq 100 --control-freq 25

Run it pinned to one core (`taskset -c 0`) with OMP_NUM_THREADS=1: that is one process
model for both sides, one core each.
"""

import argparse
import json
import time

import gymnasium as gym
import numpy as np


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("env")
    p.add_argument("--seconds", type=float, default=5.0)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--control-mode", default="pd_ee_delta_pos")
    p.add_argument("--sim-freq", type=int, default=100)
    p.add_argument("--control-freq", type=int, default=25)
    p.add_argument("--render-backend", default="none")
    a = p.parse_args()
    import mani_skill
    import mani_skill.envs  # noqa: F401  (registers the tasks)
    import sapien
    import torch

    torch.set_num_threads(1)
    env = gym.make(
        a.env,
        num_envs=1,
        obs_mode="state",
        control_mode=a.control_mode,
        sim_backend="physx_cpu",
        render_backend=a.render_backend,
        sim_config=dict(sim_freq=a.sim_freq, control_freq=a.control_freq),
    )
    env.reset(seed=a.seed)
    env.action_space.seed(a.seed)
    warm = time.perf_counter()
    while time.perf_counter() - warm < 1.0:
        _, _, term, trunc, _ = env.step(env.action_space.sample())
        if bool(term) or bool(trunc):
            env.reset()
    steps, episodes = 0, 0
    start = time.perf_counter()
    while time.perf_counter() - start < a.seconds:
        _, _, term, trunc, _ = env.step(env.action_space.sample())
        steps += 1
        if bool(np.asarray(term).any()) or bool(np.asarray(trunc).any()):
            episodes += 1
            env.reset()
    elapsed = time.perf_counter() - start
    sps = steps / elapsed
    print(json.dumps({
        "env": a.env, "envs": 1, "threads": 1, "seconds": elapsed,
        "env_steps": steps, "episodes": episodes, "sps": sps, "sps_per_core": sps,
        "control_mode": a.control_mode, "sim_freq": a.sim_freq,
        "control_freq": a.control_freq,
        "peer": f"ManiSkill {mani_skill.__version__}, SAPIEN {sapien.__version__}, "
                f"torch {torch.__version__}",
    }))


if __name__ == "__main__":
    main()
