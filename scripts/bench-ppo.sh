#!/usr/bin/env bash
# PPO update throughput against PyTorch, in one run: `rapt bench-update` (release build) and
# benches/peers/torch_ppo_update.py (CleanRL's update) with the same network, sizes and
# threads. Needs PyTorch 2.11 in .venv-bench (`.venv-bench/bin/pip install torch==2.11.0`,
# ~2.7 GB; the script installs it on first use).
#   scripts/bench-ppo.sh [THREADS]
set -euo pipefail
cd "$(dirname "$0")/.."
threads=${1:-2}
venv=.venv-bench
if ! "$venv/bin/python" -c 'import torch' 2>/dev/null; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q torch==2.11.0 numpy
fi
cargo build --release -q --bin rapt
field() { python3 -c "import json,sys; print(json.loads(sys.argv[1])[sys.argv[2]])" "$1" "$2"; }
printf '%-10s %-9s %6s %9s %14s %14s %7s\n' hidden minibatch batch threads rapt/s pytorch/s ratio
# hidden (comma), envs, steps, minibatch, timed updates
for case in "256,256 256 64 4096 3" "64,64 16 64 64 2"; do
    read -r hidden envs steps minibatch updates <<<"$case"
    ours=$(./target/release/rapt bench-update --hidden "$hidden" --envs "$envs" --steps "$steps" \
        --minibatch "$minibatch" --threads "$threads" --updates "$updates" --json)
    theirs=$("$venv/bin/python" benches/peers/torch_ppo_update.py --hidden ${hidden//,/ } \
        --envs "$envs" --steps "$steps" --minibatch "$minibatch" --threads "$threads" --updates "$updates")
    python3 - "$hidden" "$minibatch" "$((envs * steps))" "$threads" \
        "$(field "$ours" samples_per_s)" "$(field "$theirs" samples_per_s)" <<'PY'
import sys
hidden, mb, batch, threads = sys.argv[1:5]
ours, theirs = map(float, sys.argv[5:])
print(f"{hidden:<10} {mb:<9} {batch:>6} {threads:>9} {ours:>14,.0f} {theirs:>14,.0f} {ours/theirs:>6.2f}x")
PY
done
