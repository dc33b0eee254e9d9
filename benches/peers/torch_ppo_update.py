"""The PyTorch peer of `rapt bench-update`: one PPO update as CleanRL's
ppo_continuous_action.py performs it (GAE loop over time, advantage normalization per
minibatch, clipped surrogate and value loss, Adam eps 1e-5, global grad-norm clip 0.5),
same network (two tanh MLPs, orthogonal init, state-independent log-std) and sizes.
Prints one JSON object with samples/s = epochs × batch / seconds.

    python benches/peers/torch_ppo_update.py --hidden 256 256 --envs 256 --steps 64 \
        --minibatch 4096 --threads 2

With `--image C H W` the observation is an image followed by `--obs` values, encoded as
rapt's `Encoder::Cnn` does (3×3 stride-2 convolutions with padding 1 and ReLU, orthogonal
init gain √2, a linear layer to `--features` with ReLU, the vector part concatenated);
`--head beta` is CaRL's Beta head (α, β = softplus + 1). The image is stored as bytes
and each minibatch is divided by 255, as rapt stores `k / 255` pixels.
"""

import argparse
import json
import time

import numpy as np
import torch
import torch.nn as nn
from torch.distributions.beta import Beta
from torch.distributions.normal import Normal

BETA_EPS = 1e-6


def layer_init(layer, std=np.sqrt(2), bias_const=0.0):
    torch.nn.init.orthogonal_(layer.weight, std)
    torch.nn.init.constant_(layer.bias, bias_const)
    return layer


def mlp(inp, hidden, out, gain):
    layers, width = [], inp
    for h in hidden:
        layers += [layer_init(nn.Linear(width, h)), nn.Tanh()]
        width = h
    layers.append(layer_init(nn.Linear(width, out), std=gain))
    return nn.Sequential(*layers)


class Trunk(nn.Module):
    """rapt's CNN encoder: image → features, the vector part concatenated after."""

    def __init__(self, image, channels, features):
        super().__init__()
        c, h, w = image
        layers = []
        for out in channels:
            layers += [layer_init(nn.Conv2d(c, out, 3, stride=2, padding=1)), nn.ReLU()]
            c, h, w = out, (h + 1) // 2, (w + 1) // 2
        layers += [nn.Flatten(), layer_init(nn.Linear(c * h * w, features)), nn.ReLU()]
        self.net = nn.Sequential(*layers)
        self.image = image
        self.pixels = image[0] * image[1] * image[2]

    def forward(self, x):
        img = x[:, :self.pixels].view(-1, *self.image)
        return torch.cat([self.net(img), x[:, self.pixels:]], 1)


class Agent(nn.Module):
    def __init__(self, obs_dim, act_dim, hidden, image=None, channels=(), features=0, head="gaussian"):
        super().__init__()
        self.trunk = Trunk(image, channels, features) if image else None
        width = features + obs_dim if image else obs_dim
        self.head = head
        outputs = 2 * act_dim if head == "beta" else act_dim
        self.critic = mlp(width, hidden, 1, 1.0)
        self.actor_mean = mlp(width, hidden, outputs, 0.01)
        self.act_dim = act_dim
        if head == "gaussian":
            self.actor_logstd = nn.Parameter(torch.zeros(1, act_dim))

    def features(self, x):
        return self.trunk(x) if self.trunk is not None else x

    def get_action_and_value(self, x, action=None):
        f = self.features(x)
        out = self.actor_mean(f)
        if self.head == "beta":
            ab = nn.functional.softplus(out) + 1.0
            probs = Beta(ab[:, :self.act_dim], ab[:, self.act_dim:])
            if action is None:
                action = probs.sample().clamp(BETA_EPS, 1 - BETA_EPS)
        else:
            std = torch.exp(self.actor_logstd.expand_as(out))
            probs = Normal(out, std)
            if action is None:
                action = probs.sample()
        return action, probs.log_prob(action).sum(1), probs.entropy().sum(1), self.critic(f)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--obs", type=int, default=30)
    p.add_argument("--act", type=int, default=4)
    p.add_argument("--hidden", type=int, nargs="+", default=[256, 256])
    p.add_argument("--envs", type=int, default=256)
    p.add_argument("--steps", type=int, default=64)
    p.add_argument("--minibatch", type=int, default=4096)
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--updates", type=int, default=3)
    p.add_argument("--image", type=int, nargs=3, default=None)
    p.add_argument("--channels", type=int, nargs="+", default=[32, 64, 64])
    p.add_argument("--features", type=int, default=256)
    p.add_argument("--head", choices=["gaussian", "beta"], default="gaussian")
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(1)
    T, N = a.steps, a.envs
    agent = Agent(a.obs, a.act, a.hidden, a.image, a.channels, a.features, a.head)
    opt = torch.optim.Adam(agent.parameters(), lr=3e-4, eps=1e-5)
    obs_dim = a.obs + (a.image[0] * a.image[1] * a.image[2] if a.image else 0)
    pixels = obs_dim - a.obs
    # Images are kept as bytes, as CaRL keeps its raster and rapt's rollout storage does,
    # and divided by 255 per minibatch; the vector part is float.
    images = torch.randint(0, 256, (T * N, pixels), dtype=torch.uint8)
    vectors = torch.rand(T * N, a.obs) * 2 - 1

    def observations(rows):
        if pixels == 0:
            return vectors[rows]
        return torch.cat([images[rows].float() / 255, vectors[rows]], 1)

    with torch.no_grad():
        actions, logprobs, _, values = agent.get_action_and_value(observations(slice(None)))
    actions = actions.reshape(T, N, a.act)
    logprobs = logprobs.reshape(T, N)
    values = values.reshape(T, N)
    rewards = torch.randn(T, N)
    dones = (torch.rand(T, N) < 0.02).float()
    next_value = torch.randn(N)
    gamma, lam, clip = 0.99, 0.95, 0.2

    def update():
        with torch.no_grad():
            advantages = torch.zeros_like(rewards)
            lastgaelam = 0
            for t in reversed(range(T)):
                nextvalues = next_value if t == T - 1 else values[t + 1]
                nonterminal = 1.0 - dones[t]
                delta = rewards[t] + gamma * nextvalues * nonterminal - values[t]
                advantages[t] = lastgaelam = delta + gamma * lam * nonterminal * lastgaelam
            returns = advantages + values
        b_logprobs = logprobs.reshape(-1)
        b_actions = actions.reshape(-1, a.act)
        b_advantages = advantages.reshape(-1)
        b_returns = returns.reshape(-1)
        b_values = values.reshape(-1)
        batch = T * N
        inds = np.arange(batch)
        for _ in range(a.epochs):
            np.random.shuffle(inds)
            for start in range(0, batch, a.minibatch):
                mb = inds[start:start + a.minibatch]
                _, newlogprob, entropy, newvalue = agent.get_action_and_value(observations(mb), b_actions[mb])
                logratio = newlogprob - b_logprobs[mb]
                ratio = logratio.exp()
                with torch.no_grad():
                    approx_kl = ((ratio - 1) - logratio).mean()
                    clipfrac = ((ratio - 1.0).abs() > clip).float().mean().item()
                mb_adv = b_advantages[mb]
                mb_adv = (mb_adv - mb_adv.mean()) / (mb_adv.std() + 1e-8)
                pg_loss = torch.max(-mb_adv * ratio, -mb_adv * torch.clamp(ratio, 1 - clip, 1 + clip)).mean()
                newvalue = newvalue.view(-1)
                v_unclipped = (newvalue - b_returns[mb]) ** 2
                v_clipped = b_values[mb] + torch.clamp(newvalue - b_values[mb], -clip, clip)
                v_loss = 0.5 * torch.max(v_unclipped, (v_clipped - b_returns[mb]) ** 2).mean()
                loss = pg_loss - 0.0 * entropy.mean() + 0.5 * v_loss
                opt.zero_grad()
                loss.backward()
                nn.utils.clip_grad_norm_(agent.parameters(), 0.5)
                opt.step()
        return approx_kl.item(), clipfrac

    update()  # warm-up
    start = time.perf_counter()
    for _ in range(a.updates):
        update()
    seconds = time.perf_counter() - start
    samples = a.updates * a.epochs * T * N
    print(json.dumps({"peer": f"pytorch {torch.__version__}", "threads": a.threads, "batch": T * N,
                      "minibatch": a.minibatch, "hidden": a.hidden, "image": a.image, "head": a.head,
                      "seconds": seconds,
                      "samples_per_s": samples / seconds}))


if __name__ == "__main__":
    main()
