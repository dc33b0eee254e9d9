"""`render_mode="rgb_array"`: camera frames from rapt's renderer, the episode's last state
after the step that ends it, one frame per sub-env from the vector env, and Gymnasium's
`RecordVideo` writing videos."""

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import rapt

SIZE = 32


def make(max_episode_steps, **kwargs):
    return gym.make("rapt/Push-v0", render_mode="rgb_array", render_size=SIZE,
                    max_episode_steps=max_episode_steps, **kwargs)


def test_render_returns_the_view_as_rgb_and_passes_check_env():
    env = make(50)
    check_env(env.unwrapped)
    env.reset(seed=1)
    frame = env.render()
    assert frame.shape == (SIZE, SIZE, 3) and frame.dtype == np.uint8
    assert frame.std() > 0, "a rendered scene, not a blank image"
    env.close()


def test_each_view_renders_its_own_camera():
    views = gym.make("rapt/Push-v0").unwrapped._native.views
    assert len(views) >= 2
    frames = []
    for view in views[:2]:
        env = make(50, view=view)
        env.reset(seed=1)
        frames.append(env.render())
        assert env.unwrapped.view == view
    assert not np.array_equal(frames[0], frames[1])


def test_after_the_last_step_render_shows_the_last_state_not_the_next_episode():
    short, long = make(5), make(10)
    short.reset(seed=4)
    long.reset(seed=4)
    rng = np.random.default_rng(0)
    for t in range(5):
        action = rng.uniform(-1, 1, 4).astype(np.float32)
        _, _, _, truncated, _ = short.step(action)
        long.step(action)
        frame = short.render()
        np.testing.assert_array_equal(frame, long.render())
    assert truncated, "5-step episodes end at step 5"
    short.reset(seed=4)
    assert not np.array_equal(short.render(), frame)


def test_vector_env_renders_one_frame_per_sub_env_like_sync_vector_env():
    vec = gym.make_vec("rapt/Push-v0", num_envs=3, threads=2, render_mode="rgb_array",
                       render_size=SIZE)
    vec.reset(seed=5)
    frames = vec.render()
    assert len(frames) == 3
    for i, frame in enumerate(frames):
        single = make(50)
        single.reset(seed=5 + i)
        np.testing.assert_array_equal(frame, single.render())
    vec.close()


def test_record_video_writes_a_video_of_each_episode(tmp_path):
    pytest.importorskip("moviepy")
    env = gym.wrappers.RecordVideo(make(8), str(tmp_path), episode_trigger=lambda k: True,
                                   disable_logger=True)
    for episode in range(2):
        env.reset(seed=episode)
        done = False
        while not done:
            _, _, terminated, truncated, _ = env.step(env.action_space.sample())
            done = terminated or truncated
    env.close()
    videos = sorted(p.name for p in tmp_path.glob("*.mp4"))
    assert videos == ["rl-video-episode-0.mp4", "rl-video-episode-1.mp4"]
    assert all((tmp_path / v).stat().st_size > 1000 for v in videos)


def test_bad_render_arguments_raise_clear_errors():
    # (gym.make turns "human" into Gymnasium's HumanRendering over "rgb_array".)
    with pytest.raises(ValueError, match="render only 'rgb_array'"):
        rapt.RaptEnv("Push-v0", render_mode="human")
    with pytest.raises(ValueError, match="view='nope'"):
        gym.make("rapt/Push-v0", render_mode="rgb_array", view="nope")
    assert rapt.RaptEnv("Push-v0").render() is None


@pytest.mark.parametrize("env_id", ["CartPole-v1", "Pendulum-v1"])
def test_classic_control_draws_a_picture_like_gymnasium(env_id):
    env = gym.make(f"rapt/{env_id}", render_mode="rgb_array", render_size=64)
    check_env(env.unwrapped)
    env.reset(seed=3)
    first = env.render()
    assert first.shape == (64, 64, 3) and first.dtype == np.uint8
    assert (first != 255).any(), "something is drawn on the white background"
    for _ in range(10):
        env.step(env.action_space.sample())
    assert not np.array_equal(first, env.render()), "the picture follows the state"
    env.close()


@pytest.mark.parametrize("env_id", rapt.ids())
def test_every_env_renders_and_passes_check_env(env_id):
    env = gym.make(f"rapt/{env_id}", render_mode="rgb_array", render_size=SIZE)
    check_env(env.unwrapped, skip_render_check=False)
    env.reset(seed=2)
    frame = env.render()
    assert frame.shape == (SIZE, SIZE, 3) and frame.dtype == np.uint8
    env.close()


def test_rendering_waits_for_render_and_shows_what_render_would_have_shown():
    """Frames are drawn when `render()` asks, yet show the state the last step returned,
    the ended episode's last one included (drawn in the step that ends it)."""
    lazy = make(6)
    lazy.reset(seed=8)
    native = lazy.unwrapped._native
    rng = np.random.default_rng(1)
    frames = []
    for t in range(6):
        lazy.step(rng.uniform(-1, 1, 4).astype(np.float32))
        if t in (2, 5):
            frames.append(lazy.render())
    # The same states, drawn by an env that renders every step.
    eager = rapt.RaptEnv("Push-v0", max_episode_steps=6)
    eager._native.set_frames([lazy.unwrapped.view], SIZE)
    eager.reset(seed=8)
    rng = np.random.default_rng(1)
    for t in range(6):
        eager.step(rng.uniform(-1, 1, 4).astype(np.float32))
        if t == 2:
            np.testing.assert_array_equal(frames[0], eager._native.frames()[0, 0])
    np.testing.assert_array_equal(frames[1], eager._native.frames(final=True)[0, 0])
    assert native.frames(final=True) is not None
