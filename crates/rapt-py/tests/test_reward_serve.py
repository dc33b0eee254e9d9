"""`rapt reward-serve` with Python's own `openai` client: multi-view frames rendered by
the rapt package go as `image_url` parts, and Φ comes back equal to in-process scoring
(`rapt reward-model score`) within 1e-5, alone and under concurrent requests.

Records a tiny Push-v0 dataset and trains a tiny reward model with the `rapt` binary
(`$RAPT_BIN`, as in `test_rust_trace.py`), so the model is a real trained one.
"""

import base64
import io
import json
import signal
import subprocess
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

openai = pytest.importorskip("openai")
Image = pytest.importorskip("PIL.Image")

import rapt  # noqa: E402
from test_rust_trace import rapt_bin  # noqa: E402

SIZE = 16


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("rm")
    binary = str(rapt_bin())
    run = lambda *args: subprocess.run([binary, *args], check=True, capture_output=True)  # noqa: E731
    run("record", "Push-v0", "--episodes", "3", "--size", str(SIZE), "--max-steps", "20",
        "--out", str(tmp / "data"))
    (tmp / "rm.ron").write_text(
        "(epochs: 1, batch_size: 32, net: (channels: [8, 8], features: 16, hidden: 16))")
    run("reward-model", "train", str(tmp / "data"), "--config", str(tmp / "rm.ron"),
        "--run-dir", str(tmp / "push-tiny"), "--device", "cpu", "--threads", "1")
    return tmp / "push-tiny" / "model"


@pytest.fixture(scope="module")
def server(model_dir):
    proc = subprocess.Popen(
        [str(rapt_bin()), "reward-serve", str(model_dir), "--addr", "127.0.0.1:0",
         "--device", "cpu", "--threads", "1"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    first = proc.stdout.readline()
    assert first.startswith("serving `push-tiny` on http://"), first + proc.stderr.read()
    url = first.split(" on ")[1].split(" ")[0]
    yield url, proc
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, err  # stopped by SIGINT, after a clean shutdown
    assert "frame sets scored" in out, out


def frame_sets(views, count):
    """`count` frame sets of Push-v0 states (reset, then random steps), each
    `(views, SIZE, SIZE, 3)` uint8, rendered by the rapt package."""
    native = rapt._rapt.VecEnv("Push-v0", num_envs=1)
    native.set_frames(views, SIZE)
    native.reset(seed=3)
    rng = np.random.default_rng(0)
    sets = [native.frames()[0]]
    while len(sets) < count:
        native.step(rng.uniform(-1, 1, (1, 4)).astype(np.float32))
        sets.append(native.frames()[0])
    return sets


def png(frame) -> bytes:
    out = io.BytesIO()
    Image.fromarray(frame).save(out, format="PNG")
    return out.getvalue()


def in_process_phi(model_dir, sets, tmp_path):
    files = []
    for k, frames in enumerate(sets):
        for v, frame in enumerate(frames):
            path = tmp_path / f"set{k}-view{v}.png"
            path.write_bytes(png(frame))
            files.append(str(path))
    out = subprocess.run(
        [str(rapt_bin()), "reward-model", "score", str(model_dir), *files,
         "--device", "cpu", "--threads", "1"],
        check=True, capture_output=True, text=True).stdout
    return json.loads(out)["phi"]


def served_phi(client, frames) -> float:
    content = [{"type": "text", "text": "Score the task progress of these views."}]
    for frame in frames:
        data = base64.b64encode(png(frame)).decode()
        content.append({"type": "image_url", "image_url": {"url": f"data:image/png;base64,{data}"}})
    answer = client.chat.completions.create(
        model="push-tiny", messages=[{"role": "user", "content": content}], temperature=0.0)
    phi = float(answer.choices[0].message.content)
    assert answer.rapt["phi"] == pytest.approx(phi, abs=0)
    return phi


def test_openai_client_gets_the_in_process_phi(model_dir, server, tmp_path):
    url, _ = server
    views = json.loads((model_dir / "model.json").read_text())["shape"]["views"]
    sets = frame_sets(views, 12)
    expected = in_process_phi(model_dir, sets, tmp_path)
    client = openai.OpenAI(base_url=url, api_key="EMPTY", max_retries=0)
    assert [m.id for m in client.models.list().data] == ["push-tiny"]
    got = [served_phi(client, s) for s in sets]
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-5)
    assert len(set(np.round(expected, 6))) > 1, "different states score differently"
    # Concurrent requests are batched on the server; each still gets its own Φ.
    with ThreadPoolExecutor(8) as pool:
        concurrent = list(pool.map(lambda s: served_phi(client, s), sets * 4))
    np.testing.assert_allclose(concurrent, expected * 4, rtol=0, atol=1e-5)


def test_bad_requests_get_clear_openai_errors(server):
    url, _ = server
    client = openai.OpenAI(base_url=url, api_key="EMPTY", max_retries=0)
    with pytest.raises(openai.BadRequestError, match="expected 3 images"):
        client.chat.completions.create(
            model="push-tiny", messages=[{"role": "user", "content": "no images"}])
    with pytest.raises(openai.NotFoundError, match="model `gpt-4o` is not served here"):
        client.chat.completions.create(
            model="gpt-4o", messages=[{"role": "user", "content": "hi"}])


def test_potential_shaping_with_the_served_model_matches_in_process_phi(model_dir, server, tmp_path):
    """`PotentialShaping(model='Remote(... protocol: Progress ...)')` on a vector env: each
    shaped reward is r + γkΦ(s') − kΦ(s) with Φ of the same frames scored in-process."""
    import gymnasium as gym

    url, _ = server
    views = json.loads((model_dir / "model.json").read_text())["shape"]["views"]
    remote = (f'Remote(url: "{url}", model: "push-tiny", protocol: Progress, '
              f'views: [{", ".join(json.dumps(v) for v in views)}], image_size: {SIZE})')
    k, gamma = 10.0, 0.98
    shaped = rapt.wrappers.PotentialShaping(
        gym.make_vec("rapt/Push-v0", num_envs=2), scale=k, gamma=gamma, model=remote)
    plain = gym.make_vec("rapt/Push-v0", num_envs=2)
    # Frames of the same states, for in-process scoring.
    mirror = rapt._rapt.VecEnv("Push-v0", num_envs=2)
    mirror.set_frames(views, SIZE)
    shaped.reset(seed=5)
    plain.reset(seed=5)
    mirror.reset(seed=5)
    before = mirror.frames()
    rng = np.random.default_rng(1)
    for _ in range(3):
        actions = rng.uniform(-1, 1, (2, 4)).astype(np.float32)
        _, got, *_ = shaped.step(actions)
        _, base, *_ = plain.step(actions)
        mirror.step(actions)
        after = mirror.frames()
        phi = in_process_phi(model_dir, [*before, *after], tmp_path)
        expected = base + gamma * k * np.array(phi[2:]) - k * np.array(phi[:2])
        np.testing.assert_allclose(got, expected, rtol=0, atol=1e-4)
        before = after
    with pytest.raises(ValueError, match="cannot be combined with render_mode"):
        rapt.wrappers.PotentialShaping(
            gym.make_vec("rapt/Push-v0", num_envs=1, render_mode="rgb_array"), model=remote)
