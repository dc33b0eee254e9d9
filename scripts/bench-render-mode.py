#!/usr/bin/env python3
"""Stepping a rapt env with `render_mode="rgb_array"` (no `render()` calls) against the
same env without it, interleaved rounds in one process; prints steps/s and the ratio.

    python scripts/bench-render-mode.py [ENV_ID] [STEPS] [ROUNDS]   (Push-v0 20000 3)

Run it in a venv with the release wheel (`scripts/python-venv.sh .venv release`)."""

import sys
import time

import gymnasium as gym
import rapt  # noqa: F401  (registers the rapt/ ids)


def steps_per_second(env, steps: int) -> float:
    env.action_space.seed(0)
    actions = [env.action_space.sample() for _ in range(steps)]
    env.reset(seed=0)
    start = time.perf_counter()
    for action in actions:
        _, _, terminated, truncated, _ = env.step(action)
        if terminated or truncated:
            env.reset()
    return steps / (time.perf_counter() - start)


def main() -> None:
    env_id = sys.argv[1] if len(sys.argv) > 1 else "Push-v0"
    steps = int(sys.argv[2]) if len(sys.argv) > 2 else 20_000
    rounds = int(sys.argv[3]) if len(sys.argv) > 3 else 3
    plain = gym.make(f"rapt/{env_id}")
    rendering = gym.make(f"rapt/{env_id}", render_mode="rgb_array")
    steps_per_second(plain, 1000)
    steps_per_second(rendering, 1000)
    for k in range(rounds):
        a = steps_per_second(plain, steps)
        b = steps_per_second(rendering, steps)
        print(f"round {k + 1}: {env_id} without render_mode {a:,.0f} steps/s, "
              f"render_mode='rgb_array' {b:,.0f} steps/s, ratio {b / a:.2f}")


if __name__ == "__main__":
    main()
