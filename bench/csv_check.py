"""Speed of checking an image CSV (structure, labels, and each file's signature and end marker).

    python bench/csv_check.py [--rows 100000]

Writes ``--rows`` image files (hard links to a few real PNG and JPEG files, so the set costs no disk
space) and a CSV listing them, then times :func:`data_utils.read_image_csv` three times: a first check
(files in the page cache, as on a machine that has just written or read them), the check of a resumed run
(which reuses the first check for files whose size and modification time have not changed), and a first
check again. The last line is one JSON object with rows/s.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import cv2
import numpy as np

from data_utils.csv_table import RowChecks, read_image_csv


def write_set(folder: str, rows: int) -> str:
    """``rows`` hard-linked image files in 100 class folders and ``list.csv``."""
    sources = []
    for i, ext in enumerate((".png", ".jpg", ".png", ".jpg")):
        path = os.path.join(folder, f"source{i}{ext}")
        cv2.imwrite(path, np.full((32, 32, 3), 40 * i, np.uint8))
        sources.append(path)
    lines = ["path,label"]
    for i in range(rows):
        rel = f"c{i % 100:03d}/{i:07d}{os.path.splitext(sources[i % 4])[1]}"
        os.makedirs(os.path.join(folder, os.path.dirname(rel)), exist_ok=True)
        os.link(sources[i % 4], os.path.join(folder, rel))
        lines.append(f"{rel},c{i % 100:03d}")
    with open(os.path.join(folder, "list.csv"), "w") as f:
        f.write("\n".join(lines) + "\n")
    return os.path.join(folder, "list.csv")


def timed_check(csv_path: str, cache_dir: str) -> float:
    """Seconds for one read_image_csv with the check cache in ``cache_dir``."""
    start = time.perf_counter()
    table = read_image_csv(csv_path, checks=RowChecks(check_cache=os.path.join(cache_dir, "image_check.npz")))
    elapsed = time.perf_counter() - start
    assert len(table) > 0
    return elapsed


def main(argv=None) -> int:
    """Runs the measurement."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    args = parser.parse_args(argv)
    with (
        tempfile.TemporaryDirectory() as folder,
        tempfile.TemporaryDirectory() as run_a,
        tempfile.TemporaryDirectory() as run_b,
    ):
        csv_path = write_set(folder, args.rows)
        first = timed_check(csv_path, run_a)
        resumed = timed_check(csv_path, run_a)
        again = timed_check(csv_path, run_b)
    result = {
        "rows": args.rows,
        "cores": os.cpu_count(),
        "first_check_rows_per_sec": round(args.rows / first),
        "resumed_rows_per_sec": round(args.rows / resumed),
        "first_check_again_rows_per_sec": round(args.rows / again),
    }
    print(f"{args.rows} rows: first check {first:.2f} s, resumed {resumed:.2f} s, first check again {again:.2f} s")
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
