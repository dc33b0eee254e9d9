#!/usr/bin/env bash
# PandaPush-v0 steps/s per core against a MuJoCo push peer, in one run, both pinned to the
# same core (`taskset -c 0`), one process each, random actions, resets included, 50-step
# episodes, 25 Hz control on both sides: gymnasium-robotics' FetchPush-v4 (MuJoCo 3.11,
# 20 substeps of 2 ms) against rapt's PandaPush-v0 (4 substeps of 10 ms), plus rapt's own
# Push-v2 (the RaptArm) for reference. ManiSkill3's PushCube-v1 (the Panda peer the issue
# names first) is tried too: it needs a Vulkan device SAPIEN accepts, which this machine's
# software Vulkan (Debian 12's lavapipe, Mesa 22.3) is not; the script says so and goes on.
#   scripts/bench-panda.sh [SECONDS] [ENVS]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-10}
envs=${2:-16}
venv=.venv-bench
scripts/bench-venv.sh "gymnasium_robotics, mujoco" gymnasium==1.2.2 gymnasium-robotics==1.4.2 mujoco==3.11.0
cargo build --release -q --bin rapt
field() { python3 -c "import json,sys; print(json.loads(sys.argv[1])[sys.argv[2]])" "$1" "$2"; }
ours() {
    taskset -c 0 ./target/release/rapt bench "$1" --envs "$envs" --threads 1 --seconds "$seconds" \
        --max-episode-steps 50 --json
}
panda=$(ours PandaPush-v0)
arm=$(ours Push-v2)
fetch=$(OMP_NUM_THREADS=1 taskset -c 0 "$venv/bin/python" benches/peers/gymnasium_peer.py \
    FetchPush-v4 --envs "$envs" --seconds "$seconds" 2>/dev/null)
python3 - "$(field "$panda" sps)" "$(field "$arm" sps)" "$(field "$fetch" sps_per_core)" \
    "$(field "$fetch" peer)" <<'PY'
import sys
panda, arm, fetch = map(float, sys.argv[1:4])
print(f"PandaPush-v0 {panda:>8,.0f} steps/s on one core")
print(f"Push-v2      {arm:>8,.0f} steps/s on one core (the RaptArm)")
print(f"FetchPush-v4 {fetch:>8,.0f} steps/s on one core ({sys.argv[4]})")
print(f"PandaPush-v0 / FetchPush-v4 = {panda / fetch:.2f}x; PandaPush-v0 / Push-v2 = {panda / arm:.2f}x")
PY
if [ -x .venv-maniskill/bin/python ]; then
    OMP_NUM_THREADS=1 taskset -c 0 .venv-maniskill/bin/python benches/peers/maniskill_peer.py \
        PushCube-v1 --seconds "$seconds" 2>&1 | tail -n 1 || true
else
    echo "ManiSkill3 not installed (.venv-maniskill: pip install mani_skill==3.0.1)"
fi
