"""Time to the first training step, and peak memory, on an ImageNet-sized list (1.28 million rows).

    python bench/big_list.py [--rows 1280000] [--keep FOLDER]

Writes ``--rows`` image files (hard links to a few dozen small PNG and JPEG files, in 1,000 class folders, so the
set costs inodes but no disk space), a CSV listing them and a small validation CSV, then runs
``train.py`` on them twice in the same run folder: a first start to step 1 (every file's signature checked,
the check cache written) and a resume to step 2 (files unchanged since the check not reopened). Each start
is a process of its own; its wall time until it logs its first training step and its peak resident memory
are reported. The last line is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time

import cv2
import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CLASSES = 1000
TRAIN = [
    "--arch",
    "resnet18",
    "--width",
    "8",
    "--image-size",
    "32",
    "--batch-size",
    "32",
    "--log-every",
    "1",
    "--eval-every",
    "1",
    "--ckpt-every",
    "1",
]


def write_set(folder: str, rows: int) -> tuple[str, str]:
    """``rows`` hard-linked images in ``CLASSES`` folders; ``train.csv`` lists them all, ``val.csv`` 1,000."""
    sources = []  # enough that no file gets more hard links than ext4 allows (65,000)
    for i in range(max(4, 2 * (rows // 50_000 + 1))):
        path = os.path.join(folder, f"source{i}" + (".png", ".jpg")[i % 2])
        cv2.imwrite(path, np.full((32, 32, 3), (7 * i) % 256, np.uint8))
        sources.append(path)
    for c in range(CLASSES):
        os.makedirs(os.path.join(folder, f"n{c:04d}"), exist_ok=True)
    lines = []
    for i in range(rows):
        source = sources[i % len(sources)]
        rel = f"n{i % CLASSES:04d}/{i:08d}{os.path.splitext(source)[1]}"
        os.link(source, os.path.join(folder, rel))
        lines.append(f"{rel},n{i % CLASSES:04d}")
    paths = []
    for name, body in (("train.csv", lines), ("val.csv", lines[:CLASSES])):
        paths.append(os.path.join(folder, name))
        with open(paths[-1], "w") as f:
            f.write("path,label\n" + "\n".join(body) + "\n")
    return paths[0], paths[1]


def one_start(train_csv: str, val_csv: str, logdir: str, steps: int) -> dict:
    """One ``train.py`` process to ``steps``: seconds to its first training step's log line, total seconds,
    peak resident memory in MiB."""
    start = time.perf_counter()
    proc = subprocess.Popen(
        [
            sys.executable,
            "train.py",
            "--train-csv",
            train_csv,
            "--val-csv",
            val_csv,
            "--logdir",
            logdir,
            "--max-steps",
            str(steps),
            *TRAIN,
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    first_step, output = None, []
    for line in proc.stdout:
        output.append(line)
        if first_step is None and re.match(r"step \d+/\d+:", line):
            first_step = time.perf_counter() - start
    _, status, usage = os.wait4(proc.pid, 0)
    if status != 0:
        raise SystemExit("train.py failed:\n" + "".join(output[-20:]))
    return {
        "first_step_s": round(first_step, 1),
        "total_s": round(time.perf_counter() - start, 1),
        "peak_rss_mib": round(usage.ru_maxrss / 1024),
    }


def main(argv=None) -> int:
    """Runs the measurement."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_280_000)
    parser.add_argument("--keep", help="write the set here and keep it (default: a temporary folder)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as scratch:
        folder = args.keep or scratch
        os.makedirs(folder, exist_ok=True)
        started = time.perf_counter()
        train_csv, val_csv = write_set(folder, args.rows)
        print(f"wrote {args.rows} files and their CSV in {time.perf_counter() - started:.0f} s", flush=True)
        logdir = os.path.join(scratch, "run")
        first = one_start(train_csv, val_csv, logdir, steps=1)
        print(f"first start: step 1 after {first['first_step_s']} s, peak {first['peak_rss_mib']} MiB", flush=True)
        resumed = one_start(train_csv, val_csv, logdir, steps=2)
        print(f"resume: step 2 after {resumed['first_step_s']} s, peak {resumed['peak_rss_mib']} MiB", flush=True)
    print(json.dumps({"rows": args.rows, "cores": os.cpu_count(), "first_start": first, "resume": resumed}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
