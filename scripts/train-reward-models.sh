#!/usr/bin/env bash
# Rebuilds the shipped reward models (assets/reward-models/{Push-v2,PickPlace-v2,Insert-v1,multi}):
# one recipe per task (`rapt reward-model build`: recorded data, base model, on-policy
# rounds until the model is accurate on its own policies' states), then one
# task-conditioned model (four networks, as the recipes') trained on every task's data, and each model measured on every
# held-out set. Rerunning continues where it stopped.
#   scripts/train-reward-models.sh [WORK_DIR] [TASKS...]   # default runs/rm-recipe push pickplace insert
# Copy WORK_DIR/TASK/model over assets/reward-models/ENV_ID (and WORK_DIR/multi/model over
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
# Four networks trained apart (seeds 1-4), combined as mean − std, as the recipes' models;
# two at a time, one thread each, pinned to a core each (CORES, default "0 1").
member() {
    local k=$1 core=$2 run="$work/multi/member-$1"
    [ -e "$run/model/model.json" ] && return
    if [ -d "$run/checkpoints" ]; then
        taskset -c "$core" "$rapt" reward-model train --resume "$run" --threads 1
    else
        sed "s/^    seed: 1,/    seed: $((k + 1)),/" configs/reward-models/default.ron \
            >"$work/multi/member-$k.ron"
        grep -q "seed: $((k + 1))," "$work/multi/member-$k.ron"
        taskset -c "$core" "$rapt" reward-model train "${data[@]}" \
            --config "$work/multi/member-$k.ron" --epochs 16 --run-dir "$run" --threads 1
    fi
}
mkdir -p "$work/multi"
read -r -a cores <<<"${CORES:-0 1}"
members=()
for k in 0 1 2 3; do members+=("$work/multi/member-$k/model"); done
for ((k = 0; k < 4; k += ${#cores[@]})); do
    pids=()
    for c in "${!cores[@]}"; do
        ((k + c < 4)) || break
        member $((k + c)) "${cores[$c]}" &
        pids+=($!)
    done
    for p in "${pids[@]}"; do wait "$p"; done
done
[ -e "$work/multi/model/model.json" ] ||
    "$rapt" reward-model ensemble "${members[@]}" --out "$work/multi/model"

for t in "${tasks[@]}"; do
    for set in "$work/$t/data/recorded-heldout" "$work/$t"/data/round-?-heldout; do
        [ -d "$set" ] || continue
        for m in "$work/$t/model" "$work/multi/model"; do
            echo "== $m on $set"
            "$rapt" reward-model eval "$m" "$set" --threads 1 | grep -E "VOC|MAE|stage"
        done
    done
done
