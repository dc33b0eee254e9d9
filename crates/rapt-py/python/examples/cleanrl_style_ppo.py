"""PPO in one file, CleanRL-style, on `gymnasium.make_vec("rapt/Reach-v0")`: a plain
PyTorch loop over rapt's threaded vector env, then the success rate of the trained policy
on 100 held-out episodes.

    pip install torch
    python cleanrl_style_ppo.py [TOTAL_STEPS]

One difference from CleanRL's `ppo_continuous_action.py`: episodes cut by the time limit
are bootstrapped. rapt's vector env resets within the step that ends an episode
(Gymnasium's same-step autoreset) and hands the last observation over in
`infos["final_obs"]`, so a truncated step's reward gets `γ V(s_T)` added, as
Stable-Baselines3 does; a terminated step's does not.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass

import gymnasium as gym
import numpy as np
import torch
from torch import nn
from torch.distributions import Normal

import rapt  # noqa: F401  (registers rapt/<Id>)


@dataclass
class Args:
    env_id: str = "rapt/Reach-v0"
    total_steps: int = 200_000
    num_envs: int = 16
    threads: int = 2
    num_steps: int = 64
    """Steps per env per rollout (rollout = num_envs × num_steps transitions)."""
    learning_rate: float = 3e-4
    gamma: float = 0.99
    gae_lambda: float = 0.95
    num_minibatches: int = 4
    update_epochs: int = 10
    clip_coef: float = 0.2
    ent_coef: float = 0.0
    vf_coef: float = 0.5
    max_grad_norm: float = 0.5
    seed: int = 1


def layer(n_in: int, n_out: int, std: float = np.sqrt(2)) -> nn.Linear:
    linear = nn.Linear(n_in, n_out)
    nn.init.orthogonal_(linear.weight, std)
    nn.init.constant_(linear.bias, 0.0)
    return linear


class Agent(nn.Module):
    def __init__(self, obs_dim: int, act_dim: int):
        super().__init__()
        self.critic = nn.Sequential(
            layer(obs_dim, 64), nn.Tanh(), layer(64, 64), nn.Tanh(), layer(64, 1, 1.0))
        self.actor_mean = nn.Sequential(
            layer(obs_dim, 64), nn.Tanh(), layer(64, 64), nn.Tanh(), layer(64, act_dim, 0.01))
        self.actor_logstd = nn.Parameter(torch.zeros(1, act_dim))

    def value(self, obs: torch.Tensor) -> torch.Tensor:
        return self.critic(obs).squeeze(-1)

    def act(self, obs: torch.Tensor, action: torch.Tensor | None = None):
        mean = self.actor_mean(obs)
        dist = Normal(mean, self.actor_logstd.expand_as(mean).exp())
        if action is None:
            action = dist.sample()
        return action, dist.log_prob(action).sum(-1), dist.entropy().sum(-1), self.value(obs)


def train(args: Args = Args()) -> Agent:
    torch.manual_seed(args.seed)
    envs = gym.make_vec(args.env_id, num_envs=args.num_envs, threads=args.threads)
    obs_dim = envs.single_observation_space.shape[0]
    act_dim = envs.single_action_space.shape[0]
    low = torch.tensor(envs.single_action_space.low)
    high = torch.tensor(envs.single_action_space.high)
    agent = Agent(obs_dim, act_dim)
    optimizer = torch.optim.Adam(agent.parameters(), lr=args.learning_rate, eps=1e-5)

    n, t_max = args.num_envs, args.num_steps
    obs_buf = torch.zeros(t_max, n, obs_dim)
    act_buf = torch.zeros(t_max, n, act_dim)
    logp_buf, rew_buf, done_buf, val_buf = (torch.zeros(t_max, n) for _ in range(4))
    batch = n * t_max
    minibatch = batch // args.num_minibatches
    updates = args.total_steps // batch

    obs, _ = envs.reset(seed=args.seed)
    next_obs = torch.tensor(obs)
    for update in range(updates):
        optimizer.param_groups[0]["lr"] = args.learning_rate * (1.0 - update / updates)
        for t in range(t_max):
            obs_buf[t] = next_obs
            with torch.no_grad():
                action, logp, _, value = agent.act(next_obs)
            act_buf[t], logp_buf[t], val_buf[t] = action, logp, value
            clipped = torch.max(torch.min(action, high), low).numpy()
            obs, reward, terminated, truncated, infos = envs.step(clipped)
            reward = torch.tensor(reward)
            cut = np.flatnonzero(truncated & ~terminated)
            if len(cut):
                # Bootstrap time limits from the last observation of the cut episode.
                final = torch.tensor(np.stack(infos["final_obs"][cut]))
                with torch.no_grad():
                    reward[cut] += args.gamma * agent.value(final)
            rew_buf[t] = reward
            done_buf[t] = torch.tensor(terminated | truncated, dtype=torch.float32)
            next_obs = torch.tensor(obs)

        with torch.no_grad():
            next_value = agent.value(next_obs)
            advantages = torch.zeros_like(rew_buf)
            gae = torch.zeros(n)
            for t in reversed(range(t_max)):
                value_after = next_value if t == t_max - 1 else val_buf[t + 1]
                alive = 1.0 - done_buf[t]
                delta = rew_buf[t] + args.gamma * value_after * alive - val_buf[t]
                gae = delta + args.gamma * args.gae_lambda * alive * gae
                advantages[t] = gae
            returns = advantages + val_buf

        b_obs, b_act = obs_buf.reshape(batch, obs_dim), act_buf.reshape(batch, act_dim)
        b_logp, b_adv = logp_buf.reshape(batch), advantages.reshape(batch)
        b_ret = returns.reshape(batch)
        for _ in range(args.update_epochs):
            for idx in torch.randperm(batch).split(minibatch):
                _, logp, entropy, value = agent.act(b_obs[idx], b_act[idx])
                ratio = (logp - b_logp[idx]).exp()
                adv = b_adv[idx]
                adv = (adv - adv.mean()) / (adv.std() + 1e-8)
                pg_loss = torch.max(
                    -adv * ratio, -adv * ratio.clamp(1 - args.clip_coef, 1 + args.clip_coef)
                ).mean()
                v_loss = 0.5 * ((value - b_ret[idx]) ** 2).mean()
                loss = pg_loss - args.ent_coef * entropy.mean() + args.vf_coef * v_loss
                optimizer.zero_grad()
                loss.backward()
                nn.utils.clip_grad_norm_(agent.parameters(), args.max_grad_norm)
                optimizer.step()
    envs.close()
    return agent


def success_rate(agent: Agent, env_id: str = "rapt/Reach-v0", episodes: int = 100,
                 seed: int = 10**9) -> float:
    """Share of `episodes` held-out episodes that end in success, acting with the mean."""
    envs = gym.make_vec(env_id, num_envs=20)
    obs, _ = envs.reset(seed=seed)
    low, high = envs.single_action_space.low, envs.single_action_space.high
    successes, done = 0, 0
    while done < episodes:
        with torch.no_grad():
            action = agent.actor_mean(torch.tensor(obs)).numpy()
        obs, _, terminated, truncated, infos = envs.step(np.clip(action, low, high))
        for i in np.flatnonzero(terminated | truncated):
            if done < episodes:
                done += 1
                successes += int(infos["final_info"]["success"][i])
    envs.close()
    return successes / episodes


if __name__ == "__main__":
    args = Args(total_steps=int(sys.argv[1]) if len(sys.argv) > 1 else Args.total_steps)
    start = time.perf_counter()
    agent = train(args)
    print(f"trained {args.total_steps} steps in {time.perf_counter() - start:.0f} s; "
          f"success on 100 held-out episodes: {success_rate(agent, args.env_id):.0%}")
