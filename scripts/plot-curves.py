"""Plot learning curves from runs' metrics.csv into a PNG (for docs/).

    .venv-bench/bin/python scripts/plot-curves.py OUT.png COLUMN LABEL=RUN_DIR[:COLUMN] ...

COLUMN is a metrics.csv column, e.g. `eval/success_rate`, `eval/driving_score`,
`charts/success_rate`; a series may name its own after the run directory. Needs matplotlib (`.venv-bench/bin/pip install matplotlib`).
"""

import csv
import math
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def series(run_dir: str, column: str):
    steps, values = [], []
    with open(f"{run_dir}/metrics.csv") as f:
        for row in csv.DictReader(f):
            v = float(row[column])
            if math.isnan(v):
                continue
            steps.append(int(row["global_step"]))
            values.append(v)
    return steps, values


def main() -> None:
    out, column, runs = sys.argv[1], sys.argv[2], sys.argv[3:]
    fig, ax = plt.subplots(figsize=(6, 3.5), dpi=120)
    for spec in runs:
        label, run_dir = spec.split("=", 1)
        run_dir, _, own = run_dir.partition(":")
        steps, values = series(run_dir, own or column)
        # Periodic evaluations hold their value until the next one: draw steps.
        style = "steps-post" if (own or column).startswith("eval/") else "default"
        ax.plot(steps, values, label=label, drawstyle=style)
    ax.set_xlabel("env steps")
    ax.set_ylabel(column)
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(out)


if __name__ == "__main__":
    main()
