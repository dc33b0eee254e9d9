#!/usr/bin/env bash
# Driving env throughput against highway-env, in one run: `rapt bench` (release build) on
# the driving ids with their defaults (Drive-v0: 24 traffic cars, 64×64 raster +
# measurements, resets included) on one and two threads, and highway-env's
# highway-fast-v0 through Gymnasium (SyncVectorEnv, one process), random actions, per
# core. Installs highway-env 1.12.1 into .venv-bench (git-ignored) on first use.
#   scripts/bench-drive.sh [SECONDS] [ENVS]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-5}
envs=${2:-16}
venv=.venv-bench
scripts/bench-venv.sh "highway_env" gymnasium==1.2.2 highway-env==1.12.1
cargo build --release -q --bin rapt
field() { python3 -c "import json,sys; print(json.loads(sys.argv[1])[sys.argv[2]])" "$1" "$2"; }
peer=$("$venv/bin/python" benches/peers/gymnasium_peer.py highway-fast-v0 --envs 4 \
    --seconds "$seconds" 2>/dev/null)
peer_sps=$(field "$peer" sps_per_core)
printf '%-14s %-16s %12s %12s %8s %12s %9s\n' rapt peer rapt/core peer/core ratio rapt2/core 2thr/1thr
for ours in Drive-v0 DriveEmpty-v0 DriveDense-v0; do
    one=$(./target/release/rapt bench "$ours" --envs "$envs" --threads 1 --seconds "$seconds" --json)
    two=$(./target/release/rapt bench "$ours" --envs "$envs" --threads 2 --seconds "$seconds" --json)
    python3 - "$ours" "$(field "$one" sps)" "$peer_sps" "$(field "$two" sps)" <<'PY'
import sys
ours = sys.argv[1]
one, peer, two = map(float, sys.argv[2:])
print(f"{ours:<14} {'highway-fast-v0':<16} {one:>12,.0f} {peer:>12,.1f} {one/peer:>7.0f}x"
      f" {two/2:>12,.0f} {two/one:>8.2f}x")
PY
done
