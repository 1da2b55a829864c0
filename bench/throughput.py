"""Speed of the port against Keras on the same machine, measured side by side.

    python bench/throughput.py [--quick] [--batch-size 16] [--image-size 224] [--precision ...] [--jit]

1. training step, ResNet-50, Adam, softmax cross-entropy: the port's step (as train.py runs it) against
   tf.keras.applications.ResNet50 compiled with the same optimizer and loss (train_on_batch);
2. inference: the port (as evaluate.py runs it) against Keras predict_on_batch;
3. end to end: the port's step fed by the real input pipeline from ~500x375 JPEG files against the
   same step fed from memory (pipeline_efficiency = pipeline images/s / in-memory images/s);
4. peak resident memory of a training process at batch 32 (--rss-batch-size), port against Keras.
Each side runs in a worker process of its own: the port with the runtime settings train.py and evaluate.py
use (resnet_tf/console/startup.py), Keras once with TensorFlow's defaults (what a Keras user
gets: the headline ratios) and, without --quick, once with the port's environment (``same_runtime``:
what the code alone is worth). The parent alternates the workers round by round, so all see the same machine conditions,
and compares medians. The last line is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import cv2
import numpy as np
import tensorflow as tf

from data_utils.demo import class_table, render
from data_utils.images.normalization import normalize
from data_utils.pipeline import train_dataset
from resnet_tf.console.startup import PORT_DEFAULTS, configure_threads, runtime_environment
from resnet_tf.evaluation.predictions import make_predict_step
from resnet_tf.runs.builders import build_model, pipeline_settings, read_table
from resnet_tf.runs.choices import PRECISIONS
from resnet_tf.runs.config import TrainConfig
from resnet_tf.runs.hardware import cpuinfo_field
from resnet_tf.runs.settle import settle
from resnet_tf.training.step import compiled_update, make_optimizer, make_train_step, trained_parameters

NUM_CLASSES = 1000
# worker name -> (benchmark side, environment: the port's settings or TensorFlow's defaults)
WORKERS = {"port": ("port", "port"), "keras": ("keras", "default"), "keras_same": ("keras", "port")}


def device_name() -> str:
    """The accelerator if there is one, else the CPU model and core count."""
    gpus = tf.config.list_physical_devices("GPU")
    if gpus:
        details = tf.config.experimental.get_device_details(gpus[0])
        return f"{details.get('device_name', 'GPU')} x{len(gpus)}"
    model = cpuinfo_field("model name") or platform.processor()
    return f"{model}, {os.cpu_count()} cores"


def memory_batch(batch_size: int, size: int) -> dict:
    """A fixed in-memory batch in the pipeline's format."""
    rng = np.random.default_rng(0)
    return {
        "image": tf.constant(rng.integers(0, 256, (batch_size, size, size, 3), dtype=np.uint8)),
        "label": tf.constant(rng.integers(0, NUM_CLASSES, batch_size, dtype=np.int32)),
        "index": tf.range(batch_size),
        "ok": tf.ones([batch_size], tf.bool),
    }


def bench_config(args, batch_size: int) -> TrainConfig:
    """The run configuration the port's side is built from, settled as train.py settles it: ResNet-50, 1000
    classes, Adam."""
    return settle(
        TrainConfig.from_options(
            arch="resnet50",
            batch_size=batch_size,
            image_size=args.image_size,
            precision=args.precision,
            jit=args.jit,
            num_classes=NUM_CLASSES,
            lr=1e-4,
            threads=args.threads,
        ),
        NUM_CLASSES,
    )


def port_setup(args, batch_size: int):
    """The port's train step and predict function, built as train.py / evaluate.py build them."""
    cfg = bench_config(args, batch_size)
    strategy = tf.distribute.get_strategy()
    model = build_model(cfg)
    optimizer = make_optimizer(cfg, 10_000)
    optimizer.build(model.trainable_variables)
    step = make_train_step(
        model,
        optimizer,
        cfg,
        np.ones(NUM_CLASSES, np.float32),
        strategy,
        compile_update=compiled_update(cfg, 10_000, strategy.num_replicas_in_sync, trained_parameters(model)),
    )
    predict = make_predict_step(model, cfg.data.normalization, args.jit)
    return step, predict


def keras_setup(args):
    """Keras' ResNet50 compiled with Adam and (sparse) softmax cross-entropy."""
    if args.precision != "float32":
        tf.keras.mixed_precision.set_global_policy(args.precision)
    model = tf.keras.applications.ResNet50(
        weights=None, classes=NUM_CLASSES, input_shape=(args.image_size, args.image_size, 3)
    )
    model.compile(
        optimizer=tf.keras.optimizers.Adam(1e-4), loss="sparse_categorical_crossentropy", jit_compile=args.jit or "auto"
    )
    return model


def timed(fn, steps: int) -> float:
    """Seconds per call of ``fn`` over ``steps`` calls (the last call's result is waited for)."""
    start = time.perf_counter()
    for _ in range(steps):
        result = fn()
    np.asarray(result)
    return (time.perf_counter() - start) / steps


def write_jpegs(folder: str, count: int) -> str:
    """``count`` JPEG files of 500x375 pixels (quality 90) and a CSV listing them."""
    classes = class_table(51)
    rows = ["path,label"]
    for i in range(count):
        # Rendered at half size and enlarged: rendering is the slow part, decoding cost depends on the size.
        image = cv2.resize(render(classes[i % 51], 188, np.random.default_rng(i)), (500, 375))
        name = f"{i:04d}.jpg"
        cv2.imwrite(os.path.join(folder, name), image, [cv2.IMWRITE_JPEG_QUALITY, 90])
        rows.append(f"{name},{i % NUM_CLASSES}")
    with open(os.path.join(folder, "bench.csv"), "w") as f:
        f.write("\n".join(rows) + "\n")
    return os.path.join(folder, "bench.csv")


def decode_scaling(args) -> dict:
    """Images/s of the input pipeline alone (decode + augment + batch) at 1 and 2 threads (more on GPUs),
    on the JPEG files in ``args.jpeg_dir``."""
    results = {}
    table = read_table(bench_config(args, args.batch_size), os.path.join(args.jpeg_dir, "bench.csv"))
    for threads in args.decode_threads:
        ds = train_dataset(table, pipeline_settings(bench_config(args, 16), training=True, threads=threads))
        iterator = iter(ds)
        next(iterator)
        results[threads] = 16 / timed(lambda it=iterator: next(it)["image"], 24)
    return results


def rss_child(side: str, args) -> None:
    """Runs a few training steps at --rss-batch-size and prints this process's peak RSS in MiB."""
    batch_size = args.rss_batch_size
    batch = memory_batch(batch_size, args.image_size)
    if side == "port":
        configure_threads()
        step, _ = port_setup(args, batch_size)
        for _ in range(args.rss_steps):
            step(batch)[0].numpy()
    else:
        model = keras_setup(args)
        x = normalize(batch["image"]).numpy()
        for _ in range(args.rss_steps):
            model.train_on_batch(x, batch["label"].numpy())
    print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)


def port_environment_text() -> str:
    """The port's TensorFlow environment settings as ``NAME=value`` pairs."""
    environment = runtime_environment(os.environ)
    return ", ".join(f"{k}={environment[k]}" for k in PORT_DEFAULTS)


def worker_environment(kind: str) -> dict:
    """The environment of a worker: the port's runtime settings, or TensorFlow's defaults (as the user has it)."""
    return runtime_environment(os.environ) if kind == "port" else dict(os.environ)


def start_peak_rss(args) -> dict:
    """Starts a port and a Keras training process that report their peak RSS (MiB). They run while the
    speed workers start up (a process's peak RSS does not depend on the others'); see :func:`peak_rss`."""
    children = {}
    for side in ("port", "keras"):
        cmd = [
            sys.executable,
            os.path.abspath(__file__),
            "--rss-child",
            side,
            "--image-size",
            str(args.image_size),
            "--rss-batch-size",
            str(args.rss_batch_size),
            "--rss-steps",
            str(args.rss_steps),
            "--precision",
            args.precision,
        ] + (["--jit"] if args.jit else [])
        children[side] = subprocess.Popen(
            cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=worker_environment(WORKERS[side][1])
        )
    return children


def peak_rss(children: dict) -> dict:
    """Waits for the processes of :func:`start_peak_rss` and returns their peak RSS (MiB) by side."""
    result = {}
    for side, child in children.items():
        out, _ = child.communicate()
        if child.returncode:
            raise RuntimeError(f"peak-RSS child for {side} exited with status {child.returncode}")
        result[side] = float(out.strip().splitlines()[-1])
    return result


def parse(argv=None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--quick", action="store_true", help="fewer rounds, no keras_same worker: under 5 minutes on a 2-core CPU"
    )
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--rss-batch-size", type=int, default=32)
    parser.add_argument("--rss-steps", type=int, default=2, help="training steps before reading peak RSS")
    parser.add_argument("--image-size", type=int, default=224)
    parser.add_argument("--precision", default="float32", choices=PRECISIONS)
    parser.add_argument("--jit", action="store_true", help="XLA on both sides")
    parser.add_argument("--threads", type=int, default=None, help="decode threads of the pipeline (default: all)")
    parser.add_argument(
        "--decode-threads", type=int, nargs="+", default=[1, 2], help="thread counts for decode scaling"
    )
    parser.add_argument("--skip-rss", action="store_true")
    parser.add_argument("--rss-child", choices=("port", "keras"), help=argparse.SUPPRESS)
    parser.add_argument("--worker", choices=("port", "keras"), help=argparse.SUPPRESS)
    parser.add_argument("--jpeg-dir", default=None, help=argparse.SUPPRESS)
    return parser.parse_args(argv)


class Worker:
    """A benchmark side in its own process, answering ``KIND STEPS`` with seconds per step."""

    def __init__(self, name: str, args):
        side, environment = WORKERS[name]
        cmd = [
            sys.executable,
            os.path.abspath(__file__),
            "--worker",
            side,
            "--batch-size",
            str(args.batch_size),
            "--image-size",
            str(args.image_size),
            "--precision",
            args.precision,
        ] + (["--jit"] if args.jit else [])
        if args.threads:
            cmd += ["--threads", str(args.threads)]
        if args.jpeg_dir:
            cmd += ["--jpeg-dir", args.jpeg_dir]
        self.proc = subprocess.Popen(
            cmd,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            bufsize=1,
            env=worker_environment(environment),
        )

    def wait_ready(self) -> None:
        """Waits until the worker has built and warmed up its side."""
        self._expect("ready")

    def _expect(self, word: str) -> str:
        for line in self.proc.stdout:
            if line.startswith(word):
                return line[len(word) :].strip()
        raise RuntimeError(f"benchmark worker exited (status {self.proc.wait()})")

    def seconds(self, kind: str, steps: int) -> float:
        """Seconds per call of ``kind`` (train, infer, pipeline, memory) over ``steps`` calls."""
        self.proc.stdin.write(f"{kind} {steps}\n")
        return float(self._expect("seconds"))

    def close(self) -> None:
        """Ends the worker."""
        self.proc.stdin.close()
        self.proc.wait(timeout=60)


def serve(side: str, args) -> None:
    """Worker loop: builds its side, warms every measurement up once, then times what it is asked."""
    batch = memory_batch(args.batch_size, args.image_size)
    if side == "port":
        configure_threads()
        step, predict = port_setup(args, args.batch_size)
        table = read_table(bench_config(args, args.batch_size), os.path.join(args.jpeg_dir, "bench.csv"))
        iterator = iter(train_dataset(table, pipeline_settings(bench_config(args, args.batch_size), training=True)))
        calls = {
            "train": lambda: step(batch)[0],
            "pipeline": lambda: step(next(iterator))[0],
            "infer": lambda: predict(batch["image"]),
        }
    else:
        model = keras_setup(args)
        x, y = normalize(batch["image"]).numpy(), batch["label"].numpy()
        calls = {"train": lambda: model.train_on_batch(x, y), "infer": lambda: model.predict_on_batch(x)}
    for fn in calls.values():
        timed(fn, 1)  # trace, compile, warm up
    print("ready", flush=True)
    for line in sys.stdin:
        kind, steps = line.split()
        print(f"seconds {timed(calls[kind], int(steps))}", flush=True)


def alternate_workers(pairs: dict, rounds: int, steps: int, batch_size: int) -> dict:
    """Images/s per name for ``{name: (worker, kind)}``, median over alternating rounds."""
    samples = {name: [] for name in pairs}
    for _ in range(rounds):
        for name, (worker, kind) in pairs.items():
            samples[name].append(batch_size / worker.seconds(kind, steps))
    return {name: statistics.median(values) for name, values in samples.items()}


def measure_speed(args, rounds: int, steps: int) -> tuple[dict, dict | None]:
    """Images/s of every worker for train and infer, and of the port fed by its pipeline ("pipeline");
    and the peak RSS of both sides (None with --skip-rss), measured while the workers start up."""
    # All start up at once; Keras' workers before the JPEG files the port's pipeline reads are written.
    # --quick leaves Keras-in-the-port's-environment out (2 cores cannot start three workers in its time).
    names = [name for name in WORKERS if not (args.quick and name == "keras_same")]
    workers = {name: Worker(name, args) for name in names if WORKERS[name][0] == "keras"}
    rss_children = None if args.skip_rss else start_peak_rss(args)
    write_jpegs(args.jpeg_dir, args.batch_size * 8)
    workers["port"] = Worker("port", args)
    try:
        for worker in workers.values():
            worker.wait_ready()
        rss = peak_rss(rss_children) if rss_children else None  # finished before anything is timed
        speed = {}
        # An inference call is 4-5x shorter than a training step: twice the calls per round.
        for kind, (kind_rounds, kind_steps) in {"train": (rounds, steps), "infer": (rounds, steps * 2)}.items():
            speed[kind] = alternate_workers(
                {name: (w, kind) for name, w in workers.items()}, kind_rounds, kind_steps, args.batch_size
            )
            print(f"{kind} images/s: " + ", ".join(f"{n} {v:.1f}" for n, v in speed[kind].items()), flush=True)
        speed["e2e"] = alternate_workers(
            {"pipeline": (workers["port"], "pipeline"), "memory": (workers["port"], "train")},
            rounds,
            steps,
            args.batch_size,
        )
        print(
            f"train images/s from JPEGs {speed['e2e']['pipeline']:.1f}, from memory {speed['e2e']['memory']:.1f}",
            flush=True,
        )
    finally:
        for worker in workers.values():
            worker.close()
    return speed, rss


def summary(speed: dict, decode: dict, rss: dict | None, device: str) -> dict:
    """The JSON line: headline ratios against Keras with TensorFlow's defaults, then the details."""
    train, infer = speed["train"], speed["infer"]

    def ratio(a: float, b: float) -> float:
        return round(a / b, 3)

    return {
        "train_vs_keras": ratio(train["port"], train["keras"]),
        "infer_vs_keras": ratio(infer["port"], infer["keras"]),
        "pipeline_efficiency": ratio(speed["e2e"]["pipeline"], speed["e2e"]["memory"]),
        "rss_vs_keras": ratio(rss["port"], rss["keras"]) if rss else None,
        "device": device,
        "same_runtime": (
            {
                "train_vs_keras": ratio(train["port"], train["keras_same"]),
                "infer_vs_keras": ratio(infer["port"], infer["keras_same"]),
            }
            if "keras_same" in train
            else None
        ),
        "port_runtime": {**{k: runtime_environment(os.environ)[k] for k in PORT_DEFAULTS}, "inter_op_threads": 1},
        "images_per_sec": {
            **{f"train_{k}": round(v, 1) for k, v in train.items()},
            **{f"infer_{k}": round(v, 1) for k, v in infer.items()},
            "decode": {str(k): round(v, 1) for k, v in decode.items()},
        },
    }


def main(argv=None) -> int:
    """Runs the benchmark and prints the table and the JSON line."""
    args = parse(argv)
    if args.rss_child:
        rss_child(args.rss_child, args)
        return 0
    if args.worker:
        serve(args.worker, args)
        return 0
    rounds, steps = (5, 1) if args.quick else (7, 4)
    if args.quick:
        args.rss_steps = 1
    device = device_name()
    print(
        f"device: {device}; ResNet-50, {args.image_size}px, batch {args.batch_size}, {args.precision}"
        f"{', XLA' if args.jit else ''}; {rounds} rounds x {steps} steps (inference {rounds} x {2 * steps}), "
        f"medians; keras_same = Keras with the port's environment ({port_environment_text()})"
        f"{', left out by --quick' if args.quick else ''}",
        flush=True,
    )
    with tempfile.TemporaryDirectory() as jpeg_dir:
        args.jpeg_dir = jpeg_dir
        speed, rss = measure_speed(args, rounds, steps)
        decode = decode_scaling(args)
    print(
        "pipeline alone (decode 500x375 JPEG, augment, batch) images/s: "
        + ", ".join(f"{t} threads {v:.0f}" for t, v in decode.items()),
        flush=True,
    )
    if rss:
        print(f"peak RSS at batch {args.rss_batch_size}: port {rss['port']:.0f} MiB, keras {rss['keras']:.0f} MiB")
    print(json.dumps(summary(speed, decode, rss, device)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
