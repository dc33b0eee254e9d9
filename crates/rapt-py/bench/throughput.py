"""Steps/s through Python vs the native `rapt bench`, in one run.

    python crates/rapt-py/bench/throughput.py [ENV_ID] [NUM_ENVS] [SECONDS]

Steps `gymnasium.make_vec("rapt/<ENV_ID>", num_envs=NUM_ENVS)` with random actions in a
plain Python loop (actions drawn up front, one thread stepping), then runs
`target/release/rapt bench ENV_ID --envs NUM_ENVS` for the same time, and prints both
and their ratio as JSON.
"""

import json
import subprocess
import sys
import time
from pathlib import Path

import gymnasium as gym
import numpy as np

import rapt  # noqa: F401  (registers rapt/<Id>)

env_id = sys.argv[1] if len(sys.argv) > 1 else "Push-v0"
num_envs = int(sys.argv[2]) if len(sys.argv) > 2 else 16
seconds = float(sys.argv[3]) if len(sys.argv) > 3 else 5.0

envs = gym.make_vec(f"rapt/{env_id}", num_envs=num_envs)
envs.reset(seed=0)
rng = np.random.default_rng(0)
low, high = envs.single_action_space.low, envs.single_action_space.high
actions = rng.uniform(low, high, size=(256, num_envs, *low.shape)).astype(np.float32)
for k in range(20):  # warm-up
    envs.step(actions[k % 256])
steps, start = 0, time.perf_counter()
while time.perf_counter() - start < seconds:
    envs.step(actions[steps % 256])
    steps += 1
python_sps = steps * num_envs / (time.perf_counter() - start)
envs.close()

binary = Path(__file__).resolve().parents[3] / "target/release/rapt"
out = subprocess.run(
    [str(binary), "bench", env_id, "--envs", str(num_envs), "--seconds", str(seconds), "--json"],
    check=True, capture_output=True, text=True,
).stdout
native_sps = json.loads(out.strip().splitlines()[-1])["sps"]
print(json.dumps({
    "env": env_id, "num_envs": num_envs, "seconds": seconds,
    "python_sps": round(python_sps), "native_sps": round(native_sps),
    "ratio": round(python_sps / native_sps, 3),
}))
