#!/usr/bin/env bash
# Rebuilds the shipped reward models (assets/reward-models/{Push-v2,PickPlace-v2,Insert-v2,multi}):
# 1. one recipe per task (`rapt reward-model build`: recorded data, base model, on-policy
#    rounds until PPO shaped by the model reaches 90% of the oracle's success and the
#    model is accurate on its policies' states);
# 2. PPO shaped by each task's model on the comparison's seeds (scripts/compare-reward-models.sh
#    with KINDS=learned: the seeds the recipe's stopping round did not train), whose
#    episodes are the task-conditioned model's on-policy data;
# 3. one task-conditioned model (four networks, as the recipes') trained on every task's
#    data, and it and each task's model measured on every held-out set of the task.
# Rerunning continues where it stopped.
#   scripts/train-reward-models.sh [WORK_DIR] [TASKS...]   # default runs/rm-recipe push pickplace insert
# RECIPES (default: TASKS; "" for none) names the tasks whose recipe runs here; a task left out uses its
# shipped model (assets/reward-models/ENV_ID) where WORK_DIR has no recipe of it. SEEDS
# (default "1 2 3") and COMPARE_DIR (default runs/rm-compare) go to step 2.
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

read -r -a recipes <<<"${RECIPES-${tasks[*]}}"
for t in "${recipes[@]}"; do
    "$rapt" reward-model build "configs/reward-models/recipe-$t.ron" --out "$work/$t" --threads 1
done
compare=${COMPARE_DIR:-runs/rm-compare}
KINDS=learned scripts/compare-reward-models.sh "$work" "$compare" "${tasks[@]}"

# The task-conditioned model's data, per task: the recipe's recorded episodes and every
# round's policy episodes (where WORK_DIR/TASK is on this machine), and 150 episodes (+ 30
# held out) of each run of step 2 (COMPARE_DIR/TASK-learned-sN), recorded here. A task without its recipe directory gets the recipe's
# recorded episodes again (same policy, seeds and size: the same episodes).
# shellcheck source=scripts/reward-model-tasks.sh
. scripts/reward-model-tasks.sh
# record DIR TASK POLICY SEED EPISODES, once (DIR.done marks a finished recording), with
# the env and parameters of the task's config, as the recipe records.
record() {
    [ -e "$1.done" ] && return
    rm -rf "$1"
    "$rapt" record "$(env_of "$2")" --params "$(params_of "$2")" --policy "$3" --seed "$4" \
        --episodes "$5" --size 32 --out "$1" >/dev/null
    touch "$1.done"
}
data=()
declare -A heldout
for t in "${tasks[@]}"; do
    if [ -d "$work/$t/data/recorded" ]; then
        data+=("$work/$t/data/recorded")
        heldout[$t]="$work/$t/data/recorded-heldout"
    else
        record "$work/multi/data/$t-recorded" "$t" mixed 0 300
        record "$work/multi/data/$t-recorded-heldout" "$t" mixed 100000 60
        data+=("$work/multi/data/$t-recorded")
        heldout[$t]="$work/multi/data/$t-recorded-heldout"
    fi
    for d in "$work/$t"/data/round-*-p[0-9]; do
        [ -d "$d" ] && data+=("$d")
    done
    for d in "$work/$t"/data/round-?-heldout; do
        [ -d "$d" ] && heldout[$t]+=" $d"
    done
    for run in "$compare/$t"-learned-s[0-9]; do
        grep -q "final evaluation" "$run.log" 2>/dev/null || continue
        s=${run##*-s}
        record "$work/multi/data/$t-learned-s$s" "$t" "$run" $((900000 + 1000 * s)) 150
        record "$work/multi/data/$t-learned-s$s-heldout" "$t" "$run" $((950000 + 1000 * s)) 30
        data+=("$work/multi/data/$t-learned-s$s")
        heldout[$t]+=" $work/multi/data/$t-learned-s$s-heldout"
    done
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

# Each task's own model (the recipe's, else the shipped one) and the task-conditioned one
# on every held-out set of the task.
for t in "${tasks[@]}"; do
    own=$(own_model "$t" "$work")
    for set in ${heldout[$t]}; do
        for m in "$own" "$work/multi/model"; do
            echo "== $m on $set"
            "$rapt" reward-model eval "$m" "$set" --threads 1 | grep -E "VOC|MAE|stage"
        done
    done
done
