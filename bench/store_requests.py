"""What a run folder in a bucket costs: the requests a training run makes to the store, by what they are for,
and the seconds they add, against a real GCS server on 127.0.0.1 (``tests/gcs_server.py``: fake-gcs-server
behind a proxy that logs every request) reached through TensorFlow's own ``gs://`` client.

    python bench/store_requests.py [--steps 1000] [--size 32] [--per-class 40] [--ckpt-every 1000]

The same small run (a narrow ResNet-18 on the demo set, so that the store's share of the time shows) is trained
twice as a user would start it, in a process of its own: images, CSVs and run folder in the bucket, then all of
them in a local folder. Every option but the data, the network's size, ``--max-steps`` and ``--ckpt-every`` at
its default (validation every epoch, summaries every 50 steps), and batch 32 (docs/storage.md's figures). Prints a table of requests
by purpose (totals and per 1,000 steps) and the two wall times.
"""

from __future__ import annotations

import argparse
import collections
import os
import re
import subprocess
import sys
import tempfile
import time
import urllib.parse

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from data_utils.demo import make_demo_dataset  # noqa: E402  (after the path above)
from tests.gcs_server import LocalGcs, local_gcs  # noqa: E402

BUCKET = "bench-bucket"
NETWORK = ["--arch", "resnet18", "--width", "8", "--stem", "standard"]
# what each request was for, by the object it names (first match wins)
PURPOSES = (
    ("images (read)", r"\.(png|jpe?g|bmp|webp)$"),
    ("checkpoints/ (periodic)", r"/checkpoints/"),
    ("best/ (best checkpoint)", r"/best/"),
    ("TensorBoard events", r"/(train|val)/|events\.out"),
    ("train.log", r"train\.log"),
    ("history.csv", r"history\.csv"),
    ("run.lock (heartbeat)", r"run\.lock"),
    ("config.json", r"config\.json"),
    ("CSVs", r"\.csv"),
)


def object_of(path: str) -> str:
    """The object a request's path names: ``name=`` of an upload, ``prefix=`` of a listing, else the path."""
    path = urllib.parse.unquote(path)
    for key in ("name", "prefix"):
        found = re.search(rf"[?&]{key}=([^&]+)", path)
        if found:
            return found.group(1)
    return re.sub(r"\?.*|/rewriteTo/.*", "", path)


def purpose_of(path: str) -> str:
    """What a request was for (see PURPOSES); "the run folder" for the rest (listings and checks of it)."""
    name = re.sub(r"\.tmp[-0-9a-f]*$|\.tempstate\d+$", "", object_of(path))
    return next((label for label, pattern in PURPOSES if re.search(pattern, name)), "the run folder (other)")


def upload_demo(store: LocalGcs, local: str, size: int, per_class: int) -> tuple[str, str]:
    """The demo set made in ``local`` and uploaded to the bucket as ``gsutil cp -r`` would; its two CSVs there."""
    make_demo_dataset(local, num_classes=6, per_class=per_class, size=size, show_progress=False)
    for folder, _, names in os.walk(local):
        for name in names:
            relative = os.path.relpath(os.path.join(folder, name), local)
            with open(os.path.join(folder, name), "rb") as f:
                store.upload(f"gs://{BUCKET}/data/{relative}", f.read())
    return f"gs://{BUCKET}/data/train.csv", f"gs://{BUCKET}/data/val.csv"


def train(csvs: tuple[str, str], logdir: str, args: argparse.Namespace, env: dict) -> float:
    """Seconds a ``train.py`` run takes from start to exit."""
    command = [sys.executable, "train.py", "--train-csv", csvs[0], "--val-csv", csvs[1], "--logdir", logdir]
    command += [*NETWORK, "--image-size", str(args.size), "--max-steps", str(args.steps)]
    command += ["--ckpt-every", str(args.ckpt_every), "--batch-size", "32"]
    print(f"training {args.steps} steps, run folder {logdir} ...", flush=True)
    started = time.monotonic()
    subprocess.run(command, cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL)
    return time.monotonic() - started


def table(requests: list, steps: int) -> str:
    """Markdown: requests by purpose and HTTP method, totals and per 1,000 steps."""
    methods = collections.defaultdict(collections.Counter)
    for r in requests:
        methods[purpose_of(r.path)][r.method] += 1
    lines = ["| for | requests | per 1,000 steps | by method |", "|---|---:|---:|---|"]
    for purpose, by_method in sorted(methods.items(), key=lambda item: -item[1].total()):
        count = by_method.total()
        by = ", ".join(f"{m} {n}" for m, n in by_method.most_common())
        lines.append(f"| {purpose} | {count:,} | {count * 1000 / steps:,.0f} | {by} |")
    lines.append(f"| **all** | **{len(requests):,}** | **{len(requests) * 1000 / steps:,.0f}** | |")
    return "\n".join(lines)


def main() -> None:
    """Runs the two trainings and prints the table and the times."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=1000)
    parser.add_argument("--size", type=int, default=32, help="image size")
    parser.add_argument("--per-class", type=int, default=40, help="demo images per class (6 classes)")
    parser.add_argument("--ckpt-every", type=int, default=1000, help="train.py's --ckpt-every (its default)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as work, local_gcs(work, BUCKET) as store:
        csvs = upload_demo(store, f"{work}/data", args.size, args.per_class)
        store.forget()
        in_bucket = train(csvs, f"gs://{BUCKET}/run", args, dict(os.environ, **store.env))
        requests = store.requests
        local = train((f"{work}/data/train.csv", f"{work}/data/val.csv"), f"{work}/run", args, dict(os.environ))
    failed = sum(r.status >= 400 for r in requests)
    print(table(requests, args.steps))
    print(f"\n{len(requests):,} requests ({failed} answered 4xx/5xx: a missing object asked for is a 404)")
    print(f"wall time: {in_bucket:.1f} s in the bucket, {local:.1f} s in a local folder, for {args.steps} steps")


if __name__ == "__main__":
    main()
