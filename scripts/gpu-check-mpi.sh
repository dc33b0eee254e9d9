#!/usr/bin/env bash
# The data-parallel update on CUDA, checked against the CPU (docs/distributed.md, "GPUs"):
# the equivalence setting of tests/distributed.rs (Reach-v0, 2 updates, one minibatch per
# epoch) three ways — 2 ranks on CUDA (gradients staged through host memory for MPI),
# 2 ranks on the CPU, 1 process with both ranks' envs on the CPU — then the largest weight
# difference of each pair. Needs mpirun and a CUDA libtorch on the machine; build rapt there
# or copy a binary built against a CUDA libtorch (STACK.md), e.g.
#   scripts/gpu-check-mpi.sh ./gpu-bin/rapt
# Passes when CUDA and CPU 2-rank weights agree to 1e-3 and the CPU pair to 1e-4.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bin=${1:-target/release/rapt}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
sets=(--set train.total_steps=800 --set ppo.num_steps=50 --set ppo.num_minibatches=1
      --set ppo.update_epochs=4 --set ppo.norm_reward=true --set train.eval_every_updates=0)
mpi=(mpirun --allow-run-as-root --oversubscribe -np 2)
[[ -n ${LD_LIBRARY_PATH:-} ]] && mpi+=(-x LD_LIBRARY_PATH)
# GPU_DEVICE=Cpu runs the script's CPU-only dry run (checks the script, not CUDA).
device=${GPU_DEVICE:-Cuda(0)}
train() { # DIR NUM_ENVS DEVICE [launcher...]
    local dir=$1 envs=$2 device=$3; shift 3
    "$@" "$bin" train configs/reach.ron --no-final-eval --run-dir "$work/$dir" \
        --set "env.num_envs=$envs" --set "device=$device" "${sets[@]}" > "$work/$dir.log" 2>&1 ||
        { cat "$work/$dir.log"; exit 1; }
}
train cuda2 4 "$device" "${mpi[@]}"
train cpu2 4 Cpu "${mpi[@]}"
train cpu1 8 Cpu
python3 - "$work" "$device" <<'PY'
import json, struct, sys, pathlib
def weights(run):
    ckpt = max(pathlib.Path(run, "checkpoints").glob("update-*"))
    raw = (ckpt / "weights.safetensors").read_bytes()
    n = struct.unpack("<Q", raw[:8])[0]
    header, data = json.loads(raw[8:8 + n]), raw[8 + n:]
    out = {}
    for name, t in header.items():
        if name == "__metadata__":
            continue
        assert t["dtype"] == "F32", (name, t["dtype"])
        a, b = t["data_offsets"]
        out[name] = struct.unpack(f"<{(b - a) // 4}f", data[a:b])
    return out
def max_diff(x, y):
    return max(abs(p - q) for k in x for p, q in zip(x[k], y[k]))
w = {r: weights(pathlib.Path(sys.argv[1], r)) for r in ("cuda2", "cpu2", "cpu1")}
gpu, cpu = max_diff(w["cuda2"], w["cpu2"]), max_diff(w["cpu2"], w["cpu1"])
print(f"max |Δw|: 2 ranks {sys.argv[2]} vs 2 ranks CPU {gpu:.3e}; 2 ranks CPU vs 1 process CPU {cpu:.3e}")
sys.exit(0 if gpu < 1e-3 and cpu < 1e-4 else 1)
PY
