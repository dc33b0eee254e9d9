#!/usr/bin/env python3
"""Compare two training runs for bit-identity: every metrics.csv column they share (by
name, except the ones given with --ignore, e.g. wall-time columns) row by row, and every
checkpoint file byte by byte. Exit status 0 when identical.

    scripts/compare-runs.py RUN_A RUN_B [--ignore charts/SPS ...] (default: the timing columns)

Used to check that a refactoring changes no behaviour: run the same config and seed with
the binary before and after, then compare the two run directories.
"""
import argparse
import csv
import hashlib
import pathlib
import sys


def rows(run):
    with open(run / "metrics.csv", newline="") as f:
        return list(csv.DictReader(f))


def digest(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("a", type=pathlib.Path)
    p.add_argument("b", type=pathlib.Path)
    p.add_argument("--ignore", nargs="*", default=["charts/SPS", "charts/rollout_seconds", "charts/update_seconds", "charts/allreduce_seconds"])
    args = p.parse_args()
    a, b = rows(args.a), rows(args.b)
    cols_a, cols_b = set(a[0]) if a else set(), set(b[0]) if b else set()
    common = sorted((cols_a & cols_b) - set(args.ignore))
    print(f"metrics.csv: {len(a)} and {len(b)} rows; {len(common)} shared columns compared")
    for name, only in [(args.a, cols_a - cols_b), (args.b, cols_b - cols_a)]:
        if only:
            print(f"  only in {name}: {', '.join(sorted(only))}")
    same = len(a) == len(b)
    for ra, rb in zip(a, b):
        for c in common:
            if ra[c] != rb[c]:
                same = False
                print(f"  differs at global_step {ra.get('global_step')}: {c} {ra[c]} vs {rb[c]}")
    files_a = {p.relative_to(args.a / "checkpoints") for p in (args.a / "checkpoints").rglob("*") if p.is_file()}
    files_b = {p.relative_to(args.b / "checkpoints") for p in (args.b / "checkpoints").rglob("*") if p.is_file()}
    if files_a != files_b:
        same = False
        print(f"  checkpoint files differ: {sorted(map(str, files_a ^ files_b))}")
    for f in sorted(files_a & files_b):
        if digest(args.a / "checkpoints" / f) != digest(args.b / "checkpoints" / f):
            same = False
            print(f"  checkpoints/{f}: different bytes")
    print(f"checkpoints: {len(files_a & files_b)} files compared")
    print("IDENTICAL" if same else "DIFFERENT")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
