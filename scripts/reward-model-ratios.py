#!/usr/bin/env python3
"""Issue 33's comparison table from scripts/compare-reward-models.sh's report.md.

    scripts/reward-model-ratios.py runs/rm-compare/report.md [--learned 0.9] [--multi 0.85]

report.md holds one `## TASK, KIND-shaped` section per task and kind (oracle, learned,
multi), each `rapt report`'s table: a row per seed with its held-out success % and 95%
interval, steps and training minutes. Prints, per task, a row per seed with each kind's
success and the learned and multi runs' ratio to the oracle run of the same seed, then
the worst seed's ratio and whether it meets the bar (learned ≥ 0.9, multi ≥ 0.85 of the
oracle on every seed; an oracle run at 0% is met by anything; a seed missing a run
is named).
"""
import argparse
import re
import sys

SECTION = re.compile(r"^## (\S+), (\w+)-shaped\s*$")
ROW = re.compile(r"^\| (\d+) \| ([\d.]+) \(([\d.]+)–([\d.]+)\) \| (\d+) \| ([\d.]+) \|")


def parse(path):
    """{task: {kind: {seed: (success %, lo, hi, steps, minutes)}}} of report.md."""
    runs, where = {}, None
    with open(path, encoding="utf-8") as f:
        for line in f:
            m = SECTION.match(line)
            if m:
                where = runs.setdefault(m[1], {}).setdefault(m[2], {})
                continue
            m = ROW.match(line)
            if m and where is not None:
                seed, pct, lo, hi, steps, minutes = m.groups()
                where[int(seed)] = (float(pct), float(lo), float(hi), int(steps), float(minutes))
    return runs


def ratio(x, oracle):
    if x is None or oracle is None:
        return None
    return float("inf") if oracle[0] == 0 else x[0] / oracle[0]


def cell(run):
    return "—" if run is None else f"{run[0]:.1f}% ({run[1]:.1f}–{run[2]:.1f})"


def show(r, digits=2):
    if r is None:
        return "—"
    return "any" if r == float("inf") else f"{r:.{digits}f}"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("report")
    ap.add_argument("--learned", type=float, default=0.9, help="bar for the task's own model")
    ap.add_argument("--multi", type=float, default=0.85, help="bar for the multi-task model")
    args = ap.parse_args()
    runs = parse(args.report)
    if not runs:
        sys.exit(f"{args.report}: no `## TASK, KIND-shaped` sections with seed rows")
    for task, kinds in runs.items():
        oracle = kinds.get("oracle", {})
        seeds = sorted({s for k in kinds.values() for s in k})
        print(f"### {task}\n")
        print("| seed | oracle-shaped | learned-shaped | ratio | multi-shaped | ratio | steps | minutes (oracle / learned / multi) |")
        print("|---|---|---|---|---|---|---|---|")
        worst, missing = {}, set()
        for s in seeds:
            o = oracle.get(s)
            cells = [cell(o)]
            for kind in ("learned", "multi"):
                run = kinds.get(kind, {}).get(s)
                r = ratio(run, o)
                if r is None:
                    missing.add(kind)
                else:
                    worst[kind] = min(worst.get(kind, float("inf")), r)
                cells += [cell(run), show(r)]
            steps = next((k[s][3] for k in kinds.values() if s in k), 0)
            mins = " / ".join(
                "—" if s not in kinds.get(k, {}) else f"{kinds[k][s][4]:.0f}"
                for k in ("oracle", "learned", "multi")
            )
            print(f"| {s} | " + " | ".join(cells) + f" | {steps} | {mins} |")
        print()
        for kind, bar in (("learned", args.learned), ("multi", args.multi)):
            if kind in worst:
                met = "met" if worst[kind] >= bar else "NOT met"
                if kind in missing:
                    met += " so far (a seed has no run, or no oracle run)"
                print(f"- {kind}: worst seed's ratio {show(worst[kind], 3)} (bar {bar}): {met}")
        print()


if __name__ == "__main__":
    main()
