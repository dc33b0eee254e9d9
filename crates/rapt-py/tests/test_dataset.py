"""`rapt.read_dataset`: a dataset `rapt record` wrote, read into NumPy arrays. The frames
of each episode's reset state are what the Python env renders for the same seed and view,
pixel for pixel, and a damaged file is refused naming it."""

import subprocess

import gymnasium as gym
import numpy as np
import pytest

import rapt
from rapt.dataset import DatasetError
from test_rust_trace import rapt_bin  # noqa: E402

SIZE = 16


def record(out, seed, episodes):
    subprocess.run([str(rapt_bin()), "record", "Push-v0", "--policy", "expert", "--seed",
                    str(seed), "--episodes", str(episodes), "--size", str(SIZE),
                    "--clip-fraction", "0", "--max-steps", "30", "--out", str(out)],
                   check=True, capture_output=True)


def test_a_recorded_dataset_reads_into_arrays_that_match_the_env(tmp_path):
    data = tmp_path / "data"
    record(data, seed=7, episodes=2)
    ds = rapt.read_dataset(data)
    views = ds.manifest["views"]
    assert ds.manifest["env"] == "Push-v0" and ds.manifest["size"] == SIZE
    assert [e.seed for e in ds.episodes] == [7, 8]
    for ep in ds.episodes:
        t = ep.steps
        assert ep.kind == "Expert" and 1 < t <= 31
        assert ep.frames.shape == (t, len(views), SIZE, SIZE, 3) and ep.frames.dtype == np.uint8
        assert ep.phi.shape == ep.stage.shape == ep.stage_progress.shape == ep.success.shape == (t,)
        assert ((0 <= ep.phi) & (ep.phi <= 1)).all()
        assert ep.phi[-1] > ep.phi[0], "the expert makes progress"
        for k, view in enumerate(views):
            env = gym.make("rapt/Push-v0", render_mode="rgb_array", view=view, render_size=SIZE)
            env.reset(seed=ep.seed)
            np.testing.assert_array_equal(ep.frames[0, k], env.render())
            env.close()


def test_a_damaged_episode_is_refused_naming_its_file(tmp_path):
    data = tmp_path / "data"
    record(data, seed=3, episodes=1)
    victim = next((data / "episodes").glob("ep-*.rep"))
    raw = bytearray(victim.read_bytes())
    raw[len(raw) // 2] ^= 0x55
    victim.write_bytes(bytes(raw))
    with pytest.raises(DatasetError, match=victim.name):
        rapt.read_dataset(data)
