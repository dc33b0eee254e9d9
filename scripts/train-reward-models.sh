#!/usr/bin/env bash
# Rebuilds the shipped reward models (assets/reward-models/{push,pickplace,insert,multi}):
# one recipe per task (`rapt reward-model build`: recorded data, base model, on-policy
# rounds until the model is accurate on its own policies' states), then one
# task-conditioned model trained on every task's data, and each model measured on every
# held-out set. Rerunning continues where it stopped.
#   scripts/train-reward-models.sh [WORK_DIR] [TASKS...]   # default runs/rm-recipe push pickplace insert
# Copy WORK_DIR/TASK/model over assets/reward-models/TASK (and WORK_DIR/multi/model over
# assets/reward-models/multi) after comparing them with `rapt reward-model eval`.
set -euo pipefail
cd "$(dirname "$0")/.."
work=${1:-runs/rm-recipe}
shift || true
tasks=("${@:-push pickplace insert}")
read -r -a tasks <<<"${tasks[*]}"
rapt=${RAPT_BIN:-./target/release/rapt}
[ -x "$rapt" ] || cargo build --release -q --bin rapt

for t in "${tasks[@]}"; do
    "$rapt" reward-model build "configs/reward-models/recipe-$t.ron" --out "$work/$t" --threads 1
done

# The task-conditioned model: every task's recorded and on-policy training data.
data=()
for t in "${tasks[@]}"; do
    data+=("$work/$t/data/recorded")
    for d in "$work/$t"/data/round-*-p[0-9]; do data+=("$d"); done
done
if [ ! -e "$work/multi/model/model.json" ]; then
    if [ -d "$work/multi/checkpoints" ]; then
        "$rapt" reward-model train --resume "$work/multi" --threads 1
    else
        "$rapt" reward-model train "${data[@]}" --config configs/reward-models/default.ron \
            --epochs 16 --run-dir "$work/multi" --threads 1
    fi
fi

for t in "${tasks[@]}"; do
    for set in "$work/$t/data/recorded-heldout" "$work/$t"/data/round-?-heldout; do
        [ -d "$set" ] || continue
        for m in "$work/$t/model" "$work/multi/model"; do
            echo "== $m on $set"
            "$rapt" reward-model eval "$m" "$set" --threads 1 | grep -E "VOC|MAE|stage"
        done
    done
done
