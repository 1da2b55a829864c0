"""Top-1 against wall-clock budget on whole real data sets: the port's ``train.py --time-budget`` against a
PyTorch run of torchvision's reference recipe, on the same network, images and budgets.

    python bench/time_to_accuracy.py [--sets fmnist,cifar10] [--budgets 2,5,10,20] [--seeds 0,1,2]
        [--sides port,torch] [--label NAME --port-options="..."] [--results FILE] [--plot FILE] [--report]

Each run is a process of its own, one at a time (never side by side: they would share the cores). The port's
is the command a user types, ``train.py --train-csv train.csv --val-csv val.csv --time-budget 10m`` with the
network and image size below, then ``evaluate.py`` of its best checkpoint (chosen on the validation split)
on the test CSV; the reference's is ``bench/torch_budget.py``. The data sets are ``bench/real_sets.py``'s:
the validation split is carved from the training set, the test set is scored once per finished run. Each
finished run appends a JSON line to ``--results`` with the machine it ran on (a run already there for this
machine is not run again), then the table (every label) and the plot (top-1 against minutes, one curve per
machine, side and label drawn, every seed a dot; ``--plot-label``) are made from that file.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import subprocess
import sys
import time

import numpy as np
from accuracy import train_and_evaluate
from real_sets import SETS, TITLES, prepare

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HERE = os.path.dirname(os.path.abspath(__file__))
# The network of every run: a user's choice for 28-32 px images, the same on both sides.
NETWORK = {"arch": "resnet18", "width": 32, "image_size": 32}
# The port's labels the plot draws unless told: today's defaults and the defaults before them (no augmentation at
# 32 px; before that, batch 32 and Adam 1e-3).
PLOTTED = ("defaults", "no augmentation", "batch 32, lr 1e-3")


def port_run(csvs: dict, logdir: str, seed: int, options: list[str]) -> dict:
    """``train.py`` on the network above with ``options`` (its length among them), then ``evaluate.py`` of its
    best checkpoint (chosen on the validation CSV) on the test CSV."""
    command = [
        sys.executable,
        os.path.join(ROOT, "train.py"),
        "--train-csv",
        csvs["train"],
        "--val-csv",
        csvs["val"],
        "--logdir",
        logdir,
        "--arch",
        NETWORK["arch"],
        "--width",
        str(NETWORK["width"]),
        "--image-size",
        str(NETWORK["image_size"]),
        "--seed",
        str(seed),
        *options,
    ]
    _, seconds, metrics = train_and_evaluate(command, logdir, csvs["test"], "best", "test")
    with open(os.path.join(logdir, "config.json"), encoding="utf-8") as f:
        steps = json.load(f)["config"]["optimization"]["max_steps"]
    return {"top1": round(metrics["top1"], 4), "steps": steps, "process_seconds": round(seconds, 1)}


def torch_run(csvs: dict, minutes: float, seed: int) -> dict:
    """``bench/torch_budget.py`` within the budget, on the same network and images."""
    command = [
        sys.executable,
        os.path.join(HERE, "torch_budget.py"),
        *("--train-csv", csvs["train"], "--val-csv", csvs["val"], "--test-csv", csvs["test"]),
        *("--minutes", f"{minutes:g}", "--seed", str(seed), "--width", str(NETWORK["width"])),
        *("--image-size", str(NETWORK["image_size"])),
    ]
    start = time.monotonic()
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode:
        sys.exit(f"torch_budget.py failed:\n{done.stderr[-3000:]}")
    return {**json.loads(done.stdout.strip().splitlines()[-1]), "process_seconds": round(time.monotonic() - start, 1)}


def machine(cpuinfo: str = "/proc/cpuinfo") -> str:
    """The CPU the runs measure (a wall-clock budget buys what this CPU computes): its model, cores and widest
    vector and bfloat16 instructions, such as ``AMD EPYC, 2 cores, AVX-512, AVX512-BF16``."""
    sys.path.insert(0, ROOT)
    from resnet_tf.runs.hardware import BF16_CPU_FLAGS, cpu_flags, cpuinfo_field  # brings TensorFlow: when measuring

    flags, model = cpu_flags(cpuinfo), cpuinfo_field("model name", cpuinfo) or "unknown CPU"
    vector = "AVX-512" if "avx512f" in flags else "AVX2" if "avx2" in flags else "no AVX2"
    bf16 = [name for flag, name in BF16_CPU_FLAGS.items() if flag in flags]
    return ", ".join([model, f"{len(os.sched_getaffinity(0))} cores", vector, *bf16])


def read_results(path: str) -> list[dict]:
    """The runs recorded so far."""
    if not os.path.isfile(path):
        return []
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def record(path: str, row: dict) -> None:
    """Appends a finished run's ``row`` to the results file ``path`` as a JSON line, and prints it."""
    with open(path, "a", encoding="utf-8") as f:
        f.write(json.dumps(row) + "\n")
    print(json.dumps(row), flush=True)


def measure(args: argparse.Namespace) -> None:
    """Runs every (set, budget, seed, side) not yet in the results file, recording each as it finishes."""
    here = machine()
    done = {
        (r["set"], r["side"], r["label"], r["minutes"], r["seed"])
        for r in read_results(args.results)
        if r["machine"] == here
    }
    options = shlex.split(args.port_options)
    for name in args.sets.split(","):
        csvs = prepare(name, args.data)
        for minutes in (float(m) for m in args.budgets.split(",")):
            for seed in (int(s) for s in args.seeds.split(",")):
                for side in args.sides.split(","):
                    label = args.label if side == "port" else "torchvision recipe"
                    if (name, side, label, minutes, seed) in done:
                        continue
                    logdir = os.path.join(args.runs, f"{name}_{side}_{label.replace(' ', '_')}_{minutes:g}m_s{seed}")
                    if side == "port" and os.path.exists(logdir):
                        sys.exit(f"{logdir} exists without a result: remove it")
                    result = (
                        port_run(csvs, logdir, seed, ["--time-budget", f"{minutes:g}m", *options])
                        if side == "port"
                        else torch_run(csvs, minutes, seed)
                    )
                    row = {"set": name, "side": side, "label": label, "minutes": minutes, "seed": seed, **result}
                    row["machine"] = here
                    row["options"] = args.port_options if side == "port" else ""
                    record(args.results, row)


def curves(rows: list[dict]) -> dict:
    """``{(set, machine, side, label): {minutes: [top-1 per seed]}}``."""
    table = {}
    for r in rows:
        key = (r["set"], r["machine"], r["side"], r["label"])
        table.setdefault(key, {}).setdefault(r["minutes"], []).append(r["top1"])
    return table


def report(rows: list[dict]) -> None:
    """The table: mean top-1 (and every seed's) per set, machine, side and budget."""
    print("| set | machine | side | minutes | top-1 mean | top-1 per seed |\n|---|---|---|---|---|---|")
    for (name, cpu, side, label), points in sorted(curves(rows).items()):
        for minutes, top1 in sorted(points.items()):
            shown = side if side != "port" else f"port ({label})"
            seeds = " ".join(f"{t:.4f}" for t in top1)
            print(f"| {name} | {cpu} | {shown} | {minutes:g} | {np.mean(top1):.4f} | {seeds} |")


def plot(rows: list[dict], path: str) -> None:
    """Top-1 against minutes, one panel per data set, a curve of means per machine, side and label, every seed a
    dot."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    table, names = curves(rows), sorted({r["set"] for r in rows})
    budgets = sorted({r["minutes"] for r in rows})
    machines = sorted({r["machine"] for r in rows})
    fig, axes = plt.subplots(1, len(names), figsize=(6.5 * len(names), 6), squeeze=False)
    for ax, name in zip(axes[0], names):
        for (set_name, cpu, side, label), points in sorted(table.items()):
            if set_name != name:
                continue
            minutes = sorted(points)
            means = [np.mean(points[m]) for m in minutes]
            style = {"marker": "os^D"[machines.index(cpu) % 4], "linestyle": "-" if side == "port" else "--"}
            (line,) = ax.plot(minutes, means, **style, label=f"{side}: {label}\n  {cpu}")
            for m in minutes:
                ax.scatter([m] * len(points[m]), points[m], color=line.get_color(), s=12, alpha=0.5)
        ax.set(title=TITLES.get(name, name), xlabel="budget (minutes, 2 cores)", ylabel="test top-1", xscale="log")
        ax.set_xlim(budgets[0] / 1.25, budgets[-1] * 1.25)
        ax.minorticks_off()
        ax.set_xticks(budgets, [f"{m:g}" for m in budgets])
        ax.grid(alpha=0.3)
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.14), fontsize=8, frameon=False)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line."""
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument(
        "--data", default=os.path.expanduser("~/.cache/resnet-tf-bench"), help="where the data sets are kept"
    )
    p.add_argument("--runs", default=os.path.join(ROOT, "runs", "time-to-accuracy"), help="the port's run folders")
    p.add_argument("--sets", default=",".join(SETS))
    p.add_argument("--budgets", default="2,5,10,20", help="minutes, comma-separated")
    p.add_argument("--seeds", default="0,1,2")
    p.add_argument("--sides", default="port,torch")
    p.add_argument("--label", default="defaults", help="the name of the port's options in the table and plot")
    p.add_argument(
        "--port-options",
        default="",
        help='train.py options added to the port\'s runs (with "=" when it is one option: --port-options=--jit)',
    )
    p.add_argument(
        "--results",
        default=os.path.join(HERE, "time_to_accuracy.jsonl"),
        help="a JSON line per finished run and the machine it ran on (kept in the repository: every machine's "
        "figures so far)",
    )
    p.add_argument("--plot", default=os.path.join(HERE, "time_to_accuracy.png"))
    p.add_argument(
        "--plot-label",
        action="append",
        help="the port's labels drawn (repeatable; default: defaults, and the defaults before them); the table "
        "lists every label",
    )
    p.add_argument("--report", action="store_true", help="only the table and plot of the results so far")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    """Measures what is missing, then prints the table and draws the plot."""
    args = parse(argv)
    os.makedirs(os.path.dirname(os.path.abspath(args.results)), exist_ok=True)
    if not args.report:
        measure(args)
    rows = read_results(args.results)
    report(rows)
    drawn = args.plot_label or list(PLOTTED)
    plot([r for r in rows if r["side"] != "port" or r["label"] in drawn], args.plot)
    print(f"plot: {args.plot}")


if __name__ == "__main__":
    main()
