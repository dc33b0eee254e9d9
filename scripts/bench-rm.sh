#!/usr/bin/env bash
# Reward-model scoring throughput against PyTorch, in one run: `rapt reward-model bench`
# (release build; host u8 frames → Φ on the host, as the shaping thread scores them) and
# benches/peers/torch_rm_scoring.py (the same network in PyTorch), same batch and threads.
# Needs PyTorch in .venv-bench (installed on first use, ~2.7 GB).
#   scripts/bench-rm.sh [MODEL_DIR] [BATCH] [SECONDS]
set -euo pipefail
cd "$(dirname "$0")/.."
model=${1:-fresh:3:32:2}
batch=${2:-256}
seconds=${3:-5}
venv=.venv-bench
if ! "$venv/bin/python" -c 'import torch' 2>/dev/null; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q torch==2.11.0 numpy
fi
cargo build --release -q --bin rapt
ours=$(./target/release/rapt reward-model bench "$model" --batch "$batch" --seconds "$seconds" --device cpu --threads 2)
echo "rapt:    $ours"
theirs=$("$venv/bin/python" benches/peers/torch_rm_scoring.py --batch "$batch" --seconds "$seconds" --threads 2)
echo "pytorch: $theirs"
python3 - "$ours" "$theirs" <<'PY'
import json, re, sys
ours = float(re.search(r"([0-9.]+) frame sets/s", sys.argv[1]).group(1))
theirs = json.loads(sys.argv[2])["frame_sets_per_s"]
print(f"ratio rapt / pytorch: {ours / theirs:.2f}x ({ours:,.0f} vs {theirs:,.0f} frame sets/s)")
PY
