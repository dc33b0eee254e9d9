#!/usr/bin/env bash
# Env throughput against Python peers, in one run: `rapt bench` (release build) and the
# peer env in Gymnasium (SyncVectorEnv, one process), both per core with random actions and
# resets included, and their ratio; plus rapt's two-thread scaling. Installs the peers into
# .venv-bench (git-ignored) on first use: gymnasium 1.2.2, gymnasium-robotics 1.4.2 with
# mujoco pinned to 3.11.0 (1.4.2 breaks with mujoco >= 3.12).
#   scripts/bench-envs.sh [SECONDS] [ENVS]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-5}
envs=${2:-16}
venv=.venv-bench
scripts/bench-venv.sh "gymnasium_robotics, mujoco" gymnasium==1.2.2 gymnasium-robotics==1.4.2 mujoco==3.11.0
cargo build --release -q --bin rapt
field() { python3 -c "import json,sys; print(json.loads(sys.argv[1])[sys.argv[2]])" "$1" "$2"; }
# rapt env, peer env, episode length used for both (the peer's own).
pairs=(
    "CartPole-v1 CartPole-v1 500"
    "Pendulum-v1 Pendulum-v1 200"
    "Reach-v0 FetchReach-v4 50"
    "Push-v0 FetchPush-v4 50"
    "PickPlace-v0 FetchPickAndPlace-v4 50"
)
printf '%-13s %-21s %5s %12s %12s %7s %12s %9s\n' \
    rapt peer steps rapt/core peer/core ratio rapt2/core 2thr/1thr
for pair in "${pairs[@]}"; do
    read -r ours theirs steps <<<"$pair"
    one=$(./target/release/rapt bench "$ours" --envs "$envs" --threads 1 --seconds "$seconds" \
        --max-episode-steps "$steps" --json)
    peer=$("$venv/bin/python" benches/peers/gymnasium_peer.py "$theirs" --envs "$envs" \
        --seconds "$seconds" 2>/dev/null)
    two=$(./target/release/rapt bench "$ours" --envs "$envs" --threads 2 --seconds "$seconds" \
        --max-episode-steps "$steps" --json)
    python3 - "$ours" "$theirs" "$steps" "$(field "$one" sps)" "$(field "$peer" sps_per_core)" \
        "$(field "$two" sps)" <<'PY'
import sys
ours, theirs, steps = sys.argv[1:4]
one, peer, two = map(float, sys.argv[4:])
print(f"{ours:<13} {theirs:<21} {steps:>5} {one:>12,.0f} {peer:>12,.0f} {one/peer:>6.1f}x"
      f" {two/2:>12,.0f} {two/one:>8.2f}x")
PY
done
