#!/usr/bin/env bash
# Learning ablations, two runs at a time, each pinned to its own core (`taskset`: side by
# side unpinned runs slow each other ~4×), one env thread each.
#   scripts/ablate.sh OUT SPEC_FILE
# SPEC_FILE has one run per line: `NAME CONFIG [--set PATH=VALUE]...` (`#` starts a
# comment). Each run goes to OUT/NAME (log OUT/NAME.log). Re-running skips finished runs and
# resumes interrupted ones from their newest checkpoint, so a sweep can be spread over
# several sittings. Runs are dealt to the cores in file order (CORES, default "0 1").
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:?usage: scripts/ablate.sh OUT SPEC_FILE}
spec=${2:?usage: scripts/ablate.sh OUT SPEC_FILE}
bin=${RAPT_BIN:-./target/release/rapt}
[ -x "$bin" ] || cargo build --release -q --bin rapt
mkdir -p "$out"

one() {
    local core=$1 name=$2 config=$3
    shift 3
    local dir=$out/$name log=$out/$name.log
    if grep -q "final evaluation" "$log" 2>/dev/null; then
        echo "$name: done"
        return
    fi
    if ls "$dir"/checkpoints/update-* >/dev/null 2>&1; then
        echo "$name: resuming on core $core"
        taskset -c "$core" "$bin" train --resume "$dir" >>"$log" 2>&1 || echo "$name: failed ($log)"
        return
    fi
    echo "$name: starting on core $core"
    rm -rf "$dir"
    taskset -c "$core" "$bin" train "$config" --run-dir "$dir" --set env.threads=1 "$@" \
        >"$log" 2>&1 || echo "$name: failed ($log)"
}

lane() {
    local core=$1
    shift
    local line
    for line in "$@"; do
        # shellcheck disable=SC2086
        one "$core" $line
    done
}

mapfile -t lines < <(grep -v '^\s*\(#\|$\)' "$spec")
read -r -a cores <<<"${CORES:-0 1}"
for c in "${!cores[@]}"; do
    mine=()
    for k in "${!lines[@]}"; do
        if ((k % ${#cores[@]} == c)); then mine+=("${lines[$k]}"); fi
    done
    lane "${cores[$c]}" "${mine[@]}" &
done
wait
grep -H "final evaluation" "$out"/*.log || true
