#!/usr/bin/env bash
# Fingerprints of four short training runs, for checking that a refactor changed nothing a
# run computes (issue 28): Reach-v0 over 20 updates, oracle-shaped Push-v0 over 5 updates,
# Push-v0 shaped by the shipped learned reward model over 3 updates, and (when the binary
# has MPI) a 2-rank data-parallel Reach-v0 run over 20 updates.
#
#   scripts/check-identical.sh BIN OUT_DIR > fingerprints.txt
#   (build once before and once after a change, then `diff` the two outputs)
#
# Each run's fingerprint is the SHA-256 of its metrics.csv without the wall-time columns
# (charts/SPS, charts/*_seconds), of its newest checkpoint's tensor files and of the final
# evaluation's line. Runs are pinned to one core set and use fixed thread counts, so the
# fingerprints depend only on the code (and on this machine's libtorch).
set -euo pipefail
BIN=${1:?usage: check-identical.sh BIN OUT_DIR}
OUT=${2:?usage: check-identical.sh BIN OUT_DIR}
BIN=$(realpath "$BIN")
rm -rf "$OUT"
mkdir -p "$OUT"

run() {
    local name=$1
    shift
    "$@" --run-dir "$OUT/$name" > "$OUT/$name.out" 2> "$OUT/$name.err" || {
        echo "check-identical: $name failed, see $OUT/$name.err" >&2
        tail -n 20 "$OUT/$name.err" >&2
        exit 1
    }
}

fingerprint() {
    local name=$1 dir=$OUT/$1
    local csv
    csv=$(python3 - "$dir/metrics.csv" <<'EOF'
import csv, hashlib, sys
rows = list(csv.reader(open(sys.argv[1])))
keep = [i for i, c in enumerate(rows[0]) if c != "charts/SPS" and not c.endswith("_seconds")]
text = "\n".join(",".join(r[i] for i in keep) for r in rows)
print(hashlib.sha256(text.encode()).hexdigest()[:16], len(rows) - 1, "rows")
EOF
)
    local ckpt
    ckpt=$(ls -d "$dir"/checkpoints/update-* | sort | tail -n 1)
    local tensors
    tensors=$(cat "$ckpt"/*.safetensors | sha256sum | cut -c1-16)
    local eval
    eval=$(grep -E "final evaluation|evaluation at" "$OUT/$name.out" \
        | sed -E 's/[0-9.]+ s of training \([0-9]+ steps\/s\) and [0-9.]+ s of evaluation//' \
        | sha256sum | cut -c1-16)
    echo "$name metrics=$csv checkpoint=$(basename "$ckpt"):$tensors final_eval=$eval"
}

# Reach-v0: 16 envs x 50 steps = 800 steps per update, 20 updates.
run reach taskset -c 0 "$BIN" train configs/reach.ron \
    --set train.total_steps=16000 --set train.final_eval_episodes=20
fingerprint reach

# Push-v0 with the oracle potential: 32 envs x 100 steps, 5 updates, evaluated every 2.
run push-oracle taskset -c 0,1 "$BIN" train configs/push-shaped.ron \
    --set train.total_steps=16000 --set train.eval_every_updates=2 \
    --set train.eval_episodes=8 --set train.final_eval_episodes=8
fingerprint push-oracle

# Push-v0 shaped by assets/reward-models/push (frames scored in-process), 3 updates.
run push-learned taskset -c 0,1 "$BIN" train configs/push-asset.ron \
    --set train.total_steps=9600 --set train.eval_every_updates=2 \
    --set train.eval_episodes=4 --set train.final_eval_episodes=4
fingerprint push-learned

# Two ranks of Reach-v0 (8 envs each), 20 updates, when the binary was built with MPI.
if command -v mpirun > /dev/null && ldd "$BIN" | grep -q libmpi; then
    run reach-mpi mpirun --allow-run-as-root -np 2 --bind-to none "$BIN" train configs/reach.ron \
        --set train.total_steps=16000 --set env.num_envs=8 --set train.final_eval_episodes=20
    fingerprint reach-mpi
else
    echo "reach-mpi skipped (no mpirun, or $BIN built without MPI)"
fi
