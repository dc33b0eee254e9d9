"""Steps/s through Python against the native `rapt bench` and against gymnasium-robotics'
FetchPush-v4, in one run.

    python crates/rapt-py/bench/throughput.py [ENV_ID] [NUM_ENVS] [SECONDS] [PEER_ID]

1. `gymnasium.make_vec("rapt/<ENV_ID>", num_envs=NUM_ENVS)` (one stepping thread) with
   random actions in a plain Python loop, then `target/release/rapt bench ENV_ID --envs
   NUM_ENVS` for the same time: the cost of the Python layer.
2. Per core, the same loop over rapt and over PEER_ID (default FetchPush-v4, MuJoCo) in a
   Gymnasium `SyncVectorEnv` (one process, same-step autoreset), both with the peer's
   episode length (50 steps), when gymnasium-robotics is installed
   (`pip install gymnasium-robotics==1.4.2 mujoco==3.11.0`); skipped otherwise.

Actions are drawn up front (256 batches), so the loop times only `step`. Prints one JSON
object with the steps/s and their ratios.
"""

import json
import subprocess
import sys
import time
from pathlib import Path

import gymnasium as gym
import numpy as np

import rapt  # noqa: F401  (registers rapt/<Id>)

PEER_EPISODE_STEPS = 50


def loop_sps(envs, seconds: float) -> float:
    """Steps/s of `envs.step` over random actions drawn up front, after a 20-step warm-up."""
    envs.reset(seed=0)
    space = envs.action_space
    space.seed(0)
    actions = [space.sample() for _ in range(256)]
    for k in range(20):
        envs.step(actions[k % 256])
    steps, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        envs.step(actions[steps % 256])
        steps += 1
    sps = steps * envs.num_envs / (time.perf_counter() - start)
    envs.close()
    return sps


def native_sps(env_id: str, num_envs: int, seconds: float) -> float:
    binary = Path(__file__).resolve().parents[3] / "target/release/rapt"
    out = subprocess.run(
        [str(binary), "bench", env_id, "--envs", str(num_envs), "--threads", "1",
         "--seconds", str(seconds), "--json"],
        check=True, capture_output=True, text=True,
    ).stdout
    return json.loads(out.strip().splitlines()[-1])["sps"]


def peer_envs(peer_id: str, num_envs: int):
    """The peer in a one-process `SyncVectorEnv`, or None where it is not installed."""
    try:
        import gymnasium_robotics
    except ImportError:
        return None
    gym.register_envs(gymnasium_robotics)
    return gym.vector.SyncVectorEnv(
        [lambda: gym.make(peer_id) for _ in range(num_envs)],
        autoreset_mode=gym.vector.AutoresetMode.SAME_STEP,
    )


def main() -> None:
    env_id = sys.argv[1] if len(sys.argv) > 1 else "Push-v0"
    num_envs = int(sys.argv[2]) if len(sys.argv) > 2 else 16
    seconds = float(sys.argv[3]) if len(sys.argv) > 3 else 5.0
    peer_id = sys.argv[4] if len(sys.argv) > 4 else "FetchPush-v4"

    python = loop_sps(gym.make_vec(f"rapt/{env_id}", num_envs=num_envs), seconds)
    native = native_sps(env_id, num_envs, seconds)
    report = {
        "env": env_id, "num_envs": num_envs, "seconds": seconds,
        "python_sps": round(python), "native_sps": round(native),
        "python_over_native": round(python / native, 3),
    }
    peer = peer_envs(peer_id, num_envs)
    if peer is not None:
        ours = gym.make_vec(f"rapt/{env_id}", num_envs=num_envs,
                            max_episode_steps=PEER_EPISODE_STEPS)
        ours_sps = loop_sps(ours, seconds)
        peer_sps = loop_sps(peer, seconds)
        report.update({
            "peer": peer_id, "episode_steps": PEER_EPISODE_STEPS,
            "python_sps_at_peer_length": round(ours_sps), "peer_sps": round(peer_sps),
            "python_over_peer": round(ours_sps / peer_sps, 2),
        })
    print(json.dumps(report))


if __name__ == "__main__":
    main()
