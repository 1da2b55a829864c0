"""The defaults at each training-set size: top-1 of ``train.py`` with only the data and ``--epochs`` given,
against recipes that change one training option, on class-balanced subsets of a real data set's training split.

    python bench/data_sizes.py [--set fmnist] [--sizes 5000,30000] [--epochs 20,5] [--candidates NAME,...]
        [--seeds 0] [--results FILE] [--report] [--list]

A subset of N images holds the first N/10 images of each class of ``bench/real_sets.py``'s training split
(its order within a class is already drawn at random, with seed 0), so the 5,000 are among the 30,000. Every
run validates on the set's validation split (5,000 images, in no subset) once an epoch, which chooses its best
checkpoint and ranks the recipes; the test set (10,000) scores that checkpoint once. The network is the
time-to-accuracy benchmark's (ResNet-18, width 32, 32 px), a user's choice for these images; everything else
is a default unless the candidate changes it. Each run is a process of its own, one at a time, and appends a
JSON line to ``--results`` with the machine it ran on (a run already there is not run again). The table gives,
per size, each candidate's mean validation and test top-1, the best recipe (by validation), and how far the
defaults are from it on the test set. Screen with one seed, then give the defaults and the best more:
``--candidates defaults,NAME --seeds 1,2``.
"""

from __future__ import annotations

import argparse
import csv
import os
import sys

import numpy as np
from real_sets import SETS, prepare
from time_to_accuracy import HERE, ROOT, machine, port_run, read_results, record

# name -> the train.py options that make the candidate (one recipe choice each, on top of the defaults)
CANDIDATES = {
    "defaults": [],
    "no augmentation": ["--augment", "none"],  # the defaults at 32 px until flips (measured as "defaults" then)
    "batch 32 lr 1e-3": ["--batch-size", "32", "--lr", "1e-3"],
    "lr 1e-3": ["--lr", "1e-3"],
    "lr 4e-3": ["--lr", "4e-3"],
    "light augmentation": ["--augment", "light"],
    "flip": ["--augment", "flip"],
    "flip one view at test": ["--augment", "flip", "--tta", "none"],
    "weight decay 5e-3": ["--weight-decay", "5e-3"],
}


def subset(train_csv: str, size: int, classes: int = 10) -> str:
    """``train_<size>.csv`` beside ``train_csv``: the first ``size / classes`` rows of each label (paths stay
    relative to the same folder)."""
    path = os.path.join(os.path.dirname(train_csv), f"train_{size}.csv")
    if os.path.isfile(path):
        return path
    with open(train_csv, newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    kept, taken = [rows[0]], {}
    for row in rows[1:]:
        if taken.get(row[1], 0) < size // classes:
            taken[row[1]] = taken.get(row[1], 0) + 1
            kept.append(row)
    if len(kept) - 1 != size:
        sys.exit(f"{train_csv} has {len(kept) - 1} images for a subset of {size}")
    with open(path + ".part", "w", newline="", encoding="utf-8") as f:
        csv.writer(f).writerows(kept)
    os.replace(path + ".part", path)
    return path


def validated(logdir: str) -> dict:
    """A finished run's best validation top-1 (the one its best checkpoint holds) and its last step, from its
    history.csv."""
    with open(os.path.join(logdir, "history.csv"), newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    return {"val_top1": max(float(row["val_top1"]) for row in rows), "steps": int(rows[-1]["step"])}


def measure(args: argparse.Namespace) -> None:
    """Runs every (size and its epochs, seed, candidate) not yet in the results file, recording each as it
    finishes."""
    here, csvs = machine(), prepare(args.set, args.data)
    done = {
        (r["size"], r["epochs"], r["candidate"], r["seed"])
        for r in read_results(args.results)
        if r["machine"] == here and r["set"] == args.set
    }
    for size, epochs in zip(args.sizes, args.epochs):
        data = {**csvs, "train": subset(csvs["train"], size)}
        for seed in args.seeds:
            for name in args.candidates:
                if (size, epochs, name, seed) in done:
                    continue
                logdir = os.path.join(args.runs, f"{args.set}_{size}x{epochs}_{name.replace(' ', '_')}_s{seed}")
                if os.path.exists(logdir):
                    sys.exit(f"{logdir} exists without a result: remove it")
                options = ["--epochs", str(epochs), *CANDIDATES[name]]
                result = port_run(data, logdir, seed, options)
                row = {"set": args.set, "size": size, "epochs": epochs, "candidate": name, "seed": seed}
                row |= {**result, **validated(logdir), "machine": here, "options": " ".join(options)}
                record(args.results, row)


def report(rows: list[dict]) -> None:
    """Per set, machine and size: each candidate's mean validation and test top-1, the best candidate by
    validation, and the defaults' distance to it on the test set."""
    groups = {}
    for r in rows:
        groups.setdefault((r["set"], r["machine"], r["size"], r["epochs"]), {}).setdefault(r["candidate"], []).append(r)
    for (name, cpu, size, epochs), by_candidate in sorted(groups.items()):
        print(f"\n{name}, {size:,} training images, {epochs} epochs ({cpu})\n")
        print("| candidate | seeds | val top-1 | test top-1 | test per seed |\n|---|---|---|---|---|")
        means = {
            c: (np.mean([r["val_top1"] for r in rs]), np.mean([r["top1"] for r in rs]))
            for c, rs in by_candidate.items()
        }
        for c, rs in sorted(by_candidate.items(), key=lambda item: -means[item[0]][0]):
            seeds = " ".join(f"{r['top1']:.3f}" for r in rs)
            print(f"| {c} | {len(rs)} | {means[c][0]:.4f} | {means[c][1]:.4f} | {seeds} |")
        best = max(means, key=lambda c: means[c][0])
        if "defaults" in means:
            gap = 100 * (means[best][1] - means["defaults"][1])
            side = "below" if gap >= 0 else "above"
            print(f"\nbest by validation: {best}; the defaults' test top-1 is {abs(gap):.1f} points {side} it")


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line."""
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument(
        "--data", default=os.path.expanduser("~/.cache/resnet-tf-bench"), help="where the data sets are kept"
    )
    p.add_argument("--runs", default=os.path.join(ROOT, "runs", "data-sizes"), help="the run folders")
    p.add_argument("--set", default="fmnist", choices=SETS)
    p.add_argument("--sizes", default="5000,30000", help="training images, comma-separated")
    p.add_argument("--epochs", default="20,5", help="epochs for each size, in the same order")
    p.add_argument("--candidates", default=",".join(CANDIDATES), help="comma-separated (--list shows them)")
    p.add_argument("--seeds", default="0")
    p.add_argument("--results", default=os.path.join(HERE, "data_sizes.jsonl"), help="a JSON line per finished run")
    p.add_argument("--report", action="store_true", help="only the table of the results so far")
    p.add_argument("--list", action="store_true", help="print the candidates and exit")
    args = p.parse_args(argv)
    args.sizes, args.epochs = [int(s) for s in args.sizes.split(",")], [int(e) for e in args.epochs.split(",")]
    args.seeds, args.candidates = [int(s) for s in args.seeds.split(",")], args.candidates.split(",")
    if len(args.sizes) != len(args.epochs):
        p.error(f"--epochs needs one value per size ({len(args.sizes)})")
    unknown = [c for c in args.candidates if c not in CANDIDATES]
    if unknown:
        p.error(f"unknown candidates {unknown}; --list shows them")
    return args


def main(argv: list[str] | None = None) -> None:
    """Measures what is missing, then prints the table."""
    args = parse(argv)
    if args.list:
        for name, options in CANDIDATES.items():
            print(f"{name:24} {' '.join(options)}")
        return
    if not args.report:
        measure(args)
    report(read_results(args.results))


if __name__ == "__main__":
    main()
