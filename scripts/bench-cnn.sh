#!/usr/bin/env bash
# CaRL-sized CNN PPO update against PyTorch, in one run (docs/benchmarks.md): `rapt
# bench-update` and benches/peers/torch_ppo_update.py with a 6×64×64 raster + 29
# measurements, rapt's CNN (32, 64, 64 channels, 256 features), [256, 256] MLPs, CaRL's
# Beta head, Drive-v0's rollout (32 envs × 256 steps), minibatch 4,096, 3 epochs. PyTorch
# runs as users run it and with the malloc settings rapt applies itself (no mmap, and a
# 64 GiB trim threshold standing for "never trim"); rapt with and
# without them (RAPT_MALLOC_TUNING=0). Needs PyTorch 2.11 in .venv-bench (installed on
# first use, ~2.7 GB; PEER_VENV=DIR uses another venv with torch 2.11).
#   scripts/bench-cnn.sh [THREADS] [UPDATES]
set -euo pipefail
cd "$(dirname "$0")/.."
threads=${1:-2}
updates=${2:-1}
venv=${PEER_VENV:-.venv-bench}
if ! "$venv/bin/python" -c 'import torch' 2>/dev/null; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q torch==2.11.0 numpy
fi
make -s build >/dev/null
sizes=(--obs 29 --act 2 --envs 32 --steps 256 --minibatch 4096 --epochs 3 --threads "$threads" --updates "$updates")
field() { python3 -c "import json,sys; print(json.loads(sys.argv[1]).get(sys.argv[2]))" "$1" "$2"; }
ours=$(./target/release/rapt bench-update --image 6,64,64 --head beta "${sizes[@]}" --json)
ours_plain=$(RAPT_MALLOC_TUNING=0 ./target/release/rapt bench-update --image 6,64,64 --head beta "${sizes[@]}" --json)
theirs=$("$venv/bin/python" benches/peers/torch_ppo_update.py --image 6 64 64 --head beta "${sizes[@]}")
theirs_tuned=$(MALLOC_MMAP_MAX_=0 MALLOC_TRIM_THRESHOLD_=68719476736 \
    "$venv/bin/python" benches/peers/torch_ppo_update.py --image 6 64 64 --head beta "${sizes[@]}")
python3 - "$threads" "$(field "$ours" samples_per_s)" "$(field "$ours" minor_faults_per_update)" \
    "$(field "$ours_plain" samples_per_s)" "$(field "$ours_plain" minor_faults_per_update)" \
    "$(field "$theirs" samples_per_s)" "$(field "$theirs_tuned" samples_per_s)" <<'PY'
import sys
threads = sys.argv[1]
ours, faults, plain, plain_faults, theirs, tuned = map(float, sys.argv[2:])
print(f"CNN PPO update, {threads} threads, samples/s (minor page faults per update):")
print(f"  rapt                        {ours:8,.0f}  ({faults:,.0f})")
print(f"  rapt, RAPT_MALLOC_TUNING=0  {plain:8,.0f}  ({plain_faults:,.0f})")
print(f"  PyTorch                     {theirs:8,.0f}")
print(f"  PyTorch, same malloc setup  {tuned:8,.0f}")
print(f"  rapt / PyTorch {ours/theirs:.2f}x; rapt / PyTorch with the same malloc setup {ours/tuned:.2f}x")
PY
