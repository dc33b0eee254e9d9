"""`python/examples/cleanrl_style_ppo.py`, a plain PyTorch PPO on `make_vec`, learns
Reach-v0 (skipped where torch is not installed; `make test-long` installs it)."""

import os

import pytest

torch = pytest.importorskip("torch")

from conftest import load_example  # noqa: E402


@pytest.mark.skipif(os.environ.get("RAPT_LONG") != "1", reason="learning test: make test-long")
def test_cleanrl_style_ppo_reaches_ninety_percent_success_on_reach_within_200k_steps():
    torch.set_num_threads(1)
    example = load_example("cleanrl_style_ppo")
    agent = example.train(example.Args(total_steps=200_000))
    rate = example.success_rate(agent, episodes=100)
    print(f"CleanRL-style PPO on rapt/Reach-v0 after 200k steps: {rate:.0%} of 100 episodes")
    assert rate >= 0.9, f"CleanRL-style PPO success {rate:.0%}"
