"""Lifelong learning on real images: the four strategies of ``train.py --tasks`` on sequences built from
Fashion-MNIST, three seeds each, their accuracy matrix and figures (ACC, BWT, FWT).

    python bench/lifelong.py [--scenarios domain,class] [--strategies naive,joint,replay,lwf] [--seeds 0,1,2]
        [--results FILE] [--plot FILE] [--report]

The sequences (written once into the data folder, from ``bench/real_sets.py``'s Fashion-MNIST split):

- ``domain``: 9 tasks, every one with the 10 classes, as the object set's protocol has it: illumination
  (dim, normal, bright), occlusion (0%, 25%, 50% of the item's box hidden by a grey bar from one side) and
  scale (small, medium, large), each at its three levels with the others normal. Each task has its own
  1,500 training images and 500 test images (disjoint, drawn with seed 0), transformed.
- ``class``: 5 tasks of two classes each, in label order (split Fashion-MNIST), 1,500 training and 500
  test images per class.

A task's "validation" CSV is its test images: nothing is tuned here, every option is the port's default
but the network and the number of epochs per task (``RECIPE``). Each run is a process of its own, one at a
time; each finished run appends a JSON line to ``--results`` (a run already there is not run again).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
import time

import cv2
import numpy as np
from real_sets import prepare
from time_to_accuracy import read_results

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
RECIPE = ["--arch", "resnet18", "--width", "16", "--image-size", "32", "--epochs", "1"]
DOMAIN_TRAIN, DOMAIN_TEST = 1500, 500  # images per domain task
CLASS_TRAIN, CLASS_TEST = 1500, 500  # images per class in a class task
LEVELS = {
    "illumination": ({"gain": 0.3}, {}, {"gain": 2.2}),
    "occlusion": ({}, {"occlusion": 0.25}, {"occlusion": 0.5}),
    "scale": ({"scale": 0.55}, {}, {"scale": 1.45}),
}
LEVEL_NAMES = {
    "illumination": ("dim", "normal", "bright"),
    "occlusion": ("0%", "25%", "50%"),
    "scale": ("small", "medium", "large"),
}


def transformed(
    image: np.ndarray, rng: np.random.Generator, gain: float = 1.0, occlusion: float = 0.0, scale: float = 1.0
) -> np.ndarray:
    """A 28x28 grey item under a condition: scaled about its centre, a grey bar over ``occlusion`` of its box
    from a random side, its brightness times ``gain`` (with a little jitter), clipped."""
    out = image.astype(np.float32)
    if scale != 1.0:
        matrix = cv2.getRotationMatrix2D((13.5, 13.5), 0, scale)
        out = cv2.warpAffine(out, matrix, (28, 28), flags=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)
    if occlusion:
        ys, xs = np.nonzero(out > 30)
        if len(ys):
            top, bottom, left, right = ys.min(), ys.max() + 1, xs.min(), xs.max() + 1
            side = rng.integers(4)
            if side < 2:
                cut = round(float(right - left) * occlusion)
                cols = slice(left, left + cut) if side == 0 else slice(right - cut, right)
                out[top:bottom, cols] = 128
            else:
                cut = round(float(bottom - top) * occlusion)
                rows = slice(top, top + cut) if side == 2 else slice(bottom - cut, bottom)
                out[rows, left:right] = 128
    return np.clip(out * gain * rng.uniform(0.9, 1.1), 0, 255).astype(np.uint8)


def read_split(csv_path: str) -> tuple[list[str], np.ndarray, list[str]]:
    """A split's absolute image paths, label indices and class names (in label order of first appearance)."""
    with open(csv_path, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    names = list(dict.fromkeys(r["label"] for r in rows))
    folder = os.path.dirname(csv_path)
    return [os.path.join(folder, r["path"]) for r in rows], np.array([names.index(r["label"]) for r in rows]), names


def write_task(
    folder: str, split: str, paths: list[str], labels: np.ndarray, names: list[str], condition: dict, seed: int
) -> str:
    """Writes the images of one task's split under ``condition`` and their CSV; returns the CSV."""
    rng = np.random.default_rng(seed)
    os.makedirs(os.path.join(folder, split), exist_ok=True)
    lines = []
    for n, (path, label) in enumerate(zip(paths, labels)):
        image = transformed(cv2.imread(path, cv2.IMREAD_GRAYSCALE), rng, **condition)
        rel = os.path.join(split, f"{n:05d}.png")
        cv2.imwrite(os.path.join(folder, rel), image)
        lines.append(f"{rel},{names[label]}")
    with open(os.path.join(folder, f"{split}.csv"), "w", encoding="utf-8") as f:
        f.write("path,label\n" + "\n".join(lines) + "\n")
    return os.path.join(folder, f"{split}.csv")


def make_sequence(scenario: str, data_dir: str) -> str:
    """The tasks CSV of ``scenario``, its tasks written on first use."""
    sizes = (DOMAIN_TRAIN, DOMAIN_TEST) if scenario == "domain" else (CLASS_TRAIN, CLASS_TEST)
    folder = os.path.join(data_dir, f"fmnist_lifelong_{scenario}_{sizes[0]}_{sizes[1]}")
    tasks_csv = os.path.join(folder, "tasks.csv")
    if os.path.isfile(tasks_csv):
        return tasks_csv
    csvs = prepare("fmnist", data_dir)
    train, test = read_split(csvs["train"]), read_split(csvs["test"])
    rng, rows = np.random.default_rng(0), []
    if scenario == "domain":
        train_order, test_order = rng.permutation(len(train[0])), rng.permutation(len(test[0]))
        tasks = [
            (f"{factor} {name}", level)
            for factor, levels in LEVELS.items()
            for name, level in zip(LEVEL_NAMES[factor], levels)
        ]
        for t, (name, condition) in enumerate(tasks):
            picked = {
                "train": train_order[t * DOMAIN_TRAIN : (t + 1) * DOMAIN_TRAIN],
                "test": test_order[t * DOMAIN_TEST : (t + 1) * DOMAIN_TEST],
            }
            rows.append(_task_row(folder, t, name, train, test, picked, condition))
    else:
        for t in range(5):
            picked = {
                split: np.concatenate(
                    [rng.permutation(np.flatnonzero(data[1] == c))[:count] for c in (2 * t, 2 * t + 1)]
                )
                for split, data, count in (("train", train, CLASS_TRAIN), ("test", test, CLASS_TEST))
            }
            rows.append(_task_row(folder, t, f"{train[2][2 * t]} {train[2][2 * t + 1]}", train, test, picked, {}))
    with open(tasks_csv, "w", encoding="utf-8") as f:
        f.write("task,train_csv,val_csv\n" + "".join(f"{n},{a},{b}\n" for n, a, b in rows))
    return tasks_csv


def _task_row(folder, t, name, train, test, picked, condition):
    task_folder = os.path.join(folder, f"task{t + 1:02d}")
    csvs = [
        write_task(
            task_folder,
            split,
            [data[0][i] for i in picked[split]],
            data[1][picked[split]],
            data[2],
            condition,
            seed=1000 * t + k,
        )
        for k, (split, data) in enumerate((("train", train), ("test", test)))
    ]
    return name, os.path.relpath(csvs[0], folder), os.path.relpath(csvs[1], folder)


def run_sequence(tasks_csv: str, logdir: str, strategy: str, seed: int) -> dict:
    """One sequence trained by ``train.py --tasks`` in its own process; its figures, matrix and cost."""
    command = [
        sys.executable,
        os.path.join(ROOT, "train.py"),
        "--tasks",
        tasks_csv,
        "--logdir",
        logdir,
        "--lifelong-strategy",
        strategy,
        "--seed",
        str(seed),
        "--quiet",
        *RECIPE,
    ]
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode:
        sys.exit(f"train.py failed ({logdir}):\n{done.stderr[-3000:]}")
    with open(os.path.join(logdir, "history.csv"), newline="", encoding="utf-8") as f:
        history = list(csv.DictReader(f))
    with open(os.path.join(logdir, "accuracy_matrix.csv"), newline="", encoding="utf-8") as f:
        matrix = [[float(v) for v in row[1:]] for row in list(csv.reader(f))[2:]]
    last = history[-1]
    return {
        "acc": float(last["acc"]),
        "bwt": float(last["bwt"]),
        "fwt": float(last["fwt"]),
        "steps": sum(int(r["steps"]) for r in history),
        "memory_images": int(last["memory_images"]),
        "seconds": time.perf_counter() - start,
        "matrix": matrix,
    }


def measure(args: argparse.Namespace) -> None:
    """Runs every (scenario, strategy, seed) not yet in the results file."""
    done = {(r["scenario"], r["strategy"], r["seed"]) for r in read_results(args.results)}
    os.makedirs(os.path.dirname(os.path.abspath(args.results)), exist_ok=True)
    for scenario in args.scenarios.split(","):
        tasks_csv = make_sequence(scenario, args.data)
        for seed in (int(s) for s in args.seeds.split(",")):
            for strategy in args.strategies.split(","):
                if (scenario, strategy, seed) in done:
                    continue
                logdir = os.path.join(args.runs, f"{scenario}_{strategy}_s{seed}")
                if os.path.exists(logdir):
                    sys.exit(f"{logdir} exists without a result: remove it")
                row = {
                    "scenario": scenario,
                    "strategy": strategy,
                    "seed": seed,
                    **run_sequence(tasks_csv, logdir, strategy, seed),
                }
                with open(args.results, "a", encoding="utf-8") as f:
                    f.write(json.dumps(row) + "\n")
                print(json.dumps({k: v for k, v in row.items() if k != "matrix"}), flush=True)


def report(rows: list[dict]) -> None:
    """The table: mean and per-seed ACC, BWT, FWT per scenario and strategy, with the cost."""
    print("| scenario | strategy | ACC | BWT | FWT | ACC per seed | steps | images kept | minutes |")
    print("|---|---|---|---|---|---|---|---|---|")
    groups = {}
    for r in sorted(rows, key=lambda r: r["seed"]):
        groups.setdefault((r["scenario"], r["strategy"]), []).append(r)
    for (scenario, strategy), runs in groups.items():
        mean = {k: np.mean([r[k] for r in runs]) for k in ("acc", "bwt", "fwt", "steps", "memory_images", "seconds")}
        seeds = " ".join(f"{r['acc']:.3f}" for r in runs)
        kept = "all" if strategy == "joint" else f"{mean['memory_images']:,.0f}"  # joint trains on every image
        print(
            f"| {scenario} | {strategy} | {mean['acc']:.3f} | {mean['bwt']:+.3f} | {mean['fwt']:+.3f} | {seeds} | "
            f"{mean['steps']:,.0f} | {kept} | {mean['seconds'] / 60:.1f} |"
        )


def acc_curve(matrix: list[list[float]]) -> list[float]:
    """ACC after each task: the mean of row ``i`` of the accuracy matrix over the tasks trained so far."""
    return [float(np.mean(row[: i + 1])) for i, row in enumerate(matrix)]


def plot(rows: list[dict], path: str) -> None:
    """ACC after each task against the number of tasks trained, one panel per scenario, a curve of the seeds'
    mean per strategy with their range shaded."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    scenarios = list(dict.fromkeys(r["scenario"] for r in rows))
    fig, axes = plt.subplots(1, len(scenarios), figsize=(5.5 * len(scenarios), 4.2), squeeze=False)
    for ax, scenario in zip(axes[0], scenarios):
        for strategy in dict.fromkeys(r["strategy"] for r in rows if r["scenario"] == scenario):
            curves = np.array(
                [acc_curve(r["matrix"]) for r in rows if (r["scenario"], r["strategy"]) == (scenario, strategy)]
            )
            tasks = np.arange(1, curves.shape[1] + 1)
            (line,) = ax.plot(
                tasks, curves.mean(0), marker="o", label=f"{strategy} ({len(curves)} seed{'s' * (len(curves) > 1)})"
            )
            ax.fill_between(tasks, curves.min(0), curves.max(0), color=line.get_color(), alpha=0.2)
            ax.set_xticks(tasks)
        ax.set(
            title=f"Fashion-MNIST, {scenario}-incremental",
            xlabel="tasks trained",
            ylabel="ACC (mean top-1, tasks so far)",
        )
        ax.set_ylim(0, 1)
        ax.grid(alpha=0.3)
        ax.legend(loc="lower left")
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scenarios", default="domain,class")
    parser.add_argument("--strategies", default="naive,joint,replay,lwf")
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--data", default=os.path.expanduser("~/.cache/resnet-tf-bench"))
    parser.add_argument("--runs", default=os.path.join(ROOT, "runs", "lifelong-bench"))
    parser.add_argument("--results", default=os.path.join(ROOT, "runs", "lifelong-bench", "results.jsonl"))
    parser.add_argument("--plot", default=os.path.join(HERE, "lifelong.png"), help="ACC after each task, drawn")
    parser.add_argument("--report", action="store_true", help="only the table and plot of the results so far")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    """Measures what is missing, then prints the table and draws the plot."""
    args = parse(argv)
    if not args.report:
        measure(args)
    rows = read_results(args.results)
    report(rows)
    if rows:
        plot(rows, args.plot)
        print(f"plot: {args.plot}")


if __name__ == "__main__":
    main()
