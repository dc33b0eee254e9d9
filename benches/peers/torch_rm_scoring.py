"""Peer for `rapt reward-model bench`: the same multi-view progress network in PyTorch
(3x3 stride-2 convs 16/32/32 with ReLU, a 128-feature projection per view, mean fusion,
a 128-unit hidden layer, stage and within-stage heads, soft Φ), scoring u8 frame sets
from host memory to Φ on the host, batch by batch, as the shaping thread does.

    python benches/peers/torch_rm_scoring.py --views 3 --size 32 --stages 2 --batch 256
Prints one JSON line: {"frame_sets_per_s": ...}.
"""
import argparse
import json
import time

import numpy as np
import torch
from torch import nn


class Net(nn.Module):
    def __init__(self, size, stages, channels=(16, 32, 32), features=128, hidden=128):
        super().__init__()
        layers, c_in, side = [], 3, size
        for c in channels:
            layers += [nn.Conv2d(c_in, c, 3, stride=2, padding=1), nn.ReLU()]
            c_in, side = c, (side + 1) // 2
        self.convs = nn.Sequential(*layers)
        self.project = nn.Linear(c_in * side * side, features)
        self.hidden = nn.Linear(features, hidden)
        self.stage = nn.Linear(hidden, stages + 1)
        self.progress = nn.Linear(hidden, stages)
        self.stages = stages

    def forward(self, frames):  # [B, V, S, S, 3] uint8
        b, v, s = frames.shape[:3]
        x = frames.reshape(b * v, s, s, 3).permute(0, 3, 1, 2).contiguous().float() / 255.0
        f = torch.relu(self.project(self.convs(x).reshape(b * v, -1))).reshape(b, v, -1)
        h = torch.relu(self.hidden(f.mean(1)))
        p = torch.softmax(self.stage(h), -1)
        within = torch.cat([torch.sigmoid(self.progress(h)), torch.zeros(b, 1)], 1)
        base = torch.arange(self.stages + 1, dtype=torch.float32)
        return ((p * (base + within)).sum(1) / self.stages).clamp(0, 1)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--views", type=int, default=3)
    ap.add_argument("--size", type=int, default=32)
    ap.add_argument("--stages", type=int, default=2)
    ap.add_argument("--batch", type=int, default=256)
    ap.add_argument("--seconds", type=float, default=5.0)
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    net = Net(a.size, a.stages).eval()
    rng = np.random.default_rng(0)
    data = rng.integers(0, 256, (a.batch, a.views, a.size, a.size, 3), dtype=np.uint8).tobytes()

    def score():
        frames = torch.frombuffer(bytearray(data), dtype=torch.uint8).reshape(
            a.batch, a.views, a.size, a.size, 3)
        with torch.no_grad():
            return net(frames).numpy()

    score()
    start, sets = time.perf_counter(), 0
    while time.perf_counter() - start < a.seconds:
        score()
        sets += a.batch
    print(json.dumps({"frame_sets_per_s": sets / (time.perf_counter() - start)}))


if __name__ == "__main__":
    main()
