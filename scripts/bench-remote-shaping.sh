#!/usr/bin/env bash
# PPO on Push-v0 shaped by the shipped reward model, in-process (Learned) against served
# (`rapt reward-serve` + Remote(protocol: Progress)), PAIRS times, in one run; prints the
# last update's training steps/s of each and their ratio (docs/benchmarks.md).
#   scripts/bench-remote-shaping.sh [PAIRS] [STEPS]
set -euo pipefail
cd "$(dirname "$0")/.."
pairs=${1:-3}
steps=${2:-16000}
port=8765
cargo build --release -q --bin rapt
bin=$PWD/target/release/rapt
model=$PWD/assets/reward-models/push
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
config() { # NAME MODEL
    cat > "$work/$1.ron" <<RON
(
    name: "$1", seed: 1,
    env: (id: "Push-v0", num_envs: 32, threads: 2, params: (reward: Sparse)),
    train: (total_steps: $steps, policy: Ppo, eval_every_updates: 0, log_every_steps: 3200,
            final_eval_episodes: 2),
    ppo: (learning_rate: 0.0003, num_steps: 100, num_minibatches: 8, update_epochs: 10,
          gamma: 0.98, hidden: [256, 256], ent_coef: 0.01),
    shaping: Potential(model: $2, scale: 10.0),
)
RON
}
config learned "Learned(path: \"$model\")"
config remote "Remote(url: \"http://127.0.0.1:$port/v1\", model: \"push\", protocol: Progress, views: [\"front\", \"side\", \"wrist\"], image_size: 32, max_in_flight: 16)"
last_sps() {
    python3 -c "import csv,sys; r=list(csv.DictReader(open(sys.argv[1]))); print(float(r[-1]['charts/SPS']))" "$1/metrics.csv"
}
for k in $(seq "$pairs"); do
    "$bin" train "$work/learned.ron" --run-dir "$work/learned-$k" --no-final-eval >/dev/null 2>&1
    "$bin" reward-serve "$model" --addr "127.0.0.1:$port" --device cpu --threads 1 >/dev/null 2>&1 &
    server=$!
    sleep 1
    "$bin" train "$work/remote.ron" --run-dir "$work/remote-$k" --no-final-eval >/dev/null 2>&1
    kill -INT "$server"; wait "$server" || true
    a=$(last_sps "$work/learned-$k"); b=$(last_sps "$work/remote-$k")
    python3 -c "import sys; a,b=map(float,sys.argv[1:]); print(f'pair $k: in-process {a:,.0f} steps/s, served {b:,.0f} steps/s, ratio {b/a:.2f}')" "$a" "$b"
done
