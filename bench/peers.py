"""Speed of the port against Keras and PyTorch on the same CPU, at two image sizes and two precisions, with the
machine's limits measured in the same run.

    pip install -r bench/requirements-bench.txt      # PyTorch's CPU wheel, for this benchmark only
    python bench/peers.py [--quick] [--only r18s] [--precisions float32,bfloat16]

Workloads: ``r50``, ResNet-50 at 224 px, batch 16, 1000 classes; ``r18s``, ResNet-18 width 32 with the small
stem at 32 px, batch 64, 10 classes (the recipe of ``bench/accuracy.py``). For each, float32 and bfloat16
(the port's ``--precision mixed_bfloat16``, Keras' ``mixed_bfloat16`` policy, PyTorch's
``torch.autocast("cpu", torch.bfloat16)`` with channels-last tensors), a training step (Adam, softmax
cross-entropy) and inference. Keras has only ResNet-50. Each side runs in a worker process of its own (the
port with train.py's runtime settings, Keras with TensorFlow's defaults, PyTorch with its own); the parent
asks them in turn, rotating the order each round, and compares medians. The limits are TensorFlow's
float32 and bfloat16 speeds on a 4096x4096 matmul and a 3x3 convolution, measured in the same run; a
result's fraction of the limit counts 3x the forward FLOPs for a training step. The last line is one JSON
object.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WORKLOADS = {  # name -> arch, width, image size, stem, batch, classes
    "r50": ("resnet50", 64, 224, "standard", 16, 1000),
    "r18s": ("resnet18", 32, 32, "small", 64, 10),
}
SIDES = ("port", "keras", "torch")
MODES = ("train", "infer")


def flops_per_image(workload: str) -> float:
    """Forward FLOPs of one image (2 per multiply-add of every convolution and matmul), read from the port's
    traced graph."""
    import tensorflow as tf

    from resnet_tf.runs.builders import build_model

    size = WORKLOADS[workload][2]
    model = build_model(port_config(workload, "float32"))
    graph = (
        tf.function(lambda x: model(x, training=False))
        .get_concrete_function(tf.TensorSpec([1, size, size, 3], tf.float32))
        .graph
    )
    total = 0.0
    for op in graph.get_operations():
        if op.type == "Conv2D":
            out, kernel = op.outputs[0].shape, op.inputs[1].shape
            total += 2.0 * out[1] * out[2] * out[3] * kernel[0] * kernel[1] * kernel[2]
        elif op.type == "MatMul":
            total += 2.0 * op.inputs[0].shape[0] * op.inputs[0].shape[1] * op.outputs[0].shape[1]
    return total


def tf_limits() -> dict:
    """GFLOP/s of TensorFlow's float32 and bfloat16 4096^2 matmul and 3x3 convolution on this machine."""
    import tensorflow as tf

    result = {}
    for dtype in (tf.float32, tf.bfloat16):
        a = tf.random.normal([4096, 4096], dtype=tf.float32)
        x, w = tf.random.normal([32, 28, 28, 256]), tf.random.normal([3, 3, 256, 256])
        matmul = tf.function(lambda a: tf.matmul(a, a))
        conv = tf.function(lambda x, w: tf.nn.conv2d(x, w, 1, "SAME"))
        args = {
            "matmul": (matmul, (tf.cast(a, dtype),), 2 * 4096**3),
            "conv3x3": (conv, (tf.cast(x, dtype), tf.cast(w, dtype)), 2 * 32 * 28 * 28 * 256 * 9 * 256),
        }
        for name, (fn, inputs, flops) in args.items():
            seconds = min(
                timed_calls(lambda fn=fn, inputs=inputs: tf.cast(tf.reshape(fn(*inputs), [-1])[0], tf.float32), 5)
                for _ in range(4)
            )
            result[f"{dtype.name}_{name}"] = round(flops / seconds / 1e9)
    return result


def timed_calls(fn, calls: int) -> float:
    """Seconds per call of ``fn``, which returns a scalar (the last one is waited for)."""
    start = time.perf_counter()
    for _ in range(calls):
        out = fn()
    float(out)
    return (time.perf_counter() - start) / calls


def port_config(workload: str, precision: str):
    """The workload's run configuration, settled as train.py settles it."""
    from resnet_tf.runs.config import TrainConfig
    from resnet_tf.runs.settle import settle

    arch, width, size, stem, batch, classes = WORKLOADS[workload]
    return settle(
        TrainConfig.from_options(
            arch=arch,
            width=width,
            image_size=size,
            stem=stem,
            batch_size=batch,
            lr=1e-4,
            precision="mixed_bfloat16" if precision == "bfloat16" else precision,
            num_classes=classes,
        ),
        classes,
    )


def port_side(workload: str, precision: str):
    """The port's training step and prediction, built as train.py and evaluate.py build them."""
    import numpy as np
    import tensorflow as tf

    from resnet_tf.evaluation.predictions import make_predict_step
    from resnet_tf.runs.builders import build_model
    from resnet_tf.training.step import compiled_update, make_optimizer, make_train_step, trained_parameters

    _, _, size, _, batch, classes = WORKLOADS[workload]
    cfg = port_config(workload, precision)
    model = build_model(cfg)
    optimizer = make_optimizer(cfg, 10_000)
    optimizer.build(model.trainable_variables)
    step = make_train_step(
        model,
        optimizer,
        cfg,
        np.ones(classes, np.float32),
        tf.distribute.get_strategy(),
        compile_update=compiled_update(cfg, 10_000, 1, trained_parameters(model)),
    )  # the step of a 10,000-step run
    predict = make_predict_step(model, cfg.data.normalization)
    rng = np.random.default_rng(0)
    images = tf.constant(rng.integers(0, 256, (batch, size, size, 3), dtype=np.uint8))
    data = {
        "image": images,
        "label": tf.constant(rng.integers(0, classes, batch, dtype=np.int32)),
        "index": tf.range(batch),
        "ok": tf.ones([batch], tf.bool),
    }
    return (lambda: step(data)[0]), (lambda: predict(images)[0, 0])


def keras_side(workload: str, precision: str):
    """Keras' ResNet50 compiled with Adam and sparse softmax cross-entropy (ResNet-50 only)."""
    import numpy as np
    import tensorflow as tf

    _, _, size, _, batch, classes = WORKLOADS[workload]
    tf.keras.mixed_precision.set_global_policy("mixed_bfloat16" if precision == "bfloat16" else "float32")
    model = tf.keras.applications.ResNet50(weights=None, classes=classes, input_shape=(size, size, 3))
    model.compile(optimizer=tf.keras.optimizers.Adam(1e-4), loss="sparse_categorical_crossentropy")
    rng = np.random.default_rng(0)
    x = rng.normal(size=(batch, size, size, 3)).astype(np.float32)
    y = rng.integers(0, classes, batch)
    return (lambda: np.float32(model.train_on_batch(x, y))), (lambda: model.predict_on_batch(x)[0, 0])


def torch_side(workload: str, precision: str):
    """The same network in PyTorch, channels-last, Adam; bfloat16 through ``torch.autocast``."""
    import torch
    from torch_resnet import ResNet

    torch.set_num_threads(os.cpu_count() or 1)
    arch, width, size, stem, batch, classes = WORKLOADS[workload]
    model = ResNet(int(arch[6:]), width, classes, stem).to(memory_format=torch.channels_last)
    optimizer = torch.optim.Adam(model.parameters(), 1e-4)
    x = torch.randn(batch, 3, size, size).to(memory_format=torch.channels_last)
    y = torch.randint(0, classes, (batch,))
    autocast = torch.autocast("cpu", torch.bfloat16, enabled=precision == "bfloat16")

    def train():
        model.train()
        optimizer.zero_grad(set_to_none=True)
        with autocast:
            loss = torch.nn.functional.cross_entropy(model(x), y)
        loss.backward()
        optimizer.step()
        return loss.detach()

    def infer():
        model.eval()
        with torch.no_grad(), autocast:
            return model(x)[0, 0]

    return train, infer


def worker(side: str) -> None:
    """Answers the parent's requests, one JSON line each: ``setup``, ``time``, ``limits``, ``flops``."""
    sys.path.insert(0, ROOT)
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    if side == "port":
        from resnet_tf.console.startup import configure_threads

        configure_threads()
    built = {}
    build = {"port": port_side, "keras": keras_side, "torch": torch_side}[side]
    for line in sys.stdin:
        request = json.loads(line)
        key = (request.get("workload"), request.get("precision"))
        if request["cmd"] == "setup":
            built[key] = build(*key)
            for fn in built[key]:
                timed_calls(fn, 2)  # traced, compiled and warm
            answer = {}
        elif request["cmd"] == "time":
            answer = {"seconds": timed_calls(built[key][MODES.index(request["mode"])], request["calls"])}
        elif request["cmd"] == "limits":
            answer = tf_limits()
        else:
            answer = {"flops": flops_per_image(request["workload"])}
        print(json.dumps(answer), flush=True)


class Worker:
    """A worker process of one side, asked one request at a time."""

    def __init__(self, side: str):
        env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
        if side == "port":
            sys.path.insert(0, ROOT)
            from resnet_tf.console.startup import runtime_environment

            env = dict(runtime_environment(env))
        self.side = side
        self.proc = subprocess.Popen(
            [sys.executable, os.path.abspath(__file__), "--worker", side],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            env=env,
            cwd=ROOT,
        )

    def ask(self, **request) -> dict:
        self.proc.stdin.write(json.dumps(request) + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError(f"the {self.side} worker died on {request}")
        return json.loads(line)


def measure(workers: dict, jobs: list, rounds: int, calls: dict) -> dict:
    """Median images/s of every (workload, precision, mode, side), asking the sides in a rotating order."""
    samples = {}
    for r in range(rounds):
        for workload, precision, mode, sides in jobs:
            order = sides[r % len(sides) :] + sides[: r % len(sides)]
            for side in order:
                seconds = workers[side].ask(
                    cmd="time", workload=workload, precision=precision, mode=mode, calls=calls[workload][mode]
                )["seconds"]
                samples.setdefault((workload, precision, mode, side), []).append(WORKLOADS[workload][4] / seconds)
        print(f"round {r + 1}/{rounds} done", file=sys.stderr, flush=True)
    return {key: statistics.median(values) for key, values in samples.items()}


def report(speeds: dict, flops: dict, limits: dict) -> list[dict]:
    """One row per (workload, precision, mode): images/s per side, ratios, fractions of the limit."""
    rows = []
    for workload, precision, mode in dict.fromkeys(k[:3] for k in speeds):
        limit = max(v for k, v in limits.items() if k.startswith(precision)) * 1e9
        row = {"workload": workload, "precision": precision, "mode": mode}
        for side in SIDES:
            if (workload, precision, mode, side) in speeds:
                ips = speeds[(workload, precision, mode, side)]
                row[side] = round(ips, 1)
                row[f"{side}_of_limit"] = round(ips * flops[workload] * (3 if mode == "train" else 1) / limit, 3)
        for peer in ("keras", "torch"):
            if peer in row:
                row[f"port_vs_{peer}"] = round(row["port"] / row[peer], 2)
        rows.append(row)
    return rows


def print_table(rows: list[dict], limits: dict) -> None:
    """The results as a Markdown table."""
    print(f"limits, GFLOP/s: {limits}")
    print(
        "| workload | precision | mode | port img/s | Keras | PyTorch | port/Keras | port/PyTorch | port of limit | PyTorch of limit |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(
            f"| {r['workload']} | {r['precision']} | {r['mode']} | {r['port']} | {r.get('keras', '-')} | "
            f"{r.get('torch', '-')} | {r.get('port_vs_keras', '-')} | {r.get('port_vs_torch', '-')} | "
            f"{r['port_of_limit']:.0%} | {r.get('torch_of_limit', 0):.0%} |"
        )


def main(argv=None) -> int:
    """Runs the measurement."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--worker", choices=SIDES, help=argparse.SUPPRESS)
    parser.add_argument("--quick", action="store_true", help="3 rounds instead of 7")
    parser.add_argument("--only", choices=sorted(WORKLOADS), help="one workload")
    parser.add_argument("--precisions", default="float32,bfloat16")
    parser.add_argument("--sides", default=",".join(SIDES), help="which of port,keras,torch to run")
    args = parser.parse_args(argv)
    if args.worker:
        worker(args.worker)
        return 0
    sides = [s for s in SIDES if s in args.sides.split(",")]
    workers = {side: Worker(side) for side in sides}
    jobs = []
    for workload in [args.only] if args.only else list(WORKLOADS):
        for precision in args.precisions.split(","):
            present = [s for s in sides if not (s == "keras" and workload != "r50")]
            for side in present:
                workers[side].ask(cmd="setup", workload=workload, precision=precision)
            jobs += [(workload, precision, mode, present) for mode in MODES]
    calls = {"r50": {"train": 1, "infer": 2}, "r18s": {"train": 8, "infer": 16}}
    limits = workers["port"].ask(cmd="limits")
    speeds = measure(workers, jobs, 3 if args.quick else 7, calls)
    flops = {w: workers["port"].ask(cmd="flops", workload=w)["flops"] for w in {j[0] for j in jobs}}
    rows = report(speeds, flops, limits)
    print_table(rows, limits)
    print(
        json.dumps(
            {
                "limits_gflops": limits,
                "forward_gflops_per_image": {k: round(v / 1e9, 3) for k, v in flops.items()},
                "cores": os.cpu_count(),
                "results": rows,
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
